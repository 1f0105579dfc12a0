//! Lines the JS thread has logged but not yet handed to the queue, in memory that Rust owns.
//!
//! JS appends each line's UTF-16 code units (`buffer.ucs2Write`, the batch format of
//! `chunk.rs` unchanged) after a small header and then publishes, in the header, how many
//! bytes now hold whole lines (`committed`, an `Atomics.store`). Handing a batch over
//! (`hand_over`, on the next `setImmediate` or when the buffer is nearly full) is
//! one native call and a memory copy. What makes this memory worth having: any Rust
//! thread can read the committed lines at any time, whatever the JS thread is doing or
//! whether it still exists. So lines are not lost when the process dies without another
//! event-loop turn: an abort (V8 out of memory, `process.abort()`, the watchdog), the
//! end of a worker thread (`worker.terminate()`), or `exit()` after the app's own 'exit'
//! listeners. See `emergency.rs` for those paths.
//!
//! Readers other than the JS thread take only `[shipped, committed)` and leave the rest to
//! the next hand-over, so a line is never taken twice, and never before it is whole.
//! JS never writes below `committed`, and rewinds to the start only through `hand_over`,
//! under the same lock.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::chunk::Chunk;
use super::queue::{Push, Queue};

/// Bytes before the lines. Layout (little-endian, as JS typed arrays see it):
/// - 0: u32 `committed`, bytes of whole lines after the header (JS: `Int32Array[0]`);
/// - 4: u32 set by Rust at a hand-over when a heap sample is due: JS then writes the V8
///   heap figures below and clears it (`Int32Array[1]`). Rust keeps the time, so the clock
///   is the real one even under an app's fake timers, and the sampling cost stays one
///   `v8.getHeapStatistics()` per `HEAP_SAMPLE_EVERY` at most;
/// - 8: f64 V8 heap used at JS's last sample (JS: `Float64Array[1]`);
/// - 16: f64 V8 heap size limit at that sample (`Float64Array[2]`).
pub const HEADER_BYTES: usize = 64;
/// Room for lines: 64 Ki UTF-16 code units, the batch size JS used before.
pub const DATA_BYTES: usize = 128 * 1024;
const TOTAL: usize = HEADER_BYTES + DATA_BYTES;
const SAMPLE_DUE_AT: usize = 4;
const HEAP_USED_AT: usize = 8;
const HEAP_SAMPLE_EVERY_MS: u64 = 20;
const HEAP_LIMIT_AT: usize = 16;

/// The V8 heap figures JS last published (bytes), and how long ago Rust saw them arrive.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HeapSample {
  pub used: f64,
  pub limit: f64,
  pub age_ms: Option<u64>,
}

pub struct Pending {
  memory: *mut u8,
  /// Bytes from the start of the lines already taken by a reader other than the JS thread
  /// (zero after a hand-over by JS).
  shipped: Mutex<usize>,
  /// When a heap sample was last asked of JS (ms since `epoch()`, plus one; 0: never).
  sampled: AtomicU64,
}

// SAFETY: the memory is only read below `committed`, which JS publishes with a sequentially
// consistent store after writing those bytes, and the bytes below it are not written again
// until a hand-over by JS, which happens under `shipped`'s lock.
unsafe impl Send for Pending {}
unsafe impl Sync for Pending {}

fn layout() -> Layout {
  Layout::from_size_align(TOTAL, 16).expect("a valid layout")
}

fn epoch() -> Instant {
  static EPOCH: OnceLock<Instant> = OnceLock::new();
  *EPOCH.get_or_init(Instant::now)
}

impl Default for Pending {
  fn default() -> Pending {
    Pending::new()
  }
}

impl Pending {
  pub fn new() -> Pending {
    // SAFETY: the layout has a non-zero size.
    let memory = unsafe { alloc_zeroed(layout()) };
    if memory.is_null() {
      std::alloc::handle_alloc_error(layout());
    }
    epoch();
    Pending {
      memory,
      shipped: Mutex::new(0),
      sampled: AtomicU64::new(0),
    }
  }

  /// The whole memory (header and lines), for JS to write into. Valid as long as `self`.
  pub fn memory(&self) -> (*mut u8, usize) {
    (self.memory, TOTAL)
  }

  fn committed_cell(&self) -> &AtomicU32 {
    // SAFETY: the memory is 16-aligned and lives as long as `self`.
    unsafe { &*(self.memory as *const AtomicU32) }
  }

  fn sample_due_cell(&self) -> &AtomicU32 {
    // SAFETY: as above, 4 bytes further.
    unsafe { &*(self.memory.add(SAMPLE_DUE_AT) as *const AtomicU32) }
  }

  /// Bytes of whole lines JS has published: even (UTF-16) and within the buffer, whatever
  /// is in the header.
  pub fn committed(&self) -> usize {
    (self.committed_cell().load(Ordering::Acquire) as usize).min(DATA_BYTES) & !1
  }

  /// The JS thread's hand-over: puts the committed lines not yet taken into `queue`, in
  /// order, as one chunk (waiting for room as the queue's overflow policy says), and
  /// empties the buffer: JS then writes from the start again. Asks for a heap sample when
  /// one is due.
  pub fn hand_over(&self, queue: &Queue) -> Push {
    match self.hand_over_with(queue, 0, |_| Ok::<(), std::convert::Infallible>(())) {
      Ok(pushed) => pushed,
      Err(never) => match never {},
    }
  }

  /// `hand_over`, with `extra` code units (at most `extra_len`) appended by `append` to the
  /// same chunk: lines that did not fit in the buffer travel with those before them.
  pub fn hand_over_with<E>(
    &self,
    queue: &Queue,
    extra_len: usize,
    append: impl FnOnce(&mut Vec<u16>) -> Result<(), E>,
  ) -> Result<Push, E> {
    let mut shipped = self.shipped.lock().unwrap_or_else(|e| e.into_inner());
    let end = self.committed();
    let mut units = match self.copy(queue, *shipped, end, extra_len) {
      Some(Chunk::Utf16(units)) => units,
      _ => queue.utf16_buffer(extra_len),
    };
    append(&mut units)?;
    let result = if units.is_empty() {
      queue.recycle(units);
      Push::Queued
    } else {
      queue.push(Chunk::Utf16(units))
    };
    *shipped = 0;
    self.committed_cell().store(0, Ordering::Release);
    let now = epoch().elapsed().as_millis() as u64 + 1;
    let last = self.sampled.load(Ordering::Relaxed);
    if last == 0 || now - last >= HEAP_SAMPLE_EVERY_MS {
      self.sampled.store(now, Ordering::Relaxed);
      self.sample_due_cell().store(1, Ordering::Release);
    }
    Ok(result)
  }

  /// Any other thread's hand-over, on the way out (abort, exit, env teardown, the
  /// watchdog): the lines are marked as taken and JS, if it still runs, goes on
  /// appending. Never waits longer than `wait`: without room in the queue it waits for the
  /// writer to drain it, at most that long, rather than block on a stalled destination;
  /// still without room, the lines are dropped and counted. With no `wait` at all, lines
  /// that do not fit are left where they are, for a later hand-over.
  pub fn take_within(&self, queue: &Queue, wait: Duration) -> Push {
    let mut shipped = self.shipped.lock().unwrap_or_else(|e| e.into_inner());
    let end = self.committed();
    let Some(chunk) = self.copy(queue, *shipped, end, 0) else {
      return Push::Queued;
    };
    if !queue.has_room(chunk.held()) {
      if wait.is_zero() {
        // Not on the way out (the watchdog's report of a block): leave them to JS.
        return Push::Queued;
      }
      queue.wait_written(queue.flush_target(), Some(wait));
    }
    *shipped = end;
    queue.try_push(chunk)
  }

  /// A chunk of the lines in `[from, to)` (with room for `spare` more units), or None if
  /// empty.
  fn copy(&self, queue: &Queue, from: usize, to: usize, spare: usize) -> Option<Chunk> {
    if to <= from {
      return None;
    }
    let len = (to - from) / 2;
    let mut units = queue.utf16_buffer(len + spare);
    // SAFETY: `[from, to)` is within the lines' memory, written by JS before it published
    // `to`; the buffer has room for `len` units.
    unsafe {
      std::ptr::copy_nonoverlapping(
        self.memory.add(HEADER_BYTES + from),
        units.as_mut_ptr() as *mut u8,
        len * 2,
      );
      units.set_len(len);
    }
    Some(Chunk::Utf16(units))
  }

  /// Lines committed and not yet taken (bytes), for tests and stats.
  pub fn untaken(&self) -> usize {
    let shipped = *self.shipped.lock().unwrap_or_else(|e| e.into_inner());
    self.committed().saturating_sub(shipped)
  }

  fn read_f64(&self, at: usize) -> f64 {
    // SAFETY: within the header; a torn read of a figure only gives a wrong figure.
    unsafe { std::ptr::read_volatile(self.memory.add(at) as *const f64) }
  }

  /// The heap figures JS last published.
  pub fn heap(&self) -> HeapSample {
    let sampled = self.sampled.load(Ordering::Relaxed);
    HeapSample {
      used: self.read_f64(HEAP_USED_AT),
      limit: self.read_f64(HEAP_LIMIT_AT),
      age_ms: (sampled > 0)
        .then(|| (epoch().elapsed().as_millis() as u64 + 1).saturating_sub(sampled)),
    }
  }
}

impl Drop for Pending {
  fn drop(&mut self) {
    // SAFETY: allocated in `new` with this layout.
    unsafe { dealloc(self.memory, layout()) }
  }
}

#[cfg(test)]
mod tests {
  use super::super::chunk::Decoder;
  use super::super::queue::Overflow;
  use super::*;

  /// What JS does: append a line's code units, then publish the new committed length.
  fn append(p: &Pending, at: &mut usize, line: &str) {
    let units: Vec<u16> = line.encode_utf16().collect();
    let (memory, _) = p.memory();
    unsafe {
      std::ptr::copy_nonoverlapping(
        units.as_ptr() as *const u8,
        memory.add(HEADER_BYTES + *at),
        units.len() * 2,
      );
    }
    *at += units.len() * 2;
    p.committed_cell().store(*at as u32, Ordering::SeqCst);
  }

  fn drain(q: &Queue) -> String {
    let mut out = Vec::new();
    let mut decoder = Decoder::default();
    q.close();
    while let Some(batch) = q.take(usize::MAX) {
      for chunk in batch.chunks {
        decoder.decode(chunk, &mut out);
      }
      q.complete(batch.held);
    }
    String::from_utf8(out).unwrap()
  }

  #[test]
  fn lines_taken_by_another_reader_are_not_handed_over_again() {
    let p = Pending::new();
    let q = Queue::new(1 << 20, Overflow::Block);
    let mut at = 0;
    append(&p, &mut at, "{\"a\":1}\n");
    p.take_within(&q, Duration::ZERO); // an emergency reader
    append(&p, &mut at, "{\"b\":\"é\"}\n");
    assert_eq!(p.untaken(), "{\"b\":\"é\"}\n".encode_utf16().count() * 2);
    p.hand_over(&q); // the JS thread's hand-over
    at = 0;
    append(&p, &mut at, "{\"c\":3}\n");
    p.take_within(&q, Duration::ZERO);
    p.take_within(&q, Duration::ZERO);
    assert_eq!(drain(&q), "{\"a\":1}\n{\"b\":\"é\"}\n{\"c\":3}\n");
  }

  #[test]
  fn a_hand_over_on_the_way_out_never_blocks_on_a_full_queue() {
    let p = Pending::new();
    let q = Queue::new(8, Overflow::Block);
    q.push(b"1234567\n".to_vec()); // full, and no writer
    let mut at = 0;
    append(&p, &mut at, "{\"a\":1}\n");
    assert_eq!(p.take_within(&q, Duration::ZERO), Push::Queued);
    assert!(p.untaken() > 0, "left for a later hand-over");
    assert_eq!(
      p.take_within(&q, Duration::from_millis(1)),
      Push::Dropped { lines: 1 }
    );
    assert_eq!(
      p.untaken(),
      0,
      "taken (and counted as dropped), not handed over twice"
    );
  }

  #[test]
  fn lines_that_did_not_fit_travel_in_the_same_chunk_as_those_before_them() {
    let p = Pending::new();
    let q = Queue::new(1 << 20, Overflow::Block);
    let mut at = 0;
    append(&p, &mut at, "{\"a\":1}\n");
    let spill: Vec<u16> = "{\"b\":2}\n".encode_utf16().collect();
    let pushed = p.hand_over_with(&q, spill.len(), |units| {
      units.extend_from_slice(&spill);
      Ok::<(), ()>(())
    });
    assert_eq!(pushed, Ok(Push::Queued));
    assert_eq!(q.stats().held_bytes, (at + spill.len() * 2));
    assert_eq!(p.committed(), 0);
    assert_eq!(drain(&q), "{\"a\":1}\n{\"b\":2}\n");
  }

  #[test]
  fn a_header_out_of_range_is_clamped() {
    let p = Pending::new();
    p.committed_cell().store(u32::MAX, Ordering::SeqCst);
    assert_eq!(p.committed(), DATA_BYTES);
    assert_eq!(p.heap().age_ms, None);
    let q = Queue::new(1 << 20, Overflow::Block);
    p.hand_over(&q);
    assert_eq!(p.committed(), 0);
    assert!(p.heap().age_ms.is_some());
    assert_eq!(
      p.sample_due_cell().load(Ordering::SeqCst),
      1,
      "a heap sample is asked for"
    );
  }
}

//! The bounded byte queue between the JS thread (producer) and the writer thread.
//!
//! Memory is bounded by `limit`: bytes count from the moment they are accepted until the
//! writer has written them, so a batch in flight still counts. One chunk larger than the
//! limit is accepted when nothing else is held, so a huge line is never refused outright.
//!
//! Sequence numbers are byte counts: `accepted` grows on push, `written` on completion. A
//! flush waits until `written` reaches the `accepted` it saw, which makes it exact.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use super::chunk::Chunk;
use super::shutdown;

/// Waits that may have to end because of a termination signal (see `shutdown.rs`) wait in
/// slices this long: a signal handler cannot notify a condition variable.
const SLICE: Duration = Duration::from_millis(50);
/// After a second termination signal or past the shutdown deadline, a wait goes on only
/// while the writer makes progress: a healthy destination still gets the last lines (the
/// hooks may have used the whole time), a stalled one no longer holds the exit.
const STALL_WHEN_HURRIED: Duration = Duration::from_millis(200);
/// And never longer than this past the shutdown deadline.
const PAST_DEADLINE: Duration = Duration::from_secs(1);

/// When a bounded wait gives up: at its own deadline; past the shutdown deadline or after
/// a second termination signal, once the writer makes no progress.
struct Bound {
  own: Option<Instant>,
  written: u64,
  progress_at: Instant,
}

impl Bound {
  fn new(own: Option<Instant>, written: u64) -> Bound {
    Bound {
      own,
      written,
      progress_at: Instant::now(),
    }
  }

  /// True once the writer has made no progress for `STALL_WHEN_HURRIED`.
  fn stalled(&mut self, written: u64) -> bool {
    let now = Instant::now();
    if written != self.written {
      self.written = written;
      self.progress_at = now;
    }
    now - self.progress_at >= STALL_WHEN_HURRIED
  }

  /// How long to wait next, or None to give up.
  fn next_wait(&mut self, written: u64) -> Option<Duration> {
    let now = Instant::now();
    if written != self.written {
      self.written = written;
      self.progress_at = now;
    }
    let shutdown_deadline = shutdown::deadline();
    let hurried = shutdown::exit_now() || shutdown_deadline.is_some_and(|d| now >= d);
    if hurried && now - self.progress_at >= STALL_WHEN_HURRIED {
      return None;
    }
    if shutdown_deadline.is_some_and(|d| now >= d + PAST_DEADLINE) {
      return None;
    }
    match self.own {
      Some(own) if now >= own => None,
      Some(own) => Some((own - now).min(SLICE)),
      None => Some(SLICE),
    }
  }
}

/// Told once whether the bytes a flush waits for were written (true) or not (false: the
/// destination is failing, the writer stopped, or the flush was cancelled).
pub type FlushDone = Box<dyn FnOnce(bool) + Send>;

/// A flush waiting for the writer without occupying a thread. Settled exactly once: a
/// waiter dropped unsettled reports false (a JS promise must never stay pending forever,
/// it would keep the event loop alive).
struct Waiter {
  id: u64,
  target: u64,
  done: Option<FlushDone>,
}

impl Waiter {
  fn settle(mut self, written: bool) {
    if let Some(done) = self.done.take() {
      done(written);
    }
  }
}

impl Drop for Waiter {
  fn drop(&mut self) {
    if let Some(done) = self.done.take() {
      done(false);
    }
  }
}

/// What `push` does when the queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
  /// Wait for the writer (loses nothing). While the destination is failing, waiting could
  /// hang the app forever, so a full queue drops instead and counts what it dropped.
  Block,
  /// Drop the chunk and count its lines.
  Drop,
}

impl Overflow {
  pub fn parse(value: &str) -> Option<Overflow> {
    match value {
      "block" => Some(Overflow::Block),
      "drop" => Some(Overflow::Drop),
      _ => None,
    }
  }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Push {
  Queued,
  Dropped { lines: u64 },
}

/// What the writer takes: chunks of whole lines, the memory they held (to give back with
/// `complete`), and how many lines were dropped since the last batch (the writer appends
/// a notice for those).
pub struct Batch {
  pub chunks: Vec<Chunk>,
  pub held: usize,
  pub dropped: u64,
}

#[derive(Default)]
struct State {
  chunks: VecDeque<Chunk>,
  held: usize,
  accepted: u64,
  written: u64,
  dropped_unreported: u64,
  /// A batch carrying a dropped-lines notice is being written.
  notice_in_flight: bool,
  dropped_total: u64,
  failing: bool,
  closed: bool,
  stopped: bool,
  /// Lines dropped whose notice is being written.
  dropped_in_flight: u64,
  waiters: Vec<Waiter>,
  next_waiter: u64,
  /// `written` when a push gave up waiting on a stalled writer after a termination signal:
  /// later pushes drop at once until the writer moves again.
  stalled_at: Option<u64>,
  /// The writer waits on `work` (in `take`): a push wakes it only then, as a wake is a
  /// system call whether anyone waits or not.
  writer_waiting: bool,
  /// Threads waiting on `progress` (blocked pushes, flushes): a written batch wakes them
  /// only when there are any.
  progress_waiting: usize,
}

impl State {
  /// Every byte accepted before `target` is written, with any dropped-lines notice.
  fn reached(&self, target: u64) -> bool {
    self.written >= target && self.dropped_unreported == 0 && !self.notice_in_flight
  }

  /// The waiters whose flush is over, with their outcome.
  fn finished_waiters(&mut self) -> Vec<(Waiter, bool)> {
    if self.waiters.is_empty() {
      return Vec::new();
    }
    let give_up = self.failing || self.stopped;
    let mut done = Vec::new();
    let mut i = 0;
    while i < self.waiters.len() {
      let target = self.waiters[i].target;
      if self.reached(target) {
        done.push((self.waiters.swap_remove(i), true));
      } else if give_up {
        done.push((self.waiters.swap_remove(i), false));
      } else {
        i += 1;
      }
    }
    done
  }
}

fn settle(done: Vec<(Waiter, bool)>) {
  for (waiter, written) in done {
    waiter.settle(written);
  }
}

/// UTF-16 buffers kept for reuse: allocating (and page-faulting) a fresh 128 KiB buffer
/// for every batch, and freeing it on another thread, costs more than copying into it.
const SPARE_BUFFERS: usize = 8;

pub struct Queue {
  state: Mutex<State>,
  spare: Mutex<Vec<Vec<u16>>>,
  /// Signalled when there is work for the writer (or on close).
  work: Condvar,
  /// Signalled when bytes were written or the state changed (space, flush, failing).
  progress: Condvar,
  limit: usize,
  overflow: Overflow,
  /// Lines in the batch the writer is writing (counted by the writer thread as it takes
  /// it), for the count of lines not written when a close gives up.
  in_flight_lines: AtomicU64,
  /// The lines not written at the end were counted on stderr (see `take_report`).
  reported: AtomicBool,
}

/// A point-in-time copy of the counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueStats {
  pub held_bytes: usize,
  pub accepted_bytes: u64,
  pub written_bytes: u64,
  pub dropped_lines: u64,
  pub failing: bool,
}

impl Queue {
  pub fn new(limit: usize, overflow: Overflow) -> Queue {
    Queue {
      state: Mutex::new(State::default()),
      spare: Mutex::new(Vec::new()),
      work: Condvar::new(),
      progress: Condvar::new(),
      limit,
      overflow,
      in_flight_lines: AtomicU64::new(0),
      reported: AtomicBool::new(false),
    }
  }

  fn lock(&self) -> MutexGuard<'_, State> {
    // A poisoned lock only means another thread panicked while holding it; the counters
    // are still consistent (every update is a single statement), so keep going.
    self.state.lock().unwrap_or_else(|e| e.into_inner())
  }

  /// Accepts a chunk of whole lines, waiting for space under `Overflow::Block`.
  pub fn push(&self, chunk: impl Into<Chunk>) -> Push {
    self.enqueue(chunk.into(), self.overflow == Overflow::Block)
  }

  /// Accepts a chunk only if there is room now, never waiting: for Rust threads that must
  /// not stall (the watchdog). A refused chunk is dropped and counted like any other.
  pub fn try_push(&self, chunk: impl Into<Chunk>) -> Push {
    self.enqueue(chunk.into(), false)
  }

  fn enqueue(&self, chunk: Chunk, may_wait: bool) -> Push {
    if chunk.is_empty() {
      return Push::Queued;
    }
    let len = chunk.held();
    let mut s = self.lock();
    let mut bound: Option<Bound> = None;
    loop {
      if s.closed {
        break;
      }
      if s.held == 0 || s.held + len <= self.limit {
        s.held += len;
        s.accepted += len as u64;
        s.chunks.push_back(chunk);
        let wake = s.writer_waiting;
        drop(s);
        if wake {
          self.work.notify_one();
        }
        return Push::Queued;
      }
      if !may_wait || s.failing {
        break;
      }
      // After a termination signal, wait only while the writer makes progress: the JS
      // thread must get back to its event loop so that the signal's listener runs and
      // the shutdown starts, even when the reader stalls.
      if shutdown::terminating() {
        let written = s.written;
        if s.stalled_at == Some(written) {
          break;
        }
        let bound = bound.get_or_insert_with(|| Bound::new(None, written));
        if bound.stalled(written) {
          s.stalled_at = Some(written);
          break;
        }
      }
      s.progress_waiting += 1;
      s = self
        .progress
        .wait_timeout(s, SLICE)
        .unwrap_or_else(|e| e.into_inner())
        .0;
      s.progress_waiting -= 1;
    }
    let lines = chunk.lines();
    s.dropped_total += lines;
    if !s.closed {
      s.dropped_unreported += lines;
      drop(s);
      // Wake the writer so the count is logged even if nothing else comes.
      self.work.notify_one();
    }
    Push::Dropped { lines }
  }

  /// Whether a chunk of `len` bytes would be accepted now (for the exits that must not
  /// wait on a stalled writer: `pending::Pending::take_within`).
  pub fn has_room(&self, len: usize) -> bool {
    let s = self.lock();
    s.held == 0 || s.held + len <= self.limit
  }

  /// Waits for work and takes up to `max` held bytes of whole chunks (at least one
  /// chunk). Returns `None` once the queue is closed and empty.
  pub fn take(&self, max: usize) -> Option<Batch> {
    let mut s = self.lock();
    while s.chunks.is_empty() && s.dropped_unreported == 0 && !s.closed {
      s.writer_waiting = true;
      s = self.work.wait(s).unwrap_or_else(|e| e.into_inner());
      s.writer_waiting = false;
    }
    if s.chunks.is_empty() && s.dropped_unreported == 0 {
      return None;
    }
    let mut taken = Vec::new();
    let mut held = 0;
    while let Some(next) = s.chunks.front() {
      if !taken.is_empty() && held + next.held() > max {
        break;
      }
      held += next.held();
      taken.extend(s.chunks.pop_front());
    }
    let dropped = std::mem::take(&mut s.dropped_unreported);
    s.notice_in_flight = dropped > 0;
    s.dropped_in_flight = dropped;
    drop(s);
    let lines: u64 = taken.iter().map(Chunk::lines).sum();
    self.in_flight_lines.store(lines, Ordering::Release);
    Some(Batch {
      chunks: taken,
      held,
      dropped,
    })
  }

  /// An empty UTF-16 buffer with room for at least `capacity` units.
  pub fn utf16_buffer(&self, capacity: usize) -> Vec<u16> {
    let reused = self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop();
    match reused {
      Some(mut buffer) => {
        buffer.reserve(capacity);
        buffer
      }
      None => Vec::with_capacity(capacity),
    }
  }

  /// Gives a UTF-16 buffer back for reuse once its chunk is written.
  pub fn recycle(&self, mut buffer: Vec<u16>) {
    buffer.clear();
    let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
    if spare.len() < SPARE_BUFFERS && buffer.capacity() <= self.limit {
      spare.push(buffer);
    }
  }

  /// Marks `len` bytes taken by `take` as written (or given up) and frees their space.
  pub fn complete(&self, len: usize) {
    self.in_flight_lines.store(0, Ordering::Release);
    let mut s = self.lock();
    s.held -= len;
    s.written += len as u64;
    s.notice_in_flight = false;
    s.dropped_in_flight = 0;
    let done = s.finished_waiters();
    let wake = s.progress_waiting > 0;
    drop(s);
    if wake {
      self.progress.notify_all();
    }
    settle(done);
  }

  pub fn set_failing(&self, failing: bool) {
    let mut s = self.lock();
    s.failing = failing;
    let done = s.finished_waiters();
    drop(s);
    self.progress.notify_all();
    settle(done);
  }

  /// Calls `done` once every byte accepted before `target` is written (true), or as soon as
  /// the destination is failing or the writer has stopped (false), like `wait_written`
  /// but without a waiting thread: the writer thread calls it. Returns an id for
  /// `cancel_flush`.
  pub fn on_written(&self, target: u64, done: FlushDone) -> u64 {
    let mut s = self.lock();
    s.next_waiter += 1;
    let id = s.next_waiter;
    let waiter = Waiter {
      id,
      target,
      done: Some(done),
    };
    if s.reached(target) {
      drop(s);
      waiter.settle(true);
    } else if s.failing || s.stopped {
      drop(s);
      waiter.settle(false);
    } else {
      s.waiters.push(waiter);
    }
    id
  }

  /// Settles a pending `on_written` with false (its time limit passed). No effect if it
  /// was settled already.
  pub fn cancel_flush(&self, id: u64) {
    let mut s = self.lock();
    let found = s.waiters.iter().position(|w| w.id == id);
    let waiter = found.map(|i| s.waiters.swap_remove(i));
    drop(s);
    if let Some(waiter) = waiter {
      waiter.settle(false);
    }
  }

  /// Stops accepting chunks; the writer drains what is queued, then `take` returns None.
  pub fn close(&self) {
    self.lock().closed = true;
    self.work.notify_all();
    self.progress.notify_all();
  }

  pub fn is_closed(&self) -> bool {
    self.lock().closed
  }

  /// Called by the writer thread as it exits, so that no flush waits for it any more.
  pub fn mark_stopped(&self) {
    let mut s = self.lock();
    s.stopped = true;
    let done = s.finished_waiters();
    drop(s);
    // Nothing will be queued any more: the reusable buffers go now, not when the last
    // reference to the queue does (a closed logger the app keeps must not keep them).
    self.spare.lock().unwrap_or_else(|e| e.into_inner()).clear();
    self.progress.notify_all();
    settle(done);
  }

  /// Waits until the writer has stopped; false if `deadline` (or the shutdown deadline)
  /// passed first, or the writer is stalled after a second termination signal.
  pub fn wait_stopped(&self, deadline: Option<Instant>) -> bool {
    self.wait_for(deadline, |s| s.stopped.then_some(true))
  }

  /// Waits on progress until `answer` gives one, within `deadline` and the bounds of
  /// `Bound` (shutdown deadline, no progress after a second signal): false past them.
  fn wait_for(&self, deadline: Option<Instant>, answer: impl Fn(&State) -> Option<bool>) -> bool {
    let mut s = self.lock();
    let mut bound = Bound::new(deadline, s.written);
    loop {
      if let Some(answer) = answer(&s) {
        return answer;
      }
      let Some(slice) = bound.next_wait(s.written) else {
        return false;
      };
      s.progress_waiting += 1;
      s = self
        .progress
        .wait_timeout(s, slice)
        .unwrap_or_else(|e| e.into_inner())
        .0;
      s.progress_waiting -= 1;
    }
  }

  /// True the first time only: whoever counts on stderr the lines a process ends without
  /// writing (the exit flush, a close that gives up) calls this first, so the count is one
  /// line, not one per place that noticed.
  pub fn take_report(&self) -> bool {
    !self.reported.swap(true, Ordering::AcqRel)
  }

  /// Lines accepted and not written: queued, in the batch being written, and dropped
  /// lines whose count has not been written yet.
  pub fn unwritten_lines(&self) -> u64 {
    let s = self.lock();
    let queued: u64 = s.chunks.iter().map(Chunk::lines).sum();
    let counted = s.dropped_unreported + s.dropped_in_flight;
    let stopped = s.stopped;
    drop(s);
    if stopped {
      return 0;
    }
    queued + counted + self.in_flight_lines.load(Ordering::Acquire)
  }

  /// The sequence number a flush started now has to reach.
  pub fn flush_target(&self) -> u64 {
    self.lock().accepted
  }

  /// Waits until every byte accepted before `target` is written, and any count of dropped
  /// lines with them. Returns false without
  /// waiting further when the destination is failing, the writer has stopped or `timeout`
  /// passed, so a flush can never hang the app on a broken destination.
  /// Never waits past the shutdown deadline, nor, after a second termination signal,
  /// while the writer makes no progress.
  pub fn wait_written(&self, target: u64, timeout: Option<Duration>) -> bool {
    let own = timeout.map(|t| Instant::now() + t);
    self.wait_for(own, |s| {
      if s.reached(target) {
        Some(true)
      } else if s.failing || s.stopped {
        Some(false)
      } else {
        None
      }
    })
  }

  /// Sleeps up to `duration`, waking early when the queue is closed.
  pub fn pause(&self, duration: Duration) {
    let s = self.lock();
    if !s.closed {
      let _ = self.work.wait_timeout(s, duration);
    }
  }

  pub fn stats(&self) -> QueueStats {
    let s = self.lock();
    QueueStats {
      held_bytes: s.held,
      accepted_bytes: s.accepted,
      written_bytes: s.written,
      dropped_lines: s.dropped_total,
      failing: s.failing,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::super::chunk::Decoder;
  use super::*;
  use std::sync::Arc;
  use std::thread;

  fn bytes(batch: &mut Batch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut decoder = Decoder::default();
    for chunk in batch.chunks.drain(..) {
      decoder.decode(chunk, &mut out);
    }
    out
  }

  #[test]
  fn drop_policy_counts_lines_and_reports_them_with_the_next_batch() {
    let q = Queue::new(10, Overflow::Drop);
    assert_eq!(q.push(b"aaaa\n".to_vec()), Push::Queued);
    assert_eq!(q.push(b"bbbb\n".to_vec()), Push::Queued);
    assert_eq!(q.push(b"c\nd\n".to_vec()), Push::Dropped { lines: 2 });
    assert!(!q.wait_written(q.flush_target(), Some(Duration::from_millis(1))));
    let mut batch = q.take(1 << 20).unwrap();
    assert_eq!(bytes(&mut batch), b"aaaa\nbbbb\n");
    assert_eq!(batch.dropped, 2);
    assert!(
      !q.wait_written(q.flush_target(), Some(Duration::from_millis(1))),
      "the notice is not written yet"
    );
    q.complete(batch.held);
    assert!(q.wait_written(q.flush_target(), Some(Duration::from_millis(1))));
    assert_eq!(q.stats().dropped_lines, 2);
    assert_eq!(q.stats().held_bytes, 0);
  }

  #[test]
  fn an_oversized_chunk_is_accepted_when_the_queue_is_empty() {
    let q = Queue::new(4, Overflow::Drop);
    assert_eq!(q.push(b"0123456789\n".to_vec()), Push::Queued);
    assert_eq!(q.push(b"x\n".to_vec()), Push::Dropped { lines: 1 });
  }

  #[test]
  fn block_policy_waits_for_the_writer_and_loses_nothing() {
    let q = Arc::new(Queue::new(8, Overflow::Block));
    let writer = {
      let q = q.clone();
      thread::spawn(move || {
        let mut out = Vec::new();
        while let Some(mut batch) = q.take(8) {
          assert_eq!(batch.dropped, 0);
          out.extend_from_slice(&bytes(&mut batch));
          q.complete(batch.held);
        }
        out
      })
    };
    let mut expected = Vec::new();
    for i in 0..1000 {
      let line = format!("{i:03}\n").into_bytes();
      expected.extend_from_slice(&line);
      assert_eq!(q.push(line), Push::Queued);
      assert!(q.stats().held_bytes <= 8);
    }
    q.close();
    assert_eq!(writer.join().unwrap(), expected);
  }

  #[test]
  fn block_policy_drops_instead_of_hanging_while_the_destination_fails() {
    let q = Queue::new(4, Overflow::Block);
    assert_eq!(q.push(b"abc\n".to_vec()), Push::Queued);
    q.set_failing(true);
    assert_eq!(q.push(b"def\n".to_vec()), Push::Dropped { lines: 1 });
  }

  #[test]
  fn try_push_never_waits() {
    let q = Queue::new(4, Overflow::Block);
    assert_eq!(q.try_push(b"abc\n".to_vec()), Push::Queued);
    assert_eq!(q.try_push(b"def\n".to_vec()), Push::Dropped { lines: 1 });
    assert_eq!(q.stats().dropped_lines, 1);
  }

  #[test]
  fn take_respects_the_batch_size_but_never_splits_a_chunk() {
    let q = Queue::new(100, Overflow::Block);
    q.push(b"12345\n".to_vec());
    q.push(b"6789\n".to_vec());
    assert_eq!(bytes(&mut q.take(4).unwrap()), b"12345\n");
    assert_eq!(bytes(&mut q.take(4).unwrap()), b"6789\n");
  }

  #[test]
  fn flush_waits_exactly_for_what_was_accepted_before_it() {
    let q = Arc::new(Queue::new(100, Overflow::Block));
    q.push(b"a\n".to_vec());
    let target = q.flush_target();
    q.push(b"b\n".to_vec());
    assert!(!q.wait_written(target, Some(Duration::from_millis(10))));
    let batch = q.take(2).unwrap();
    q.complete(batch.held);
    assert!(q.wait_written(target, Some(Duration::from_millis(10))));
    assert!(!q.wait_written(q.flush_target(), Some(Duration::from_millis(10))));
  }

  #[test]
  fn flush_returns_when_the_destination_fails_or_the_writer_stops() {
    let q = Queue::new(100, Overflow::Block);
    q.push(b"a\n".to_vec());
    q.set_failing(true);
    assert!(!q.wait_written(q.flush_target(), None));
    q.set_failing(false);
    q.mark_stopped();
    assert!(!q.wait_written(q.flush_target(), None));
  }

  #[test]
  fn utf16_chunks_count_their_memory() {
    let q = Queue::new(100, Overflow::Drop);
    q.push(Chunk::Utf16("é😀\n".encode_utf16().collect()));
    q.push(b"a\n".to_vec());
    assert_eq!(q.stats().held_bytes, 8 + 2);
    let mut batch = q.take(100).unwrap();
    assert_eq!(bytes(&mut batch), "é😀\na\n".as_bytes());
    assert_eq!(batch.held, 10);
  }

  #[test]
  fn a_closed_queue_drains_then_ends_and_refuses_new_chunks() {
    let q = Queue::new(100, Overflow::Block);
    q.push(b"a\n".to_vec());
    q.close();
    assert_eq!(q.push(b"b\n".to_vec()), Push::Dropped { lines: 1 });
    assert_eq!(bytes(&mut q.take(100).unwrap()), b"a\n");
    assert!(q.take(100).is_none());
  }

  #[test]
  fn on_written_settles_once_when_the_writer_passes_the_target_without_a_waiting_thread() {
    use std::sync::Mutex as StdMutex;
    let q = Queue::new(100, Overflow::Block);
    let seen = Arc::new(StdMutex::new(Vec::new()));
    let note = |name: &'static str| {
      let seen = seen.clone();
      Box::new(move |ok: bool| seen.lock().unwrap().push((name, ok))) as FlushDone
    };
    q.on_written(q.flush_target(), note("empty"));
    assert_eq!(
      *seen.lock().unwrap(),
      vec![("empty", true)],
      "nothing to wait for"
    );
    q.push(b"a\n".to_vec());
    q.on_written(q.flush_target(), note("a"));
    q.push(b"b\n".to_vec());
    q.on_written(q.flush_target(), note("b"));
    let cancelled = q.on_written(q.flush_target(), note("cancelled"));
    q.cancel_flush(cancelled);
    let batch = q.take(2).unwrap();
    q.complete(batch.held);
    assert_eq!(
      *seen.lock().unwrap(),
      vec![("empty", true), ("cancelled", false), ("a", true)]
    );
    q.set_failing(true);
    assert_eq!(seen.lock().unwrap().last(), Some(&("b", false)));
    q.on_written(q.flush_target(), note("failing"));
    assert_eq!(seen.lock().unwrap().last(), Some(&("failing", false)));
    q.set_failing(false);
    q.on_written(q.flush_target(), note("dropped with the queue"));
    drop(q);
    assert_eq!(
      seen.lock().unwrap().last(),
      Some(&("dropped with the queue", false)),
      "never left pending"
    );
  }

  #[test]
  fn unwritten_lines_counts_queued_in_flight_and_dropped_lines_until_the_writer_stops() {
    let q = Queue::new(8, Overflow::Drop);
    q.push(b"a\nb\n".to_vec());
    let batch = q.take(100).unwrap();
    q.push(b"c\n".to_vec());
    assert_eq!(q.push(b"d\ne\nf\n".to_vec()), Push::Dropped { lines: 3 });
    assert_eq!(q.unwritten_lines(), 2 + 1 + 3);
    q.complete(batch.held);
    assert_eq!(q.unwritten_lines(), 1 + 3);
    q.close();
    assert!(!q.wait_stopped(Some(Instant::now() + Duration::from_millis(5))));
    q.mark_stopped();
    assert!(q.wait_stopped(None));
    assert_eq!(q.unwritten_lines(), 0);
  }
}

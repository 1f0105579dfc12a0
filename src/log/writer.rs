//! The writer thread: takes batches of whole lines from the queue and appends them so
//! that no line is ever torn, repeated or lost without being counted:
//!
//! - a file path: under the lock every prodkit writer of the path holds (`lockfile.rs`),
//!   after the rotation check, each batch is appended whole or not at all (space reserved
//!   first, a short write cut back); see `Destination::append`.
//! - a pipe, socket or terminal (stdout under Docker or systemd): whole lines in writes
//!   of at most `PIPE_BUF` bytes, which a pipe never interleaves with other writers.
//!
//! A failed batch is retried with exponential backoff (10 ms up to 4 s): lines pushed
//! meanwhile wait in the queue and make no attempt of their own. After `close()` a few
//! more attempts are made; what is then given up is counted (`lostLines`) and said in one
//! line on stderr. A panic of this thread is contained: reported once, every line after
//! it counted as not written, flushes answer false at once, and exit never waits for it.

use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::chunk::{Chunk, Decoder};
use super::destination::{error_code, Destination};
use super::lockfile::Locked;
use super::notice::NoticeFormat;
use super::queue::{Batch, Queue};
use super::rotate::Rotation;

/// Largest batch written at once.
pub const BATCH_BYTES: usize = 1 << 20;
const FIRST_RETRY: Duration = Duration::from_millis(10);
const LAST_RETRY: Duration = Duration::from_secs(4);
/// Attempts still made after `close()` before the remaining lines are given up.
const RETRIES_AFTER_CLOSE: u32 = 3;

/// Told about failures (writes, rotations, compressions); implemented by the napi layer
/// to emit an `'error'` event.
pub trait Reporter: Send + Sync {
  fn failed(&self, code: &str, message: &str);
}

#[derive(Default)]
pub struct WriterStats {
  pub write_errors: AtomicU64,
  /// Lines that did not reach the destination: given up after close, or after a panic.
  pub lost_lines: AtomicU64,
  /// Bytes that reached the destination (UTF-8, as written).
  pub written_bytes: AtomicU64,
  /// The last error code seen (an errno name, or the panic code), for the count of lines
  /// not written at the end, whoever prints it.
  pub last_error: std::sync::Mutex<Option<String>>,
}

impl WriterStats {
  fn set_last_error(&self, code: &str) {
    *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(code.to_string());
  }

  /// The stderr line that counts the lines a process ends without writing. One format for
  /// every place that may print it (the writer at its end, the exit flush that could not
  /// finish): `prodkit: N log lines not written to DEST (CODE)`.
  pub fn unwritten_message(&self, lines: u64, destination: &str) -> String {
    let code = self
      .last_error
      .lock()
      .unwrap_or_else(|e| e.into_inner())
      .clone();
    let why =
      code.unwrap_or_else(|| "the destination did not take them before the process ended".into());
    format!("prodkit: {lines} log lines not written to {destination} ({why})")
  }
}

pub struct Writer {
  pub queue: Arc<Queue>,
  pub destination: Destination,
  pub notices: NoticeFormat,
  pub reporter: Arc<dyn Reporter>,
  pub stats: Arc<WriterStats>,
  /// Set for a file destination with `rotate` options.
  pub rotation: Option<Rotation>,
}

/// A failure episode that starts again this soon after the last reported one, with the
/// same error, is not reported again: a nearly full disk (several processes, space freed
/// and taken) makes writes fail and succeed by turns, and one report says it all.
const REPORT_AGAIN_AFTER: Duration = Duration::from_secs(60);

/// The error code reported for a panic of a background thread.
pub const PANIC_CODE: &str = "ERR_PRODKIT_PANIC";

/// Failure episodes of a writer, and what it gave up.
#[derive(Default)]
struct Episodes {
  current: Option<Failure>,
  /// The error code and time of the last episode reported.
  reported: Option<(String, Instant)>,
  /// A batch was given up after close: later ones get one attempt each.
  given_up: bool,
  lock_unavailable_reported: bool,
}

/// A failure episode: from the first failed write to the next one that succeeds.
struct Failure {
  code: String,
  since: Instant,
  count: u64,
}

fn newlines(bytes: &[u8]) -> u64 {
  memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
  if let Some(s) = payload.downcast_ref::<&str>() {
    s.to_string()
  } else if let Some(s) = payload.downcast_ref::<String>() {
    s.clone()
  } else {
    "unknown panic".into()
  }
}

/// For tests of panic containment: `PRODKIT_TEST_PANIC=writer` (or `archive`) makes that
/// thread panic at its first batch (sweep). Read once when the thread starts.
pub fn test_panic(thread: &str) -> bool {
  std::env::var("PRODKIT_TEST_PANIC").is_ok_and(|v| v.split(',').any(|t| t == thread))
}

/// Errors of a file system without flock, or of a lock file this process may not make
/// (a log file made writable for the app in a folder it may not write): writing goes on
/// without the lock, as it would for one process.
fn cannot_lock(err: &io::Error) -> bool {
  crate::sys::lock::cannot_lock(err)
}

/// Marks the queue stopped when the writer thread ends, by return or by unwinding.
struct StopOnExit(Arc<Queue>);

impl Drop for StopOnExit {
  fn drop(&mut self) {
    if std::thread::panicking() {
      self.0.set_failing(true);
    }
    self.0.mark_stopped();
  }
}

impl Writer {
  pub fn run(self) {
    self.run_with(Decoder::default())
  }

  /// `run` with a decoder set up beforehand (one that seals fields, for `log.encrypt`).
  pub fn run_with(mut self, mut decoder: Decoder) {
    // However this thread ends (even by a panic outside the contained part), no flush
    // waits for it any more.
    let _stopped = StopOnExit(self.queue.clone());
    let mut episodes = Episodes::default();
    let mut buf = Vec::new();
    let mut panic_now = test_panic("writer");
    let mut crashed = false;
    while let Some(batch) = self.queue.take(BATCH_BYTES) {
      let held = batch.held;
      let lines = batch.chunks.iter().map(Chunk::lines).sum::<u64>() + (batch.dropped > 0) as u64;
      if crashed {
        // Never completed: no flush may count these lines as written. Their memory is
        // freed here; the queue's count of it stays, so beyond its limit new lines are
        // dropped (and counted) at once.
        self.stats.lost_lines.fetch_add(lines, Ordering::Relaxed);
        continue;
      }
      let mut done_lines = 0;
      let outcome = catch_unwind(AssertUnwindSafe(|| {
        if std::mem::take(&mut panic_now) {
          panic!("PRODKIT_TEST_PANIC=writer");
        }
        self.write_batch(
          batch,
          &mut decoder,
          &mut buf,
          &mut episodes,
          &mut done_lines,
        )
      }));
      if let Err(payload) = outcome {
        crashed = true;
        self
          .stats
          .lost_lines
          .fetch_add(lines.saturating_sub(done_lines), Ordering::Relaxed);
        self.crashed(&panic_message(&*payload));
        continue;
      }
      self.queue.complete(held);
    }
    let lost = self.stats.lost_lines.load(Ordering::Relaxed);
    // One stderr line for the lines a process ends without writing: the JS exit listener's
    // report (a flush that could not finish) and this one take turns through take_report.
    if lost > 0 && self.queue.take_report() {
      if crashed {
        self.stats.set_last_error(PANIC_CODE);
      }
      eprintln!(
        "{}",
        self
          .stats
          .unwritten_message(lost, &self.destination.describe())
      );
    }
  }

  fn write_batch(
    &mut self,
    batch: Batch,
    decoder: &mut Decoder,
    buf: &mut Vec<u8>,
    episodes: &mut Episodes,
    done_lines: &mut u64,
  ) {
    buf.clear();
    for chunk in batch.chunks {
      if let Some(units) = decoder.decode(chunk, buf) {
        self.queue.recycle(units);
      }
    }
    if batch.dropped > 0 {
      buf.extend_from_slice(&self.notices.dropped(batch.dropped));
    }
    let reached = self.write_all(buf, episodes);
    *done_lines = newlines(&buf[..reached]);
    if reached < buf.len() {
      let lost = newlines(&buf[reached..]);
      self.stats.lost_lines.fetch_add(lost, Ordering::Relaxed);
    }
  }

  /// A panic on this thread: the queue is marked stopped and failing, so flushes answer
  /// false at once and a blocked push drops instead of waiting; reported once.
  fn crashed(&mut self, what: &str) {
    // Reported first: a flush that answers false because of it finds the event already
    // on its way to JS.
    let message = format!(
      "prodkit: the log writer thread for {} failed ({what}); lines logged from now on are counted as not written.",
      self.destination.describe()
    );
    eprintln!("{message}");
    self.reporter.failed(PANIC_CODE, &message);
    self.queue.set_failing(true);
    self.queue.mark_stopped();
  }

  /// Writes `buf` completely, retrying with backoff; returns how far it got (all of it
  /// unless given up after close).
  fn write_all(&mut self, buf: &[u8], episodes: &mut Episodes) -> usize {
    let mut offset = 0;
    let mut delay = FIRST_RETRY;
    let mut attempts_after_close = 0;
    while offset < buf.len() {
      let mut written = 0;
      let result = self.write_step(buf, offset, &mut written, episodes);
      offset += written;
      self
        .stats
        .written_bytes
        .fetch_add(written as u64, Ordering::Relaxed);
      match result {
        Ok(()) => {
          if let Some(ended) = episodes.current.take() {
            self.recovered(ended, episodes);
          }
          delay = FIRST_RETRY;
          continue;
        }
        Err(err) => self.failed(err, episodes),
      }
      if self.queue.is_closed() {
        attempts_after_close += 1;
        if episodes.given_up || attempts_after_close > RETRIES_AFTER_CLOSE {
          episodes.given_up = true;
          return offset;
        }
      }
      self.sleep(delay);
      delay = (delay * 2).min(LAST_RETRY);
      self.destination.reset();
    }
    offset
  }

  /// Sleeps `duration` (less if the queue is closed meanwhile). Pushes wake the queue's
  /// condition variable; they do not cut the wait short, so a failing destination is
  /// tried at the pace of the backoff, not of the app's logging.
  fn sleep(&self, duration: Duration) {
    let until = Instant::now() + duration;
    while !self.queue.is_closed() {
      let now = Instant::now();
      if now >= until {
        return;
      }
      self.queue.pause(until - now);
    }
  }

  /// The lock of a file path destination; on a file system without flock, none (safe for
  /// one process), reported once.
  fn lock(&mut self, episodes: &mut Episodes) -> io::Result<Option<Locked>> {
    match self.destination.lock() {
      Err(err) if cannot_lock(&err) => {
        if !std::mem::replace(&mut episodes.lock_unavailable_reported, true) {
          let code = error_code(&err);
          let path = self
            .destination
            .lock_file()
            .map(|l| l.path().display().to_string())
            .unwrap_or_default();
          let message = format!(
            "prodkit: cannot lock {path}: {err} ({code}). Writing without the lock: safe for one process, but several processes writing this file could tear lines on a full disk or lose lines at a rotation."
          );
          eprintln!("{message}");
          self.reporter.failed(&code, &message);
        }
        Ok(None)
      }
      other => other,
    }
  }

  /// One attempt at `buf[offset..]`: under the lock of a file path, checks that the file
  /// is current, rotates if due (which may leave part of `buf` for the next step, in the
  /// next file), then appends. `written` counts what reached the destination.
  fn write_step(
    &mut self,
    buf: &[u8],
    offset: usize,
    written: &mut usize,
    episodes: &mut Episodes,
  ) -> io::Result<()> {
    let _locked = self.lock(episodes)?;
    self.destination.ensure_current()?;
    let mut end = buf.len();
    if let Some(rotation) = &mut self.rotation {
      // Only between lines: the rest of a line cut short belongs right after its start.
      if offset == 0 || buf[offset - 1] == b'\n' {
        end = offset + rotation.before_write(&mut self.destination, &buf[offset..])?;
      }
    }
    self.destination.append(&buf[..end], offset, written)
  }

  fn failed(&mut self, err: io::Error, failure: &mut Episodes) {
    self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
    let code = error_code(&err);
    self.stats.set_last_error(&code);
    if let Some(ongoing) = &mut failure.current {
      ongoing.count += 1;
      return;
    }
    failure.current = Some(Failure {
      code: code.clone(),
      since: Instant::now(),
      count: 1,
    });
    let repeat = failure
      .reported
      .as_ref()
      .is_some_and(|(last, at)| *last == code && at.elapsed() < REPORT_AGAIN_AFTER);
    if repeat {
      self.queue.set_failing(true);
      return;
    }
    let message = format!(
      "prodkit: cannot write the log to {}: {err} ({code}). Retrying; lines are kept in memory up to the queue limit, then dropped and counted.",
      self.destination.describe()
    );
    eprintln!("{message}");
    self.reporter.failed(&code, &message);
    failure.reported = Some((code, Instant::now()));
    // After the report: a flush that answers false finds the event on its way to JS.
    self.queue.set_failing(true);
  }

  fn recovered(&mut self, ended: Failure, episodes: &mut Episodes) {
    self.queue.set_failing(false);
    let notice = self.notices.recovered(
      &self.destination.describe(),
      &ended.code,
      ended.count,
      ended.since.elapsed().as_millis(),
    );
    // Best effort, whole or not at all: the notice explains the gap; the lines
    // themselves were kept.
    let mut written = 0;
    let _ = self.write_step(&notice, 0, &mut written, episodes);
    self
      .stats
      .written_bytes
      .fetch_add(written as u64, Ordering::Relaxed);
  }
}

/// A failure reported once per error code (on stderr and to JS) until `clear()`: a
/// destination or folder that keeps failing the same way is reported once, not per retry.
#[derive(Default)]
pub struct ReportOnce(Option<String>);

impl ReportOnce {
  /// Reports `message(code)` unless `err`'s code is the one reported last.
  pub fn failed(
    &mut self,
    err: &io::Error,
    reporter: &dyn Reporter,
    message: impl FnOnce(&str) -> String,
  ) {
    let code = error_code(err);
    if self.0.as_deref() == Some(code.as_str()) {
      return;
    }
    let message = message(&code);
    eprintln!("{message}");
    reporter.failed(&code, &message);
    self.0 = Some(code);
  }

  /// The failing operation worked again: the next failure is reported.
  pub fn clear(&mut self) {
    self.0 = None;
  }

  pub fn is_failing(&self) -> bool {
    self.0.is_some()
  }
}

/// For tests: a Reporter that keeps the error codes it is told.
#[cfg(test)]
#[derive(Default)]
pub struct CollectedCodes(std::sync::Mutex<Vec<String>>);

#[cfg(test)]
impl CollectedCodes {
  pub fn codes(&self) -> Vec<String> {
    self.0.lock().unwrap().clone()
  }
}

#[cfg(test)]
impl Reporter for CollectedCodes {
  fn failed(&self, code: &str, _message: &str) {
    self.0.lock().unwrap().push(code.to_string());
  }
}

/// For tests: `prodkit-<kind>-<pid>-<name>` in the temporary folder, with what an earlier
/// run left there removed, and not created (a test of folder creation needs it absent).
#[cfg(test)]
pub fn absent_temp_dir(kind: &str, name: &str) -> std::path::PathBuf {
  let dir = std::env::temp_dir().join(format!("prodkit-{kind}-{}-{name}", std::process::id()));
  let _ = std::fs::remove_dir_all(&dir);
  dir
}

/// For tests: the same folder, created empty.
#[cfg(test)]
pub fn empty_temp_dir(kind: &str, name: &str) -> std::path::PathBuf {
  let dir = absent_temp_dir(kind, name);
  std::fs::create_dir_all(&dir).unwrap();
  dir
}

#[cfg(test)]
mod tests {
  use super::super::destination::Target;
  use super::super::queue::Overflow;
  use super::*;

  fn start(
    target: Target,
    queue: Arc<Queue>,
  ) -> (
    std::thread::JoinHandle<()>,
    Arc<CollectedCodes>,
    Arc<WriterStats>,
  ) {
    let codes = Arc::new(CollectedCodes::default());
    let stats = Arc::new(WriterStats::default());
    let writer = Writer {
      queue,
      destination: Destination::new(target),
      notices: NoticeFormat::new("\"pid\":1"),
      reporter: codes.clone(),
      stats: stats.clone(),
      rotation: None,
    };
    (std::thread::spawn(move || writer.run()), codes, stats)
  }

  #[test]
  fn every_line_reaches_the_file_once_and_in_order() {
    let dir = absent_temp_dir("writer", "lines");
    let path = dir.join("out.log");
    let queue = Arc::new(Queue::new(64 * 1024, Overflow::Block));
    let (thread, codes, _) = start(Target::File(path.clone()), queue.clone());
    let mut expected = String::new();
    for chunk in 0..500 {
      let mut lines = String::new();
      for i in 0..100 {
        lines.push_str(&format!("{{\"id\":{}}}\n", chunk * 100 + i));
      }
      expected.push_str(&lines);
      queue.push(lines.into_bytes());
    }
    assert!(queue.wait_written(queue.flush_target(), None));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    queue.close();
    thread.join().unwrap();
    assert!(codes.codes().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_failing_destination_is_reported_once_and_given_up_only_after_close() {
    let queue = Arc::new(Queue::new(1024, Overflow::Block));
    let (thread, codes, stats) = start(Target::File("/dev/full".into()), queue.clone());
    queue.push(b"a\nb\n".to_vec());
    assert!(
      !queue.wait_written(queue.flush_target(), None),
      "a flush does not hang on a failing destination"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(stats.write_errors.load(Ordering::Relaxed) >= 2, "retried");
    queue.close();
    thread.join().unwrap();
    assert_eq!(codes.codes(), vec!["ENOSPC".to_string()]);
    assert_eq!(stats.lost_lines.load(Ordering::Relaxed), 2);
  }

  #[test]
  fn a_failing_destination_is_retried_with_backoff_not_on_every_push() {
    let queue = Arc::new(Queue::new(1 << 20, Overflow::Block));
    let (thread, _, stats) = start(Target::File("/dev/full".into()), queue.clone());
    // 2 s of pushes, one every ms: before, each push woke the writer for an attempt.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
      queue.push(b"x\n".to_vec());
      std::thread::sleep(Duration::from_millis(1));
    }
    let attempts = stats.write_errors.load(Ordering::Relaxed);
    queue.close();
    thread.join().unwrap();
    // 10 ms doubling to 4 s: 9 attempts in 2 s on an idle machine, fewer under load.
    assert!((2..30).contains(&attempts), "{attempts} attempts in 2 s");
    assert_eq!(stats.written_bytes.load(Ordering::Relaxed), 0);
  }

  #[test]
  fn written_bytes_are_the_utf8_bytes_written() {
    let dir = absent_temp_dir("writer", "bytes");
    let path = dir.join("out.log");
    let queue = Arc::new(Queue::new(64 * 1024, Overflow::Block));
    let (thread, _, stats) = start(Target::File(path.clone()), queue.clone());
    queue.push(Chunk::Utf16("é😀\n".encode_utf16().collect()));
    assert!(queue.wait_written(queue.flush_target(), None));
    queue.close();
    thread.join().unwrap();
    assert_eq!(stats.written_bytes.load(Ordering::Relaxed), 7);
    assert_eq!(std::fs::read(&path).unwrap().len(), 7);
    std::fs::remove_dir_all(&dir).unwrap();
  }
}

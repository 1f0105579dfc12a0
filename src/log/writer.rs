//! The writer thread: takes batches of whole lines from the queue and appends each with
//! as few `write(2)` calls as the destination allows (one, for a regular file). A failed
//! write is retried from the byte where it stopped, so a line is never torn or repeated.
//! With rotation on, each write happens under the rotation lock, after the rotation check
//! (see `rotate.rs`).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::chunk::Decoder;
use super::destination::{error_code, Destination};
use super::notice::NoticeFormat;
use super::queue::Queue;
use super::rotate::Rotation;

/// Largest batch written at once.
pub const BATCH_BYTES: usize = 1 << 20;
const FIRST_RETRY: Duration = Duration::from_millis(50);
const LAST_RETRY: Duration = Duration::from_secs(1);
/// Retries still made after `close()` before the remaining bytes are given up for lost.
const RETRIES_AFTER_CLOSE: u32 = 3;

/// Told about failures (writes, rotations, compressions); implemented by the napi layer
/// to emit an `'error'` event.
pub trait Reporter: Send + Sync {
  fn failed(&self, code: &str, message: &str);
}

#[derive(Default)]
pub struct WriterStats {
  pub write_errors: AtomicU64,
  pub lost_lines: AtomicU64,
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

/// Failure episodes of a writer.
#[derive(Default)]
struct Episodes {
  current: Option<Failure>,
  /// The error code and time of the last episode reported.
  reported: Option<(String, Instant)>,
}

/// A failure episode: from the first failed write to the next one that succeeds.
struct Failure {
  code: String,
  since: Instant,
  count: u64,
}

impl Writer {
  pub fn run(self) {
    self.run_with(Decoder::default())
  }

  /// `run` with a decoder set up beforehand (one that seals fields, for `log.encrypt`).
  pub fn run_with(mut self, mut decoder: Decoder) {
    let mut failure = Episodes::default();
    let mut buf = Vec::new();
    while let Some(batch) = self.queue.take(BATCH_BYTES) {
      let held = batch.held;
      buf.clear();
      for chunk in batch.chunks {
        if let Some(units) = decoder.decode(chunk, &mut buf) {
          self.queue.recycle(units);
        }
      }
      if batch.dropped > 0 {
        buf.extend_from_slice(&self.notices.dropped(batch.dropped));
      }
      if !self.write_all(&buf, &mut failure) {
        let lost = buf.iter().filter(|&&b| b == b'\n').count() as u64;
        self.stats.lost_lines.fetch_add(lost, Ordering::Relaxed);
      }
      self.queue.complete(held);
    }
    self.queue.mark_stopped();
  }

  /// Writes `buf` completely, retrying with backoff; false if given up after close.
  fn write_all(&mut self, buf: &[u8], failure: &mut Episodes) -> bool {
    let mut offset = 0;
    let mut delay = FIRST_RETRY;
    let mut retries_after_close = 0;
    while offset < buf.len() {
      let at_line_start = offset == 0 || buf[offset - 1] == b'\n';
      match self.write_once(&buf[offset..], at_line_start) {
        Ok(0) => self.failed(io::Error::from(io::ErrorKind::WriteZero), failure),
        Ok(n) => {
          offset += n;
          if let Some(ended) = failure.current.take() {
            self.recovered(ended);
          }
          delay = FIRST_RETRY;
          continue;
        }
        Err(err) => self.failed(err, failure),
      }
      if self.queue.is_closed() {
        retries_after_close += 1;
        if retries_after_close > RETRIES_AFTER_CLOSE {
          return false;
        }
      }
      self.queue.pause(delay);
      delay = (delay * 2).min(LAST_RETRY);
      self.destination.reset();
    }
    true
  }

  /// One write attempt: checks that the file is current then makes one `write(2)`. With
  /// rotation, all under the lock, and first rotating if due (which may leave part of
  /// `buf` for the next attempt, in the next file).
  fn write_once(&mut self, buf: &[u8], at_line_start: bool) -> io::Result<usize> {
    let Some(rotation) = &mut self.rotation else {
      self.destination.ensure_current()?;
      return self.destination.write(buf);
    };
    let _locked = rotation.lock()?;
    self.destination.ensure_current()?;
    // Only between lines: the rest of a line cut short by an error belongs right after
    // its first part.
    let len = if at_line_start {
      rotation.before_write(&mut self.destination, buf)?
    } else {
      buf.len()
    };
    self.destination.reserve(len)?;
    self.destination.write(&buf[..len])
  }

  fn failed(&mut self, err: io::Error, failure: &mut Episodes) {
    self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
    if let Some(ongoing) = &mut failure.current {
      ongoing.count += 1;
      return;
    }
    let code = error_code(&err);
    failure.current = Some(Failure {
      code: code.clone(),
      since: Instant::now(),
      count: 1,
    });
    self.queue.set_failing(true);
    let repeat = failure
      .reported
      .as_ref()
      .is_some_and(|(last, at)| *last == code && at.elapsed() < REPORT_AGAIN_AFTER);
    if repeat {
      return;
    }
    let message = format!(
      "prodkit: cannot write the log to {}: {err} ({code}). Retrying; lines are kept in memory up to the queue limit, then dropped and counted.",
      self.destination.describe()
    );
    eprintln!("{message}");
    self.reporter.failed(&code, &message);
    failure.reported = Some((code, Instant::now()));
  }

  fn recovered(&mut self, ended: Failure) {
    self.queue.set_failing(false);
    let notice = self.notices.recovered(
      &self.destination.describe(),
      &ended.code,
      ended.count,
      ended.since.elapsed().as_millis(),
    );
    // Best effort: the notice explains the gap; the lines themselves were kept.
    let _ = self.write_once(&notice, true);
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
}

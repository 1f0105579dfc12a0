//! The archive thread: compresses rotated files and applies retention, off the writer
//! thread (and far from the JS thread), on CPU time the app leaves idle.
//!
//! It works by sweeps of the log's folder rather than by a list of files it was told
//! about: a sweep compresses every plain rotated file it finds, whoever rotated it, so the
//! files a crashed or killed process left half done are finished by the next sweep of any
//! process on that log (every logger sweeps once when it starts). Sweeps are requested
//! after each rotation; requests that arrive during a sweep coalesce into one more.

use std::fs;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::compress::{claim, gzip_rotated_unless};
use super::naming::{Naming, Rotated};
use super::writer::{panic_message, test_panic, ReportOnce, Reporter, PANIC_CODE};

/// What happens to rotated files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
  /// Keep at most this many rotated files (the newest).
  pub keep: Option<usize>,
  /// Delete rotated files whose rotation is older than this.
  pub max_age_ms: Option<u64>,
  pub compress: bool,
}

impl Retention {
  /// Whether there is any work for an archive thread.
  pub fn is_active(&self) -> bool {
    self.compress || self.keep.is_some() || self.max_age_ms.is_some()
  }
}

/// Counters shared with the writer (rotations) and the napi layer.
#[derive(Default)]
pub struct RotationStats {
  pub rotations: AtomicU64,
  /// Failed rotations, compressions and deletions.
  pub errors: AtomicU64,
  pub compressed_files: AtomicU64,
  /// Bytes of plain files compressed.
  pub compressed_bytes: AtomicU64,
  /// CPU time the archive thread spent compressing (CPU rather than wall time: the
  /// thread runs at a low priority, so its wall time says more about the app's load).
  pub compress_cpu_ns: AtomicU64,
  /// Rotated files deleted before a shipper shipped them (its backlog cap was reached).
  pub unshipped_deleted: AtomicU64,
}

/// The handle the writer keeps. Dropping it (at close) stops the thread: a compression
/// in flight either completes its step (once its `.gz` is renamed into place) or is
/// abandoned with its partial file removed, so no rotated file is left both plain and
/// compressed; see `Control::finish`.
pub struct Archiver {
  wake: Option<SyncSender<()>>,
  control: Arc<Control>,
}

/// Shared between the handle, the thread, and the exit hook.
#[derive(Default)]
struct Control {
  stop: AtomicBool,
  /// The thread's id, to lift its priority when it must finish quickly.
  tid: AtomicI64,
  /// True during a sweep.
  busy: Mutex<bool>,
  idle: Condvar,
}

/// How long a close (or the exit of the process) waits for the archive thread to finish
/// or abandon its step. Abandoning is immediate unless a disk is stalled; past this the
/// process goes on, and what it leaves (a plain file beside a `.gz`, or a `.gz.tmp`) is
/// read correctly and tidied by the next sweep.
const FINISH_WAIT: Duration = Duration::from_secs(5);

/// Archive threads alive in the process, stopped by the `atexit` hook: `process.exit()`
/// ends the process without closing the loggers.
static RUNNING: Mutex<Vec<Weak<Control>>> = Mutex::new(Vec::new());

#[cfg_attr(windows, allow(dead_code))]
extern "C" fn stop_all_at_exit() {
  let running: Vec<Arc<Control>> = RUNNING
    .lock()
    .map(|list| list.iter().filter_map(Weak::upgrade).collect())
    .unwrap_or_default();
  for control in running {
    control.finish(FINISH_WAIT);
  }
}

impl Control {
  /// Asks the thread to stop after its current step and waits (at most `wait`) for it.
  fn finish(&self, wait: Duration) {
    let busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
    // Set under the lock: the thread checks it there before each sweep.
    self.stop.store(true, Ordering::Release);
    if !*busy {
      return;
    }
    // At a low priority on a busy machine the thread could wait long for a CPU.
    normal_priority(self.tid.load(Ordering::Acquire));
    let _ = self
      .idle
      .wait_timeout_while(busy, wait, |busy| *busy)
      .unwrap_or_else(|e| e.into_inner());
  }

  /// Marks the start of a sweep; false once stopped.
  fn begin(&self) -> bool {
    let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
    if self.stop.load(Ordering::Acquire) {
      return false;
    }
    *busy = true;
    true
  }

  fn end(&self) {
    *self.busy.lock().unwrap_or_else(|e| e.into_inner()) = false;
    self.idle.notify_all();
  }
}

impl Archiver {
  /// Starts the thread and its first sweep (which finishes what an earlier run left).
  pub fn start(
    naming: Naming,
    retention: Retention,
    stats: Arc<RotationStats>,
    reporter: Arc<dyn Reporter>,
  ) -> io::Result<Archiver> {
    // One pending request is enough: a sweep looks at everything there is.
    let (wake, requests) = sync_channel(1);
    let control = Arc::new(Control::default());
    let sweeper = Sweeper {
      naming,
      retention,
      stats,
      reporter,
      failing: ReportOnce::default(),
      control: control.clone(),
      panicked: false,
    };
    {
      // Not on Windows: an addon's atexit handlers run at DLL detach, after ExitProcess has
      // ended every other thread, so there would be no archive thread to wait for.
      #[cfg(not(windows))]
      {
        static AT_EXIT: std::sync::Once = std::sync::Once::new();
        // SAFETY: registers a plain function with no arguments.
        AT_EXIT.call_once(|| unsafe {
          libc::atexit(stop_all_at_exit);
        });
      }
      let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
      running.retain(|c| c.strong_count() > 0);
      running.push(Arc::downgrade(&control));
    }
    std::thread::Builder::new()
      .name("prodkit-log-archive".into())
      .spawn(move || sweeper.run(requests))?;
    let archiver = Archiver {
      wake: Some(wake),
      control,
    };
    archiver.request_sweep();
    Ok(archiver)
  }

  pub fn request_sweep(&self) {
    if let Some(wake) = &self.wake {
      let _ = wake.try_send(());
    }
  }
}

impl Drop for Archiver {
  fn drop(&mut self) {
    // Closing the channel ends the thread's wait for requests.
    self.wake = None;
    self.control.finish(FINISH_WAIT);
  }
}

struct Sweeper {
  naming: Naming,
  retention: Retention,
  stats: Arc<RotationStats>,
  reporter: Arc<dyn Reporter>,
  /// The error code of the failure being reported, so that it is reported once.
  failing: ReportOnce,
  control: Arc<Control>,
  /// A sweep panicked (reported once).
  panicked: bool,
}

fn now_ms() -> i64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_millis() as i64)
    .unwrap_or(0)
}

/// CPU time of the calling thread, in ns (0 where the OS cannot say; see `sys::cpu`).
fn thread_cpu_ns() -> u64 {
  crate::sys::cpu::thread_time().map_or(0, |t| t.as_nanos() as u64)
}

/// The size on disk of a rotation's files.
fn rotation_bytes(r: &Rotated) -> u64 {
  [&r.plain, &r.gzip]
    .into_iter()
    .flatten()
    .filter_map(|p| fs::metadata(p).ok())
    .map(|m| m.len())
    .sum()
}

/// Removes a file; one already gone is fine.
fn remove(path: &std::path::Path) -> io::Result<()> {
  match fs::remove_file(path) {
    Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
    _ => Ok(()),
  }
}

/// Gives thread `tid` back the normal scheduling policy (0: unknown, nothing done).
fn normal_priority(tid: i64) {
  crate::sys::thread::normal_priority(tid);
}

/// Puts the calling thread at the back of the CPU queue, so that compression takes the
/// CPU time the app leaves idle rather than competing with the JS and writer threads
/// (measured: at nice 10 alone, a logging loop on two cores ran ~8% slower while files
/// were compressed; under SCHED_IDLE, no slower). Compression of a file is delayed, never
/// skipped: SCHED_IDLE threads still get a small share of a busy CPU.
fn lower_priority() {
  crate::sys::thread::lower_priority();
}

/// `PRODKIT_COMPRESS_PRIORITY=normal` keeps the archive thread at the process's own
/// priority. A machine kept at 100% CPU by normal-priority work gives an idle-priority
/// thread a tiny share (with two busy loops on two cores, 126 rotated files of 512 KiB
/// took minutes), so rotated files wait uncompressed for as long as the load lasts: an
/// operator who prefers compression to keep up says so (docs/rotation.md).
fn idle_priority_wanted() -> bool {
  std::env::var("PRODKIT_COMPRESS_PRIORITY").map_or(true, |v| v != "normal")
}

impl Sweeper {
  fn run(mut self, requests: Receiver<()>) {
    self
      .control
      .tid
      .store(crate::sys::thread::current_id(), Ordering::Release);
    if idle_priority_wanted() {
      lower_priority();
    }
    let mut panic_now = test_panic("archive");
    while requests.recv().is_ok() {
      if !self.control.begin() {
        break;
      }
      // A panic is contained to its sweep: reported once, and the next sweep (after the
      // next rotation) tries again; the writer and the app are not affected.
      let swept = catch_unwind(AssertUnwindSafe(|| {
        if std::mem::take(&mut panic_now) {
          panic!("PRODKIT_TEST_PANIC=archive");
        }
        self.sweep()
      }));
      if let Err(payload) = swept {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        if !std::mem::replace(&mut self.panicked, true) {
          let message = format!(
            "prodkit: the log archive thread for {} failed ({}); rotated files stay plain until the next sweep.",
            self.naming.dir().display(),
            panic_message(&*payload)
          );
          eprintln!("{message}");
          self.reporter.failed(PANIC_CODE, &message);
        }
      }
      // After the report: a close or exit waiting for this sweep sees it said.
      self.control.end();
    }
  }

  fn stopping(&self) -> bool {
    self.control.stop.load(Ordering::Acquire)
  }

  /// Retention first (no point compressing a file about to be deleted), then compression
  /// of what is kept, oldest first.
  pub fn sweep(&mut self) {
    let mut ok = true;
    let found = match self.naming.list() {
      Ok(found) => found,
      // No folder (removed while running): nothing to do until the writer makes it again.
      Err(err) if err.kind() == io::ErrorKind::NotFound => return,
      Err(err) => return self.failed("list the rotated files in", &err),
    };
    let (junk, rotated): (Vec<Rotated>, Vec<Rotated>) = found
      .into_iter()
      .partition(|r| r.plain.is_none() && r.gzip.is_none());
    for r in junk {
      // A partial .gz whose plain file is gone: left by a crash after the plain file was
      // compressed and removed by another run; the .gz.tmp is only debris.
      if let Some(partial) = &r.partial {
        ok &= self.attempt("remove", || remove(partial));
      }
    }
    let now = now_ms();
    let count = rotated.len();
    let mut kept = Vec::new();
    // A shipper's checkpoint (src/ship/checkpoint.rs): rotated files it has not shipped
    // are kept past retention while their size on disk is within its backlog cap.
    let shipping = crate::ship::checkpoint::unshipped(&self.naming.log_path());
    let is_unshipped =
      |r: &Rotated| shipping.is_some_and(|(through, _)| through.is_none_or(|t| r.ms > t));
    let mut backlog: u64 = rotated
      .iter()
      .filter(|r| is_unshipped(r))
      .map(rotation_bytes)
      .sum();
    for (i, r) in rotated.into_iter().enumerate() {
      let newer = count - i - 1;
      let beyond_keep = self.retention.keep.is_some_and(|keep| newer >= keep);
      let too_old = self
        .retention
        .max_age_ms
        .is_some_and(|age| now.saturating_sub(r.ms) > age as i64);
      if !(beyond_keep || too_old) {
        kept.push(r);
        continue;
      }
      if is_unshipped(&r) {
        let cap = shipping.map_or(0, |(_, cap)| cap);
        if backlog <= cap {
          kept.push(r);
          continue;
        }
        // Past the backlog cap: the oldest unshipped file goes, and that loss is said.
        let bytes = rotation_bytes(&r);
        backlog = backlog.saturating_sub(bytes);
        self.stats.unshipped_deleted.fetch_add(1, Ordering::Relaxed);
        let message = format!(
          "prodkit: deleting {} ({bytes} bytes) before it was shipped: the unshipped backlog is over its cap of {cap} bytes (log.ship.backlogBytes).",
          r.plain.as_ref().or(r.gzip.as_ref()).map_or_else(String::new, |p| p.display().to_string())
        );
        eprintln!("{message}");
        self.reporter.failed("ESHIPBACKLOG", &message);
      }
      ok &= self.delete(&r);
    }
    if self.retention.compress {
      for plain in kept.iter().filter_map(|r| r.plain.as_ref()) {
        if self.stopping() {
          break;
        }
        let started = thread_cpu_ns();
        match gzip_rotated_unless(plain, &self.control.stop) {
          Ok(Some(done)) => {
            let s = &self.stats;
            s.compressed_files.fetch_add(1, Ordering::Relaxed);
            s.compressed_bytes
              .fetch_add(done.input_bytes, Ordering::Relaxed);
            s.compress_cpu_ns
              .fetch_add(thread_cpu_ns().saturating_sub(started), Ordering::Relaxed);
          }
          Ok(None) => {}
          Err(err) => {
            ok = false;
            self.failed("compress", &err);
          }
        }
      }
    }
    if ok {
      self.failing.clear();
    }
  }

  /// Deletes every file of a rotation, unless another process is compressing it (then
  /// the next sweep does it).
  fn delete(&mut self, r: &Rotated) -> bool {
    let mut ok = true;
    if let Some(plain) = &r.plain {
      match claim(plain) {
        Ok(Some(_claimed)) => ok &= self.attempt("delete", || remove(plain)),
        Ok(None) => return true,
        Err(err) => {
          self.failed("delete", &err);
          return false;
        }
      }
    }
    for path in [&r.gzip, &r.partial].into_iter().flatten() {
      ok &= self.attempt("delete", || remove(path));
    }
    ok
  }

  fn attempt(&mut self, action: &str, f: impl FnOnce() -> io::Result<()>) -> bool {
    match f() {
      Ok(()) => true,
      Err(err) => {
        self.failed(action, &err);
        false
      }
    }
  }

  fn failed(&mut self, action: &str, err: &io::Error) {
    self.stats.errors.fetch_add(1, Ordering::Relaxed);
    let dir = self.naming.dir();
    self.failing.failed(err, &*self.reporter, |code| {
      format!(
        "prodkit: cannot {action} rotated log files in {}: {err} ({code}). The plain files are kept; retrying after the next rotation.",
        dir.display()
      )
    });
  }
}

#[cfg(test)]
mod tests {
  use super::super::naming::{with_suffix, GZ, GZ_PARTIAL};
  use super::super::writer::{empty_temp_dir, CollectedCodes};
  use super::*;
  use std::path::PathBuf;

  fn setup(name: &str, retention: Retention) -> (PathBuf, Naming, Sweeper, Arc<CollectedCodes>) {
    let dir = empty_temp_dir("archive", name);
    let naming = Naming::new(&dir.join("app.log"));
    let reports = Arc::new(CollectedCodes::default());
    let sweeper = Sweeper {
      naming: naming.clone(),
      retention,
      stats: Arc::default(),
      reporter: reports.clone(),
      failing: ReportOnce::default(),
      control: Arc::default(),
      panicked: false,
    };
    (dir, naming, sweeper, reports)
  }

  fn names(dir: &PathBuf) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
      .unwrap()
      .map(|e| e.unwrap().file_name().into_string().unwrap())
      .collect();
    names.sort();
    names
  }

  #[test]
  fn keep_n_deletes_the_oldest_rotations_whatever_their_form() {
    let retention = Retention {
      keep: Some(2),
      ..Retention::default()
    };
    let (dir, naming, mut sweeper, _) = setup("keep", retention);
    let now = now_ms();
    fs::write(with_suffix(&naming.plain(now - 4000), GZ), b"").unwrap();
    fs::write(naming.plain(now - 3000), b"").unwrap();
    fs::write(with_suffix(&naming.plain(now - 3000), GZ_PARTIAL), b"").unwrap();
    fs::write(naming.plain(now - 2000), b"").unwrap();
    fs::write(with_suffix(&naming.plain(now - 1000), GZ), b"").unwrap();
    fs::write(dir.join("app.log"), b"").unwrap();
    sweeper.sweep();
    let expected = vec![
      "app.log".to_string(),
      naming
        .plain(now - 2000)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string(),
      format!(
        "{}.gz",
        naming
          .plain(now - 1000)
          .file_name()
          .unwrap()
          .to_str()
          .unwrap()
      ),
    ];
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(names(&dir), expected_sorted);
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn max_age_deletes_rotations_older_than_it_and_compress_does_the_rest() {
    let retention = Retention {
      max_age_ms: Some(60_000),
      compress: true,
      ..Retention::default()
    };
    let (dir, naming, mut sweeper, _) = setup("age", retention);
    let now = now_ms();
    fs::write(naming.plain(now - 120_000), b"old\n").unwrap();
    fs::write(naming.plain(now - 1_000), b"young\n").unwrap();
    // Debris of a crash: a partial .gz whose plain file is gone.
    fs::write(with_suffix(&naming.plain(now - 500), GZ_PARTIAL), b"").unwrap();
    sweeper.sweep();
    let young_gz = with_suffix(&naming.plain(now - 1_000), GZ);
    assert_eq!(
      names(&dir),
      vec![young_gz.file_name().unwrap().to_str().unwrap().to_string()]
    );
    assert_eq!(sweeper.stats.compressed_files.load(Ordering::Relaxed), 1);
    assert_eq!(sweeper.stats.compressed_bytes.load(Ordering::Relaxed), 6);
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_rotation_being_compressed_elsewhere_is_not_deleted_under_its_feet() {
    let retention = Retention {
      keep: Some(0),
      ..Retention::default()
    };
    let (dir, naming, mut sweeper, _) = setup("claimed", retention);
    let plain = naming.plain(now_ms() - 10);
    fs::write(&plain, b"x\n").unwrap();
    let claimed = claim(&plain).unwrap().unwrap();
    sweeper.sweep();
    assert!(plain.exists());
    drop(claimed);
    sweeper.sweep();
    assert!(!plain.exists());
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn failures_are_reported_once_per_kind_until_a_sweep_succeeds() {
    let retention = Retention {
      compress: true,
      ..Retention::default()
    };
    let (dir, naming, mut sweeper, reports) = setup("fail", retention);
    let plain = naming.plain(now_ms());
    fs::write(&plain, b"x\n").unwrap();
    fs::create_dir(with_suffix(&plain, GZ_PARTIAL)).unwrap();
    sweeper.sweep();
    sweeper.sweep();
    assert_eq!(sweeper.stats.errors.load(Ordering::Relaxed), 2);
    assert_eq!(reports.codes(), vec!["EISDIR".to_string()]);
    fs::remove_dir(with_suffix(&plain, GZ_PARTIAL)).unwrap();
    sweeper.sweep();
    assert!(with_suffix(&plain, GZ).exists());
    assert!(!sweeper.failing.is_failing());
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn closing_mid_compression_leaves_each_rotation_plain_or_compressed_never_both() {
    let dir = empty_temp_dir("archive", "close");
    let naming = Naming::new(&dir.join("app.log"));
    let content: Vec<u8> = (0..200_000)
      .flat_map(|i| format!("{{\"i\":{i},\"pad\":\"{}\"}}\n", i * 7919 % 100_003).into_bytes())
      .collect();
    let now = now_ms();
    for round in 0..6 {
      for k in 0..2 {
        fs::write(naming.plain(now - 10_000 + round * 10 + k), &content).unwrap();
      }
      let retention = Retention {
        compress: true,
        ..Retention::default()
      };
      let archiver = Archiver::start(
        naming.clone(),
        retention,
        Arc::default(),
        Arc::new(CollectedCodes::default()),
      )
      .unwrap();
      // Close at a different point of the work each round.
      std::thread::sleep(std::time::Duration::from_millis(round as u64 * 15));
      drop(archiver);
      for r in naming.list().unwrap() {
        assert!(r.partial.is_none(), "a .gz.tmp left: {r:?}");
        assert!(
          r.plain.is_some() != r.gzip.is_some(),
          "plain or compressed, never both: {r:?}"
        );
      }
    }
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn retention_keeps_what_a_shipper_has_not_shipped_up_to_its_backlog_cap() {
    use crate::ship::checkpoint::Checkpoint;
    let retention = Retention {
      keep: Some(1),
      ..Retention::default()
    };
    let (dir, naming, mut sweeper, reports) = setup("unshipped", retention);
    for ms in [1000, 2000, 3000] {
      fs::write(naming.plain(ms), b"0123456789\n").unwrap();
    }
    let log = dir.join("app.log");
    let checkpoint = |through, backlog_bytes| {
      Checkpoint {
        v: 1,
        through,
        file: None,
        backlog_bytes,
      }
      .save(&log)
      .unwrap()
    };
    checkpoint(None, 1000);
    sweeper.sweep();
    assert_eq!(naming.list().unwrap().len(), 3, "none shipped: all kept");
    checkpoint(Some(1000), 1000);
    sweeper.sweep();
    let left: Vec<i64> = naming.list().unwrap().iter().map(|r| r.ms).collect();
    assert_eq!(left, [2000, 3000], "the shipped one goes");
    checkpoint(Some(1000), 15);
    sweeper.sweep();
    let left: Vec<i64> = naming.list().unwrap().iter().map(|r| r.ms).collect();
    assert_eq!(left, [3000], "past the cap the oldest unshipped goes");
    assert_eq!(sweeper.stats.unshipped_deleted.load(Ordering::Relaxed), 1);
    assert!(reports.codes().contains(&"ESHIPBACKLOG".to_string()));
    fs::remove_dir_all(&dir).unwrap();
  }
}

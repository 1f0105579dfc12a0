//! The shipper thread: follows one log (`follow`), sends each batch to its target, and moves
//! the checkpoint only once the target says the store has the batch. At-least-once: a batch
//! interrupted by a crash, a kill or a store failure is sent again, whole, with the same id;
//! at most that one batch is repeated per interruption.
//!
//! - Retry: backoff from 100 ms doubling to 30 s, each wait drawn at random from its upper
//!   half (jitter, so that many shippers do not hammer a store back in step). A failure is
//!   reported once (stderr) when it starts and once when shipping recovers, not per retry.
//! - Rejected lines (the store refused them for good) and torn fragments are appended to
//!   `<log>.rejected` and counted, never retried.
//! - A full disk (ENOSPC) or any other failure to save the checkpoint or to write
//!   `<log>.rejected` is reported once when it starts and once when a write works again,
//!   never per batch, and shipping goes on: the lines on disk are still sent (a restart
//!   before the checkpoint is saved again repeats the ones sent since), and the refused
//!   lines that cannot be kept are counted. A partial `.rejected` append is cut back, so
//!   that file holds whole lines only.
//! - One shipper per log: the thread holds an exclusive lock on `<log>.ship.lock`; a second
//!   shipper of the same log (a sidecar and the app, say) waits for it rather than ship the
//!   same lines twice.
//! - A panic is contained: reported once, and the loop starts again from the checkpoint
//!   after a backoff. The app's logging never waits for any of this: the writer appends to
//!   the file whatever the shipper does.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::checkpoint::{Checkpoint, DEFAULT_BACKLOG_BYTES};
use super::follow::{Follower, Pending};
use super::target::{Batch, Outcome, Target};
use crate::log::naming::with_suffix;
use crate::log::writer::{panic_message, test_panic};

#[derive(Clone, Debug)]
pub struct ShipConfig {
  pub log: PathBuf,
  pub batch_bytes: usize,
  pub flush: Duration,
  pub backlog_bytes: u64,
}

impl ShipConfig {
  pub fn new(log: &Path) -> ShipConfig {
    ShipConfig {
      log: log.to_path_buf(),
      batch_bytes: 1 << 20,
      flush: Duration::from_millis(1000),
      backlog_bytes: DEFAULT_BACKLOG_BYTES,
    }
  }
}

/// Counters for `kit.metrics` and `stats()`.
#[derive(Default)]
pub struct ShipStats {
  pub lines: AtomicU64,
  pub bytes: AtomicU64,
  pub batches: AtomicU64,
  /// Failed sends (each retry counts) and read or checkpoint errors.
  pub errors: AtomicU64,
  pub rejected_lines: AtomicU64,
  /// ms since the epoch of the last acknowledged batch (0: none yet).
  pub last_success_ms: AtomicU64,
  /// Bytes on disk not acknowledged yet, updated at most once a second.
  pub lag_bytes: AtomicU64,
  /// Set once `lag_bytes` has been measured.
  pub lag_measured: AtomicBool,
  /// ms since the epoch when shipping last was caught up or acknowledged a batch: the lag
  /// in seconds is now minus this while `lag_bytes` is not 0.
  pub current_ms: AtomicU64,
}

/// Stop flag and a wake-up for sleeps.
#[derive(Default)]
pub struct Control {
  stop: AtomicBool,
  lock: Mutex<()>,
  wake: Condvar,
  /// True once the thread has ended.
  pub done: AtomicBool,
}

impl Control {
  pub fn stop(&self) {
    let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
    self.stop.store(true, Ordering::Release);
    self.wake.notify_all();
  }

  pub fn stopping(&self) -> bool {
    self.stop.load(Ordering::Acquire)
  }

  /// Sleeps up to `d`; false if stopped meanwhile (also for a target's own waits:
  /// `Batch::pause`).
  pub fn sleep(&self, d: Duration) -> bool {
    let guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
    let _ = self
      .wake
      .wait_timeout_while(guard, d, |_| !self.stopping())
      .unwrap_or_else(|e| e.into_inner());
    !self.stopping()
  }
}

pub fn now_ms() -> u64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map_or(0, |d| d.as_millis() as u64)
}

/// The wait before retry `attempt` (0-based): 100 ms doubling to 30 s, drawn from the
/// upper half of that.
pub fn backoff(attempt: u32) -> Duration {
  let ceiling = 100u64.saturating_mul(1 << attempt.min(9)).min(30_000);
  let mut random = [0u8; 8];
  let r = getrandom::fill(&mut random).map_or(0, |_| u64::from_le_bytes(random));
  Duration::from_millis(ceiling / 2 + r % (ceiling / 2 + 1))
}

/// How often the follower looks for new lines when caught up.
fn poll_interval(flush: Duration) -> Duration {
  (flush / 4).clamp(Duration::from_millis(10), Duration::from_millis(200))
}

struct Run<'a> {
  config: &'a ShipConfig,
  target: &'a mut dyn Target,
  stats: &'a ShipStats,
  control: &'a Control,
  /// The failure being reported, so that it is reported once.
  failing: Option<String>,
  rejected: Option<File>,
  /// A checkpoint save failed and none has worked since (reported once).
  checkpoint_failing: bool,
  /// A `.rejected` write failed and none has worked since (reported once).
  rejected_failing: bool,
}

impl<'a> Run<'a> {
  /// A run with nothing failing yet and no `.rejected` file open.
  fn new(
    config: &'a ShipConfig,
    target: &'a mut dyn Target,
    stats: &'a ShipStats,
    control: &'a Control,
  ) -> Self {
    Run {
      config,
      target,
      stats,
      control,
      failing: None,
      rejected: None,
      checkpoint_failing: false,
      rejected_failing: false,
    }
  }

  fn name(&self) -> String {
    format!(
      "{} to {}",
      self.config.log.display(),
      self.target.describe()
    )
  }

  fn failed(&mut self, what: &str) {
    self.stats.errors.fetch_add(1, Ordering::Relaxed);
    if self.failing.is_none() {
      eprintln!(
        "prodkit: shipping {} failed: {what}; retrying with backoff (reported once until it recovers).",
        self.name()
      );
      self.failing = Some(what.to_string());
    }
  }

  fn recovered(&mut self) {
    if self.failing.take().is_some() {
      eprintln!("prodkit: shipping {} recovered.", self.name());
    }
  }

  /// Reports the outcome of a checkpoint save: a failure once until a save works again.
  fn checkpoint_saved(&mut self, result: io::Result<()>) {
    match result {
      Ok(()) => {
        if std::mem::take(&mut self.checkpoint_failing) {
          eprintln!(
            "prodkit: the shipping checkpoint of {} is saved again.",
            self.config.log.display()
          );
        }
      }
      Err(err) => {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        if !std::mem::replace(&mut self.checkpoint_failing, true) {
          eprintln!(
            "prodkit: cannot save the shipping checkpoint of {} ({err}); shipping goes on, and a restart before it is saved again sends the lines shipped since once more (reported once until it is saved).",
            self.config.log.display()
          );
        }
      }
    }
  }

  /// Appends `lines` to `<log>.rejected`, each with a newline, whole or not at all (a
  /// partial append is cut back).
  fn append_rejected(&mut self, path: &Path, lines: &[&[u8]]) -> io::Result<()> {
    if self.rejected.is_none() {
      self.rejected = Some(OpenOptions::new().create(true).append(true).open(path)?);
    }
    let file = self.rejected.as_mut().expect("opened above");
    let mut out = Vec::new();
    for line in lines {
      out.extend_from_slice(line);
      out.push(b'\n');
    }
    let before = file.metadata()?.len();
    let written = file.write_all(&out);
    if written.is_err() {
      let _ = file.set_len(before);
      // Opened again next time: the file may have been moved or recreated meanwhile.
      self.rejected = None;
    }
    written
  }

  /// Sets lines aside in `<log>.rejected` and counts them.
  fn set_aside(&mut self, lines: &[&[u8]], reason: &str) {
    self
      .stats
      .rejected_lines
      .fetch_add(lines.len() as u64, Ordering::Relaxed);
    let path = with_suffix(&self.config.log, ".rejected");
    match self.append_rejected(&path, lines) {
      Ok(()) => {
        if std::mem::take(&mut self.rejected_failing) {
          eprintln!("prodkit: {} can be written again.", path.display());
        }
        eprintln!(
          "prodkit: {} line(s) of {} set aside in {} ({reason}).",
          lines.len(),
          self.config.log.display(),
          path.display()
        );
      }
      Err(err) => {
        self.stats.errors.fetch_add(1, Ordering::Relaxed);
        if !std::mem::replace(&mut self.rejected_failing, true) {
          eprintln!(
            "prodkit: cannot write {} ({err}): {} line(s) of {} ({reason}) are counted as rejected but not kept, and so are the next ones until it can be written (reported once).",
            path.display(),
            lines.len(),
            self.config.log.display()
          );
        }
      }
    }
  }

  /// Sends one batch until the store has it (true) or the shipper stops (false).
  fn deliver(&mut self, follower: &mut Follower, pending: &Pending) -> bool {
    let lines = pending.lines();
    let mut attempt = 0;
    loop {
      if self.control.stopping() {
        return false;
      }
      let outcome = self.target.send(&Batch {
        id: &pending.id,
        lines: &lines,
        stop: Some(self.control),
      });
      match outcome {
        Outcome::Acked => {}
        Outcome::Rejected {
          lines: refused,
          reason,
        } => {
          let refused: Vec<&[u8]> = refused
            .iter()
            .filter_map(|&i| lines.get(i).copied())
            .collect();
          self.set_aside(&refused, &format!("refused by the store: {reason}"));
        }
        Outcome::Retry { reason } => {
          self.failed(&reason);
          if !self.control.sleep(backoff(attempt)) {
            return false;
          }
          attempt = attempt.saturating_add(1);
          continue;
        }
      }
      self.recovered();
      let s = self.stats;
      s.lines.fetch_add(lines.len() as u64, Ordering::Relaxed);
      s.bytes
        .fetch_add(pending.data.len() as u64, Ordering::Relaxed);
      s.batches.fetch_add(1, Ordering::Relaxed);
      s.last_success_ms.store(now_ms(), Ordering::Relaxed);
      s.current_ms.store(now_ms(), Ordering::Relaxed);
      // The store has the lines; a restart before the next save repeats them.
      let saved = follower.ack(pending);
      self.checkpoint_saved(saved);
      return true;
    }
  }

  fn ship(&mut self) {
    let mut panic_now = test_panic("shipper");
    let checkpoint = match Checkpoint::load(&self.config.log) {
      Ok(found) => found,
      Err(err) => {
        self.failed(&format!(
          "cannot read the checkpoint ({err}); shipping from the first file again"
        ));
        None
      }
    };
    let checkpoint = Checkpoint {
      v: 1,
      backlog_bytes: self.config.backlog_bytes,
      ..checkpoint.unwrap_or_default()
    };
    let mut follower = Follower::new(&self.config.log, checkpoint, self.config.batch_bytes);
    let poll = poll_interval(self.config.flush);
    let mut lag_checked = Instant::now() - Duration::from_secs(2);
    let mut read_failures = 0u32;
    while !self.control.stopping() {
      if lag_checked.elapsed() >= Duration::from_secs(1) {
        lag_checked = Instant::now();
        let lag = follower.lag_bytes();
        self.stats.lag_bytes.store(lag, Ordering::Relaxed);
        self.stats.lag_measured.store(true, Ordering::Release);
        if lag == 0 {
          self.stats.current_ms.store(now_ms(), Ordering::Relaxed);
        }
      }
      let next = follower.next_batch(self.config.batch_bytes, self.config.flush);
      if let Some(err) = follower.unsaved.take() {
        self.checkpoint_saved(Err(err));
      }
      for torn in std::mem::take(&mut follower.torn) {
        self.set_aside(
          &[&torn],
          "torn: a fragment without a newline at the end of a rotated file",
        );
      }
      match next {
        Ok(Some(pending)) => {
          read_failures = 0;
          if std::mem::take(&mut panic_now) {
            panic!("PRODKIT_TEST_PANIC=shipper");
          }
          if !self.deliver(&mut follower, &pending) {
            return;
          }
        }
        Ok(None) => {
          self.control.sleep(poll);
        }
        Err(err) => {
          self.failed(&format!("cannot read {}: {err}", follower.log().display()));
          self.control.sleep(backoff(read_failures));
          read_failures = read_failures.saturating_add(1);
        }
      }
    }
  }
}

/// Saves the checkpoint of `config.log` with this shipper's backlog cap (a new one when
/// there is none), so that retention knows from now on that the log is shipped. An
/// unreadable checkpoint is left for the thread to report.
pub fn mark_shipped_log(config: &ShipConfig) -> io::Result<()> {
  if let Some(dir) = config.log.parent().filter(|p| !p.as_os_str().is_empty()) {
    std::fs::create_dir_all(dir)?;
  }
  match Checkpoint::load(&config.log) {
    Ok(found) => Checkpoint {
      v: 1,
      backlog_bytes: config.backlog_bytes,
      ..found.unwrap_or_default()
    }
    .save(&config.log),
    Err(_) => Ok(()),
  }
}

/// Takes the shipper lock of `log`, waiting while another shipper holds it. None when
/// stopped meanwhile; Some(None) when locks are not available here (shipping goes on).
fn take_lock(log: &Path, control: &Control) -> Option<Option<File>> {
  let path = with_suffix(log, ".ship.lock");
  let file = match OpenOptions::new()
    .create(true)
    .truncate(false)
    .write(true)
    .open(&path)
  {
    Ok(file) => file,
    Err(_) => return Some(None),
  };
  let mut told = false;
  loop {
    match crate::sys::lock::try_lock(&file) {
      Ok(true) => return Some(Some(file)),
      Ok(false) => {
        if !std::mem::replace(&mut told, true) {
          eprintln!(
            "prodkit: another process is shipping {}; this shipper waits until it stops.",
            log.display()
          );
        }
        if !control.sleep(Duration::from_millis(500)) {
          return None;
        }
      }
      Err(_) => return Some(None),
    }
  }
}

/// The body of the shipper thread.
pub fn run(
  config: ShipConfig,
  mut target: Box<dyn Target>,
  stats: Arc<ShipStats>,
  control: Arc<Control>,
) {
  struct Done<'a>(&'a Control);
  impl Drop for Done<'_> {
    fn drop(&mut self) {
      self.0.done.store(true, Ordering::Release);
    }
  }
  let _done = Done(&control);
  let Some(_lock) = take_lock(&config.log, &control) else {
    return;
  };
  let mut panics = 0u32;
  while !control.stopping() {
    let mut run = Run::new(&config, &mut *target, &stats, &control);
    let outcome = catch_unwind(AssertUnwindSafe(|| run.ship()));
    let Err(payload) = outcome else {
      return;
    };
    stats.errors.fetch_add(1, Ordering::Relaxed);
    if panics == 0 {
      eprintln!(
        "prodkit: the shipper of {} failed ({}); starting again from its checkpoint.",
        config.log.display(),
        panic_message(&*payload)
      );
    }
    if !control.sleep(backoff(panics)) {
      return;
    }
    panics = panics.saturating_add(1);
  }
}

/// How many nice levels the shipper thread runs below the thread that starts it.
pub const NICE_BELOW_APP: i32 = 10;

/// Lowers the calling thread's scheduling priority by `NICE_BELOW_APP` levels (capped at
/// 19), so that on a busy machine the app's threads get the CPU first and shipping takes
/// what is left: the disk is the buffer, so shipping later costs nothing but lag, while a
/// shipper competing for the cores slows the app's JS thread (measured by
/// bench/ship-app.js). Linux sets nice per thread; elsewhere (where it would apply to the
/// whole process) nothing is changed. Returns the thread's nice value, or None where it
/// is not changed.
pub fn lower_priority() -> Option<i32> {
  #[cfg(target_os = "linux")]
  {
    // SAFETY: nice and getpriority take plain integers and touch no memory. On Linux,
    // both act on the calling thread only (a thread is a task with its own nice value);
    // the kernel caps the value at 19, and raising one's own needs no privilege.
    unsafe {
      libc::nice(NICE_BELOW_APP);
      Some(libc::getpriority(libc::PRIO_PROCESS, 0))
    }
  }
  #[cfg(not(target_os = "linux"))]
  {
    None
  }
}

/// Starts the thread.
pub fn start(
  config: ShipConfig,
  target: Box<dyn Target>,
  stats: Arc<ShipStats>,
  control: Arc<Control>,
) -> io::Result<std::thread::JoinHandle<()>> {
  std::thread::Builder::new()
    .name("prodkit-ship".into())
    .spawn(move || {
      lower_priority();
      run(config, target, stats, control)
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
  use super::*;

  fn own_nice() -> i32 {
    // SAFETY: getpriority takes plain integers and touches no memory.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
  }

  struct Nowhere;
  impl Target for Nowhere {
    fn send(&mut self, _: &Batch) -> Outcome {
      Outcome::Retry {
        reason: "not used".into(),
      }
    }
    fn describe(&self) -> String {
      "nowhere://".into()
    }
  }

  #[test]
  fn a_rejected_file_on_a_full_disk_is_counted_reported_once_and_written_again_later() {
    let dir = crate::log::writer::empty_temp_dir("ship", "rejected-full");
    let log = dir.join("app.log");
    let rejected = with_suffix(&log, ".rejected");
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    std::os::unix::fs::symlink("/dev/full", &rejected).unwrap();
    let config = ShipConfig::new(&log);
    let stats = ShipStats::default();
    let control = Control::default();
    let mut target = Nowhere;
    let mut run = Run::new(&config, &mut target, &stats, &control);
    run.set_aside(&[b"{\"a\":1}"], "test");
    assert!(run.rejected_failing);
    run.set_aside(&[b"{\"a\":2}", b"{\"a\":3}"], "test");
    assert!(run.rejected_failing);
    assert_eq!(stats.rejected_lines.load(Ordering::Relaxed), 3);
    assert_eq!(stats.errors.load(Ordering::Relaxed), 2);
    // Space again: the next lines are kept, whole.
    std::fs::remove_file(&rejected).unwrap();
    run.set_aside(&[b"{\"a\":4}"], "test");
    assert!(!run.rejected_failing);
    assert_eq!(std::fs::read(&rejected).unwrap(), b"{\"a\":4}\n");
    assert_eq!(stats.errors.load(Ordering::Relaxed), 2);

    // A checkpoint save on a full disk fails, the old checkpoint stays whole, and no
    // temporary file is left; the failure is reported once until a save works.
    let saved = Checkpoint {
      v: 1,
      through: Some(7),
      ..Checkpoint::default()
    };
    saved.save(&log).unwrap();
    let temp = with_suffix(&crate::ship::checkpoint::path_for(&log), ".tmp");
    std::os::unix::fs::symlink("/dev/full", &temp).unwrap();
    let newer = Checkpoint {
      through: Some(8),
      ..saved.clone()
    };
    let err = newer.save(&log).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
    assert!(std::fs::symlink_metadata(&temp).is_err(), "temp removed");
    assert_eq!(Checkpoint::load(&log).unwrap(), Some(saved));
    run.checkpoint_saved(Err(err));
    run.checkpoint_saved(Err(io::Error::from_raw_os_error(libc::ENOSPC)));
    assert!(run.checkpoint_failing);
    assert_eq!(stats.errors.load(Ordering::Relaxed), 4);
    run.checkpoint_saved(newer.save(&log));
    assert!(!run.checkpoint_failing);
    assert_eq!(Checkpoint::load(&log).unwrap(), Some(newer));
    std::fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn the_shipper_thread_runs_below_the_app_and_the_app_keeps_its_priority() {
    let app = own_nice();
    let shipper = std::thread::spawn(|| (lower_priority(), own_nice()))
      .join()
      .unwrap();
    let want = (app + NICE_BELOW_APP).min(19);
    assert_eq!(shipper, (Some(want), want));
    assert_eq!(own_nice(), app, "the thread that started it is not changed");
  }
}

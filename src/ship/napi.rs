//! The napi class JS starts a shipper with (`lib/ship/index.js`): one thread per shipped
//! log. JS validates the options first, with messages that name the user's option; the
//! checks here only guard the boundary.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::shipper::{self, now_ms, Control, ShipConfig, ShipStats};
use super::targets;

#[napi(object)]
pub struct LogShipperOptions {
  /// The log file to ship (its rotated files are found beside it).
  pub path: String,
  /// The target URL.
  pub to: String,
  pub batch_bytes: Option<f64>,
  pub flush_ms: Option<f64>,
  pub backlog_bytes: Option<f64>,
  /// Connect once at start (at most this many ms) and fail if the target is unreachable.
  pub check_ms: Option<f64>,
}

#[napi(object)]
pub struct LogShipperStats {
  pub lines: f64,
  pub bytes: f64,
  pub batches: f64,
  pub errors: f64,
  pub rejected_lines: f64,
  /// ms since the epoch of the last acknowledged batch; 0 before the first.
  pub last_success_ms: f64,
  pub lag_bytes: f64,
  /// Seconds since shipping last was caught up or acknowledged a batch, while lagging.
  pub lag_seconds: f64,
  /// The target, without credentials.
  pub target: String,
  /// True when the last measurement (once a second) found nothing left to ship.
  pub caught_up: bool,
}

#[napi]
pub struct LogShipper {
  stats: Arc<ShipStats>,
  control: Arc<Control>,
  thread: Mutex<Option<JoinHandle<()>>>,
  target: String,
}

fn invalid(message: String) -> Error {
  Error::new(Status::InvalidArg, message)
}

#[napi]
impl LogShipper {
  #[napi(constructor)]
  pub fn new(options: LogShipperOptions) -> Result<Self> {
    let target = match options.check_ms {
      Some(ms) => targets::check(&options.to, Duration::from_millis(ms.max(1.0) as u64)),
      None => targets::open(&options.to),
    }
    .map_err(invalid)?;
    let describe = target.describe();
    let mut config = ShipConfig::new(&PathBuf::from(&options.path));
    if let Some(b) = options.batch_bytes {
      config.batch_bytes = b.max(1.0) as usize;
    }
    if let Some(ms) = options.flush_ms {
      config.flush = Duration::from_millis(ms.max(0.0) as u64);
    }
    if let Some(b) = options.backlog_bytes {
      config.backlog_bytes = b.max(0.0) as u64;
    }
    // Saved before the thread starts: from now on retention keeps what is not shipped,
    // even before the first batch is acknowledged.
    shipper::mark_shipped_log(&config).map_err(|e| {
      Error::from_reason(format!(
        "prodkit: cannot write the shipping checkpoint beside {}: {e}",
        options.path
      ))
    })?;
    let stats = Arc::new(ShipStats::default());
    stats.current_ms.store(now_ms(), Ordering::Relaxed);
    let control = Arc::new(Control::default());
    let thread = shipper::start(config, target, stats.clone(), control.clone())
      .map_err(|e| Error::from_reason(format!("prodkit: cannot start the shipper thread: {e}")))?;
    Ok(LogShipper {
      stats,
      control,
      thread: Mutex::new(Some(thread)),
      target: describe,
    })
  }

  #[napi]
  pub fn stats(&self) -> LogShipperStats {
    let s = &self.stats;
    let lag_bytes = s.lag_bytes.load(Ordering::Relaxed);
    let lag_seconds = if lag_bytes == 0 {
      0.0
    } else {
      now_ms().saturating_sub(s.current_ms.load(Ordering::Relaxed)) as f64 / 1000.0
    };
    LogShipperStats {
      lines: s.lines.load(Ordering::Relaxed) as f64,
      bytes: s.bytes.load(Ordering::Relaxed) as f64,
      batches: s.batches.load(Ordering::Relaxed) as f64,
      errors: s.errors.load(Ordering::Relaxed) as f64,
      rejected_lines: s.rejected_lines.load(Ordering::Relaxed) as f64,
      last_success_ms: s.last_success_ms.load(Ordering::Relaxed) as f64,
      lag_bytes: lag_bytes as f64,
      lag_seconds,
      target: self.target.clone(),
      caught_up: lag_bytes == 0 && s.lag_measured.load(Ordering::Acquire),
    }
  }

  /// Stops the thread: a batch in flight is abandoned (sent again at the next start).
  /// Waits at most `timeoutMs` (default 5000) for the thread; true if it ended.
  #[napi]
  pub fn close(&self, timeout_ms: Option<u32>) -> bool {
    self.control.stop();
    let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms.unwrap_or(5000)));
    while !self.control.done.load(Ordering::Acquire) && Instant::now() < deadline {
      std::thread::sleep(Duration::from_millis(5));
    }
    let ended = self.control.done.load(Ordering::Acquire);
    if ended {
      if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = t.join();
      }
    }
    ended
  }
}

impl Drop for LogShipper {
  fn drop(&mut self) {
    self.control.stop();
  }
}

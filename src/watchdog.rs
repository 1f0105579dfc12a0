//! The event-loop watchdog. JS calls `beat()` from a timer; a Rust thread notices when the
//! beats stop (the event loop is blocked by synchronous work) and writes a line to the log
//! itself, through the log sink's queue, while JS is still blocked. When beats resume, the
//! next `beat()` writes how long the loop was blocked. Optionally, a loop blocked for too
//! long ends the process (abort) so that its supervisor restarts it.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::log::notice::{NoticeFormat, ERROR, FATAL, WARN};
use crate::log::queue::Queue;
use crate::log::sink::LogSink;

#[napi(object)]
pub struct WatchdogOptions {
  /// A loop without a beat for longer than this is reported as blocked.
  pub blocked_ms: u32,
  /// A loop blocked for longer than this ends the process with abort(). Off when absent.
  pub abort_after_ms: Option<u32>,
}

struct State {
  last_beat: Instant,
  /// Set while a blocked loop has been reported and not yet recovered.
  blocked_since: Option<Instant>,
  stopped: bool,
}

struct Shared {
  state: Mutex<State>,
  wake: Condvar,
  queue: Arc<Queue>,
  notices: NoticeFormat,
  blocked: Duration,
  abort_after: Option<Duration>,
}

impl Shared {
  fn lock(&self) -> MutexGuard<'_, State> {
    self.state.lock().unwrap_or_else(|e| e.into_inner())
  }

  fn write(&self, level: u32, msg: &str, fields: &[(&str, serde_json::Value)]) {
    let fields = fields
      .iter()
      .map(|(k, v)| (k.to_string(), v.clone()))
      .collect();
    // Never waits: the watchdog must not stall behind a full queue.
    self.queue.try_push(self.notices.line(level, msg, &fields));
  }

  fn run(&self) {
    let check = (self.blocked / 4).clamp(Duration::from_millis(10), Duration::from_millis(250));
    let mut state = self.lock();
    while !state.stopped {
      state = self
        .wake
        .wait_timeout(state, check)
        .unwrap_or_else(|e| e.into_inner())
        .0;
      if state.stopped {
        break;
      }
      let silent = state.last_beat.elapsed();
      if silent > self.blocked && state.blocked_since.is_none() {
        state.blocked_since = Some(state.last_beat);
        // What JS logged before the block comes before the line that reports it (if the
        // queue has room: this thread never waits here).
        crate::log::emergency::hand_over_all(Duration::ZERO);
        self.write(
          ERROR,
          &format!(
            "event loop blocked for {} ms (no heartbeat for longer than {} ms)",
            silent.as_millis(),
            self.blocked.as_millis()
          ),
          &[("blockedMs", (silent.as_millis() as u64).into())],
        );
      }
      if let Some(limit) = self.abort_after {
        if silent > limit {
          // The lines the blocked JS thread logged before the block explain it: they go
          // first (they wait in memory for a hand-over that needs an event-loop turn).
          crate::log::emergency::hand_over_all(Duration::from_secs(2));
          crate::log::emergency::abort_explained();
          self.write(
            FATAL,
            &format!(
              "event loop blocked for {} ms: aborting the process so that its supervisor restarts it",
              silent.as_millis()
            ),
            &[("blockedMs", (silent.as_millis() as u64).into())],
          );
          let target = self.queue.flush_target();
          drop(state);
          self
            .queue
            .wait_written(target, Some(Duration::from_secs(2)));
          // The SIGABRT handler (log/emergency.rs) hands over and writes what JS logged
          // since, then lets the process end by SIGABRT.
          std::process::abort();
        }
      }
    }
  }
}

#[napi]
pub struct Watchdog {
  shared: Arc<Shared>,
  thread: Mutex<Option<JoinHandle<()>>>,
}

impl Watchdog {
  fn stop_and_join(shared: &Shared, thread: &Mutex<Option<JoinHandle<()>>>) {
    shared.lock().stopped = true;
    shared.wake.notify_all();
    if let Some(handle) = thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
      let _ = handle.join();
    }
  }
}

#[napi]
impl Watchdog {
  /// Starts the watchdog thread; its lines go to `sink`'s destination.
  #[napi(constructor)]
  pub fn new(env: Env, sink: &LogSink, options: WatchdogOptions) -> Result<Self> {
    if options.blocked_ms == 0 {
      return Err(Error::new(
        Status::InvalidArg,
        "Watchdog: blockedMs must be positive",
      ));
    }
    let (queue, notices) = sink.line_writer();
    let shared = Arc::new(Shared {
      state: Mutex::new(State {
        last_beat: Instant::now(),
        blocked_since: None,
        stopped: false,
      }),
      wake: Condvar::new(),
      queue,
      notices,
      blocked: Duration::from_millis(options.blocked_ms as u64),
      abort_after: options
        .abort_after_ms
        .map(|ms| Duration::from_millis(ms as u64)),
    });
    let runner = shared.clone();
    let handle = std::thread::Builder::new()
      .name("prodkit-watchdog".into())
      .spawn(move || runner.run())
      .map_err(|e| Error::from_reason(format!("prodkit: cannot start the watchdog thread: {e}")))?;
    let watchdog = Watchdog {
      shared: shared.clone(),
      thread: Mutex::new(Some(handle)),
    };
    // At environment teardown, only signal: the thread ends at its next check.
    env.add_env_cleanup_hook(shared, |shared| {
      shared.lock().stopped = true;
      shared.wake.notify_all();
    })?;
    Ok(watchdog)
  }

  /// The event loop is alive. After a reported block, writes how long it lasted.
  #[napi]
  pub fn beat(&self) {
    let mut state = self.shared.lock();
    let now = Instant::now();
    if let Some(since) = state.blocked_since.take() {
      let blocked = now.duration_since(since);
      self.shared.write(
        WARN,
        &format!("event loop unblocked after {} ms", blocked.as_millis()),
        &[("blockedMs", (blocked.as_millis() as u64).into())],
      );
    }
    state.last_beat = now;
  }

  /// Stops the watchdog thread.
  #[napi]
  pub fn stop(&self) {
    Watchdog::stop_and_join(&self.shared, &self.thread);
  }
}

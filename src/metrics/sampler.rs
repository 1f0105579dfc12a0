//! The napi class over the sampler thread. JS asks for the latest rendering (a string
//! made on the sampler thread) only when it needs it, and checks `seq()` first so that an
//! unchanged sample is never copied again.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::render;
use super::sample::Sampler;

#[derive(Default)]
struct Latest {
  seq: u32,
  prometheus: String,
  json: String,
  rss: f64,
  cpu_ratio: f64,
  stopped: bool,
}

struct Shared {
  latest: Mutex<Latest>,
  wake: Condvar,
}

impl Shared {
  fn lock(&self) -> MutexGuard<'_, Latest> {
    self.latest.lock().unwrap_or_else(|e| e.into_inner())
  }
}

/// A few numbers of the latest sample, for JS's threshold checks.
#[napi(object)]
pub struct SampleSummary {
  /// Increases with every sample (0 before the first).
  pub seq: u32,
  pub resident_memory_bytes: f64,
  /// Process CPU over the last interval; 1 is one core.
  pub cpu_ratio: f64,
}

#[napi]
pub struct MetricsSampler {
  shared: Arc<Shared>,
  thread: Mutex<Option<JoinHandle<()>>>,
}

fn run(shared: Arc<Shared>, interval: Duration) {
  let mut sampler = Sampler::new();
  // A short first wait: CPU usage needs two readings some time apart.
  let mut wait = Duration::from_millis(200).min(interval);
  loop {
    {
      let guard = shared.lock();
      let (guard, _) = shared
        .wake
        .wait_timeout_while(guard, wait, |l| !l.stopped)
        .unwrap_or_else(|e| e.into_inner());
      if guard.stopped {
        return;
      }
    }
    let sample = sampler.take();
    let prometheus = render::prometheus(&sample);
    let json = render::json(&sample);
    let mut latest = shared.lock();
    latest.seq = latest.seq.wrapping_add(1).max(1);
    latest.prometheus = prometheus;
    latest.json = json;
    latest.rss = sample.process.resident_memory_bytes as f64;
    latest.cpu_ratio = sample.process.cpu_ratio;
    drop(latest);
    wait = interval;
  }
}

#[napi]
impl MetricsSampler {
  /// Starts the sampler thread: a first sample after at most 200 ms, then one per interval.
  #[napi(constructor)]
  pub fn new(env: Env, interval_ms: u32) -> Result<Self> {
    if interval_ms < 100 {
      return Err(Error::new(
        Status::InvalidArg,
        "MetricsSampler: intervalMs must be at least 100",
      ));
    }
    let shared = Arc::new(Shared {
      latest: Mutex::new(Latest::default()),
      wake: Condvar::new(),
    });
    let runner = shared.clone();
    let interval = Duration::from_millis(interval_ms as u64);
    let handle = std::thread::Builder::new()
      .name("prodkit-metrics".into())
      .spawn(move || run(runner, interval))
      .map_err(|e| Error::from_reason(format!("prodkit: cannot start the metrics thread: {e}")))?;
    env.add_env_cleanup_hook(shared.clone(), |shared| {
      shared.lock().stopped = true;
      shared.wake.notify_all();
    })?;
    Ok(MetricsSampler {
      shared,
      thread: Mutex::new(Some(handle)),
    })
  }

  /// The number of the latest sample (0 before the first).
  #[napi]
  pub fn seq(&self) -> u32 {
    self.shared.lock().seq
  }

  #[napi]
  pub fn summary(&self) -> SampleSummary {
    let latest = self.shared.lock();
    SampleSummary {
      seq: latest.seq,
      resident_memory_bytes: latest.rss,
      cpu_ratio: latest.cpu_ratio,
    }
  }

  /// The latest sample as Prometheus text ('' before the first).
  #[napi]
  pub fn prometheus(&self) -> String {
    self.shared.lock().prometheus.clone()
  }

  /// The latest sample as JSON ('' before the first).
  #[napi]
  pub fn json(&self) -> String {
    self.shared.lock().json.clone()
  }

  /// Stops the thread and waits for it.
  #[napi]
  pub fn stop(&self) {
    self.shared.lock().stopped = true;
    self.shared.wake.notify_all();
    if let Some(handle) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
      let _ = handle.join();
    }
  }
}

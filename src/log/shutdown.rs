//! What the log's waits need to know about the process shutting down, process-wide:
//!
//! - termination signals (SIGTERM, SIGINT) counted by a signal handler that runs *before*
//!   libuv's. Node only runs a JS signal listener when the event loop turns, and a JS
//!   thread blocked in a log call (the `block` policy with a stalled reader) never lets it
//!   turn: without this count, SIGTERM would be ignored for as long as the reader stalls.
//!   From the first signal on, a full queue waits only while the writer makes progress,
//!   then drops and counts (so the JS listener runs and the shutdown starts); after a
//!   second signal, no flush or close waits on a writer that makes no progress.
//! - the shutdown deadline (`exceptions.shutdownTimeoutMs` from its start): past it, a
//!   flush or close waits only while the writer makes progress, and at most a second more.
//!   What the destination has not taken then is counted on stderr (see `queue.rs`).

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static SIGNALS: AtomicU32 = AtomicU32::new(0);
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Milliseconds after `epoch()` plus one; 0 when no shutdown deadline is set.
static DEADLINE_MS: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
  static EPOCH: OnceLock<Instant> = OnceLock::new();
  *EPOCH.get_or_init(Instant::now)
}

/// Termination signals received since the handler was installed (or `reset`).
pub fn signals() -> u32 {
  SIGNALS.load(Ordering::Acquire)
}

/// The last termination signal received, 0 if none.
pub fn last_signal() -> i32 {
  LAST_SIGNAL.load(Ordering::Acquire)
}

/// Counts a termination signal (what the signal handler does; tests call it directly).
pub fn note_signal(signal: i32) {
  LAST_SIGNAL.store(signal, Ordering::Release);
  SIGNALS.fetch_add(1, Ordering::AcqRel);
}

/// A full queue must not block any more: a termination signal arrived.
pub fn terminating() -> bool {
  signals() >= 1
}

/// Every wait ends now: a second termination signal arrived.
pub fn exit_now() -> bool {
  signals() >= 2
}

/// Sets the shutdown deadline `ms` from now (none: clears it).
pub fn set_deadline(ms: Option<u64>) {
  let value = match ms {
    None => 0,
    Some(ms) => epoch().elapsed().as_millis() as u64 + ms + 1,
  };
  DEADLINE_MS.store(value, Ordering::Release);
}

/// The shutdown deadline, if one is set.
pub fn deadline() -> Option<Instant> {
  match DEADLINE_MS.load(Ordering::Acquire) {
    0 => None,
    ms => Some(epoch() + Duration::from_millis(ms - 1)),
  }
}

/// The earlier of a wait's own deadline and the shutdown deadline.
pub fn bounded(own: Option<Instant>) -> Option<Instant> {
  match (own, deadline()) {
    (Some(a), Some(b)) => Some(a.min(b)),
    (a, b) => a.or(b),
  }
}

/// Forgets signals and deadline (the app removed prodkit's signal handling).
pub fn reset() {
  SIGNALS.store(0, Ordering::Release);
  LAST_SIGNAL.store(0, Ordering::Release);
  DEADLINE_MS.store(0, Ordering::Release);
}

#[cfg(unix)]
mod handler {
  use std::sync::Mutex;

  const MAX_SIGNAL: usize = 65;

  /// The handler each signal had before ours (libuv's), called after counting.
  static mut PREVIOUS: [Option<libc::sigaction>; MAX_SIGNAL] = [None; MAX_SIGNAL];
  static INSTALLED: Mutex<[bool; MAX_SIGNAL]> = Mutex::new([false; MAX_SIGNAL]);

  extern "C" fn on_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
  ) {
    // Async-signal-safe: two atomic stores, then the previous handler.
    super::note_signal(signal);
    let index = signal as usize;
    if index >= MAX_SIGNAL {
      return;
    }
    // SAFETY: PREVIOUS[index] is written only while our handler is not installed for
    // this signal (before sigaction installs it, after sigaction removes it).
    let previous = unsafe { (*std::ptr::addr_of!(PREVIOUS))[index] };
    let Some(previous) = previous else { return };
    let action = previous.sa_sigaction;
    if action == libc::SIG_DFL || action == libc::SIG_IGN {
      return;
    }
    // SAFETY: the previous handler was installed for this signal with these flags.
    unsafe {
      if previous.sa_flags & libc::SA_SIGINFO != 0 {
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
          std::mem::transmute(action);
        f(signal, info, context);
      } else {
        let f: extern "C" fn(libc::c_int) = std::mem::transmute(action);
        f(signal);
      }
    }
  }

  /// Puts our handler in front of the current one (installed by Node/libuv when a JS
  /// listener was added). Idempotent per signal.
  pub fn install(signal: i32) -> std::io::Result<()> {
    let index = signal as usize;
    if signal <= 0 || index >= MAX_SIGNAL {
      return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if installed[index] {
      return Ok(());
    }
    // SAFETY: plain sigaction calls with valid pointers; PREVIOUS[index] is written while
    // our handler is not installed for the signal.
    unsafe {
      let mut previous: libc::sigaction = std::mem::zeroed();
      if libc::sigaction(signal, std::ptr::null(), &mut previous) != 0 {
        return Err(std::io::Error::last_os_error());
      }
      // No JS listener (default action or ignored): counting the signal would swallow it.
      if previous.sa_sigaction == libc::SIG_DFL || previous.sa_sigaction == libc::SIG_IGN {
        return Ok(());
      }
      (*std::ptr::addr_of_mut!(PREVIOUS))[index] = Some(previous);
      let mut ours: libc::sigaction = std::mem::zeroed();
      ours.sa_sigaction = on_signal as *const () as usize;
      ours.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
      libc::sigfillset(&mut ours.sa_mask);
      if libc::sigaction(signal, &ours, std::ptr::null_mut()) != 0 {
        return Err(std::io::Error::last_os_error());
      }
    }
    installed[index] = true;
    Ok(())
  }

  /// Gives the signal back to the handler it had before `install`.
  pub fn uninstall(signal: i32) {
    let index = signal as usize;
    if signal <= 0 || index >= MAX_SIGNAL {
      return;
    }
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if !installed[index] {
      return;
    }
    // SAFETY: as in install.
    unsafe {
      if let Some(previous) = (*std::ptr::addr_of!(PREVIOUS))[index] {
        libc::sigaction(signal, &previous, std::ptr::null_mut());
      }
    }
    installed[index] = false;
  }
}

#[cfg(unix)]
pub use handler::{install as install_handler, uninstall as uninstall_handler};

/// Windows has no POSIX signal handler to chain in front of libuv's (Ctrl+C reaches Node
/// through libuv's console handler): nothing is installed, and a log call blocked on a
/// stalled destination holds a Ctrl+C back until it returns (docs/platforms.md).
#[cfg(not(unix))]
pub fn install_handler(_signal: i32) -> std::io::Result<()> {
  Ok(())
}

#[cfg(not(unix))]
pub fn uninstall_handler(_signal: i32) {}

#[cfg(not(test))]
mod napi_exports {
  use napi::bindgen_prelude::*;
  use napi_derive::napi;

  /// Counts SIGTERM/SIGINT natively, before Node's own handler, so a JS thread blocked in
  /// a log call is let go (see `src/log/shutdown.rs`). Call after adding the JS listeners.
  #[napi]
  pub fn watch_termination_signals(signals: Vec<i32>) -> Result<()> {
    for signal in signals {
      super::install_handler(signal)
        .map_err(|e| Error::from_reason(format!("prodkit: cannot watch signal {signal}: {e}")))?;
    }
    Ok(())
  }

  /// Undoes `watchTerminationSignals` (call before removing the JS listeners) and forgets
  /// the signals counted and the deadline.
  #[napi]
  pub fn unwatch_termination_signals(signals: Vec<i32>) {
    for signal in signals {
      super::uninstall_handler(signal);
    }
    super::reset();
  }

  /// Termination signals counted so far and the last one.
  #[napi(object)]
  pub struct TerminationSignals {
    pub count: u32,
    pub last: i32,
  }

  #[napi]
  pub fn termination_signals() -> TerminationSignals {
    TerminationSignals {
      count: super::signals(),
      last: super::last_signal(),
    }
  }

  /// From now on, no log flush or close waits more than `ms` from now.
  #[napi]
  pub fn set_shutdown_deadline(ms: u32) {
    super::set_deadline(Some(ms as u64));
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_shutdown_deadline_bounds_a_wait() {
    set_deadline(None);
    assert_eq!(bounded(None), None);
    let own = Instant::now() + Duration::from_secs(7200);
    assert_eq!(bounded(Some(own)), Some(own));
    // Far enough that the queue tests running alongside never see it pass.
    set_deadline(Some(3_600_000));
    let d = bounded(Some(own)).unwrap();
    assert!(d < own);
    set_deadline(None);
  }
}

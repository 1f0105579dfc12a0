//! CPU time used by the process and by the calling thread.
//!
//! - Linux (glibc, musl), macOS: the process's from `getrusage(RUSAGE_SELF)`; the
//!   thread's from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` (ns resolution; macOS has it
//!   since 10.12, older than any macOS Node 20 runs on).
//! - Windows: `GetProcessTimes` and `GetThreadTimes` (100 ns units, but advanced by the
//!   scheduler tick, ~15.6 ms, so short spans read as 0 or one tick).
//! - Elsewhere, or when the call fails: `None`, and the figure is not reported.

use std::time::Duration;

/// User and system CPU time of the whole process, in seconds.
pub fn process_times() -> Option<(f64, f64)> {
  imp::process_times()
}

/// CPU time (user + system) of the calling thread.
pub fn thread_time() -> Option<Duration> {
  imp::thread_time()
}

#[cfg(unix)]
mod imp {
  use std::time::Duration;

  pub fn process_times() -> Option<(f64, f64)> {
    // SAFETY: getrusage fills the struct it is given; zeroed is a valid initial value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
      return None;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some((secs(usage.ru_utime), secs(usage.ru_stime)))
  }

  pub fn thread_time() -> Option<Duration> {
    // SAFETY: a zeroed timespec is valid; clock_gettime writes the one we own.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
      return None;
    }
    Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
  }
}

#[cfg(windows)]
mod imp {
  use std::time::Duration;
  use windows_sys::Win32::Foundation::{FILETIME, HANDLE};
  use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetCurrentThread, GetProcessTimes, GetThreadTimes,
  };

  type TimesFn = unsafe extern "system" fn(
    HANDLE,
    *mut FILETIME,
    *mut FILETIME,
    *mut FILETIME,
    *mut FILETIME,
  ) -> windows_sys::core::BOOL;

  /// (kernel, user) in 100 ns units.
  fn times(get: TimesFn, handle: HANDLE) -> Option<(u64, u64)> {
    let zero = FILETIME {
      dwLowDateTime: 0,
      dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    // SAFETY: four FILETIMEs we own; the pseudo-handles of the current process and
    // thread are always valid.
    let ok = unsafe { get(handle, &mut created, &mut exited, &mut kernel, &mut user) };
    let ticks = |t: FILETIME| (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
    (ok != 0).then(|| (ticks(kernel), ticks(user)))
  }

  pub fn process_times() -> Option<(f64, f64)> {
    // SAFETY: returns a pseudo-handle; nothing to close.
    let (kernel, user) = times(GetProcessTimes, unsafe { GetCurrentProcess() })?;
    Some((user as f64 / 1e7, kernel as f64 / 1e7))
  }

  pub fn thread_time() -> Option<Duration> {
    // SAFETY: returns a pseudo-handle; nothing to close.
    let (kernel, user) = times(GetThreadTimes, unsafe { GetCurrentThread() })?;
    Some(Duration::from_nanos((kernel + user) * 100))
  }
}

#[cfg(not(any(unix, windows)))]
mod imp {
  use std::time::Duration;

  pub fn process_times() -> Option<(f64, f64)> {
    None
  }

  pub fn thread_time() -> Option<Duration> {
    None
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_busy_thread_sees_its_cpu_time_grow() {
    let before = thread_time().unwrap();
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed() < Duration::from_millis(30) {
      x = x.wrapping_mul(31).wrapping_add(7);
    }
    std::hint::black_box(x);
    assert!(thread_time().unwrap() > before);
    let (user, system) = process_times().unwrap();
    assert!(user + system > 0.0);
  }
}

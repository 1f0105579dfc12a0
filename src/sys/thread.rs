//! Priority of background threads (the compressor): they should take the CPU and disk
//! time the app leaves idle rather than compete with the JS and writer threads. Work is
//! delayed, never skipped: every one of these still gets a share of a busy machine.
//!
//! - Linux (glibc, musl): nice 19 and SCHED_IDLE for the calling thread (measured: at
//!   nice 10 alone, a logging loop on two cores ran ~8% slower while files were
//!   compressed; under SCHED_IDLE, no slower). The I/O scheduler puts SCHED_IDLE threads
//!   in its idle class too.
//! - macOS: `setpriority(PRIO_DARWIN_THREAD, 0, PRIO_DARWIN_BG)`, the background band:
//!   low CPU priority and throttled disk I/O.
//! - Windows: `SetThreadPriority(THREAD_MODE_BACKGROUND_BEGIN)`: low CPU, I/O and memory
//!   priority for the calling thread.
//! - Elsewhere: nothing (the default priority is still correct, only less polite).
//!
//! Failures are ignored for the same reason.

/// Lowers the calling thread's CPU (and, where the OS ties them, I/O) priority.
pub fn lower_priority() {
  #[cfg(target_os = "linux")]
  // SAFETY: with a thread id, both calls change that thread only; a zeroed sched_param
  // is valid on glibc and musl (whose struct has extra fields) and asks for priority 0,
  // the only one SCHED_IDLE accepts.
  unsafe {
    let tid = libc::syscall(libc::SYS_gettid) as libc::pid_t;
    libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
    let param: libc::sched_param = std::mem::zeroed();
    libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param);
  }
  #[cfg(target_vendor = "apple")]
  // SAFETY: PRIO_DARWIN_THREAD with who = 0 is the calling thread; no memory effects.
  unsafe {
    libc::setpriority(libc::PRIO_DARWIN_THREAD, 0, libc::PRIO_DARWIN_BG);
  }
  #[cfg(windows)]
  // SAFETY: the pseudo-handle of the calling thread is always valid.
  unsafe {
    use windows_sys::Win32::System::Threading::{
      GetCurrentThread, SetThreadPriority, THREAD_MODE_BACKGROUND_BEGIN,
    };
    SetThreadPriority(GetCurrentThread(), THREAD_MODE_BACKGROUND_BEGIN);
  }
}

/// An id of the calling thread that `normal_priority` accepts from another thread:
/// the kernel thread id on Linux; 0 ("unknown") elsewhere.
pub fn current_id() -> i64 {
  #[cfg(target_os = "linux")]
  // SAFETY: gettid has no preconditions.
  return unsafe { libc::syscall(libc::SYS_gettid) } as i64;
  #[cfg(not(target_os = "linux"))]
  0
}

/// Gives thread `tid` (from `current_id`) the normal policy and priority back, from
/// another thread, so that it finishes its step quickly (at close). Linux only:
/// SCHED_OTHER at nice 0. Elsewhere, and for tid 0, nothing: macOS and Windows change a
/// thread's background mode only from the thread itself, so the step finishes at
/// background priority (the caller's wait is bounded anyway).
pub fn normal_priority(tid: i64) {
  #[cfg(target_os = "linux")]
  if tid > 0 {
    // SAFETY: changes the scheduling of one thread of this process; a failure leaves it.
    // A zeroed sched_param is valid on glibc and musl.
    unsafe {
      let param: libc::sched_param = std::mem::zeroed();
      libc::sched_setscheduler(tid as libc::pid_t, libc::SCHED_OTHER, &param);
      libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 0);
    }
  }
  let _ = tid;
}

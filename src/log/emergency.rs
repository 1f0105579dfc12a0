//! The exits that give JS no further turn: lines logged but not yet handed over still
//! reach the destination.
//!
//! Every sink registers its route (its pending lines, queue and line format) here.
//!
//! - **SIGABRT** (`process.abort()`, V8 out of memory, which Node ends with abort(), the
//!   watchdog's abort): a handler, chained to the one it replaced, wakes the
//!   `prodkit-emergency` thread through a pipe (the only thing it does that is not plain
//!   waiting: async-signal-safe) and waits for it, at most `ABORT_WAIT`. That thread, an
//!   ordinary thread free to lock and allocate, hands every sink's committed lines to its
//!   queue, adds a fatal line that says the process is aborting with the last V8 heap
//!   figures JS published (and the process RSS), and waits for the writers. Meanwhile
//!   the handler reads its own thread's stack for Node's out-of-memory handler
//!   (`sys::stack`): found there, the line says "JavaScript heap out of memory" for sure.
//!   That read is not async-signal-safe, so it is bounded from outside: the emergency
//!   thread waits for it at most `WALK_WAIT` before it writes the line without it, and
//!   if it never ends, that thread ends the process by SIGABRT itself. The handler
//!   then restores the previous disposition and raises SIGABRT again, so the process
//!   still ends by SIGABRT (core dump and exit status as before). If the aborting thread
//!   holds a lock the emergency thread needs (malloc's, after heap corruption), the wait
//!   ends at its bound and the lines are lost, never the abort.
//! - **exit()** (`process.exit()` after the 'exit' listeners, including the app's own,
//!   registered after prodkit's): an `atexit` handler hands the committed lines over and
//!   waits for the writers, at most `EXIT_WAIT`. (Node does not run env cleanup hooks on
//!   `process.exit()` in the main thread.)
//! - **Environment teardown** (`worker.terminate()`, a worker's end, the main thread's
//!   natural end): the sink's env cleanup hook hands the lines over before it closes the
//!   queue (`sink.rs`).
//! - **SIGKILL**: nothing runs. What is lost is what had not been written yet: the lines
//!   still in the JS buffer (at most one batch, `pending::DATA_BYTES`) and the queue.
//!   `docs/crash-safety.md` has the figures.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};
use std::time::{Duration, Instant};

use super::notice::{NoticeFormat, FATAL};
use super::pending::Pending;
use super::queue::Queue;

/// How long the SIGABRT handler waits for the lines to be written.
pub const ABORT_WAIT: Duration = Duration::from_secs(5);
/// How long `exit()` waits for them.
pub const EXIT_WAIT: Duration = Duration::from_secs(5);
/// How long the emergency thread waits for the handler's read of its stack.
#[cfg_attr(not(unix), allow(dead_code))]
const WALK_WAIT: Duration = Duration::from_secs(1);
/// At the last sample, a V8 heap this full (of its limit) makes an abort "most likely out
/// of memory": Node aborts on V8's out-of-memory error, and the figure is all the native
/// side can know (V8's own message is not reachable through N-API).
const NEAR_LIMIT: f64 = 0.8;

/// What the emergency paths need of one sink.
pub struct Route {
  pub pending: Arc<Pending>,
  pub queue: Arc<Queue>,
  pub notices: NoticeFormat,
}

static ROUTES: Mutex<Vec<Weak<Route>>> = Mutex::new(Vec::new());
/// Set by a caller that has already written why the process aborts (the watchdog), so the
/// SIGABRT path adds no second fatal line.
static ABORT_EXPLAINED: AtomicBool = AtomicBool::new(false);

/// Registers a sink's route (held weakly: a closed, dropped sink leaves by itself) and
/// installs the process-wide handlers on first use.
pub fn register(route: &Arc<Route>) {
  install();
  let mut routes = ROUTES.lock().unwrap_or_else(|e| e.into_inner());
  routes.retain(|r| r.strong_count() > 0);
  routes.push(Arc::downgrade(route));
}

fn routes() -> Vec<Arc<Route>> {
  let routes = ROUTES.lock().unwrap_or_else(|e| e.into_inner());
  routes.iter().filter_map(Weak::upgrade).collect()
}

/// Hands every open sink's committed lines to its queue, waiting for room at most `wait`
/// in all; returns, per queue, the flush target that covers them.
pub fn hand_over_all(wait: Duration) -> Vec<(Arc<Queue>, u64)> {
  let deadline = Instant::now() + wait;
  routes()
    .into_iter()
    .filter(|r| !r.queue.is_closed())
    .map(|r| {
      let left = deadline.saturating_duration_since(Instant::now());
      r.pending.take_within(&r.queue, left);
      (r.queue.clone(), r.queue.flush_target())
    })
    .collect()
}

/// Waits until the targets are written, all within `wait`.
#[cfg_attr(windows, allow(dead_code))]
fn wait_all(targets: &[(Arc<Queue>, u64)], wait: Duration) {
  let deadline = Instant::now() + wait;
  for (queue, target) in targets {
    let left = deadline.saturating_duration_since(Instant::now());
    queue.wait_written(*target, Some(left));
  }
}

/// The watchdog writes its own fatal line before it aborts.
pub fn abort_explained() {
  ABORT_EXPLAINED.store(true, Ordering::SeqCst);
}

/// The process RSS in bytes, where the platform tells it cheaply.
fn rss_bytes() -> Option<u64> {
  #[cfg(target_os = "linux")]
  {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * page.max(1) as u64)
  }
  #[cfg(not(target_os = "linux"))]
  None
}

/// The fatal line the SIGABRT path adds to one sink's log. What it knows: whether Node's
/// out-of-memory handler is on the aborting thread's stack (`in_oom_handler`: `None`
/// where that cannot be read), the V8 heap figures of JS's last sample (at most a few ms
/// old while the app logs and turns its event loop; older if it stopped doing either) and
/// the RSS now. The stack decides where it was read; without it, "out of memory" is an
/// inference from the figures (V8's own message is not reachable through N-API).
pub fn abort_line(
  notices: &NoticeFormat,
  pending: &Pending,
  in_oom_handler: Option<bool>,
) -> Vec<u8> {
  let heap = pending.heap();
  let rss = rss_bytes();
  let mut fields = serde_json::Map::new();
  fields.insert("signal".into(), "SIGABRT".into());
  let known = heap.limit > 0.0;
  if known {
    fields.insert("heapUsedBytes".into(), (heap.used as u64).into());
    fields.insert("heapLimitBytes".into(), (heap.limit as u64).into());
    if let Some(age) = heap.age_ms {
      fields.insert("heapSampledMsAgo".into(), age.into());
    }
  }
  if let Some(rss) = rss {
    fields.insert("rssBytes".into(), rss.into());
  }
  let mib = |bytes: f64| (bytes / (1024.0 * 1024.0)).round();
  if in_oom_handler == Some(true) {
    fields.insert("outOfMemory".into(), true.into());
    fields.insert("outOfMemoryLikely".into(), true.into());
    let msg = "process aborting (SIGABRT): JavaScript heap out of memory (Node's out-of-memory handler called abort())";
    return notices.line(FATAL, msg, &fields);
  }
  let reason = if in_oom_handler == Some(false) {
    // The stack was read and Node's out-of-memory handler is not on it.
    None
  } else if known && heap.used >= heap.limit * NEAR_LIMIT {
    Some(format!(
      "the V8 heap was at {:.0}% of its limit at the last sample",
      heap.used / heap.limit * 100.0
    ))
  } else {
    match rss {
      // The process holds more than the heap may: the heap has most likely grown to it.
      Some(rss) if known && rss as f64 >= heap.limit => Some(format!(
        "the process RSS ({} MiB) exceeds the V8 heap limit ({} MiB)",
        mib(rss as f64),
        mib(heap.limit)
      )),
      _ => None,
    }
  };
  fields.insert("outOfMemoryLikely".into(), reason.is_some().into());
  let msg = match reason {
    Some(reason) => {
      format!("process aborting (SIGABRT): {reason}, most likely JavaScript heap out of memory")
    }
    None => "process aborting (SIGABRT)".to_string(),
  };
  notices.line(FATAL, &msg, &fields)
}

/// The emergency thread's work when SIGABRT arrives.
#[cfg_attr(not(unix), allow(dead_code))]
fn on_abort() {
  let targets = hand_over_all(ABORT_WAIT / 2);
  if !ABORT_EXPLAINED.load(Ordering::SeqCst) {
    #[cfg(unix)]
    let in_oom_handler = signal::stack_read(WALK_WAIT);
    #[cfg(not(unix))]
    let in_oom_handler = None;
    for route in routes().iter().filter(|r| !r.queue.is_closed()) {
      route
        .queue
        .try_push(abort_line(&route.notices, &route.pending, in_oom_handler));
    }
  }
  let targets: Vec<_> = targets
    .into_iter()
    .map(|(queue, _)| {
      let target = queue.flush_target();
      (queue, target)
    })
    .collect();
  wait_all(&targets, ABORT_WAIT);
}

/// `exit()`: `process.exit()` ends the process without Node's environment cleanup, so
/// without closing the loggers. One hook, in this order: the lines JS logged after the
/// last hand-over (the app's own 'exit' listeners) go to their queues, then every queue
/// is closed, so each writer writes or gives up what is queued and counts on stderr what
/// it gave up (`writer.rs`), all within `EXIT_WAIT`.
#[cfg_attr(windows, allow(dead_code))]
extern "C" fn on_exit() {
  let deadline = Instant::now() + EXIT_WAIT;
  hand_over_all(EXIT_WAIT / 2);
  let queues: Vec<Arc<Queue>> = routes().iter().map(|r| r.queue.clone()).collect();
  for queue in &queues {
    queue.close();
  }
  for queue in &queues {
    queue.wait_stopped(Some(deadline));
  }
}

fn install() {
  static INSTALL: Once = Once::new();
  INSTALL.call_once(|| {
    // Not on Windows: an addon's atexit handlers run at DLL detach, after ExitProcess has
    // ended the writer threads, so waiting for them would only delay the exit by
    // EXIT_WAIT (docs/platforms.md: lines logged after prodkit's 'exit' listener are lost
    // on process.exit() there).
    #[cfg(not(windows))]
    // SAFETY: registering a plain function; it runs at exit() on the exiting thread.
    unsafe {
      libc::atexit(on_exit)
    };
    #[cfg(unix)]
    signal::install();
  });
}

#[cfg(unix)]
mod signal {
  use std::mem::MaybeUninit;
  use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, Ordering};
  use std::time::{Duration, Instant};

  use super::ABORT_WAIT;

  static mut PREVIOUS: MaybeUninit<libc::sigaction> = MaybeUninit::uninit();
  static WAKE: AtomicI32 = AtomicI32::new(-1);
  static ENTERED: AtomicBool = AtomicBool::new(false);
  static DONE: AtomicBool = AtomicBool::new(false);
  /// The handler's read of its stack: 0 not done (yet), 1 no out-of-memory frame, 2 one
  /// found, 3 not readable on this platform.
  static STACK: AtomicU8 = AtomicU8::new(0);

  /// What the handler's read of its stack found, waiting for it at most `wait`.
  pub(super) fn stack_read(wait: Duration) -> Option<bool> {
    let deadline = Instant::now() + wait;
    loop {
      match STACK.load(Ordering::SeqCst) {
        1 => return Some(false),
        2 => return Some(true),
        3 => return None,
        _ if Instant::now() >= deadline => return None,
        _ => std::thread::sleep(Duration::from_millis(1)),
      }
    }
  }

  /// Called by the emergency thread once its work is done: if the handler's read of its
  /// stack has not ended within `ABORT_WAIT` (stuck on a lock the aborting thread held),
  /// the handler will never raise SIGABRT again, so this thread does, with the default
  /// disposition: the process still ends by SIGABRT.
  fn end_if_handler_stuck() {
    stack_read(ABORT_WAIT);
    if STACK.load(Ordering::SeqCst) == 0 {
      // SAFETY: restoring the default disposition and raising a signal on this thread;
      // SIGABRT is not blocked here, so the default action ends the process.
      unsafe {
        libc::signal(libc::SIGABRT, libc::SIG_DFL);
        libc::raise(libc::SIGABRT);
      }
    }
  }

  pub(super) fn install() {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
      return;
    }
    for fd in fds {
      // SAFETY: fd is ours; FD_CLOEXEC keeps it out of child processes.
      unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let read_end = fds[0];
    let spawned = std::thread::Builder::new()
      .name("prodkit-emergency".into())
      .spawn(move || loop {
        let mut byte = 0u8;
        // SAFETY: reading one byte into a local.
        let n = unsafe { libc::read(read_end, &mut byte as *mut u8 as *mut libc::c_void, 1) };
        if n == 1 {
          // Contain a panic: the handler waits for DONE either way.
          let _ = std::panic::catch_unwind(super::on_abort);
          DONE.store(true, Ordering::SeqCst);
          end_if_handler_stuck();
        } else if n == 0 {
          return;
        }
      });
    if spawned.is_err() {
      return;
    }
    crate::sys::stack::prepare();
    WAKE.store(fds[1], Ordering::SeqCst);
    // SAFETY: a zeroed sigaction is valid; the handler has the SA_SIGINFO signature;
    // PREVIOUS is written once, here, before the handler can run.
    unsafe {
      let mut action: libc::sigaction = std::mem::zeroed();
      action.sa_sigaction = handler as *const () as usize;
      action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
      libc::sigemptyset(&mut action.sa_mask);
      libc::sigaction(
        libc::SIGABRT,
        &action,
        std::ptr::addr_of_mut!(PREVIOUS) as *mut libc::sigaction,
      );
    }
  }

  /// Async-signal-safe: atomics, write(2), nanosleep(2), sigaction(2), raise(3); except
  /// the read of the stack (`sys::stack`), bounded by `end_if_handler_stuck`.
  extern "C" fn handler(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: errno is saved and restored around the calls below.
    let errno = unsafe { *errno_location() };
    if !ENTERED.swap(true, Ordering::SeqCst) {
      let fd = WAKE.load(Ordering::SeqCst);
      let byte = 1u8;
      // SAFETY: writing one byte to our pipe.
      if fd >= 0 && unsafe { libc::write(fd, &byte as *const u8 as *const libc::c_void, 1) } == 1 {
        let found = match crate::sys::stack::in_out_of_memory_handler() {
          Some(false) => 1,
          Some(true) => 2,
          None => 3,
        };
        STACK.store(found, Ordering::SeqCst);
        let step = libc::timespec {
          tv_sec: 0,
          tv_nsec: 1_000_000,
        };
        let mut waited = 0;
        while !DONE.load(Ordering::SeqCst) && waited < ABORT_WAIT.as_millis() {
          // SAFETY: sleeping; an interruption only shortens one step.
          unsafe { libc::nanosleep(&step, std::ptr::null_mut()) };
          waited += 1;
        }
      }
    }
    // SAFETY: PREVIOUS was filled by sigaction before this handler was installed. SIGABRT
    // is blocked while the handler runs: the raised one arrives as it returns, with the
    // previous disposition (default: the process ends by SIGABRT, as abort() would).
    unsafe {
      libc::sigaction(
        libc::SIGABRT,
        std::ptr::addr_of!(PREVIOUS) as *const libc::sigaction,
        std::ptr::null_mut(),
      );
      libc::raise(libc::SIGABRT);
      *errno_location() = errno;
    }
  }

  #[cfg(target_os = "linux")]
  unsafe fn errno_location() -> *mut libc::c_int {
    libc::__errno_location()
  }

  #[cfg(not(target_os = "linux"))]
  unsafe fn errno_location() -> *mut libc::c_int {
    libc::__error()
  }
}

#[cfg(test)]
mod tests {
  use super::super::queue::Overflow;
  use super::*;

  #[test]
  fn the_abort_line_says_what_it_knows() {
    let notices = NoticeFormat::new("\"pid\":1");
    let line = abort_line(&notices, &Pending::new(), Some(false));
    let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(v["level"], 60);
    assert_eq!(v["signal"], "SIGABRT");
    assert_eq!(v["outOfMemoryLikely"], false);
    assert_eq!(v["msg"], "process aborting (SIGABRT)");
    let line = abort_line(&notices, &Pending::new(), Some(true));
    let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(v["outOfMemory"], true);
    assert_eq!(v["outOfMemoryLikely"], true);
    assert_eq!(
      v["msg"],
      "process aborting (SIGABRT): JavaScript heap out of memory (Node's out-of-memory handler called abort())"
    );
  }

  #[test]
  fn hand_over_skips_closed_queues_and_dropped_sinks() {
    let route = Arc::new(Route {
      pending: Arc::new(Pending::new()),
      queue: Arc::new(Queue::new(1024, Overflow::Block)),
      notices: NoticeFormat::new(""),
    });
    register(&route);
    assert!(hand_over_all(Duration::ZERO)
      .iter()
      .any(|(q, _)| Arc::ptr_eq(q, &route.queue)));
    route.queue.close();
    assert!(!hand_over_all(Duration::ZERO)
      .iter()
      .any(|(q, _)| Arc::ptr_eq(q, &route.queue)));
    drop(route);
    assert!(routes().iter().all(|r| !r.queue.is_closed()));
  }
}

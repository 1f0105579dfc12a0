//! Whether the calling thread is inside Node's (or V8's) out-of-memory handler: read from
//! its own call stack, for the SIGABRT handler to tell "JavaScript heap out of memory"
//! from any other abort.
//!
//! Node ends a V8 out-of-memory error in `node::OOMErrorHandler`, which prints the error
//! and its native stack and then calls abort() on the same thread: the SIGABRT handler
//! runs below that frame. The frames are named with `dladdr`, which reads the dynamic
//! symbol table (Node's binaries export their symbols: Node's own stack dump names the
//! frame the same way, a moment before, with the same two calls).
//!
//! `backtrace` and `dladdr` are not on POSIX's list of async-signal-safe functions: the
//! first `backtrace` loads the unwinder (`prepare` does that at install, off the signal
//! path), and `dladdr` takes the loader's lock. The caller must therefore bound what a
//! stuck walk can cost (see `log::emergency`).
//!
//! - Linux (glibc), macOS: as above.
//! - Linux (musl), Windows and the rest: not known (`None`); the caller falls back on
//!   other clues.

/// The mangled-name prefixes of the frames that mean "out of memory": Node's handler
/// (Node 20 and later: `node::OOMErrorHandler(char const*, v8::OOMDetails const&)`) and
/// V8's own reporting functions, where their symbols are exported.
#[cfg_attr(
  not(any(all(target_os = "linux", target_env = "gnu"), target_os = "macos")),
  allow(dead_code)
)]
const OUT_OF_MEMORY_FRAMES: [&[u8]; 4] = [
  b"_ZN4node15OOMErrorHandler",
  b"_ZN2v88internal2V823FatalProcessOutOfMemory",
  b"_ZN2v88internal4Heap23FatalProcessOutOfMemory",
  b"_ZN2v85Utils16ReportOOMFailure",
];

/// How many frames are looked at: the handler is within the first dozen (signal frame,
/// raise, abort, Node's abort, its OOM handler).
#[cfg_attr(
  not(any(all(target_os = "linux", target_env = "gnu"), target_os = "macos")),
  allow(dead_code)
)]
const FRAMES: usize = 48;

/// Whether `symbol` (a mangled name, with or without the extra leading underscore that
/// Mach-O adds) names an out-of-memory frame.
#[cfg_attr(
  not(any(all(target_os = "linux", target_env = "gnu"), target_os = "macos")),
  allow(dead_code)
)]
fn is_out_of_memory_frame(symbol: &[u8]) -> bool {
  let symbol = symbol
    .strip_prefix(b"_")
    .filter(|s| s.starts_with(b"_Z"))
    .unwrap_or(symbol);
  OUT_OF_MEMORY_FRAMES
    .iter()
    .any(|prefix| symbol.starts_with(prefix))
}

#[cfg(any(all(target_os = "linux", target_env = "gnu"), target_os = "macos"))]
mod walk {
  use std::ffi::CStr;

  /// Loads the unwinder that `backtrace` uses, so that its first call is not made in a
  /// signal handler.
  pub fn prepare() {
    let mut frames = [std::ptr::null_mut(); 4];
    // SAFETY: frames has room for the count given.
    unsafe { libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int) };
  }

  pub fn in_out_of_memory_handler() -> Option<bool> {
    let mut frames = [std::ptr::null_mut(); super::FRAMES];
    // SAFETY: frames has room for the count given.
    let count = unsafe { libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int) };
    let count = usize::try_from(count).ok()?.min(frames.len());
    Some(frames[..count].iter().any(|&frame| {
      // SAFETY: a zeroed Dl_info is valid; dladdr only writes it.
      let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
      // A return address: the call is the byte before it. (The handler's call to abort()
      // is its last instruction, as the handler never returns: the return address itself
      // is past its end, in the next function or none.)
      let call = (frame as usize).wrapping_sub(1) as *const libc::c_void;
      // SAFETY: dladdr reads no memory at the address, only the loader's tables.
      if unsafe { libc::dladdr(call, &mut info) } == 0 || info.dli_sname.is_null() {
        return false;
      }
      // SAFETY: a non-null dli_sname is a NUL-terminated string of the loaded image.
      let name = unsafe { CStr::from_ptr(info.dli_sname) };
      super::is_out_of_memory_frame(name.to_bytes())
    }))
  }
}

#[cfg(not(any(all(target_os = "linux", target_env = "gnu"), target_os = "macos")))]
mod walk {
  pub fn prepare() {}

  pub fn in_out_of_memory_handler() -> Option<bool> {
    None
  }
}

pub use walk::{in_out_of_memory_handler, prepare};

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn names_the_out_of_memory_frames_of_node_and_v8() {
    assert!(is_out_of_memory_frame(
      b"_ZN4node15OOMErrorHandlerEPKcRKN2v810OOMDetailsE"
    ));
    assert!(is_out_of_memory_frame(
      b"__ZN4node15OOMErrorHandlerEPKcRKN2v810OOMDetailsE"
    ));
    assert!(is_out_of_memory_frame(
      b"_ZN2v88internal2V823FatalProcessOutOfMemoryEPNS0_7IsolateEPKcRKNS_10OOMDetailsE"
    ));
    assert!(!is_out_of_memory_frame(b"_ZN4node5AbortEv"));
    assert!(!is_out_of_memory_frame(b"abort"));
  }

  #[test]
  fn a_plain_stack_is_not_out_of_memory() {
    prepare();
    assert_ne!(in_out_of_memory_handler(), Some(true));
  }
}

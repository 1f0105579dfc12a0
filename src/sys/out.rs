//! One write to where log bytes go: stdout, stderr, a descriptor the app owns, or a file
//! prodkit has open. Returns how many bytes went out; the caller writes the rest.
//!
//! - Unix: one `write(2)` on the descriptor. Node makes pipes non-blocking; EAGAIN there
//!   is waited out with `poll(POLLOUT)` (at most a second at a time, then tried again)
//!   instead of failing, so lines are never dropped or torn by a slow reader. EINTR is
//!   retried. A file opened O_APPEND appends atomically per write.
//! - Windows: stdout and stderr are written through std's handles, which write UTF-16 to
//!   a console (as Node does, so non-ASCII text shows right) and bytes to a pipe or file,
//!   and wait for an overlapped pipe handle to complete. A file is written with
//!   `WriteFile` on its append-only handle. A descriptor number the app passes (`fd: 5`)
//!   means nothing to this module on Windows: it is an index into Node's own C runtime
//!   table, which an addon cannot reach (Node links the C runtime statically). 1 and 2
//!   are taken to mean stdout and stderr, as everywhere; any other number is an
//!   `ENOTSUP` error at the first write, which the writer reports like any write error.

use std::fs::File;
use std::io;

/// A descriptor number as Node names one (`process.stdout.fd`, `fs.openSync()`).
pub type Fd = i32;

/// What one write goes to.
#[cfg(unix)]
pub type Raw = std::os::unix::io::RawFd;

/// What one write goes to.
#[cfg(windows)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raw {
  Stdout,
  Stderr,
  /// An open file's HANDLE, as an integer.
  Handle(usize),
}

#[cfg(unix)]
pub const STDOUT: Raw = libc::STDOUT_FILENO;
#[cfg(unix)]
pub const STDERR: Raw = libc::STDERR_FILENO;
/// No open file: writing to it fails with EBADF.
#[cfg(unix)]
pub const CLOSED: Raw = -1;

#[cfg(windows)]
pub const STDOUT: Raw = Raw::Stdout;
#[cfg(windows)]
pub const STDERR: Raw = Raw::Stderr;
/// No open file (INVALID_HANDLE_VALUE): writing to it fails with EBADF.
#[cfg(windows)]
pub const CLOSED: Raw = Raw::Handle(usize::MAX);

/// What writing to the app's descriptor `fd` goes to.
pub fn app_fd(fd: Fd) -> io::Result<Raw> {
  #[cfg(unix)]
  {
    Ok(fd)
  }
  #[cfg(windows)]
  {
    match fd {
      1 => Ok(Raw::Stdout),
      2 => Ok(Raw::Stderr),
      _ => Err(super::error::unsupported(&format!(
        "writing to descriptor {fd} is not supported on Windows (only 1 and 2, stdout and stderr); give the log a file path instead"
      ))),
    }
  }
}

/// What writing to the open `file` goes to (valid while `file` is open).
pub fn of_file(file: &File) -> Raw {
  #[cfg(unix)]
  {
    std::os::unix::io::AsRawFd::as_raw_fd(file)
  }
  #[cfg(windows)]
  {
    Raw::Handle(std::os::windows::io::AsRawHandle::as_raw_handle(file) as usize)
  }
}

/// How long one wait for a non-blocking descriptor to become writable lasts before the
/// write is tried again.
#[cfg(unix)]
const POLL_MS: i32 = 1000;

/// One write of (a prefix of) `buf`; see the module docs.
#[cfg(unix)]
pub fn write(fd: Raw, buf: &[u8]) -> io::Result<usize> {
  loop {
    // SAFETY: buf is a valid slice for its length; fd is a descriptor number (a closed
    // one gives EBADF, never undefined behaviour).
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    if n >= 0 {
      return Ok(n as usize);
    }
    let err = io::Error::last_os_error();
    match err.kind() {
      io::ErrorKind::Interrupted => continue,
      io::ErrorKind::WouldBlock => {
        let mut pfd = libc::pollfd {
          fd,
          events: libc::POLLOUT,
          revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, POLL_MS) };
      }
      _ => return Err(err),
    }
  }
}

/// One write of (a prefix of) `buf`; see the module docs.
#[cfg(windows)]
pub fn write(raw: Raw, buf: &[u8]) -> io::Result<usize> {
  use std::io::Write;
  match raw {
    Raw::Stdout => {
      let mut out = io::stdout().lock();
      // Batches end with a newline, so std's line buffer keeps nothing back; the flush
      // is for a batch that does not.
      let n = out.write(buf)?;
      out.flush()?;
      Ok(n)
    }
    Raw::Stderr => io::stderr().lock().write(buf),
    Raw::Handle(handle) => {
      use std::os::windows::io::{FromRawHandle, RawHandle};
      // SAFETY: the handle belongs to a File the caller keeps open during this call;
      // ManuallyDrop never closes it.
      let file = std::mem::ManuallyDrop::new(unsafe { File::from_raw_handle(handle as RawHandle) });
      (&*file).write(buf)
    }
  }
}

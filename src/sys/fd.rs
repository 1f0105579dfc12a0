//! Descriptors the writer puts bytes into: stdout, stderr, a descriptor the app owns, or
//! a file prodkit has open; and the few operations on them that keep lines whole (what
//! kind of file it is, its size and offset, reading its last byte, reserving space,
//! cutting back a failed write).
//!
//! - Unix: the descriptor number and the system calls of the same names (`fstat`,
//!   `write`, `pread`, `lseek`, `ftruncate`, `fallocate` on Linux). Node makes pipes
//!   non-blocking; EAGAIN is waited out with `poll(POLLOUT)` (at most a second at a time,
//!   then tried again) instead of failing, so lines are never dropped or torn by a slow
//!   reader. EINTR is retried everywhere.
//! - Windows: stdout and stderr are written through std's handles, which write UTF-16 to
//!   a console (as Node does, so non-ASCII text shows right) and bytes to a pipe or file,
//!   and wait for an overlapped pipe handle to complete; the other operations use the
//!   same std handle. A file prodkit opened is written through its HANDLE. What kind a
//!   handle is comes from `GetFileType` (a disk file is `regular`; a console, pipe or
//!   socket is a stream). A descriptor number the app passes (`fd: 5`) is an index into
//!   Node's own C runtime table, which an addon cannot reach (Node links the C runtime
//!   statically): 1 and 2 are taken to mean stdout and stderr, as everywhere; any other
//!   number is an `ENOTSUP` error at the first write, which the writer reports like any
//!   write error. A handle cannot say whether it appends (`appends` is true only for
//!   files prodkit opened); an append-only handle is truncated through a second handle
//!   to the same file (`ReOpenFile`). `reserve` does nothing (no `fallocate`).

use std::fs::File;
use std::io;

/// A descriptor number as Node names one (`process.stdout.fd`, `fs.openSync()`).
pub type Fd = i32;

/// What the operations of this module act on.
#[cfg(unix)]
pub type Raw = std::os::unix::io::RawFd;

/// What the operations of this module act on.
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
/// No open file: every operation on it fails with EBADF.
#[cfg(unix)]
pub const CLOSED: Raw = -1;

#[cfg(windows)]
pub const STDOUT: Raw = Raw::Stdout;
#[cfg(windows)]
pub const STDERR: Raw = Raw::Stderr;
/// No open file (INVALID_HANDLE_VALUE): every operation on it fails with EBADF.
#[cfg(windows)]
pub const CLOSED: Raw = Raw::Handle(usize::MAX);

/// What a descriptor is, as far as keeping lines whole goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
  /// A regular (disk) file; otherwise a pipe, FIFO, socket, terminal or console.
  pub regular: bool,
  /// Its size in bytes (0 for a stream).
  pub size: u64,
}

/// What writing to the app's descriptor `fd` acts on.
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

/// What the open `file` is to this module (valid while `file` is open).
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

/// Writes all of `buf`, waiting when a non-blocking descriptor is full and going on at
/// once after a partial write, so that nothing of this process comes between the parts.
/// `written` counts the bytes that went out, also when an error ends it early.
pub fn write_fully(raw: Raw, buf: &[u8], written: &mut usize) -> io::Result<()> {
  let mut done = 0;
  while done < buf.len() {
    let n = write(raw, &buf[done..])?;
    if n == 0 {
      return Err(io::ErrorKind::WriteZero.into());
    }
    done += n;
    *written += n;
  }
  Ok(())
}

#[cfg(unix)]
pub use unix::*;
#[cfg(windows)]
pub use windows::*;

#[cfg(unix)]
mod unix {
  use super::{Raw, Stat};
  use std::io;

  /// How long one wait for a non-blocking descriptor to become writable lasts before
  /// the write is tried again.
  const POLL_MS: i32 = 1000;

  /// Runs a libc call that returns -1 on error, retrying on EINTR.
  fn retry<T: PartialEq + From<i8>>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
      let r = f();
      if r != T::from(-1) {
        return Ok(r);
      }
      let err = io::Error::last_os_error();
      if err.kind() != io::ErrorKind::Interrupted {
        return Err(err);
      }
    }
  }

  /// `fstat`: a regular file and its size, or a stream.
  pub fn stat(fd: Raw) -> io::Result<Stat> {
    // SAFETY: fstat fills one stat struct we own; zeroed is a valid stat.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    retry(|| unsafe { libc::fstat(fd, &mut st) })?;
    let regular = st.st_mode & libc::S_IFMT == libc::S_IFREG;
    Ok(Stat {
      regular,
      size: if regular { st.st_size as u64 } else { 0 },
    })
  }

  /// One `write(2)` of a prefix of `buf`, waiting with poll while a non-blocking
  /// descriptor is full.
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

  /// Whether every write to `fd` goes to the end of the file (O_APPEND).
  pub fn appends(fd: Raw) -> io::Result<bool> {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    Ok(retry(|| unsafe { libc::fcntl(fd, libc::F_GETFL) })? & libc::O_APPEND != 0)
  }

  /// The descriptor's offset (where a write that does not append goes).
  pub fn position(fd: Raw) -> io::Result<u64> {
    // SAFETY: lseek(SEEK_CUR, 0) only reads the offset.
    Ok(retry(|| unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) })? as u64)
  }

  /// Moves the descriptor's offset to `at`.
  pub fn seek(fd: Raw, at: u64) -> io::Result<()> {
    // SAFETY: lseek has no memory effects.
    retry(|| unsafe { libc::lseek(fd, at as libc::off_t, libc::SEEK_SET) }).map(drop)
  }

  /// Reads into `buf` from offset `at`, without moving the descriptor's offset.
  pub fn read_at(fd: Raw, buf: &mut [u8], at: u64) -> io::Result<usize> {
    // SAFETY: reads at most buf.len() bytes into buf.
    let n =
      retry(|| unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), at as libc::off_t) })?;
    Ok(n as usize)
  }

  /// Cuts the file back to `len` bytes.
  pub fn truncate(fd: Raw, len: u64) -> io::Result<()> {
    // SAFETY: ftruncate has no memory effects.
    retry(|| unsafe { libc::ftruncate(fd, len as libc::off_t) }).map(drop)
  }

  /// Reserves disk space for `len` bytes at `at`, so that a full disk or quota fails a
  /// batch before any of it is written. Linux: fallocate with KEEP_SIZE (the size, and
  /// so O_APPEND's offset, stays as it is); a file system without it is written to as
  /// it is. Other Unixes: nothing reserved.
  pub fn reserve(fd: Raw, at: u64, len: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
      if len == 0 {
        return Ok(());
      }
      // SAFETY: fallocate on a descriptor has no memory effects.
      let r = retry(|| unsafe {
        libc::fallocate(
          fd,
          libc::FALLOC_FL_KEEP_SIZE,
          at as libc::off_t,
          len as libc::off_t,
        )
      });
      match r {
        Ok(_) => Ok(()),
        Err(err)
          if matches!(
            err.raw_os_error(),
            Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL | libc::ENODEV | libc::EBADF)
          ) =>
        {
          Ok(())
        }
        Err(err) => Err(err),
      }
    }
    #[cfg(not(target_os = "linux"))]
    {
      let _ = (fd, at, len);
      Ok(())
    }
  }
}

#[cfg(windows)]
mod windows {
  use super::{Raw, Stat};
  use std::fs::File;
  use std::io::{self, Seek, SeekFrom, Write};
  use std::mem::ManuallyDrop;
  use std::os::windows::io::{AsRawHandle, FromRawHandle, RawHandle};

  /// The std handle or file handle behind `raw`, as a `File` that is never closed.
  fn borrow(raw: Raw) -> io::Result<ManuallyDrop<File>> {
    let handle: RawHandle = match raw {
      Raw::Stdout => io::stdout().as_raw_handle(),
      Raw::Stderr => io::stderr().as_raw_handle(),
      Raw::Handle(h) => h as RawHandle,
    };
    if handle.is_null() || handle as usize == usize::MAX {
      return Err(io::Error::from_raw_os_error(
        windows_sys::Win32::Foundation::ERROR_INVALID_HANDLE as i32,
      ));
    }
    // SAFETY: a std handle lives as long as the process; a file handle belongs to a File
    // the caller keeps open during the call. ManuallyDrop never closes it.
    Ok(ManuallyDrop::new(unsafe { File::from_raw_handle(handle) }))
  }

  /// `GetFileType`: a disk file and its size, or a stream (console, pipe, socket).
  pub fn stat(raw: Raw) -> io::Result<Stat> {
    use windows_sys::Win32::Storage::FileSystem::{GetFileType, FILE_TYPE_DISK};
    let file = borrow(raw)?;
    // SAFETY: GetFileType only reads the handle's type.
    let regular = unsafe { GetFileType(file.as_raw_handle()) } == FILE_TYPE_DISK;
    let size = if regular { file.metadata()?.len() } else { 0 };
    Ok(Stat { regular, size })
  }

  /// One write of a prefix of `buf` (see the module docs).
  pub fn write(raw: Raw, buf: &[u8]) -> io::Result<usize> {
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
      Raw::Handle(_) => (&*borrow(raw)?).write(buf),
    }
  }

  /// Whether every write goes to the end of the file: true for a file prodkit opened
  /// (an append-only handle); a handle the app gave cannot say, so false, and the
  /// caller uses its offset.
  pub fn appends(raw: Raw) -> io::Result<bool> {
    Ok(matches!(raw, Raw::Handle(_)))
  }

  /// The handle's file pointer.
  pub fn position(raw: Raw) -> io::Result<u64> {
    (&*borrow(raw)?).stream_position()
  }

  /// Moves the handle's file pointer to `at`.
  pub fn seek(raw: Raw, at: u64) -> io::Result<()> {
    (&*borrow(raw)?).seek(SeekFrom::Start(at)).map(drop)
  }

  /// Reads into `buf` from offset `at`. Moves the file pointer (Windows has no pread),
  /// which does not matter on an append-only handle: call it on no other.
  pub fn read_at(raw: Raw, buf: &mut [u8], at: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt;
    borrow(raw)?.seek_read(buf, at)
  }

  /// Cuts the file back to `len` bytes. An append-only handle (prodkit's own files)
  /// may not change the size, so the same file is reopened for writing from the handle
  /// (`ReOpenFile`, no path involved: it is the same file even if renamed meanwhile).
  pub fn truncate(raw: Raw, len: u64) -> io::Result<()> {
    use windows_sys::Win32::Foundation::{
      ERROR_ACCESS_DENIED, GENERIC_WRITE, INVALID_HANDLE_VALUE,
    };
    use windows_sys::Win32::Storage::FileSystem::{
      ReOpenFile, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
    };
    let file = borrow(raw)?;
    match file.set_len(len) {
      Err(err) if err.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32) => {
        // SAFETY: the handle is open (see `borrow`); ReOpenFile returns a new handle or
        // INVALID_HANDLE_VALUE.
        let handle = unsafe {
          ReOpenFile(
            file.as_raw_handle(),
            GENERIC_WRITE,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            0,
          )
        };
        if handle == INVALID_HANDLE_VALUE {
          return Err(io::Error::last_os_error());
        }
        // SAFETY: a new handle we own; the File closes it.
        let writable = unsafe { File::from_raw_handle(handle) };
        writable.set_len(len)
      }
      other => other,
    }
  }

  /// Nothing is reserved on Windows (see the module docs).
  pub fn reserve(raw: Raw, at: u64, len: usize) -> io::Result<()> {
    let _ = (raw, at, len);
    Ok(())
  }
}

#[cfg(all(test, unix))]
mod tests {
  use super::*;
  use std::fs::{self, OpenOptions};

  #[test]
  fn a_file_appends_reads_back_and_is_cut() {
    let dir = crate::log::writer::absent_temp_dir("fd", "file");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.log");
    let file = crate::sys::fs::open_append(&path, 0o640).unwrap();
    let raw = of_file(&file);
    assert!(appends(raw).unwrap());
    let mut written = 0;
    write_fully(raw, b"one\ntwo", &mut written).unwrap();
    assert_eq!(written, 7);
    assert_eq!(
      stat(raw).unwrap(),
      Stat {
        regular: true,
        size: 7
      }
    );
    let reader = OpenOptions::new().read(true).open(&path).unwrap();
    let mut last = [0u8];
    assert_eq!(read_at(of_file(&reader), &mut last, 6).unwrap(), 1);
    assert_eq!(&last, b"o");
    truncate(raw, 4).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"one\n");
    reserve(raw, 4, 100).unwrap();
    assert_eq!(stat(raw).unwrap().size, 4, "a reservation keeps the size");
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_pipe_is_a_stream_and_a_closed_descriptor_is_ebadf() {
    let mut fds = [0; 2];
    // SAFETY: pipe fills two descriptors we then close.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    assert!(!stat(fds[1]).unwrap().regular);
    assert!(!appends(fds[1]).unwrap());
    unsafe {
      libc::close(fds[0]);
      libc::close(fds[1]);
    }
    let err = write(CLOSED, b"x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBADF));
  }
}

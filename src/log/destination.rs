//! Where the writer thread puts bytes: stdout, stderr, a file descriptor owned by the app,
//! or a file path that prodkit opens (and reopens) itself.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::lockfile::{is_file_at, LockFile, Locked};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
  Stdout,
  Stderr,
  /// A descriptor the app owns: written to, never closed.
  Fd(RawFd),
  /// A file appended to, created with mode 0640 (before umask) and its parent folders.
  File(PathBuf),
}

pub struct Destination {
  target: Target,
  file: Option<File>,
  /// Set by `reopen()` from JS (or its signal): the next batch opens the path afresh.
  reopen_requested: Arc<AtomicBool>,
  /// The lock every prodkit writer of the path holds around its check-and-append, with
  /// or without rotation (see `lockfile.rs`).
  lock: Option<LockFile>,
  /// What a descriptor the app gave (stdout, stderr, an fd) is, from fstat at first use.
  kind: Option<Kind>,
  /// An app descriptor's file was checked for a torn last line (once, at first write).
  tail_checked: bool,
}

/// How bytes go to a destination so that lines stay whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
  /// A regular file: each batch is appended whole or not at all.
  Regular,
  /// A pipe, FIFO, socket or terminal: whole lines in writes of at most `PIPE_BUF`
  /// bytes, each of which a pipe takes whole (or refuses whole) even when other
  /// processes write to it too.
  Stream,
}

/// The size up to which a write to a pipe is atomic (POSIX: at least 512; Linux and
/// macOS: 4096; 4096 is also a page, the unit of a Linux pipe buffer).
pub const PIPE_BUF: usize = 4096;

/// How long one wait for a non-blocking descriptor to become writable lasts before the
/// write is tried again.
const POLL_MS: i32 = 1000;

/// The end of the next write to a stream from `start` in `buf`: all whole lines that fit
/// in `PIPE_BUF` bytes; a longer line alone; the rest of a line begun earlier alone.
pub fn stream_group_end(buf: &[u8], start: usize) -> usize {
  let at_line_start = start == 0 || buf[start - 1] == b'\n';
  let rest = &buf[start..];
  let line_end =
    |from: usize| memchr::memchr(b'\n', &rest[from..]).map_or(rest.len(), |p| from + p + 1);
  if !at_line_start {
    return start + line_end(0);
  }
  let window = &rest[..rest.len().min(PIPE_BUF)];
  if window.len() == rest.len() && rest.last() == Some(&b'\n') {
    return start + rest.len();
  }
  match memchr::memrchr(b'\n', window) {
    Some(p) => start + p + 1,
    None => start + line_end(0),
  }
}

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

fn fstat(fd: RawFd) -> io::Result<libc::stat> {
  // SAFETY: fstat fills one stat struct we own; zeroed is a valid stat.
  let mut st: libc::stat = unsafe { std::mem::zeroed() };
  retry(|| unsafe { libc::fstat(fd, &mut st) })?;
  Ok(st)
}

fn kind_of(st: &libc::stat) -> Kind {
  match st.st_mode & libc::S_IFMT {
    libc::S_IFREG => Kind::Regular,
    _ => Kind::Stream,
  }
}

/// Waits until `fd` can take a write (Node makes pipes non-blocking).
fn wait_writable(fd: RawFd) {
  let mut pfd = libc::pollfd {
    fd,
    events: libc::POLLOUT,
    revents: 0,
  };
  // SAFETY: one valid pollfd.
  unsafe { libc::poll(&mut pfd, 1, POLL_MS) };
}

/// Writes all of `buf`, waiting on EAGAIN and going on at once after a partial write,
/// so that nothing of this process comes between the parts. `written` counts the bytes
/// that went out, also when an error ends it early.
fn write_fully(fd: RawFd, buf: &[u8], written: &mut usize) -> io::Result<()> {
  let mut done = 0;
  while done < buf.len() {
    // SAFETY: a valid slice; fd is a descriptor number (a closed one gives EBADF).
    let n = unsafe { libc::write(fd, buf[done..].as_ptr().cast(), buf.len() - done) };
    if n > 0 {
      done += n as usize;
      *written += n as usize;
      continue;
    }
    if n == 0 {
      return Err(io::ErrorKind::WriteZero.into());
    }
    let err = io::Error::last_os_error();
    match err.kind() {
      io::ErrorKind::Interrupted => {}
      io::ErrorKind::WouldBlock => wait_writable(fd),
      _ => return Err(err),
    }
  }
  Ok(())
}

/// Whether the last byte of the regular file `fd` of `size` bytes is not a newline (a
/// line torn by a crash or a foreign writer). False when it cannot be read.
fn torn_tail(fd: RawFd, size: u64) -> bool {
  if size == 0 {
    return false;
  }
  let mut last = 0u8;
  // SAFETY: reads one byte into a local.
  let n = retry(|| unsafe {
    libc::pread(
      fd,
      (&mut last as *mut u8).cast(),
      1,
      (size - 1) as libc::off_t,
    )
  });
  matches!(n, Ok(1)) && last != b'\n'
}

/// Reserves disk space for `len` bytes at `at` in `fd`, so that a full disk or quota
/// fails a batch before any of it is written. File systems without fallocate are
/// written to as they are (a short write is then undone by truncation).
fn reserve(fd: RawFd, at: u64, len: usize) -> io::Result<()> {
  #[cfg(target_os = "linux")]
  {
    if len == 0 {
      return Ok(());
    }
    // SAFETY: fallocate on a descriptor has no memory effects; KEEP_SIZE leaves the
    // file's size (and so O_APPEND's offset) as it is.
    let r = retry(|| unsafe {
      libc::fallocate(
        fd,
        libc::FALLOC_FL_KEEP_SIZE,
        at as libc::off_t,
        len as libc::off_t,
      )
    });
    return match r {
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
    };
  }
  #[allow(unreachable_code)]
  {
    let _ = (fd, at, len);
    Ok(())
  }
}

impl Destination {
  /// Never fails: a file is opened on first write, so a path that cannot be opened yet is
  /// reported (and retried) by the writer like any other write error.
  pub fn new(target: Target) -> Destination {
    let lock = match &target {
      Target::File(path) => Some(LockFile::for_log(path)),
      _ => None,
    };
    Destination {
      target,
      file: None,
      reopen_requested: Arc::default(),
      lock,
      kind: None,
      tail_checked: false,
    }
  }

  /// The flag that asks the writer to reopen the file before its next batch.
  pub fn reopen_handle(&self) -> Arc<AtomicBool> {
    self.reopen_requested.clone()
  }

  pub fn describe(&self) -> String {
    match &self.target {
      Target::Stdout => "stdout".into(),
      Target::Stderr => "stderr".into(),
      Target::Fd(fd) => format!("fd {fd}"),
      Target::File(path) => path.display().to_string(),
    }
  }

  /// The lock file, for a file path destination.
  pub fn lock_file(&self) -> Option<&LockFile> {
    self.lock.as_ref()
  }

  /// Takes the lock of a file path destination (`None` for other destinations). Held
  /// around each check-and-append, never while waiting to retry.
  pub fn lock(&mut self) -> io::Result<Option<Locked>> {
    match &mut self.lock {
      Some(lock) => lock.lock().map(Some),
      None => Ok(None),
    }
  }

  fn open_file(path: &PathBuf) -> io::Result<File> {
    create_parent_dirs(path)?;
    // Readable too: the last byte is read to find a line torn by a crash.
    OpenOptions::new()
      .read(true)
      .append(true)
      .create(true)
      .mode(0o640)
      .custom_flags(libc::O_CLOEXEC)
      .open(path)
  }

  /// For a file: makes sure the open descriptor is still the file at the path (it may have
  /// been renamed by logrotate, or its folder removed) and reopens it otherwise.
  /// Also reopens it when asked to (`reopen()`), whatever the path holds.
  pub fn ensure_current(&mut self) -> io::Result<()> {
    let Target::File(path) = &self.target else {
      return Ok(());
    };
    let asked = self.reopen_requested.swap(false, Ordering::AcqRel);
    if let Some(file) = &self.file {
      if !asked && is_file_at(file, path) {
        return Ok(());
      }
    }
    self.file = Some(Self::open_file(path)?);
    self.kind = None;
    Ok(())
  }

  /// Opens the file path afresh (after a rotation renamed it).
  pub fn reopen(&mut self) -> io::Result<()> {
    if let Target::File(path) = &self.target {
      self.file = Some(Self::open_file(path)?);
      self.kind = None;
    }
    Ok(())
  }

  /// The open file's metadata (fstat), for a file destination that is open.
  pub fn open_metadata(&self) -> Option<io::Result<Metadata>> {
    self.file.as_ref().map(File::metadata)
  }

  fn fd(&mut self) -> io::Result<RawFd> {
    Ok(match &self.target {
      Target::Stdout => libc::STDOUT_FILENO,
      Target::Stderr => libc::STDERR_FILENO,
      Target::Fd(fd) => *fd,
      Target::File(_) => {
        if self.file.is_none() {
          self.ensure_current()?;
        }
        self.file.as_ref().map(|f| f.as_raw_fd()).unwrap_or(-1)
      }
    })
  }

  /// How lines go to this destination (fstat of an app descriptor at first use, of a
  /// file path at each open: `/dev/stdout` or a FIFO may be given as a path).
  pub fn kind(&mut self) -> io::Result<Kind> {
    if let Some(kind) = self.kind {
      return Ok(kind);
    }
    let kind = kind_of(&fstat(self.fd()?)?);
    self.kind = Some(kind);
    Ok(kind)
  }

  /// Appends `buf[from..]` (whole lines, or first the rest of a line begun by an
  /// earlier call) so that no line is torn: to a regular file all of it or nothing, to a
  /// pipe, socket or terminal in whole lines of at most `PIPE_BUF` bytes a write.
  /// `written` is what reached the destination, also when an error ends the call early:
  /// for a regular file 0 or all of it. A file path destination must be locked by the
  /// caller.
  pub fn append(&mut self, buf: &[u8], from: usize, written: &mut usize) -> io::Result<()> {
    let fd = self.fd()?;
    match self.kind()? {
      Kind::Regular => self.append_regular(fd, &buf[from..], written),
      Kind::Stream => {
        let mut start = from;
        while start < buf.len() {
          let end = stream_group_end(buf, start);
          write_fully(fd, &buf[start..end], written)?;
          start = end;
        }
        Ok(())
      }
    }
  }

  /// Reserve, write, and on any failure cut the file back to where it was: whole lines
  /// or nothing, for this process and for any other prodkit process on the file (they
  /// append under the same lock). A file whose last line was torn (by a crash, or a
  /// writer that is not prodkit) gets a newline first, so the batch's first line is
  /// never glued to it.
  fn append_regular(&mut self, fd: RawFd, buf: &[u8], written: &mut usize) -> io::Result<()> {
    let ours = matches!(self.target, Target::File(_));
    let st = fstat(fd)?;
    // SAFETY: fcntl(F_GETFL) and lseek(SEEK_CUR) only read the descriptor's state.
    let appending =
      ours || retry(|| unsafe { libc::fcntl(fd, libc::F_GETFL) })? & libc::O_APPEND != 0;
    let start = if appending {
      st.st_size as u64
    } else {
      retry(|| unsafe { libc::lseek(fd, 0, libc::SEEK_CUR) })? as u64
    };
    // An app's descriptor is shared with the app's own writes (console.log to a file):
    // checked once, for what an earlier process left.
    let check_tail = ours || !std::mem::replace(&mut self.tail_checked, true);
    let newline = appending && check_tail && torn_tail(fd, st.st_size as u64);
    let len = buf.len() + newline as usize;
    reserve(fd, start, len)?;
    let mut done = 0;
    let result = if newline {
      write_fully(fd, b"\n", &mut done)
    } else {
      Ok(())
    };
    let result = result.and_then(|()| write_fully(fd, buf, &mut done));
    let Err(err) = result else {
      *written += buf.len();
      return Ok(());
    };
    if done == 0 {
      return Err(err);
    }
    // Cut back what this call wrote, if it is still the end of the file: always under
    // the lock of a file path; for an app's descriptor, unless the app wrote after it.
    let end = fstat(fd).map(|st| st.st_size as u64);
    if ours || end.as_ref().is_ok_and(|&end| end == start + done as u64) {
      // SAFETY: ftruncate and lseek on a descriptor have no memory effects.
      let cut = retry(|| unsafe { libc::ftruncate(fd, start as libc::off_t) });
      if cut.is_ok() {
        if !appending {
          let _ = retry(|| unsafe { libc::lseek(fd, start as libc::off_t, libc::SEEK_SET) });
        }
        return Err(err);
      }
    }
    // It cannot be undone: what went out stays, and the rest of the torn line is written
    // first on the next attempt.
    *written += done.saturating_sub(newline as usize);
    Err(err)
  }

  /// One `write(2)`, waiting on EAGAIN: for tests.
  #[cfg(test)]
  pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    match self.append(buf, 0, &mut written) {
      Ok(()) => Ok(written),
      Err(_) if written > 0 => Ok(written),
      Err(err) => Err(err),
    }
  }

  /// After an error: forget the open file so the next write opens the path afresh.
  pub fn reset(&mut self) {
    self.file = None;
  }
}

/// The errno name of an I/O error (`ENOSPC`), as Node reports it in `err.code`;
/// `ERRNO_<n>` only for a number this table does not know.
pub fn error_code(err: &io::Error) -> String {
  match err.raw_os_error() {
    Some(n) => errno_name(n).map_or_else(|| format!("ERRNO_{n}"), str::to_string),
    None => format!("{:?}", err.kind()),
  }
}

fn errno_name(n: i32) -> Option<&'static str> {
  use libc::*;
  Some(match n {
    EPERM => "EPERM",
    ENOENT => "ENOENT",
    ESRCH => "ESRCH",
    EINTR => "EINTR",
    EIO => "EIO",
    ENXIO => "ENXIO",
    E2BIG => "E2BIG",
    EBADF => "EBADF",
    EAGAIN => "EAGAIN",
    ENOMEM => "ENOMEM",
    EACCES => "EACCES",
    EFAULT => "EFAULT",
    EBUSY => "EBUSY",
    EEXIST => "EEXIST",
    EXDEV => "EXDEV",
    ENODEV => "ENODEV",
    ENOTDIR => "ENOTDIR",
    EISDIR => "EISDIR",
    EINVAL => "EINVAL",
    ENFILE => "ENFILE",
    EMFILE => "EMFILE",
    ENOTTY => "ENOTTY",
    ETXTBSY => "ETXTBSY",
    EFBIG => "EFBIG",
    ENOSPC => "ENOSPC",
    ESPIPE => "ESPIPE",
    EROFS => "EROFS",
    EMLINK => "EMLINK",
    EPIPE => "EPIPE",
    ENAMETOOLONG => "ENAMETOOLONG",
    ENOLCK => "ENOLCK",
    ENOSYS => "ENOSYS",
    ENOTEMPTY => "ENOTEMPTY",
    ELOOP => "ELOOP",
    EDQUOT => "EDQUOT",
    ESTALE => "ESTALE",
    ENOTSOCK => "ENOTSOCK",
    EOPNOTSUPP => "EOPNOTSUPP",
    ECONNRESET => "ECONNRESET",
    ECONNREFUSED => "ECONNREFUSED",
    ENOTCONN => "ENOTCONN",
    ETIMEDOUT => "ETIMEDOUT",
    EHOSTUNREACH => "EHOSTUNREACH",
    ENETDOWN => "ENETDOWN",
    ENETUNREACH => "ENETUNREACH",
    EOVERFLOW => "EOVERFLOW",
    _ => return None,
  })
}

/// Creates the folders of `path`. A component that exists but is not a folder
/// (`/tmp/somefile/app.log`, somefile a regular file) is `ENOTDIR`, as open(2) would
/// say, not the `EEXIST` that mkdir(2) reports for it.
pub fn create_parent_dirs(path: &Path) -> io::Result<()> {
  let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
    return Ok(());
  };
  match fs::create_dir_all(parent) {
    Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
      Err(io::Error::from_raw_os_error(libc::ENOTDIR))
    }
    other => other,
  }
}

#[cfg(test)]
mod tests {
  use super::super::writer::absent_temp_dir;
  use super::*;
  use std::os::unix::fs::MetadataExt;

  #[test]
  fn a_file_is_created_with_its_folders_mode_0640_and_appended_to() {
    let dir = absent_temp_dir("dest", "create");
    let path = dir.join("a/b/app.log");
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, b"old\n").unwrap();
    fs::remove_dir_all(&dir).unwrap();
    let mut d = Destination::new(Target::File(path.clone()));
    assert_eq!(d.write(b"one\n").unwrap(), 4);
    assert_eq!(d.write(b"two\n").unwrap(), 4);
    assert_eq!(fs::read(&path).unwrap(), b"one\ntwo\n");
    let mode = fs::metadata(&path).unwrap().mode() & 0o777;
    assert_eq!(mode & !0o640, 0, "mode {mode:o} is at most 0640");
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_renamed_or_removed_file_is_reopened_at_its_path() {
    let dir = absent_temp_dir("dest", "reopen");
    let path = dir.join("app.log");
    let mut d = Destination::new(Target::File(path.clone()));
    d.write(b"before\n").unwrap();
    fs::rename(&path, dir.join("app.log.1")).unwrap();
    d.ensure_current().unwrap();
    d.write(b"after\n").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"after\n");
    assert_eq!(fs::read(dir.join("app.log.1")).unwrap(), b"before\n");
    fs::remove_dir_all(&dir).unwrap();
    d.ensure_current().unwrap();
    d.write(b"again\n").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"again\n");
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn reopen_opens_the_path_afresh_even_when_it_holds_the_same_file() {
    let dir = absent_temp_dir("dest", "asked");
    let path = dir.join("app.log");
    let mut d = Destination::new(Target::File(path.clone()));
    d.write(b"one\n").unwrap();
    let before = d.fd().unwrap();
    d.ensure_current().unwrap();
    assert_eq!(d.fd().unwrap(), before, "not reopened unasked");
    d.reopen_handle().store(true, Ordering::Release);
    d.ensure_current().unwrap();
    assert_ne!(d.fd().unwrap(), before, "a new descriptor");
    d.write(b"two\n").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"one\ntwo\n");
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_closed_descriptor_is_an_error_with_its_code() {
    let mut d = Destination::new(Target::Fd(987_654));
    let err = d.write(b"x\n").unwrap_err();
    assert_eq!(error_code(&err), "EBADF");
  }

  #[test]
  fn a_path_through_a_regular_file_is_enotdir() {
    let dir = absent_temp_dir("dest", "notdir");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("somefile"), b"").unwrap();
    let mut d = Destination::new(Target::File(dir.join("somefile/app.log")));
    let err = d.write(b"x\n").unwrap_err();
    assert_eq!(error_code(&err), "ENOTDIR");
    let mut d = Destination::new(Target::File(dir.join("somefile/deeper/app.log")));
    assert_eq!(error_code(&d.write(b"x\n").unwrap_err()), "ENOTDIR");
    assert_eq!(
      error_code(&io::Error::from_raw_os_error(libc::EEXIST)),
      "EEXIST"
    );
    assert_eq!(
      error_code(&io::Error::from_raw_os_error(libc::EAGAIN)),
      "EAGAIN"
    );
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_full_disk_is_an_enospc_error() {
    let mut d = Destination::new(Target::File("/dev/full".into()));
    let err = d.write(b"x\n").unwrap_err();
    assert_eq!(error_code(&err), "ENOSPC");
  }
}

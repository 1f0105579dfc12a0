//! Where the writer thread puts bytes: stdout, stderr, a file descriptor owned by the app,
//! or a file path that prodkit opens (and reopens) itself.

use std::fs::{self, File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::lockfile::{LockFile, Locked};
use crate::sys;
use crate::sys::fd::{write_fully, Fd as RawFd, Raw};
use crate::sys::fs::IdentifiedFile;

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
  /// The open file, with its identity read when it was opened: whether the path still
  /// holds it is then one look at the path per batch.
  file: Option<IdentifiedFile>,
  /// Where this writer's last append to the open file ended (a newline): while the file
  /// still ends there, no other writer has appended since, and its last byte needs no
  /// reading for a torn line.
  clean_end: Option<u64>,
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

fn kind_of(st: &sys::fd::Stat) -> Kind {
  if st.regular {
    Kind::Regular
  } else {
    Kind::Stream
  }
}

/// Whether the last byte of the regular file `fd` of `size` bytes is not a newline (a
/// line torn by a crash or a foreign writer). False when it cannot be read.
fn torn_tail(fd: Raw, size: u64) -> bool {
  if size == 0 {
    return false;
  }
  let mut last = [0u8];
  let n = sys::fd::read_at(fd, &mut last, size - 1);
  matches!(n, Ok(1)) && last[0] != b'\n'
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
      clean_end: None,
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
    sys::fs::open_append(path, 0o640)
  }

  /// For a file: makes sure the open descriptor is still the file at the path (it may have
  /// been renamed by logrotate, or its folder removed) and reopens it otherwise.
  /// Also reopens it when asked to (`reopen()`), whatever the path holds.
  pub fn ensure_current(&mut self) -> io::Result<()> {
    let Target::File(path) = &self.target else {
      return Ok(());
    };
    let asked = self.reopen_requested.swap(false, Ordering::AcqRel);
    if !asked && self.file.as_ref().is_some_and(|file| file.is_at(path)) {
      return Ok(());
    }
    let file = Self::open_file(path)?;
    self.opened(file);
    Ok(())
  }

  /// `file` is the open file from now on.
  fn opened(&mut self, file: File) {
    self.file = Some(IdentifiedFile::new(file));
    self.kind = None;
    self.clean_end = None;
  }

  /// Opens the file path afresh (after a rotation renamed it).
  pub fn reopen(&mut self) -> io::Result<()> {
    if let Target::File(path) = &self.target {
      let file = Self::open_file(path)?;
      self.opened(file);
    }
    Ok(())
  }

  /// The open file's metadata (fstat), for a file destination that is open.
  pub fn open_metadata(&self) -> Option<io::Result<Metadata>> {
    self.file.as_ref().map(|open| open.file().metadata())
  }

  fn fd(&mut self) -> io::Result<Raw> {
    Ok(match &self.target {
      Target::Stdout => sys::fd::STDOUT,
      Target::Stderr => sys::fd::STDERR,
      Target::Fd(fd) => sys::fd::app_fd(*fd)?,
      Target::File(_) => {
        if self.file.is_none() {
          self.ensure_current()?;
        }
        self
          .file
          .as_ref()
          .map_or(sys::fd::CLOSED, |open| sys::fd::of_file(open.file()))
      }
    })
  }

  /// How lines go to this destination (fstat of an app descriptor at first use, of a
  /// file path at each open: `/dev/stdout` or a FIFO may be given as a path).
  pub fn kind(&mut self) -> io::Result<Kind> {
    if let Some(kind) = self.kind {
      return Ok(kind);
    }
    let kind = kind_of(&sys::fd::stat(self.fd()?)?);
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
  fn append_regular(&mut self, fd: Raw, buf: &[u8], written: &mut usize) -> io::Result<()> {
    let ours = matches!(self.target, Target::File(_));
    let st = sys::fd::stat(fd)?;
    let appending = ours || sys::fd::appends(fd)?;
    let start = if appending {
      st.size
    } else {
      sys::fd::position(fd)?
    };
    // An app's descriptor is shared with the app's own writes (console.log to a file):
    // checked once, for what an earlier process left.
    let check_tail = ours || !std::mem::replace(&mut self.tail_checked, true);
    let newline =
      appending && check_tail && self.clean_end != Some(st.size) && torn_tail(fd, st.size);
    let len = buf.len() + newline as usize;
    sys::fd::reserve(fd, start, len)?;
    let mut done = 0;
    let result = if newline {
      write_fully(fd, b"\n", &mut done)
    } else {
      Ok(())
    };
    let result = result.and_then(|()| write_fully(fd, buf, &mut done));
    let Err(err) = result else {
      *written += buf.len();
      if ours && buf.last() == Some(&b'\n') {
        self.clean_end = Some(start + len as u64);
      }
      return Ok(());
    };
    self.clean_end = None;
    if done == 0 {
      return Err(err);
    }
    // Cut back what this call wrote, if it is still the end of the file: always under
    // the lock of a file path; for an app's descriptor, unless the app wrote after it.
    let end = sys::fd::stat(fd).map(|st| st.size);
    if ours || end.as_ref().is_ok_and(|&end| end == start + done as u64) {
      let cut = sys::fd::truncate(fd, start);
      if cut.is_ok() {
        if !appending {
          let _ = sys::fd::seek(fd, start);
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
    self.clean_end = None;
  }
}

/// The errno name of an I/O error (`ENOSPC`), as Node reports it in `err.code`;
/// `ERRNO_<n>` only for a number this table does not know.
#[cfg(unix)]
pub fn error_code(err: &io::Error) -> String {
  match err.raw_os_error() {
    Some(n) => errno_name(n).map_or_else(|| format!("ERRNO_{n}"), str::to_string),
    None => format!("{:?}", err.kind()),
  }
}

#[cfg(unix)]
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
    Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Err(sys::error::not_a_directory()),
    other => other,
  }
}

/// The errno-style name of a Win32 error, as Node reports it in `err.code`.
#[cfg(windows)]
pub use crate::sys::error::code as error_code;

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
  fn a_line_torn_by_another_writer_between_two_batches_is_ended_first() {
    use std::io::Write;
    let dir = absent_temp_dir("dest", "torn-between");
    let path = dir.join("app.log");
    let mut d = Destination::new(Target::File(path.clone()));
    assert_eq!(d.write(b"one\n").unwrap(), 4);
    // This writer's last append is the end of the file: the next one goes right after it.
    assert_eq!(d.write(b"two\n").unwrap(), 4);
    let mut other = fs::OpenOptions::new().append(true).open(&path).unwrap();
    other.write_all(b"half").unwrap();
    assert_eq!(d.write(b"three\n").unwrap(), 6);
    other.write_all(b"whole\n").unwrap();
    assert_eq!(d.write(b"four\n").unwrap(), 5);
    assert_eq!(
      fs::read_to_string(&path).unwrap(),
      "one\ntwo\nhalf\nthree\nwhole\nfour\n"
    );
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

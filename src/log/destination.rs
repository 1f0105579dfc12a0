//! Where the writer thread puts bytes: stdout, stderr, a file descriptor owned by the app,
//! or a file path that prodkit opens (and reopens) itself.

use std::fs::{self, File, Metadata};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::lockfile::is_file_at;
use crate::sys;
use crate::sys::fd::Fd as RawFd;

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
}

impl Destination {
  /// Never fails: a file is opened on first write, so a path that cannot be opened yet is
  /// reported (and retried) by the writer like any other write error.
  pub fn new(target: Target) -> Destination {
    Destination {
      target,
      file: None,
      reopen_requested: Arc::default(),
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

  fn open_file(path: &PathBuf) -> io::Result<File> {
    if let Some(parent) = path.parent() {
      if !parent.as_os_str().is_empty() {
        fs::create_dir_all(parent)?;
      }
    }
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
    if let Some(file) = &self.file {
      if !asked && is_file_at(file, path) {
        return Ok(());
      }
    }
    self.file = Some(Self::open_file(path)?);
    Ok(())
  }

  /// Opens the file path afresh (after a rotation renamed it).
  pub fn reopen(&mut self) -> io::Result<()> {
    if let Target::File(path) = &self.target {
      self.file = Some(Self::open_file(path)?);
    }
    Ok(())
  }

  /// The open file's metadata (fstat), for a file destination that is open.
  pub fn open_metadata(&self) -> Option<io::Result<Metadata>> {
    self.file.as_ref().map(File::metadata)
  }

  /// Reserves the disk space for `len` more bytes at the end of the open file, so that a
  /// full disk fails the whole batch before any of it is written instead of cutting a
  /// line. Only meaningful while no one else can append (under the rotation lock).
  /// File systems without fallocate are written to as they are.
  pub fn reserve(&self, len: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(file) = &self.file {
      let end = file.metadata()?.len() as libc::off_t;
      loop {
        // SAFETY: fallocate on an open descriptor has no memory effects; KEEP_SIZE
        // leaves the file's size (and so O_APPEND's offset) as it is.
        let r = unsafe {
          libc::fallocate(
            std::os::unix::io::AsRawFd::as_raw_fd(file),
            libc::FALLOC_FL_KEEP_SIZE,
            end,
            len as libc::off_t,
          )
        };
        if r == 0 {
          return Ok(());
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
          Some(libc::EINTR) => continue,
          Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL | libc::ENODEV) => return Ok(()),
          _ => return Err(err),
        }
      }
    }
    let _ = len;
    Ok(())
  }

  fn fd(&mut self) -> io::Result<sys::fd::Raw> {
    Ok(match &self.target {
      Target::Stdout => sys::fd::STDOUT,
      Target::Stderr => sys::fd::STDERR,
      Target::Fd(fd) => sys::fd::app_fd(*fd)?,
      Target::File(_) => {
        if self.file.is_none() {
          self.ensure_current()?;
        }
        self.file.as_ref().map_or(sys::fd::CLOSED, sys::fd::of_file)
      }
    })
  }

  /// One `write(2)`. A descriptor in non-blocking mode (Node makes pipes non-blocking) is
  /// waited on with poll instead of failing with EAGAIN.
  pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
    let fd = self.fd()?;
    sys::fd::write(fd, buf)
  }

  /// After an error: forget the open file so the next write opens the path afresh.
  pub fn reset(&mut self) {
    self.file = None;
  }
}

/// The errno name of an I/O error (`ENOSPC`), as Node reports it in `err.code`.
#[cfg(unix)]
pub fn error_code(err: &io::Error) -> String {
  let name = match err.raw_os_error() {
    Some(libc::ENOSPC) => "ENOSPC",
    Some(libc::EDQUOT) => "EDQUOT",
    Some(libc::EACCES) => "EACCES",
    Some(libc::EPERM) => "EPERM",
    Some(libc::EBADF) => "EBADF",
    Some(libc::ENOENT) => "ENOENT",
    Some(libc::ENOTDIR) => "ENOTDIR",
    Some(libc::EISDIR) => "EISDIR",
    Some(libc::EROFS) => "EROFS",
    Some(libc::EIO) => "EIO",
    Some(libc::EPIPE) => "EPIPE",
    Some(libc::EFBIG) => "EFBIG",
    Some(libc::EMFILE) => "EMFILE",
    Some(libc::ENFILE) => "ENFILE",
    Some(libc::EINVAL) => "EINVAL",
    Some(n) => return format!("ERRNO_{n}"),
    None => return format!("{:?}", err.kind()),
  };
  name.to_string()
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
  fn a_full_disk_is_an_enospc_error() {
    let mut d = Destination::new(Target::File("/dev/full".into()));
    let err = d.write(b"x\n").unwrap_err();
    assert_eq!(error_code(&err), "ENOSPC");
  }
}

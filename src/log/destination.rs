//! Where the writer thread puts bytes: stdout, stderr, a file descriptor owned by the app,
//! or a file path that prodkit opens (and reopens) itself.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::lockfile::is_file_at;

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

/// How long one wait for a non-blocking descriptor to become writable lasts before the
/// write is tried again.
const POLL_MS: i32 = 1000;

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
    create_parent_dirs(path)?;
    OpenOptions::new()
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
            file.as_raw_fd(),
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

  /// One `write(2)`. A descriptor in non-blocking mode (Node makes pipes non-blocking) is
  /// waited on with poll instead of failing with EAGAIN.
  pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
    let fd = self.fd()?;
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

//! The exclusive lock on a whole file that serialises writers of one log across
//! processes (`log/lockfile.rs`) and claims a rotated file for compression
//! (`log/compress.rs`).
//!
//! Built on std's `File::lock` / `try_lock` / `unlock`, which are:
//! - Linux, macOS: `flock(2)` (LOCK_EX, LOCK_NB, LOCK_UN). Advisory, owned by the open
//!   file description, released when it is closed. Same behaviour as before this module
//!   existed. On NFS without a lock daemon it fails with ENOLCK (see `unsupported`).
//! - Windows: `LockFileEx` / `UnlockFile` on the whole range. Mandatory: while one process
//!   holds it, other processes can neither read nor write the locked bytes. Harmless for
//!   the lock file (empty, never read); for a rotated file being compressed it means a
//!   reader in another process (a log shipper) gets ERROR_LOCK_VIOLATION until the
//!   compression is done. Released when the handle is closed (by the OS, "in time").
//!
//! A signal interrupting a wait (EINTR) is retried.

use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;

/// The OS handle of a locked file, kept by a guard that unlocks it later without
/// borrowing the `File` (which lives on in its owner). A descriptor number on Unix, a
/// HANDLE (as an integer, so the guard is `Send`) on Windows.
#[cfg(unix)]
pub type Raw = std::os::unix::io::RawFd;
/// See the Unix version.
#[cfg(windows)]
pub type Raw = usize;

/// The handle of `file`, for `unlock_raw`.
pub fn raw(file: &File) -> Raw {
  #[cfg(unix)]
  {
    std::os::unix::io::AsRawFd::as_raw_fd(file)
  }
  #[cfg(windows)]
  {
    std::os::windows::io::AsRawHandle::as_raw_handle(file) as usize
  }
}

/// Takes the exclusive lock, waiting for other holders.
pub fn lock(file: &File) -> io::Result<()> {
  loop {
    match file.lock() {
      Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
      other => return other,
    }
  }
}

/// Takes the exclusive lock if no one holds it: `Ok(false)` when another holder has it.
pub fn try_lock(file: &File) -> io::Result<bool> {
  loop {
    match file.try_lock() {
      Ok(()) => return Ok(true),
      Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
      Err(std::fs::TryLockError::Error(err)) if err.kind() == io::ErrorKind::Interrupted => {
        continue
      }
      Err(std::fs::TryLockError::Error(err)) => return Err(err),
    }
  }
}

/// Releases the lock.
pub fn unlock(file: &File) -> io::Result<()> {
  file.unlock()
}

/// Releases the lock held through the handle `raw`.
///
/// # Safety
/// `raw` must be the handle of a `File` that is still open.
pub unsafe fn unlock_raw(raw: Raw) -> io::Result<()> {
  #[cfg(unix)]
  let file = {
    use std::os::unix::io::FromRawFd;
    // SAFETY: open by the caller's contract; ManuallyDrop never closes it.
    ManuallyDrop::new(unsafe { File::from_raw_fd(raw) })
  };
  #[cfg(windows)]
  let file = {
    use std::os::windows::io::FromRawHandle;
    // SAFETY: as above.
    ManuallyDrop::new(unsafe { File::from_raw_handle(raw as std::os::windows::io::RawHandle) })
  };
  file.unlock()
}

/// Whether a lock error means the file system cannot lock at all (as opposed to a file
/// that cannot be opened): writing then goes on without the lock.
/// Unix: ENOLCK, EOPNOTSUPP, ENOSYS. Windows: ERROR_NOT_SUPPORTED,
/// ERROR_INVALID_FUNCTION (a file system driver without byte-range locks).
pub fn unsupported(err: &io::Error) -> bool {
  if err.kind() == io::ErrorKind::Unsupported {
    return true;
  }
  #[cfg(unix)]
  {
    matches!(
      err.raw_os_error(),
      Some(libc::ENOLCK | libc::EOPNOTSUPP | libc::ENOSYS)
    )
  }
  #[cfg(windows)]
  {
    use windows_sys::Win32::Foundation::{ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED};
    matches!(
      err.raw_os_error().map(|n| n as u32),
      Some(ERROR_NOT_SUPPORTED | ERROR_INVALID_FUNCTION)
    )
  }
}

/// Whether writing should go on without the lock after this error: the file system
/// cannot lock (`unsupported`), or the lock file cannot be made or opened for lack of
/// permission or on a read-only file system (a log file made writable for the app in a
/// folder it may not write). Unix: those plus EACCES, EPERM, EROFS. Windows: those plus
/// ERROR_ACCESS_DENIED, ERROR_WRITE_PROTECT.
pub fn cannot_lock(err: &io::Error) -> bool {
  if unsupported(err) || err.kind() == io::ErrorKind::PermissionDenied {
    return true;
  }
  #[cfg(unix)]
  {
    matches!(
      err.raw_os_error(),
      Some(libc::EACCES | libc::EPERM | libc::EROFS)
    )
  }
  #[cfg(windows)]
  {
    use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_WRITE_PROTECT};
    matches!(
      err.raw_os_error().map(|n| n as u32),
      Some(ERROR_ACCESS_DENIED | ERROR_WRITE_PROTECT)
    )
  }
}

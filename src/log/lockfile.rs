//! The lock file that lets several processes append to one rotating log.
//!
//! `logs/app.log` is guarded by `logs/.app.log.lock` (an empty file, never removed by
//! prodkit). Every writer holds the lock (exclusive; flock on Unix, LockFileEx on
//! Windows, see `sys::lock`) while it checks that its open file is still the one at the
//! path, rotates if due, and appends one batch. So a rename never happens between a
//! writer's check and its write: once a rotation has renamed the file, no byte is ever
//! appended to it again, and it can be compressed and removed safely.
//! The lock is held for one write at a time and never while waiting to retry, so a
//! failing disk in one process never stalls the others.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use crate::sys;
use crate::sys::fs::{IdentifiedFile, OpenOptionsExt};

pub use crate::sys::fs::is_file_at;

pub struct LockFile {
  path: PathBuf,
  /// The open lock file, with its identity read once: the path is then looked at once per
  /// lock, not the file too.
  file: Option<IdentifiedFile>,
}

/// Held while locked; unlocks when dropped.
pub struct Locked(sys::lock::Raw);

impl Drop for Locked {
  fn drop(&mut self) {
    // SAFETY: the handle stays open while the LockFile lives, which outlives this guard
    // within one writer step; unlocking a handle we locked cannot fail harmfully.
    let _ = unsafe { sys::lock::unlock_raw(self.0) };
  }
}

impl LockFile {
  /// The lock file of a log file: a dot file beside it.
  pub fn for_log(log: &Path) -> LockFile {
    let name = log
      .file_name()
      .map(|n| n.to_string_lossy().into_owned())
      .unwrap_or_default();
    let path = log.with_file_name(format!(".{name}.lock"));
    LockFile { path, file: None }
  }

  pub fn path(&self) -> &Path {
    &self.path
  }

  fn open(&self) -> io::Result<File> {
    super::destination::create_parent_dirs(&self.path)?;
    let create = OpenOptions::new()
      .read(true)
      .write(true)
      .create(true)
      .truncate(false)
      .shared_with_mode(0o640)
      .open(&self.path);
    match create {
      // Locking needs no write access: a lock file made by another user of the group is
      // still usable read-only.
      // None to open: the error is that it may not be made (EACCES), not ENOENT.
      Err(err) if err.kind() == io::ErrorKind::PermissionDenied => OpenOptions::new()
        .read(true)
        .shared_with_mode(0o640)
        .open(&self.path)
        .map_err(|e| {
          if e.kind() == io::ErrorKind::NotFound {
            err
          } else {
            e
          }
        }),
      other => other,
    }
  }

  /// Takes the lock, waiting for other holders.
  pub fn lock(&mut self) -> io::Result<Locked> {
    loop {
      let open = match self.file.take() {
        Some(open) => open,
        None => IdentifiedFile::new(self.open()?),
      };
      let open = self.file.insert(open);
      sys::lock::lock(open.file())?;
      if open.is_at(&self.path) {
        return Ok(Locked(sys::lock::raw(open.file())));
      }
      // The lock file was removed (its folder deleted, say) and perhaps made again by
      // another process: a lock on the old file would exclude nobody. Open the path again.
      sys::lock::unlock(open.file())?;
      self.file = None;
    }
  }
}

#[cfg(test)]
mod tests {
  use super::super::writer::absent_temp_dir;
  use super::*;
  use std::fs;
  use std::sync::atomic::{AtomicBool, Ordering};
  use std::sync::Arc;
  use std::time::Duration;

  #[test]
  fn the_lock_file_is_a_dot_file_beside_the_log() {
    let lock = LockFile::for_log(Path::new("/var/log/app.log"));
    assert_eq!(lock.path(), Path::new("/var/log/.app.log.lock"));
  }

  #[test]
  fn two_holders_exclude_each_other() {
    let dir = absent_temp_dir("lock", "exclude");
    let log = dir.join("app.log");
    let mut first = LockFile::for_log(&log);
    let guard = first.lock().unwrap();
    let inside = Arc::new(AtomicBool::new(false));
    let waiter = {
      let inside = inside.clone();
      let log = log.clone();
      std::thread::spawn(move || {
        // A separate open file description, as another process would have.
        let mut second = LockFile::for_log(&log);
        let _guard = second.lock().unwrap();
        inside.store(true, Ordering::SeqCst);
      })
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(!inside.load(Ordering::SeqCst), "the second holder waits");
    drop(guard);
    waiter.join().unwrap();
    assert!(inside.load(Ordering::SeqCst));
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_removed_lock_file_is_made_again_instead_of_locking_a_ghost() {
    let dir = absent_temp_dir("lock", "removed");
    let log = dir.join("app.log");
    let mut lock = LockFile::for_log(&log);
    drop(lock.lock().unwrap());
    fs::remove_dir_all(&dir).unwrap();
    let guard = lock.lock().unwrap();
    assert!(lock.path().exists(), "folder and lock file made again");
    // Another holder that opens the path now is excluded by this lock.
    let mut other = LockFile::for_log(&log);
    let file = other.open().unwrap();
    assert!(
      !sys::lock::try_lock(&file).unwrap(),
      "the lock is held on the file at the path"
    );
    drop(guard);
    other.file = Some(IdentifiedFile::new(file));
    drop(other.lock().unwrap());
    fs::remove_dir_all(&dir).unwrap();
  }
}

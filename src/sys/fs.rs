//! Files: how prodkit opens them, how it tells whether an open file is still the one at a
//! path, and how it makes a rename durable.
//!
//! Guarantees:
//! - Unix: files are created with the mode given (before umask) and close-on-exec (std
//!   sets O_CLOEXEC already; it is asked for explicitly so that no child process ever
//!   inherits a log or lock file). Identity is (device, inode). `sync_dir` fsyncs the
//!   folder, so a rename or an unlink in it survives a power loss.
//! - Windows: files are opened with FILE_SHARE_READ | FILE_SHARE_WRITE |
//!   FILE_SHARE_DELETE (std's default today, set explicitly because rotation depends on
//!   it): other processes may read the file, append to it, and rename or delete it while
//!   it is open, which is what a rotation by another writer does. The mode is ignored:
//!   the file inherits its folder's ACL. Identity is (volume serial number, file index)
//!   from GetFileInformationByHandle (64-bit index: unique on NTFS; on ReFS, whose ids
//!   are 128-bit, two files could in theory share the low 64 bits). A file newly created
//!   for appending gets its creation time set to now, because NTFS "tunnelling" gives a
//!   file created within 15 s of a rename or delete of the same name the old file's
//!   creation time, which would make interval rotation rotate the new file at once.
//!   `sync_dir` does nothing: Windows has no folder fsync through std, and NTFS journals
//!   renames and deletes itself (a rename is atomic, but may be lost, not torn, on a power
//!   loss in the last seconds).

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::path::Path;
use std::time::SystemTime;
#[cfg(any(target_os = "linux", target_os = "android", windows))]
use std::time::{Duration, UNIX_EPOCH};

/// Options every file prodkit creates gets; see the module docs for each platform.
pub trait OpenOptionsExt {
  /// Unix: creation mode `mode` (before umask) and close-on-exec. Windows: shared for
  /// read, write and delete (rename); `mode` is ignored.
  fn shared_with_mode(&mut self, mode: u32) -> &mut Self;
}

#[cfg(unix)]
impl OpenOptionsExt for OpenOptions {
  fn shared_with_mode(&mut self, mode: u32) -> &mut Self {
    use std::os::unix::fs::OpenOptionsExt as _;
    self.mode(mode).custom_flags(libc::O_CLOEXEC)
  }
}

#[cfg(windows)]
impl OpenOptionsExt for OpenOptions {
  fn shared_with_mode(&mut self, _mode: u32) -> &mut Self {
    use std::os::windows::fs::OpenOptionsExt as _;
    use windows_sys::Win32::Storage::FileSystem::{
      FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
    };
    self.share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
  }
}

/// Opens `path` for appending, creating it (mode `mode` on Unix). Every write goes to
/// the end of the file, whoever else appends: O_APPEND on Unix, an append-only handle
/// (FILE_APPEND_DATA without FILE_WRITE_DATA) on Windows. Readable too, so that the
/// writer can read the last byte to find a line torn by a crash.
#[cfg(unix)]
pub fn open_append(path: impl AsRef<Path>, mode: u32) -> io::Result<File> {
  OpenOptions::new()
    .read(true)
    .append(true)
    .create(true)
    .shared_with_mode(mode)
    .open(path)
}

/// Opens `path` for appending, creating it. A file this call creates gets its creation
/// time set to now (see the module docs: NTFS tunnelling).
#[cfg(windows)]
pub fn open_append(path: impl AsRef<Path>, mode: u32) -> io::Result<File> {
  use std::os::windows::fs::FileTimesExt;
  let path = path.as_ref();
  let created = OpenOptions::new()
    .read(true)
    .append(true)
    .create_new(true)
    .shared_with_mode(mode)
    .open(path);
  match created {
    Ok(file) => {
      // Best effort: a file system without creation times has nothing to correct.
      let now = std::time::SystemTime::now();
      let _ = file.set_times(std::fs::FileTimes::new().set_created(now));
      Ok(file)
    }
    Err(err) if err.kind() == io::ErrorKind::AlreadyExists => OpenOptions::new()
      .read(true)
      .append(true)
      .shared_with_mode(mode)
      .open(path),
    Err(err) => Err(err),
  }
}

/// Whether the open file is the file at `path` now (same identity). False when either
/// cannot be examined (the path is gone, say).
pub fn is_file_at(file: &File, path: &Path) -> bool {
  file_id(file).is_some_and(|id| path_holds(path, id))
}

/// The identity of an open file, which never changes while it is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId((u64, u64));

fn file_id(file: &File) -> Option<FileId> {
  handle_identity(file).map(FileId)
}

fn path_holds(path: &Path, id: FileId) -> bool {
  path_identity(path) == Some(id.0)
}

/// An open file and its identity, read once when it was opened: `is_at` then tells with
/// one look at the path whether the path still holds it (a writer asks before every
/// batch: one system call, not two as `is_file_at`).
pub struct IdentifiedFile {
  file: File,
  id: Option<FileId>,
}

impl IdentifiedFile {
  pub fn new(file: File) -> IdentifiedFile {
    let id = file_id(&file);
    IdentifiedFile { file, id }
  }

  pub fn file(&self) -> &File {
    &self.file
  }

  /// Whether the file at `path` is this one now. False when either cannot be examined.
  pub fn is_at(&self, path: &Path) -> bool {
    self.id.is_some_and(|id| path_holds(path, id))
  }
}

#[cfg(unix)]
fn handle_identity(file: &File) -> Option<(u64, u64)> {
  file.metadata().ok().map(|m| identity(&m))
}

#[cfg(unix)]
fn path_identity(path: &Path) -> Option<(u64, u64)> {
  std::fs::metadata(path).ok().map(|m| identity(&m))
}

#[cfg(windows)]
fn handle_identity(file: &File) -> Option<(u64, u64)> {
  use std::os::windows::io::AsRawHandle;
  use windows_sys::Win32::Storage::FileSystem::{
    GetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION,
  };
  // SAFETY: a zeroed BY_HANDLE_FILE_INFORMATION is valid (plain integers); the handle
  // is open for as long as `file` is borrowed.
  let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
  let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) };
  (ok != 0).then(|| {
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    (u64::from(info.dwVolumeSerialNumber), index)
  })
}

#[cfg(windows)]
fn path_identity(path: &Path) -> Option<(u64, u64)> {
  use std::os::windows::fs::OpenOptionsExt as _;
  // No access rights are needed to read a file's identity, so this open never conflicts
  // with another process's sharing mode or byte-range locks.
  let file = OpenOptions::new()
    .access_mode(0)
    .shared_with_mode(0)
    .open(path)
    .ok()?;
  handle_identity(&file)
}

/// An identity of the file `meta` describes, for telling one file at a path from the
/// next. Unix: (device, inode). Windows: std gives no file index from a `Metadata` on
/// stable Rust, so (0, creation time in 100 ns ticks) stands in; the one caller
/// (rotation's stand-in for a missing birth time) never needs it on Windows, where
/// every file system records the creation time.
#[cfg(unix)]
pub fn identity(meta: &Metadata) -> (u64, u64) {
  use std::os::unix::fs::MetadataExt;
  (meta.dev(), meta.ino())
}

/// See the Unix version.
#[cfg(windows)]
pub fn identity(meta: &Metadata) -> (u64, u64) {
  use std::os::windows::fs::MetadataExt;
  (0, meta.creation_time())
}

/// Now, read from the clock the file system stamps files with, for comparing with a
/// file's birth time. Linux and Windows stamp files from a coarse clock (one that
/// advances at the timer tick, 1 to 16 ms) that runs behind the precise one: a file
/// created right after a turn of the second can have a birth time from before it, and
/// compared with the precise clock it would look born in the period before (rotation
/// by interval would then rotate a file it has just made). Read from the same coarse
/// clock, now is never before the birth time of a file made earlier.
/// - Linux, Android: `CLOCK_REALTIME_COARSE`, which inode timestamps come from.
/// - Windows: `GetSystemTimeAsFileTime`, the tick-updated time NTFS stamps files with.
/// - macOS and the others: the precise clock (APFS stamps files from it).
pub fn timestamp_clock_now() -> SystemTime {
  #[cfg(any(target_os = "linux", target_os = "android"))]
  {
    let mut ts = libc::timespec {
      tv_sec: 0,
      tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; the clock id is a constant.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } == 0 && ts.tv_sec >= 0 {
      return UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    }
    SystemTime::now()
  }
  #[cfg(windows)]
  {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::SystemInformation::GetSystemTimeAsFileTime;
    // 100 ns ticks from 1601-01-01 to the Unix epoch.
    const EPOCH_TICKS: u64 = 116_444_736_000_000_000;
    let mut ft = FILETIME {
      dwLowDateTime: 0,
      dwHighDateTime: 0,
    };
    // SAFETY: `ft` is a valid FILETIME to write to.
    unsafe { GetSystemTimeAsFileTime(&mut ft) };
    let ticks = (u64::from(ft.dwHighDateTime) << 32) | u64::from(ft.dwLowDateTime);
    match ticks.checked_sub(EPOCH_TICKS) {
      Some(since) => UNIX_EPOCH + Duration::from_nanos(since.saturating_mul(100)),
      None => SystemTime::now(),
    }
  }
  #[cfg(not(any(target_os = "linux", target_os = "android", windows)))]
  {
    SystemTime::now()
  }
}

/// The permission bits of a file, to give a file derived from it (its `.gz`) the same.
/// Windows: no such bits (ACLs are inherited from the folder); 0o640 stands in and is
/// ignored by `shared_with_mode`.
pub fn permission_bits(meta: &Metadata) -> u32 {
  #[cfg(unix)]
  {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o777
  }
  #[cfg(windows)]
  {
    let _ = meta;
    0o640
  }
}

/// Makes the renames and unlinks done in `dir` durable (Unix: fsync of the folder).
/// Windows: nothing to do through std (see the module docs).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
  #[cfg(unix)]
  {
    File::open(dir)?.sync_all()
  }
  #[cfg(windows)]
  {
    let _ = dir;
    Ok(())
  }
}

//! Gzip of one rotated file, safe against crashes and against other processes doing the
//! same.
//!
//! Order of steps, each one durable before the next: write `X.gz.tmp`, fsync it, rename it
//! to `X.gz`, fsync the folder, and only then remove `X`. A crash at any point leaves `X`
//! whole (and perhaps a partial `.gz.tmp`, or even a complete `.gz`): while `X` exists it
//! is the authority, and the next sweep compresses it again from the start. While
//! compressing, the process holds an exclusive lock on `X` itself (`sys::lock`), so that
//! two processes never write the same `.gz.tmp` and retention never deletes a file being
//! compressed.
//!
//! Windows: `X` is opened shared for delete, so it can be removed while still open; the
//! lock is mandatory there, so another process reading `X` during its compression gets
//! a lock violation; the folder fsync is a no-op (see `sys::fs`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::UNIX_EPOCH;

use flate2::{Compression, GzBuilder};

use super::lockfile::is_file_at;
use super::naming::{with_suffix, GZ, GZ_PARTIAL};
use crate::sys;
use crate::sys::fs::OpenOptionsExt;

/// gzip's own default level: a good ratio on JSON lines at a few tens of MB/s a core.
pub const LEVEL: u32 = 6;
const READ_CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed {
  pub input_bytes: u64,
  pub output_bytes: u64,
}

/// Takes the flock on a rotated plain file without waiting: `Ok(None)` when another
/// process holds it (it is compressing the file) or the file is gone.
pub fn claim(plain: &Path) -> io::Result<Option<File>> {
  let opened = OpenOptions::new()
    .read(true)
    .shared_with_mode(0o640)
    .open(plain);
  let file = match opened {
    Ok(file) => file,
    Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
    Err(err) => return Err(err),
  };
  if !sys::lock::try_lock(&file)? {
    return Ok(None);
  }
  // Between open and lock another process may have finished it and removed the name.
  Ok(is_file_at(&file, plain).then_some(file))
}

/// Compresses `plain` to `plain.gz` and removes `plain`. `Ok(None)` if another process is
/// on it or it is already gone.
pub fn gzip_rotated(plain: &Path) -> io::Result<Option<Compressed>> {
  gzip_rotated_unless(plain, &AtomicBool::new(false))
}

/// `gzip_rotated`, given up (`Ok(None)`, the partial file removed, the plain file kept)
/// if `stop` is set before the `.gz` is complete: at close, compression either finishes
/// its step or leaves only the plain file.
pub fn gzip_rotated_unless(plain: &Path, stop: &AtomicBool) -> io::Result<Option<Compressed>> {
  let Some(mut input) = claim(plain)? else {
    return Ok(None);
  };
  let partial = with_suffix(plain, GZ_PARTIAL);
  let written = write_gzip(&mut input, plain, &partial, stop);
  let output_bytes = match written {
    Ok(n) => n,
    Err(err) => {
      // Give the space back (the disk may be full); the plain file is still whole.
      let _ = fs::remove_file(&partial);
      if stop.load(Ordering::Acquire) {
        return Ok(None);
      }
      return Err(err);
    }
  };
  let gz = with_suffix(plain, GZ);
  fs::rename(&partial, &gz)?;
  let dir = plain.parent().unwrap_or(Path::new("."));
  sys::fs::sync_dir(dir)?;
  fs::remove_file(plain)?;
  let input_bytes = input.metadata().map(|m| m.len()).unwrap_or(0);
  Ok(Some(Compressed {
    input_bytes,
    output_bytes,
  }))
}

/// The modification time in seconds since the epoch, as gzip's header holds it (0, "no
/// time", when unknown or outside its 32 bits).
fn mtime_seconds(meta: &fs::Metadata) -> u32 {
  meta
    .modified()
    .ok()
    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
    .map_or(0, |d| d.as_secs().min(u32::MAX as u64) as u32)
}

/// Writes the gzip of `input` to `partial` and syncs it; returns its size.
fn write_gzip(
  input: &mut File,
  plain: &Path,
  partial: &Path,
  stop: &AtomicBool,
) -> io::Result<u64> {
  let meta = input.metadata()?;
  let out = OpenOptions::new()
    .write(true)
    .create(true)
    .truncate(true)
    .shared_with_mode(sys::fs::permission_bits(&meta))
    .open(partial)?;
  // The original name and time in the header, as gzip itself records them (`gunzip -N`).
  let name = plain
    .file_name()
    .map(|n| n.to_string_lossy().into_owned())
    .unwrap_or_default();
  let mut encoder = GzBuilder::new()
    .filename(name)
    .mtime(mtime_seconds(&meta))
    .write(
      BufWriter::with_capacity(READ_CHUNK, out),
      Compression::new(LEVEL),
    );
  let mut buf = vec![0u8; READ_CHUNK];
  loop {
    if stop.load(Ordering::Acquire) {
      return Err(io::ErrorKind::Interrupted.into());
    }
    let n = match input.read(&mut buf) {
      Ok(0) => break,
      Ok(n) => n,
      Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
      Err(err) => return Err(err),
    };
    encoder.write_all(&buf[..n])?;
  }
  let out = encoder.finish()?.into_inner().map_err(|e| e.into_error())?;
  out.sync_all()?;
  if stop.load(Ordering::Acquire) {
    return Err(io::ErrorKind::Interrupted.into());
  }
  Ok(out.metadata()?.len())
}

#[cfg(test)]
mod tests {
  use super::super::writer::empty_temp_dir;
  use super::*;
  use flate2::read::GzDecoder;

  fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(File::open(path).unwrap())
      .read_to_end(&mut out)
      .unwrap();
    out
  }

  fn lines(n: usize) -> Vec<u8> {
    (0..n)
      .map(|i| format!("{{\"level\":30,\"id\":{i},\"msg\":\"line\"}}\n"))
      .collect::<String>()
      .into_bytes()
  }

  #[test]
  fn the_gz_holds_the_same_bytes_and_the_plain_file_is_removed() {
    let dir = empty_temp_dir("gz", "roundtrip");
    let plain = dir.join("app.x.log");
    let content = lines(20_000);
    fs::write(&plain, &content).unwrap();
    let result = gzip_rotated(&plain).unwrap().unwrap();
    assert_eq!(result.input_bytes, content.len() as u64);
    assert!(result.output_bytes < result.input_bytes / 4);
    assert!(!plain.exists());
    assert!(!with_suffix(&plain, GZ_PARTIAL).exists());
    assert_eq!(gunzip(&with_suffix(&plain, GZ)), content);
    assert_eq!(gzip_rotated(&plain).unwrap(), None, "already done");
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn leftovers_of_a_crash_are_replaced_by_a_complete_gz() {
    let dir = empty_temp_dir("gz", "crash");
    let plain = dir.join("app.y.log");
    let content = lines(1000);
    fs::write(&plain, &content).unwrap();
    let full = {
      let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
      e.write_all(&content).unwrap();
      e.finish().unwrap()
    };
    fs::write(with_suffix(&plain, GZ), &full[..full.len() / 2]).unwrap();
    fs::write(with_suffix(&plain, GZ_PARTIAL), &full[..10]).unwrap();
    gzip_rotated(&plain).unwrap().unwrap();
    assert_eq!(gunzip(&with_suffix(&plain, GZ)), content);
    assert!(!plain.exists());
    assert!(!with_suffix(&plain, GZ_PARTIAL).exists());
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_file_claimed_by_another_compressor_is_left_alone() {
    let dir = empty_temp_dir("gz", "claimed");
    let plain = dir.join("app.z.log");
    fs::write(&plain, b"x\n").unwrap();
    let held = claim(&plain).unwrap().unwrap();
    assert_eq!(gzip_rotated(&plain).unwrap(), None);
    assert!(plain.exists());
    drop(held);
    assert!(gzip_rotated(&plain).unwrap().is_some());
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_failed_compression_keeps_the_plain_file_and_removes_the_partial_one() {
    let dir = empty_temp_dir("gz", "fail");
    let plain = dir.join("app.w.log");
    fs::write(&plain, lines(10)).unwrap();
    // A folder where the partial file should go makes writing it fail.
    fs::create_dir(with_suffix(&plain, GZ_PARTIAL)).unwrap();
    assert!(gzip_rotated(&plain).is_err());
    assert!(plain.exists());
    fs::remove_dir_all(&dir).unwrap();
  }
}

//! The shipper's durable checkpoint: where in a log's files the store has everything.
//!
//! It is two facts: `through`, the rotation stamp of the newest rotated file shipped to its
//! end (every rotated file stamped at or before it is shipped), and `file`, the file being
//! shipped now, by identity (device and inode) and by the hash of its first line (which a
//! `.gz` of it still has, and which tells a reused inode from the file it was), with the
//! offset (in uncompressed bytes) up to which the store has acknowledged every line.
//!
//! It is saved after every acknowledged batch as Vector's ledger should be: written to a
//! temporary file, fsynced, renamed over the old one, and the folder fsynced, so that a crash
//! at any point leaves either the old checkpoint or the new one, never a torn one, and a
//! checkpoint is never ahead of what the store acknowledged. A save that fails (a full disk)
//! leaves the old checkpoint and no temporary file; the shipper reports it and goes on. The archive thread reads it
//! (`unshipped`) before retention deletes a rotated file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::log::naming::with_suffix;

/// The suffix of a log's checkpoint file (`app.log.ship.json`).
pub const SUFFIX: &str = ".ship.json";

/// The first line of a file, as a fingerprint: its length and FNV-1a hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
  pub len: u64,
  pub hash: u64,
}

impl Key {
  pub fn of(first_line: &[u8]) -> Key {
    Key {
      len: first_line.len() as u64,
      hash: fnv1a(first_line),
    }
  }
}

/// FNV-1a, 64 bits: a fingerprint, not a defence against a forger.
pub fn fnv1a(bytes: &[u8]) -> u64 {
  let mut h: u64 = 0xcbf2_9ce4_8422_2325;
  for &b in bytes {
    h ^= u64::from(b);
    h = h.wrapping_mul(0x0100_0000_01b3);
  }
  h
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
  pub dev: u64,
  pub ino: u64,
  /// None while the file has no whole line yet.
  pub key: Option<Key>,
  /// Every line before this byte offset (uncompressed) is acknowledged.
  pub offset: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
  /// Format version.
  pub v: u32,
  /// Rotation stamp (ms) of the newest rotated file shipped to its end.
  pub through: Option<i64>,
  pub file: Option<Position>,
  /// The backlog cap the shipper was started with, for the archive thread's retention.
  pub backlog_bytes: u64,
}

pub fn path_for(log: &Path) -> PathBuf {
  with_suffix(log, SUFFIX)
}

impl Checkpoint {
  /// The checkpoint of `log`; None when there is none (never shipped). A checkpoint that
  /// cannot be parsed is an error, which the shipper reports before starting over from the
  /// first file (at-least-once: repeated lines, never skipped ones).
  pub fn load(log: &Path) -> io::Result<Option<Checkpoint>> {
    match fs::read(path_for(log)) {
      Ok(bytes) => serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
      Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
      Err(err) => Err(err),
    }
  }

  /// Saves durably: temp, fsync, rename, fsync of the folder.
  pub fn save(&self, log: &Path) -> io::Result<()> {
    let path = path_for(log);
    let temp = with_suffix(&path, ".tmp");
    let json = serde_json::to_vec(self).map_err(io::Error::other)?;
    let written = fs::File::create(&temp).and_then(|mut file| {
      file.write_all(&json)?;
      file.sync_all()
    });
    if let Err(err) = written.and_then(|()| fs::rename(&temp, &path)) {
      // A full disk (ENOSPC) fails the write: the old checkpoint stays as it was, and the
      // partial temporary file is removed so that it holds no space.
      let _ = fs::remove_file(&temp);
      return Err(err);
    }
    let dir = path
      .parent()
      .filter(|p| !p.as_os_str().is_empty())
      .unwrap_or(Path::new("."));
    crate::sys::fs::sync_dir(dir)
  }
}

/// For retention: `(through, backlog_bytes)` of the shipper of `log`, if it has one. A
/// rotated file stamped after `through` (any, when it is None) is not shipped yet.
pub fn unshipped(log: &Path) -> Option<(Option<i64>, u64)> {
  match Checkpoint::load(log) {
    Ok(Some(c)) => Some((c.through, c.backlog_bytes)),
    Ok(None) => None,
    // Unreadable: keep everything the cap allows rather than delete unshipped lines.
    Err(_) => fs::metadata(path_for(log))
      .ok()
      .map(|_| (None, DEFAULT_BACKLOG_BYTES)),
  }
}

/// The default backlog cap: 1 GiB of rotated files kept for the shipper past retention.
pub const DEFAULT_BACKLOG_BYTES: u64 = 1 << 30;

#[cfg(test)]
mod tests {
  use super::*;
  use crate::log::writer::empty_temp_dir;

  #[test]
  fn a_saved_checkpoint_loads_back_and_none_is_none() {
    let dir = empty_temp_dir("ship", "checkpoint");
    let log = dir.join("app.log");
    assert_eq!(Checkpoint::load(&log).unwrap(), None);
    let c = Checkpoint {
      v: 1,
      through: Some(5),
      file: Some(Position {
        dev: 1,
        ino: 2,
        key: Some(Key::of(b"{\"a\":1}")),
        offset: 42,
      }),
      backlog_bytes: 100,
    };
    c.save(&log).unwrap();
    assert_eq!(Checkpoint::load(&log).unwrap(), Some(c));
    assert_eq!(unshipped(&log), Some((Some(5), 100)));
    assert!(!with_suffix(&path_for(&log), ".tmp").exists());
    fs::write(path_for(&log), b"{torn").unwrap();
    assert!(Checkpoint::load(&log).is_err());
    assert_eq!(unshipped(&log), Some((None, DEFAULT_BACKLOG_BYTES)));
    fs::remove_dir_all(&dir).unwrap();
  }
}

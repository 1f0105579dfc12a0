//! Rotation of a log file by size and/or time, decided by the writer thread before each
//! write, under the lock file (see `lockfile.rs`), so that of several processes appending
//! to one path exactly one renames the file and every other one moves to the new file
//! before its next write.
//!
//! - size: a batch goes to the current file as far as its whole lines fit under the
//!   limit; the file is then rotated and the rest goes to the new file (each part one
//!   write, under the lock). A file passes the limit only by a single line longer than it.
//! - interval: periods are aligned to the UTC epoch (`daily` turns at 00:00 UTC,
//!   `hourly` on the hour); a file born in an earlier period than now is rotated before
//!   the next write. A file's period comes from its birth time on the file system, which
//!   every process sees alike, so the first process to write after the turn rotates and
//!   the others find a new file. (Where the file system has no birth time, the time this
//!   process first saw the file stands in.) Now is read from the clock the file system
//!   stamps files with (`sys::fs::timestamp_clock_now`), a coarse one on Linux and
//!   Windows: read from the precise clock, a file made just after a turn could look
//!   born before it and be rotated twice.
//!
//! A rotation that fails (no permission to rename, say) is reported once and the batch is
//! written to the current file: a line is worth more than a size limit. It is tried
//! again before every batch.

use std::fs::{self, Metadata};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::archive::{Archiver, Retention, RotationStats};
use super::destination::{error_code, Destination};
use super::naming::Naming;
use super::writer::{ReportOnce, Reporter};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RotatePolicy {
  /// Rotate before a batch would take the file past this many bytes.
  pub size: Option<u64>,
  /// Rotate when the period (of this many ms, from the epoch) of the file's birth is over.
  pub interval_ms: Option<u64>,
  pub retention: Retention,
}

/// The length of the longest run of whole lines at the start of `buf` within `room`
/// bytes (all of `buf` if it fits).
fn fitting(buf: &[u8], room: u64) -> usize {
  if buf.len() as u64 <= room {
    return buf.len();
  }
  buf[..room as usize]
    .iter()
    .rposition(|&b| b == b'\n')
    .map_or(0, |p| p + 1)
}

pub struct Rotation {
  policy: RotatePolicy,
  path: PathBuf,
  naming: Naming,
  archiver: Option<Archiver>,
  stats: Arc<RotationStats>,
  reporter: Arc<dyn Reporter>,
  /// The error code of a rotation failure being reported, so that it is reported once.
  failing: ReportOnce,
  /// (dev, ino, when) of the file as first seen, for file systems without birth times.
  first_seen: Option<(u64, u64, SystemTime)>,
}

fn ms_since_epoch(t: SystemTime) -> u64 {
  t.duration_since(UNIX_EPOCH)
    .map(|d| d.as_millis() as u64)
    .unwrap_or(0)
}

impl Rotation {
  pub fn new(
    path: PathBuf,
    policy: RotatePolicy,
    stats: Arc<RotationStats>,
    reporter: Arc<dyn Reporter>,
  ) -> Rotation {
    let naming = Naming::new(&path);
    let archiver = if policy.retention.is_active() {
      match Archiver::start(
        naming.clone(),
        policy.retention,
        stats.clone(),
        reporter.clone(),
      ) {
        Ok(archiver) => Some(archiver),
        Err(err) => {
          // Rotation still works; rotated files stay plain until the next start.
          let message = format!(
            "prodkit: cannot start the log archive thread: {err}. Rotated files of {} are not compressed or cleaned up.",
            path.display()
          );
          eprintln!("{message}");
          reporter.failed(&error_code(&err), &message);
          None
        }
      }
    } else {
      None
    };
    Rotation {
      naming,
      path,
      policy,
      archiver,
      stats,
      reporter,
      failing: ReportOnce::default(),
      first_seen: None,
    }
  }

  /// Under the lock, with `dest` current and `buf` starting at a line: rotates if due
  /// and returns how many bytes of `buf` (whole lines) go to the file now. Errors are
  /// those of opening the new file, which the writer handles as write errors; a failed
  /// rename is reported here and the bytes go to the current file.
  pub fn before_write(&mut self, dest: &mut Destination, buf: &[u8]) -> io::Result<usize> {
    let Some(meta) = dest.open_metadata() else {
      return Ok(buf.len());
    };
    let meta = meta?;
    // From the clock files are stamped with: compared with the precise clock, a file
    // this writer made a few ms after a turn could look born before it and be rotated
    // again at the next batch.
    let now = crate::sys::fs::timestamp_clock_now();
    let mut size = meta.len();
    if self.period_over(&meta, now) {
      let renewed = if size > 0 {
        self.rotate(dest, now)?
      } else {
        self.recreate(dest)?
      };
      if renewed {
        size = 0;
      }
    }
    let Some(limit) = self.policy.size else {
      return Ok(buf.len());
    };
    let mut take = fitting(buf, limit.saturating_sub(size));
    if take == 0 && size > 0 {
      if !self.rotate(dest, now)? {
        return Ok(buf.len());
      }
      take = fitting(buf, limit);
    }
    if take == 0 {
      // A line longer than the limit: alone in its file, whole.
      take = buf
        .iter()
        .position(|&b| b == b'\n')
        .map_or(buf.len(), |p| p + 1);
    }
    Ok(take)
  }

  /// Renames the file to its rotated name and opens a new one. False if the rename
  /// failed (reported).
  fn rotate(&mut self, dest: &mut Destination, now: SystemTime) -> io::Result<bool> {
    let rotated = self.naming.next_plain(ms_since_epoch(now) as i64);
    if let Err(err) = fs::rename(&self.path, &rotated) {
      self.failed(&err);
      return Ok(false);
    }
    self.stats.rotations.fetch_add(1, Ordering::Relaxed);
    self.failing.clear();
    if let Some(archiver) = &self.archiver {
      archiver.request_sweep();
    }
    dest.reopen()?;
    Ok(true)
  }

  /// An empty file from an earlier period is made anew rather than kept as a rotated
  /// file, so that its birth (and so its period) is now.
  fn recreate(&mut self, dest: &mut Destination) -> io::Result<bool> {
    if let Err(err) = fs::remove_file(&self.path) {
      self.failed(&err);
      return Ok(false);
    }
    dest.reopen()?;
    Ok(true)
  }

  fn period_over(&mut self, meta: &Metadata, now: SystemTime) -> bool {
    let Some(interval) = self.policy.interval_ms.filter(|&ms| ms > 0) else {
      return false;
    };
    let born = ms_since_epoch(self.born(meta, now));
    born / interval < ms_since_epoch(now) / interval
  }

  fn born(&mut self, meta: &Metadata, now: SystemTime) -> SystemTime {
    if let Ok(born) = meta.created() {
      return born;
    }
    let (dev, ino) = crate::sys::fs::identity(meta);
    match self.first_seen {
      Some((seen_dev, seen_ino, seen)) if seen_dev == dev && seen_ino == ino => seen,
      _ => {
        self.first_seen = Some((dev, ino, now));
        now
      }
    }
  }

  fn failed(&mut self, err: &io::Error) {
    self.stats.errors.fetch_add(1, Ordering::Relaxed);
    let path = &self.path;
    self.failing.failed(err, &*self.reporter, |code| {
      format!(
        "prodkit: cannot rotate the log {}: {err} ({code}). Writing on to the current file; retrying before each batch.",
        path.display()
      )
    });
  }
}

#[cfg(test)]
mod tests {
  use super::super::destination::Target;
  use super::super::writer::{empty_temp_dir, CollectedCodes};
  use super::*;
  use std::path::Path;

  fn rotation(path: &Path, policy: RotatePolicy) -> Rotation {
    Rotation::new(
      path.to_path_buf(),
      policy,
      Arc::default(),
      Arc::new(CollectedCodes::default()),
    )
  }

  /// What the writer does for one batch.
  fn write_batch(rotation: &mut Rotation, dest: &mut Destination, batch: &[u8]) {
    let mut offset = 0;
    while offset < batch.len() {
      let _locked = dest.lock().unwrap().unwrap();
      dest.ensure_current().unwrap();
      let take = rotation.before_write(dest, &batch[offset..]).unwrap();
      assert!(take > 0);
      assert_eq!(dest.write(&batch[offset..offset + take]).unwrap(), take);
      offset += take;
    }
  }

  fn rotated_files(dir: &Path) -> Vec<PathBuf> {
    let naming = Naming::new(&dir.join("app.log"));
    naming
      .list()
      .unwrap()
      .into_iter()
      .map(|r| r.plain.unwrap())
      .collect()
  }

  #[test]
  fn whole_lines_fill_a_file_up_to_the_size_limit_and_the_rest_goes_to_a_new_one() {
    let dir = empty_temp_dir("rotate", "size");
    let path = dir.join("app.log");
    let policy = RotatePolicy {
      size: Some(10),
      ..RotatePolicy::default()
    };
    let mut r = rotation(&path, policy);
    let mut dest = Destination::new(Target::File(path.clone()));
    write_batch(&mut r, &mut dest, b"aaaa\n"); // 5
    write_batch(&mut r, &mut dest, b"bbbb\n"); // 10: fits exactly
    write_batch(&mut r, &mut dest, b"c\n"); // would be 12: rotates first
    write_batch(&mut r, &mut dest, b"dd\neee\nffff\n"); // 2 + 7 fit, then a new file
    write_batch(&mut r, &mut dest, b"0123456789abcdef\ng\n"); // a line over the limit: alone, whole
    let rotated = rotated_files(&dir);
    let contents: Vec<String> = rotated
      .iter()
      .map(|p| fs::read_to_string(p).unwrap())
      .collect();
    assert_eq!(
      contents,
      vec![
        "aaaa\nbbbb\n",
        "c\ndd\neee\n",
        "ffff\n",
        "0123456789abcdef\n"
      ]
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "g\n");
    assert_eq!(r.stats.rotations.load(Ordering::Relaxed), 4);
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn fitting_takes_whole_lines_only() {
    assert_eq!(fitting(b"ab\ncd\n", 100), 6);
    assert_eq!(fitting(b"ab\ncd\n", 5), 3);
    assert_eq!(fitting(b"ab\ncd\n", 2), 0);
    assert_eq!(fitting(b"ab\ncd\n", 0), 0);
  }

  #[test]
  fn a_file_born_in_an_earlier_period_is_rotated_and_an_empty_one_made_anew() {
    let dir = empty_temp_dir("rotate", "interval");
    let path = dir.join("app.log");
    let policy = RotatePolicy {
      interval_ms: Some(1000),
      ..RotatePolicy::default()
    };
    let mut r = rotation(&path, policy);
    let mut dest = Destination::new(Target::File(path.clone()));
    let ms = || ms_since_epoch(SystemTime::now());
    // Start right after a turn of the second, so the next two batches share a period.
    while ms() % 1000 > 100 {
      std::thread::sleep(std::time::Duration::from_millis(5));
    }
    write_batch(&mut r, &mut dest, b"one\n");
    write_batch(&mut r, &mut dest, b"two\n");
    assert!(rotated_files(&dir).is_empty());
    // Into the next period, past the few ms the coarse clock lags.
    std::thread::sleep(std::time::Duration::from_millis(1050));
    write_batch(&mut r, &mut dest, b"three\n");
    assert_eq!(rotated_files(&dir).len(), 1);
    assert_eq!(
      fs::read_to_string(&rotated_files(&dir)[0]).unwrap(),
      "one\ntwo\n"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "three\n");
    // An empty file from an earlier period is not kept as a rotated file.
    fs::write(&path, b"").unwrap();
    // Into the next period, past the few ms the coarse clock lags.
    std::thread::sleep(std::time::Duration::from_millis(1050));
    write_batch(&mut r, &mut dest, b"four\n");
    assert_eq!(rotated_files(&dir).len(), 1);
    assert_eq!(fs::read_to_string(&path).unwrap(), "four\n");
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_file_made_just_after_a_turn_is_not_rotated_again_in_the_same_period() {
    // File systems stamp files from a coarse clock a few ms behind the precise one: a
    // file made 1 ms after a turn may have a birth time before it. Rotated on the
    // precise clock, the next batch in the same period rotated it again.
    let dir = empty_temp_dir("rotate", "turn");
    let path = dir.join("app.log");
    let policy = RotatePolicy {
      interval_ms: Some(100),
      ..RotatePolicy::default()
    };
    let mut r = rotation(&path, policy);
    let mut dest = Destination::new(Target::File(path.clone()));
    let ms = || ms_since_epoch(SystemTime::now());
    let rotations = |r: &Rotation| r.stats.rotations.load(Ordering::Relaxed);
    let mut tried = 0;
    let mut last = 0;
    while tried < 10 {
      // Right after a turn (by the precise clock), in a period not seen yet.
      let period = loop {
        let now = ms();
        if now % 100 < 2 && now / 100 != last {
          break now / 100;
        }
        std::hint::spin_loop();
      };
      last = period;
      let before = rotations(&r);
      for batch in [&b"a\n"[..], b"b\n", b"c\n"] {
        write_batch(&mut r, &mut dest, batch);
      }
      if ms() / 100 != period {
        continue; // preempted into the next period: says nothing
      }
      tried += 1;
      let rotated = rotations(&r) - before;
      assert!(rotated <= 1, "{rotated} rotations within one period");
    }
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn writers_with_their_own_descriptors_follow_each_others_rotations() {
    let dir = empty_temp_dir("rotate", "writers");
    let path = dir.join("app.log");
    let policy = RotatePolicy {
      size: Some(4096),
      ..RotatePolicy::default()
    };
    let threads: Vec<_> = (0..4)
      .map(|w| {
        let path = path.clone();
        std::thread::spawn(move || {
          let mut r = rotation(&path, policy);
          let mut dest = Destination::new(Target::File(path.clone()));
          for batch in 0..500 {
            let mut lines = String::new();
            for i in 0..5 {
              lines.push_str(&format!("{{\"w\":{w},\"i\":{}}}\n", batch * 5 + i));
            }
            write_batch(&mut r, &mut dest, lines.as_bytes());
          }
          r.stats.rotations.load(Ordering::Relaxed)
        })
      })
      .collect();
    let rotations: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let mut files = rotated_files(&dir);
    assert_eq!(
      files.len() as u64,
      rotations,
      "one rotated file per rotation"
    );
    assert!(rotations > 20, "{rotations} rotations");
    files.push(path.clone());
    let mut seen = std::collections::HashSet::new();
    for file in &files {
      let text = fs::read_to_string(file).unwrap();
      assert!(
        text.len() <= 4096,
        "{} is {} bytes",
        file.display(),
        text.len()
      );
      for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(seen.insert((v["w"].as_u64().unwrap(), v["i"].as_u64().unwrap())));
      }
    }
    assert_eq!(seen.len(), 4 * 2500, "every line once");
    fs::remove_dir_all(&dir).unwrap();
  }
}

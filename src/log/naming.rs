//! Names of rotated files.
//!
//! `app.log` rotated at 2026-11-25 12:00:00.123 UTC becomes
//! `app.2026-11-25T12-00-00.123Z.log`, and `app.2026-11-25T12-00-00.123Z.log.gz` once
//! compressed (written first as `....log.gz.tmp`, renamed when complete). The current file
//! keeps its name. The timestamp is the time of the rotation, in UTC, fixed width, so that
//! sorting the names sorts the files in the order they were written; it has no colons
//! (not allowed on Windows, and `host:path` to scp and rsync). A rotation never takes a
//! name that sorts before an existing one: two rotations in the same millisecond get
//! consecutive milliseconds, and so does a rotation after the clock was set back.
//!
//! Only names of exactly this shape are ever compressed or deleted: other files in the
//! folder (another log's, logrotate's `app.log.1`) are never touched.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

const STAMP: &[FormatItem<'static>] =
  format_description!("[year]-[month]-[day]T[hour]-[minute]-[second].[subsecond digits:3]Z");
const STAMP_LEN: usize = "2026-11-25T12-00-00.123Z".len();
pub const GZ: &str = ".gz";
/// A compressed file being written; renamed to `.gz` only once complete and synced.
pub const GZ_PARTIAL: &str = ".gz.tmp";

/// The kind of a rotated file, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
  Plain,
  Gzip,
  PartialGzip,
}

/// Every file of one rotation (plain, compressed, or both while compression runs).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
  /// Rotation time, ms since the epoch.
  pub ms: i64,
  pub plain: Option<PathBuf>,
  pub gzip: Option<PathBuf>,
  pub partial: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct Naming {
  dir: PathBuf,
  /// `app.` for `app.log`.
  prefix: String,
  /// `.log` for `app.log`, empty for a name without an extension.
  ext: String,
}

/// The last millisecond a stamp can spell (9999-12-31T23:59:59.999Z).
const MAX_STAMP_MS: i64 = 253_402_300_799_999;
/// Names tried after the newest rotation before giving up on the stamp sequence.
const NAME_ATTEMPTS: usize = 1000;
/// A rotation stamped further ahead of the clock than this is not one this clock made
/// (a file copied in, a name made by hand, a clock that was once set years ahead): it
/// is not followed, or every later rotation would be stamped after it.
const FUTURE_SLACK_MS: i64 = 24 * 3600 * 1000;

fn is_far_future(ms: i64, now_ms: i64) -> bool {
  ms > now_ms.saturating_add(FUTURE_SLACK_MS)
}

/// UTC `YYYY-MM-DDTHH-MM-SS.mmmZ` of a time in ms since the epoch.
pub fn stamp(ms: i64) -> String {
  OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
    .ok()
    .and_then(|t| t.format(STAMP).ok())
    .unwrap_or_else(|| "1970-01-01T00-00-00.000Z".into())
}

/// The ms since the epoch of a stamp made by `stamp`, or None for any other text.
pub fn parse_stamp(text: &str) -> Option<i64> {
  let time = PrimitiveDateTime::parse(text, STAMP).ok()?.assume_utc();
  let ms = (time.unix_timestamp_nanos() / 1_000_000) as i64;
  // Only the canonical spelling, so that a name maps to one time and back.
  (stamp(ms) == text).then_some(ms)
}

/// `path` with `suffix` appended to its file name.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
  let mut name = path.as_os_str().to_owned();
  name.push(suffix);
  PathBuf::from(name)
}

impl Naming {
  pub fn new(log: &Path) -> Naming {
    let dir = log
      .parent()
      .filter(|p| !p.as_os_str().is_empty())
      .unwrap_or(Path::new("."))
      .to_path_buf();
    let name = log
      .file_name()
      .map(|n| n.to_string_lossy().into_owned())
      .unwrap_or_default();
    // `app.log` -> (`app`, `.log`); `app` and `.hidden` have no extension.
    let (stem, ext) = match name.rfind('.') {
      Some(dot) if dot > 0 => (name[..dot].to_string(), name[dot..].to_string()),
      _ => (name, String::new()),
    };
    Naming {
      dir,
      prefix: format!("{stem}."),
      ext,
    }
  }

  pub fn dir(&self) -> &Path {
    &self.dir
  }

  /// The log file these are the rotations of (`app.log`).
  pub fn log_path(&self) -> PathBuf {
    let stem = self.prefix.strip_suffix('.').unwrap_or(&self.prefix);
    self.dir.join(format!("{stem}{}", self.ext))
  }

  /// The plain rotated file of a rotation at `ms`.
  pub fn plain(&self, ms: i64) -> PathBuf {
    self
      .dir
      .join(format!("{}{}{}", self.prefix, stamp(ms), self.ext))
  }

  /// The plain name for a rotation now: at `now_ms`, or just after the newest rotation
  /// there is if that is later (several rotations in one millisecond, or a clock set
  /// back), so that a new name always sorts after every existing one. Called under the
  /// rotation lock, so no other process picks a name meanwhile.
  pub fn next_plain(&self, now_ms: i64) -> PathBuf {
    let newest = self.list().ok().and_then(|found| {
      found
        .iter()
        .rev()
        .map(|r| r.ms)
        .find(|&ms| !is_far_future(ms, now_ms))
    });
    let start = newest.map_or(now_ms, |newest| now_ms.max(newest + 1));
    // Bounded: a folder full of taken names (or a clock beyond what a stamp can spell)
    // must never make the writer spin while it holds the rotation lock.
    for ms in (start..).take(NAME_ATTEMPTS) {
      if ms > MAX_STAMP_MS {
        break;
      }
      let plain = self.plain(ms);
      let taken = [plain.clone(), with_suffix(&plain, GZ)]
        .iter()
        .any(|p| p.symlink_metadata().is_ok());
      if !taken {
        return plain;
      }
    }
    // Every candidate taken: a name after the newest stamp of the lot still sorts last,
    // so fall back to the current time's stamp plus a counter suffix that no parser
    // mistakes for a rotation of this log: such a file is kept, never compressed or
    // deleted, and never a reason to loop.
    let mut n = 0u32;
    loop {
      let plain = self.dir.join(format!(
        "{}{}-{n}{}",
        self.prefix,
        stamp(now_ms.min(MAX_STAMP_MS)),
        self.ext
      ));
      if plain.symlink_metadata().is_err() || n == u32::MAX {
        return plain;
      }
      n += 1;
    }
  }

  /// The rotation time and kind of a file name, if it is one of this log's rotated files.
  pub fn parse(&self, name: &str) -> Option<(i64, Kind)> {
    let rest = name.strip_prefix(&self.prefix)?;
    let stamp_text = rest.get(..STAMP_LEN)?;
    let tail = rest[STAMP_LEN..].strip_prefix(&self.ext)?;
    let kind = match tail {
      "" => Kind::Plain,
      GZ => Kind::Gzip,
      GZ_PARTIAL => Kind::PartialGzip,
      _ => return None,
    };
    Some((parse_stamp(stamp_text)?, kind))
  }

  /// Every rotation of this log found in its folder, oldest first.
  pub fn list(&self) -> io::Result<Vec<Rotated>> {
    let mut found: Vec<Rotated> = Vec::new();
    for entry in fs::read_dir(&self.dir)? {
      let entry = entry?;
      let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
        continue;
      };
      let Some((ms, kind)) = self.parse(&name) else {
        continue;
      };
      let index = match found.iter().position(|r| r.ms == ms) {
        Some(i) => i,
        None => {
          found.push(Rotated {
            ms,
            ..Rotated::default()
          });
          found.len() - 1
        }
      };
      let slot = match kind {
        Kind::Plain => &mut found[index].plain,
        Kind::Gzip => &mut found[index].gzip,
        Kind::PartialGzip => &mut found[index].partial,
      };
      *slot = Some(entry.path());
    }
    found.sort_by_key(|r| r.ms);
    Ok(found)
  }
}

#[cfg(test)]
mod tests {
  use super::super::writer::empty_temp_dir;
  use super::*;

  #[test]
  fn stamps_are_fixed_width_utc_and_round_trip() {
    assert_eq!(stamp(0), "1970-01-01T00-00-00.000Z");
    let ms = 1_795_608_000_123; // 2026-11-25T12:00:00.123Z
    assert_eq!(stamp(ms), "2026-11-25T12-00-00.123Z");
    assert_eq!(parse_stamp(&stamp(ms)), Some(ms));
    for bad in [
      "2026-11-25T10:00:00.123Z",
      "2026-13-25T10-00-00.123Z",
      "x",
      "",
    ] {
      assert_eq!(parse_stamp(bad), None, "{bad}");
    }
  }

  #[test]
  fn names_keep_the_extension_last_and_sort_in_rotation_order() {
    let n = Naming::new(Path::new("/var/log/app.log"));
    assert_eq!(
      n.plain(0),
      Path::new("/var/log/app.1970-01-01T00-00-00.000Z.log")
    );
    let mut names: Vec<String> = [5_000_000_000_000, 999, 1_795_608_000_123, 1_000]
      .iter()
      .map(|&ms| n.plain(ms).display().to_string())
      .collect();
    names.sort();
    let times: Vec<i64> = names
      .iter()
      .map(|p| n.parse(p.rsplit('/').next().unwrap()).unwrap().0)
      .collect();
    assert_eq!(
      times,
      vec![999, 1_000, 1_795_608_000_123, 5_000_000_000_000]
    );
    let bare = Naming::new(Path::new("out"));
    assert_eq!(bare.plain(0), Path::new("./out.1970-01-01T00-00-00.000Z"));
  }

  #[test]
  fn only_this_logs_rotated_names_are_recognised() {
    let n = Naming::new(Path::new("/l/app.log"));
    let s = "2026-11-25T10-00-00.123Z";
    let ms = parse_stamp(s).unwrap();
    assert_eq!(n.parse(&format!("app.{s}.log")), Some((ms, Kind::Plain)));
    assert_eq!(n.parse(&format!("app.{s}.log.gz")), Some((ms, Kind::Gzip)));
    assert_eq!(
      n.parse(&format!("app.{s}.log.gz.tmp")),
      Some((ms, Kind::PartialGzip))
    );
    for other in [
      "app.log".to_string(),
      "app.log.1".to_string(),
      format!("app.{s}.txt"),
      format!("app.{s}.log.bz2"),
      format!("app.err.{s}.log"),
      format!("api.{s}.log"),
      format!("app.{s}.log.gz.tmp.x"),
    ] {
      assert_eq!(n.parse(&other), None, "{other}");
    }
  }

  #[test]
  fn listing_groups_the_files_of_a_rotation_and_new_names_sort_after_existing_ones() {
    let dir = empty_temp_dir("naming", "listing");
    let n = Naming::new(&dir.join("app.log"));
    fs::write(n.plain(2000), b"b").unwrap();
    fs::write(with_suffix(&n.plain(2000), GZ_PARTIAL), b"").unwrap();
    fs::write(with_suffix(&n.plain(1000), GZ), b"a").unwrap();
    fs::write(dir.join("app.log"), b"current").unwrap();
    fs::write(dir.join("notes.txt"), b"").unwrap();
    let list = n.list().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].ms, 1000);
    assert!(list[0].gzip.is_some() && list[0].plain.is_none());
    assert_eq!(list[1].plain, Some(n.plain(2000)));
    assert!(list[1].partial.is_some());
    assert_eq!(n.next_plain(3000), n.plain(3000));
    assert_eq!(n.next_plain(2000), n.plain(2001), "taken");
    assert_eq!(
      n.next_plain(1500),
      n.plain(2001),
      "a name older than the newest"
    );
    fs::remove_file(n.plain(2000)).unwrap();
    assert_eq!(
      n.next_plain(1500),
      n.plain(2001),
      "a partial .gz still counts"
    );
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn a_far_future_or_odd_name_never_makes_naming_loop() {
    let dir = empty_temp_dir("naming", "future");
    let n = Naming::new(&dir.join("app.log"));
    fs::write(dir.join("app.9999-12-31T23-59-59.999Z.log"), b"x\n").unwrap();
    fs::write(dir.join("app.9999-12-31T23-59-59.999Z.log.gz"), b"").unwrap();
    fs::write(dir.join("app.not-a-stampXXXXXXXXXXX.log"), b"").unwrap();
    fs::write(dir.join("app..log"), b"").unwrap();
    let now = 1_795_608_000_123;
    assert_eq!(
      n.next_plain(now),
      n.plain(now),
      "the far-future file is not followed"
    );
    fs::write(n.plain(now), b"").unwrap();
    assert_eq!(n.next_plain(now), n.plain(now + 1));
    // A clock at the end of what a stamp can spell: a name is still found, at once.
    let end = MAX_STAMP_MS;
    let last = n.next_plain(end);
    assert!(last.symlink_metadata().is_err());
    fs::write(&last, b"").unwrap();
    let after = n.next_plain(end);
    assert_ne!(after, last);
    assert!(after.symlink_metadata().is_err());
    fs::remove_dir_all(&dir).unwrap();
  }
}

//! The follower: reads a log's files in the order they were written (rotated files oldest
//! first, plain or `.gz`, then the current file) and hands out batches of whole lines,
//! starting where the checkpoint says the store has everything.
//!
//! - Only whole lines leave it: a partial last line of the current file waits for its
//!   newline. A rotated file is complete (rotation renames it under the writers' lock, after
//!   their last write to it); a fragment at its end (a writer killed mid-line) is handed to
//!   the shipper as torn, to be set aside, never sent.
//! - The current file is followed by identity: when the name points at another file, the
//!   old one was rotated; it is read to its end (no writer adds to it any more), found among
//!   the rotated files (plain by identity, `.gz` by the hash of its first line) and marked
//!   shipped through its stamp. A file shorter than what was read was truncated in place
//!   (copytruncate): it is read again from the start.
//! - Offsets are in uncompressed bytes, so a checkpoint taken on a plain file still holds
//!   once the file is compressed: the `.gz` is read through flate2 and the acknowledged
//!   bytes skipped.
//! - A batch's id is the hash of its file's first line and its start and end offsets: the
//!   same lines re-sent (after a retry or a crash) have the same id, and a batch cut
//!   differently after a restart has another one, so a store deduplicating on the id never
//!   drops a line it did not have.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;

use super::checkpoint::{Checkpoint, Key, Position};
use crate::log::naming::Naming;

/// A batch of whole lines handed out and not yet acknowledged.
pub struct Pending {
  pub id: String,
  /// The lines, each with its newline.
  pub data: Vec<u8>,
  pub start: u64,
  pub end: u64,
}

impl Pending {
  /// The lines without their newlines.
  pub fn lines(&self) -> Vec<&[u8]> {
    let body = self.data.strip_suffix(b"\n").unwrap_or(&self.data);
    body.split(|&b| b == b'\n').collect()
  }
}

/// One file being read.
struct Open {
  reader: Box<dyn Read + Send>,
  /// The open plain file (the current one, or a rotated one), for identity and size.
  file: Option<File>,
  /// (dev, ino) of a plain file; (0, 0) for one read from a `.gz`.
  ident: (u64, u64),
  /// Some(stamp) for a rotated file, Some(None) for a rotated file whose stamp is unknown
  /// (gone from the folder), None for the current file.
  rotated: Option<Option<i64>>,
  key: Option<Key>,
  /// Offset (uncompressed) of `buf[0]`.
  base: u64,
  buf: Vec<u8>,
  eof: bool,
}

/// Reads a file's first line, up to `max` bytes (a `.gz` through flate2).
fn first_line(path: &Path, gz: bool, max: u64) -> io::Result<Vec<u8>> {
  let file = File::open(path)?;
  let reader: Box<dyn Read> = if gz {
    Box::new(MultiGzDecoder::new(file))
  } else {
    Box::new(file)
  };
  let mut line = Vec::new();
  BufReader::new(reader.take(max + 1)).read_until(b'\n', &mut line)?;
  if line.last() == Some(&b'\n') {
    line.pop();
  }
  Ok(line)
}

fn key_matches(path: &Path, gz: bool, key: Key) -> bool {
  first_line(path, gz, key.len).is_ok_and(|line| Key::of(&line) == key)
}

/// A file of the log, in shipping order.
struct Candidate {
  /// Rotation stamp; None for the current file.
  ms: Option<i64>,
  plain: Option<PathBuf>,
  gzip: Option<PathBuf>,
}

pub struct Follower {
  log: PathBuf,
  naming: Naming,
  pub checkpoint: Checkpoint,
  open: Option<Open>,
  /// When the oldest whole line not handed out yet was first seen.
  waiting_since: Option<Instant>,
  /// Fragments at the end of rotated files, for the shipper to set aside.
  pub torn: Vec<Vec<u8>>,
  /// A checkpoint save that failed when a rotated file was finished, for the shipper to
  /// report.
  pub unsaved: Option<io::Error>,
  /// Read-ahead bound.
  buffer_bytes: usize,
}

const READ_CHUNK: usize = 64 * 1024;
/// A "line" longer than this is set aside as torn instead of being read whole.
const MAX_LINE_BYTES: usize = 64 << 20;

impl Follower {
  pub fn new(log: &Path, checkpoint: Checkpoint, batch_bytes: usize) -> Follower {
    Follower {
      log: log.to_path_buf(),
      naming: Naming::new(log),
      checkpoint,
      open: None,
      waiting_since: None,
      torn: Vec::new(),
      unsaved: None,
      buffer_bytes: (batch_bytes * 2).max(256 * 1024),
    }
  }

  pub fn log(&self) -> &Path {
    &self.log
  }

  /// Files not shipped to their end yet, in order: rotated files stamped after `through`,
  /// then the current file.
  fn candidates(&self) -> io::Result<Vec<Candidate>> {
    let listed = match self.naming.list() {
      Ok(list) => list,
      Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
      Err(err) => return Err(err),
    };
    let through = self.checkpoint.through;
    let mut out: Vec<Candidate> = listed
      .into_iter()
      .filter(|r| through.is_none_or(|t| r.ms > t))
      .filter(|r| r.plain.is_some() || r.gzip.is_some())
      .map(|r| Candidate {
        ms: Some(r.ms),
        plain: r.plain,
        gzip: r.gzip,
      })
      .collect();
    out.push(Candidate {
      ms: None,
      plain: Some(self.log.clone()),
      gzip: None,
    });
    Ok(out)
  }

  /// Whether `c` is the file of `pos`.
  fn is_position(c: &Candidate, pos: &Position) -> bool {
    if let Some(plain) = &c.plain {
      if let Ok(meta) = fs::metadata(plain) {
        let ident = crate::sys::fs::identity(&meta);
        let ident_ok = pos.ino == 0 || ident == (pos.dev, pos.ino);
        let key_ok = pos.key.is_none_or(|k| key_matches(plain, false, k));
        // A position taken on a .gz has no identity: its key alone decides.
        if ident_ok && key_ok && (pos.ino != 0 || pos.key.is_some()) {
          return true;
        }
      }
    }
    match (&c.gzip, pos.key) {
      (Some(gz), Some(key)) if c.plain.is_none() => key_matches(gz, true, key),
      _ => false,
    }
  }

  /// Opens the file to ship next, at the checkpoint's offset if it is that file. False when
  /// there is nothing to open yet (no current file).
  fn locate(&mut self) -> io::Result<bool> {
    let candidates = self.candidates()?;
    let mut start = 0;
    let mut offset = 0;
    let mut key = None;
    if let Some(pos) = self.checkpoint.file.clone() {
      match candidates.iter().position(|c| Self::is_position(c, &pos)) {
        Some(i) => {
          start = i;
          offset = pos.offset;
          key = pos.key;
        }
        // Gone (deleted past the backlog cap) or never had a whole line: the files after
        // `through` are all unshipped, from the first.
        None => self.checkpoint.file = None,
      }
    }
    let Some(c) = candidates.get(start) else {
      return Ok(false);
    };
    match self.open_candidate(c, offset, key) {
      Ok(open) => {
        self.open = Some(open);
        Ok(true)
      }
      // Compressed or deleted meanwhile (the next listing has it under its new name), or
      // no current file yet: the next poll tries again.
      Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
      Err(err) => Err(err),
    }
  }

  fn open_candidate(&self, c: &Candidate, offset: u64, key: Option<Key>) -> io::Result<Open> {
    let rotated = c.ms.map(Some);
    if let Some(plain) = &c.plain {
      match File::open(plain) {
        Ok(mut file) => {
          let meta = file.metadata()?;
          let ident = crate::sys::fs::identity(&meta);
          let offset = if offset > meta.len() { 0 } else { offset };
          file.seek(SeekFrom::Start(offset))?;
          let reader = file.try_clone()?;
          return Ok(Open {
            reader: Box::new(reader),
            file: Some(file),
            ident,
            rotated,
            key: if offset == 0 { None } else { key },
            base: offset,
            buf: Vec::new(),
            eof: false,
          });
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound && c.gzip.is_some() => {}
        Err(err) => return Err(err),
      }
    }
    let gz = c
      .gzip
      .as_ref()
      .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
    let mut reader = MultiGzDecoder::new(File::open(gz)?);
    let skipped = io::copy(&mut (&mut reader).take(offset), &mut io::sink())?;
    Ok(Open {
      reader: Box::new(reader),
      file: None,
      ident: (0, 0),
      rotated,
      key: if skipped == 0 { None } else { key },
      base: skipped,
      buf: Vec::new(),
      eof: false,
    })
  }

  /// The next batch of at most `max` bytes of whole lines (one longer line alone), when one
  /// is ready: `max` bytes are there, or the oldest line waited `flush`, or the file is a
  /// rotated one (a backlog: no reason to wait). None: nothing ready yet, poll again.
  pub fn next_batch(&mut self, max: usize, flush: Duration) -> io::Result<Option<Pending>> {
    loop {
      if self.open.is_none() && !self.locate()? {
        return Ok(None);
      }
      let open = self.open.as_mut().expect("opened above");
      // Read-ahead is bounded, except to complete a line longer than the bound.
      let cap = if open.buf.len() < self.buffer_bytes || memchr::memchr(b'\n', &open.buf).is_some()
      {
        self.buffer_bytes
      } else {
        open.buf.len() + READ_CHUNK
      };
      open.fill(cap)?;
      if open.buf.len() > MAX_LINE_BYTES && memchr::memchr(b'\n', &open.buf).is_none() {
        // No newline in 64 MiB: not a log line; set aside rather than held in memory.
        let fragment = std::mem::take(&mut open.buf);
        open.base += fragment.len() as u64;
        self.torn.push(fragment);
        continue;
      }
      let whole = memchr::memrchr(b'\n', &open.buf).map_or(0, |p| p + 1);
      if whole > 0 {
        let since = *self.waiting_since.get_or_insert_with(Instant::now);
        if whole >= max || open.rotated.is_some() || since.elapsed() >= flush {
          self.waiting_since = None;
          return Ok(Some(open.take(max)));
        }
        return Ok(None);
      }
      if !open.eof {
        continue; // a line longer than the read-ahead: read on (the cap grows above)
      }
      if open.rotated.is_some() {
        self.finish_file();
        continue;
      }
      // The current file, read to its end for now.
      if self.current_was_rotated() {
        continue; // read it to its end, then finish it
      }
      let open = self.open.as_mut().expect("opened above");
      if let Some(file) = &open.file {
        let len = file.metadata()?.len();
        if len < open.base + open.buf.len() as u64 {
          eprintln!(
            "prodkit: {} was truncated in place; shipping it again from its start.",
            self.log.display()
          );
          self.open = None;
          self.checkpoint.file = None;
          continue;
        }
      }
      open.eof = false;
      return Ok(None);
    }
  }

  /// Whether the current file's name now points at another file; if so, the open file
  /// becomes a rotated one (found by identity among the rotated files), to be read to its
  /// end and finished.
  fn current_was_rotated(&mut self) -> bool {
    let open = self.open.as_mut().expect("open");
    let Some(file) = &open.file else {
      return false;
    };
    if crate::sys::fs::is_file_at(file, &self.log) {
      return false;
    }
    let pos = Position {
      dev: open.ident.0,
      ino: open.ident.1,
      key: open.key,
      offset: 0,
    };
    let stamp = self.candidates().ok().and_then(|cs| {
      cs.iter()
        .filter(|c| c.ms.is_some())
        .find(|c| Self::is_position(c, &pos))
        .and_then(|c| c.ms)
    });
    let open = self.open.as_mut().expect("open");
    open.rotated = Some(stamp);
    open.eof = false;
    true
  }

  /// A rotated file read to its end: its torn tail set aside, and the checkpoint moved past
  /// it (saved by the caller with the next acknowledgment; saved here too, so that a quiet
  /// log does not re-read a finished file after a restart).
  fn finish_file(&mut self) {
    let open = self.open.take().expect("open");
    if !open.buf.is_empty() {
      self.torn.push(open.buf);
    }
    if let Some(Some(ms)) = open.rotated {
      self.checkpoint.through = Some(self.checkpoint.through.map_or(ms, |t| t.max(ms)));
    }
    self.checkpoint.file = None;
    // The file is done whether or not the save worked: a failed save (a full disk) is the
    // shipper's to report (`unsaved`), not a read error, and the next save records it.
    if let Err(err) = self.checkpoint.save(&self.log) {
      self.unsaved = Some(err);
    }
  }

  /// Records that the store has `batch`, durably.
  pub fn ack(&mut self, batch: &Pending) -> io::Result<()> {
    if let Some(open) = &self.open {
      self.checkpoint.file = Some(Position {
        dev: open.ident.0,
        ino: open.ident.1,
        key: open.key,
        offset: batch.end,
      });
    }
    self.checkpoint.save(&self.log)
  }

  /// Bytes on disk not acknowledged yet (a `.gz` counts at its compressed size). The
  /// checkpoint's offset is in uncompressed bytes of the one file it names, so it is taken off
  /// that file alone, in that file's units: subtracted from the whole log's size, a `.gz`
  /// acknowledged far into (its uncompressed offset past the compressed size of everything
  /// left) read as no lag with the current file not shipped at all, and `prodkit ship
  /// --until-caught-up` exited there.
  pub fn lag_bytes(&self) -> u64 {
    let Ok(candidates) = self.candidates() else {
      return 0;
    };
    let mut position = self.checkpoint.file.as_ref();
    let mut total = 0u64;
    for c in &candidates {
      let plain = c.plain.as_ref().and_then(|p| fs::metadata(p).ok());
      let on_disk = match (&plain, &c.gzip) {
        (Some(meta), _) => meta.len(),
        (None, Some(gz)) => fs::metadata(gz).map_or(0, |m| m.len()),
        (None, None) => 0,
      };
      let at = position.filter(|pos| Self::is_position(c, pos));
      total += match (at, &plain, &c.gzip) {
        (None, _, _) => on_disk,
        (Some(pos), Some(_), _) => on_disk.saturating_sub(pos.offset),
        (Some(pos), None, Some(gz)) => gz_unacknowledged(gz, on_disk, pos.offset),
        (Some(_), None, None) => 0,
      };
      if at.is_some() {
        position = None;
      }
    }
    total
  }
}

/// What is left of a `.gz` acknowledged up to `offset` uncompressed bytes, in compressed bytes
/// (proportionally): 0 at its end. Its uncompressed size is gzip's trailer (ISIZE, the size
/// modulo 2^32: a file acknowledged to an offset equal to it modulo 2^32 is taken as finished).
/// Unknown: all of it.
fn gz_unacknowledged(gz: &Path, compressed: u64, offset: u64) -> u64 {
  let isize = (|| -> io::Result<u64> {
    let mut file = File::open(gz)?;
    file.seek(SeekFrom::End(-4))?;
    let mut trailer = [0u8; 4];
    file.read_exact(&mut trailer)?;
    Ok(u64::from(u32::from_le_bytes(trailer)))
  })();
  match isize {
    Ok(size) if size == offset & 0xffff_ffff => 0,
    Ok(size) if size > offset => (compressed * (size - offset)).div_ceil(size),
    _ => compressed,
  }
}

impl Open {
  /// Reads what is there, up to about `cap` bytes buffered.
  fn fill(&mut self, cap: usize) -> io::Result<()> {
    let mut chunk = [0u8; READ_CHUNK];
    while self.buf.len() < cap {
      let n = match self.reader.read(&mut chunk) {
        Ok(n) => n,
        Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
        Err(err) => return Err(err),
      };
      if n == 0 {
        self.eof = true;
        return Ok(());
      }
      self.buf.extend_from_slice(&chunk[..n]);
    }
    Ok(())
  }

  /// Takes whole lines from the front of the buffer: as many as fit in `max` bytes, or
  /// the first alone if it is longer.
  fn take(&mut self, max: usize) -> Pending {
    let whole = memchr::memrchr(b'\n', &self.buf).map_or(0, |p| p + 1);
    let mut len = if whole <= max {
      whole
    } else {
      memchr::memrchr(b'\n', &self.buf[..max]).map_or(0, |p| p + 1)
    };
    if len == 0 {
      len = memchr::memchr(b'\n', &self.buf).map_or(whole, |p| p + 1);
    }
    if self.base == 0 && self.key.is_none() {
      let first = memchr::memchr(b'\n', &self.buf).unwrap_or(0);
      self.key = Some(Key::of(&self.buf[..first]));
    }
    let data: Vec<u8> = self.buf.drain(..len).collect();
    let start = self.base;
    self.base += len as u64;
    let key = self.key.map_or(0, |k| k.hash);
    Pending {
      id: format!("{key:016x}-{start}-{}", self.base),
      data,
      start,
      end: self.base,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::log::writer::empty_temp_dir;
  use std::io::Write as _;

  fn append(path: &Path, text: &str) {
    let mut f = fs::OpenOptions::new()
      .create(true)
      .append(true)
      .open(path)
      .unwrap();
    f.write_all(text.as_bytes()).unwrap();
  }

  /// Every batch ready now, acknowledged.
  fn drain(f: &mut Follower, into: &mut Vec<String>) {
    while let Some(p) = f.next_batch(64, Duration::ZERO).unwrap() {
      for line in p.lines() {
        into.push(String::from_utf8(line.to_vec()).unwrap());
      }
      f.ack(&p).unwrap();
    }
  }

  #[test]
  fn follows_rotation_and_gzip_in_order_and_resumes_from_the_checkpoint() {
    let dir = empty_temp_dir("ship", "follow");
    let log = dir.join("app.log");
    let naming = Naming::new(&log);
    let mut got = Vec::new();
    let mut f = Follower::new(&log, Checkpoint::default(), 64);
    assert!(
      f.next_batch(64, Duration::ZERO).unwrap().is_none(),
      "no file yet"
    );
    append(&log, "a1\na2\na3-part");
    drain(&mut f, &mut got);
    assert_eq!(got, ["a1", "a2"], "a partial line waits");
    append(&log, "ial\n");
    // Rotated, compressed, and the next file begun, all while the shipper was down.
    fs::rename(&log, naming.plain(1000)).unwrap();
    crate::log::compress::gzip_rotated(&naming.plain(1000)).unwrap();
    assert!(!naming.plain(1000).exists());
    append(&log, "b1\n");
    // A restart from the saved checkpoint finds its place in the .gz by the first line.
    let mut f = Follower::new(&log, Checkpoint::load(&log).unwrap().unwrap(), 64);
    drain(&mut f, &mut got);
    assert_eq!(got, ["a1", "a2", "a3-partial", "b1"]);
    // Rotation seen live: the old file is read to its end, then the new one.
    append(&log, "b2\n");
    fs::rename(&log, naming.plain(2000)).unwrap();
    append(&log, "c1\n");
    drain(&mut f, &mut got);
    assert_eq!(got, ["a1", "a2", "a3-partial", "b1", "b2", "c1"]);
    assert_eq!(f.checkpoint.through, Some(2000));
    // A torn fragment at the end of a rotated file is set aside, not sent.
    append(&log, "c2\nc3-torn");
    fs::rename(&log, naming.plain(3000)).unwrap();
    append(&log, "d1\n");
    drain(&mut f, &mut got);
    assert_eq!(got.last().unwrap(), "d1");
    assert!(got.contains(&"c2".to_string()));
    assert_eq!(f.torn, vec![b"c3-torn".to_vec()]);
    // An unacknowledged batch is handed out again after a restart, with the same id.
    append(&log, "d2\nd3\n");
    let p1 = f.next_batch(64, Duration::ZERO).unwrap().unwrap();
    let mut again = Follower::new(&log, Checkpoint::load(&log).unwrap().unwrap(), 64);
    let p2 = again.next_batch(64, Duration::ZERO).unwrap().unwrap();
    assert_eq!((p1.id.clone(), p1.data.clone()), (p2.id, p2.data));
    assert_eq!(p1.lines(), [&b"d2"[..], b"d3"]);
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn the_lag_counts_the_current_file_while_a_gz_is_acknowledged_to_its_end() {
    let dir = empty_temp_dir("ship", "lag");
    let log = dir.join("app.log");
    let naming = Naming::new(&log);
    // A rotated file that compresses well: 200 KB of lines, a few KB once gzipped.
    let line = format!("{{\"msg\":\"{}\"}}\n", "x".repeat(90));
    append(&log, &line.repeat(2000));
    let size = fs::metadata(&log).unwrap().len();
    fs::rename(&log, naming.plain(1000)).unwrap();
    crate::log::compress::gzip_rotated(&naming.plain(1000)).unwrap();
    append(&log, "current 1\ncurrent 2\n");
    let mut f = Follower::new(&log, Checkpoint::default(), 16 * 1024);
    assert!(f.lag_bytes() > 20);
    let mut halfway = None;
    loop {
      let p = f.next_batch(16 * 1024, Duration::ZERO).unwrap().unwrap();
      f.ack(&p).unwrap();
      if p.end == size {
        break;
      }
      if halfway.is_none() && p.end > size / 2 {
        halfway = Some(f.lag_bytes());
      }
    }
    let halfway = halfway.unwrap();
    assert!(halfway > 20, "partway into the .gz: {halfway}");
    // The .gz acknowledged to its end (its checkpoint offset far past everything's compressed
    // size): the current file is still to ship.
    assert_eq!(f.lag_bytes(), 20, "the current file alone is left");
    let p = f.next_batch(16 * 1024, Duration::ZERO).unwrap().unwrap();
    assert_eq!(p.lines(), [&b"current 1"[..], b"current 2"]);
    f.ack(&p).unwrap();
    assert_eq!(f.lag_bytes(), 0);
    fs::remove_dir_all(&dir).unwrap();
  }

  #[test]
  fn batches_hold_whole_lines_within_the_bound_and_a_long_line_alone() {
    let dir = empty_temp_dir("ship", "bounds");
    let log = dir.join("app.log");
    append(&log, &format!("aaaa\nbbbb\ncccc\n{}\ndd\n", "x".repeat(30)));
    let mut f = Follower::new(&log, Checkpoint::default(), 12);
    let mut sizes = Vec::new();
    while let Some(p) = f.next_batch(12, Duration::ZERO).unwrap() {
      sizes.push(p.lines().len());
      f.ack(&p).unwrap();
    }
    assert_eq!(sizes, [2, 1, 1, 1]);
    // A line longer than the read-ahead (256 KiB here) is read whole.
    let long = "y".repeat(600 * 1024);
    append(&log, &format!("{long}\nee\n"));
    let p = f.next_batch(12, Duration::ZERO).unwrap().unwrap();
    assert_eq!(p.lines(), [long.as_bytes()]);
    f.ack(&p).unwrap();
    let p = f.next_batch(12, Duration::ZERO).unwrap().unwrap();
    assert_eq!(p.lines(), [&b"ee"[..]]);
    fs::remove_dir_all(&dir).unwrap();
  }
}

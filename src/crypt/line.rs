//! Decrypting lines: each sealed field is replaced by the value's JSON text; a field that
//! cannot be decrypted becomes `{"decryptError":"<reason>","ciphertext":"$pk1$..."}`, so
//! the line stays valid JSON and the ciphertext is kept for another try. Everything else
//! in the line is kept byte for byte.

use std::collections::BTreeMap;

use memchr::{memchr, memmem};

use super::format::PREFIX;
use super::keyring::{Keyring, OpenError};
use super::path::PathFilter;
use super::scan;

const QUOTED_PREFIX: &[u8] = b"\"$pk1$";
/// Longest line the stream decrypts; a longer one is passed through as it is (and
/// counted as a failure), so that memory stays bounded whatever the input.
pub const MAX_LINE: usize = 16 << 20;
pub const NOT_JSON: &str = "line is not valid JSON";
pub const TOO_LONG: &str = "line too long";

#[derive(Debug, Default, Clone)]
pub struct Stats {
  pub lines: u64,
  pub decrypted: u64,
  pub failed: u64,
  /// Failures by reason.
  pub reasons: BTreeMap<&'static str, u64>,
}

impl Stats {
  fn fail(&mut self, reason: &'static str) {
    self.failed += 1;
    *self.reasons.entry(reason).or_default() += 1;
  }
}

/// Appends `line` (without its newline) to `out` with its sealed fields decrypted; only
/// the fields whose path `filter` matches, when there is one.
pub fn decrypt_line(
  line: &[u8],
  ring: &mut Keyring,
  filter: Option<&PathFilter>,
  out: &mut Vec<u8>,
  stats: &mut Stats,
) {
  stats.lines += 1;
  if memmem::find(line, QUOTED_PREFIX).is_none() {
    out.extend_from_slice(line);
    return;
  }
  let found = match scan::find_strings(line, PREFIX.as_bytes()) {
    Ok(found) => found,
    Err(_) => {
      out.extend_from_slice(line);
      stats.fail(NOT_JSON);
      return;
    }
  };
  let mut copied = 0;
  for field in found {
    if filter.is_some_and(|f| !f.matches(&field.path)) {
      continue;
    }
    out.extend_from_slice(&line[copied..field.start]);
    copied = field.end;
    let quoted = &line[field.start..field.end];
    let opened = std::str::from_utf8(&quoted[1..quoted.len() - 1])
      .map_err(|_| OpenError::Malformed(super::format::FormatError::Encoding))
      .and_then(|text| ring.open(text, &field.path))
      .and_then(|value| {
        if scan::is_json(&value) {
          Ok(value)
        } else {
          Err(OpenError::NotJson)
        }
      });
    match opened {
      Ok(value) => {
        out.extend_from_slice(&value);
        stats.decrypted += 1;
      }
      Err(err) => {
        out.extend_from_slice(b"{\"decryptError\":\"");
        out.extend_from_slice(err.reason().as_bytes());
        out.extend_from_slice(b"\",\"ciphertext\":");
        out.extend_from_slice(quoted);
        out.push(b'}');
        stats.fail(err.reason());
      }
    }
  }
  out.extend_from_slice(&line[copied..]);
}

/// A stream of bytes cut into lines at any point: `push` decrypts the whole lines it has
/// and keeps the rest for the next call. Memory: one partial line, at most `MAX_LINE`.
#[derive(Default)]
pub struct LineStream {
  filter: Option<PathFilter>,
  partial: Vec<u8>,
  /// The current line went over `MAX_LINE`: its bytes pass through until its newline.
  passing: bool,
  pub stats: Stats,
}

impl LineStream {
  pub fn new(filter: Option<PathFilter>) -> LineStream {
    LineStream {
      filter,
      ..LineStream::default()
    }
  }

  pub fn push(&mut self, ring: &mut Keyring, mut chunk: &[u8], out: &mut Vec<u8>) {
    while let Some(nl) = memchr(b'\n', chunk) {
      let (head, rest) = (&chunk[..nl], &chunk[nl + 1..]);
      if self.passing {
        out.extend_from_slice(head);
        self.passing = false;
      } else if self.partial.is_empty() {
        decrypt_line(head, ring, self.filter.as_ref(), out, &mut self.stats);
      } else {
        self.partial.extend_from_slice(head);
        let line = std::mem::take(&mut self.partial);
        decrypt_line(&line, ring, self.filter.as_ref(), out, &mut self.stats);
        self.partial = line;
        self.partial.clear();
      }
      out.push(b'\n');
      chunk = rest;
    }
    if self.passing {
      out.extend_from_slice(chunk);
      return;
    }
    self.partial.extend_from_slice(chunk);
    if self.partial.len() > MAX_LINE {
      out.extend_from_slice(&self.partial);
      self.partial = Vec::new();
      self.passing = true;
      self.stats.lines += 1;
      self.stats.fail(TOO_LONG);
    }
  }

  /// The end of the input: a last line without a newline is decrypted too.
  pub fn finish(&mut self, ring: &mut Keyring, out: &mut Vec<u8>) {
    if !self.partial.is_empty() && !self.passing {
      let line = std::mem::take(&mut self.partial);
      decrypt_line(&line, ring, self.filter.as_ref(), out, &mut self.stats);
    }
    self.passing = false;
  }
}

#[cfg(test)]
mod tests {
  use super::super::key::MasterKey;
  use super::super::path::Segment;
  use super::super::seal::Sealer;
  use super::*;

  fn key(byte: u8) -> MasterKey {
    MasterKey::from_bytes(&[byte; 32], None).unwrap()
  }

  fn sealed(sealer: &mut Sealer, path: &[Segment], value: &str) -> String {
    let mut out = Vec::new();
    sealer.seal(path, value.as_bytes(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
  }

  fn k(s: &str) -> Segment {
    Segment::Key(s.into())
  }

  fn run(line: &str, ring: &mut Keyring, filter: Option<&PathFilter>) -> (String, Stats) {
    let mut out = Vec::new();
    let mut stats = Stats::default();
    decrypt_line(line.as_bytes(), ring, filter, &mut out, &mut stats);
    (String::from_utf8(out).unwrap(), stats)
  }

  #[test]
  fn sealed_fields_are_replaced_by_their_values_and_the_rest_kept_as_it_was() {
    let mut sealer = Sealer::new(key(1)).unwrap();
    let email = sealed(&mut sealer, &[k("user"), k("email")], "\"ann@example.com\"");
    let card = sealed(
      &mut sealer,
      &[k("cards"), Segment::Index(1)],
      "{\"n\":1.50,\"x\":[true,null]}",
    );
    let line = format!("{{\"level\":30,\"n\":1.0e2,\"user\":{{\"email\":{email}}},\"cards\":[0,{card}],\"s\":\"\\ud800\"}}");
    let mut ring = Keyring::new(vec![key(1)]);
    let (out, stats) = run(&line, &mut ring, None);
    assert_eq!(
      out,
      "{\"level\":30,\"n\":1.0e2,\"user\":{\"email\":\"ann@example.com\"},\"cards\":[0,{\"n\":1.50,\"x\":[true,null]}],\"s\":\"\\ud800\"}"
    );
    assert_eq!((stats.decrypted, stats.failed), (2, 0));
    let only_email = PathFilter::parse_json(r#"[["user","email"]]"#).unwrap();
    let (out, _) = run(&line, &mut ring, Some(&only_email));
    assert!(out.contains("ann@example.com") && out.contains(&card));
  }

  #[test]
  fn failures_are_marked_inline_and_counted() {
    let mut sealer = Sealer::new(key(1)).unwrap();
    let email = sealed(&mut sealer, &[k("email")], "\"a\"");
    let line = format!("{{\"email\":{email},\"moved\":{email},\"bad\":\"$pk1$x\"}}");
    let (out, stats) = run(&line, &mut Keyring::new(vec![key(1)]), None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["email"], "a");
    assert_eq!(
      v["moved"]["decryptError"],
      "tampered (or moved from another field)"
    );
    assert_eq!(v["moved"]["ciphertext"], email.trim_matches('"'));
    assert_eq!(
      v["bad"]["decryptError"],
      "malformed: wrong number of fields"
    );
    assert_eq!(stats.failed, 2);
    let (out, stats) = run(&line, &mut Keyring::new(vec![key(2)]), None);
    assert!(out.contains("\"decryptError\":\"unknown key id\""));
    assert_eq!(stats.reasons["unknown key id"], 2);
    let (out, stats) = run("not json \"$pk1$", &mut Keyring::new(vec![]), None);
    assert_eq!(out, "not json \"$pk1$");
    assert_eq!(stats.reasons[NOT_JSON], 1);
    let (out, stats) = run("plain text line", &mut Keyring::new(vec![]), None);
    assert_eq!((out.as_str(), stats.failed), ("plain text line", 0));
  }

  #[test]
  fn a_stream_cut_anywhere_gives_the_same_lines() {
    let mut sealer = Sealer::new(key(1)).unwrap();
    let mut input = String::new();
    for i in 0..50 {
      let v = sealed(&mut sealer, &[k("v")], &i.to_string());
      input.push_str(&format!("{{\"i\":{i},\"v\":{v}}}\n"));
    }
    input.push_str("{\"last\":true}");
    let expected: String = (0..50)
      .map(|i| format!("{{\"i\":{i},\"v\":{i}}}\n"))
      .collect::<String>()
      + "{\"last\":true}";
    for cut in [1, 7, 100, 4096, input.len()] {
      let mut ring = Keyring::new(vec![key(1)]);
      let mut stream = LineStream::new(None);
      let mut out = Vec::new();
      for piece in input.as_bytes().chunks(cut) {
        stream.push(&mut ring, piece, &mut out);
      }
      stream.finish(&mut ring, &mut out);
      assert_eq!(String::from_utf8(out).unwrap(), expected, "cut {cut}");
      assert_eq!(stream.stats.lines, 51);
    }
  }

  #[test]
  fn an_overlong_line_passes_through_and_memory_stays_bounded() {
    let mut ring = Keyring::new(vec![]);
    let mut stream = LineStream::new(None);
    let mut out = Vec::new();
    let piece = vec![b'x'; 1 << 20];
    for _ in 0..20 {
      stream.push(&mut ring, &piece, &mut out);
      assert!(stream.partial.len() <= MAX_LINE);
    }
    stream.push(&mut ring, b"\n{}\n", &mut out);
    stream.finish(&mut ring, &mut out);
    assert_eq!(out.len(), 20 * (1 << 20) + 4);
    assert_eq!(stream.stats.reasons[TOO_LONG], 1);
  }
}

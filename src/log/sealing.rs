//! Sealed fields in the batch format (the format is in `chunk.rs`): JS sends a value to
//! encrypt as a table entry before the JSON that refers to it, and a placeholder string
//! in that JSON. Here, on the writer thread, each entry is encrypted as it is read and
//! each placeholder replaced by its ciphertext.
//!
//! Fail closed: an entry that cannot be sealed (no key configured, an unusable path, the
//! sealer failing) gives a redacted string instead, never the value in clear. A
//! placeholder without an entry stays as it is: it carries no part of the value.

use crate::crypt::path::{self, Segment};
use crate::crypt::seal::Sealer;

use super::chunk::{push_utf16, SEAL_CLOSE, SEAL_OPEN, SEAL_SEP};

/// Written instead of a value that could not be encrypted.
pub const REDACTED: &[u8] = b"\"[Redacted: not encrypted]\"";
/// Paths kept parsed: a logger seals the same few paths line after line.
const CACHED_PATHS: usize = 32;
/// Placeholder ids are `[0-9a-z]{1,16}`.
const MAX_ID_LEN: usize = 16;
const QUOTE: u16 = b'"' as u16;
const NEWLINE: u16 = b'\n' as u16;

pub struct FieldSealing {
  sealer: Option<Sealer>,
  /// The start of every placeholder as JSON.stringify writes it: `"\u0006<token>`.
  pattern: Vec<u16>,
  /// Entries of the current line (or head): id and the JSON string that replaces it.
  pending: Vec<(Vec<u16>, Vec<u8>)>,
  /// Recently seen paths as JS sent them, parsed.
  paths: Vec<(Vec<u16>, Vec<Segment>)>,
  /// The value being sealed, as UTF-8.
  value: Vec<u8>,
}

fn valid_id(id: &[u16]) -> bool {
  !id.is_empty()
    && id.len() <= MAX_ID_LEN
    && id.iter().all(|&u| {
      (b'0' as u16..=b'9' as u16).contains(&u) || (b'a' as u16..=b'z' as u16).contains(&u)
    })
}

impl Default for FieldSealing {
  /// No key: sealed fields are redacted.
  fn default() -> FieldSealing {
    FieldSealing::new(None, "")
  }
}

impl FieldSealing {
  /// `token` is the random part of the sink's placeholders (JS chooses it).
  pub fn new(sealer: Option<Sealer>, token: &str) -> FieldSealing {
    let mut pattern: Vec<u16> = "\"\\u0006".encode_utf16().collect();
    pattern.extend(token.encode_utf16());
    FieldSealing {
      sealer,
      pattern,
      pending: Vec::new(),
      paths: Vec::new(),
      value: Vec::new(),
    }
  }

  /// One table entry: the units between SEAL_OPEN and SEAL_CLOSE, `id SEP path SEP value`.
  pub fn entry(&mut self, units: &[u16]) {
    let mut parts = units.splitn(3, |&u| u == SEAL_SEP);
    let (Some(id), Some(path), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
      return;
    };
    if !valid_id(id) {
      return;
    }
    let sealed = self.seal(path, value).unwrap_or_else(|| REDACTED.to_vec());
    self.pending.push((id.to_vec(), sealed));
  }

  fn seal(&mut self, path: &[u16], value: &[u16]) -> Option<Vec<u8>> {
    let sealer = self.sealer.as_mut()?;
    let cached = self.paths.iter().position(|(text, _)| text[..] == *path);
    let index = match cached {
      Some(index) => index,
      None => {
        let segments = path::parse_json(&String::from_utf16(path).ok()?)?;
        if self.paths.len() == CACHED_PATHS {
          self.paths.remove(0);
        }
        self.paths.push((path.to_vec(), segments));
        self.paths.len() - 1
      }
    };
    // JSON.stringify never leaves a lone surrogate raw; one here means a damaged batch.
    if char::decode_utf16(value.iter().copied()).any(|c| c.is_err()) {
      return None;
    }
    self.value.clear();
    push_utf16(value, &mut self.value);
    let mut out = Vec::with_capacity(self.value.len() * 4 / 3 + 96);
    sealer
      .seal(&self.paths[index].1, &self.value, &mut out)
      .ok()?;
    Some(out)
  }

  /// Text of the current line. While entries are pending, their placeholders are
  /// replaced up to the end of the line, where the entries end.
  pub fn push_text(&mut self, units: &[u16], out: &mut Vec<u8>) {
    if self.pending.is_empty() {
      push_utf16(units, out);
      return;
    }
    let end = units
      .iter()
      .position(|&u| u == NEWLINE)
      .unwrap_or(units.len());
    self.substitute(&units[..end], out);
    if end < units.len() {
      self.pending.clear();
      push_utf16(&units[end..], out);
    }
  }

  /// A shared line head's text, with its own entries (from bindings) and placeholders,
  /// apart from the current line's.
  pub fn push_head(&mut self, units: &[u16], out: &mut Vec<u8>) {
    let line = std::mem::take(&mut self.pending);
    let mut rest = units;
    while let Some(open) = rest.iter().position(|&u| u == SEAL_OPEN) {
      self.substitute(&rest[..open], out);
      let body = &rest[open + 1..];
      let close = body
        .iter()
        .position(|&u| u == SEAL_CLOSE)
        .unwrap_or(body.len());
      self.entry(&body[..close]);
      rest = body.get(close + 1..).unwrap_or(&[]);
    }
    self.substitute(rest, out);
    self.pending = line;
  }

  fn substitute(&self, mut units: &[u16], out: &mut Vec<u8>) {
    if self.pending.is_empty() {
      push_utf16(units, out);
      return;
    }
    let n = self.pattern.len();
    while let Some(at) = units.windows(n).position(|w| w == self.pattern.as_slice()) {
      push_utf16(&units[..at], out);
      let after = &units[at + n..];
      let replaced = after
        .iter()
        .take(MAX_ID_LEN + 1)
        .position(|&u| u == QUOTE)
        .and_then(|len| {
          let (_, json) = self.pending.iter().find(|(id, _)| id[..] == after[..len])?;
          Some((len, json))
        });
      match replaced {
        Some((len, json)) => {
          out.extend_from_slice(json);
          units = &after[len + 1..];
        }
        None => {
          push_utf16(&units[at..at + 1], out);
          units = &units[at + 1..];
        }
      }
    }
    push_utf16(units, out);
  }
}

#[cfg(test)]
mod tests {
  use super::super::chunk::{Chunk, Decoder, HEAD_DEFINE, HEAD_END, HEAD_REF, SLOT_BASE};
  use super::*;
  use crate::crypt::key::MasterKey;
  use crate::crypt::keyring::Keyring;
  use crate::crypt::line::{decrypt_line, Stats};

  const TOKEN: &str = "T0k3n";

  fn key() -> MasterKey {
    MasterKey::from_bytes(&[5; 32], None).unwrap()
  }

  fn units(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
  }

  fn entry(id: &str, path: &str, value: &str) -> Vec<u16> {
    let mut v = vec![SEAL_OPEN];
    v.extend(units(id));
    v.push(SEAL_SEP);
    v.extend(units(path));
    v.push(SEAL_SEP);
    v.extend(units(value));
    v.push(SEAL_CLOSE);
    v
  }

  fn placeholder(id: &str) -> String {
    format!("\"\\u0006{TOKEN}{id}\"")
  }

  fn decode(decoder: &mut Decoder, chunk: Vec<u16>) -> String {
    let mut out = Vec::new();
    decoder.decode(Chunk::Utf16(chunk), &mut out);
    String::from_utf8(out).unwrap()
  }

  fn decrypt(text: &str) -> (Vec<String>, Stats) {
    let mut ring = Keyring::new(vec![key()]);
    let mut stats = Stats::default();
    let lines = text
      .lines()
      .map(|line| {
        let mut out = Vec::new();
        decrypt_line(line.as_bytes(), &mut ring, None, &mut out, &mut stats);
        String::from_utf8(out).unwrap()
      })
      .collect();
    (lines, stats)
  }

  fn sealing_decoder() -> Decoder {
    Decoder::with_sealing(FieldSealing::new(Some(Sealer::new(key()).unwrap()), TOKEN))
  }

  #[test]
  fn sealed_fields_of_lines_and_heads_are_encrypted_and_decrypt_back() {
    let mut chunk = vec![HEAD_DEFINE, SLOT_BASE, SLOT_BASE];
    chunk.extend(units("{\"level\":30"));
    chunk.extend(entry("b1", "[\"tenant\"]", "\"acme\""));
    chunk.extend(units(&format!(",\"tenant\":{}", placeholder("b1"))));
    chunk.push(HEAD_END);
    for i in 0..2 {
      chunk.extend(entry(
        "0",
        "[\"user\",\"email\"]",
        &format!("\"u{i}@x.io\""),
      ));
      chunk.extend(entry(
        "1",
        "[\"cards\",0]",
        "{\"n\":\"4111\",\"exp\":[1,2]}",
      ));
      chunk.extend([HEAD_REF, SLOT_BASE, SLOT_BASE]);
      chunk.extend(units(&format!(
        ",\"user\":{{\"email\":{}}},\"cards\":[{}],\"msg\":\"m\"}}\n",
        placeholder("0"),
        placeholder("1")
      )));
    }
    let text = decode(&mut sealing_decoder(), chunk);
    assert!(
      !text.contains("acme") && !text.contains("@x.io") && !text.contains("4111"),
      "{text}"
    );
    assert_eq!(text.matches("\"$pk1$").count(), 6, "{text}");
    let (lines, stats) = decrypt(&text);
    assert_eq!(stats.failed, 0);
    assert_eq!(lines[0], "{\"level\":30,\"tenant\":\"acme\",\"user\":{\"email\":\"u0@x.io\"},\"cards\":[{\"n\":\"4111\",\"exp\":[1,2]}],\"msg\":\"m\"}");
    assert!(lines[1].contains("\"u1@x.io\""));
  }

  #[test]
  fn without_a_usable_key_fields_are_redacted_never_written_in_clear() {
    let line = |value: &str| {
      let mut chunk = entry("0", "[\"secret\"]", value);
      chunk.extend(units(&format!("{{\"secret\":{}}}\n", placeholder("0"))));
      chunk
    };
    let mut no_key = Decoder::with_sealing(FieldSealing::new(None, TOKEN));
    assert_eq!(
      decode(&mut no_key, line("\"s3cr3t\"")),
      "{\"secret\":\"[Redacted: not encrypted]\"}\n"
    );
    let mut broken = Sealer::failing_after_first_salt(key());
    broken.force_rekey_at_next_seal();
    let mut failing = Decoder::with_sealing(FieldSealing::new(Some(broken), TOKEN));
    assert_eq!(
      decode(&mut failing, line("\"s3cr3t\"")),
      "{\"secret\":\"[Redacted: not encrypted]\"}\n"
    );
    let mut bad_path = entry("0", "[\"\\ud800\"]", "\"s3cr3t\"");
    bad_path.extend(units(&format!("{{\"x\":{}}}\n", placeholder("0"))));
    assert_eq!(
      decode(&mut sealing_decoder(), bad_path),
      "{\"x\":\"[Redacted: not encrypted]\"}\n"
    );
  }

  #[test]
  fn entries_end_with_their_line_and_forged_placeholders_stay_as_they_are() {
    let mut chunk = entry("0", "[\"a\"]", "1");
    chunk.extend(units(&format!("{{\"a\":{}}}\n", placeholder("0"))));
    chunk.extend(units(&format!("{{\"a\":{}}}\n", placeholder("0"))));
    chunk.extend(entry("0", "[\"a\"]", "2"));
    chunk.extend(units(
      "{\"a\":\"\\u0006wrongtoken0\",\"b\":\"\\u0006T0k3n9\"}\n",
    ));
    let text = decode(&mut sealing_decoder(), chunk);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("{\"a\":\"$pk1$"));
    assert_eq!(lines[1], format!("{{\"a\":{}}}", placeholder("0")));
    assert_eq!(
      lines[2],
      "{\"a\":\"\\u0006wrongtoken0\",\"b\":\"\\u0006T0k3n9\"}"
    );
  }

  #[test]
  fn malformed_entries_never_panic() {
    let mut decoder = sealing_decoder();
    for chunk in [
      vec![SEAL_OPEN],
      vec![SEAL_OPEN, SEAL_SEP],
      vec![SEAL_OPEN, b'0' as u16, SEAL_SEP, SEAL_SEP, SEAL_CLOSE],
      vec![
        SEAL_OPEN,
        b'A' as u16,
        SEAL_SEP,
        b'[' as u16,
        SEAL_SEP,
        b'1' as u16,
      ],
      vec![
        SEAL_OPEN,
        0xd800,
        SEAL_SEP,
        0xdc00,
        SEAL_SEP,
        0xd800,
        SEAL_CLOSE,
        b'\n' as u16,
      ],
      vec![
        HEAD_DEFINE,
        SLOT_BASE,
        SLOT_BASE,
        SEAL_OPEN,
        SEAL_SEP,
        HEAD_END,
      ],
      vec![HEAD_DEFINE, SLOT_BASE, SLOT_BASE, SEAL_OPEN],
    ] {
      decode(&mut decoder, chunk);
    }
    let mut chunk = entry("0", "[]", "1");
    chunk.extend(units("\"\\u0006T0k3n"));
    decode(&mut decoder, chunk);
  }

  /// `cargo test --release --lib seal_throughput -- --ignored --nocapture` (or
  /// `npm run bench:seal`): fields sealed per second by one writer thread, batch decoding
  /// included, for lines like the benchmark's (two sealed fields a line).
  #[test]
  #[ignore]
  fn seal_throughput() {
    let mut chunk = Vec::new();
    let lines = 400;
    for i in 0..lines {
      chunk.extend(entry(
        "0",
        "[\"user\",\"email\"]",
        &format!("\"user{i}@example.com\""),
      ));
      chunk.extend(entry("1", "[\"card\",\"number\"]", "\"4111111111111111\""));
      chunk.extend(units(&format!(
        "{{\"level\":30,\"time\":1,\"user\":{{\"id\":{i},\"email\":{}}},\"card\":{{\"number\":{},\"exp\":\"12/29\"}},\"orderId\":\"ord-{i}\",\"msg\":\"order placed\"}}\n",
        placeholder("0"),
        placeholder("1")
      )));
    }
    let mut decoder = sealing_decoder();
    let mut out = Vec::with_capacity(1 << 20);
    let rounds = 2_000;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
      out.clear();
      decoder.decode(Chunk::Utf16(chunk.clone()), &mut out);
    }
    let seconds = start.elapsed().as_secs_f64();
    let fields = (rounds * lines * 2) as f64;
    println!(
      "sealed {fields} fields in {seconds:.2} s: {:.0} fields/s, {:.0} lines/s on one thread ({:.0} ns a field, batch decoding included)",
      fields / seconds,
      fields / 2.0 / seconds,
      seconds * 1e9 / fields
    );
    assert!(out.windows(6).any(|w| w == b"\"$pk1$"));
  }
}

//! A small JSON scanner for the decrypter: it checks a line's syntax and finds the string
//! values that look like ciphertexts, with their paths and byte spans, so that the line
//! can be rewritten around them and everything else kept byte for byte (a parse and
//! re-serialisation would reorder keys, reformat numbers, or refuse the escaped lone
//! surrogates the logger writes for broken strings).
//!
//! Any input is safe: errors are returned, nesting is limited, nothing panics.

use super::path::Segment;

/// Deeper nesting than this is refused, so that a hostile line cannot exhaust the stack.
pub const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanError {
  Syntax,
  TooDeep,
}

/// A string value that starts with the looked-for prefix: its path, and its span in the
/// input including the quotes.
#[derive(Debug, PartialEq, Eq)]
pub struct Found {
  pub path: Vec<Segment>,
  pub start: usize,
  pub end: usize,
}

struct Scanner<'a> {
  src: &'a [u8],
  pos: usize,
  prefix: &'a [u8],
  /// Only when looking for values are keys decoded and the path kept.
  track: bool,
  path: Vec<Segment>,
  found: Vec<Found>,
}

/// Checks that `src` is exactly one JSON value (surrounding whitespace allowed) and
/// returns the string values that start with `prefix` (compared on the raw text; prodkit
/// ciphertexts hold no escapes).
pub fn find_strings(src: &[u8], prefix: &[u8]) -> Result<Vec<Found>, ScanError> {
  let mut scanner = Scanner {
    src,
    pos: 0,
    prefix,
    track: true,
    path: Vec::new(),
    found: Vec::new(),
  };
  scanner.document()?;
  Ok(scanner.found)
}

/// Whether `src` is exactly one JSON value.
pub fn is_json(src: &[u8]) -> bool {
  let mut scanner = Scanner {
    src,
    pos: 0,
    prefix: b"",
    track: false,
    path: Vec::new(),
    found: Vec::new(),
  };
  scanner.document().is_ok()
}

impl Scanner<'_> {
  fn document(&mut self) -> Result<(), ScanError> {
    self.value(0)?;
    self.skip_ws();
    if self.pos == self.src.len() {
      Ok(())
    } else {
      Err(ScanError::Syntax)
    }
  }

  fn peek(&self) -> Option<u8> {
    self.src.get(self.pos).copied()
  }

  fn skip_ws(&mut self) {
    while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
      self.pos += 1;
    }
  }

  fn expect(&mut self, byte: u8) -> Result<(), ScanError> {
    if self.peek() == Some(byte) {
      self.pos += 1;
      Ok(())
    } else {
      Err(ScanError::Syntax)
    }
  }

  fn value(&mut self, depth: usize) -> Result<(), ScanError> {
    if depth > MAX_DEPTH {
      return Err(ScanError::TooDeep);
    }
    self.skip_ws();
    match self.peek().ok_or(ScanError::Syntax)? {
      b'{' => self.object(depth),
      b'[' => self.array(depth),
      b'"' => {
        let (start, end, escaped) = self.string()?;
        if self.track && !escaped && self.src[start + 1..end - 1].starts_with(self.prefix) {
          self.found.push(Found {
            path: self.path.clone(),
            start,
            end,
          });
        }
        Ok(())
      }
      b't' => self.literal(b"true"),
      b'f' => self.literal(b"false"),
      b'n' => self.literal(b"null"),
      b'-' | b'0'..=b'9' => self.number(),
      _ => Err(ScanError::Syntax),
    }
  }

  fn object(&mut self, depth: usize) -> Result<(), ScanError> {
    self.pos += 1;
    self.skip_ws();
    if self.peek() == Some(b'}') {
      self.pos += 1;
      return Ok(());
    }
    loop {
      self.skip_ws();
      if self.peek() != Some(b'"') {
        return Err(ScanError::Syntax);
      }
      let (start, end, escaped) = self.string()?;
      if self.track {
        let raw = &self.src[start + 1..end - 1];
        self.path.push(Segment::Key(decode_string(raw, escaped)));
      }
      self.skip_ws();
      self.expect(b':')?;
      self.value(depth + 1)?;
      if self.track {
        self.path.pop();
      }
      self.skip_ws();
      match self.peek() {
        Some(b',') => self.pos += 1,
        Some(b'}') => {
          self.pos += 1;
          return Ok(());
        }
        _ => return Err(ScanError::Syntax),
      }
    }
  }

  fn array(&mut self, depth: usize) -> Result<(), ScanError> {
    self.pos += 1;
    self.skip_ws();
    if self.peek() == Some(b']') {
      self.pos += 1;
      return Ok(());
    }
    let mut index = 0u64;
    loop {
      if self.track {
        self.path.push(Segment::Index(index));
      }
      self.value(depth + 1)?;
      if self.track {
        self.path.pop();
      }
      index += 1;
      self.skip_ws();
      match self.peek() {
        Some(b',') => self.pos += 1,
        Some(b']') => {
          self.pos += 1;
          return Ok(());
        }
        _ => return Err(ScanError::Syntax),
      }
    }
  }

  /// At an opening quote: moves past the string; returns its span (quotes included) and
  /// whether it holds escapes.
  fn string(&mut self) -> Result<(usize, usize, bool), ScanError> {
    let start = self.pos;
    self.pos += 1;
    let mut escaped = false;
    loop {
      let rest = self.src.get(self.pos..).ok_or(ScanError::Syntax)?;
      let at = rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .ok_or(ScanError::Syntax)?;
      self.pos += at;
      match self.src[self.pos] {
        b'"' => {
          self.pos += 1;
          return Ok((start, self.pos, escaped));
        }
        b'\\' => {
          escaped = true;
          match self.src.get(self.pos + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 2,
            Some(b'u') => {
              let hex = self
                .src
                .get(self.pos + 2..self.pos + 6)
                .ok_or(ScanError::Syntax)?;
              if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(ScanError::Syntax);
              }
              self.pos += 6;
            }
            _ => return Err(ScanError::Syntax),
          }
        }
        _ => return Err(ScanError::Syntax),
      }
    }
  }

  fn literal(&mut self, word: &[u8]) -> Result<(), ScanError> {
    if self.src[self.pos..].starts_with(word) {
      self.pos += word.len();
      Ok(())
    } else {
      Err(ScanError::Syntax)
    }
  }

  fn digits(&mut self) -> usize {
    let start = self.pos;
    while matches!(self.peek(), Some(b'0'..=b'9')) {
      self.pos += 1;
    }
    self.pos - start
  }

  fn number(&mut self) -> Result<(), ScanError> {
    if self.peek() == Some(b'-') {
      self.pos += 1;
    }
    match self.peek() {
      Some(b'0') => self.pos += 1,
      Some(b'1'..=b'9') => {
        self.digits();
      }
      _ => return Err(ScanError::Syntax),
    }
    if self.peek() == Some(b'.') {
      self.pos += 1;
      if self.digits() == 0 {
        return Err(ScanError::Syntax);
      }
    }
    if matches!(self.peek(), Some(b'e' | b'E')) {
      self.pos += 1;
      if matches!(self.peek(), Some(b'+' | b'-')) {
        self.pos += 1;
      }
      if self.digits() == 0 {
        return Err(ScanError::Syntax);
      }
    }
    Ok(())
  }
}

fn hex4(raw: &[u8]) -> u32 {
  raw
    .iter()
    .fold(0, |n, &b| (n << 4) | (b as char).to_digit(16).unwrap_or(0))
}

/// The text of a string already checked by `Scanner::string`. Lone surrogates (which
/// JSON allows as escapes) become U+FFFD, as do invalid UTF-8 bytes.
fn decode_string(raw: &[u8], escaped: bool) -> String {
  if !escaped {
    return String::from_utf8_lossy(raw).into_owned();
  }
  let mut bytes = Vec::with_capacity(raw.len());
  let mut i = 0;
  while i < raw.len() {
    if raw[i] != b'\\' || i + 1 >= raw.len() {
      bytes.push(raw[i]);
      i += 1;
      continue;
    }
    let simple = match raw[i + 1] {
      b'b' => Some(0x08),
      b'f' => Some(0x0c),
      b'n' => Some(b'\n'),
      b'r' => Some(b'\r'),
      b't' => Some(b'\t'),
      b'u' => None,
      other => Some(other),
    };
    if let Some(b) = simple {
      bytes.push(b);
      i += 2;
      continue;
    }
    let unit = hex4(raw.get(i + 2..i + 6).unwrap_or(b""));
    i += 6;
    let mut code = unit;
    if (0xd800..0xdc00).contains(&unit) && raw.get(i..i + 2) == Some(b"\\u") {
      let low = hex4(raw.get(i + 2..i + 6).unwrap_or(b""));
      if (0xdc00..0xe000).contains(&low) {
        code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        i += 6;
      }
    }
    let c = char::from_u32(code).unwrap_or('\u{fffd}');
    bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
  }
  String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn key(k: &str) -> Segment {
    Segment::Key(k.to_string())
  }

  #[test]
  fn finds_prefixed_strings_with_their_paths_and_spans() {
    let line = br#"{"a":"$x1","b":[1,{"c\u00e9":"$x2"},"$x3"],"d":"no $x","e\"":{"f":"$x4"}}"#;
    let found = find_strings(line, b"$x").unwrap();
    let paths: Vec<_> = found.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
      paths,
      vec![
        vec![key("a")],
        vec![key("b"), Segment::Index(1), key("cé")],
        vec![key("b"), Segment::Index(2)],
        vec![key("e\""), key("f")],
      ]
    );
    assert_eq!(&line[found[0].start..found[0].end], b"\"$x1\"");
  }

  #[test]
  fn accepts_json_and_refuses_everything_else() {
    for good in [
      "0",
      "-0.5e+3",
      " {} ",
      "[]",
      "[1,[2,[3]]]",
      "\"\\ud800\"",
      "\"\\ud83d\\ude00\"",
      "{\"a\":null,\"b\":true,\"c\":false}",
      "\"é\"",
    ] {
      assert!(is_json(good.as_bytes()), "{good}");
    }
    for bad in [
      "",
      "{",
      "}",
      "[1,]",
      "{\"a\"}",
      "{\"a\":}",
      "01",
      "1.",
      "1e",
      "-",
      "\"\\x\"",
      "\"\\u12\"",
      "\"a",
      "tru",
      "nul",
      "[1] 2",
      "{\"a\":1,}",
      "\"\u{1}\"",
      "{a:1}",
      "+1",
      ".5",
    ] {
      assert!(!is_json(bad.as_bytes()), "{bad}");
    }
  }

  #[test]
  fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = "[".repeat(100_000);
    assert_eq!(find_strings(deep.as_bytes(), b"$"), Err(ScanError::TooDeep));
    let fine = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(is_json(fine.as_bytes()));
  }

  #[test]
  fn escaped_keys_are_decoded_and_lone_surrogates_replaced() {
    let found = find_strings(br#"{"\ud800\n\/x":"$"}"#, b"$").unwrap();
    assert_eq!(found[0].path, vec![key("\u{fffd}\n/x")]);
  }
}

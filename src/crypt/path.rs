//! Where a field is in a line, as the sealer and the opener both see it, and the
//! associated data made from it.
//!
//! A path is a list of segments from the line's top level: object keys and array
//! indexes. Its canonical encoding is the compact JSON array of those segments, keys as
//! JSON strings with only the escapes JSON requires (`"`, `\` and control characters, the
//! short forms where they exist, else `\u00xx`), indexes as decimal numbers:
//! `["user","email"]`, `["cards",0,"number"]`. The associated data of a field is
//! `pk1` + a zero byte + that encoding, so a ciphertext moved to any other place fails to
//! decrypt.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
  Key(String),
  Index(u64),
}

const AAD_PREFIX: &[u8] = b"pk1\0";

fn push_json_string(text: &str, out: &mut Vec<u8>) {
  out.push(b'"');
  for &b in text.as_bytes() {
    match b {
      b'"' => out.extend_from_slice(b"\\\""),
      b'\\' => out.extend_from_slice(b"\\\\"),
      b'\n' => out.extend_from_slice(b"\\n"),
      b'\r' => out.extend_from_slice(b"\\r"),
      b'\t' => out.extend_from_slice(b"\\t"),
      0x08 => out.extend_from_slice(b"\\b"),
      0x0c => out.extend_from_slice(b"\\f"),
      0..=0x1f => {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(b"\\u00");
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
      }
      _ => out.push(b),
    }
  }
  out.push(b'"');
}

/// The canonical JSON encoding of a path (see the module documentation).
pub fn canonical(path: &[Segment]) -> Vec<u8> {
  let mut out = Vec::with_capacity(32);
  write_canonical(path, &mut out);
  out
}

fn write_canonical(path: &[Segment], out: &mut Vec<u8>) {
  out.push(b'[');
  for (i, segment) in path.iter().enumerate() {
    if i > 0 {
      out.push(b',');
    }
    match segment {
      Segment::Key(key) => push_json_string(key, out),
      Segment::Index(n) => out.extend_from_slice(n.to_string().as_bytes()),
    }
  }
  out.push(b']');
}

/// The associated data of the field at `path`, written into a reused buffer.
pub fn associated_data(path: &[Segment], out: &mut Vec<u8>) {
  out.clear();
  out.extend_from_slice(AAD_PREFIX);
  write_canonical(path, out);
}

/// A path as the JS logger sends it: a JSON array of strings and non-negative integers.
/// None for anything else (the field is then redacted rather than sealed).
pub fn parse_json(text: &str) -> Option<Vec<Segment>> {
  let values: Vec<serde_json::Value> = serde_json::from_str(text).ok()?;
  values
    .into_iter()
    .map(|value| match value {
      serde_json::Value::String(key) => Some(Segment::Key(key)),
      serde_json::Value::Number(n) => n.as_u64().map(Segment::Index),
      _ => None,
    })
    .collect()
}

/// The paths `prodkit decrypt --paths` restricts decryption to: each a list of segments
/// where `None` is the `*` wildcard (any one key or index). JS parses the user's path
/// syntax and sends them as JSON: `[["user","email"],["cards",null,"number"]]`.
#[derive(Clone, Debug, Default)]
pub struct PathFilter {
  patterns: Vec<Vec<Option<String>>>,
}

impl PathFilter {
  pub fn parse_json(text: &str) -> Option<PathFilter> {
    let patterns: Vec<Vec<Option<String>>> = serde_json::from_str(text).ok()?;
    Some(PathFilter { patterns })
  }

  pub fn matches(&self, path: &[Segment]) -> bool {
    self.patterns.iter().any(|pattern| {
      pattern.len() == path.len()
        && pattern
          .iter()
          .zip(path)
          .all(|(want, got)| match (want, got) {
            (None, _) => true,
            (Some(want), Segment::Key(key)) => want == key,
            (Some(want), Segment::Index(n)) => want.parse::<u64>().ok() == Some(*n),
          })
    })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn key(k: &str) -> Segment {
    Segment::Key(k.to_string())
  }

  #[test]
  fn the_canonical_encoding_is_what_json_stringify_gives_for_the_same_array() {
    let path = [key("cards"), Segment::Index(3), key("x-\"q\"\\\n\u{1}é")];
    assert_eq!(
      String::from_utf8(canonical(&path)).unwrap(),
      r#"["cards",3,"x-\"q\"\\\n\u0001é"]"#
    );
    let mut aad = Vec::new();
    associated_data(&[key("a")], &mut aad);
    assert_eq!(aad, b"pk1\0[\"a\"]");
  }

  #[test]
  fn paths_from_js_parse_and_anything_else_is_refused() {
    assert_eq!(
      parse_json(r#"["user",0,"e\u00e9"]"#),
      Some(vec![key("user"), Segment::Index(0), key("eé")])
    );
    for bad in ["", "{}", "[1.5]", "[-1]", "[null]", "[\"\\ud800\"]", "[[]]"] {
      assert_eq!(parse_json(bad), None, "{bad}");
    }
  }

  #[test]
  fn filters_match_keys_indexes_and_wildcards_at_one_level() {
    let filter =
      PathFilter::parse_json(r#"[["user","email"],["cards",null,"number"],["a","0"]]"#).unwrap();
    assert!(filter.matches(&[key("user"), key("email")]));
    assert!(filter.matches(&[key("cards"), Segment::Index(2), key("number")]));
    assert!(filter.matches(&[key("cards"), key("visa"), key("number")]));
    assert!(filter.matches(&[key("a"), Segment::Index(0)]));
    assert!(filter.matches(&[key("a"), key("0")]));
    assert!(!filter.matches(&[key("user")]));
    assert!(!filter.matches(&[key("user"), key("email"), key("x")]));
    assert!(!filter.matches(&[key("cards"), key("number")]));
  }
}

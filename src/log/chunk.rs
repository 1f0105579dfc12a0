//! The batch format between the JS logger and the writer thread.
//!
//! JS hands over UTF-16 code units copied straight out of a V8 string (a memory copy for
//! V8, the cheapest way out of the JS heap). Most of a line's start is the same for every
//! line of one logger, level and millisecond (`{"level":30,"time":..,"pid":..,"hostname":..`
//! and the bindings), so JS sends it once and refers to it:
//!
//! - `DEFINE slot <head text> END` stores the head text in a slot;
//! - `REF slot` stands for the head text of that slot;
//! - `OPEN {<fields>} CLOSE` stands for `,<fields>` (nothing for `{}`): the merge object's
//!   JSON as JSON.stringify made it, its braces dropped here rather than with a
//!   `slice()` on the JS thread (which costs as much as copying the whole line).
//!
//! Sealed fields (`log.encrypt`): JS cannot put a marker inside JSON.stringify's output
//! (it escapes control characters), so a value to encrypt travels beside its line:
//!
//! - `SEAL_OPEN id SEAL_SEP path SEAL_SEP value SEAL_CLOSE` is a table entry: `value` is
//!   the field's JSON text, `path` its location as a JSON array (`["user","email"]`), `id`
//!   is `[0-9a-z]{1,16}`. Entries come before the text that refers to them: a line's
//!   entries before its head reference, a head's (from bindings) inside its definition.
//! - In the JSON, the field holds the placeholder string `"\u0006<token><id>"` (the
//!   escaped form JSON.stringify gives the SEAL_OPEN character, then the sink's random
//!   token, then the id). The writer replaces it with the sealed value's ciphertext; a
//!   line's entries end at its newline. User data cannot forge a placeholder without the
//!   token, and a forged one could only receive a ciphertext. See `sealing.rs`.
//!
//! `slot` is two code units, `SLOT_BASE + (n >> 7)` and `SLOT_BASE + (n & 127)`: both in
//! 0x80..=0xFF, so that the string stays one byte per character inside V8 (a character
//! above 0xFF would double the size of the whole batch). The markers are control
//! characters that never occur raw in JSON text (JSON.stringify escapes them), so they are
//! unambiguous. Slots are reused by JS in turn; a definition always precedes its
//! references in the stream, and the writer takes chunks in order, so a reference always
//! meets the right definition.
//!
//! JS never refers to a slot that may have been redefined since (a cached reference lives
//! for half the slots' definitions at most, whatever the clock does). The decoder checks
//! it anyway, so that a defect there can never give a line another logger's bindings or
//! make it invalid JSON: each definition and reference carries its slot's generation
//! parity (which pass of JS over the 16384 slots defined it: `HEAD_DEFINE`/`HEAD_REF`
//! for even passes, `HEAD_DEFINE_ODD`/`HEAD_REF_ODD` for odd), and a reference must find
//! the same parity, and text of its kind: a line head (`{...`) at the start of a line, a
//! message tail (`,...}`) after a merge object. Otherwise the line gets a stand-in that
//! keeps it valid JSON and says what happened (`prodkitHeadLost`, `prodkitTailLost`).

pub const HEAD_REF: u16 = 0x0001;
pub const HEAD_DEFINE: u16 = 0x0002;
pub const HEAD_END: u16 = 0x0003;
pub const MERGE_OPEN: u16 = 0x0004;
pub const MERGE_CLOSE: u16 = 0x0005;
pub const SEAL_OPEN: u16 = 0x0006;
pub const SEAL_SEP: u16 = 0x0007;
pub const SEAL_CLOSE: u16 = 0x0008;
/// `HEAD_DEFINE` and `HEAD_REF` for a slot in an odd generation (0x09..=0x0D are JSON
/// whitespace: skipped).
pub const HEAD_DEFINE_ODD: u16 = 0x000E;
pub const HEAD_REF_ODD: u16 = 0x000F;
pub const SLOT_BASE: u16 = 0x0080;
/// Number of slots: two code units of 7 bits each.
pub const SLOTS: usize = 1 << 14;

use super::sealing::FieldSealing;

/// The slot number encoded by the two code units after a marker.
fn slot_at(units: &[u16], at: usize) -> Option<usize> {
  let high = units.get(at)?.checked_sub(SLOT_BASE)?;
  let low = units.get(at + 1)?.checked_sub(SLOT_BASE)?;
  if high >= 128 || low >= 128 {
    return None;
  }
  Some(((high as usize) << 7) | low as usize)
}

/// Written for a reference to a slot that was never defined (only possible if a chunk was
/// lost): the line stays valid JSON and says what happened.
const LOST_HEAD: &[u8] = b"{\"prodkitHeadLost\":true";
/// Written for a message tail reference that does not meet its definition: closes the line.
const LOST_TAIL: &[u8] = b",\"prodkitTailLost\":true}";

/// A chunk of whole lines as it came from JS: UTF-16 in the batch format above, or plain
/// UTF-8 bytes.
pub enum Chunk {
  Utf8(Vec<u8>),
  Utf16(Vec<u16>),
}

impl Chunk {
  /// Memory held by the chunk, the unit of the queue's limit and sequence numbers.
  pub fn held(&self) -> usize {
    match self {
      Chunk::Utf8(bytes) => bytes.len(),
      Chunk::Utf16(units) => units.len() * 2,
    }
  }

  pub fn is_empty(&self) -> bool {
    self.held() == 0
  }

  /// Lines in the chunk (head definitions hold no newline).
  pub fn lines(&self) -> u64 {
    match self {
      Chunk::Utf8(bytes) => bytes.iter().filter(|&&b| b == b'\n').count() as u64,
      Chunk::Utf16(units) => units.iter().filter(|&&u| u == b'\n' as u16).count() as u64,
    }
  }
}

impl From<Vec<u8>> for Chunk {
  fn from(bytes: Vec<u8>) -> Chunk {
    Chunk::Utf8(bytes)
  }
}

/// Expands chunks into UTF-8 lines; keeps the head slots from one chunk to the next.
#[derive(Default)]
pub struct Decoder {
  heads: Vec<Vec<u8>>,
  /// Each slot's generation parity, as its definition gave it.
  odd: Vec<bool>,
  sealing: FieldSealing,
}

/// Appends UTF-16 as UTF-8. encoding_rs converts with SIMD (ASCII runs at memory speed);
/// lone surrogates (JSON.stringify never emits them raw) become U+FFFD.
pub(super) fn push_utf16(units: &[u16], out: &mut Vec<u8>) {
  let start = out.len();
  out.resize(start + units.len() * 3, 0);
  let written = encoding_rs::mem::convert_utf16_to_utf8(units, &mut out[start..]);
  out.truncate(start + written);
}

impl Decoder {
  /// A decoder that encrypts the sealed fields of the chunks it decodes.
  pub fn with_sealing(sealing: FieldSealing) -> Decoder {
    Decoder {
      heads: Vec::new(),
      odd: Vec::new(),
      sealing,
    }
  }

  /// Appends the chunk's lines as UTF-8 to `out`. Returns the chunk's UTF-16 buffer so
  /// that it can be reused.
  pub fn decode(&mut self, chunk: Chunk, out: &mut Vec<u8>) -> Option<Vec<u16>> {
    match chunk {
      Chunk::Utf8(bytes) => {
        out.extend_from_slice(&bytes);
        None
      }
      Chunk::Utf16(units) => {
        self.decode_utf16(&units, out);
        Some(units)
      }
    }
  }

  fn decode_utf16(&mut self, units: &[u16], out: &mut Vec<u8>) {
    let mut i = 0;
    // Where a reference is a message tail: right after a merge object.
    let mut tail_at = usize::MAX;
    while i < units.len() {
      let marker = units[i..]
        .iter()
        .position(|&u| {
          matches!(
            u,
            HEAD_REF..=MERGE_OPEN | SEAL_OPEN | HEAD_DEFINE_ODD | HEAD_REF_ODD
          )
        })
        .map_or(units.len(), |p| i + p);
      self.sealing.push_text(&units[i..marker], out);
      if marker == units.len() {
        break;
      }
      if units[marker] == SEAL_OPEN {
        let start = marker + 1;
        let close = units[start..]
          .iter()
          .position(|&u| u == SEAL_CLOSE)
          .map_or(units.len(), |p| start + p);
        self.sealing.entry(&units[start..close]);
        i = close + 1;
        continue;
      }
      if units[marker] == MERGE_OPEN {
        let start = marker + 1;
        let close = units[start..]
          .iter()
          .position(|&u| u == MERGE_CLOSE)
          .map_or(units.len(), |p| start + p);
        let object = &units[start..close];
        let braced = |b: u16, e: u16| b == b'{' as u16 && e == b'}' as u16;
        match object {
          [b, e] if braced(*b, *e) => {}
          [b, inner @ .., e] if braced(*b, *e) => {
            out.push(b',');
            self.sealing.push_text(inner, out);
          }
          // Not an object: keep it whole under "value" so the line stays valid JSON.
          [_, ..] => {
            out.extend_from_slice(b",\"value\":");
            self.sealing.push_text(object, out);
          }
          [] => {}
        }
        i = close + 1;
        tail_at = i;
        continue;
      }
      let slot = slot_at(units, marker + 1);
      if matches!(units[marker], HEAD_REF | HEAD_REF_ODD) {
        let odd = units[marker] == HEAD_REF_ODD;
        let tail = marker == tail_at;
        let kind = if tail { b',' } else { b'{' };
        match slot
          .filter(|&s| self.odd.get(s) == Some(&odd))
          .and_then(|s| self.heads.get(s))
          .filter(|h| h.first() == Some(&kind))
        {
          Some(head) => out.extend_from_slice(head),
          None if tail => out.extend_from_slice(LOST_TAIL),
          None => out.extend_from_slice(LOST_HEAD),
        }
        i = marker + 3;
      } else {
        let text_start = (marker + 3).min(units.len());
        let end = units[text_start..]
          .iter()
          .position(|&u| u == HEAD_END)
          .map_or(units.len(), |p| text_start + p);
        if let Some(slot) = slot {
          if self.heads.len() <= slot {
            self.heads.resize_with(slot + 1, Vec::new);
            self.odd.resize(slot + 1, false);
          }
          self.odd[slot] = units[marker] == HEAD_DEFINE_ODD;
          let head = &mut self.heads[slot];
          head.clear();
          self.sealing.push_head(&units[text_start..end], head);
        }
        i = end + 1;
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn utf16(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
  }

  fn decode(decoder: &mut Decoder, units: Vec<u16>) -> String {
    let mut out = Vec::new();
    decoder.decode(Chunk::Utf16(units), &mut out);
    String::from_utf8(out).unwrap()
  }

  fn slot(n: u16) -> [u16; 2] {
    [SLOT_BASE + (n >> 7), SLOT_BASE + (n & 127)]
  }

  fn define(n: u16, head: &str) -> Vec<u16> {
    let mut v = vec![HEAD_DEFINE];
    v.extend(slot(n));
    v.extend(utf16(head));
    v.push(HEAD_END);
    v
  }

  fn reference(n: u16, rest: &str) -> Vec<u16> {
    let mut v = vec![HEAD_REF];
    v.extend(slot(n));
    v.extend(utf16(rest));
    v
  }

  #[test]
  fn heads_are_defined_once_and_expanded_at_each_reference_across_chunks() {
    let mut d = Decoder::default();
    let mut first = define(0, "{\"level\":30,\"time\":1");
    first.extend(reference(0, ",\"msg\":\"a\"}\n"));
    first.extend(define(16383, "{\"level\":40,\"time\":2"));
    first.extend(reference(16383, ",\"msg\":\"é😀\"}\n"));
    assert_eq!(
      decode(&mut d, first),
      "{\"level\":30,\"time\":1,\"msg\":\"a\"}\n{\"level\":40,\"time\":2,\"msg\":\"é😀\"}\n"
    );
    let mut second = reference(0, ",\"msg\":\"b\"}\n");
    second.extend(utf16("{\"plain\":true}\n"));
    second.extend(define(0, "{\"level\":50,\"time\":3"));
    second.extend(reference(0, "}\n"));
    assert_eq!(
      decode(&mut d, second),
      "{\"level\":30,\"time\":1,\"msg\":\"b\"}\n{\"plain\":true}\n{\"level\":50,\"time\":3}\n"
    );
  }

  #[test]
  fn a_merge_object_is_spliced_into_the_line_without_its_braces() {
    let mut d = Decoder::default();
    let mut units = define(3, "{\"level\":30");
    units.extend(reference(3, ""));
    units.push(MERGE_OPEN);
    units.extend(utf16("{\"a\":1,\"b\":{\"c\":\"}\"}}"));
    units.push(MERGE_CLOSE);
    units.extend(utf16(",\"msg\":\"m\"}\n"));
    units.extend(reference(3, ""));
    units.push(MERGE_OPEN);
    units.extend(utf16("{}"));
    units.push(MERGE_CLOSE);
    units.extend(utf16("}\n"));
    assert_eq!(
      decode(&mut d, units),
      "{\"level\":30,\"a\":1,\"b\":{\"c\":\"}\"},\"msg\":\"m\"}\n{\"level\":30}\n"
    );
  }

  #[test]
  fn a_malformed_merge_object_still_gives_valid_json() {
    let mut d = Decoder::default();
    for (inner, expected) in [("[1]", "{\"x\":1,\"value\":[1]}\n"), ("", "{\"x\":1}\n")] {
      let mut units = utf16("{\"x\":1");
      units.push(MERGE_OPEN);
      units.extend(utf16(inner));
      units.push(MERGE_CLOSE);
      units.extend(utf16("}\n"));
      assert_eq!(decode(&mut d, units), expected);
    }
    decode(&mut d, vec![MERGE_OPEN]);
    decode(&mut d, vec![MERGE_OPEN, b'{' as u16]);
  }

  #[test]
  fn a_reference_to_an_unknown_slot_still_gives_valid_json() {
    let mut d = Decoder::default();
    let text = decode(&mut d, reference(7, ",\"msg\":\"x\"}\n"));
    let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(v["prodkitHeadLost"], true);
  }

  #[test]
  fn truncated_or_malformed_markers_never_panic() {
    let mut d = Decoder::default();
    for units in [
      vec![HEAD_REF],
      vec![HEAD_DEFINE],
      vec![HEAD_DEFINE, SLOT_BASE],
      vec![HEAD_DEFINE, SLOT_BASE, SLOT_BASE + 1, b'x' as u16],
      vec![HEAD_DEFINE, 0xffff, 0xffff, b'x' as u16, HEAD_END],
      vec![HEAD_DEFINE, SLOT_BASE, 0x10, b'x' as u16, HEAD_END],
      vec![HEAD_REF, 0],
      vec![HEAD_REF, SLOT_BASE, 0],
      vec![0xd800, b'\n' as u16],
    ] {
      decode(&mut d, units);
    }
    assert_eq!(decode(&mut d, vec![0xd800, b'\n' as u16]), "\u{fffd}\n");
  }

  #[test]
  fn a_reference_to_a_slot_redefined_since_never_gives_wrong_bindings_or_invalid_json() {
    let mut d = Decoder::default();
    let mut units = define(5, "{\"level\":30,\"who\":\"a\"");
    // The slot's next generation (odd) holds another logger's head; a reference made for
    // the even one must not get it.
    let mut odd = define(5, "{\"level\":30,\"who\":\"b\"");
    odd[0] = HEAD_DEFINE_ODD;
    units.extend(odd);
    units.extend(reference(5, ",\"msg\":\"x\"}\n"));
    let text = decode(&mut d, units);
    let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(v["prodkitHeadLost"], true, "{text}");
    assert!(v.get("who").is_none());
    // A reference of the right parity to text of the wrong kind: a message tail where a
    // line head belongs, and a line head where a message tail belongs.
    let mut units = define(6, ",\"msg\":\"m\"}");
    units.extend(reference(6, "}\n"));
    units.extend(define(7, "{\"level\":30"));
    units.extend(reference(7, ""));
    units.push(MERGE_OPEN);
    units.extend(utf16("{\"a\":1}"));
    units.push(MERGE_CLOSE);
    units.extend(reference(7, "\n"));
    units.extend(reference(7, ""));
    units.push(MERGE_OPEN);
    units.extend(utf16("{\"b\":2}"));
    units.push(MERGE_CLOSE);
    units.extend(reference(6, "\n"));
    let text = decode(&mut d, units);
    let lines: Vec<serde_json::Value> = text
      .lines()
      .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
      .collect();
    assert_eq!(lines[0]["prodkitHeadLost"], true);
    assert_eq!(lines[1]["prodkitTailLost"], true);
    assert_eq!(lines[1]["a"], 1);
    assert_eq!(lines[2]["b"], 2);
    assert_eq!(lines[2]["msg"], "m");
  }

  #[test]
  fn lines_are_counted_by_newlines_only() {
    let mut units = define(0, "{\"a\":1");
    units.extend(reference(0, "}\n"));
    assert_eq!(Chunk::Utf16(units).lines(), 1);
  }
}

//! Property tests: whatever bytes reach the decrypter (a damaged or hostile log line, a
//! mutated ciphertext) or the writer's sealing decoder, nothing panics, lines stay lines,
//! and what was sealed opens back to exactly what it was.

use proptest::prelude::*;

use super::format;
use super::key::MasterKey;
use super::keyring::Keyring;
use super::line::{decrypt_line, LineStream, Stats};
use super::path::Segment;
use super::seal::Sealer;
use crate::log::chunk::{Chunk, Decoder};
use crate::log::sealing::FieldSealing;

fn key() -> MasterKey {
  MasterKey::from_bytes(&[42; 32], Some("fuzz")).unwrap()
}

/// A valid line with two sealed fields, to mutate.
fn sealed_line() -> String {
  let mut sealer = Sealer::new(key()).unwrap();
  let mut a = Vec::new();
  sealer
    .seal(&[Segment::Key("a".into())], b"\"secret\"", &mut a)
    .unwrap();
  let mut b = Vec::new();
  sealer
    .seal(
      &[Segment::Key("b".into()), Segment::Index(0)],
      b"{\"n\":[1,2.5,null]}",
      &mut b,
    )
    .unwrap();
  format!(
    "{{\"level\":30,\"a\":{},\"b\":[{}],\"msg\":\"m\"}}",
    String::from_utf8(a).unwrap(),
    String::from_utf8(b).unwrap()
  )
}

/// A JSON value as text, of any type and some depth.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
  let leaf = prop_oneof![
    Just(serde_json::Value::Null),
    any::<bool>().prop_map(serde_json::Value::Bool),
    any::<i64>().prop_map(|n| serde_json::json!(n)),
    (-1e300f64..1e300).prop_map(|n| serde_json::json!(n)),
    ".{0,40}".prop_map(serde_json::Value::String),
  ];
  leaf.prop_recursive(4, 32, 6, |inner| {
    prop_oneof![
      prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
      prop::collection::btree_map(".{0,8}", inner, 0..6)
        .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
    ]
  })
}

fn decrypt(ring: &mut Keyring, line: &[u8]) -> (Vec<u8>, Stats) {
  let mut out = Vec::new();
  let mut stats = Stats::default();
  decrypt_line(line, ring, None, &mut out, &mut stats);
  (out, stats)
}

proptest! {
  #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

  #[test]
  fn random_bytes_never_panic_the_parser_or_the_decrypter(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
    let text = String::from_utf8_lossy(&bytes);
    let _ = format::parse(&text);
    let _ = format::parse(&format!("$pk1${text}"));
    let mut ring = Keyring::new(vec![key()]);
    let _ = ring.open(&format!("$pk1$fuzz${text}"), &[]);
    let (out, _) = decrypt(&mut ring, &bytes);
    prop_assert_eq!(out, bytes.clone(), "a line without a valid ciphertext comes back as it was");
    let mut with_prefix = b"{\"x\":\"$pk1$".to_vec();
    with_prefix.extend_from_slice(&bytes);
    let _ = decrypt(&mut ring, &with_prefix);
  }

  #[test]
  fn mutated_sealed_lines_never_panic_and_stay_json_when_they_were(
    edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    cut in any::<prop::sample::Index>(),
  ) {
    let line = sealed_line();
    let mut bytes = line.clone().into_bytes();
    for (at, byte) in &edits {
      let i = at.index(bytes.len());
      bytes[i] = *byte;
    }
    let mut ring = Keyring::new(vec![key()]);
    let (out, stats) = decrypt(&mut ring, &bytes);
    if super::scan::is_json(&bytes) {
      prop_assert!(super::scan::is_json(&out), "valid JSON in, valid JSON out");
    }
    prop_assert!(stats.decrypted + stats.failed <= 2);
    let truncated = &line.as_bytes()[..cut.index(line.len())];
    let _ = decrypt(&mut ring, truncated);
  }

  #[test]
  fn every_json_value_opens_back_to_its_exact_text(value in json_value(), path in prop::collection::vec(".{0,6}", 0..4)) {
    let text = serde_json::to_string(&value).unwrap();
    let path: Vec<Segment> = path.into_iter().map(Segment::Key).collect();
    let mut sealer = Sealer::new(key()).unwrap();
    let mut sealed = Vec::new();
    sealer.seal(&path, text.as_bytes(), &mut sealed).unwrap();
    let ciphertext = std::str::from_utf8(&sealed[1..sealed.len() - 1]).unwrap();
    let mut ring = Keyring::new(vec![key()]);
    prop_assert_eq!(ring.open(ciphertext, &path).unwrap(), text.into_bytes());
  }

  #[test]
  fn streams_of_random_chunks_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..8)) {
    let mut ring = Keyring::new(vec![key()]);
    let mut stream = LineStream::new(None);
    let mut out = Vec::new();
    let mut newlines = 0;
    for chunk in &chunks {
      newlines += chunk.iter().filter(|&&b| b == b'\n').count();
      stream.push(&mut ring, chunk, &mut out);
    }
    stream.finish(&mut ring, &mut out);
    prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), newlines);
  }

  #[test]
  fn random_batches_never_panic_the_sealing_decoder(units in prop::collection::vec(
    prop_oneof![0u16..10, Just(b'"' as u16), Just(b'\\' as u16), Just(b'\n' as u16), 0x20u16..0x80, 0x80u16..0x100, any::<u16>()],
    0..400,
  )) {
    let mut decoder = Decoder::with_sealing(FieldSealing::new(Some(Sealer::new(key()).unwrap()), "tok"));
    let mut out = Vec::new();
    decoder.decode(Chunk::Utf16(units), &mut out);
  }
}

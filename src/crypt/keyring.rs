//! Decryption with several keys: a keyring, so that logs written under an old key stay
//! readable after the app moves to a new one.

use std::collections::HashMap;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, Nonce, Tag};

use super::format::{self, FormatError, TAG_LEN};
use super::key::{MasterKey, SALT_LEN};
use super::path::{associated_data, Segment};

/// Subkeys kept for reuse: one per (key, salt), that is per writer process, so a log
/// file needs few. Bounded so that a file from many processes cannot grow it forever.
const CACHED_SUBKEYS: usize = 1024;

/// Why a field could not be decrypted. `reason()` is what the CLI writes inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
  Malformed(FormatError),
  /// No key in the keyring has the ciphertext's key id.
  UnknownKeyId,
  /// A key has that id, but not the key the field was sealed with (its key check differs).
  WrongKey,
  /// The right key, but the ciphertext, its salt or nonce were changed, or the ciphertext
  /// was moved from another field (the path is authenticated).
  Tampered,
  /// Decrypted and authentic, but not one JSON value (not written by prodkit).
  NotJson,
}

impl OpenError {
  pub fn reason(self) -> &'static str {
    match self {
      OpenError::Malformed(e) => e.reason(),
      OpenError::UnknownKeyId => "unknown key id",
      OpenError::WrongKey => "wrong key",
      OpenError::Tampered => "tampered (or moved from another field)",
      OpenError::NotJson => "decrypted value is not JSON",
    }
  }
}

#[derive(Default)]
pub struct Keyring {
  keys: Vec<MasterKey>,
  subkeys: HashMap<(usize, [u8; SALT_LEN]), Aes256Gcm>,
  aad: Vec<u8>,
}

impl Keyring {
  pub fn new(keys: Vec<MasterKey>) -> Keyring {
    Keyring {
      keys,
      ..Keyring::default()
    }
  }

  pub fn len(&self) -> usize {
    self.keys.len()
  }

  pub fn is_empty(&self) -> bool {
    self.keys.is_empty()
  }

  /// Decrypts the ciphertext `text` found at `path`; returns the value's JSON text.
  pub fn open(&mut self, text: &str, path: &[Segment]) -> Result<Vec<u8>, OpenError> {
    let sealed = format::parse(text).map_err(OpenError::Malformed)?;
    let mut same_id = self
      .keys
      .iter()
      .enumerate()
      .filter(|(_, k)| k.id() == sealed.key_id)
      .peekable();
    if same_id.peek().is_none() {
      return Err(OpenError::UnknownKeyId);
    }
    let Some((index, key)) = same_id.find(|(_, k)| k.check() == sealed.check) else {
      return Err(OpenError::WrongKey);
    };
    if self.subkeys.len() >= CACHED_SUBKEYS {
      self.subkeys.clear();
    }
    let cipher = self
      .subkeys
      .entry((index, sealed.salt))
      .or_insert_with(|| key.subkey(&sealed.salt));
    associated_data(path, &mut self.aad);
    let mut body = sealed.body;
    let tag_at = body.len() - TAG_LEN;
    let tag = Tag::clone_from_slice(&body[tag_at..]);
    body.truncate(tag_at);
    cipher
      .decrypt_in_place_detached(Nonce::from_slice(&sealed.nonce), &self.aad, &mut body, &tag)
      .map_err(|_| OpenError::Tampered)?;
    Ok(body)
  }
}

#[cfg(test)]
mod tests {
  use super::super::seal::Sealer;
  use super::*;

  fn key(byte: u8, id: Option<&str>) -> MasterKey {
    MasterKey::from_bytes(&[byte; 32], id).unwrap()
  }

  fn path(keys: &[&str]) -> Vec<Segment> {
    keys.iter().map(|k| Segment::Key(k.to_string())).collect()
  }

  fn seal(key: MasterKey, at: &[Segment], value: &str) -> String {
    let mut out = Vec::new();
    Sealer::new(key)
      .unwrap()
      .seal(at, value.as_bytes(), &mut out)
      .unwrap();
    String::from_utf8(out[1..out.len() - 1].to_vec()).unwrap()
  }

  #[test]
  fn the_right_key_opens_and_each_failure_has_its_reason() {
    let at = path(&["user", "email"]);
    let text = seal(key(1, None), &at, "\"ann@example.com\"");
    let mut ring = Keyring::new(vec![key(2, None), key(1, None)]);
    assert_eq!(ring.open(&text, &at).unwrap(), b"\"ann@example.com\"");
    assert_eq!(
      ring.open(&text, &at).unwrap(),
      b"\"ann@example.com\"",
      "cached subkey"
    );
    assert_eq!(
      ring.open(&text, &path(&["user", "name"])),
      Err(OpenError::Tampered),
      "moved to another field"
    );
    assert_eq!(
      Keyring::new(vec![key(2, None)]).open(&text, &at),
      Err(OpenError::UnknownKeyId)
    );
    let labelled = seal(key(1, Some("k1")), &at, "1");
    assert_eq!(
      Keyring::new(vec![key(3, Some("k1"))]).open(&labelled, &at),
      Err(OpenError::WrongKey)
    );
    assert_eq!(
      Keyring::new(vec![key(3, Some("k1")), key(1, Some("k1"))])
        .open(&labelled, &at)
        .unwrap(),
      b"1"
    );
    let mut flipped = text.clone().into_bytes();
    let last = flipped.len() - 5;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
      ring.open(std::str::from_utf8(&flipped).unwrap(), &at),
      Err(OpenError::Tampered)
    );
    assert!(matches!(
      ring.open("$pk1$zz", &at),
      Err(OpenError::Malformed(_))
    ));
  }

  #[test]
  fn every_changed_character_is_refused_and_never_panics() {
    let at = path(&["a"]);
    let text = seal(key(1, Some("k")), &at, "{\"n\":[1,2,\"x\"]}");
    let mut ring = Keyring::new(vec![key(1, Some("k"))]);
    for i in "$pk1$k$".len()..text.len() {
      for replacement in [b'A', b'_', b'$', b'z'] {
        let mut changed = text.clone().into_bytes();
        if changed[i] == replacement {
          continue;
        }
        changed[i] = replacement;
        let result = ring.open(std::str::from_utf8(&changed).unwrap(), &at);
        assert!(
          result.is_err(),
          "changed byte {i} to {replacement} was accepted"
        );
      }
    }
  }
}

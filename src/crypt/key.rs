//! Master keys: 32 bytes given as base64 (standard or URL alphabet, padded or not) or
//! as 64 hex digits. A key has an id, carried in every ciphertext so that a keyring can
//! pick the right key, and a key check, a 4-byte value derived from the key that tells a
//! wrong key from a tampered ciphertext.

use std::fmt;

use aes_gcm::{Aes256Gcm, KeyInit};
use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

pub const KEY_LEN: usize = 32;
pub const CHECK_LEN: usize = 4;
pub const SALT_LEN: usize = 16;
/// The longest key id; ids are `[A-Za-z0-9_-]`, so they never need escaping in JSON and
/// never contain the `$` that separates the fields of a ciphertext.
pub const MAX_KEY_ID_LEN: usize = 32;

const SUBKEY_INFO: &[u8] = b"prodkit log field subkey v1";
const CHECK_INFO: &[u8] = b"prodkit key check v1";
const ID_DOMAIN: &[u8] = b"prodkit key id v1\0";

/// Why a key was refused. The messages never contain the key or any part of it (the base64
/// crate's own errors quote the offending byte, so they are not passed on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
  Empty,
  NotBase64OrHex,
  WrongLength(usize),
  BadKeyId,
}

impl fmt::Display for KeyError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      KeyError::Empty => write!(f, "the key is empty"),
      KeyError::NotBase64OrHex => write!(f, "the key is neither base64 nor hex"),
      KeyError::WrongLength(n) => write!(f, "the key decodes to {n} bytes, not {KEY_LEN}"),
      KeyError::BadKeyId => write!(
        f,
        "the key id must be 1 to {MAX_KEY_ID_LEN} characters from A-Z a-z 0-9 _ -"
      ),
    }
  }
}

impl std::error::Error for KeyError {}

pub fn is_valid_key_id(id: &str) -> bool {
  !id.is_empty()
    && id.len() <= MAX_KEY_ID_LEN
    && id
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub struct MasterKey {
  bytes: [u8; KEY_LEN],
  id: String,
  check: [u8; CHECK_LEN],
}

impl fmt::Debug for MasterKey {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "MasterKey({})", self.id)
  }
}

impl Drop for MasterKey {
  fn drop(&mut self) {
    wipe(&mut self.bytes);
  }
}

/// Overwrites key material that is no longer needed. Volatile writes, so that the
/// compiler cannot drop them as dead stores.
pub fn wipe(bytes: &mut [u8]) {
  for b in bytes.iter_mut() {
    // SAFETY: `b` is a valid, aligned, exclusive reference.
    unsafe { std::ptr::write_volatile(b, 0) };
  }
}

const LENIENT: GeneralPurposeConfig =
  GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

fn hex_value(b: u8) -> Option<u8> {
  match b {
    b'0'..=b'9' => Some(b - b'0'),
    b'a'..=b'f' => Some(b - b'a' + 10),
    b'A'..=b'F' => Some(b - b'A' + 10),
    _ => None,
  }
}

/// Key text to bytes. 64 hex digits are hex; anything else must be base64 of 32 bytes
/// (44 characters, 43 unpadded), so the two forms never overlap.
fn decode_key_text(text: &[u8]) -> Result<[u8; KEY_LEN], KeyError> {
  let text = text.trim_ascii();
  if text.is_empty() {
    return Err(KeyError::Empty);
  }
  let mut key = [0u8; KEY_LEN];
  if text.len() == 2 * KEY_LEN && text.iter().all(|b| b.is_ascii_hexdigit()) {
    for (i, pair) in text.chunks(2).enumerate() {
      key[i] = (hex_value(pair[0]).unwrap_or(0) << 4) | hex_value(pair[1]).unwrap_or(0);
    }
    return Ok(key);
  }
  let engine = if text.iter().any(|&b| b == b'-' || b == b'_') {
    &URL_SAFE
  } else {
    &STANDARD
  };
  let mut decoded = engine.decode(text).map_err(|_| KeyError::NotBase64OrHex)?;
  let result = if decoded.len() == KEY_LEN {
    key.copy_from_slice(&decoded);
    Ok(key)
  } else {
    Err(KeyError::WrongLength(decoded.len()))
  };
  wipe(&mut decoded);
  result
}

/// The default key id: 8 base64url characters of a hash of the key. It identifies the
/// key without revealing anything usable about it.
fn fingerprint(bytes: &[u8; KEY_LEN]) -> String {
  let digest = Sha256::new()
    .chain_update(ID_DOMAIN)
    .chain_update(bytes)
    .finalize();
  general_purpose::URL_SAFE_NO_PAD.encode(&digest[..6])
}

impl MasterKey {
  /// A key from its text (base64 or hex); `key_id` overrides the default id.
  pub fn parse(text: &[u8], key_id: Option<&str>) -> Result<MasterKey, KeyError> {
    let mut bytes = decode_key_text(text)?;
    let key = MasterKey::from_bytes(&bytes, key_id);
    wipe(&mut bytes);
    key
  }

  pub fn from_bytes(bytes: &[u8; KEY_LEN], key_id: Option<&str>) -> Result<MasterKey, KeyError> {
    let id = match key_id {
      Some(id) if is_valid_key_id(id) => id.to_string(),
      Some(_) => return Err(KeyError::BadKeyId),
      None => fingerprint(bytes),
    };
    let mut check = [0u8; CHECK_LEN];
    Hkdf::<Sha256>::new(None, bytes)
      .expand(CHECK_INFO, &mut check)
      .expect("4 bytes is a valid HKDF-SHA256 output length");
    Ok(MasterKey {
      bytes: *bytes,
      id,
      check,
    })
  }

  pub fn id(&self) -> &str {
    &self.id
  }

  pub fn check(&self) -> [u8; CHECK_LEN] {
    self.check
  }

  /// The AES-256-GCM cipher of the subkey for `salt`: HKDF-SHA256(master key, salt).
  pub fn subkey(&self, salt: &[u8; SALT_LEN]) -> Aes256Gcm {
    let mut okm = [0u8; KEY_LEN];
    Hkdf::<Sha256>::new(Some(salt), &self.bytes)
      .expand(SUBKEY_INFO, &mut okm)
      .expect("32 bytes is a valid HKDF-SHA256 output length");
    let cipher = Aes256Gcm::new_from_slice(&okm).expect("the subkey is 32 bytes");
    wipe(&mut okm);
    cipher
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

  fn bytes() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
  }

  #[test]
  fn base64_in_both_alphabets_with_or_without_padding_and_hex_give_the_same_key() {
    let raw = [0xfbu8; 32];
    let forms = [
      general_purpose::STANDARD.encode(raw),
      general_purpose::STANDARD_NO_PAD.encode(raw),
      general_purpose::URL_SAFE.encode(raw),
      general_purpose::URL_SAFE_NO_PAD.encode(raw),
      format!("  {}\n", general_purpose::STANDARD.encode(raw)),
      "fb".repeat(32),
      "FB".repeat(32),
    ];
    let expected = MasterKey::from_bytes(&raw, None).unwrap();
    for form in forms {
      let key = MasterKey::parse(form.as_bytes(), None).unwrap();
      assert_eq!(key.bytes, raw, "{form}");
      assert_eq!(key.id(), expected.id());
    }
    assert_eq!(
      MasterKey::parse(HEX.as_bytes(), None).unwrap().bytes,
      bytes()
    );
  }

  #[test]
  fn bad_keys_are_refused_with_messages_that_hold_no_key_material() {
    let short = general_purpose::STANDARD.encode([7u8; 16]);
    for (text, error) in [
      ("", KeyError::Empty),
      ("   \n", KeyError::Empty),
      ("not a key!", KeyError::NotBase64OrHex),
      (short.as_str(), KeyError::WrongLength(16)),
      (&HEX[..62], KeyError::NotBase64OrHex),
    ] {
      let err = MasterKey::parse(text.as_bytes(), None).unwrap_err();
      assert_eq!(err, error, "{text:?}");
      let message = err.to_string();
      if text.len() > 4 {
        assert!(!message.contains(text.trim()), "{message}");
      }
    }
    let key = MasterKey::parse(HEX.as_bytes(), Some("2025-01")).unwrap();
    assert_eq!(key.id(), "2025-01");
    assert_eq!(format!("{key:?}"), "MasterKey(2025-01)");
    for bad in ["", "a$b", "a.b", "é", &"x".repeat(33)] {
      assert_eq!(
        MasterKey::parse(HEX.as_bytes(), Some(bad)).unwrap_err(),
        KeyError::BadKeyId
      );
    }
  }

  #[test]
  fn ids_and_checks_differ_between_keys_and_subkeys_between_salts() {
    let a = MasterKey::from_bytes(&[1; 32], None).unwrap();
    let b = MasterKey::from_bytes(&[2; 32], None).unwrap();
    assert_ne!(a.id(), b.id());
    assert_eq!(a.id().len(), 8);
    assert_ne!(a.check(), b.check());
    use aes_gcm::aead::{Aead, Nonce};
    let nonce = Nonce::<Aes256Gcm>::default();
    let one = a.subkey(&[0; 16]).encrypt(&nonce, &b"x"[..]).unwrap();
    let two = a.subkey(&[1; 16]).encrypt(&nonce, &b"x"[..]).unwrap();
    assert_ne!(one, two);
  }
}

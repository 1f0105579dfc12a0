//! The ciphertext string, version 1:
//!
//! ```text
//! $pk1$<key id>$<key check>$<salt>$<nonce>$<ciphertext and tag>
//! ```
//!
//! Each field after the key id is base64url without padding: the key check is 4 bytes
//! (6 characters), the salt 16 (22), the nonce 12 (16), and the last field the AES-256-GCM
//! ciphertext of the value's JSON text followed by the 16-byte tag. The key id is
//! `[A-Za-z0-9_-]{1,32}`. No character of it needs escaping in JSON, so the string sits in
//! the line as it is and `grep '\$pk1\$'` finds every sealed field.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::key::{is_valid_key_id, CHECK_LEN, SALT_LEN};

pub const PREFIX: &str = "$pk1$";
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// The largest sealed value the parser accepts (decoded), so that a hostile line cannot
/// make the decrypter allocate without bound.
pub const MAX_BODY_LEN: usize = 64 << 20;

/// A parsed ciphertext, borrowing its key id from the text.
#[derive(Debug, PartialEq, Eq)]
pub struct Sealed<'a> {
  pub key_id: &'a str,
  pub check: [u8; CHECK_LEN],
  pub salt: [u8; SALT_LEN],
  pub nonce: [u8; NONCE_LEN],
  /// Ciphertext followed by the tag.
  pub body: Vec<u8>,
}

/// What is wrong with a string that starts like a ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatError {
  UnknownVersion,
  Fields,
  KeyId,
  Encoding,
  TooShort,
  TooLong,
}

impl FormatError {
  pub fn reason(self) -> &'static str {
    match self {
      FormatError::UnknownVersion => "malformed: not a $pk1$ ciphertext",
      FormatError::Fields => "malformed: wrong number of fields",
      FormatError::KeyId => "malformed: bad key id",
      FormatError::Encoding => "malformed: bad base64url",
      FormatError::TooShort => "malformed: too short",
      FormatError::TooLong => "malformed: too long",
    }
  }
}

/// Appends the ciphertext to `out` (without quotes).
pub fn write(
  out: &mut Vec<u8>,
  key_id: &str,
  check: &[u8; CHECK_LEN],
  salt: &[u8; SALT_LEN],
  nonce: &[u8; NONCE_LEN],
  body: &[u8],
) {
  out.extend_from_slice(PREFIX.as_bytes());
  out.extend_from_slice(key_id.as_bytes());
  for part in [&check[..], &salt[..], &nonce[..], body] {
    out.push(b'$');
    let start = out.len();
    out.resize(start + part.len().div_ceil(3) * 4, 0);
    let written = URL_SAFE_NO_PAD
      .encode_slice(part, &mut out[start..])
      .expect("the buffer was sized for the encoding");
    out.truncate(start + written);
  }
}

fn decode_exact<const N: usize>(text: &str) -> Result<[u8; N], FormatError> {
  let mut out = [0u8; N];
  if text.len() != (N * 4).div_ceil(3) {
    return Err(FormatError::Encoding);
  }
  let mut buf = [0u8; 32];
  let n = URL_SAFE_NO_PAD
    .decode_slice(text, &mut buf)
    .map_err(|_| FormatError::Encoding)?;
  if n != N {
    return Err(FormatError::Encoding);
  }
  out.copy_from_slice(&buf[..N]);
  Ok(out)
}

/// Parses a ciphertext string. Never panics, whatever the input.
pub fn parse(text: &str) -> Result<Sealed<'_>, FormatError> {
  let rest = text
    .strip_prefix(PREFIX)
    .ok_or(FormatError::UnknownVersion)?;
  let mut fields = rest.split('$');
  let (Some(key_id), Some(check), Some(salt), Some(nonce), Some(body), None) = (
    fields.next(),
    fields.next(),
    fields.next(),
    fields.next(),
    fields.next(),
    fields.next(),
  ) else {
    return Err(FormatError::Fields);
  };
  if !is_valid_key_id(key_id) {
    return Err(FormatError::KeyId);
  }
  if body.len() > MAX_BODY_LEN / 3 * 4 {
    return Err(FormatError::TooLong);
  }
  let body = URL_SAFE_NO_PAD
    .decode(body)
    .map_err(|_| FormatError::Encoding)?;
  if body.len() < TAG_LEN {
    return Err(FormatError::TooShort);
  }
  Ok(Sealed {
    key_id,
    check: decode_exact(check)?,
    salt: decode_exact(salt)?,
    nonce: decode_exact(nonce)?,
    body,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_written_ciphertext_parses_back_to_its_parts() {
    let mut out = Vec::new();
    write(&mut out, "k1", &[1, 2, 3, 4], &[5; 16], &[6; 12], &[7; 20]);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches('$').count(), 6);
    assert!(text.starts_with("$pk1$k1$AQIDBA$BQUF"));
    let sealed = parse(&text).unwrap();
    assert_eq!(
      sealed,
      Sealed {
        key_id: "k1",
        check: [1, 2, 3, 4],
        salt: [5; 16],
        nonce: [6; 12],
        body: vec![7; 20],
      }
    );
  }

  #[test]
  fn malformed_ciphertexts_are_named() {
    let mut good = Vec::new();
    write(&mut good, "k1", &[1; 4], &[2; 16], &[3; 12], &[4; 16]);
    let good = String::from_utf8(good).unwrap();
    assert!(parse(&good).is_ok());
    let cases = [
      ("$pk2$k1$a$b$c$d", FormatError::UnknownVersion),
      ("$pk1$k1$a$b", FormatError::Fields),
      (&format!("{good}$x"), FormatError::Fields),
      (&good.replace("$k1$", "$k.1$"), FormatError::KeyId),
      (&good.replace("$k1$", "$$"), FormatError::KeyId),
      (&format!("{}!", good), FormatError::Encoding),
      (
        &good.replace("$AQEBAQ$", "$AQEBAQE$"),
        FormatError::Encoding,
      ),
      (&good[..good.len() - 3], FormatError::TooShort),
    ];
    for (text, error) in cases {
      assert_eq!(parse(text).unwrap_err(), error, "{text}");
    }
  }
}

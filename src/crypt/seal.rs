//! Encryption, on the log writer thread.
//!
//! Each sealer (one per logger's writer thread, so one or a few per process) draws a
//! random 16-byte salt and derives its subkey = HKDF-SHA256(master key, salt). Nonces are
//! a counter from 0 under that subkey, so they never repeat within it, and two processes
//! (or restarts) share a subkey only if they draw the same salt: for n processes in the
//! key's whole life, a chance of about n² / 2^129. After `REKEY_AFTER` fields a sealer
//! draws a new salt, so that no subkey ever encrypts more than 2^32 values, well inside
//! AES-GCM's limits. The master key itself never encrypts anything.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, Nonce};

use super::format::{self, NONCE_LEN};
use super::key::{MasterKey, SALT_LEN};
use super::path::{associated_data, Segment};

/// Fields sealed under one subkey before a new salt is drawn.
pub const REKEY_AFTER: u64 = 1 << 32;

/// Why a value could not be sealed (it is then redacted, never written in clear).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
  /// The system's random source failed, so no fresh salt (or subkey) could be made.
  NoRandom,
  /// AES-GCM refused the input (longer than it can encrypt).
  Cipher,
}

type RandomSource = fn(&mut [u8]) -> Result<(), getrandom::Error>;

pub struct Sealer {
  key: MasterKey,
  random: RandomSource,
  salt: [u8; SALT_LEN],
  cipher: Option<Aes256Gcm>,
  counter: u64,
  aad: Vec<u8>,
  buffer: Vec<u8>,
}

impl Sealer {
  /// A sealer with its first subkey; fails only if the random source does.
  pub fn new(key: MasterKey) -> Result<Sealer, SealError> {
    Sealer::with_random(key, getrandom::fill)
  }

  fn with_random(key: MasterKey, random: RandomSource) -> Result<Sealer, SealError> {
    let mut sealer = Sealer {
      key,
      random,
      salt: [0; SALT_LEN],
      cipher: None,
      counter: 0,
      aad: Vec::new(),
      buffer: Vec::new(),
    };
    sealer.rekey()?;
    Ok(sealer)
  }

  pub fn key_id(&self) -> &str {
    self.key.id()
  }

  fn rekey(&mut self) -> Result<(), SealError> {
    self.cipher = None;
    (self.random)(&mut self.salt).map_err(|_| SealError::NoRandom)?;
    self.cipher = Some(self.key.subkey(&self.salt));
    self.counter = 0;
    Ok(())
  }

  /// Appends the sealed `plaintext` (a value's JSON text) as a JSON string, quotes
  /// included. On error nothing is appended.
  pub fn seal(
    &mut self,
    path: &[Segment],
    plaintext: &[u8],
    out: &mut Vec<u8>,
  ) -> Result<(), SealError> {
    if self.cipher.is_none() || self.counter >= REKEY_AFTER {
      self.rekey()?;
    }
    let Some(cipher) = &self.cipher else {
      return Err(SealError::NoRandom);
    };
    let mut nonce = [0u8; NONCE_LEN];
    nonce[4..].copy_from_slice(&self.counter.to_be_bytes());
    self.counter += 1;
    associated_data(path, &mut self.aad);
    self.buffer.clear();
    self.buffer.extend_from_slice(plaintext);
    let tag = cipher
      .encrypt_in_place_detached(Nonce::from_slice(&nonce), &self.aad, &mut self.buffer)
      .map_err(|_| SealError::Cipher)?;
    self.buffer.extend_from_slice(&tag);
    out.push(b'"');
    format::write(
      out,
      self.key.id(),
      &self.key.check(),
      &self.salt,
      &nonce,
      &self.buffer,
    );
    out.push(b'"');
    Ok(())
  }
}

#[cfg(test)]
pub(crate) fn broken_random(_: &mut [u8]) -> Result<(), getrandom::Error> {
  Err(getrandom::Error::UNSUPPORTED)
}

#[cfg(test)]
impl Sealer {
  /// A sealer whose random source works for its first salt and fails from then on: the
  /// "key became unusable" case.
  pub(crate) fn failing_after_first_salt(key: MasterKey) -> Sealer {
    let mut sealer = Sealer::new(key).unwrap();
    sealer.random = broken_random;
    sealer
  }

  pub(crate) fn force_rekey_at_next_seal(&mut self) {
    self.counter = REKEY_AFTER;
  }
}

#[cfg(test)]
mod tests {
  use super::super::format;
  use super::*;

  fn key() -> MasterKey {
    MasterKey::from_bytes(&[9; 32], Some("test")).unwrap()
  }

  fn seal(sealer: &mut Sealer, value: &str) -> String {
    let mut out = Vec::new();
    sealer
      .seal(&[Segment::Key("a".into())], value.as_bytes(), &mut out)
      .unwrap();
    String::from_utf8(out).unwrap()
  }

  #[test]
  fn nonces_count_up_under_one_salt_and_each_sealer_draws_its_own_salt() {
    let mut one = Sealer::new(key()).unwrap();
    let a = seal(&mut one, "\"x\"");
    let b = seal(&mut one, "\"x\"");
    assert_ne!(a, b, "same value, different ciphertexts");
    let (pa, pb) = (
      format::parse(&a[1..a.len() - 1]).unwrap(),
      format::parse(&b[1..b.len() - 1]).unwrap(),
    );
    assert_eq!(pa.salt, pb.salt);
    assert_eq!(pa.nonce[11], 0);
    assert_eq!(pb.nonce[11], 1);
    assert_eq!(pa.key_id, "test");
    let mut two = Sealer::new(key()).unwrap();
    let c = seal(&mut two, "\"x\"");
    assert_ne!(format::parse(&c[1..c.len() - 1]).unwrap().salt, pa.salt);
  }

  #[test]
  fn a_sealer_draws_a_new_salt_after_its_limit() {
    let mut sealer = Sealer::new(key()).unwrap();
    let before = seal(&mut sealer, "1");
    sealer.force_rekey_at_next_seal();
    let after = seal(&mut sealer, "1");
    let (a, b) = (
      format::parse(&before[1..before.len() - 1]).unwrap(),
      format::parse(&after[1..after.len() - 1]).unwrap(),
    );
    assert_ne!(a.salt, b.salt);
    assert_eq!(b.nonce, [0; 12]);
  }

  #[test]
  fn without_randomness_sealing_fails_and_writes_nothing() {
    assert_eq!(
      Sealer::with_random(key(), broken_random).err(),
      Some(SealError::NoRandom)
    );
    let mut sealer = Sealer::failing_after_first_salt(key());
    sealer.force_rekey_at_next_seal();
    let mut out = Vec::new();
    assert_eq!(sealer.seal(&[], b"1", &mut out), Err(SealError::NoRandom));
    assert!(out.is_empty());
    assert_eq!(sealer.seal(&[], b"1", &mut out), Err(SealError::NoRandom));
  }
}

//! The napi surface of field encryption: the sink's encryption options, the `Keyring`
//! class behind `prodkit.decryptLine()` and `createKeyring()`, and `DecryptStream`, the
//! streaming decrypter of `prodkit decrypt`. Key bytes cross as Buffers (JS wipes its
//! copy) and never appear in an error message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::key::MasterKey;
use super::keyring;
use super::line::{decrypt_line, LineStream, Stats};
use super::path::PathFilter;
use super::seal::Sealer;
use crate::log::chunk::Decoder;
use crate::log::sealing::FieldSealing;

/// `log.encrypt` as the native sink takes it (JS has read the key from its source).
#[napi(object)]
pub struct SinkEncryption {
  /// The key's text: base64 or hex of 32 bytes.
  pub key: Buffer,
  /// The id written in each ciphertext; default: derived from the key.
  pub key_id: Option<String>,
  /// The random part of the placeholders JS puts in sealed fields (`[A-Za-z0-9_-]{8,64}`).
  pub token: String,
}

fn invalid(message: String) -> Error {
  Error::new(Status::InvalidArg, message)
}

/// The writer thread's decoder: one that seals fields when encryption is configured.
/// Fails, before any line is written, if the key is unusable.
pub fn decoder_for(encryption: Option<&SinkEncryption>) -> Result<Decoder> {
  let Some(encryption) = encryption else {
    return Ok(Decoder::default());
  };
  let token = &encryption.token;
  if !(8..=64).contains(&token.len())
    || !token
      .bytes()
      .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
  {
    return Err(invalid(
      "LogSink: encrypt.token must be 8 to 64 of A-Z a-z 0-9 _ -".into(),
    ));
  }
  let key = MasterKey::parse(&encryption.key, encryption.key_id.as_deref())
    .map_err(|err| invalid(format!("{err}")))?;
  let sealer = Sealer::new(key).map_err(|_| {
    Error::from_reason("the system's random number source failed, so no subkey could be made")
  })?;
  Ok(Decoder::with_sealing(FieldSealing::new(
    Some(sealer),
    token,
  )))
}

/// One key of a keyring.
#[napi(object)]
pub struct KeyringEntry {
  /// The key's text: base64 or hex of 32 bytes.
  pub key: Buffer,
  /// The key's id, if it was given one with `log.encrypt.keyId`; default: derived from it.
  pub key_id: Option<String>,
}

/// Counters of a decryption stream.
#[napi(object)]
pub struct DecryptStats {
  pub lines: f64,
  pub decrypted: f64,
  pub failed: f64,
  /// Failures by reason (`unknown key id`, `wrong key`, `tampered (or moved from another field)`...).
  pub reasons: HashMap<String, f64>,
}

impl From<&Stats> for DecryptStats {
  fn from(stats: &Stats) -> DecryptStats {
    DecryptStats {
      lines: stats.lines as f64,
      decrypted: stats.decrypted as f64,
      failed: stats.failed as f64,
      reasons: stats
        .reasons
        .iter()
        .map(|(reason, n)| (reason.to_string(), *n as f64))
        .collect(),
    }
  }
}

/// Keys for decryption, with the subkeys derived so far (one per writer process seen).
#[napi]
pub struct Keyring {
  inner: Arc<Mutex<keyring::Keyring>>,
  ids: Vec<String>,
}

fn lock(ring: &Mutex<keyring::Keyring>) -> MutexGuard<'_, keyring::Keyring> {
  ring.lock().unwrap_or_else(|e| e.into_inner())
}

#[napi]
impl Keyring {
  #[napi(constructor)]
  pub fn new(keys: Vec<KeyringEntry>) -> Result<Self> {
    let mut parsed = Vec::with_capacity(keys.len());
    for (i, entry) in keys.iter().enumerate() {
      let key = MasterKey::parse(&entry.key, entry.key_id.as_deref())
        .map_err(|err| invalid(format!("key {} of the keyring: {err}", i + 1)))?;
      parsed.push(key);
    }
    let ids = parsed.iter().map(|k| k.id().to_string()).collect();
    Ok(Keyring {
      inner: Arc::new(Mutex::new(keyring::Keyring::new(parsed))),
      ids,
    })
  }

  /// The ids of the keys, in order.
  #[napi(getter)]
  pub fn ids(&self) -> Vec<String> {
    self.ids.clone()
  }

  /// The line with its sealed fields decrypted (see `decryptLine` in index.d.ts).
  #[napi(catch_unwind)]
  pub fn decrypt_line(&self, line: String) -> String {
    let mut out = Vec::with_capacity(line.len());
    let mut stats = Stats::default();
    decrypt_line(
      line.as_bytes(),
      &mut lock(&self.inner),
      None,
      &mut out,
      &mut stats,
    );
    // The input was a string and every replacement is valid UTF-8 JSON text.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
  }
}

/// Decrypts a byte stream of lines: `push` returns the whole lines decrypted so far.
#[napi]
pub struct DecryptStream {
  ring: Arc<Mutex<keyring::Keyring>>,
  stream: LineStream,
  out: Vec<u8>,
}

#[napi]
impl DecryptStream {
  /// `paths`: JSON `[["user","email"],["cards",null,"number"]]` (null is `*`), to
  /// decrypt only those fields.
  #[napi(constructor)]
  pub fn new(keyring: &Keyring, paths: Option<String>) -> Result<Self> {
    let filter = match paths {
      None => None,
      Some(json) => Some(
        PathFilter::parse_json(&json)
          .ok_or_else(|| invalid("DecryptStream: paths must be a JSON array of paths".into()))?,
      ),
    };
    Ok(DecryptStream {
      ring: keyring.inner.clone(),
      stream: LineStream::new(filter),
      out: Vec::new(),
    })
  }

  #[napi(catch_unwind)]
  pub fn push(&mut self, chunk: &[u8]) -> Buffer {
    self.out.clear();
    self
      .stream
      .push(&mut lock(&self.ring), chunk, &mut self.out);
    Buffer::from(std::mem::take(&mut self.out))
  }

  /// The end of the input: the last line, if it had no newline.
  #[napi(catch_unwind)]
  pub fn finish(&mut self) -> Buffer {
    self.out.clear();
    self.stream.finish(&mut lock(&self.ring), &mut self.out);
    Buffer::from(std::mem::take(&mut self.out))
  }

  #[napi]
  pub fn stats(&self) -> DecryptStats {
    DecryptStats::from(&self.stream.stats)
  }
}

/// The id a key gets when none is given (8 characters derived from the key).
#[napi]
pub fn key_id_of(key: Buffer) -> Result<String> {
  MasterKey::parse(&key, None)
    .map(|k| k.id().to_string())
    .map_err(|err| invalid(format!("{err}")))
}

//! Field encryption for log lines: AES-256-GCM per field, with the field's path as
//! associated data, per-process subkeys derived with HKDF, and counter nonces.
//!
//! - `key`: master keys (32 bytes from base64 or hex text), their ids and key checks.
//! - `path`: a field's location in a line and its canonical encoding (the associated data).
//! - `format`: the `$pk1$...` ciphertext string.
//! - `seal`: encryption on the log writer thread.
//! - `keyring`: decryption with several keys.
//! - `scan`: a small JSON scanner that finds ciphertexts in a line, with their paths.
//! - `line`: decrypting a whole line, and a stream of lines.
//!
//! Nothing here ever formats key bytes: errors and `Debug` output name keys by id only.

pub mod format;
#[cfg(test)]
mod fuzz;
pub mod key;
pub mod keyring;
pub mod line;
pub mod path;
pub mod scan;
pub mod seal;

#[cfg(not(test))]
pub mod napi;

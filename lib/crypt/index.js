'use strict'
// Decryption for programs: prodkit.decryptLine(line, keyring) and prodkit.createKeyring.
// The work is in Rust (src/crypt/); this file only normalises the ways to give keys.

const { randomBytes } = require('node:crypto')
const { Keyring } = require('../native')

function describe (value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

// One key: its text (base64 or hex; a string or a Buffer), or { key, keyId } when the
// app gave it a keyId. The native side gets a Buffer copy, wiped once it is parsed.
function entry (value, i) {
  if (typeof value === 'string') return { key: Buffer.from(value, 'utf8') }
  if (value instanceof Uint8Array) return { key: Buffer.from(value) }
  if (typeof value === 'object' && value !== null && (typeof value.key === 'string' || value.key instanceof Uint8Array)) {
    if (value.keyId !== undefined && typeof value.keyId !== 'string') {
      throw new TypeError(`prodkit: keyring key ${i + 1}: keyId must be a string (got ${describe(value.keyId)})`)
    }
    return { ...entry(value.key, i), keyId: value.keyId }
  }
  throw new TypeError(`prodkit: keyring key ${i + 1} must be a key (base64 or hex string, or Buffer) or { key, keyId } (got ${describe(value)})`)
}

// A keyring for decryptLine (build it once and reuse it: it keeps the subkeys it has
// derived). `keys`: one key or an array of keys, any order; each ciphertext names its key.
function createKeyring (keys) {
  if (keys instanceof Keyring) return keys
  const list = Array.isArray(keys) ? keys : [keys]
  if (list.length === 0) throw new TypeError('prodkit: a keyring needs at least one key')
  const entries = list.map(entry)
  try {
    return new Keyring(entries)
  } catch (err) {
    // Rust's message names the key by position and never holds key material.
    const e = new Error(`prodkit: ${err.message}`)
    e.code = 'PRODKIT_KEY_INVALID'
    throw e
  } finally {
    for (const e of entries) e.key.fill(0)
  }
}

// The line with every sealed field replaced by its value. A field that cannot be
// decrypted becomes {"decryptError":"<reason>","ciphertext":"$pk1$..."}; a line that is
// not JSON or holds no sealed field comes back as it was. Never throws for any line.
function decryptLine (line, keyring) {
  if (typeof line !== 'string') throw new TypeError(`prodkit: decryptLine(line) needs a string (got ${describe(line)})`)
  return createKeyring(keyring).decryptLine(line)
}

// A new random key, as base64 (what log.encrypt and `prodkit decrypt` read).
function generateKey () {
  return randomBytes(32).toString('base64')
}

module.exports = { createKeyring, decryptLine, generateKey, Keyring }

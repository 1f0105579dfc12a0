'use strict'
// Validation of log.redact and log.encrypt, once, at creation, and reading the key.
// No message here ever contains a key or any part of one: a refused key is described by
// its source (the variable's name, the file's path), never by its value.

const fs = require('node:fs')
const { parsePath } = require('./paths')

const REDACT_KEYS = ['paths', 'censor', 'remove']
const ENCRYPT_KEYS = ['paths', 'keyEnv', 'keyFile', 'key', 'keyId']
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/

function describe (value) {
  if (typeof value === 'string') return JSON.stringify(value)
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (typeof value === 'function') return 'a function'
  return typeof value === 'object' ? 'an object' : String(value)
}

function typeError (name, accepted, value) {
  return new TypeError(`prodkit: option ${name} must be ${accepted} (got ${describe(value)})`)
}

function keyError (code, message) {
  const err = new Error(`prodkit: ${message}`)
  err.code = code
  return err
}

function isObject (value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkKeys (name, value, known) {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new TypeError(`prodkit: unknown option ${name}.${key} (known: ${known.join(', ')})`)
  }
}

const PATH_HELP = 'a path like user.email, cards.*.number, cards[0].number or headers["x-api-key"]'

function checkPaths (name, paths, allowEmpty = false) {
  if (!Array.isArray(paths) || (paths.length === 0 && !allowEmpty)) throw typeError(name, 'a non-empty array of paths', paths)
  paths.forEach((path, i) => {
    const parsed = parsePath(path)
    if (typeof parsed === 'string') {
      throw new TypeError(`prodkit: option ${name}[${i}] must be ${PATH_HELP} (got ${describe(path)}: ${parsed})`)
    }
  })
  return [...paths]
}

// log.redact: an array of paths, or { paths, censor = '[Redacted]', remove = false }; censor
// may be pino's function (value, path) => replacement. A child's redact (`name` 'child
// options.redact') may have no paths: it removes the parent's redaction, as in pino.
function resolveRedact (value, name = 'log.redact') {
  if (value === undefined) return undefined
  const child = name !== 'log.redact'
  if (Array.isArray(value)) return { paths: checkPaths(name, value, child), censor: '[Redacted]', remove: false }
  if (!isObject(value)) throw typeError(name, 'an array of paths or { paths, censor, remove }', value)
  checkKeys(name, value, REDACT_KEYS)
  const censor = value.censor === undefined ? '[Redacted]' : value.censor
  if (censor !== null && !['string', 'number', 'boolean', 'function'].includes(typeof censor)) {
    throw typeError(`${name}.censor`, 'a string, number, boolean, null or a function (value, path) => replacement', censor)
  }
  if (value.remove !== undefined && typeof value.remove !== 'boolean') throw typeError(`${name}.remove`, 'a boolean', value.remove)
  return { paths: checkPaths(`${name}.paths`, value.paths, child), censor, remove: value.remove === true }
}

// log.encrypt: { paths, keyEnv | keyFile | key, keyId }. Returns the paths, the key's
// text as a Buffer (the caller hands it to Rust and wipes it) and where it came from.
function resolveEncrypt (value, env) {
  if (value === undefined) return undefined
  if (!isObject(value)) throw typeError('log.encrypt', '{ paths, keyEnv | keyFile | key, keyId }', value)
  checkKeys('log.encrypt', value, ENCRYPT_KEYS)
  const paths = checkPaths('log.encrypt.paths', value.paths)
  if (value.keyId !== undefined && (typeof value.keyId !== 'string' || !KEY_ID.test(value.keyId))) {
    throw typeError('log.encrypt.keyId', '1 to 32 characters from A-Z a-z 0-9 _ -', value.keyId)
  }
  const sources = ['keyEnv', 'keyFile', 'key'].filter((k) => value[k] !== undefined)
  if (sources.length !== 1) {
    throw new TypeError(`prodkit: option log.encrypt needs exactly one of keyEnv, keyFile or key (got ${sources.length === 0 ? 'none' : sources.join(' and ')})`)
  }
  const { key, source } = readKey(value, env)
  return { paths, key, keyId: value.keyId, source }
}

function readKey (value, env) {
  if (value.keyEnv !== undefined) {
    const name = value.keyEnv
    if (typeof name !== 'string' || name === '') throw typeError('log.encrypt.keyEnv', 'the name of an environment variable', name)
    const text = env[name]
    if (text === undefined || text.trim() === '') {
      throw keyError('PRODKIT_KEY_MISSING', `log.encrypt: the environment variable ${name} is not set or empty; it must hold the key (make one with \`npx prodkit keygen\`)`)
    }
    return { key: Buffer.from(text, 'utf8'), source: `the environment variable ${name}` }
  }
  if (value.keyFile !== undefined) {
    const file = value.keyFile
    if (typeof file !== 'string' || file === '' || file.includes('\0')) throw typeError('log.encrypt.keyFile', 'a file path', file)
    let key
    try {
      key = fs.readFileSync(file)
      warnIfShared(file)
    } catch (err) {
      throw keyError('PRODKIT_KEY_MISSING', `log.encrypt: cannot read the key file ${file} (${err.code || err.message})`)
    }
    return { key, source: `the key file ${file}` }
  }
  const key = value.key
  if (typeof key === 'string') return { key: Buffer.from(key, 'utf8'), source: 'log.encrypt.key' }
  if (key instanceof Uint8Array) return { key: Buffer.from(key), source: 'log.encrypt.key' }
  throw new TypeError(`prodkit: option log.encrypt.key must be a string (base64 or hex) or a Buffer (got ${key === null ? 'null' : typeof key})`)
}

// A key file that others can read is a key others can read: say so, once.
function warnIfShared (file) {
  if (process.platform === 'win32') return
  const mode = fs.statSync(file).mode & 0o777
  if ((mode & 0o077) !== 0) {
    process.emitWarning(`the key file ${file} can be read by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 on it`, {
      type: 'ProdkitWarning',
      code: 'PRODKIT_KEY_FILE_MODE'
    })
  }
}

module.exports = { resolveRedact, resolveEncrypt, keyError, checkPaths }

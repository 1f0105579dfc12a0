'use strict'
// pino's `serializers` option and its stdSerializers (err, req, res). A serializer turns
// the value of one top-level key of the merge object (or of child bindings) into what is
// logged, before redaction and encryption, which then apply to its result, as in pino.
// The `err` serializer also applies to errorKey. A serializer that throws never breaks the
// log call: the value is written as a marker saying so.

const { sanitizeValue } = require('./serialize')

// stdSerializers.err: the error as prodkit serialises errors (type, message, stack, code,
// own properties, cause, errors), as a plain object.
function err (value) {
  if (typeof value !== 'object' || value === null) return value
  return sanitizeValue(value, 64 * 1024)
}

// stdSerializers.req: pino's fields of an http.IncomingMessage (express's originalUrl,
// query and params when there).
function req (value) {
  if (typeof value !== 'object' || value === null) return value
  const socket = value.socket
  const out = {}
  const id = typeof value.id === 'function' ? value.id() : value.id
  if (id !== undefined) out.id = id
  out.method = value.method
  out.url = value.originalUrl || (typeof value.path === 'string' ? value.path : value.url)
  if (value.query) out.query = value.query
  if (value.params) out.params = value.params
  out.headers = value.headers
  out.remoteAddress = socket ? socket.remoteAddress : undefined
  out.remotePort = socket ? socket.remotePort : undefined
  return out
}

// stdSerializers.res: statusCode (null before the headers are sent) and headers.
function res (value) {
  if (typeof value !== 'object' || value === null) return value
  return {
    statusCode: value.headersSent ? value.statusCode : null,
    headers: typeof value.getHeaders === 'function' ? value.getHeaders() : value._headers
  }
}

const stdSerializers = Object.freeze({ err, req, res })

// log.serializers: an object of functions -> a null-prototype copy, or null when absent.
function resolveSerializers (value, fail, name = 'log.serializers') {
  if (value === undefined) return null
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(name, 'an object of functions, one per key, like { user: (u) => ({ id: u.id }) }', value)
  }
  const out = Object.create(null)
  for (const key of Object.keys(value)) {
    // As in pino, null or undefined is no serialiser; for err it turns off the error
    // serialiser: an Error is written as JSON.stringify writes it (its own enumerable fields).
    if (value[key] === null || value[key] === undefined) {
      if (key === 'err') out.err = plainError
      continue
    }
    if (typeof value[key] !== 'function') throw fail(`${name}.${key}`, 'a function, null or undefined', value[key])
    out[key] = value[key]
  }
  return Object.keys(out).length === 0 ? null : out
}

function plainError (value) {
  return value instanceof Error ? { ...value } : value
}

function run (fn, value, key) {
  try {
    return fn(value)
  } catch (error) {
    let reason = 'unknown'
    try {
      reason = String(error && error.message)
    } catch {}
    return `[prodkit: serializer for ${key} threw: ${reason}]`
  }
}

// `obj` with its serialised keys replaced (a copy), or obj itself when none applies.
function applySerializers (obj, serializers, errorKey) {
  let copy = null
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue
    const fn = serializers[key] || (key === errorKey ? serializers.err : undefined)
    if (fn === undefined) continue
    const value = obj[key]
    if (value === undefined) continue
    if (copy === null) copy = { ...obj }
    copy[key] = run(fn, value, key)
  }
  return copy === null ? obj : copy
}

module.exports = { stdSerializers, resolveSerializers, applySerializers, runSerializer: run }

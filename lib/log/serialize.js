'use strict'
// Turning anything the app passes into JSON text without ever throwing.
//
// The fast path is V8's JSON.stringify. When it throws (a cycle, a BigInt, a getter or
// toJSON that throws) or when the result may hold an over-long string, `sanitize` builds a
// plain copy that JSON.stringify cannot fail on: cycles become "[Circular]", BigInts
// strings of digits, throwing accessors "[Throws: reason]", Errors objects with type,
// message, stack, code, their own properties, cause and errors (AggregateError).
// A merge object's field (or binding, or %j argument) that JSON.stringify cannot write goes,
// as in pino, through safe-stable-stringify with the logger's depthLimit and edgeLimit
// (`limits`), over that sanitised copy: the same bytes as pino's but for BigInts.

const { isNativeError } = require('node:util').types
const { configure } = require('safe-stable-stringify')

const MAX_DEPTH = 16

function isError (value) {
  try {
    return value instanceof Error || isNativeError(value)
  } catch {
    return false
  }
}

function reason (err) {
  try {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  } catch {
    return 'unknown'
  }
}

function truncate (str, limit) {
  return `${str.slice(0, limit)}...[truncated ${str.length - limit} chars]`
}

// Reads one property; a throwing getter or proxy trap gives a marker string instead.
function read (obj, key) {
  try {
    return obj[key]
  } catch (err) {
    return `[Throws: ${reason(err)}]`
  }
}

function sanitizeError (err, ctx, depth) {
  const out = Object.create(null)
  let type = 'Error'
  try {
    type = (err.constructor && err.constructor.name) || err.name || 'Error'
  } catch {}
  out.type = String(type)
  out.message = sanitize(String(read(err, 'message') ?? ''), ctx, depth)
  // As pino's err serialiser: an error without a stack has "stack":"".
  const stack = read(err, 'stack')
  out.stack = stack ? sanitize(String(stack), ctx, depth) : ''
  let keys = []
  try {
    keys = Object.keys(err)
  } catch {}
  for (const key of keys) {
    // `name` only when enumerable, as in pino (Node's warnings and many libraries set it
    // on the instance: an enumerable own property); an inherited Error.prototype.name is not.
    if (key === 'message' || key === 'stack' || key === 'type') continue
    const value = sanitize(read(err, key), ctx, depth + 1)
    if (value !== undefined) out[key] = value
  }
  // `code`, `cause` and `errors` are often non-enumerable (own or inherited): read them
  // explicitly, after the enumerable ones, so each appears once.
  for (const key of ['code', 'cause', 'errors']) {
    if (key in out) continue
    let present = false
    try {
      present = key in err
    } catch {}
    if (!present) continue
    const value = sanitize(read(err, key), ctx, depth + 1)
    if (value !== undefined) out[key] = value
  }
  return out
}

function sanitizeObject (obj, ctx, depth) {
  let keys
  try {
    keys = Object.keys(obj)
  } catch (err) {
    return `[Unserializable: ${reason(err)}]`
  }
  const out = Object.create(null)
  for (const key of keys) {
    const value = sanitize(read(obj, key), ctx, depth + 1)
    if (value !== undefined) out[key] = value
  }
  return out
}

function sanitizeArray (arr, ctx, depth) {
  const out = new Array(arr.length)
  for (let i = 0; i < arr.length; i++) {
    const value = sanitize(read(arr, i), ctx, depth + 1)
    out[i] = value === undefined ? null : value
  }
  return out
}

// Returns a value made only of plain objects, arrays, strings, finite numbers, booleans
// and null (or undefined where JSON would omit the value).
function sanitize (value, ctx, depth) {
  switch (typeof value) {
    case 'string':
      return value.length > ctx.limit ? truncate(value, ctx.limit) : value
    case 'number':
    case 'boolean':
      return value
    case 'bigint':
      return value.toString()
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
  }
  if (value === null) return null
  if (ctx.ancestors.includes(value)) return '[Circular]'
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? '[Array]' : '[Object]'
  ctx.ancestors.push(value)
  try {
    if (isError(value)) return sanitizeError(value, ctx, depth)
    let toJSON
    try {
      toJSON = value.toJSON
    } catch (err) {
      return `[Throws: ${reason(err)}]`
    }
    if (typeof toJSON === 'function') {
      let json
      try {
        json = toJSON.call(value, '')
      } catch (err) {
        return `[Throws: ${reason(err)}]`
      }
      return json === value ? sanitizeObject(value, ctx, depth) : sanitize(json, ctx, depth + 1)
    }
    if (Array.isArray(value)) return sanitizeArray(value, ctx, depth)
    return sanitizeObject(value, ctx, depth)
  } catch (err) {
    return `[Unserializable: ${reason(err)}]`
  } finally {
    ctx.ancestors.pop()
  }
}

// JSON text of any value, never throwing; undefined where JSON.stringify gives undefined.
function safeStringify (value, limit) {
  return JSON.stringify(sanitize(value, { limit, ancestors: [] }, 0))
}

// A plain copy of any value that JSON.stringify cannot fail on (see `sanitize`).
function sanitizeValue (value, limit) {
  return sanitize(value, { limit, ancestors: [] }, 0)
}

// A merge object's plain copy. As pino (which stringifies each top-level value on its
// own), the merge object itself is not an ancestor of its values: `a.hello.a === a`
// writes `"hello":{"a":{"hello":"[Circular]"}}`. Not for protected objects
// (lib/log/protect.js): there a cycle back to the root stays "[Circular]", so that a
// secret at a protected path is never written again one level down, unprotected.
function sanitizeMerge (obj, limit) {
  const ctx = { limit, ancestors: [] }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || isError(obj)) return sanitize(obj, ctx, 0)
  try {
    if (typeof obj.toJSON === 'function') return sanitize(obj, ctx, 0)
    return sanitizeObject(obj, ctx, 0)
  } catch {
    return sanitize(obj, ctx, 0)
  }
}

// Hot path: `instanceof` only (isNativeError is a native call, too slow per line). Errors
// from another realm (vm contexts) are still serialised in full by `sanitize`.
function hasErrorValue (obj) {
  for (const key in obj) {
    if (obj[key] instanceof Error) return true
  }
  return false
}

// pino's fallback for a value JSON.stringify cannot write (a cycle, a BigInt):
// safe-stable-stringify with depthLimit and edgeLimit (keys sorted, "[Circular]",
// "[Object]" past the depth, "...": "N items not stringified" past the breadth).
// `limits(depth, breadth)` -> that function, one per pair (loggers share them).
const limited = new Map()
function limits (depth = 5, breadth = 100) {
  const key = depth + '/' + breadth
  let fn = limited.get(key)
  if (fn === undefined) {
    const configured = configure({ maximumDepth: depth, maximumBreadth: breadth })
    fn = (value, limit) => configured(sanitize(value, { limit, ancestors: [] }, 0))
    limited.set(key, fn)
  }
  return fn
}
const PINO_LIMITS = limits()

// A merge object's fields one by one, as pino writes them (each top-level value on its
// own): an Error in full, a value JSON.stringify writes as it writes it, else
// (a cycle, a BigInt: JSON.stringify throws) through `safe`, pino's depthLimit/edgeLimit
// fallback. A value too long is sanitised (its strings cut at `limit`).
function fieldsOneByOne (obj, limit, safe) {
  let keys
  try {
    keys = Object.keys(obj)
  } catch {
    return undefined
  }
  let out = ''
  for (const key of keys) {
    const value = read(obj, key)
    let json
    if (isError(value)) json = JSON.stringify(sanitize(value, { limit, ancestors: [] }, 0))
    else {
      let threw = false
      try {
        json = JSON.stringify(value)
      } catch {
        threw = true
      }
      if (threw) json = safe(value, limit)
      else if (json !== undefined && json.length > limit) json = JSON.stringify(sanitize(value, { limit, ancestors: [] }, 0))
    }
    if (json !== undefined) out += ',' + JSON.stringify(key) + ':' + json
  }
  return out
}

function isPlainMerge (obj) {
  try {
    return obj !== null && typeof obj === 'object' && !Array.isArray(obj) && !isError(obj) && typeof obj.toJSON !== 'function'
  } catch {
    return false
  }
}

// The merge object as a fragment to append inside a line: `,"a":1,"b":2`, or '' when it
// has nothing to add. Errors among its top-level values are serialised in full. A value
// that is not a JSON object (an array, a toJSON returning a scalar) goes under "value".
// `safe`: the logger's limits() (pino's depthLimit/edgeLimit).
function mergeFragment (obj, limit, safe = PINO_LIMITS) {
  let json
  try {
    json = hasErrorValue(obj) ? undefined : JSON.stringify(obj)
    if (json !== undefined && json.length > limit) json = undefined
  } catch {
    json = undefined
  }
  if (json === undefined && isPlainMerge(obj)) {
    const fields = fieldsOneByOne(obj, limit, safe)
    if (fields !== undefined) return fields
  }
  if (json === undefined) json = JSON.stringify(sanitizeMerge(obj, limit))
  if (json === undefined || json === '{}') return ''
  if (json.charCodeAt(0) === 123 /* { */) return ',' + json.slice(1, -1)
  return ',"value":' + json
}

// The merge object's JSON text for the hot path, braces included (the sink splices it
// into the line: see lib/log/sink.js), or undefined when the general path must handle it:
// an Error among its values, JSON.stringify throwing, too long, empty, or not an object.
function mergeJson (obj, limit) {
  try {
    if (hasErrorValue(obj)) return undefined
    const json = JSON.stringify(obj)
    if (json === undefined || json.length > limit || json.length === 2 || json.charCodeAt(0) !== 123) return undefined
    return json
  } catch {
    return undefined
  }
}

// Characters that JSON.stringify would escape (or, for surrogates, check for pairing).
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/

// The end of a line: `,"msg":<str as a JSON string, cut at limit characters>}` and a
// newline. Short messages that need no escaping (most) skip JSON.stringify.
// The last short message is remembered: apps log the same literal again and again.
let lastMessage = ''
let lastTail = ',"msg":""}\n'
function messageTail (str, limit) {
  if (str === lastMessage && str.length <= limit) return lastTail
  if (str.length < 256 && str.length <= limit && !NEEDS_ESCAPE.test(str)) {
    lastMessage = str
    lastTail = ',"msg":"' + str + '"}\n'
    return lastTail
  }
  return ',"msg":' + JSON.stringify(str.length > limit ? truncate(str, limit) : str) + '}\n'
}

module.exports = { limits, isError, safeStringify, sanitizeValue, mergeFragment, mergeJson, messageTail, truncate }

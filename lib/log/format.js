'use strict'
// A log call's arguments -> its merge object and message, exactly as pino 10 reads them
// (pino's `LOG` in lib/tools.js and quick-format-unescaped): %s %d %i %f %j %o %O and %%
// are interpolated, and arguments without a placeholder are dropped (not appended), so
// that a value the app did not ask to print never reaches the line.
// Objects printed by %j %o %O go through `stringify`, which a redacting or encrypting
// logger gives its protection (lib/log/protect.js): interpolation is not a way around it.
// Unlike pino, nothing here throws (a symbol under %d, a throwing toString).

const { safeStringify, messageTail, truncate } = require('./serialize')

// JSON text of a value printed by %j %o %O, without protection: JSON.stringify as pino
// does; when it throws (a cycle, a BigInt), `safe`, the logger's depthLimit/edgeLimit
// fallback as pino's (lib/log/serialize.js limits()); bounded by maxStringLength.
function plainStringify (value, limit, safe) {
  let json
  let threw = false
  try {
    json = JSON.stringify(value)
  } catch {
    threw = true
  }
  if (threw && safe !== undefined) {
    try {
      json = safe(value, limit)
    } catch {}
  }
  if (json === undefined || json.length > limit) json = safeStringify(value, limit)
  return json
}

function text (value) {
  try {
    return String(value)
  } catch {
    return '[object]'
  }
}

function number (value, integer) {
  try {
    const n = Number(value)
    return String(integer ? Math.floor(n) : n)
  } catch {
    return 'NaN'
  }
}

// pino's format(msg, args): the message, a string when interpolated, else `msg` itself
// (a number, a boolean, null, an object: pino writes them as JSON values).
function formatMessage (msg, args, stringify) {
  if (typeof msg === 'object' && msg !== null) {
    if (args.length === 0) return msg
    // pino's quirk, kept: the first extra argument is skipped and one `undefined` added.
    const parts = [stringify(msg)]
    for (let i = 1; i <= args.length; i++) parts.push(stringify(args[i]))
    return parts.join(' ')
  }
  if (typeof msg !== 'string' || args.length === 0) return msg
  let out = ''
  let a = 0
  let lastPos = -1
  const flen = msg.length
  for (let i = 0; i < flen; i++) {
    if (msg.charCodeAt(i) !== 37 /* % */ || i + 1 >= flen) continue
    lastPos = lastPos > -1 ? lastPos : 0
    const code = msg.charCodeAt(i + 1)
    let piece
    switch (code) {
      case 100: // d
      case 102: // f
        if (a < args.length && args[a] != null) piece = number(args[a], false)
        break
      case 105: // i
        if (a < args.length && args[a] != null) piece = number(args[a], true)
        break
      case 79: // O
      case 111: // o
      case 106: { // j
        if (a >= args.length || args[a] === undefined) break
        const value = args[a]
        if (typeof value === 'string') piece = "'" + value + "'"
        else if (typeof value === 'function') piece = value.name || '<anonymous>'
        else piece = stringify(value)
        break
      }
      case 115: // s
        if (a < args.length) piece = text(args[a])
        break
      case 37: // %
        piece = '%'
        a--
        break
    }
    if (piece !== undefined) {
      if (lastPos < i) out += msg.slice(lastPos, i)
      out += piece
      lastPos = i + 2
      i++
    }
    a++
  }
  if (lastPos === -1) return msg
  if (lastPos < flen) out += msg.slice(lastPos)
  return out
}

// The end of a line for a message value, as pino's asJson writes it: a string escaped,
// a number (null when not finite), a boolean, null, an object as JSON; no key at all for
// undefined or a function. `key` is `,"<messageKey>":` when it is not msg.
function valueTail (value, limit, stringify, key) {
  if (key === undefined) {
    if (typeof value === 'string') return messageTail(value, limit)
    key = ',"msg":'
  }
  switch (typeof value) {
    case 'string':
      return key + JSON.stringify(value.length > limit ? truncate(value, limit) : value) + '}\n'
    case 'undefined':
    case 'function':
      return '}\n'
    case 'number':
      return key + (Number.isFinite(value) ? value : 'null') + '}\n'
    case 'boolean':
    case 'bigint':
      return key + value + '}\n'
    case 'symbol':
      return valueTail(text(value), limit, stringify, key)
    default: {
      if (value === null) return key + 'null}\n'
      const json = stringify(value)
      return json === undefined ? '}\n' : key + (json.length > limit ? JSON.stringify(truncate(json, limit)) : json) + '}\n'
    }
  }
}

// The merge object and message of a call's arguments (pino's LOG): `obj` null when
// there is none; `msg` the message before formatting, `params` its arguments.
function callParts (args) {
  const first = args[0]
  if (typeof first === 'object') {
    if (first === null && args.length <= 1) return { obj: null, msg: null, params: [] }
    return { obj: first, msg: args[1], params: args.length > 2 ? Array.prototype.slice.call(args, 2) : [] }
  }
  if (first === undefined) return { obj: null, msg: args[1], params: args.length > 2 ? Array.prototype.slice.call(args, 2) : [] }
  return { obj: null, msg: first, params: args.length > 1 ? Array.prototype.slice.call(args, 1) : [] }
}

// pino's `write`: a merge object without a message takes its error's message, when the
// object has no message of its own.
function errorKeyMessage (obj, messageKey = 'msg', errorKey = 'err') {
  try {
    if (obj[messageKey] === undefined && obj[errorKey]) return obj[errorKey].message
  } catch {}
  return undefined
}

module.exports = { formatMessage, valueTail, callParts, errorKeyMessage, plainStringify }

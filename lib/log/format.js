'use strict'
// printf-style messages, as pino and util.format take them: %s %d %i %f %j %o %O and %%.
// Arguments without a placeholder are appended, separated by spaces (util.format does the
// same), so nothing the app passed is silently lost.

const { safeStringify } = require('./serialize')

// Any value as message text; undefined stays undefined (no "msg" key at all).
function toText (value, limit) {
  switch (typeof value) {
    case 'string':
      return value
    case 'undefined':
      return undefined
    case 'function':
      return `[Function: ${value.name || 'anonymous'}]`
    case 'symbol':
      return value.toString()
    case 'object':
      if (value === null) return 'null'
      return safeStringify(value, limit) ?? String(value)
    default:
      return String(value)
  }
}

function toNumber (value, parse) {
  if (typeof value === 'bigint') return String(value)
  if (typeof value === 'symbol') return 'NaN'
  try {
    return String(parse(value))
  } catch {
    return 'NaN'
  }
}

function placeholder (code, value, limit) {
  switch (code) {
    case 115: // s
      return toText(value, limit) ?? 'undefined'
    case 100: // d
      return toNumber(value, Number)
    case 105: // i
      return toNumber(value, (v) => parseInt(v, 10))
    case 102: // f
      return toNumber(value, parseFloat)
    case 106: // j
    case 111: // o
    case 79: // O
      return safeStringify(value, limit) ?? 'undefined'
    default:
      return undefined
  }
}

// The message of a log call: `first` is the message (or template), `args` what follows.
function formatMessage (first, args, limit) {
  if (typeof first !== 'string') {
    let text = toText(first, limit)
    if (args.length === 0) return text
    text = text === undefined ? '' : text
    for (const arg of args) text += (text ? ' ' : '') + (toText(arg, limit) ?? 'undefined')
    return text
  }
  if (args.length === 0) return first
  let out = ''
  let last = 0
  let next = 0
  for (let i = 0; i < first.length - 1; i++) {
    if (first.charCodeAt(i) !== 37 /* % */) continue
    const code = first.charCodeAt(i + 1)
    if (code === 37) {
      out += first.slice(last, i + 1)
      last = i + 2
      i++
      continue
    }
    if (next >= args.length) continue
    const text = placeholder(code, args[next], limit)
    if (text === undefined) continue
    out += first.slice(last, i) + text
    last = i + 2
    i++
    next++
  }
  out += first.slice(last)
  for (; next < args.length; next++) out += ' ' + (toText(args[next], limit) ?? 'undefined')
  return out
}

module.exports = { formatMessage, toText }

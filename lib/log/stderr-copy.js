'use strict'
// While the log destination is failing (unwritable path, a folder that is a file, a full
// disk), a fatal line would only wait in the queue, and a crash's stack would be printed
// nowhere. So fatal lines are also written to stderr, as plain JSON, once the sink says it
// is failing. Built apart from the batch format (no slot references) and without the
// fields a redacting or encrypting logger protects: only level, time, pid, the message
// and the error's type, message and stack.

const fs = require('node:fs')
const { isError, safeStringify, mergeFragment } = require('./serialize')
const { formatMessage, valueTail, callParts, errorKeyMessage } = require('./format')

const FATAL = 60

function errorFields (err, limit) {
  const plain = {}
  for (const key of ['type', 'message', 'stack', 'code']) {
    let value
    try {
      value = key === 'type' ? (err.constructor && err.constructor.name) || err.name : err[key]
    } catch {}
    if (value !== undefined && value !== null) plain[key] = typeof value === 'string' ? value : String(value)
  }
  return ',"err":' + safeStringify(plain, limit)
}

// The JSON line for a fatal call's arguments. `bindings` is the logger's rendered
// bindings, or null for a protected logger (then only pid and hostname-free defaults).
// `core` gives maxStringLength and the logger's stringify for %j %o %O (protected, for a
// protected logger): the message is read as the logger reads it (lib/log/format.js).
function fatalLine (bindings, core, args) {
  const limit = core.maxStringLength
  let merge = ''
  let message
  try {
    const { obj, msg, params } = callParts(args)
    message = formatMessage(msg, params, core.stringify)
    if (obj !== null) {
      if (obj instanceof Error || (typeof obj.stack === 'string' && isError(obj))) {
        merge = errorFields(obj, limit)
        if (message === undefined) message = String(obj.message)
      } else {
        if (bindings !== null) merge = mergeFragment(obj, limit)
        else if (obj.err !== null && typeof obj.err === 'object') merge = errorFields(obj.err, limit)
        if (message === undefined) message = errorKeyMessage(obj)
      }
    }
  } catch (err) {
    merge = ''
    message = `[prodkit: could not serialise the log call: ${String(err && err.message)}]`
  }
  const head = `{"level":${FATAL},"time":${Date.now()}` + (bindings === null ? `,"pid":${process.pid}` : bindings)
  return head + merge + valueTail(message, limit, core.stringify)
}

// Called after a fatal line was queued: writes it through (the sink's bounded synchronous
// flush: a stalled reader must not hang the app here), and if the destination is failing,
// writes the line to stderr too.
function copyFatalIfFailing (sink, bindings, core, args) {
  if (sink.closed) return
  if (sink.writeThrough() || !sink.isFailing()) return
  try {
    // Synchronous: the process may be about to exit (a crash).
    fs.writeSync(2, fatalLine(bindings, core, args))
  } catch {} // stderr closed: nowhere left to say it
}

module.exports = { copyFatalIfFailing, fatalLine }

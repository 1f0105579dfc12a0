'use strict'
// The structured logger. Each call builds one pino-compatible line:
//   {"level":30,"time":<ms>,"pid":..,"hostname":..,"service":..,<bindings>,<merge object>,"msg":..}
// and hands it to the sink. Disabled levels are no-op methods, so they cost a call.

const os = require('node:os')
const { randomBytes } = require('node:crypto')
const { LEVELS, LEVEL_NAMES, ACCEPTED, levelValue } = require('./levels')
const { resolveOptions, checkLevel, fail, isPlainObject } = require('./options')
const { isError, safeStringify, mergeFragment, mergeJson, messageTail } = require('./serialize')
const { formatMessage } = require('./format')
const { Sink, MERGE_OPEN, HEAD_LIFE } = require('./sink')
const { FieldProtection } = require('./protect')
const { keyError } = require('./protect-options')
const { workerBinding } = require('../cluster/identity')
const { copyFatalIfFailing } = require('./stderr-copy')
const { lineFields, headWith } = require('../context')

const kCore = Symbol('prodkit.core')
const kBindings = Symbol('prodkit.bindings')
const kThreshold = Symbol('prodkit.threshold')
const kLevel = Symbol('prodkit.level')
const kHeads = Symbol('prodkit.heads')

const PREFIX = {}
for (const name of LEVEL_NAMES) PREFIX[LEVELS[name]] = `{"level":${LEVELS[name]},"time":`

function noop () {}

const NO_ARGS = Object.freeze([])
function rest (args, from) {
  return args.length > from ? args.slice(from) : NO_ARGS
}

// The start of a line, `{"level":N,"time":T,"pid":..,...bindings`: built and sent to the
// sink once per logger, level and millisecond, and referred to by every line that shares
// it (at high rates many lines share one millisecond). `open` adds the marker that a merge
// object's JSON follows. (Levels are multiples of 10: level + 1 is a free index.)
// A cached head also ends after SLOTS / 2 definitions (sink.define): its slot must not be
// reused while it is referred to, and that may not depend on the clock moving (frozen by
// fake timers, or stepped back to a millisecond already cached).
// `first` is the call's first argument: the fields of an active prodkit.context run or
// OpenTelemetry span follow the bindings, minus the keys it has (lib/context/). A run's
// fields alone go into heads of their own, cached in the run's entry for this logger.
function lineHead (logger, level, open, first) {
  const ambient = lineFields(logger, logger[kCore], logger[kBindings], first)
  const inHead = typeof ambient === 'object'
  const now = Date.now()
  const sink = logger[kCore].sink
  let heads = inHead ? ambient.heads : logger[kHeads]
  if (heads === null || heads.time !== now || heads.epoch !== sink.headEpoch || sink.definitions - heads.at >= HEAD_LIFE) {
    heads = { time: now, epoch: sink.headEpoch, at: sink.definitions, refs: [] }
    if (inHead) ambient.heads = heads
    else logger[kHeads] = heads
  }
  const index = open ? level + 1 : level
  let ref = heads.refs[index]
  if (ref === undefined) {
    ref = heads.refs[level] || (heads.refs[level] = sink.define(PREFIX[level] + now + logger[kBindings] + (inHead ? ambient.fragment : '')))
    if (open) ref = heads.refs[index] = ref + MERGE_OPEN
  }
  return inHead || ambient === '' ? ref : headWith(heads.refs[level], ambient, open ? MERGE_OPEN : '')
}

function errorMessage (err) {
  try {
    return String(err.message)
  } catch {
    return undefined
  }
}

// Builds the line for one call; never throws.
function buildLine (logger, level, args) {
  const limit = logger[kCore].maxStringLength
  const protect = logger[kCore].protect
  let merge = ''
  let message
  try {
    const first = args[0]
    if (typeof first === 'object' && first !== null) {
      if (first instanceof Error || (typeof first.stack === 'string' && isError(first))) {
        merge = protect ? protect.fragment({ err: first }, limit) : ',"err":' + safeStringify(first, limit)
        message = args.length > 1 ? formatMessage(args[1], rest(args, 2), limit) : errorMessage(first)
      } else {
        merge = protect ? protect.fragment(first, limit) : mergeFragment(first, limit)
        if (args.length > 1) message = formatMessage(args[1], rest(args, 2), limit)
      }
    } else if (first === null || first === undefined) {
      if (args.length > 1) message = formatMessage(args[1], rest(args, 2), limit)
    } else {
      message = formatMessage(first, rest(args, 1), limit)
    }
  } catch (err) {
    // Only reached by a defect in prodkit itself: still log one valid line.
    merge = ''
    message = `[prodkit: could not serialise the log call: ${String(err && err.message)}]`
  }
  // Few, large pieces: the batch is a rope of these that V8 flattens once per batch.
  // Sealed fields' table (log.encrypt) goes before the head (src/log/chunk.rs).
  const table = protect ? protect.takeTable() : ''
  const line = table + lineHead(logger, level, false, args[0]) + merge
  return message === undefined ? line + '}\n' : line + messageTail(message, limit)
}

// The common call, log.info({ ... }, 'message'), which skips the general argument
// handling. Reading `stack` may throw (a getter): callers catch and take the general path.
function isObjectAndMessage (argc, first, second) {
  return argc === 2 && typeof second === 'string' && typeof first === 'object' &&
    first !== null && !(first instanceof Error) && typeof first.stack !== 'string'
}

const METHODS = {}
for (const name of LEVEL_NAMES) {
  const level = LEVELS[name]
  METHODS[name] = function (first, second) {
    const core = this[kCore]
    let line, head, json, tail
    try {
      if (isObjectAndMessage(arguments.length, first, second)) {
        const limit = core.maxStringLength
        json = mergeJson(first, limit)
        if (json === undefined) {
          line = lineHead(this, level, false, first) + mergeFragment(first, limit) + messageTail(second, limit)
        } else {
          head = lineHead(this, level, true, first)
          tail = core.sink.closedTail(second, limit)
        }
      }
    } catch {} // a throwing `stack` getter: the general path below copes with it
    if (tail !== undefined) {
      // In pieces: the sink writes them without building the line (lib/log/sink.js).
      core.sink.writeParts(head, json, tail)
      return
    }
    if (line !== undefined) {
      core.sink.write(line)
      return
    }
    core.sink.write(buildLine(this, level, Array.prototype.slice.call(arguments)))
  }
}

// The same methods for loggers with log.redact or log.encrypt: the merge object's
// configured fields are redacted or sealed (lib/log/protect.js) before serialisation.
const PROTECTED_METHODS = {}
for (const name of LEVEL_NAMES) {
  const level = LEVELS[name]
  PROTECTED_METHODS[name] = function (first, second) {
    const core = this[kCore]
    let line
    try {
      if (isObjectAndMessage(arguments.length, first, second)) {
        const limit = core.maxStringLength
        const protect = core.protect
        const json = mergeJson(protect.apply(first), limit)
        if (json !== undefined) {
          line = protect.takeTable() + lineHead(this, level, true, first) + json + core.sink.closedTail(second, limit)
        }
      }
    } catch {} // a throwing getter: the general path copes with it
    if (line !== undefined) {
      core.sink.write(line)
      return
    }
    core.sink.write(buildLine(this, level, Array.prototype.slice.call(arguments)))
  }
}

// fatal(): the line is written through (with everything logged before it) before the
// call returns: the process may be about to end without another event-loop turn. While
// the destination is failing, it also goes to stderr (lib/log/stderr-copy.js).
for (const methods of [METHODS, PROTECTED_METHODS]) {
  const fatal = methods.fatal
  methods.fatal = function () {
    fatal.apply(this, arguments)
    const core = this[kCore]
    copyFatalIfFailing(core.sink, core.protect ? null : this[kBindings], core.maxStringLength, arguments)
  }
}

class Logger {
  constructor (core, bindings, level) {
    this[kCore] = core
    this[kBindings] = bindings
    this[kHeads] = { time: 0, epoch: 0, at: 0, refs: [] }
    this.level = level
  }

  get level () {
    return this[kLevel]
  }

  set level (name) {
    checkLevel('level', name)
    const threshold = levelValue(name)
    this[kLevel] = name
    this[kThreshold] = threshold
    const methods = this[kCore].protect ? PROTECTED_METHODS : METHODS
    for (const method of LEVEL_NAMES) {
      this[method] = LEVELS[method] >= threshold ? methods[method] : noop
    }
  }

  get levels () {
    return LEVELS
  }

  isLevelEnabled (name) {
    const value = levelValue(name)
    return value !== undefined && value !== Infinity && value >= this[kThreshold]
  }

  // A logger whose lines also carry `bindings`; `options.level` defaults to this one's.
  child (bindings, options) {
    if (bindings !== undefined && !isPlainObject(bindings)) {
      throw fail('child(bindings)', 'an object of fields', bindings)
    }
    if (options !== undefined && !isPlainObject(options)) throw fail('child(bindings, options)', 'an object', options)
    const level = options && options.level !== undefined ? checkLevel('child options.level', options.level) : this[kLevel]
    const { protect, maxStringLength } = this[kCore]
    let extra = ''
    if (bindings) extra = protect ? protect.bindingsFragment(bindings, maxStringLength) : mergeFragment(bindings, maxStringLength)
    return new Logger(this[kCore], this[kBindings] + extra, level)
  }

  // Resolves true once every line logged before the call is written; false if the
  // destination is failing (those lines stay queued and are retried). Never rejects.
  // With a callback (pino's signature): cb(null) after the flush, cb(err) if failing.
  flush (cb) {
    return this[kCore].sink.flush(cb)
  }

  flushSync () {
    return this[kCore].sink.flushSync()
  }

  // For external rotation (logrotate): the writer opens the file path afresh before its
  // next batch. A file renamed or removed is noticed anyway; this also covers the rest.
  reopen () {
    this[kCore].sink.reopen()
  }

  // Writes what is queued and stops the writer; later calls are counted as dropped.
  close () {
    this[kCore].sink.close()
  }

  stats () {
    return this[kCore].sink.stats()
  }

  on (event, listener) {
    this[kCore].sink.on(event, listener)
    return this
  }

  once (event, listener) {
    this[kCore].sink.once(event, listener)
    return this
  }

  off (event, listener) {
    this[kCore].sink.off(event, listener)
    return this
  }
}

function createLogger (options) {
  const resolved = resolveOptions(options)
  const limit = resolved.maxStringLength
  const { redact, encrypt } = resolved
  // The random part of sealed fields' placeholders: app data cannot forge one.
  const token = encrypt ? randomBytes(12).toString('base64url') : undefined
  const protect = redact || encrypt ? new FieldProtection({ redact, encrypt, token, limit }) : null
  let bindings = `,"pid":${process.pid},"hostname":${JSON.stringify(os.hostname())}` + workerBinding()
  if (resolved.service !== undefined) bindings += `,"service":${JSON.stringify(resolved.service)}`
  const noticeBindings = bindings + (protect ? protect.noticeFragment(resolved.base, limit) : mergeFragment(resolved.base, limit))
  bindings += protect ? protect.bindingsFragment(resolved.base, limit) : mergeFragment(resolved.base, limit)
  const sink = newSink(resolved, noticeBindings.slice(1), token)
  const core = { sink, maxStringLength: limit, protect }
  return new Logger(core, bindings, resolved.level)
}

// The sink; with log.encrypt, Rust checks the key here (fail closed: no logger without
// a usable key). The key's bytes are wiped from JS memory once Rust has its copy.
function newSink (resolved, bindings, token) {
  const { encrypt } = resolved
  const options = {
    destination: resolved.destination,
    queueBytes: resolved.queueBytes,
    overflow: resolved.overflow,
    bindings,
    rotate: resolved.rotate,
    reopenOnSignal: resolved.reopenOnSignal
  }
  if (!encrypt) return new Sink(options)
  try {
    return new Sink({ ...options, encrypt: { key: encrypt.key, keyId: encrypt.keyId, token } })
  } catch (err) {
    throw keyError('PRODKIT_KEY_INVALID', `log.encrypt: the key from ${encrypt.source} is not usable: ${err.message}`)
  } finally {
    encrypt.key.fill(0)
  }
}

// The shared internals of a logger (its sink), for prodkit's own modules.
function coreOf (logger) {
  return logger[kCore]
}

module.exports = { createLogger, coreOf, Logger, LEVELS, ACCEPTED }

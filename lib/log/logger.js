'use strict'
// The structured logger. Each call builds one pino-compatible line:
//   {"level":30,"time":<ms>,"pid":..,"hostname":..,"service":..,<bindings>,<merge object>,"msg":..}
// and hands it to the sink. Disabled levels are no-op methods, so they cost a call.

const os = require('node:os')
const { LEVELS, LEVEL_NAMES, ACCEPTED, levelValue } = require('./levels')
const { resolveOptions, checkLevel, fail, isPlainObject } = require('./options')
const { isError, safeStringify, mergeFragment, mergeJson, messageTail } = require('./serialize')
const { formatMessage } = require('./format')
const { Sink, MERGE_OPEN, MERGE_CLOSE } = require('./sink')
const { workerBinding } = require('../cluster/identity')

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
function lineHead (logger, level, open) {
  const now = Date.now()
  const sink = logger[kCore].sink
  let heads = logger[kHeads]
  if (heads.time !== now || heads.epoch !== sink.headEpoch) {
    heads = logger[kHeads] = { time: now, epoch: sink.headEpoch, refs: [] }
  }
  const index = open ? level + 1 : level
  let ref = heads.refs[index]
  if (ref === undefined) {
    ref = heads.refs[level] || (heads.refs[level] = sink.defineHead(PREFIX[level] + now + logger[kBindings]))
    if (open) ref = heads.refs[index] = ref + MERGE_OPEN
  }
  return ref
}

// `messageTail` after a merge object's JSON, with the marker that ends it, remembered for
// the last message like messageTail itself.
let lastClosedMessage = ''
let lastClosedLimit = 0
let lastClosedTail = ''
function closedMessageTail (message, limit) {
  if (message !== lastClosedMessage || limit !== lastClosedLimit) {
    lastClosedMessage = message
    lastClosedLimit = limit
    lastClosedTail = MERGE_CLOSE + messageTail(message, limit)
  }
  return lastClosedTail
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
  let merge = ''
  let message
  try {
    const first = args[0]
    if (typeof first === 'object' && first !== null) {
      if (first instanceof Error || (typeof first.stack === 'string' && isError(first))) {
        merge = ',"err":' + safeStringify(first, limit)
        message = args.length > 1 ? formatMessage(args[1], rest(args, 2), limit) : errorMessage(first)
      } else {
        merge = mergeFragment(first, limit)
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
  const line = lineHead(logger, level, false) + merge
  return message === undefined ? line + '}\n' : line + messageTail(message, limit)
}

const METHODS = {}
for (const name of LEVEL_NAMES) {
  const level = LEVELS[name]
  METHODS[name] = function (first, second) {
    const core = this[kCore]
    // The common call, log.info({ ... }, 'message'), skips the general argument handling.
    let line
    try {
      if (arguments.length === 2 && typeof second === 'string' && typeof first === 'object' &&
          first !== null && !(first instanceof Error) && typeof first.stack !== 'string') {
        const limit = core.maxStringLength
        const json = mergeJson(first, limit)
        line = json === undefined
          ? lineHead(this, level, false) + mergeFragment(first, limit) + messageTail(second, limit)
          : lineHead(this, level, true) + json + closedMessageTail(second, limit)
      }
    } catch {} // a throwing `stack` getter: the general path below copes with it
    if (line !== undefined) {
      core.sink.write(line)
      return
    }
    core.sink.write(buildLine(this, level, Array.prototype.slice.call(arguments)))
  }
}

class Logger {
  constructor (core, bindings, level) {
    this[kCore] = core
    this[kBindings] = bindings
    this[kHeads] = { time: 0, epoch: 0, refs: [] }
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
    for (const method of LEVEL_NAMES) {
      this[method] = LEVELS[method] >= threshold ? METHODS[method] : noop
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
    const extra = bindings ? mergeFragment(bindings, this[kCore].maxStringLength) : ''
    return new Logger(this[kCore], this[kBindings] + extra, level)
  }

  // Resolves true once every line logged before the call is written; false if the
  // destination is failing (those lines stay queued and are retried). Never rejects.
  flush () {
    return this[kCore].sink.flush()
  }

  flushSync () {
    return this[kCore].sink.flushSync()
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
  let bindings = `,"pid":${process.pid},"hostname":${JSON.stringify(os.hostname())}` + workerBinding()
  if (resolved.service !== undefined) bindings += `,"service":${JSON.stringify(resolved.service)}`
  bindings += mergeFragment(resolved.base, resolved.maxStringLength)
  const sink = new Sink({
    destination: resolved.destination,
    queueBytes: resolved.queueBytes,
    overflow: resolved.overflow,
    bindings: bindings.slice(1)
  })
  const core = { sink, maxStringLength: resolved.maxStringLength }
  return new Logger(core, bindings, resolved.level)
}

// The shared internals of a logger (its sink), for prodkit's own modules.
function coreOf (logger) {
  return logger[kCore]
}

module.exports = { createLogger, coreOf, Logger, LEVELS, ACCEPTED }

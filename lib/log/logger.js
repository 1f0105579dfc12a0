'use strict'
// The structured logger. Each call builds one pino-compatible line:
//   {"level":30,"time":<ms>,"pid":..,"hostname":..,"service":..,<bindings>,<merge object>,"msg":..}
// and hands it to the sink. Disabled levels are no-op methods, so they cost a call.

const os = require('node:os')
const { randomBytes } = require('node:crypto')
const { LEVELS, LEVEL_NAMES, ACCEPTED, levelValue } = require('./levels')
const { resolveOptions, checkLevel, fail, isPlainObject } = require('./options')
const { isError, safeStringify, mergeFragment, mergeJson, messageTail, limits } = require('./serialize')
const { formatMessage, valueTail, callParts, errorKeyMessage, plainStringify } = require('./format')
const { Sink, MERGE_OPEN, HEAD_LIFE } = require('./sink')
const { FieldProtection } = require('./protect')
const { applySerializers, runSerializer, resolveSerializers } = require('./serializers')
const { shapeFields, shapeBindings } = require('./shape')
const { keyError, resolveRedact } = require('./protect-options')
const { resolveCompat, resolveFormatters, childLevels } = require('./compat-options')
const { workerBinding } = require('../cluster/identity')
const { copyFatalIfFailing } = require('./stderr-copy')
const { lineFields, headWith } = require('../context')

const kCore = Symbol('prodkit.core')
const kBindings = Symbol('prodkit.bindings')
const kThreshold = Symbol('prodkit.threshold')
const kLevel = Symbol('prodkit.level')
const kHeads = Symbol('prodkit.heads')
const kFields = Symbol('prodkit.fields')
const kPrefix = Symbol('prodkit.msgPrefix')

const PREFIX = {}
for (const name of LEVEL_NAMES) PREFIX[LEVELS[name]] = `{"level":${LEVELS[name]},"time":`

function noop () {}
const hasOwn = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key)

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

// lineHead for a logger with pino's shape options (lib/log/compat-options.js): the time
// is the `timestamp` function's fragment (none with timestamp: false), and the head is
// cached while that fragment stays the same (per millisecond for epoch and ISO times).
// `top` as for lineHead. `asText`: the head's text itself, not a slot reference (for
// hooks.streamWrite, which gets the whole line).
function compatHead (logger, level, top, asText) {
  const core = logger[kCore]
  const ambient = lineFields(logger, core, logger[kBindings], top)
  const time = core.compat.timestamp === undefined ? ',"time":' + Date.now() : timeFragment(core.compat.timestamp)
  const fragment = typeof ambient === 'object' ? ambient.fragment : ambient
  if (asText) return (core.compat.levelTexts === undefined ? `{"level":${level}` : core.compat.levelTexts[level]) + time + logger[kBindings] + fragment
  const sink = core.sink
  let heads = logger[kHeads]
  if (heads.time !== time || heads.epoch !== sink.headEpoch || sink.definitions - heads.at >= HEAD_LIFE) {
    heads = logger[kHeads] = { time, epoch: sink.headEpoch, at: sink.definitions, refs: [] }
  }
  let ref = heads.refs[level]
  if (ref === undefined) {
    const start = core.compat.levelTexts === undefined ? `{"level":${level}` : core.compat.levelTexts[level]
    ref = heads.refs[level] = sink.define(start + time + logger[kBindings])
  }
  // The fields of a context run or span follow the bindings (not cached in the head here).
  return fragment === '' ? ref : headWith(ref, fragment, '')
}

// The app's timestamp function's fragment; a throw, a non-string or the batch format's
// control characters give the default time instead (a line is always written).
function timeFragment (fn) {
  try {
    const text = fn()
    if (typeof text === 'string' && !/[\u0000-\u0008\u000e\u000f]/.test(text)) return text
  } catch {}
  return ',"time":' + Date.now()
}

function errorMessage (err) {
  try {
    return String(err.message)
  } catch {
    return undefined
  }
}

// The message of a call that gives none, as pino: the error's message, or the merge
// object's errorKey's message (protected fields stay protected). Never throws.
function defaultMessage (obj, isErr, wrapped, protect, compat, errorKey) {
  try {
    if (isErr) return errorMessage(protect ? protect.view(wrapped)[errorKey] : obj)
    return errorKeyMessage(protect ? protect.view(obj) : obj, compat ? compat.messageKey : 'msg', errorKey)
  } catch {
    return undefined
  }
}

// Builds the line for one call, reading the arguments as pino does (lib/log/format.js);
// never throws. With log.redact or log.encrypt, the merge object and any object printed
// into the message are protected.
function buildLine (logger, level, args, asText = false) {
  const core = logger[kCore]
  const limit = core.maxStringLength
  const protect = core.protect
  const compat = core.compat
  const errorKey = compat ? compat.errorKey : 'err'
  let merge = ''
  let message
  // The object whose keys are the line's own, at its top level (context fields with the
  // same keys are left out: lib/context/).
  let top = null
  try {
    let { obj, msg, params } = callParts(args)
    const prefix = logger[kPrefix]
    if (prefix !== undefined && msg !== undefined && msg !== null) msg = prefix + msg
    message = formatMessage(msg, params, core.stringify)
    if (obj !== null || (compat && compat.fieldsAlways)) {
      const isErr = obj !== null && (obj instanceof Error || (typeof obj.stack === 'string' && isError(obj)))
      const wrapped = obj === null ? {} : isErr ? { [errorKey]: obj } : obj
      if (message === undefined && obj !== null) message = defaultMessage(obj, isErr, wrapped, protect, compat, errorKey)
      // pino's mixin, formatters.log and serializers (lib/log/shape.js).
      const fields = compat ? shapeFields(compat, wrapped, level, logger) : wrapped
      if (!(compat && compat.nestedKey !== undefined)) top = fields
      if (protect) merge = protect.fragment(fields, limit)
      else if (isErr && !compat) merge = ',' + JSON.stringify(errorKey) + ':' + safeStringify(obj, limit)
      else merge = mergeFragment(fields, limit, core.safe)
      if (compat && compat.nestedKey !== undefined && merge !== '') merge = compat.nestedOpen + merge.slice(1) + '}'
    }
    // pino applies a serialiser for messageKey to the message, prefixed and formatted.
    if (compat && compat.serializers && message !== undefined) {
      const fn = compat.serializers[compat.messageKey]
      if (fn !== undefined) message = runSerializer(fn, message, compat.messageKey)
    }
    // As pino: a redact path naming the message key (or `*`) protects a message that is
    // not an object (an object message is protected as %j objects are, lib/log/format.js).
    if (core.protectsMessage && message !== undefined && (typeof message !== 'object' || message === null)) {
      const key = compat ? compat.messageKey : 'msg'
      message = protect.view({ [key]: message })[key]
    }
  } catch (err) {
    // Only reached by a defect in prodkit itself: still log one valid line.
    merge = ''
    message = `[prodkit: could not serialise the log call: ${String(err && err.message)}]`
  }
  // Few, large pieces: the batch is a rope of these that V8 flattens once per batch.
  // Sealed fields' table (log.encrypt) goes before the head (src/log/chunk.rs).
  const table = protect ? protect.takeTable() : ''
  const head = compat ? compatHead(logger, level, top, asText) : lineHead(logger, level, false, top)
  const line = table + head + merge + valueTail(message, limit, core.stringify, compat ? compat.messageKeyText : undefined)
  // pino's crlf: lines end with \r\n (JSON whitespace before the newline).
  return compat && compat.crlf ? line.slice(0, -1) + '\r\n' : line
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
          line = lineHead(this, level, false, first) + mergeFragment(first, limit, core.safe) + messageTail(second, limit)
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
      if (!core.protectsMessage && isObjectAndMessage(arguments.length, first, second)) {
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

// The same methods for loggers with pino's shape options (messageKey, timestamp...) or a
// msgPrefix: always the general path, which knows them.
const COMPAT_METHODS = {}
for (const name of LEVEL_NAMES) COMPAT_METHODS[name] = compatMethod(LEVELS[name])

// The general-path method of one level (also for customLevels).
function compatMethod (level) {
  return function () {
    const args = Array.prototype.slice.call(arguments)
    const hook = this[kCore].compat && this[kCore].compat.logMethod
    if (hook) {
      logThroughHook(this, hook, args, level)
      return
    }
    writeLine(this, level, args)
  }
}

// One line to the sink, through hooks.streamWrite when there is one.
function writeLine (logger, level, args) {
  const core = logger[kCore]
  const hook = core.compat === null ? undefined : core.compat.streamWrite
  if (hook === undefined) core.sink.write(buildLine(logger, level, args))
  else core.sink.write(hookedLine(logger, level, args, hook))
}

// The batch format's markers (lib/log/sink.js) cannot come from a hook's text.
const MARKERS = /[\u0000-\u0008\u000e\u000f]/g
function escapeMarker (c) {
  return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')
}

// pino's hooks.streamWrite(line) -> the text written instead. A hook that throws or
// returns no string gets a line saying so (never the unhooked line: the hook may be
// there to hide something); an empty string writes nothing; a newline is added when the
// text does not end with one (the destination is line-based).
function hookedLine (logger, level, args, hook) {
  const line = buildLine(logger, level, args, true)
  let out
  let problem
  try {
    out = hook(line)
    if (typeof out !== 'string') problem = 'hooks.streamWrite returned no string'
  } catch (err) {
    let reason = 'unknown'
    try {
      reason = String(err && err.message)
    } catch {}
    problem = `hooks.streamWrite threw: ${reason}`
  }
  if (problem !== undefined) return compatHead(logger, level, null, true) + ',"prodkitShapeError":' + JSON.stringify(problem) + (logger[kCore].compat.crlf ? '}\r\n' : '}\n')
  if (out === '') return ''
  out = out.replace(MARKERS, escapeMarker)
  return out.endsWith('\n') ? out : out + '\n'
}

// pino's hooks.logMethod(args, method, level): the app's hook decides what is logged by
// calling method.apply(this, args). A hook that throws before logging still gets the
// call's line written, with what went wrong.
function logThroughHook (logger, hook, args, level) {
  let called = false
  // Named as pino's (a hook may look at method.name).
  function LOG () {
    called = true
    writeLine(logger, level, Array.prototype.slice.call(arguments))
  }
  try {
    hook.call(logger, args, LOG, level)
  } catch (err) {
    if (called) return
    let reason = 'unknown'
    try {
      reason = String(err && err.message)
    } catch {}
    writeLine(logger, level, [{ prodkitShapeError: `hooks.logMethod threw: ${reason}` }, ...args.slice(typeof args[0] === 'object' && args[0] !== null ? 1 : 0)])
  }
}

// fatal(): the line is written through (with everything logged before it) before the
// call returns: the process may be about to end without another event-loop turn. While
// the destination is failing, it also goes to stderr (lib/log/stderr-copy.js).
for (const methods of [METHODS, PROTECTED_METHODS, COMPAT_METHODS]) {
  const fatal = methods.fatal
  methods.fatal = function () {
    fatal.apply(this, arguments)
    const core = this[kCore]
    copyFatalIfFailing(core.sink, core.protect ? null : this[kBindings], core, arguments)
  }
}

// Keys of child() bindings that pino leaves out of the line (they configure the child).
const NOT_BINDINGS = ['level', 'serializers', 'formatters', 'customLevels']

class Logger {
  // `bindings`: the rendered fields of base and child() bindings; `fields`: the same as
  // an object (protected fields redacted or censored), for bindings().
  constructor (core, bindings, level, fields, prefix) {
    this[kCore] = core
    this[kBindings] = bindings
    this[kFields] = fields
    this[kPrefix] = prefix
    this[kHeads] = { time: 0, epoch: 0, at: 0, refs: [] }
    this.level = level
  }

  get level () {
    return this[kLevel]
  }

  // A level name in any case, or its number (pino's `logger.level = 50`).
  set level (value) {
    const core = this[kCore]
    const set = core.levels
    const name = checkLevel('level', value, set)
    const threshold = levelValue(name, set)
    this[kLevel] = name
    this[kThreshold] = threshold
    const methods = core.compat || this[kPrefix] !== undefined ? COMPAT_METHODS : core.protect ? PROTECTED_METHODS : METHODS
    for (const method of set.names) {
      this[method] = logs(core, set.values[method], threshold) ? (hasOwn(core.customMethods, method) ? core.customMethods[method] : methods[method]) : noop
    }
  }

  // The current level's number (Infinity for silent), as pino's levelVal.
  get levelVal () {
    return this[kThreshold]
  }

  // pino's shape: { labels: { 10: 'trace', ... }, values: { trace: 10, ... } }.
  get levels () {
    return this[kCore].levels.pino
  }

  // Logs nothing: pino's method for the level 'silent'.
  silent () {}

  isLevelEnabled (name) {
    const value = levelValue(name, this[kCore].levels)
    return value !== undefined && value !== Infinity && logs(this[kCore], value, this[kThreshold])
  }

  // The fields base and child() bindings add to each line (pid and hostname aside), as
  // pino's bindings(); protected fields are redacted (sealed ones written [Redacted]).
  bindings () {
    return { ...this[kFields] }
  }

  // Adds fields to this logger's lines (children made before keep theirs), as pino does.
  setBindings (bindings) {
    if (!isPlainObject(bindings)) throw fail('setBindings(bindings)', 'an object of fields', bindings)
    const { extra, fields } = renderBindings(this[kCore], bindings)
    this[kBindings] += extra
    this[kFields] = { ...this[kFields], ...fields }
    this[kHeads] = { time: 0, epoch: 0, at: 0, refs: [] }
  }

  // A logger whose lines also carry `bindings`; `options.level` defaults to this one's,
  // `options.msgPrefix` is added after this one's. A `level` key in the bindings is left
  // out, as pino leaves it out.
  child (bindings, options) {
    if (bindings !== undefined && !isPlainObject(bindings)) {
      throw fail('child(bindings)', 'an object of fields', bindings)
    }
    const { level, msgPrefix, shape } = childOptions(options, this[kLevel], this[kCore].levels)
    const prefix = msgPrefix === undefined ? this[kPrefix] : (this[kPrefix] || '') + msgPrefix
    const core = childCore(this[kCore], shape)
    if (!bindings) return new Logger(core, this[kBindings], level, this[kFields], prefix)
    const { extra, fields } = renderBindings(core, bindings)
    return new Logger(core, this[kBindings] + extra, level, { ...this[kFields], ...fields }, prefix)
  }

  // The prefix of this logger's messages (msgPrefix), or undefined.
  get msgPrefix () {
    return this[kPrefix]
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

// Whether a line of level `value` is written at the threshold `threshold`: pino's
// levelComparison ('ASC' by default: value >= threshold).
function logs (core, value, threshold) {
  if (core.compare === undefined) return value >= threshold
  try {
    return core.compare(value, threshold) === true
  } catch (err) {
    throw new TypeError(`prodkit: option log.levelComparison threw: ${err && err.message}`)
  }
}

const CHILD_OPTIONS = ['level', 'msgPrefix', 'serializers', 'formatters', 'redact', 'customLevels']

// child(bindings, options): validated; -> { level, msgPrefix, shape }: `shape` holds
// the child's serializers, formatters, redact and levels, resolved (undefined when none given).
function childOptions (options, parentLevel, parentLevels) {
  if (options === undefined) return { level: parentLevel, msgPrefix: undefined, shape: undefined }
  if (!isPlainObject(options)) throw fail('child(bindings, options)', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!CHILD_OPTIONS.includes(key)) throw new TypeError(`prodkit: unknown child option ${key} (known: ${CHILD_OPTIONS.join(', ')})`)
  }
  const shape = {}
  // As pino: customLevels add to the parent's; the child's level is then checked against them.
  const levels = options.customLevels === undefined ? parentLevels : (shape.levels = childLevels(options.customLevels, parentLevels, { fail }))
  const level = options.level !== undefined ? checkLevel('child options.level', options.level, levels) : parentLevel
  const msgPrefix = options.msgPrefix
  if (msgPrefix !== undefined && typeof msgPrefix !== 'string') throw fail('child options.msgPrefix', 'a string', msgPrefix)
  if (options.serializers !== undefined) {
    if (!isPlainObject(options.serializers)) throw fail('child options.serializers', 'an object of functions, one per key', options.serializers)
    resolveSerializers(options.serializers, fail, 'child options.serializers') // checks the values
    shape.serializers = options.serializers
  }
  if (options.formatters !== undefined) shape.formatters = resolveFormatters(options.formatters, fail, levels, 'child options.formatters')
  // As pino: an array or an object replaces the parent's redact (null: kept).
  if (options.redact !== undefined && options.redact !== null) shape.redact = resolveRedact(options.redact, 'child options.redact')
  return { level, msgPrefix, shape: Object.keys(shape).length === 0 ? undefined : shape }
}

// The core of a child made with serializers, formatters or redact: the parent's sink,
// its own shape and protection. Its serializers are the parent's with the child's over
// them; formatters.log replaces the parent's, formatters.bindings applies to
// this child's bindings only (pino's); redact replaces the parent's redact, and the
// parent's encrypt paths stay (a child never writes in clear what its parent seals).
// A parent's formatters.bindings is not passed on (pino resets it for children).
function childCore (parent, shape) {
  if (shape === undefined) {
    if (parent.compat === null || parent.compat.childBindings === undefined) return parent
    if (parent.plainChild === undefined) parent.plainChild = { ...parent, compat: { ...parent.compat, childBindings: undefined } }
    return parent.plainChild
  }
  const core = { ...parent, plainChild: undefined }
  if (shape.serializers !== undefined || shape.formatters !== undefined || shape.levels !== undefined || parent.compat !== null) {
    const compat = { ...(parent.compat || defaultCompat()), childBindings: undefined }
    if (shape.levels !== undefined) {
      // Its own methods for the new levels; level texts again when formatters.level is set.
      core.levels = shape.levels
      core.customMethods = { ...parent.customMethods }
      for (const name of shape.levels.custom) {
        if (!hasOwn(core.customMethods, name)) core.customMethods[name] = compatMethod(shape.levels.values[name])
      }
    }
    if (shape.serializers !== undefined) compat.serializers = mergeSerializers(compat.serializers, shape.serializers)
    if (shape.formatters !== undefined) {
      // formatters.level changes nothing in a child unless it has customLevels too (pino
      // renders level texts once per set of levels), but passes on to its children.
      const { level, bindings, log } = shape.formatters
      if (level !== undefined) compat.levelFormatter = level
      if (log !== undefined) compat.logFormatter = log
      compat.childBindings = bindings
      compat.fieldsAlways = compat.mixin !== undefined || compat.logFormatter !== undefined
    }
    if (shape.levels !== undefined && compat.levelFormatter !== undefined) {
      compat.levelTexts = resolveFormatters({ level: compat.levelFormatter }, fail, shape.levels, 'formatters').levelTexts
    }
    core.compat = compat
  }
  if (shape.redact !== undefined) {
    const { encryptPaths, token, maxStringLength: limit } = parent
    const redact = shape.redact.paths.length === 0 ? undefined : shape.redact
    const encrypt = encryptPaths === undefined ? undefined : { paths: encryptPaths }
    core.protect = redact || encrypt ? new FieldProtection({ redact, encrypt, token, limit }) : null
    core.stringify = stringifyFor(core.protect, limit, parent.safe)
    core.protectsMessage = core.protect !== null && core.protect.redactsTop(core.compat ? core.compat.messageKey : 'msg')
  }
  return core
}

// The parent's serializers with the child's over them; a child's null or undefined
// removes the parent's (for err: errors written as JSON.stringify writes them).
function mergeSerializers (parent, own) {
  const out = Object.assign(Object.create(null), parent || {})
  const resolved = resolveSerializers(own, fail, 'child options.serializers') || {}
  for (const key of Object.keys(own)) {
    if (resolved[key] !== undefined) out[key] = resolved[key]
    else delete out[key]
  }
  return Object.keys(out).length === 0 ? null : out
}

// The shape of a logger without pino's shape options (for a child that adds some).
function defaultCompat () {
  return compatOf({ ...resolveCompat({}, { fail }), compat: true })
}

// How %j %o %O and object messages are written (lib/log/format.js).
function stringifyFor (protect, limit, safe) {
  return protect ? (value) => protect.json(value, limit) : (value) => plainStringify(value, limit, safe)
}

// child()/setBindings() bindings -> their line fragment and their (protected) fields.
function renderBindings (core, bindings) {
  // A child's own formatters.bindings (child options), before anything else (pino's order).
  if (core.compat && core.compat.childBindings !== undefined) bindings = shapeBindings({ bindingsFormatter: core.compat.childBindings }, bindings)
  for (const key of NOT_BINDINGS) {
    if (Object.prototype.hasOwnProperty.call(bindings, key)) {
      bindings = { ...bindings }
      for (const k of NOT_BINDINGS) delete bindings[k]
      break
    }
  }
  if (core.compat && core.compat.serializers) bindings = applySerializers(bindings, core.compat.serializers, undefined)
  const { protect, maxStringLength } = core
  const extra = protect ? protect.bindingsFragment(bindings, maxStringLength) : mergeFragment(bindings, maxStringLength, core.safe)
  return { extra, fields: plainFields(core, bindings) }
}

// The fields as bindings() gives them back: what the line holds, never a protected value.
function plainFields (core, bindings) {
  try {
    return JSON.parse(core.stringify(bindings) || '{}')
  } catch {
    return {}
  }
}

// `installDefaults`: install()'s defaults instead of pino's (lib/log/options.js).
function createLogger (options, installDefaults = false) {
  const resolved = resolveOptions(options, process.env, installDefaults === true)
  const limit = resolved.maxStringLength
  const { redact, encrypt } = resolved
  // The random part of sealed fields' placeholders: app data cannot forge one.
  const token = encrypt ? randomBytes(12).toString('base64url') : undefined
  const protect = redact || encrypt ? new FieldProtection({ redact, encrypt, token, limit }) : null
  const compat = compatOf(resolved)
  if (compat && compat.streamWrite !== undefined && encrypt) {
    throw new TypeError('prodkit: option log.hooks.streamWrite cannot be used with log.encrypt (the hook would see lines before their fields are sealed); remove one of them')
  }
  const safe = limits(resolved.depthLimit, resolved.edgeLimit)
  let bindings = resolved.base === null ? '' : `,"pid":${process.pid},"hostname":${JSON.stringify(os.hostname())}`
  if (resolved.name !== undefined && resolved.base !== null) bindings += `,"name":${JSON.stringify(resolved.name)}`
  let base = resolved.base || {}
  if (compat && compat.bindingsFormatter !== undefined && resolved.base !== null) {
    // As pino: formatters.bindings gets pid, hostname and name with base's fields.
    const all = { pid: process.pid, hostname: os.hostname(), ...(resolved.name === undefined ? {} : { name: resolved.name }), ...base }
    bindings = ''
    base = shapeBindings(compat, all)
  }
  if (resolved.serializers) base = applySerializers(base, resolved.serializers, undefined)
  bindings += workerBinding()
  if (resolved.service !== undefined) bindings += `,"service":${JSON.stringify(resolved.service)}`
  const noticeBindings = bindings + (protect ? protect.noticeFragment(base, limit) : mergeFragment(base, limit, safe))
  bindings += protect ? protect.bindingsFragment(base, limit) : mergeFragment(base, limit, safe)
  const sink = newSink(resolved, noticeBindings.slice(1), token)
  const stringify = stringifyFor(protect, limit, safe)
  const levels = resolved.levels
  const customMethods = {}
  for (const name of levels.custom) customMethods[name] = compatMethod(levels.values[name])
  const protectsMessage = protect !== null && protect.redactsTop(compat ? compat.messageKey : 'msg')
  // encryptPaths and token: for a child with its own redact (childCore).
  const encryptPaths = encrypt ? encrypt.paths : undefined
  const compare = resolved.levelComparison
  const core = { sink, maxStringLength: limit, protect, protectsMessage, stringify, compat, levels, customMethods, safe, compare, encryptPaths, token }
  // pino's bindings() holds `name` (a field of its root bindings) with base's fields.
  const named = resolved.name !== undefined && resolved.base !== null && !(compat && compat.bindingsFormatter !== undefined)
  const fields = named ? { name: resolved.name, ...plainFields(core, base) } : plainFields(core, base)
  return new Logger(core, bindings, resolved.level, fields, resolved.msgPrefix)
}

// What the general path needs of pino's shape options, or null for the default shape.
function compatOf (resolved) {
  if (!resolved.compat) return null
  const { messageKey, errorKey, nestedKey, timestamp, serializers, formatters, mixin, mixinMergeStrategy, logMethod, streamWrite } = resolved
  return {
    serializers,
    mixin,
    mixinMergeStrategy,
    logMethod,
    streamWrite,
    crlf: resolved.crlf,
    childBindings: undefined,
    levelTexts: formatters && formatters.levelTexts,
    levelFormatter: formatters && formatters.level,
    bindingsFormatter: formatters && formatters.bindings,
    logFormatter: formatters && formatters.log,
    // mixin and formatters.log run for lines without a merge object too (as in pino).
    fieldsAlways: mixin !== undefined || (formatters !== undefined && formatters.log !== undefined),
    messageKey,
    errorKey,
    nestedKey,
    timestamp,
    messageKeyText: ',' + JSON.stringify(messageKey) + ':',
    nestedOpen: nestedKey === undefined ? undefined : ',' + JSON.stringify(nestedKey) + ':{'
  }
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
    reopenOnSignal: resolved.reopenOnSignal,
    ship: resolved.ship
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

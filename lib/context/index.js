'use strict'
// prodkit.context: fields that follow a unit of work (a request, a job, a queue message)
// into every line any prodkit logger writes while it runs, with no logger passed around.
//
//   context.run(bindings, fn)  runs fn with `bindings` active; nested runs merge (the inner
//                              run's value wins; a key keeps its place from the outer run)
//   context.get()              the active bindings (a frozen copy), or undefined
//
// Guarantees:
// - The fields follow fn through awaits, timers, promises and the callbacks Node binds to
//   their async context (AsyncLocalStorage): concurrent runs never see each other's fields.
// - A line never carries a key twice. Precedence, most specific first: the call's merge
//   object, the logger's own bindings (child(), base, pid, hostname, service), the run's
//   bindings, then the active OpenTelemetry span's trace_id/span_id/trace_flags
//   (./trace.js). A field that loses is left out; `level`, `time` and `msg` are never taken
//   from a run.
// - Order in the line: the logger's bindings, the run's fields, the trace fields, then the
//   merge object and the message.
// - The run's fields go through the logger's log.redact and log.encrypt like its bindings:
//   a protected field is never written in clear.
// - Serialised once per run and logger (not per line); the bindings are copied at run():
//   change nested objects afterwards and lines may show either version.
// - Cost when nothing is active: one flag test (true once any run has started) and one
//   global property read for OpenTelemetry, per line. Never throws into a log call.

const { AsyncLocalStorage } = require('node:async_hooks')
const { mergeFragment, isError } = require('../log/serialize')
const { otelApi, activeTraceFields, TRACE_KEYS } = require('./trace')

const storage = new AsyncLocalStorage()
// AsyncLocalStorage costs nothing until its first run(): neither does getStore() here.
let started = false
const RESERVED = new Set(['level', 'time', 'msg'])
const hasOwn = Object.prototype.hasOwnProperty
// Where a merge object's fields go when it is not a plain object (lib/log/logger.js).
const ERROR_VIEW = Object.freeze({ err: true })
const VALUE_VIEW = Object.freeze({ value: true })

function describe (value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

// The active bindings of one run (merged with the runs around it). `keys` and
// `hasTraceKey` are derived from the bindings: given by a caller that knows them already
// (runField), computed here otherwise.
class Frame {
  constructor (bindings, keys, hasTraceKey) {
    this.bindings = Object.freeze(bindings)
    // Keys the line may take: reserved ones and undefined values (which JSON leaves out,
    // and which an inner run uses to drop an outer run's key) are not among them.
    this.keys = keys !== undefined ? keys : Object.keys(bindings).filter((k) => !RESERVED.has(k) && bindings[k] !== undefined)
    this.hasTraceKey = hasTraceKey !== undefined ? hasTraceKey : this.keys.some((k) => TRACE_KEYS.includes(k))
    // The fragment for the last logger seen (most runs log through one or two loggers),
    // then the others'.
    this.logger = null
    this.entry = null
    this.others = null
  }
}

function run (bindings, fn) {
  if (typeof bindings !== 'object' || bindings === null || Array.isArray(bindings)) {
    throw new TypeError(`prodkit: context.run(bindings, fn): bindings must be an object of fields (got ${describe(bindings)})`)
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`prodkit: context.run(bindings, fn): fn must be a function (got ${describe(fn)})`)
  }
  const outer = started ? storage.getStore() : undefined
  const frame = new Frame(outer === undefined ? { ...bindings } : { ...outer.bindings, ...bindings })
  started = true
  return storage.run(frame, fn)
}

// `run({ [field.key]: value }, fn)` for a caller that runs one field per unit of work (the
// request id of requestLogger), with the key checked once: `field` is fieldKey(key)'s.
function fieldKey (key) {
  const ok = !RESERVED.has(key)
  return { key, keys: ok ? [key] : [], hasTraceKey: ok && TRACE_KEYS.includes(key) }
}

function runField (field, value, fn) {
  const outer = started ? storage.getStore() : undefined
  let frame
  if (outer === undefined && value !== undefined) {
    const bindings = {}
    bindings[field.key] = value
    frame = new Frame(bindings, field.keys, field.hasTraceKey)
  } else {
    frame = new Frame(outer === undefined ? { [field.key]: value } : { ...outer.bindings, [field.key]: value })
  }
  started = true
  return storage.run(frame, fn)
}

function get () {
  if (!started) return undefined
  const frame = storage.getStore()
  return frame === undefined ? undefined : frame.bindings
}

// The top-level keys of a logger's rendered bindings (`,"pid":1,...`), parsed once per
// bindings text. Sealed fields' tables (control characters, lib/log/protect.js) are not
// JSON and are dropped first. If the text cannot be parsed, every quoted key in it counts:
// more fields left out of the run's, never a key twice.
const ownKeysCache = new WeakMap()
const TABLE = /\u0006[^\u0008]*\u0008/g
function ownKeys (logger, bindings, core) {
  const cached = ownKeysCache.get(logger)
  if (cached !== undefined && cached.bindings === bindings) return cached.keys
  const text = bindings.replace(TABLE, '')
  let keys
  try {
    keys = new Set(Object.keys(JSON.parse('{' + text.slice(1) + '}')))
  } catch {
    keys = new Set()
    for (const m of text.matchAll(/"((?:[^"\\]|\\.)*)":/g)) keys.add(JSON.parse('"' + m[1] + '"'))
  }
  for (const key of shapeKeys(core)) keys.add(key)
  ownKeysCache.set(logger, { bindings, keys })
  return keys
}

// The keys a logger with pino's shape options writes itself (lib/log/compat-options.js):
// its messageKey and nestedKey, and the level's key as formatters.level names it.
function shapeKeys (core) {
  const compat = core && core.compat
  if (!compat) return []
  const keys = [compat.messageKey]
  if (compat.nestedKey !== undefined) keys.push(compat.nestedKey)
  if (compat.levelTexts !== undefined) {
    for (const start of Object.values(compat.levelTexts)) {
      try {
        keys.push(...Object.keys(JSON.parse(start + '}')))
      } catch {}
      break
    }
  }
  return keys
}

// The fields as a line fragment for this logger: redacted/sealed by its protection.
function render (core, fields) {
  if (core.protect) return core.protect.bindingsFragment(fields, core.maxStringLength)
  return mergeFragment(fields, core.maxStringLength, core.safe) // its depthLimit/edgeLimit
}

// The run's fields for a logger, without the keys its bindings have: an entry
// { bindings, fragment, heads }, where `heads` is the logger's line heads cache for lines
// that carry this fragment (lib/log/logger.js lineHead), so that the fields are sent once
// per logger, level and millisecond, inside the head, as bindings are.
function frameEntry (frame, logger, core, bindings) {
  if (frame.logger === logger && frame.entry.bindings === bindings) return frame.entry
  if (frame.others === null) frame.others = new WeakMap()
  let entry = frame.others.get(logger)
  if (entry === undefined || entry.bindings !== bindings) {
    const own = ownKeys(logger, bindings, core)
    const fields = {}
    for (const key of frame.keys) if (!own.has(key)) fields[key] = frame.bindings[key]
    entry = { bindings, fragment: render(core, fields), heads: null, traced: undefined }
    frame.others.set(logger, entry)
  }
  frame.logger = logger
  frame.entry = entry
  return entry
}

function cachedEntry (entries, logger, bindings, fragment) {
  let entry = entries.get(logger)
  if (entry === undefined || entry.bindings !== bindings) {
    entry = { bindings, fragment, heads: null }
    entries.set(logger, entry)
  }
  return entry
}

// What the merge object's fields are seen as in the line (see buildLine in
// lib/log/logger.js): an Error goes under `err`, an array or a toJSON scalar under `value`.
function mergeView (first) {
  if (typeof first !== 'object' || first === null) return null
  if (first instanceof Error || (typeof first.stack === 'string' && isError(first))) return ERROR_VIEW
  if (Array.isArray(first)) return VALUE_VIEW
  let toJSON
  try {
    toJSON = first.toJSON
  } catch {
    return VALUE_VIEW // a throwing getter: the line holds a marker under `value`
  }
  if (typeof toJSON === 'function') {
    let view
    try {
      view = toJSON.call(first, '')
    } catch {
      return VALUE_VIEW
    }
    if (typeof view !== 'object' || view === null || Array.isArray(view)) return VALUE_VIEW
    return view
  }
  return first
}

function anyOwn (view, keys) {
  for (let i = 0; i < keys.length; i++) if (hasOwn.call(view, keys[i])) return true
  return false
}

function allOwn (view, keys) {
  for (let i = 0; i < keys.length; i++) if (!hasOwn.call(view, keys[i])) return false
  return true
}

// The ambient fields for one line of `logger` (core: its shared internals, bindings: its
// rendered bindings), whose first argument is `first`: '' when no run and no span is
// active; an entry (see frameEntry) when the fields are the same for every line of the
// logger in this run and span (the common case); else the fields as text for this line. Called by lib/log/logger.js where a
// line's head is assembled, after the line's own sealed-field table is taken.
function lineFields (logger, core, bindings, first) {
  const frame = started ? storage.getStore() : undefined
  const api = otelApi()
  if (frame === undefined && api === undefined) return ''
  try {
    const trace = api === undefined ? null : activeTraceFields(api)
    if (frame === undefined && trace === null) return ''
    const view = mergeView(first)
    let out = ''
    let entry = null // the run's entry, when `out` is its fragment
    if (frame !== undefined && frame.keys.length !== 0) {
      if (view !== null && anyOwn(view, frame.keys)) {
        // The merge object has all of them (requestLogger's line has the request id).
        if (trace === null && allOwn(view, frame.keys)) return ''
        const own = ownKeys(logger, bindings, core)
        const fields = {}
        for (const key of frame.keys) if (!own.has(key) && !hasOwn.call(view, key)) fields[key] = frame.bindings[key]
        out = render(core, fields)
      } else {
        entry = frameEntry(frame, logger, core, bindings)
        // The common case: the run's fields alone, the same for every line of the logger.
        if (trace === null) return entry.fragment === '' ? '' : entry
        out = entry.fragment
      }
    }
    if (trace !== null) {
      const own = ownKeys(logger, bindings, core)
      const clash = (frame !== undefined && frame.hasTraceKey) || (view !== null && anyOwn(view, TRACE_KEYS)) ||
        own.has('trace_id') || own.has('span_id') || own.has('trace_flags')
      if (!clash && !core.protect) {
        // The fields the same for every line of this logger under this span (and run): one
        // entry, with line heads of its own, as for a run's fields alone.
        if (out === '') return cachedEntry(trace.entries, logger, bindings, trace.text)
        if (entry === null) return out + trace.text
        if (entry.traced === undefined || entry.traced.trace !== trace) entry.traced = { trace, entry: { bindings, fragment: out + trace.text, heads: null } }
        return entry.traced.entry
      } else {
        const fields = {}
        for (const key of TRACE_KEYS) {
          if (own.has(key) || (view !== null && hasOwn.call(view, key)) || (frame !== undefined && frame.keys.includes(key))) continue
          fields[key] = trace.record[key]
        }
        out += render(core, fields)
      }
    }
    return out
  } catch {
    // Only reached by a defect (or a merge object whose `stack` getter throws): the line
    // goes without the fields rather than the call failing.
    return ''
  }
}

// The head reference, the fields and what follows them (the merge object's marker) as one
// string, the same one for the lines that share all three: a string built per line would be
// a rope the sink reads character by character (lib/log/sink.js writeParts), each read
// slow until V8 flattens it.
let joinedRef = ''
let joinedFields = ''
let joinedAfter = ''
let joined = ''
function headWith (ref, fields, after) {
  if (ref !== joinedRef || fields !== joinedFields || after !== joinedAfter) {
    joinedRef = ref
    joinedFields = fields
    joinedAfter = after
    joined = ref + fields + after
    joined.charCodeAt(0) // flattens it once, here
  }
  return joined
}

module.exports = { run, get, fieldKey, runField, lineFields, headWith }

'use strict'
// pino's options for the shape of a line (name, messageKey, errorKey, nestedKey,
// timestamp, msgPrefix, serializers, formatters, mixin, hooks, customLevels and
// useOnlyCustomLevels, crlf) and for which levels log (levelComparison, enabled) and how deep a
// value JSON.stringify cannot write is written (depthLimit, edgeLimit), validated once at
// creation with errors naming the option. Any of the shape options but `name` moves a logger off the fast path onto the general one
// (lib/log/logger.js), so the default logger pays nothing for them. pino options that
// prodkit lacks are listed so that they are refused with a clear error, never ignored.

const time = require('./time')
const { resolveSerializers } = require('./serializers')
const { LEVELS, DEFAULT_SET, levelSet } = require('./levels')

const COMPAT_KNOWN = ['name', 'messageKey', 'errorKey', 'nestedKey', 'timestamp', 'msgPrefix', 'serializers', 'formatters', 'mixin',
  'mixinMergeStrategy', 'hooks', 'customLevels', 'useOnlyCustomLevels', 'levelComparison', 'enabled', 'depthLimit', 'edgeLimit', 'crlf']
const PINO_NOT_YET = ['levels', 'transport', 'browser',
  'onChild', 'safe', 'levelKey', 'prettyPrint', 'useLevelLabels', 'changeLevelName', 'levelVal']

function checkKey (name, value, fallback, fail) {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '') throw fail(name, 'a non-empty string (a JSON key)', value)
  return value
}

// -> { name, messageKey, errorKey, nestedKey, timestamp, msgPrefix, serializers, compat }: `compat`
// is true when the line differs from the default shape (the general path is needed).
function resolveCompat (options, { fail }, levels = DEFAULT_SET) {
  const name = options.name
  if (name !== undefined && typeof name !== 'string') throw fail('log.name', 'a string', name)
  const messageKey = checkKey('log.messageKey', options.messageKey, 'msg', fail)
  const errorKey = checkKey('log.errorKey', options.errorKey, 'err', fail)
  const nestedKey = options.nestedKey === null ? undefined : checkKey('log.nestedKey', options.nestedKey, undefined, fail)
  const msgPrefix = options.msgPrefix
  if (msgPrefix !== undefined && typeof msgPrefix !== 'string') throw fail('log.msgPrefix', 'a string', msgPrefix)
  let timestamp = options.timestamp
  if (timestamp === undefined || timestamp === true) timestamp = undefined
  else if (timestamp === false) timestamp = time.nullTime
  else if (timestamp === time.epochTime) timestamp = undefined
  else if (typeof timestamp !== 'function') {
    throw fail('log.timestamp', 'true, false or a function returning the time\'s JSON fragment, like prodkit.stdTimeFunctions.isoTime', timestamp)
  }
  const serializers = resolveSerializers(options.serializers, fail)
  const formatters = resolveFormatters(options.formatters, fail, levels)
  const mixin = optionalFunction('log.mixin', options.mixin, fail)
  const mixinMergeStrategy = optionalFunction('log.mixinMergeStrategy', options.mixinMergeStrategy, fail)
  const { logMethod, streamWrite } = resolveHooks(options.hooks, fail)
  const crlf = optionalBoolean('log.crlf', options.crlf, false, fail)
  const compat = crlf || messageKey !== 'msg' || errorKey !== 'err' || nestedKey !== undefined || timestamp !== undefined ||
    msgPrefix !== undefined || serializers !== null || formatters !== undefined || mixin !== undefined || logMethod !== undefined ||
    streamWrite !== undefined ||
    levels.custom.length > 0
  return {
    name,
    messageKey,
    errorKey,
    nestedKey,
    timestamp,
    msgPrefix,
    serializers,
    formatters,
    mixin,
    mixinMergeStrategy,
    logMethod,
    streamWrite,
    crlf,
    compat,
    levelComparison: resolveLevelComparison(options.levelComparison, fail),
    enabled: optionalBoolean('log.enabled', options.enabled, true, fail),
    depthLimit: limit('log.depthLimit', options.depthLimit, 5, fail),
    edgeLimit: limit('log.edgeLimit', options.edgeLimit, 100, fail)
  }
}

function optionalBoolean (name, value, fallback, fail) {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw fail(name, 'true or false', value)
  return value
}

// depthLimit/edgeLimit: how deep and how wide safe-stable-stringify goes into a value
// that JSON.stringify cannot write (a cycle), as pino (its defaults: 5 and 100).
function limit (name, value, fallback, fail) {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(Number.isInteger(value) || value === Infinity) || value < 1) {
    throw fail(name, 'a positive integer (or Infinity)', value)
  }
  return value
}

// log.levelComparison: 'ASC' (pino's default: a level logs when its number is >= the
// threshold's), 'DESC' (<=) or a function (level, threshold) -> boolean. -> a function.
function resolveLevelComparison (value, fail) {
  if (value === undefined || value === 'ASC') return undefined
  if (value === 'DESC') return descending
  if (typeof value !== 'function') throw fail('log.levelComparison', "'ASC', 'DESC' or a function (level, threshold) returning a boolean", value)
  return value
}

function descending (current, expected) {
  return current <= expected
}

function optionalFunction (name, value, fail) {
  if (value !== undefined && typeof value !== 'function') throw fail(name, 'a function', value)
  return value
}

const FORMATTERS = ['level', 'bindings', 'log']

// log.formatters: { level(label, number), bindings(bindings), log(object) }, each
// returning an object. `level` is called once per level here, at creation.
function resolveFormatters (value, fail, levels, name = 'log.formatters') {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(name, '{ level, bindings, log } functions', value)
  for (const key of Object.keys(value)) {
    if (!FORMATTERS.includes(key)) throw new TypeError(`prodkit: unknown option ${name}.${key} (known: ${FORMATTERS.join(', ')})`)
    optionalFunction(`${name}.${key}`, value[key], fail)
  }
  let levelTexts
  if (value.level !== undefined) {
    levelTexts = {}
    for (const [label, number] of Object.entries(levels.values)) {
      if (levels.labels[number] !== label) continue
      let out
      try {
        out = value.level(label, number)
      } catch (err) {
        throw new TypeError(`prodkit: option ${name}.level threw for ${label}: ${err && err.message}`)
      }
      if (typeof out !== 'object' || out === null || Array.isArray(out)) throw fail(`${name}.level`, 'a function returning an object, like { level: label }', out)
      const json = JSON.stringify(out)
      levelTexts[number] = json.slice(0, -1)
    }
  }
  return { levelTexts, level: value.level, bindings: value.bindings, log: value.log }
}

// Names a custom level may not take: the logger's own members.
const RESERVED = ['child', 'flush', 'flushSync', 'reopen', 'close', 'stats', 'on', 'once', 'off', 'level', 'levels',
  'levelVal', 'isLevelEnabled', 'bindings', 'setBindings', 'msgPrefix', 'silent', 'constructor']

// log.customLevels: { name: number } added to the six standard levels (pino's option), or
// in their place with useOnlyCustomLevels (then a level may take a standard name).
function resolveLevels (value, { fail }, onlyCustom, name = 'log.customLevels') {
  if (onlyCustom !== undefined && typeof onlyCustom !== 'boolean') throw fail('log.useOnlyCustomLevels', 'true or false', onlyCustom)
  if (onlyCustom && value === undefined) throw new TypeError('prodkit: option log.useOnlyCustomLevels needs log.customLevels (the levels to use)')
  if (value === undefined) return DEFAULT_SET
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(name, 'an object of level names and numbers, like { audit: 35 }', value)
  }
  const custom = {}
  for (const [level, number] of Object.entries(value)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(level) || RESERVED.includes(level) || (!onlyCustom && Object.prototype.hasOwnProperty.call(LEVELS, level))) {
      throw new TypeError(`prodkit: option ${name}.${level} is not a usable level name (an identifier that is not a standard level or a logger member like ${RESERVED.slice(0, 3).join(', ')})`)
    }
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 2 ** 31 - 1) {
      throw fail(`${name}.${level}`, 'an integer from 1 to 2147483647', number)
    }
    custom[level] = number
  }
  if (onlyCustom && Object.keys(custom).length === 0) throw fail(name, 'at least one level with useOnlyCustomLevels', value)
  return levelSet(custom, onlyCustom === true)
}

// A child's customLevels (child options), added to its parent's set: as pino, a name or
// a number the parent has already is refused. -> the child's set.
function childLevels (value, parent, { fail }) {
  const own = resolveLevels(value, { fail }, parent.onlyCustom, 'child options.customLevels')
  const custom = {}
  for (const level of parent.custom) custom[level] = parent.values[level]
  for (const level of own.custom) {
    const number = own.values[level]
    if (Object.prototype.hasOwnProperty.call(parent.values, level)) {
      throw new TypeError(`prodkit: option child options.customLevels.${level}: the parent has a level of that name (levels cannot be overridden)`)
    }
    if (Object.prototype.hasOwnProperty.call(parent.labels, number)) {
      throw new TypeError(`prodkit: option child options.customLevels.${level}: the parent's level ${parent.labels[number]} has the number ${number} (pre-existing level values cannot be used for new levels)`)
    }
    custom[level] = number
  }
  return levelSet(custom, parent.onlyCustom)
}

// log.hooks: { logMethod(args, method, level), streamWrite(line) -> line }.
function resolveHooks (value, fail) {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('log.hooks', '{ logMethod, streamWrite }', value)
  for (const key of Object.keys(value)) {
    if (key !== 'logMethod' && key !== 'streamWrite') throw new TypeError(`prodkit: unknown option log.hooks.${key} (known: logMethod, streamWrite)`)
  }
  return {
    logMethod: optionalFunction('log.hooks.logMethod', value.logMethod, fail),
    streamWrite: optionalFunction('log.hooks.streamWrite', value.streamWrite, fail)
  }
}

module.exports = { COMPAT_KNOWN, PINO_NOT_YET, resolveCompat, resolveLevels, resolveFormatters, childLevels }

'use strict'
// pino's options for the shape of a line (name, messageKey, errorKey, nestedKey,
// timestamp, msgPrefix, serializers, formatters, mixin, hooks.logMethod), validated once at creation with errors naming the option. Any
// of them but `name` moves a logger off the fast path onto the general one
// (lib/log/logger.js), so the default logger pays nothing for them. pino options that
// prodkit lacks are listed so that they are refused with a clear error, never ignored.

const time = require('./time')
const { resolveSerializers } = require('./serializers')
const { LEVELS, DEFAULT_SET, levelSet } = require('./levels')

const COMPAT_KNOWN = ['name', 'messageKey', 'errorKey', 'nestedKey', 'timestamp', 'msgPrefix', 'serializers', 'formatters', 'mixin',
  'mixinMergeStrategy', 'hooks', 'customLevels']
const PINO_NOT_YET = ['useOnlyCustomLevels',
  'levelComparison', 'levels', 'depthLimit', 'edgeLimit', 'enabled', 'crlf', 'transport', 'browser',
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
  const logMethod = resolveHooks(options.hooks, fail)
  const compat = messageKey !== 'msg' || errorKey !== 'err' || nestedKey !== undefined || timestamp !== undefined ||
    msgPrefix !== undefined || serializers !== null || formatters !== undefined || mixin !== undefined || logMethod !== undefined ||
    levels.custom.length > 0
  return { name, messageKey, errorKey, nestedKey, timestamp, msgPrefix, serializers, formatters, mixin, mixinMergeStrategy, logMethod, compat }
}

function optionalFunction (name, value, fail) {
  if (value !== undefined && typeof value !== 'function') throw fail(name, 'a function', value)
  return value
}

const FORMATTERS = ['level', 'bindings', 'log']

// log.formatters: { level(label, number), bindings(bindings), log(object) }, each
// returning an object. `level` is called once per level here, at creation.
function resolveFormatters (value, fail, levels) {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('log.formatters', '{ level, bindings, log } functions', value)
  for (const key of Object.keys(value)) {
    if (!FORMATTERS.includes(key)) throw new TypeError(`prodkit: unknown option log.formatters.${key} (known: ${FORMATTERS.join(', ')})`)
    optionalFunction(`log.formatters.${key}`, value[key], fail)
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
        throw new TypeError(`prodkit: option log.formatters.level threw for ${label}: ${err && err.message}`)
      }
      if (typeof out !== 'object' || out === null || Array.isArray(out)) throw fail('log.formatters.level', 'a function returning an object, like { level: label }', out)
      const json = JSON.stringify(out)
      levelTexts[number] = json.slice(0, -1)
    }
  }
  return { levelTexts, bindings: value.bindings, log: value.log }
}

// Names a custom level may not take: the logger's own members.
const RESERVED = ['child', 'flush', 'flushSync', 'reopen', 'close', 'stats', 'on', 'once', 'off', 'level', 'levels',
  'levelVal', 'isLevelEnabled', 'bindings', 'setBindings', 'msgPrefix', 'silent', 'constructor']

// log.customLevels: { name: number } added to the six standard levels (pino's option;
// useOnlyCustomLevels is not supported yet, so the standard methods always exist).
function resolveLevels (value, { fail }) {
  if (value === undefined) return DEFAULT_SET
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('log.customLevels', 'an object of level names and numbers, like { audit: 35 }', value)
  }
  const custom = {}
  for (const [name, number] of Object.entries(value)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(name) || RESERVED.includes(name) || Object.prototype.hasOwnProperty.call(LEVELS, name)) {
      throw new TypeError(`prodkit: option log.customLevels.${name} is not a usable level name (an identifier that is not a standard level or a logger member like ${RESERVED.slice(0, 3).join(', ')})`)
    }
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 2 ** 31 - 1) {
      throw fail(`log.customLevels.${name}`, 'an integer from 1 to 2147483647', number)
    }
    custom[name] = number
  }
  return levelSet(custom)
}

// log.hooks: { logMethod(args, method, level) } (pino's streamWrite is not supported yet).
function resolveHooks (value, fail) {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('log.hooks', '{ logMethod }', value)
  for (const key of Object.keys(value)) {
    if (key === 'streamWrite') throw new TypeError('prodkit: option log.hooks.streamWrite is a pino option that prodkit does not support yet; remove it')
    if (key !== 'logMethod') throw new TypeError(`prodkit: unknown option log.hooks.${key} (known: logMethod)`)
  }
  return optionalFunction('log.hooks.logMethod', value.logMethod, fail)
}

module.exports = { COMPAT_KNOWN, PINO_NOT_YET, resolveCompat, resolveLevels }

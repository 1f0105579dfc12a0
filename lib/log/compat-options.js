'use strict'
// pino's options for the shape of a line (name, messageKey, errorKey, nestedKey,
// timestamp, msgPrefix, serializers), validated once at creation with errors naming the option. Any
// of them but `name` moves a logger off the fast path onto the general one
// (lib/log/logger.js), so the default logger pays nothing for them. pino options that
// prodkit lacks are listed so that they are refused with a clear error, never ignored.

const time = require('./time')
const { resolveSerializers } = require('./serializers')

const COMPAT_KNOWN = ['name', 'messageKey', 'errorKey', 'nestedKey', 'timestamp', 'msgPrefix', 'serializers']
const PINO_NOT_YET = ['formatters', 'mixin', 'mixinMergeStrategy', 'customLevels', 'useOnlyCustomLevels',
  'levelComparison', 'levels', 'hooks', 'depthLimit', 'edgeLimit', 'enabled', 'crlf', 'transport', 'browser',
  'onChild', 'safe', 'levelKey', 'prettyPrint', 'useLevelLabels', 'changeLevelName', 'levelVal']

function checkKey (name, value, fallback, fail) {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '') throw fail(name, 'a non-empty string (a JSON key)', value)
  return value
}

// -> { name, messageKey, errorKey, nestedKey, timestamp, msgPrefix, serializers, compat }: `compat`
// is true when the line differs from the default shape (the general path is needed).
function resolveCompat (options, { fail }) {
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
  const compat = messageKey !== 'msg' || errorKey !== 'err' || nestedKey !== undefined || timestamp !== undefined ||
    msgPrefix !== undefined || serializers !== null
  return { name, messageKey, errorKey, nestedKey, timestamp, msgPrefix, serializers, compat }
}

module.exports = { COMPAT_KNOWN, PINO_NOT_YET, resolveCompat }

'use strict'
// Logger options: validated once, at creation, with errors that name the option and the
// values it accepts. Nothing here runs per log call.

const path = require('node:path')
const { DEFAULT_SET, levelName } = require('./levels')
const { appPackage } = require('../app-package')
const { resolveRedact, resolveEncrypt } = require('./protect-options')
const { resolveRotate, resolveReopenSignal } = require('./rotate-options')
const { resolveShip } = require('../ship/options')
const { COMPAT_KNOWN, PINO_NOT_YET, resolveCompat, resolveLevels } = require('./compat-options')

const DEFAULTS = Object.freeze({
  queueBytes: 8 * 1024 * 1024,
  overflow: 'block',
  maxStringLength: 64 * 1024
})
const KNOWN = ['level', 'destination', 'service', 'base', 'queueBytes', 'overflow', 'maxStringLength',
  'rotate', 'reopenOnSignal', 'redact', 'encrypt', 'ship', ...COMPAT_KNOWN]
const MIN_QUEUE_BYTES = 64 * 1024
const MAX_QUEUE_BYTES = 2 ** 32 - 1

function describe (value) {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'symbol') return value.toString()
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  return String(value)
}

function fail (name, accepted, value) {
  return new TypeError(`prodkit: option ${name} must be ${accepted} (got ${describe(value)})`)
}

function isPlainObject (value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// The default level: LOG_LEVEL when set, else info in production and debug elsewhere.
function defaultLevel (env, levels) {
  if (env.LOG_LEVEL !== undefined && env.LOG_LEVEL !== '') {
    const name = levelName(env.LOG_LEVEL, levels)
    if (name === undefined) throw fail('LOG_LEVEL (environment)', levels.text, env.LOG_LEVEL)
    return name
  }
  return env.NODE_ENV === 'production' ? 'info' : 'debug'
}

// A level as pino takes it ('info', 'INFO', 30) -> its name; a TypeError otherwise.
// `levels`: the logger's set (lib/log/levels.js), with its customLevels.
function checkLevel (name, value, levels = DEFAULT_SET) {
  const level = levelName(value, levels)
  if (level === undefined) throw fail(name, levels.text, value)
  return level
}

// 'stdout' | 'stderr' | a file path | a file descriptor -> the native sink's target.
function destinationOf (value) {
  if (value === undefined || value === 'stdout' || value === 1) return { kind: 'stdout' }
  if (value === 'stderr' || value === 2) return { kind: 'stderr' }
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0x7fffffff) {
    return { kind: 'fd', fd: value }
  }
  if (typeof value === 'string' && value.trim() !== '' && !value.includes('\0')) {
    return { kind: 'file', path: path.resolve(value) }
  }
  throw fail('log.destination', "'stdout', 'stderr', a file path or a file descriptor number", value)
}

function checkInteger (name, value, min, max, fallback) {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fail(name, `an integer from ${min} to ${max}`, value)
  }
  return value
}

// Validates createLogger()/install({ log }) options and fills in the defaults: pino's for
// createLogger() (level info, no service field), so that a pino configuration writes the
// same lines; install()'s own (`installDefaults`): LOG_LEVEL, else info in production and
// debug elsewhere, and the app's package name as `service`.
function resolveOptions (options, env = process.env, installDefaults = false) {
  if (options === undefined || options === null) options = {}
  if (!isPlainObject(options)) throw fail('log', 'an object', options)
  for (const key of Object.keys(options)) {
    if (PINO_NOT_YET.includes(key)) {
      throw new TypeError(`prodkit: option log.${key} is a pino option that prodkit does not support yet (see docs/differences-from-pino.md); remove it`)
    }
    if (!KNOWN.includes(key)) {
      throw new TypeError(`prodkit: unknown option log.${key} (known: ${KNOWN.join(', ')})`)
    }
  }
  const levels = resolveLevels(options.customLevels, { fail }, options.useOnlyCustomLevels)
  const level = options.level !== undefined
    ? checkLevel('log.level', options.level, levels)
    : installDefaults ? defaultLevel(env, levels) : checkLevel('log.level (default info; give a level of log.customLevels)', 'info', levels)
  let service = options.service
  if (service === undefined) service = installDefaults ? appPackage().name : false
  else if (service !== false && (typeof service !== 'string' || service === '')) {
    throw fail('log.service', 'a non-empty string, or false for none', service)
  }
  if (options.base !== undefined && options.base !== null && !isPlainObject(options.base)) {
    throw fail('log.base', 'an object of fields added to every line, or null for no pid and hostname', options.base)
  }
  const overflow = options.overflow === undefined ? DEFAULTS.overflow : options.overflow
  if (overflow !== 'block' && overflow !== 'drop') throw fail('log.overflow', "'block' or 'drop'", overflow)
  const destination = destinationOf(options.destination)
  const compat = resolveCompat(options, { fail }, levels)
  return {
    level: compat.enabled ? level : 'silent', // pino's enabled: false
    destination,
    service: service || undefined,
    base: options.base === null ? null : options.base || {},
    queueBytes: checkInteger('log.queueBytes', options.queueBytes, MIN_QUEUE_BYTES, MAX_QUEUE_BYTES, DEFAULTS.queueBytes),
    overflow,
    maxStringLength: checkInteger('log.maxStringLength', options.maxStringLength, 16, 2 ** 30, DEFAULTS.maxStringLength),
    rotate: resolveRotate(options.rotate, destination, { fail, isPlainObject }),
    reopenOnSignal: resolveReopenSignal(options.reopenOnSignal, destination, { fail }),
    ship: resolveShip(options.ship, destination, { fail, isPlainObject }),
    redact: resolveRedact(options.redact),
    encrypt: resolveEncrypt(options.encrypt, env),
    levels,
    ...compat
  }
}

module.exports = { resolveOptions, checkLevel, fail, isPlainObject, DEFAULTS }

'use strict'
// Validation of log.ship (and of `prodkit ship`'s flags, which take the same values) into
// what the native shipper takes. Checked once at creation, with a TypeError that names the
// option and the values it accepts; the target URL is checked by the native side, whose
// errors name log.ship.to.

const { withUnits, SIZE_UNITS, AGE_UNITS } = require('../log/rotate-options')

const KNOWN = ['to', 'batchBytes', 'flushMs', 'backlogBytes', 'checkMs']
const DEFAULTS = Object.freeze({
  batchBytes: 1024 * 1024,
  flushMs: 1000,
  backlogBytes: 1024 ** 3,
  checkMs: 3000
})
const MAX_BATCH_BYTES = 64 * 1024 * 1024
const MAX_FLUSH_MS = 3_600_000
const URL_SHAPE = /^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i

// log.ship -> { to, batchBytes, flushMs, backlogBytes, checkMs }, or undefined when off.
// `prefix`: how errors name the options ('log.ship', or the CLI's '--').
function resolveShip (ship, destination, { fail, isPlainObject }, prefix = 'log.ship') {
  if (ship === undefined || ship === false) return undefined
  const name = (key) => prefix === '--' ? `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}` : `${prefix}.${key}`
  if (!isPlainObject(ship)) {
    throw fail(prefix, "an object such as { to: 'syslog+tcp://logs.internal:514' }, or false", ship)
  }
  for (const key of Object.keys(ship)) {
    if (!KNOWN.includes(key)) throw new TypeError(`prodkit: unknown option ${name(key)} (known: ${KNOWN.join(', ')})`)
  }
  if (destination && destination.kind !== 'file') {
    throw new TypeError(`prodkit: option ${prefix} needs log.destination to be a file path: the file is what is shipped (got '${destination.kind}')`)
  }
  if (typeof ship.to !== 'string' || !URL_SHAPE.test(ship.to)) {
    throw fail(name('to'), "a target URL such as 'syslog+tcp://logs.internal:514'", ship.to === undefined ? undefined : redactUrl(ship.to))
  }
  const size = (key, min, max) => {
    if (ship[key] === undefined) return DEFAULTS[key]
    const n = withUnits(ship[key], SIZE_UNITS, { unitRequired: false })
    if (n === undefined || n < min || n > max) {
      throw fail(name(key), `a size from ${min} to ${max} bytes, such as '1MiB' or 65536`, ship[key])
    }
    return n
  }
  const ms = (key, min, max) => {
    if (ship[key] === undefined) return DEFAULTS[key]
    const n = ship[key] === 0 ? 0 : withUnits(ship[key], AGE_UNITS, { unitRequired: false })
    if (n === undefined || n < min || n > max) {
      throw fail(name(key), `a duration from ${min} to ${max} ms, such as '2s' or 500`, ship[key])
    }
    return n
  }
  return {
    to: ship.to,
    batchBytes: size('batchBytes', 1024, MAX_BATCH_BYTES),
    flushMs: ms('flushMs', 0, MAX_FLUSH_MS),
    backlogBytes: size('backlogBytes', 0, Number.MAX_SAFE_INTEGER),
    checkMs: ms('checkMs', 1, 60_000)
  }
}

// A URL for messages: without user:password@.
function redactUrl (url) {
  return typeof url === 'string' ? url.replace(/\/\/[^/@\s]*@/, '//') : url
}

module.exports = { resolveShip, redactUrl, DEFAULTS }

'use strict'
// Validation of the file-rotation options, log.rotate and log.reopenOnSignal, into what
// the native sink takes. Like every option, checked once at creation with a TypeError that
// names the option and the values it accepts.

const KNOWN = ['size', 'interval', 'keep', 'maxAge', 'compress']
// Decimal and binary units, as people write them ('100MB', '1GiB'); case does not matter.
const SIZE_UNITS = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40
}
const AGE_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
const INTERVALS = { hourly: 3_600_000, daily: 86_400_000 }
const MIN_INTERVAL_MS = 1000
const MAX_KEEP = 100_000
// Signals an app may give to reopen: SIGUSR1 is Node's debugger signal, so not that one.
const REOPEN_SIGNALS = ['SIGHUP', 'SIGUSR2']

// A positive integer from a number or a '<number><unit>' string; undefined if neither.
// Without `unitRequired`, a string of digits alone counts in the base unit.
function withUnits (value, units, { unitRequired }) {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 1 ? value : undefined
  }
  if (typeof value !== 'string') return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  if (!match) return undefined
  const unit = match[2].toLowerCase()
  if (unit === '' ? unitRequired : !Object.hasOwn(units, unit)) return undefined
  const n = Math.floor(Number(match[1]) * (unit === '' ? 1 : units[unit]))
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined
}

function describeDestination (destination) {
  return destination.kind === 'fd' ? `file descriptor ${destination.fd}` : `'${destination.kind}'`
}

// log.rotate -> the native sink's rotate options, or undefined when off.
function resolveRotate (rotate, destination, { fail, isPlainObject }) {
  if (rotate === undefined || rotate === false) return undefined
  if (!isPlainObject(rotate)) {
    throw fail('log.rotate', 'an object such as { size: \'100MB\', interval: \'daily\', keep: 14 }, or false', rotate)
  }
  for (const key of Object.keys(rotate)) {
    if (!KNOWN.includes(key)) {
      throw new TypeError(`prodkit: unknown option log.rotate.${key} (known: ${KNOWN.join(', ')})`)
    }
  }
  if (destination.kind !== 'file') {
    throw new TypeError(`prodkit: option log.rotate needs log.destination to be a file path (got ${describeDestination(destination)})`)
  }
  const native = { compress: true }
  if (rotate.size !== undefined) {
    native.sizeBytes = withUnits(rotate.size, SIZE_UNITS, { unitRequired: false })
    if (native.sizeBytes === undefined) {
      throw fail('log.rotate.size', "a size such as '100MB', '512KiB', '1GiB' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB) or a positive integer of bytes", rotate.size)
    }
  }
  if (rotate.interval !== undefined) {
    native.intervalMs = Object.hasOwn(INTERVALS, rotate.interval)
      ? INTERVALS[rotate.interval]
      : (Number.isSafeInteger(rotate.interval) && rotate.interval >= MIN_INTERVAL_MS ? rotate.interval : undefined)
    if (native.intervalMs === undefined) {
      throw fail('log.rotate.interval', `'hourly', 'daily' or an integer of milliseconds from ${MIN_INTERVAL_MS}`, rotate.interval)
    }
  }
  if (native.sizeBytes === undefined && native.intervalMs === undefined) {
    throw new TypeError('prodkit: option log.rotate needs size and/or interval (e.g. { size: \'100MB\' } or { interval: \'daily\' })')
  }
  if (rotate.keep !== undefined) {
    if (!Number.isInteger(rotate.keep) || rotate.keep < 1 || rotate.keep > MAX_KEEP) {
      throw fail('log.rotate.keep', `an integer from 1 to ${MAX_KEEP} (rotated files kept)`, rotate.keep)
    }
    native.keep = rotate.keep
  }
  if (rotate.maxAge !== undefined) {
    native.maxAgeMs = withUnits(rotate.maxAge, AGE_UNITS, { unitRequired: true })
    if (native.maxAgeMs === undefined) {
      throw fail('log.rotate.maxAge', "an age such as '14d', '12h', '30m' (ms, s, m, h, d, w) or a positive integer of milliseconds", rotate.maxAge)
    }
  }
  if (rotate.compress !== undefined) {
    if (typeof rotate.compress !== 'boolean') throw fail('log.rotate.compress', 'true or false', rotate.compress)
    native.compress = rotate.compress
  }
  return native
}

// log.reopenOnSignal -> a signal name, or undefined when off.
function resolveReopenSignal (signal, destination, { fail }) {
  if (signal === undefined || signal === false) return undefined
  if (!REOPEN_SIGNALS.includes(signal)) {
    throw fail('log.reopenOnSignal', `${REOPEN_SIGNALS.map((s) => `'${s}'`).join(' or ')}, or false`, signal)
  }
  if (destination.kind !== 'file') {
    throw new TypeError(`prodkit: option log.reopenOnSignal needs log.destination to be a file path (got ${describeDestination(destination)})`)
  }
  return signal
}

module.exports = { resolveRotate, resolveReopenSignal, withUnits, SIZE_UNITS, AGE_UNITS }

'use strict'
// pino's stdTimeFunctions: each returns the `time` field's JSON fragment (`,"time":...`),
// or '' for none, and is given as the `timestamp` option. The same functions as pino's,
// so that a pino configuration that uses them writes the same lines.

const nullTime = () => ''

const epochTime = () => `,"time":${Date.now()}`

const unixTime = () => `,"time":${Math.round(Date.now() / 1000.0)}`

const isoTime = () => `,"time":"${new Date(Date.now()).toISOString()}"`

const NS_PER_MS = 1_000_000n
const NS_PER_SEC = 1_000_000_000n
const startWallTimeNs = BigInt(Date.now()) * NS_PER_MS
const startHrTime = process.hrtime.bigint()

// ISO 8601 with nanoseconds, from the monotonic clock since load (as pino's).
const isoTimeNano = () => {
  const currentTimeNs = startWallTimeNs + (process.hrtime.bigint() - startHrTime)
  const nanos = currentTimeNs % NS_PER_SEC
  const date = new Date(Number(currentTimeNs / NS_PER_MS))
  return `,"time":"${date.toISOString().slice(0, 19)}.${nanos.toString().padStart(9, '0')}Z"`
}

const stdTimeFunctions = Object.freeze({ nullTime, epochTime, unixTime, isoTime, isoTimeNano })

module.exports = { nullTime, epochTime, unixTime, isoTime, isoTimeNano, stdTimeFunctions }

'use strict'
// pino's numeric levels, so that pino's tools (pino-pretty, transports) read prodkit lines.

const LEVELS = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 })
const LEVEL_NAMES = Object.freeze(Object.keys(LEVELS))
const SILENT = Infinity
const ACCEPTED = [...LEVEL_NAMES, 'silent']

// The numeric threshold of a level name, or undefined when the name is not a level.
function levelValue (name) {
  if (name === 'silent') return SILENT
  return Object.prototype.hasOwnProperty.call(LEVELS, name) ? LEVELS[name] : undefined
}

module.exports = { LEVELS, LEVEL_NAMES, ACCEPTED, SILENT, levelValue }

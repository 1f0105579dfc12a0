'use strict'
// pino's numeric levels, so that pino's tools (pino-pretty, transports) read prodkit lines.
// A level is given as pino takes it: a name in any case ('info', 'INFO') or its number (30).

const LEVELS = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 })
const LEVEL_NAMES = Object.freeze(Object.keys(LEVELS))
const SILENT = Infinity
const ACCEPTED = [...LEVEL_NAMES, 'silent']
const ACCEPTED_TEXT = `one of ${ACCEPTED.join(', ')} (any case) or a level number (${LEVEL_NAMES.map((n) => LEVELS[n]).join(', ')})`
// pino's logger.levels: { labels: { 10: 'trace', ... }, values: { trace: 10, ... } }.
const LABELS = Object.freeze(Object.fromEntries(LEVEL_NAMES.map((n) => [LEVELS[n], n])))
const PINO_LEVELS = Object.freeze({ labels: LABELS, values: LEVELS })

// The numeric threshold of a level name, or undefined when the name is not a level.
function levelValue (name) {
  if (name === 'silent') return SILENT
  return Object.prototype.hasOwnProperty.call(LEVELS, name) ? LEVELS[name] : undefined
}

// The level name of a level given as pino takes it, or undefined when it is none.
function levelName (value) {
  if (typeof value === 'string') {
    const name = value.toLowerCase()
    return levelValue(name) === undefined ? undefined : name
  }
  if (typeof value === 'number') {
    if (value === SILENT) return 'silent'
    return Object.prototype.hasOwnProperty.call(LABELS, value) ? LABELS[value] : undefined
  }
  return undefined
}

module.exports = { LEVELS, LEVEL_NAMES, ACCEPTED, ACCEPTED_TEXT, PINO_LEVELS, SILENT, levelValue, levelName }

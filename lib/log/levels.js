'use strict'
// pino's numeric levels, so that pino's tools (pino-pretty, transports) read prodkit lines.
// A level is given as pino takes it: a name in any case ('info', 'INFO') or its number
// (30). A logger's set of levels is the six standard ones plus its customLevels.

const LEVELS = Object.freeze({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 })
const LEVEL_NAMES = Object.freeze(Object.keys(LEVELS))
const SILENT = Infinity
const ACCEPTED = [...LEVEL_NAMES, 'silent']
const hasOwn = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key)

// A set of levels: values (name -> number), labels (number -> name; a standard name
// keeps its number), names (the log methods), pino's { labels, values } and the text
// errors use to say what a level may be. `onlyCustom` (pino's useOnlyCustomLevels): the
// custom levels without the standard six.
function levelSet (custom = {}, onlyCustom = false) {
  const values = Object.freeze(onlyCustom ? { ...custom } : { ...LEVELS, ...custom })
  const labels = {}
  for (const [name, value] of Object.entries(values)) if (!hasOwn(labels, value)) labels[value] = name
  Object.freeze(labels)
  const names = Object.freeze(Object.keys(values))
  const numbers = [...new Set(Object.values(values))].sort((a, b) => a - b)
  const anyCase = onlyCustom ? '(as named)' : names.length === LEVEL_NAMES.length ? '(any case)' : '(the standard ones in any case)'
  const text = `one of ${[...names, 'silent'].join(', ')} ${anyCase} or a level number (${numbers.join(', ')})`
  return Object.freeze({ values, labels, names, custom: Object.freeze(Object.keys(custom)), onlyCustom, pino: Object.freeze({ labels, values }), text })
}

const DEFAULT_SET = levelSet()
const ACCEPTED_TEXT = DEFAULT_SET.text
const PINO_LEVELS = DEFAULT_SET.pino

// The numeric threshold of a level name, or undefined when the name is not a level.
function levelValue (name, set = DEFAULT_SET) {
  if (name === 'silent') return SILENT
  return typeof name === 'string' && hasOwn(set.values, name) ? set.values[name] : undefined
}

// The level name of a level given as pino takes it, or undefined when it is none.
function levelName (value, set = DEFAULT_SET) {
  if (typeof value === 'string') {
    if (hasOwn(set.values, value)) return value
    const lower = value.toLowerCase()
    if (lower === 'silent' || (hasOwn(LEVELS, lower) && hasOwn(set.values, lower))) return lower
    return undefined
  }
  if (typeof value === 'number') {
    if (value === SILENT) return 'silent'
    return hasOwn(set.labels, value) ? set.labels[value] : undefined
  }
  return undefined
}

module.exports = { LEVELS, LEVEL_NAMES, ACCEPTED, ACCEPTED_TEXT, PINO_LEVELS, DEFAULT_SET, SILENT, levelSet, levelValue, levelName }

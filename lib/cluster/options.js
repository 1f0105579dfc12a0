'use strict'
// prodkit.cluster() options: validated once, before anything is forked, with TypeErrors
// that name the option and what it accepts (as lib/log/options.js does for the logger).

const fs = require('node:fs')
const path = require('node:path')
const { fail, isPlainObject } = require('../log/options')

const DEFAULTS = Object.freeze({
  workers: 'auto',
  readyTimeoutMs: 30_000,
  waitReady: false,
  drainTimeoutMs: 10_000,
  restart: Object.freeze({ baseMs: 100, factor: 2, maxMs: 30_000, stableMs: 30_000 }),
  crashLoop: Object.freeze({ crashes: 10, windowMs: 60_000 }),
  memoryLimit: undefined,
  memoryCheckMs: 5_000
})
const KNOWN = ['workers', 'start', 'readyTimeoutMs', 'waitReady', 'drainTimeoutMs', 'restart', 'crashLoop',
  'memoryLimit', 'memoryCheckMs', 'args', 'install', 'control']
const MIN_MEMORY = 16 * 1024 * 1024
const UNITS = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }

// The names errors give the options: the API's own by default; the CLI passes its flags
// (`--workers`), so that `prodkit run app.js --workers many` is not told about `workers`.
let names = {}

function label (name) {
  return names[name] || `option ${name}`
}

function bad (name, accepted, value) {
  return new TypeError(fail(name, accepted, value).message.replace(`option ${name} `, `${label(name)} `))
}

function checkKeys (prefix, value, known) {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new TypeError(`prodkit: unknown option ${prefix}${key} (known: ${known.join(', ')})`)
  }
}

function integer (name, value, min, max, fallback) {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(name, `an integer from ${min} to ${max}`, value)
  }
  return value
}

// A byte count: an integer, or a string such as '512MB' or '1.5GiB' (units of 1024, as
// PM2's max_memory_restart and most people reading "MB" in a config file mean).
function parseBytes (name, value) {
  let bytes = value
  if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(value)
    bytes = match ? Math.floor(Number(match[1]) * UNITS[(match[2] || 'b').toLowerCase()]) : NaN
  }
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < MIN_MEMORY) {
    throw bad(name, "a byte count of at least 16 MiB: an integer or a string such as '512MB'", value)
  }
  return bytes
}

// `start`: a function (the entry file runs again in each worker and calls it) or the path
// of a module that each worker runs as its main module.
function resolveStart (value, cwd) {
  if (typeof value === 'function') return { fn: value }
  if (typeof value === 'string' && value.trim() !== '' && !value.includes('\0')) {
    const file = path.resolve(cwd, value)
    let found
    try {
      found = require.resolve(file)
    } catch {}
    if (found && fs.statSync(found).isFile()) return { file: found }
    throw new TypeError(`prodkit: ${label('start')} must be ${names.start ? 'the path of a module' : 'a function or the path of a module'} (no module at ${JSON.stringify(file)})`)
  }
  throw bad('start', 'a function or the path of a module', value)
}

function section (name, value, defaults) {
  if (value === undefined) return { ...defaults }
  if (!isPlainObject(value)) throw fail(name, 'an object', value)
  checkKeys(`${name}.`, value, Object.keys(defaults))
  return { ...defaults, ...Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) }
}

// `optionNames`: { workers: '--workers', ... } for the CLI (see lib/cli/run.js).
function resolveClusterOptions (options, { cwd = process.cwd(), optionNames = {} } = {}) {
  names = optionNames
  try {
    return resolve(options, cwd)
  } finally {
    names = {}
  }
}

function resolve (options, cwd) {
  if (!isPlainObject(options)) throw fail('cluster(options)', 'an object with at least `start`', options)
  checkKeys('', options, KNOWN)
  if (options.start === undefined) throw bad('start', 'a function or the path of a module', undefined)
  const start = resolveStart(options.start, cwd)

  let workers = options.workers === undefined ? DEFAULTS.workers : options.workers
  if (workers !== 'auto') {
    if (names.workers) {
      if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1 || workers > 1024) throw bad('workers', 'auto or an integer from 1 to 1024', workers)
    } else {
      workers = integer('workers', workers, 1, 1024)
    }
  }

  const restart = section('restart', options.restart, DEFAULTS.restart)
  integer('restart.baseMs', restart.baseMs, 0, 3_600_000)
  integer('restart.maxMs', restart.maxMs, restart.baseMs, 3_600_000)
  integer('restart.stableMs', restart.stableMs, 0, 86_400_000)
  if (typeof restart.factor !== 'number' || !Number.isFinite(restart.factor) || restart.factor < 1 || restart.factor > 100) {
    throw fail('restart.factor', 'a number from 1 to 100', restart.factor)
  }

  let crashLoop = false
  if (options.crashLoop !== false) {
    crashLoop = section('crashLoop', options.crashLoop, DEFAULTS.crashLoop)
    integer('crashLoop.crashes', crashLoop.crashes, 1, 1_000_000)
    integer('crashLoop.windowMs', crashLoop.windowMs, 1, 86_400_000)
  }

  if (options.waitReady !== undefined && typeof options.waitReady !== 'boolean') throw bad('waitReady', 'true or false', options.waitReady)
  const args = options.args === undefined ? [] : options.args
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string' && !a.includes('\0'))) {
    throw bad('args', 'an array of strings', options.args)
  }
  if (options.install !== undefined && !isPlainObject(options.install)) throw fail('install', 'an object (the options of install())', options.install)

  let control = { name: undefined, dir: undefined }
  if (options.control === false) control = false
  else if (options.control !== undefined) {
    if (!isPlainObject(options.control)) throw fail('control', 'false, or an object { name, dir }', options.control)
    checkKeys('control.', options.control, ['name', 'dir'])
    for (const key of ['name', 'dir']) {
      const value = options.control[key]
      if (value !== undefined && (typeof value !== 'string' || value.trim() === '' || value.includes('\0'))) throw bad(`control.${key}`, 'a non-empty string', value)
    }
    control = { name: options.control.name, dir: options.control.dir }
  }

  return {
    start,
    workers,
    control,
    readyTimeoutMs: integer('readyTimeoutMs', options.readyTimeoutMs, 1, 3_600_000, DEFAULTS.readyTimeoutMs),
    waitReady: options.waitReady === true,
    drainTimeoutMs: integer('drainTimeoutMs', options.drainTimeoutMs, 1, 3_600_000, DEFAULTS.drainTimeoutMs),
    restart,
    crashLoop,
    memoryLimit: options.memoryLimit === undefined ? undefined : parseBytes('memoryLimit', options.memoryLimit),
    memoryCheckMs: integer('memoryCheckMs', options.memoryCheckMs, 10, 3_600_000, DEFAULTS.memoryCheckMs),
    args,
    install: options.install
  }
}

module.exports = { resolveClusterOptions, parseBytes, DEFAULTS }

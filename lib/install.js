'use strict'
// install(): the one line an app adds first. Creates the logger, logs a startup line,
// captures crashes (log fatal, flush, shutdown hooks under time limits, exit non-zero),
// shuts down gracefully on SIGTERM/SIGINT, logs process warnings, and starts the
// event-loop watchdog. Idempotent.

const { createLogger, coreOf } = require('./log/logger')
const { fail, isPlainObject } = require('./log/options')
const { appPackage } = require('./app-package')
const { Shutdown } = require('./process/shutdown')
const { installHandlers } = require('./process/handlers')
const { LoopWatchdog } = require('./process/watchdog')
const { createMetrics, resolveMetricsOptions } = require('./metrics')
const { version: prodkitVersion } = require('../package.json')

const DEFAULTS = Object.freeze({
  exceptions: { exitCode: 1, shutdownTimeoutMs: 5000, unhandledRejection: 'exit' },
  watchdog: { blockedMs: 5000, abortAfterMs: undefined }
})
const KNOWN = ['service', 'log', 'metrics', 'exceptions', 'signals', 'watchdog', 'productionWarning']

function checkKeys (name, value, known) {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new TypeError(`prodkit: unknown option ${name}${key} (known: ${known.join(', ')})`)
  }
}

function checkInteger (name, value, min, max) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fail(name, `an integer from ${min} to ${max}`, value)
  }
  return value
}

// An option that is an object of settings, or false to turn the feature off.
function section (name, value, defaults, known) {
  if (value === false) return false
  if (value === undefined || value === true) return { ...defaults }
  if (!isPlainObject(value)) throw fail(name, 'an object, or false to turn it off', value)
  checkKeys(`${name}.`, value, known)
  return { ...defaults, ...Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) }
}

function resolveInstallOptions (options) {
  if (options === undefined || options === null) options = {}
  if (!isPlainObject(options)) throw fail('install(options)', 'an object', options)
  checkKeys('', options, KNOWN)
  if (options.log !== undefined && !isPlainObject(options.log)) throw fail('log', 'an object', options.log)
  if (options.service !== undefined && (typeof options.service !== 'string' || options.service === '')) {
    throw fail('service', 'a non-empty string', options.service)
  }
  const exceptions = section('exceptions', options.exceptions, DEFAULTS.exceptions, ['exitCode', 'shutdownTimeoutMs', 'unhandledRejection'])
  if (exceptions) {
    checkInteger('exceptions.exitCode', exceptions.exitCode, 1, 255)
    checkInteger('exceptions.shutdownTimeoutMs', exceptions.shutdownTimeoutMs, 1, 600_000)
    if (exceptions.unhandledRejection !== 'exit' && exceptions.unhandledRejection !== 'warn') {
      throw fail('exceptions.unhandledRejection', "'exit' or 'warn'", exceptions.unhandledRejection)
    }
  }
  const watchdog = section('watchdog', options.watchdog, DEFAULTS.watchdog, ['blockedMs', 'abortAfterMs'])
  if (watchdog) {
    checkInteger('watchdog.blockedMs', watchdog.blockedMs, 20, 3_600_000)
    if (watchdog.abortAfterMs !== undefined) {
      checkInteger('watchdog.abortAfterMs', watchdog.abortAfterMs, watchdog.blockedMs, 3_600_000)
    }
  }
  // Validated here, before anything starts, so that bad options leave nothing behind.
  if (options.metrics !== false) resolveMetricsOptions(options.metrics)
  for (const flag of ['signals', 'productionWarning']) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw fail(flag, 'true or false', options[flag])
  }
  return {
    log: { ...options.log, ...(options.service !== undefined && (!options.log || options.log.service === undefined) ? { service: options.service } : {}) },
    exceptions,
    watchdog,
    metrics: options.metrics === false ? false : options.metrics,
    signals: options.signals !== false,
    productionWarning: options.productionWarning !== false,
    // Shutdown needs a limit even when crash capture is off (SIGTERM, shutdown()).
    shutdownTimeoutMs: exceptions ? exceptions.shutdownTimeoutMs : DEFAULTS.exceptions.shutdownTimeoutMs
  }
}

function logStartup (log, productionWarning) {
  const nodeEnv = process.env.NODE_ENV
  log.info({
    appVersion: appPackage().version,
    prodkitVersion,
    nodeVersion: process.version,
    nodeEnv: nodeEnv === undefined ? null : nodeEnv
  }, 'prodkit installed')
  if (productionWarning && nodeEnv !== 'production') {
    log.warn({ nodeEnv: nodeEnv === undefined ? null : nodeEnv },
      `NODE_ENV is ${nodeEnv === undefined ? 'not set' : JSON.stringify(nodeEnv)}, not "production": Express and many ` +
      'other modules run much slower and show more detail to users outside production. Set NODE_ENV=production ' +
      'in production (install({ productionWarning: false }) silences this line).')
  }
}

// The option paths where two install() calls differ ('service', 'log.level'), values
// never shown (a key may be among them). Functions (serializers, hooks) and other
// non-plain values are the same only when they are the same object.
function differences (a, b, prefix = '', out = []) {
  if (Object.is(a, b)) return out
  if (literal(a) && literal(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (a[key] === undefined && b[key] === undefined) continue
      differences(a[key], b[key], `${prefix}${key}.`, out)
    }
  } else if (Array.isArray(a) && Array.isArray(b)) {
    // A list (redact paths, encrypt paths) differs as a whole.
    if (a.length !== b.length || a.some((value, i) => differences(value, b[i]).length > 0)) out.push(prefix.slice(0, -1))
  } else if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) {
    if (!a.equals(b)) out.push(prefix.slice(0, -1))
  } else if (!Object.is(a, b)) {
    out.push(prefix.slice(0, -1) || '(all)')
  }
  return out
}

// An object written as a literal (compared key by key); a stream, a logger or any other
// instance is compared by identity (and never walked: it may hold cycles).
function literal (value) {
  if (!isPlainObject(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

const IGNORED_CODE = 'PRODKIT_INSTALL_OPTIONS_IGNORED'

// A later install() returns the first kit and registers nothing again. Its options are
// ignored, which is fine when they are the same (a library and the app both call it) and
// a surprise when not: say so once per kit, as a process warning with a code (logged at
// warn by the kit's own 'warning' listener, and printed by Node unless --no-warnings).
function repeatedInstall (kit, options) {
  const state = kit[kInstall]
  if (!state || state.warned) return
  const given = options === undefined || options === null ? {} : options
  const ignored = differences(state.options, given)
  if (ignored.length === 0) return
  state.warned = true
  process.emitWarning(`install() was called again with other options (${ignored.join(', ')}): they are ignored, ` +
    'the options of the first call stay in force (call kit.close() first to install again)', { type: 'ProdkitWarning', code: IGNORED_CODE })
}

const kInstall = Symbol('prodkit.install')

// Builds the kit. `onClose` lets the caller forget it, so that install() can run again.
function createKit (options, onClose) {
  const resolved = resolveInstallOptions(options)
  const log = createLogger(resolved.log, true)
  const shutdown = new Shutdown({ log, timeoutMs: resolved.shutdownTimeoutMs })
  const handlers = installHandlers({ log, shutdown, exceptions: resolved.exceptions, signals: resolved.signals })
  let watchdog = null
  let metrics = null
  try {
    if (resolved.watchdog) watchdog = new LoopWatchdog(coreOf(log).sink, resolved.watchdog)
    if (resolved.metrics !== false) metrics = createMetrics(resolved.metrics, { log })
  } catch (err) {
    handlers.remove()
    if (watchdog) watchdog.stop()
    log.close()
    throw err
  }
  logStartup(log, resolved.productionWarning)

  let closed = false
  const kit = {
    log,
    // Counters, gauges, histograms, timers; snapshot() and prometheus() (lib/metrics).
    metrics,
    // Runs fn at shutdown (crash, SIGTERM/SIGINT, kit.shutdown()), after the hooks added
    // before it, within its own limit (default: exceptions.shutdownTimeoutMs).
    onShutdown (fn, hookOptions = {}) {
      if (typeof fn !== 'function') throw fail('onShutdown(fn)', 'a function', fn)
      if (!isPlainObject(hookOptions)) throw fail('onShutdown(fn, options)', 'an object', hookOptions)
      checkKeys('onShutdown options.', hookOptions, ['name', 'timeoutMs'])
      if (hookOptions.timeoutMs !== undefined) checkInteger('onShutdown options.timeoutMs', hookOptions.timeoutMs, 1, 600_000)
      if (hookOptions.name !== undefined && typeof hookOptions.name !== 'string') throw fail('onShutdown options.name', 'a string', hookOptions.name)
      shutdown.add(fn, hookOptions)
    },
    // Graceful shutdown, as on SIGTERM: hooks, flush, exit with exitCode (default 0).
    shutdown (reason = 'shutdown requested', { exitCode = 0 } = {}) {
      checkInteger('shutdown(reason, options).exitCode', exitCode, 0, 255)
      if (!shutdown.inProgress) log.info({ reason: String(reason) }, `shutting down: ${reason}`)
      return shutdown.run(exitCode)
    },
    flush: (cb) => log.flush(cb),
    flushSync: () => log.flushSync(),
    // Undoes install() without exiting: listeners off, watchdog stopped, log closed.
    close () {
      if (closed) return
      closed = true
      handlers.remove()
      if (watchdog) watchdog.stop()
      if (metrics) metrics.close()
      log.close()
      onClose()
    }
  }
  Object.defineProperty(kit, kInstall, { value: { options: options === undefined || options === null ? {} : options, warned: false } })
  return kit
}

module.exports = { createKit, resolveInstallOptions, repeatedInstall, IGNORED_CODE }

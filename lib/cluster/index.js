'use strict'
// prodkit.cluster(): one call that is the primary in the primary and the app in each
// worker. In the primary it installs prodkit (logger, crash capture, signals), forks the
// workers and returns a handle; in a worker it runs `start`.

const nodeCluster = require('node:cluster')
const path = require('node:path')
const { resolveClusterOptions } = require('./options')
const { usableCpus } = require('./cpus')
const { Primary } = require('./primary')
const { processState } = require('./state')
const { startRuntime } = require('./worker')
const { runtimeDir } = require('./control-path')
const { appPackage, packageAbove } = require('../app-package')

// The primary's shutdown (SIGTERM, SIGINT, crash loop) drains the workers: its limit
// must leave them drainTimeoutMs, whatever install()'s default is.
function primaryInstallOptions (options) {
  const given = options.install || {}
  if (given.exceptions === false || (given.exceptions && given.exceptions.shutdownTimeoutMs !== undefined)) return given
  const exceptions = typeof given.exceptions === 'object' && given.exceptions !== null ? given.exceptions : {}
  return { ...given, exceptions: { ...exceptions, shutdownTimeoutMs: options.drainTimeoutMs + 2_000 } }
}

function runStart (start) {
  if (start.fn) {
    const result = start.fn()
    // A start that fails is a worker that cannot run: crash it, whatever the app's
    // unhandled-rejection policy is, so that the primary's backoff and crash loop apply.
    if (result && typeof result.then === 'function') result.then(null, (err) => process.nextTick(() => { throw err }))
    return
  }
  require(start.file)
}

// The control socket's name: the one given, else the app's package.json name (the one
// above the start module, else above the main module or the working folder), else the
// start file's name. Its folder: the one given, else $PRODKIT_RUNTIME_DIR, else the
// runtime folder (control-path.js).
function controlOptions ({ control, start }) {
  if (!control) return false
  const pkg = start.file ? packageAbove(path.dirname(start.file)) : appPackage()
  const fallback = path.basename(start.file || process.argv[1] || 'app').replace(/\.[cm]?js$/, '')
  return {
    name: control.name || pkg.name || fallback,
    version: pkg.version,
    dir: control.dir ? path.resolve(control.dir) : runtimeDir()
  }
}

// `optionNames`: what errors call the options (the CLI passes its flags).
function cluster (options, install, { optionNames } = {}) {
  const resolved = resolveClusterOptions(options, { optionNames })
  if (nodeCluster.isWorker) {
    startRuntime() // already running when forked by prodkit (preload); a no-op elsewhere
    runStart(resolved.start)
    return null
  }
  const state = processState()
  if (state.primary) throw new Error('prodkit: cluster() was already called in this process')
  if (resolved.start.fn && !process.argv[1]) {
    // The workers run the primary's entry file again; `node -e` and the REPL have none.
    throw new TypeError('prodkit: option start must be the path of a module when the primary does not run from a file (node -e, the REPL)')
  }
  resolved.control = controlOptions(resolved)
  const kit = install(primaryInstallOptions(resolved))
  const workers = resolved.workers === 'auto' ? usableCpus() : resolved.workers
  const primary = new Primary({ ...resolved, workers }, kit)
  state.primary = primary
  kit.onShutdown(() => primary.stop(), { name: 'cluster workers', timeoutMs: resolved.drainTimeoutMs + 1_000 })
  primary.start()
  return {
    ready: primary.ready,
    reload: () => primary.reload(),
    stop: () => primary.stop(),
    scale: (workers) => primary.scale(workers),
    status: () => primary.status(),
    get workers () {
      return primary.list()
    }
  }
}

module.exports = { cluster }

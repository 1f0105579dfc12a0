'use strict'
// The side of the cluster that runs in each worker a prodkit primary forked. preload.js
// starts it with `--require`, before the app's first line, so that every server the app
// creates is tracked from its listen() on and drained when the primary asks.
//
// A worker shuts down one way, whatever asked (the primary, SIGTERM, SIGINT): its servers
// drain first (see graceful.js), then the app's shutdown hooks run if it called install(),
// its log lines are written, and it exits 0. The primary kills it if that takes longer
// than drainTimeoutMs.
//
// It also answers the primary's questions (its figures for prodkit status, stats.js), and
// ignores SIGHUP, which is the primary's to act on.

const cluster = require('node:cluster')
const dc = require('node:diagnostics_channel')
const { processState } = require('./state')
const { track, drainAll } = require('./graceful')
const messages = require('./messages')
const { notify } = require('../systemd/notify')
const { ProcessStats } = require('./stats')

// Connections still open at this share of drainTimeoutMs are closed; the rest of the
// time is for the app's shutdown hooks and the last log lines.
const DRAIN_SHARE = 0.8
// Outside a managed worker (a single process that uses graceful() with install()).
const STANDALONE_DRAIN_MS = 5_000

function drainTimeoutMs () {
  const runtime = processState().runtime
  return runtime ? Math.max(1, Math.floor(runtime.drainTimeoutMs * DRAIN_SHARE)) : STANDALONE_DRAIN_MS
}

// The configuration the primary put in the environment, or null when this process is not
// a worker of a prodkit primary.
function managedConfig (env = process.env) {
  if (!cluster.isWorker || !env.PRODKIT_CLUSTER) return null
  try {
    const config = JSON.parse(env.PRODKIT_CLUSTER)
    return Number.isInteger(config.drainTimeoutMs) ? config : null
  } catch {
    return null
  }
}

function shutdownWorker (reason) {
  const state = processState()
  if (state.kit) return state.kit.shutdown(reason) // drains first: the hook of attachKit()
  return drainAll({ timeoutMs: drainTimeoutMs() }).then(() => process.exit(0))
}

function watchMemory ({ memoryLimit, memoryCheckMs }) {
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss()
    // The primary decides (one replacement at a time) and ignores repeats.
    if (rss > memoryLimit) messages.send(process, { prodkit: messages.MEMORY, rss, limit: memoryLimit })
  }, memoryCheckMs)
  timer.unref()
}

function startRuntime () {
  const state = processState()
  const config = managedConfig()
  if (state.runtime || !config) return false
  state.runtime = config
  // Every server the app creates from now on: http, https, Express, raw net servers.
  dc.subscribe('tracing:net.server.listen:asyncStart', ({ server }) => track(server))
  const stats = new ProcessStats()
  process.on('message', (message) => {
    if (messages.isMessage(message, messages.DRAIN)) shutdownWorker('the primary asked this worker to drain')
    else if (messages.isMessage(message, messages.STATS)) {
      messages.send(process, { prodkit: messages.STATS_REPLY, id: message.id, stats: stats.snapshot() })
    }
  })
  // SIGHUP sent to every process of the unit (`systemctl kill -s HUP`, a closing terminal)
  // is the primary's to act on (it reloads the workers one at a time, and reopens its log
  // when asked to); its default action would end this worker mid-request. A logger of the
  // app with reopenOnSignal: 'SIGHUP' still reopens its file: that is its own listener.
  process.on('SIGHUP', () => {})
  // With install(), its own listeners shut down (and drain) on these signals. Without it,
  // the default would kill the worker mid-request: a Ctrl-C in a terminal reaches every
  // process of the group, and the primary drains the workers anyway.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      if (!state.kit) shutdownWorker(`${signal} received`)
    })
  }
  if (config.memoryLimit) watchMemory(config)
  return true
}

// prodkit.ready(): in a worker, tells the primary that this worker can take work (it
// counts as ready without listening, or, with waitReady, only then). In a process
// started by systemd with Type=notify, sends READY=1. True when someone was told.
function ready () {
  const state = processState()
  if (state.runtime) {
    if (!state.readySent) state.readySent = messages.send(process, { prodkit: messages.READY })
    return state.readySent
  }
  return notify('READY=1')
}

// Called by install(): shutdown drains the servers first, before the app's own hooks (a
// database pool must outlive the requests that use it).
function attachKit (kit) {
  const state = processState()
  state.kit = kit
  // The hook's own limit is a little longer than the drain's deadline, so that the
  // deadline (which closes what is left) ends the drain, not the cut-off.
  kit.onShutdown(() => drainAll({ timeoutMs: drainTimeoutMs() }), { name: 'drain servers', timeoutMs: drainTimeoutMs() + 250 })
  return kit
}

// install() options in a managed worker: unless the app chose its own, the shutdown limit
// is the time the primary gives the worker (drainTimeoutMs), not install()'s 5 s, which
// would cut long requests short.
function installDefaults (options) {
  const runtime = processState().runtime
  if (!runtime) return options
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || Array.isArray(options)) return options // install() reports it
  const exceptions = options.exceptions
  if (exceptions === false || (typeof exceptions === 'object' && exceptions !== null && exceptions.shutdownTimeoutMs !== undefined)) return options
  if (exceptions !== undefined && exceptions !== true && (typeof exceptions !== 'object' || exceptions === null)) return options // install() reports it
  return { ...options, exceptions: { ...(typeof exceptions === 'object' ? exceptions : {}), shutdownTimeoutMs: runtime.drainTimeoutMs } }
}

function detachKit (kit) {
  const state = processState()
  if (state.kit === kit) state.kit = null
}

module.exports = { startRuntime, managedConfig, ready, attachKit, detachKit, installDefaults, shutdownWorker }

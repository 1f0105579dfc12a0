'use strict'
// The primary: forks one worker per slot, restarts crashed workers with backoff, stops on
// a crash loop, replaces workers one at a time (rolling reload, memory limit), and drains
// them all at shutdown. It never serves requests itself: node:cluster's primary accepts
// connections and hands them to the workers that listen (round-robin on Linux); a
// connection handed to a worker that dies before taking it goes to another worker
// (handoff.js).
//
// A slot is a place for one serving worker. A replacement is forked next to the slot's
// worker, and takes the slot only once it is ready; the old one is drained after that, so
// a slot always has a ready worker while it is being replaced, and a replacement that
// never becomes ready leaves the old one serving.
//
// The operator's console drives it through a control socket (control.js): status (every
// process's figures, stats.js), reload, scale (slots added, or the last ones removed and
// their workers drained) and stop. The workers' stdout and stderr are piped to it and
// written to its log (capture.js).

const cluster = require('node:cluster')
const path = require('node:path')
const { restartDelay, CrashWindow } = require('./backoff')
const { followHandoffs } = require('./handoff')
const messages = require('./messages')
const systemd = require('../systemd/notify')
const { underPackageManager, watchParent } = require('./parent')
const { captureWorker } = require('./capture')
const { ProcessStats } = require('./stats')
const { ControlServer } = require('./control')

// How long a worker has to answer the primary's questions (status, metrics) before it is
// shown as not answering.
const ASK_TIMEOUT_MS = 1000
const MAX_WORKERS = 1024

const PRELOAD = path.join(__dirname, 'preload.js')

class Primary {
  constructor (options, kit) {
    this.options = options
    this.kit = kit
    this.log = kit.log.child({ role: 'primary' })
    this.slots = Array.from({ length: options.workers }, (_, index) => newSlot(index))
    this.workers = new Map() // worker.id -> { worker, slot, startedAt, ready, retiring, ... }
    this.crashes = options.crashLoop ? new CrashWindow(options.crashLoop) : null
    this.stopping = false
    this.stopped = null
    this.queue = Promise.resolve() // rollouts and memory replacements, one at a time
    this.queuedReload = null
    this.readyCount = 0
    this.startedAt = Date.now()
    this.asks = new Map() // id -> resolve, for the workers' answers to STATS
    this.nextAsk = 1
    this.control = null
    this.onSighup = () => {
      this.log.info({ signal: 'SIGHUP' }, 'SIGHUP received: rolling reload')
      this.reload()
    }
    let resolveReady
    this.ready = new Promise((resolve) => { resolveReady = resolve })
    this.resolveReady = resolveReady
  }

  start () {
    const { start, args } = this.options
    cluster.setupPrimary({
      // A module path runs as the worker's main module; a function means the entry file
      // runs again in the worker and calls it from prodkit.cluster().
      exec: start.file || process.argv[1],
      args: start.file ? args : process.argv.slice(2),
      execArgv: [...process.execArgv, '--require', PRELOAD],
      // The workers' stdout and stderr come to the primary, which logs them (capture.js);
      // stdin stays the primary's, as before.
      stdio: ['inherit', 'pipe', 'pipe', 'ipc']
    })
    cluster.on('listening', (worker) => this.markReady(worker, 'listening'))
    cluster.on('message', (worker, message) => this.onMessage(worker, message))
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal))
    process.on('SIGHUP', this.onSighup)
    systemd.onNotifyError((err) => this.log.warn({ err }, 'systemd notification failed (NOTIFY_SOCKET)'))
    this.stopWatchdog = systemd.startWatchdog()
    this.stopParentWatch = () => {}
    if (underPackageManager()) {
      const by = process.env.npm_command === 'exec' ? 'npx' : `npm ${process.env.npm_lifecycle_event || 'run'}`
      this.log.warn({ parentPid: process.ppid },
        `started by a package manager (${by}): it is not a process manager and does not pass SIGTERM on; ` +
        'the cluster stops when its parent exits. In production run node directly (see docs/docker.md)')
      this.stopParentWatch = watchParent((parentPid) => {
        this.log.warn({ parentPid }, `the parent process (${parentPid}, the package manager's) exited: shutting down`)
        this.kit.shutdown(`parent process ${parentPid} exited`, { exitCode: 0 })
      })
    }
    this.stats = new ProcessStats()
    this.startControl()
    this.log.info({ workers: this.slots.length }, `cluster starting ${this.slots.length} workers`)
    for (const slot of this.slots) this.startWorker(slot)
    return this
  }

  // The control socket of `prodkit status`, `top`, `reload`, `scale`, `stop`. A socket
  // that cannot be made (a folder someone else owns) is a warning: the cluster still runs.
  startControl () {
    const { control } = this.options
    if (!control || process.platform === 'win32') return
    const server = new ControlServer({ name: control.name, dir: control.dir, log: this.log, handle: (req) => this.command(req) })
    try {
      server.start().then((socket) => {
        this.control = server
        if (this.stopping) return server.close()
        this.log.info({ socket, name: control.name }, `control socket ready (prodkit status --name ${control.name})`)
      }, (err) => this.log.warn({ err }, `no control socket: ${err.message}`))
    } catch (err) {
      this.log.warn({ err }, `no control socket: ${err.message}`)
    }
  }

  // A request on the control socket (control.js).
  async command (request) {
    switch (request.command) {
      case 'status':
        return this.status()
      case 'reload': {
        const result = await this.reload()
        if (!result.ok) throw new Error(`reload failed after ${result.replaced} workers: ${result.error}`)
        return result
      }
      case 'scale':
        return this.scale(request.workers)
      case 'stop':
        if (this.stopping) throw new Error('the cluster is already stopping')
        this.log.info('stop asked on the control socket: shutting down')
        setImmediate(() => this.kit.shutdown('prodkit stop', { exitCode: 0 }))
        return { stopping: true, pid: process.pid }
      default:
        throw new Error(`unknown command ${JSON.stringify(request.command)} (known: status, reload, scale, stop)`)
    }
  }

  // Asks a worker for its figures; resolves with null if it does not answer in time.
  askStats (info) {
    return new Promise((resolve) => {
      const id = this.nextAsk++
      const timer = setTimeout(() => {
        this.asks.delete(id)
        resolve(null)
      }, ASK_TIMEOUT_MS)
      this.asks.set(id, (stats) => {
        clearTimeout(timer)
        this.asks.delete(id)
        resolve(stats)
      })
      if (!messages.send(info.worker, { prodkit: messages.STATS, id })) this.asks.get(id)(null)
    })
  }

  async status () {
    const now = Date.now()
    const infos = [...this.workers.values()]
    const figures = await Promise.all(infos.map((info) => this.askStats(info)))
    const { control, install } = this.options
    const pkg = control ? { name: control.name, version: control.version } : {}
    const destination = install && install.log && install.log.destination
    return {
      name: pkg.name,
      version: pkg.version,
      logFile: typeof destination === 'string' ? path.resolve(destination) : null,
      workersWanted: this.slots.length,
      stopping: this.stopping,
      primary: { pid: process.pid, uptimeMs: now - this.startedAt, ...this.stats.snapshot() },
      workers: infos.map((info, i) => ({
        id: info.worker.id,
        pid: info.worker.process.pid,
        slot: info.slot.index,
        state: info.retiring ? 'draining' : info.ready ? 'ready' : 'starting',
        uptimeMs: now - info.startedAt,
        restarts: info.slot.restarts,
        answered: figures[i] !== null,
        ...(figures[i] || {})
      })).sort((a, b) => a.slot - b.slot || a.id - b.id)
    }
  }

  // Changes the number of slots to `count`: new slots get a worker each (resolves once
  // they are ready); removed slots (the last ones) have their workers drained (resolves
  // once they have exited). Queued with reloads and replacements: one change at a time.
  scale (count) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
      return Promise.reject(new Error(`scale needs a number of workers from 1 to ${MAX_WORKERS} (got ${JSON.stringify(count)})`))
    }
    if (this.stopping) return Promise.reject(new Error('the cluster is stopping'))
    return this.enqueue(async () => {
      const before = this.slots.length
      if (count > before) {
        this.log.info({ from: before, to: count }, `scaling up from ${before} to ${count} workers`)
        const added = []
        for (let index = before; index < count; index++) {
          const slot = newSlot(index)
          this.slots.push(slot)
          added.push(this.startWorker(slot))
        }
        const ready = (await Promise.all(added)).filter(Boolean).length
        if (ready < added.length) throw new Error(`${added.length - ready} of the ${added.length} new workers did not become ready (the primary's log says why); their slots keep restarting them`)
      } else if (count < before) {
        this.log.info({ from: before, to: count }, `scaling down from ${before} to ${count} workers: draining ${before - count}`)
        const removed = this.slots.splice(count)
        for (const slot of removed) {
          slot.removed = true
          clearTimeout(slot.timer)
        }
        const leaving = [...this.workers.values()].filter((info) => info.slot.removed)
        await Promise.all(leaving.map((info) => this.retire(info)))
      }
      if (count !== before) {
        this.log.info({ workers: count }, `scaled to ${count} workers`)
        systemd.notify(`STATUS=${count} workers serving`)
      }
      return { from: before, to: count }
    })
  }

  fork (slot) {
    const { drainTimeoutMs, memoryLimit, memoryCheckMs } = this.options
    if (slot.forks++ > 0) slot.restarts++
    const worker = cluster.fork({
      PRODKIT_CLUSTER: JSON.stringify({ drainTimeoutMs, memoryLimit, memoryCheckMs }),
      PRODKIT_WORKER_SLOT: String(slot.index),
      // systemd accepts notifications from the main process only (NotifyAccess=main), and
      // its watchdog is the primary's: the workers must not inherit them.
      NOTIFY_SOCKET: undefined,
      WATCHDOG_USEC: undefined,
      WATCHDOG_PID: undefined
    })
    followHandoffs(worker) // before any connection is handed to it
    captureWorker(worker, this.kit.log)
    const info = { worker, slot, startedAt: Date.now(), ready: false, retiring: false, memoryReported: false, waiter: null, exited: null }
    info.exitedPromise = new Promise((resolve) => { info.exited = resolve })
    this.workers.set(worker.id, info)
    this.log.info({ worker: worker.id, workerPid: worker.process.pid, slot: slot.index }, `worker ${worker.id} started`)
    return info
  }

  // Resolves when the worker is ready; rejects when it exits first or readyTimeoutMs passes.
  waitReady (info) {
    if (info.ready) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        info.waiter = null
        reject(new Error(`not ready within ${this.options.readyTimeoutMs} ms`))
      }, this.options.readyTimeoutMs)
      info.waiter = {
        resolve: () => { clearTimeout(timer); resolve() },
        reject: (err) => { clearTimeout(timer); reject(err) }
      }
    })
  }

  markReady (worker, how) {
    const info = this.workers.get(worker.id)
    if (!info || info.ready || info.retiring) return
    // With waitReady, listening is not enough: the app says when it is ready.
    if (how === 'listening' && this.options.waitReady) return
    info.ready = true
    info.readyAt = Date.now()
    this.log.info({ worker: worker.id, workerPid: worker.process.pid, slot: info.slot.index, readyOn: how }, `worker ${worker.id} ready`)
    if (info.waiter) info.waiter.resolve()
  }

  // A fresh worker for an empty slot (first start, restart after a crash). Resolves to
  // whether it became ready.
  startWorker (slot) {
    if (this.stopping || slot.removed) return Promise.resolve(false)
    const info = this.fork(slot)
    slot.worker = info.worker
    return this.waitReady(info).then(() => {
      if (slot.everReady) return true
      slot.everReady = true
      if (++this.readyCount >= this.slots.length && !this.readyAnnounced) {
        this.readyAnnounced = true
        this.log.info({ workers: this.slots.length }, `cluster ready: ${this.slots.length} workers serving`)
        systemd.notify(`READY=1\nSTATUS=${this.slots.length} workers serving`)
        this.resolveReady()
      }
      return true
    }, (err) => {
      if (this.stopping || info.retiring || !this.workers.has(info.worker.id)) return false
      // It counts as a crash (its exit is unplanned): backoff and crash loop apply.
      this.log.error({ worker: info.worker.id, workerPid: info.worker.process.pid }, `worker ${info.worker.id} ${err.message}: killing it`)
      info.worker.process.kill('SIGKILL')
      return false
    })
  }

  onMessage (worker, message) {
    if (messages.isMessage(message, messages.READY)) return this.markReady(worker, 'ready()')
    if (messages.isMessage(message, messages.MEMORY)) return this.onMemory(worker, message)
    if (messages.isMessage(message, messages.STATS_REPLY)) {
      const answer = this.asks.get(message.id)
      if (answer) answer(message.stats && typeof message.stats === 'object' ? message.stats : null)
      return
    }
    if (messages.isMessage(message, messages.MERGED_METRICS)) return this.onMergedMetrics(worker, message)
  }

  // A worker's metricsHandler() asks for the cluster-wide metrics (lib/express/metrics-handler.js).
  onMergedMetrics (worker, { id, format }) {
    const reply = (fields) => messages.send(worker, { prodkit: messages.MERGED_METRICS_REPLY, id, ...fields })
    const metrics = this.kit.metrics
    if (!metrics) return reply({ error: 'metrics are off in the primary' })
    Promise.resolve().then(() => metrics.scrape(format === 'openmetrics' ? 'openmetrics' : 'prometheus'))
      .then((text) => reply({ text }), (err) => reply({ error: err.message }))
  }

  onMemory (worker, { rss, limit }) {
    const info = this.workers.get(worker.id)
    if (!info || !info.ready || info.retiring || info.memoryReported || this.stopping) return
    info.memoryReported = true
    this.log.warn({ worker: worker.id, workerPid: worker.process.pid, rss, limit }, `worker ${worker.id} is above the memory limit: replacing it`)
    this.enqueue(async () => {
      if (info.slot.worker !== worker || info.retiring) return
      const result = await this.replace(info.slot)
      // Asked again at the next check if the replacement could not start.
      if (!result.ok) info.memoryReported = false
    })
  }

  onExit (worker, code, signal) {
    const info = this.workers.get(worker.id)
    if (!info) return
    this.workers.delete(worker.id)
    clearTimeout(info.killTimer)
    const how = signal ? `signal ${signal}` : `code ${code}`
    if (info.waiter) info.waiter.reject(new Error(`exited with ${how} before it was ready`))
    info.exited()
    const fields = { worker: worker.id, workerPid: worker.process.pid, code, signal, slot: info.slot.index }
    if (info.retiring || this.stopping) {
      this.log.info(fields, `worker ${worker.id} exited (${how})`)
      return
    }
    const now = Date.now()
    const uptimeMs = now - info.startedAt
    this.log.error({ ...fields, uptimeMs }, `worker ${worker.id} died (${how})`)
    const slot = info.slot
    // A replacement that died before it was ready: its rollout deals with it.
    if (slot.worker !== worker || slot.removed) return
    slot.worker = null
    if (this.crashes && this.crashes.record(now)) return this.crashLoop()
    if (uptimeMs >= this.options.restart.stableMs) slot.crashes = 0
    slot.crashes++
    // During a replacement the slot gets the new worker, or a restart if that fails.
    if (!slot.replacing) this.scheduleRestart(slot)
  }

  scheduleRestart (slot) {
    const delayMs = restartDelay(slot.crashes, this.options.restart)
    this.log.info({ slot: slot.index, delayMs, consecutiveCrashes: slot.crashes }, `restarting slot ${slot.index} in ${delayMs} ms`)
    slot.timer = setTimeout(() => {
      slot.timer = null
      this.startWorker(slot)
    }, delayMs)
  }

  crashLoop () {
    const { crashes, windowMs } = this.options.crashLoop
    this.log.fatal({ crashes, windowMs }, `crash loop: ${crashes} worker crashes within ${windowMs} ms: stopping the cluster`)
    systemd.notify(`STATUS=crash loop: ${crashes} worker crashes within ${windowMs} ms`)
    this.kit.shutdown('crash loop', { exitCode: 1 })
  }

  // Asks a worker to drain and exit; kills it after drainTimeoutMs. Resolves at its exit.
  retire (info) {
    if (!info.retiring) {
      info.retiring = true
      if (info.waiter) info.waiter.reject(new Error('stopped before it was ready'))
      this.log.info({ worker: info.worker.id, workerPid: info.worker.process.pid }, `worker ${info.worker.id} draining`)
      if (!messages.send(info.worker.process, { prodkit: messages.DRAIN })) info.worker.process.kill('SIGKILL')
      info.killTimer = setTimeout(() => {
        this.log.warn({ worker: info.worker.id, workerPid: info.worker.process.pid, drainTimeoutMs: this.options.drainTimeoutMs },
          `worker ${info.worker.id} still running ${this.options.drainTimeoutMs} ms after it was told to drain: killing it`)
        info.worker.process.kill('SIGKILL')
      }, this.options.drainTimeoutMs)
    }
    return info.exitedPromise
  }

  // Replaces the slot's worker: fork, wait until ready, then drain the old one. On
  // failure the old worker keeps the slot. Resolves to { ok, error? }.
  async replace (slot) {
    slot.replacing = true
    const fresh = this.fork(slot)
    try {
      await this.waitReady(fresh)
    } catch (err) {
      slot.replacing = false
      if (!this.stopping) {
        this.log.error({ worker: fresh.worker.id, workerPid: fresh.worker.process.pid, slot: slot.index }, `new worker ${fresh.worker.id} ${err.message}`)
      }
      if (this.workers.has(fresh.worker.id)) {
        fresh.retiring = true // its exit is not a crash of the slot
        fresh.worker.process.kill('SIGKILL')
        await fresh.exitedPromise
      }
      if (!slot.worker && !slot.timer && !this.stopping) this.scheduleRestart(slot)
      return { ok: false, error: `worker ${fresh.worker.id} ${err.message}` }
    }
    slot.replacing = false
    if (this.stopping) return { ok: false, error: 'the cluster is stopping' }
    const old = slot.worker && this.workers.get(slot.worker.id)
    slot.worker = fresh.worker
    if (slot.timer) {
      clearTimeout(slot.timer)
      slot.timer = null
    }
    if (old) await this.retire(old)
    return { ok: true }
  }

  enqueue (task) {
    const run = this.queue.then(task)
    this.queue = run.catch((err) => this.log.error({ err }, 'cluster operation failed'))
    return run
  }

  // Rolling reload: every serving worker replaced in turn by one that loads the app's
  // code anew. A reload asked for while one runs is done once after it.
  reload () {
    if (this.stopping) return Promise.resolve({ ok: false, replaced: 0, error: 'the cluster is stopping' })
    if (!this.queuedReload) {
      this.queuedReload = this.enqueue(() => {
        this.queuedReload = null
        return this.rollout()
      })
    }
    return this.queuedReload
  }

  async rollout () {
    systemd.notify(`RELOADING=1\nMONOTONIC_USEC=${systemd.monotonicUsec()}`)
    this.log.info({ workers: this.slots.length }, 'rolling reload started')
    let replaced = 0
    let error
    for (const slot of [...this.slots]) {
      if (slot.removed) continue
      if (this.stopping) {
        error = 'the cluster is stopping'
        break
      }
      const current = slot.worker && this.workers.get(slot.worker.id)
      // A worker that is starting (or a slot waiting to restart) loads the new code anyway.
      if (!current || !current.ready || current.retiring) continue
      const result = await this.replace(slot)
      if (!result.ok) {
        error = result.error
        break
      }
      replaced++
    }
    if (error) {
      if (!this.stopping) {
        this.log.error({ replaced, error }, `rolling reload aborted after ${replaced} of ${this.slots.length} workers: ${error}; the other workers keep serving`)
        systemd.notify(`READY=1\nSTATUS=reload failed: ${error}`)
      }
      return { ok: false, replaced, error }
    }
    this.log.info({ replaced }, `rolling reload finished: ${replaced} workers replaced`)
    systemd.notify(`READY=1\nSTATUS=${this.slots.length} workers serving`)
    return { ok: true, replaced }
  }

  // Drains every worker (in parallel) and resolves when all have exited. Idempotent.
  stop () {
    if (this.stopped) return this.stopped
    this.stopping = true
    systemd.notify('STOPPING=1')
    process.off('SIGHUP', this.onSighup)
    this.stopWatchdog()
    this.stopParentWatch()
    if (this.control) this.control.close()
    if (this.stats) this.stats.close()
    for (const slot of this.slots) clearTimeout(slot.timer)
    const infos = [...this.workers.values()]
    this.log.info({ workers: infos.length }, `stopping: draining ${infos.length} workers`)
    this.stopped = Promise.all(infos.map((info) => this.retire(info))).then(() => {
      this.log.info('all workers stopped')
    })
    return this.stopped
  }

  list () {
    return [...this.workers.values()].map((info) => ({
      id: info.worker.id,
      pid: info.worker.process.pid,
      slot: info.slot.index,
      state: info.retiring ? 'draining' : info.ready ? 'ready' : 'starting'
    }))
  }
}

function newSlot (index) {
  return { index, worker: null, crashes: 0, timer: null, replacing: false, everReady: false, forks: 0, restarts: 0, removed: false }
}

module.exports = { Primary }

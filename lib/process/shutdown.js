'use strict'
// Shutdown: run the app's hooks in the order they were registered, each under its own
// time limit and all under one deadline, write every buffered log line, exit. Whatever a
// hook does (throw, reject, never settle), the process exits by the deadline.
//
// The deadline also bounds the log: from the start of the shutdown, no flush or close
// waits past it for a destination that stalls (src/log/shutdown.rs); what it has not taken
// by then is counted on stderr. A second SIGTERM/SIGINT while JS is blocked in such a wait
// ends the wait natively, and the exit code says which signal it was.

const native = require('../native')

const realProcess = {
  exit: (code) => process.exit(code),
  setDeadline: (ms) => native.setShutdownDeadline(ms),
  signals: () => native.terminationSignals()
}

class Shutdown {
  constructor ({ log, timeoutMs, exit = realProcess.exit, setDeadline = realProcess.setDeadline, signals = realProcess.signals }) {
    this.log = log
    this.timeoutMs = timeoutMs
    this.exit = exit
    this.setDeadline = setDeadline
    this.signals = signals
    this.hooks = []
    this.running = null
    this.exitCode = 0
    this.finished = false
    this.deadlineArmed = false
  }

  // Registers fn (sync or async). `timeoutMs` defaults to the whole shutdown's limit.
  add (fn, { name, timeoutMs } = {}) {
    this.hooks.push({ fn, name: name || fn.name || `hook ${this.hooks.length + 1}`, timeoutMs: timeoutMs ?? this.timeoutMs })
  }

  get inProgress () {
    return this.running !== null
  }

  // Starts the shutdown once; later calls return the same promise. It never resolves:
  // the process exits with `exitCode`.
  run (exitCode) {
    if (this.running) return this.running
    this.exitCode = exitCode
    this.armDeadline()
    const deadline = setTimeout(() => {
      this.log.error({ timeoutMs: this.timeoutMs }, `shutdown took longer than ${this.timeoutMs} ms: exiting now`)
      this.finish()
    }, this.timeoutMs)
    this.running = this.runHooks().then(() => {
      clearTimeout(deadline)
      this.finish()
    })
    return this.running
  }

  // Starts the log's deadline (no flush or close waits past it), once.
  armDeadline () {
    if (this.deadlineArmed) return
    this.deadlineArmed = true
    this.setDeadline(this.timeoutMs)
  }

  // A hook cut off at the end of the whole shutdown's time ends the hooks: the timer that
  // cut it may fire a moment before the clock says the time is up, and the next hook must
  // not run in that moment.
  async runHooks () {
    const endAt = performance.now() + this.timeoutMs
    for (const hook of this.hooks) {
      if (this.finished) return
      const left = endAt - performance.now()
      if (left <= 0) return
      const limitMs = Math.min(hook.timeoutMs, left)
      const result = await this.runHook(hook, Math.round(limitMs))
      if (result === 'timeout' && limitMs === left) return
    }
  }

  async runHook (hook, limitMs) {
    let timer
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limitMs)
    })
    try {
      const result = await Promise.race([Promise.resolve().then(() => hook.fn()), timedOut])
      if (result === 'timeout') {
        this.log.warn({ hook: hook.name, timeoutMs: limitMs }, `shutdown hook ${hook.name} did not finish within ${limitMs} ms: cut off`)
      }
      return result
    } catch (err) {
      this.log.error({ err, hook: hook.name }, `shutdown hook ${hook.name} failed`)
    } finally {
      clearTimeout(timer)
    }
  }

  // Writes every buffered line and exits; safe to call more than once.
  finish () {
    if (this.finished) return
    this.finished = true
    try {
      this.log.flushSync()
    } finally {
      // A second signal that came while the flush waited (JS could not see it).
      const { count, last } = this.signals()
      if (count >= 2 && this.exitCode === 0) this.exitCode = 128 + last
      this.exit(this.exitCode)
    }
  }
}

module.exports = { Shutdown }

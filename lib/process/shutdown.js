'use strict'
// Shutdown: run the app's hooks in the order they were registered, each under its own
// time limit and all under one deadline, write every buffered log line, exit. Whatever a
// hook does (throw, reject, never settle), the process exits by the deadline.

class Shutdown {
  constructor ({ log, timeoutMs, exit = (code) => process.exit(code) }) {
    this.log = log
    this.timeoutMs = timeoutMs
    this.exit = exit
    this.hooks = []
    this.running = null
    this.exitCode = 0
    this.finished = false
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

  async runHooks () {
    const started = Date.now()
    for (const hook of this.hooks) {
      if (this.finished) return
      const left = this.timeoutMs - (Date.now() - started)
      if (left <= 0) return
      await this.runHook(hook, Math.min(hook.timeoutMs, left))
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
      this.exit(this.exitCode)
    }
  }
}

module.exports = { Shutdown }

'use strict'
// Process-level listeners installed by install(): uncaught exceptions, unhandled
// rejections, SIGTERM/SIGINT and 'warning' events. Each logs, then hands over to the
// shutdown (hooks, flush, exit). `remove()` takes every listener off again.
//
// A JS signal listener runs only when the event loop turns. A log call blocked on a full
// queue (the `block` policy, a stalled reader: `node app.js | sleep 25`) would keep it from
// turning for as long as the reader stalls, so the signals are also counted natively,
// before Node's handler (src/log/shutdown.rs): from the first one, a full queue waits only
// while the writer makes progress, then drops and counts; from the second, no flush or
// close waits on a stalled writer.

const { constants } = require('node:os')
const { isMainThread } = require('node:worker_threads')
const { watchTerminationSignals, unwatchTerminationSignals } = require('../native')

const TERMINATION = ['SIGTERM', 'SIGINT']
const SIGNAL_NUMBERS = { SIGINT: constants.signals.SIGINT, SIGTERM: constants.signals.SIGTERM }

function asError (reason) {
  if (reason instanceof Error) return reason
  const err = new Error(`non-error rejection: ${typeof reason === 'string' ? reason : safeDescribe(reason)}`)
  err.reason = reason
  return err
}

function safeDescribe (value) {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

function installHandlers ({ log, shutdown, exceptions, signals }) {
  const listeners = []
  const on = (event, fn) => {
    process.on(event, fn)
    listeners.push([event, fn])
  }

  // A crash: log it first and make sure the line is on disk (the process may not survive
  // the hooks), then the hooks, then exit non-zero.
  function crash (err, msg) {
    if (shutdown.inProgress) {
      // A second error while shutting down: never wait for the rest of the hooks.
      log.fatal(err, `${msg} during shutdown`)
      shutdown.finish()
      return
    }
    // From here the shutdown's time limit bounds every wait for the log.
    shutdown.armDeadline()
    log.fatal(err, msg)
    log.flushSync()
    shutdown.run(exceptions.exitCode)
  }

  if (exceptions) {
    on('uncaughtException', (err) => crash(err, 'uncaught exception'))
    on('unhandledRejection', (reason) => {
      if (exceptions.unhandledRejection === 'warn') {
        log.error({ err: asError(reason) }, 'unhandled promise rejection (the process keeps running: exceptions.unhandledRejection is \'warn\')')
        return
      }
      crash(asError(reason), 'unhandled promise rejection')
    })
  }

  let watched = null
  if (signals) {
    for (const signal of TERMINATION) {
      on(signal, () => {
        if (shutdown.inProgress) {
          log.warn({ signal }, `${signal} again during shutdown: exiting now`)
          shutdown.exitCode = shutdown.exitCode || 128 + SIGNAL_NUMBERS[signal]
          shutdown.finish()
          return
        }
        log.info({ signal }, `${signal} received: shutting down`)
        shutdown.run(0)
      })
    }
    // After the JS listeners: Node installs its handler when the first one is added, and
    // ours goes in front of it.
    // Only the main thread receives signals (a worker's listeners are not called).
    if (isMainThread) {
      watched = TERMINATION.map((signal) => SIGNAL_NUMBERS[signal])
      watchTerminationSignals(watched)
    }
  }

  on('warning', (warning) => log.warn({ warning }, `process warning: ${warning && warning.message}`))

  return {
    remove () {
      // Before the JS listeners: removing the last one gives the signal its default action.
      if (watched !== null) unwatchTerminationSignals(watched)
      watched = null
      for (const [event, fn] of listeners) process.off(event, fn)
      listeners.length = 0
    }
  }
}

module.exports = { installHandlers }

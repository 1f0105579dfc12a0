'use strict'
// Process-level listeners installed by install(): uncaught exceptions, unhandled
// rejections, SIGTERM/SIGINT and 'warning' events. Each logs, then hands over to the
// shutdown (hooks, flush, exit). `remove()` takes every listener off again.

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 }

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

  if (signals) {
    for (const signal of ['SIGTERM', 'SIGINT']) {
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
  }

  on('warning', (warning) => log.warn({ warning }, `process warning: ${warning && warning.message}`))

  return {
    remove () {
      for (const [event, fn] of listeners) process.off(event, fn)
      listeners.length = 0
    }
  }
}

module.exports = { installHandlers }

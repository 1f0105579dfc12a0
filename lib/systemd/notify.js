'use strict'
// sd_notify for the JS side: the datagram itself is sent by Rust (src/systemd.rs). Every
// call is a no-op outside systemd (no NOTIFY_SOCKET), and a failure never throws into the
// app: it is reported once, to the callback given to onNotifyError(), then ignored.

const native = require('../native')

let reportError = null
let reported = false

function onNotifyError (fn) {
  reportError = fn
}

// Sends `state` ('READY=1', 'STATUS=...'; several joined with '\n'). True when sent.
function notify (state, env = process.env) {
  const socket = env.NOTIFY_SOCKET
  if (!socket) return false
  try {
    return native.sdNotify(state, socket)
  } catch (err) {
    if (!reported && reportError) {
      reported = true
      try {
        reportError(err)
      } catch {}
    }
    return false
  }
}

// RELOADING=1 must carry the time of the request on CLOCK_MONOTONIC (systemd 253 and
// later check it); libuv's hrtime is that clock on Linux.
function monotonicUsec () {
  return (process.hrtime.bigint() / 1000n).toString()
}

// The systemd watchdog: WATCHDOG=1 at half of WatchdogSec, from a JS timer, so that a
// blocked event loop in this process (not just a live thread) makes systemd restart it.
// Returns a stop function (a no-op when systemd asked for no watchdog).
function startWatchdog (env = process.env) {
  const usec = Number(env.WATCHDOG_USEC)
  if (!env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return () => {}
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return () => {}
  const every = Math.max(10, Math.floor(usec / 2000))
  notify('WATCHDOG=1', env)
  const timer = setInterval(() => notify('WATCHDOG=1', env), every)
  timer.unref()
  return () => clearInterval(timer)
}

module.exports = { notify, monotonicUsec, startWatchdog, onNotifyError }

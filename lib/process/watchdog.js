'use strict'
// The JS half of the event-loop watchdog: a heartbeat timer. The Rust half (src/watchdog.rs)
// runs on its own thread and writes to the log when the beats stop, while JS is blocked.

const { Watchdog } = require('../native')

class LoopWatchdog {
  constructor (sink, { blockedMs, abortAfterMs }) {
    this.native = new Watchdog(sink.native, { blockedMs, abortAfterMs })
    // Several beats per limit, so a loop that is merely busy is not reported.
    const every = Math.max(10, Math.min(1000, Math.floor(blockedMs / 5)))
    this.timer = setInterval(() => this.native.beat(), every)
    this.timer.unref() // never keeps the process alive
  }

  stop () {
    clearInterval(this.timer)
    this.native.stop()
  }
}

module.exports = { LoopWatchdog }

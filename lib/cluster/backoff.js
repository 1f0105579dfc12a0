'use strict'
// When to restart a crashed worker, and when crashes have become a crash loop. Pure
// functions of the crash history and a clock, so that they are tested without waiting.

// The delay before restarting a slot after its n-th consecutive crash (n >= 1). The first
// restart is immediate: one crash of a worker that was running fine is most often a bad
// request or a bug on a rare path, and the pool should be whole again at once. From the
// second consecutive crash on, the delay grows: baseMs, baseMs * factor, ... up to maxMs,
// so that a worker that cannot start does not burn a core re-forking.
function restartDelay (n, { baseMs, factor, maxMs }) {
  if (n <= 1) return 0
  return Math.min(maxMs, baseMs * factor ** (n - 2))
}

// The crashes of the whole cluster within a sliding window: more than the limit means the
// app cannot run (a bad deploy, a missing dependency), and restarting forever would only
// hide it from the supervisor (systemd), which can alert and apply its own start limits.
class CrashWindow {
  constructor ({ crashes, windowMs }) {
    this.limit = crashes
    this.windowMs = windowMs
    this.times = []
  }

  // Records a crash at `now` (ms); true when the window now holds `crashes` crashes.
  record (now) {
    this.times.push(now)
    while (this.times.length > 0 && this.times[0] <= now - this.windowMs) this.times.shift()
    return this.times.length >= this.limit
  }

  get count () {
    return this.times.length
  }
}

module.exports = { restartDelay, CrashWindow }

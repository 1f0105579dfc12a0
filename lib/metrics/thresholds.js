'use strict'
// Alerts in the log: when a reading stays above its limit for `intervals` sampling
// intervals in a row, one warn line; when it is back under, one info line.

const CHECKS = [
  { option: 'eventLoopDelayP99Ms', label: 'event-loop delay p99', unit: 'ms', read: (r) => r.eventLoopDelayP99Ms },
  { option: 'residentMemoryBytes', label: 'resident memory', unit: 'bytes', read: (r) => r.residentMemoryBytes },
  { option: 'cpuRatio', label: 'process CPU', unit: '(1 = one core)', read: (r) => r.cpuRatio }
]

class Thresholds {
  constructor (log, options) {
    this.log = log
    this.intervals = options.intervals
    this.active = CHECKS.filter((c) => options[c.option] !== undefined)
      .map((c) => ({ ...c, limit: options[c.option], above: 0, alerting: false }))
  }

  // `readings`: { eventLoopDelayP99Ms, residentMemoryBytes, cpuRatio } for one interval.
  check (readings) {
    for (const c of this.active) {
      const value = c.read(readings)
      if (value === undefined || value === null) continue
      if (value > c.limit) {
        c.above++
        if (!c.alerting && c.above >= this.intervals) {
          c.alerting = true
          this.log.warn({ metric: c.option, value, limit: c.limit, intervals: c.above },
            `${c.label} above ${c.limit} ${c.unit} for ${c.above} intervals (now ${value})`)
        }
      } else {
        if (c.alerting) {
          this.log.info({ metric: c.option, value, limit: c.limit }, `${c.label} back under ${c.limit} ${c.unit} (now ${value})`)
        }
        c.above = 0
        c.alerting = false
      }
    }
  }
}

module.exports = { Thresholds }

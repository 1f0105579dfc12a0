'use strict'
// The figures `prodkit status` and `prodkit top` show for one process of a cluster: CPU
// (share of one core), resident memory, event-loop delay and requests per second, each
// over the last whole second. A timer (unref'd: it never keeps a process alive) takes a
// sample each second, so that an answer is always about the last second and costs
// nothing at the time it is asked.

const dc = require('node:diagnostics_channel')
const { monitorEventLoopDelay } = require('node:perf_hooks')

const INTERVAL_MS = 1000

class ProcessStats {
  constructor () {
    this.requests = 0
    this.onRequest = () => { this.requests++ }
    // Every HTTP request of every node:http server of the process (Express included).
    dc.subscribe('http.server.request.start', this.onRequest)
    this.delay = monitorEventLoopDelay({ resolution: 10 })
    this.delay.enable()
    this.last = { at: process.hrtime.bigint(), cpu: process.cpuUsage(), requests: 0 }
    this.current = { cpu: 0, rss: process.memoryUsage.rss(), eventLoopDelayMs: 0, requestsPerSec: 0 }
    this.timer = setInterval(() => this.sample(), INTERVAL_MS)
    this.timer.unref()
  }

  sample () {
    const at = process.hrtime.bigint()
    const cpu = process.cpuUsage()
    const elapsedUs = Number(at - this.last.at) / 1000
    if (elapsedUs <= 0) return
    const usedUs = (cpu.user - this.last.cpu.user) + (cpu.system - this.last.cpu.system)
    this.current = {
      cpu: usedUs / elapsedUs,
      rss: process.memoryUsage.rss(),
      // The 99th percentile of the delays seen this second, less the sampling resolution.
      eventLoopDelayMs: Math.max(0, this.delay.percentile(99) / 1e6 - 10),
      requestsPerSec: (this.requests - this.last.requests) / (elapsedUs / 1e6)
    }
    this.delay.reset()
    this.last = { at, cpu, requests: this.requests }
  }

  snapshot () {
    return { ...this.current, requests: this.requests }
  }

  close () {
    clearInterval(this.timer)
    this.delay.disable()
    dc.unsubscribe('http.server.request.start', this.onRequest)
  }
}

module.exports = { ProcessStats }

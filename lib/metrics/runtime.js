'use strict'
// Runtime metrics that only JS can see: event-loop delay and utilisation, the V8 heap,
// GC pauses by kind, active resources. Event-loop figures cover the last completed
// sampling interval (so every scrape in between reads the same, complete window).

const v8 = require('node:v8')
const { monitorEventLoopDelay, performance, PerformanceObserver, constants } = require('node:perf_hooks')

const RESOLUTION_MS = 10
const GC_BUCKETS = Object.freeze([0.001, 0.01, 0.1, 1, 2, 5])
const GC_KINDS = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb'
}

class RuntimeMetrics {
  constructor () {
    this.delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
    this.delay.enable()
    this.eluMark = performance.eventLoopUtilization()
    this.window = emptyWindow()
    this.gc = {}
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.recordGc(entry)
    })
    this.gcObserver.observe({ entryTypes: ['gc'] })
  }

  recordGc (entry) {
    const kind = GC_KINDS[entry.detail ? entry.detail.kind : entry.kind] || 'other'
    let g = this.gc[kind]
    if (!g) g = this.gc[kind] = { counts: new Array(GC_BUCKETS.length + 1).fill(0), sum: 0, count: 0 }
    const seconds = entry.duration / 1000
    let i = 0
    while (i < GC_BUCKETS.length && seconds > GC_BUCKETS[i]) i++
    g.counts[i]++
    g.sum += seconds
    g.count++
  }

  // Closes the current window: its event-loop figures become the ones reported.
  // The histogram measures the time between timer ticks, which includes the timer's own
  // resolution: that is subtracted, so an idle loop reads ~0, not 10 ms.
  tick () {
    const h = this.delay
    const ms = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS)
    const elu = performance.eventLoopUtilization(this.eluMark)
    this.eluMark = performance.eventLoopUtilization()
    this.window = h.count === 0
      ? { ...emptyWindow(), utilization: elu.utilization }
      : {
          minMs: ms(h.min),
          maxMs: ms(h.max),
          meanMs: ms(h.mean),
          p50Ms: ms(h.percentile(50)),
          p90Ms: ms(h.percentile(90)),
          p99Ms: ms(h.percentile(99)),
          utilization: elu.utilization
        }
    h.reset()
    return this.window
  }

  snapshot () {
    const heap = v8.getHeapStatistics()
    const spaces = {}
    for (const s of v8.getHeapSpaceStatistics()) {
      spaces[s.space_name] = { sizeBytes: s.space_size, usedBytes: s.space_used_size, availableBytes: s.space_available_size }
    }
    const resources = {}
    for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] || 0) + 1
    const gc = {}
    for (const kind in this.gc) gc[kind] = { count: this.gc[kind].count, seconds: this.gc[kind].sum }
    return {
      eventLoop: { ...this.window },
      heap: {
        totalBytes: heap.total_heap_size,
        usedBytes: heap.used_heap_size,
        limitBytes: heap.heap_size_limit,
        externalBytes: heap.external_memory,
        spaces
      },
      gc,
      activeResources: resources
    }
  }

  families () {
    const snap = this.snapshot()
    const gauge = (name, help, value) => ({ name, help, type: 'gauge', samples: [{ labels: {}, value }] })
    const w = snap.eventLoop
    const families = [
      gauge('nodejs_eventloop_delay_min_seconds', 'Smallest event-loop delay over the last interval.', w.minMs / 1000),
      gauge('nodejs_eventloop_delay_max_seconds', 'Largest event-loop delay over the last interval.', w.maxMs / 1000),
      gauge('nodejs_eventloop_delay_mean_seconds', 'Mean event-loop delay over the last interval.', w.meanMs / 1000),
      gauge('nodejs_eventloop_delay_p50_seconds', 'Median event-loop delay over the last interval.', w.p50Ms / 1000),
      gauge('nodejs_eventloop_delay_p90_seconds', '90th percentile of the event-loop delay over the last interval.', w.p90Ms / 1000),
      gauge('nodejs_eventloop_delay_p99_seconds', '99th percentile of the event-loop delay over the last interval.', w.p99Ms / 1000),
      gauge('nodejs_eventloop_utilization_ratio', 'Share of the last interval the event loop was busy.', w.utilization),
      gauge('nodejs_heap_size_total_bytes', 'V8 heap size.', snap.heap.totalBytes),
      gauge('nodejs_heap_size_used_bytes', 'V8 heap in use.', snap.heap.usedBytes),
      gauge('nodejs_heap_size_limit_bytes', 'V8 heap size limit.', snap.heap.limitBytes),
      gauge('nodejs_external_memory_bytes', 'Memory held outside the V8 heap by JS objects (buffers).', snap.heap.externalBytes)
    ]
    const perSpace = (name, help, key) => ({
      name,
      help,
      type: 'gauge',
      samples: Object.entries(snap.heap.spaces).map(([space, s]) => ({ labels: { space }, value: s[key] }))
    })
    families.push(
      perSpace('nodejs_heap_space_size_total_bytes', 'Size of a V8 heap space.', 'sizeBytes'),
      perSpace('nodejs_heap_space_size_used_bytes', 'Used size of a V8 heap space.', 'usedBytes'),
      perSpace('nodejs_heap_space_size_available_bytes', 'Available size of a V8 heap space.', 'availableBytes'),
      {
        name: 'nodejs_gc_duration_seconds',
        help: 'Garbage collection pauses by kind.',
        type: 'histogram',
        buckets: GC_BUCKETS,
        samples: Object.entries(this.gc).map(([kind, g]) => ({ labels: { kind }, counts: [...g.counts], sum: g.sum, count: g.count }))
      },
      {
        name: 'nodejs_active_resources',
        help: 'Resources keeping the event loop alive, by type (handles and requests).',
        type: 'gauge',
        samples: Object.entries(snap.activeResources).map(([type, value]) => ({ labels: { type }, value }))
      }
    )
    return families
  }

  close () {
    this.delay.disable()
    this.gcObserver.disconnect()
  }
}

function emptyWindow () {
  return { minMs: 0, maxMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, utilization: 0 }
}

module.exports = { RuntimeMetrics, RESOLUTION_MS }

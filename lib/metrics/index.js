'use strict'
// The metrics of one process: app metrics (registry.js), runtime metrics only JS can see
// (runtime.js), outgoing HTTP calls (http-client.js), and the process and system figures
// that a Rust thread samples and renders (src/metrics/). A scrape joins finished pieces:
// the Rust text is copied only when a new sample exists.

const http = require('node:http')
const cluster = require('node:cluster')
const { MetricsSampler } = require('../native')
const { Registry } = require('./registry')
const { RuntimeMetrics } = require('./runtime')
const { trackHttpClient } = require('./http-client')
const { Thresholds } = require('./thresholds')
const { answerPrimary, collectWorkers, mergeFamilies } = require('./cluster')
const { render } = require('./families')
const { shippingFamilies } = require('../ship/metrics')
const { fail, isPlainObject } = require('../log/options')

const KNOWN = ['intervalMs', 'port', 'host', 'httpClient', 'thresholds', 'clusterTimeoutMs']
const THRESHOLD_KEYS = ['eventLoopDelayP99Ms', 'residentMemoryBytes', 'cpuRatio', 'intervals']
const RESERVED = /^(process_|system_|nodejs_|prodkit_|http_client_request_duration_seconds$)/
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

function checkNumber (name, value, min, max, integer = true) {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw fail(name, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, value)
  }
  return value
}

function resolveMetricsOptions (options) {
  if (options === undefined || options === true) options = {}
  if (!isPlainObject(options)) throw fail('metrics', 'an object, or false to turn metrics off', options)
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new TypeError(`prodkit: unknown option metrics.${key} (known: ${KNOWN.join(', ')})`)
  }
  const resolved = {
    intervalMs: options.intervalMs === undefined ? 10_000 : checkNumber('metrics.intervalMs', options.intervalMs, 100, 3_600_000),
    port: options.port === undefined ? undefined : checkNumber('metrics.port', options.port, 0, 65535),
    host: options.host === undefined ? '127.0.0.1' : options.host,
    httpClient: options.httpClient !== false,
    clusterTimeoutMs: options.clusterTimeoutMs === undefined ? 1000 : checkNumber('metrics.clusterTimeoutMs', options.clusterTimeoutMs, 1, 60_000),
    thresholds: undefined
  }
  if (typeof resolved.host !== 'string' || resolved.host === '') throw fail('metrics.host', 'a host name or address', options.host)
  if (options.httpClient !== undefined && typeof options.httpClient !== 'boolean') throw fail('metrics.httpClient', 'true or false', options.httpClient)
  if (options.thresholds !== undefined) {
    const t = options.thresholds
    if (!isPlainObject(t)) throw fail('metrics.thresholds', 'an object', t)
    for (const key of Object.keys(t)) {
      if (!THRESHOLD_KEYS.includes(key)) throw new TypeError(`prodkit: unknown option metrics.thresholds.${key} (known: ${THRESHOLD_KEYS.join(', ')})`)
    }
    if (t.eventLoopDelayP99Ms !== undefined) checkNumber('metrics.thresholds.eventLoopDelayP99Ms', t.eventLoopDelayP99Ms, 0, 3_600_000, false)
    if (t.residentMemoryBytes !== undefined) checkNumber('metrics.thresholds.residentMemoryBytes', t.residentMemoryBytes, 0, Number.MAX_SAFE_INTEGER)
    if (t.cpuRatio !== undefined) checkNumber('metrics.thresholds.cpuRatio', t.cpuRatio, 0, 1024, false)
    resolved.thresholds = { ...t, intervals: t.intervals === undefined ? 3 : checkNumber('metrics.thresholds.intervals', t.intervals, 1, 1000) }
  }
  return resolved
}

class Metrics {
  constructor (options, { log }) {
    const resolved = resolveMetricsOptions(options)
    this.options = resolved
    this.log = log
    this.registry = new Registry()
    this.registry.rejections.onFirst = (reason) => log.warn({ reason }, `metric update ignored: ${reason} (further ones are only counted)`)
    this.runtime = new RuntimeMetrics()
    this.sampler = new MetricsSampler(resolved.intervalMs)
    this.httpClient = resolved.httpClient ? trackHttpClient(this.registry) : null
    this.thresholds = resolved.thresholds ? new Thresholds(log, resolved.thresholds) : null
    this.cached = { seq: -1, text: '', json: null }
    this.missingReports = 0
    this.interval = setInterval(() => this.tick(), resolved.intervalMs)
    this.interval.unref()
    this.primaryLink = answerPrimary(() => this.workerFamilies())
    this.server = null
    // In a cluster, the primary serves every process's metrics; a worker answers it over
    // IPC instead of listening on the same port.
    if (resolved.port !== undefined && !cluster.isWorker) this.listen(resolved.port, resolved.host)
  }

  // Closes the event-loop window and checks the thresholds, once per interval.
  tick () {
    const window = this.runtime.tick()
    if (this.thresholds) {
      const s = this.sampler.summary()
      this.thresholds.check({
        eventLoopDelayP99Ms: window.p99Ms,
        residentMemoryBytes: s.seq > 0 ? s.residentMemoryBytes : undefined,
        cpuRatio: s.seq > 0 ? s.cpuRatio : undefined
      })
    }
  }

  create (kind, name, options) {
    if (typeof name === 'string' && RESERVED.test(name)) {
      throw fail(`${kind}(name)`, 'a name outside prodkit\'s own families (process_, system_, nodejs_, prodkit_)', name)
    }
    return this.registry.create(kind, name, options)
  }

  counter (name, options) { return this.create('counter', name, options) }
  gauge (name, options) { return this.create('gauge', name, options) }
  histogram (name, options) { return this.create('histogram', name, options) }
  timer (name, options) { return this.create('timer', name, options) }

  // The Rust sampler's text, fetched again only when there is a new sample.
  samplerText () {
    const seq = this.sampler.seq()
    if (seq !== this.cached.seq) this.cached = { seq, text: this.sampler.prometheus(), json: null }
    return this.cached.text
  }

  families () {
    return [...this.runtime.families(), ...shippingFamilies(this.log), ...this.registry.families()]
  }

  prometheus () {
    return this.samplerText() + render(this.families())
  }

  snapshot () {
    this.samplerText()
    if (this.cached.json === null) {
      const text = this.sampler.json()
      this.cached.json = text ? JSON.parse(text) : { time: null, process: null, system: null, sampler: null }
    }
    const app = {}
    for (const family of this.registry.families()) app[family.name] = family
    return { ...this.cached.json, ...this.runtime.snapshot(), app }
  }

  // What a worker reports to the primary: its runtime and app families, and its own
  // process figures under names that do not clash with the primary's.
  workerFamilies () {
    const s = this.sampler.summary()
    const families = this.families()
    if (s.seq > 0) {
      families.push(
        { name: 'prodkit_worker_resident_memory_bytes', help: 'Resident memory of a cluster process.', type: 'gauge', samples: [{ labels: {}, value: s.residentMemoryBytes }] },
        { name: 'prodkit_worker_cpu_usage_ratio', help: 'CPU of a cluster process over the last interval (1 is one core).', type: 'gauge', samples: [{ labels: {}, value: s.cpuRatio }] }
      )
    }
    return families
  }

  // In a cluster's primary: the primary's process and system figures, and every
  // process's families merged. Workers that miss the deadline are left out and counted.
  async clusterPrometheus () {
    const reports = await collectWorkers(this.options.clusterTimeoutMs)
    const answered = reports.filter((r) => r.families)
    const missing = reports.length - answered.length
    this.missingReports += missing
    const merged = mergeFamilies([{ worker: 'primary', families: this.workerFamilies() }, ...answered])
    merged.push(
      { name: 'prodkit_cluster_workers', help: 'Workers asked for metrics in this scrape, by whether they answered in time.', type: 'gauge', samples: [{ labels: { state: 'answered' }, value: answered.length }, { labels: { state: 'missing' }, value: missing }] },
      { name: 'prodkit_cluster_missing_reports_total', help: 'Worker reports missing from scrapes (the worker did not answer in time).', type: 'counter', samples: [{ labels: {}, value: this.missingReports }] }
    )
    return this.samplerText() + render(merged)
  }

  // The text a scrape gets: merged across the cluster in a primary with workers.
  scrape () {
    if (cluster.isPrimary && Object.keys(cluster.workers || {}).length > 0) return this.clusterPrometheus()
    return Promise.resolve(this.prometheus())
  }

  listen (port, host) {
    this.server = http.createServer((req, res) => {
      const path = String(req.url).split('?')[0]
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try GET /metrics\n')
        return
      }
      this.scrape().then((text) => {
        res.writeHead(200, { 'Content-Type': CONTENT_TYPE }).end(text)
      }, (err) => {
        this.log.error({ err }, 'metrics scrape failed')
        res.writeHead(500).end()
      })
    })
    this.server.on('error', (err) => this.log.error({ err, port, host }, `metrics server on ${host}:${port} failed`))
    this.server.listen(port, host)
    this.server.unref()
  }

  // The port the /metrics server listens on (useful with port 0), or undefined.
  get port () {
    const address = this.server && this.server.address()
    return address && typeof address === 'object' ? address.port : undefined
  }

  close () {
    clearInterval(this.interval)
    this.sampler.stop()
    this.runtime.close()
    if (this.httpClient) this.httpClient.close()
    this.primaryLink.close()
    if (this.server) this.server.close()
  }
}

function createMetrics (options, deps) {
  return new Metrics(options, deps)
}

module.exports = { createMetrics, Metrics, resolveMetricsOptions, CONTENT_TYPE }

'use strict'
// The metrics of one process: app metrics (registry.js), runtime metrics only JS can see
// (runtime.js), outgoing HTTP calls (http-client.js), incoming requests (http-server.js),
// and the process and system figures
// that a Rust thread samples and renders (src/metrics/). A scrape joins finished pieces:
// the Rust text is copied only when a new sample exists.

const http = require('node:http')
const { performance } = require('node:perf_hooks')
const cluster = require('node:cluster')
const { MetricsSampler } = require('../native')
const { Registry } = require('./registry')
const { RuntimeMetrics } = require('./runtime')
const { trackHttpClient } = require('./http-client')
const { Thresholds } = require('./thresholds')
const { answerPrimary, collectWorkers, ClusterMerger } = require('./cluster')
const { HttpServerMetrics } = require('./http-server')
const { render, decorateText } = require('./families')
const { encode } = require('./wire')
const { negotiate, CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE } = require('./negotiate')
const { DEFAULT_BUCKETS, refreshOtel } = require('./registry')
const { shippingFamilies } = require('../ship/metrics')
const { fail, isPlainObject } = require('../log/options')

// When this process started (seconds since the epoch): the OpenMetrics `_created` of the
// counters, histograms and summaries that do not know their own (runtime, shipping, cluster).
const PROCESS_START = performance.timeOrigin / 1000

const KNOWN = ['intervalMs', 'port', 'host', 'httpClient', 'httpServer', 'thresholds', 'clusterTimeoutMs', 'collectTimeoutMs', 'prefix', 'defaultLabels']
const THRESHOLD_KEYS = ['eventLoopDelayP99Ms', 'residentMemoryBytes', 'cpuRatio', 'intervals']
const RESERVED = /^(process_|system_|nodejs_|prodkit_|http_client_request_duration_seconds$|http_server_request_duration_seconds$)/
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

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
    collectTimeoutMs: options.collectTimeoutMs === undefined ? 1000 : checkNumber('metrics.collectTimeoutMs', options.collectTimeoutMs, 1, 60_000),
    httpServer: resolveHttpServer(options.httpServer),
    prefix: options.prefix === undefined ? '' : options.prefix,
    defaultLabels: checkDefaultLabels('metrics.defaultLabels', options.defaultLabels === undefined ? {} : options.defaultLabels),
    thresholds: undefined
  }
  if (typeof resolved.prefix !== 'string' || (resolved.prefix !== '' && !NAME.test(resolved.prefix))) {
    throw fail('metrics.prefix', 'a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*', options.prefix)
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

// httpServer: true (default buckets), false, or { buckets }.
function resolveHttpServer (value) {
  if (value === undefined || value === true) return { buckets: DEFAULT_BUCKETS }
  if (value === false) return false
  if (!isPlainObject(value)) throw fail('metrics.httpServer', 'true, false or { buckets }', value)
  for (const key of Object.keys(value)) {
    if (key !== 'buckets') throw new TypeError(`prodkit: unknown option metrics.httpServer.${key} (known: buckets)`)
  }
  const buckets = value.buckets === undefined ? DEFAULT_BUCKETS : value.buckets
  if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((b, i) => Number.isFinite(b) && (i === 0 || b > buckets[i - 1]))) {
    throw fail('metrics.httpServer.buckets', 'a non-empty array of finite numbers in increasing order', value.buckets)
  }
  return { buckets: Object.freeze([...buckets]) }
}

function checkDefaultLabels (name, labels) {
  if (!isPlainObject(labels)) throw fail(name, 'an object of label names to values', labels)
  const out = {}
  for (const [key, value] of Object.entries(labels)) {
    if (!LABEL.test(key) || key.startsWith('__') || key === 'le' || key === 'quantile' || key === 'worker') {
      throw fail(`${name} keys`, 'label names ([a-zA-Z_][a-zA-Z0-9_]*, not le, quantile, worker or __*)', key)
    }
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw fail(`${name}.${key}`, 'a string, number or boolean', value)
    out[key] = String(value)
  }
  return Object.freeze(out)
}

class Metrics {
  constructor (options, { log }) {
    const resolved = resolveMetricsOptions(options)
    this.options = resolved
    this.log = log
    this.registry = new Registry()
    this.registry.rejections.onFirst = (reason) => log.warn({ reason }, `metric update ignored: ${reason} (further ones are only counted)`)
    this.registry.onCollectError = (metric, err) => log.error({ err, metric }, `metric ${metric}: collect() failed; the scrape went on with its previous values (further failures are only counted)`)
    this.defaultLabels = resolved.defaultLabels
    this.runtime = new RuntimeMetrics()
    this.sampler = new MetricsSampler(resolved.intervalMs)
    this.httpClient = resolved.httpClient ? trackHttpClient(this.registry) : null
    this.httpServer = resolved.httpServer ? new HttpServerMetrics(this.registry, resolved.httpServer.buckets) : null
    this.thresholds = resolved.thresholds ? new Thresholds(log, resolved.thresholds) : null
    this.cached = { seq: -1, text: '', json: null, decorated: new Map() }
    this.missingReports = 0
    this.interval = setInterval(() => this.tick(), resolved.intervalMs)
    this.interval.unref()
    this.primaryLink = answerPrimary(() => this.workerFamilies())
    this.merger = cluster.isPrimary ? new ClusterMerger() : null
    this.server = null
    // In a cluster, the primary serves every process's metrics; a worker answers it over
    // IPC instead of listening on the same port.
    if (resolved.port !== undefined && !cluster.isWorker) this.listen(resolved.port, resolved.host)
  }

  // Closes the event-loop window and checks the thresholds, once per interval.
  tick () {
    refreshOtel()
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
  summary (name, options) { return this.create('summary', name, options) }

  // Labels every series carries from now on (prom-client's register.setDefaultLabels).
  setDefaultLabels (labels) {
    this.defaultLabels = checkDefaultLabels('setDefaultLabels(labels)', labels)
    this.cached.decorated.clear()
  }

  renderOptions (openMetrics) {
    return { prefix: this.options.prefix, defaultLabels: this.defaultLabels, openMetrics, created: PROCESS_START }
  }

  // The Rust sampler's text, fetched again only when there is a new sample (and decorated
  // with the prefix, default labels or OpenMetrics names once per sample and format).
  samplerText (openMetrics = false) {
    const seq = this.sampler.seq()
    if (seq !== this.cached.seq) this.cached = { seq, text: this.sampler.prometheus(), json: null, decorated: new Map() }
    const key = openMetrics ? 'om' : 'prom'
    let text = this.cached.decorated.get(key)
    if (text === undefined) {
      text = decorateText(this.cached.text, this.renderOptions(openMetrics))
      this.cached.decorated.set(key, text)
    }
    return text
  }

  families () {
    return [...this.runtime.families(), ...shippingFamilies(this.log), ...this.registry.families()]
  }

  // Prometheus text. Sync collect() callbacks run first; an async one's values show from
  // the next scrape (scrape() waits for them).
  prometheus () {
    this.registry.collect(this.options.collectTimeoutMs)
    return this.text(false)
  }

  // OpenMetrics 1.0.0 text, exemplars included, ending in `# EOF`.
  openMetrics () {
    this.registry.collect(this.options.collectTimeoutMs)
    return this.text(true)
  }

  text (openMetrics) {
    return this.samplerText(openMetrics) + render(this.families(), this.renderOptions(openMetrics)) + (openMetrics ? '# EOF\n' : '')
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

  // What a worker reports to the primary, in the cluster wire form (lib/metrics/wire.js):
  // its runtime and app families, and its own process figures under names that do not
  // clash with the primary's.
  async workerFamilies () {
    await this.registry.collect(this.options.collectTimeoutMs)
    return this.processFamilies()
  }

  processFamilies () {
    const s = this.sampler.summary()
    const own = [...this.runtime.families(), ...shippingFamilies(this.log)]
    if (s.seq > 0) {
      own.push(
        { name: 'prodkit_worker_resident_memory_bytes', help: 'Resident memory of a cluster process.', type: 'gauge', samples: [{ labels: {}, value: s.residentMemoryBytes }] },
        { name: 'prodkit_worker_cpu_usage_ratio', help: 'CPU of a cluster process over the last interval (1 is one core).', type: 'gauge', samples: [{ labels: {}, value: s.cpuRatio }] }
      )
    }
    const wire = encode(own)
    const tail = s.seq > 0 ? wire.splice(wire.length - 2, 2) : []
    return [...wire, ...this.registry.wireFamilies(), ...tail]
  }

  // In a cluster's primary: the primary's process and system figures, and every
  // process's families merged (lib/metrics/cluster.js). A worker that misses the deadline
  // is counted from its last report and flagged; the scrape still answers.
  async clusterPrometheus (format = 'prometheus') {
    const openMetrics = format === 'openmetrics'
    const [reports, own] = await Promise.all([collectWorkers(this.options.clusterTimeoutMs, this.merger.layouts), this.workerFamilies()])
    const { merged, missing } = this.merger.merge(own, reports)
    this.missingReports += missing.length
    merged.push(
      { name: 'prodkit_cluster_workers', help: 'Workers asked for metrics in this scrape, by whether they answered in time.', type: 'gauge', samples: [{ labels: { state: 'answered' }, value: reports.length - missing.length }, { labels: { state: 'missing' }, value: missing.length }] },
      { name: 'prodkit_cluster_missing_reports_total', help: 'Worker reports missing from scrapes (the worker did not answer in time).', type: 'counter', samples: [{ labels: {}, value: this.missingReports }] }
    )
    return this.samplerText(openMetrics) + render(merged, this.renderOptions(openMetrics)) + (openMetrics ? '# EOF\n' : '')
  }

  // The text a scrape gets, 'prometheus' (0.0.4) or 'openmetrics': merged across the
  // cluster in a primary with workers; async collect() callbacks awaited.
  async scrape (format = 'prometheus') {
    if (format !== 'prometheus' && format !== 'openmetrics') throw fail('scrape(format)', "'prometheus' or 'openmetrics'", format)
    if (cluster.isPrimary && Object.keys(cluster.workers || {}).length > 0) return this.clusterPrometheus(format)
    await this.registry.collect(this.options.collectTimeoutMs)
    return this.text(format === 'openmetrics')
  }

  // Answers a scrape request: the format its Accept header prefers, with its content type.
  serve (req, res, onError) {
    const { format, contentType } = negotiate(req.headers && req.headers.accept)
    this.scrape(format).then((text) => {
      res.statusCode = 200
      res.setHeader('Content-Type', contentType)
      res.end(text)
    }, onError)
  }

  listen (port, host) {
    this.server = http.createServer((req, res) => {
      const path = String(req.url).split('?')[0]
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try GET /metrics\n')
        return
      }
      this.serve(req, res, (err) => {
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
    if (this.httpServer) this.httpServer.close()
    if (this.merger) this.merger.close()
    this.primaryLink.close()
    if (this.server) this.server.close()
  }
}

function createMetrics (options, deps) {
  return new Metrics(options, deps)
}

module.exports = { createMetrics, Metrics, resolveMetricsOptions, CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE }

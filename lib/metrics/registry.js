'use strict'
// App metrics: counter, gauge, histogram, timer and summary, with labels. Updates stay in
// JS and cost a few nanoseconds (`labels()` returns a cached child, so a labelled update on
// a hot path is a property write). Creating a metric validates everything once and throws a
// TypeError on bad names or options; updating never throws: a bad value is ignored and
// counted in prodkit_metrics_rejected_updates_total.
//
// While an OpenTelemetry span is active, a counter increment and a histogram observation
// keep the trace as the series' (or the bucket's) exemplar, shown in OpenMetrics output.
// `collect()` callbacks (sync or async) run before each scrape; one that throws, rejects or
// takes longer than the scrape's budget is counted and logged once, and the scrape goes on
// with the metric's previous values.

const { performance } = require('node:perf_hooks')
const { fail, isPlainObject } = require('../log/options')
const { otelApi, activeTraceFields } = require('../context/trace')
const { WindowedSketch, quantilesOf, plain } = require('./sketch')
const { encodeFamily, escapeLabel } = require('./wire')

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const DEFAULT_BUCKETS = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
const DEFAULT_PERCENTILES = Object.freeze([0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999])
const KNOWN = {
  counter: ['help', 'labelNames', 'collect'],
  gauge: ['help', 'labelNames', 'collect'],
  histogram: ['help', 'labelNames', 'buckets', 'collect'],
  summary: ['help', 'labelNames', 'percentiles', 'maxAgeSeconds', 'ageBuckets', 'collect']
}

// The OpenTelemetry API's globals, read again when a registry is made, at each scrape and
// each sampling interval: reading them on every update would cost ~100 ns (a missing
// symbol property of the global object), the update itself a few. So an SDK registered
// after the metrics were made gives exemplars from the next scrape or interval on.
const otel = { api: otelApi() }
function refreshOtel () {
  otel.api = otelApi()
}

// The active span as an exemplar of `value`, or undefined (no OpenTelemetry, no span).
function exemplarOf (value) {
  const api = otel.api
  if (api === undefined) return undefined
  const fields = activeTraceFields(api)
  if (fields === null) return undefined
  return { labels: { trace_id: fields.record.trace_id, span_id: fields.record.span_id }, value, timestamp: Date.now() / 1000 }
}

class Rejections {
  constructor () {
    this.count = 0
    this.onFirst = null
  }

  add (reason) {
    this.count++
    if (this.count === 1 && this.onFirst) this.onFirst(reason)
  }
}

// The series of one label set.
class CounterChild {
  constructor (rejections) {
    this.value = 0
    this.rejections = rejections
  }

  inc (by = 1) {
    if (typeof by === 'number' && by >= 0 && by !== Infinity) {
      this.value += by
      if (otel.api !== undefined) this.exemplar = exemplarOf(by) || this.exemplar
    } else {
      this.rejections.add(`counter.inc(${String(by)}): counters only go up by finite amounts`)
    }
  }
}

class GaugeChild {
  constructor (rejections) {
    this.value = 0
    this.rejections = rejections
  }

  set (value) {
    if (typeof value === 'number' && !Number.isNaN(value)) this.value = value
    else this.rejections.add(`gauge.set(${String(value)}): not a number`)
  }

  inc (by = 1) {
    if (typeof by === 'number' && Number.isFinite(by)) this.value += by
    else this.rejections.add(`gauge.inc(${String(by)}): not a finite number`)
  }

  dec (by = 1) {
    if (typeof by === 'number' && Number.isFinite(by)) this.value -= by
    else this.rejections.add(`gauge.dec(${String(by)}): not a finite number`)
  }
}

class HistogramChild {
  constructor (buckets, rejections) {
    this.buckets = buckets
    this.counts = new Float64Array(buckets.length + 1)
    this.sum = 0
    this.count = 0
    this.rejections = rejections
  }

  observe (value) {
    if (typeof value !== 'number' || Number.isNaN(value)) {
      this.rejections.add(`histogram.observe(${String(value)}): not a number`)
      return
    }
    const buckets = this.buckets
    let i = 0
    while (i < buckets.length && value > buckets[i]) i++
    this.counts[i]++
    this.sum += value
    this.count++
    if (otel.api !== undefined) {
      const exemplar = exemplarOf(value)
      if (exemplar !== undefined) (this.exemplars || (this.exemplars = []))[i] = exemplar
    }
  }
}

// Sliding-window quantiles (lib/metrics/sketch.js); sum and count cover all time, as in
// prom-client and the Go client.
class SummaryChild {
  constructor (options, rejections, now) {
    this.window = new WindowedSketch(options.maxAgeSeconds, options.ageBuckets, now)
    this.sum = 0
    this.count = 0
    this.rejections = rejections
  }

  observe (value) {
    if (typeof value !== 'number' || Number.isNaN(value)) {
      this.rejections.add(`summary.observe(${String(value)}): not a number`)
      return
    }
    this.window.add(value)
    this.sum += value
    this.count++
  }
}

class Metric {
  constructor (type, name, options, rejections, makeChild) {
    this.type = type
    this.name = name
    this.help = options.help
    this.labelNames = options.labelNames
    this.makeChild = makeChild
    this.children = new Map()
    this.labelSets = new Map() // child key -> its labels object (family())
    this.wireKeys = [] // the rendered labels of the children, in order (wire())
    this.wireCreated = [] // and their creation times
    this.rejections = rejections
    this.unlabelled = this.labelNames.length === 0 ? this.child('') : null
  }

  child (key) {
    let child = this.children.get(key)
    if (child === undefined) {
      child = this.makeChild()
      child.created = Date.now() / 1000 // OpenMetrics _created
      this.children.set(key, child)
    }
    return child
  }

  // The series for these label values (missing labels are ''; unknown ones are ignored
  // and counted). Keep the result for hot paths: it is the same object every time.
  labels (values) {
    if (this.labelNames.length === 0) return this.unlabelled
    let key = ''
    for (let i = 0; i < this.labelNames.length; i++) {
      const v = values == null ? undefined : values[this.labelNames[i]]
      key += (i ? '\u0000' : '') + (v === undefined || v === null ? '' : String(v))
    }
    if (values != null) {
      for (const k in values) {
        if (!this.labelNames.includes(k)) {
          this.rejections.add(`${this.name}.labels(): unknown label ${k} (known: ${this.labelNames.join(', ')})`)
          break
        }
      }
    }
    return this.child(key)
  }

  // The first argument of an update may be a labels object (prom-client style).
  target (maybeLabels) {
    if (maybeLabels !== null && typeof maybeLabels === 'object') return this.labels(maybeLabels)
    return this.unlabelled || this.labels(undefined)
  }

  family () {
    const samples = []
    for (const [key, child] of this.children) {
      // One frozen labels object per series, made once: the cluster wire form renders it
      // once and caches the text by identity (lib/metrics/wire.js).
      let labels = this.labelSets.get(key)
      if (labels === undefined) {
        const parts = key === '' && this.labelNames.length === 0 ? [] : key.split('\u0000')
        labels = {}
        this.labelNames.forEach((name, i) => { labels[name] = parts[i] ?? '' })
        Object.freeze(labels)
        this.labelSets.set(key, labels)
      }
      if (this.type === 'histogram') {
        const sample = { labels, counts: Array.from(child.counts), sum: child.sum, count: child.count, created: child.created }
        if (child.exemplars) sample.exemplars = [...child.exemplars].map((e) => e || null)
        samples.push(sample)
      } else if (this.type === 'summary') {
        const bins = child.window.bins()
        samples.push({ labels, sum: child.sum, count: child.count, quantiles: quantilesOf(bins, this.percentiles), sketch: plain(bins), created: child.created })
      } else {
        const sample = { labels, value: child.value }
        if (child.exemplar) sample.exemplar = child.exemplar
        if (this.type === 'counter') sample.created = child.created
        samples.push(sample)
      }
    }
    if (this.type === 'histogram') return { name: this.name, help: this.help, type: 'histogram', buckets: this.buckets, samples }
    if (this.type === 'summary') return { name: this.name, help: this.help, type: 'summary', percentiles: this.percentiles, samples }
    return { name: this.name, help: this.help, type: this.type, samples }
  }

  // The family in the cluster wire form (lib/metrics/wire.js), straight from the series:
  // what a worker reports at each scrape. The rendered label strings are kept (series are
  // only ever added, in the children map's order), so a report renders no label.
  wire () {
    const keys = this.wireKeys
    const created = this.wireCreated
    if (keys.length !== this.children.size) {
      let i = 0
      for (const [key, child] of this.children) {
        if (i++ < keys.length) continue
        created.push(child.created)
        const parts = key === '' && this.labelNames.length === 0 ? [] : key.split('\u0000')
        let text = ''
        this.labelNames.forEach((name, k) => { text += (k ? ',' : '') + name + '="' + escapeLabel(parts[k] ?? '') + '"' })
        keys.push(text)
      }
    }
    const flat = []
    let exemplars = null
    let strings = 0
    let i = 0
    for (const child of this.children.values()) {
      if (this.type === 'histogram') {
        flat.push(child.sum, child.count)
        for (let k = 0; k < child.counts.length; k++) flat.push(child.counts[k])
        if (child.exemplars) (exemplars || (exemplars = [])).push([i, [...child.exemplars].map((e) => e || null)])
      } else if (this.type === 'summary') {
        flat.push(child.sum, child.count, plain(child.window.bins()))
      } else {
        flat.push(child.value)
        if (child.exemplar) (exemplars || (exemplars = [])).push([i, child.exemplar])
      }
      i++
    }
    for (let k = 0; k < flat.length; k++) {
      if (typeof flat[k] === 'number' && !Number.isFinite(flat[k])) { flat[k] = String(flat[k]); strings = 1 }
    }
    const extra = this.type === 'histogram' ? this.buckets : this.type === 'summary' ? this.percentiles : null
    return [this.name, this.help, this.type, this.children.size ? this.labelNames : [], extra, keys.slice(), flat, exemplars, null, strings, this.type === 'gauge' || keys.length === 0 ? null : created.slice()]
  }
}

class Counter extends Metric {
  inc (a, b) {
    if (typeof a === 'object' && a !== null) this.labels(a).inc(b)
    else this.target().inc(a)
  }
}

class Gauge extends Metric {
  set (a, b) {
    if (typeof a === 'object' && a !== null) this.labels(a).set(b)
    else this.target().set(a)
  }

  inc (a, b) {
    if (typeof a === 'object' && a !== null) this.labels(a).inc(b)
    else this.target().inc(a)
  }

  dec (a, b) {
    if (typeof a === 'object' && a !== null) this.labels(a).dec(b)
    else this.target().dec(a)
  }
}

class Histogram extends Metric {
  observe (a, b) {
    if (typeof a === 'object' && a !== null) this.labels(a).observe(b)
    else this.target().observe(a)
  }
}

class Summary extends Metric {
  observe (a, b) {
    if (typeof a === 'object' && a !== null) this.labels(a).observe(b)
    else this.target().observe(a)
  }
}

// A histogram of durations in seconds, with helpers to time code.
class Timer extends Histogram {
  // Starts timing; the returned function stops it, records the seconds (with the
  // labels given here and to it) and returns them.
  start (labels) {
    const started = process.hrtime.bigint()
    return (moreLabels) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const all = labels || moreLabels ? { ...labels, ...moreLabels } : undefined
      if (all) this.labels(all).observe(seconds)
      else this.target().observe(seconds)
      return seconds
    }
  }

  // `fn` timed on every call, sync or async (the time runs until its promise settles).
  // Errors pass through unchanged; the call is timed either way.
  wrap (fn, labels) {
    if (typeof fn !== 'function') throw fail(`${this.name}.wrap(fn)`, 'a function', fn)
    const timer = this
    return function timed (...args) {
      const stop = timer.start(labels)
      let result
      try {
        result = fn.apply(this, args)
      } catch (err) {
        stop()
        throw err
      }
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        return result.then((value) => { stop(); return value }, (err) => { stop(); throw err })
      }
      stop()
      return result
    }
  }
}

const TYPES = { counter: Counter, gauge: Gauge, histogram: Histogram, timer: Timer, summary: Summary }

class Registry {
  constructor () {
    this.metrics = new Map()
    this.rejections = new Rejections()
    // Monotonic milliseconds for summary windows (a test may hand in its own clock).
    this.now = () => performance.now()
    // collect() failures by metric name; `onCollectError(name, err)` logs the first of each.
    this.collectErrors = new Map()
    this.onCollectError = null
    refreshOtel()
  }

  create (kind, name, options = {}) {
    const type = kind === 'timer' ? 'histogram' : kind
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw fail(`${kind}(name)`, 'a metric name matching [a-zA-Z_:][a-zA-Z0-9_:]*', name)
    }
    if (!isPlainObject(options)) throw fail(`${kind}(name, options)`, 'an object', options)
    for (const key of Object.keys(options)) {
      if (!KNOWN[type].includes(key)) throw new TypeError(`prodkit: unknown option ${kind} ${key} (known: ${KNOWN[type].join(', ')})`)
    }
    if (type === 'counter' && !name.endsWith('_total')) {
      throw fail(`counter(name)`, 'a name ending in _total (the Prometheus convention for counters)', name)
    }
    if (type !== 'counter' && name.endsWith('_total')) {
      throw fail(`${kind}(name)`, 'a name without _total (kept for counters)', name)
    }
    if (kind === 'timer' && !name.endsWith('_seconds')) throw fail('timer(name)', 'a name ending in _seconds (timers record seconds)', name)
    const help = options.help === undefined ? name.replace(/_/g, ' ') : options.help
    if (typeof help !== 'string') throw fail(`${kind} help`, 'a string', help)
    const labelNames = options.labelNames === undefined ? [] : options.labelNames
    if (!Array.isArray(labelNames) || !labelNames.every((l) => typeof l === 'string' && LABEL.test(l) && !l.startsWith('__') && l !== 'le' && l !== 'worker' && l !== 'quantile')) {
      throw fail(`${kind} labelNames`, 'an array of label names ([a-zA-Z_][a-zA-Z0-9_]*, not le, quantile, worker or __*)', labelNames)
    }
    if (options.collect !== undefined && typeof options.collect !== 'function') throw fail(`${kind} collect`, 'a function (called before each scrape)', options.collect)
    let summary
    if (type === 'summary') summary = summaryOptions(kind, options)
    let buckets
    if (type === 'histogram') {
      buckets = options.buckets === undefined ? DEFAULT_BUCKETS : options.buckets
      if (!Array.isArray(buckets) || buckets.length === 0 || !buckets.every((b, i) => Number.isFinite(b) && (i === 0 || b > buckets[i - 1]))) {
        throw fail(`${kind} buckets`, 'a non-empty array of finite numbers in increasing order', buckets)
      }
      buckets = Object.freeze([...buckets])
    }
    const existing = this.metrics.get(name)
    if (existing) {
      if (existing.kind === kind && existing.labelNames.join() === labelNames.join()) return existing
      throw new TypeError(`prodkit: metric ${name} already exists as a ${existing.kind} with labels [${existing.labelNames.join(', ')}]`)
    }
    const rejections = this.rejections
    const now = this.now
    const makeChild = type === 'counter'
      ? () => new CounterChild(rejections)
      : type === 'gauge'
        ? () => new GaugeChild(rejections)
        : type === 'summary' ? () => new SummaryChild(summary, rejections, () => now()) : () => new HistogramChild(buckets, rejections)
    const metric = new TYPES[kind](type, name, { help, labelNames }, rejections, makeChild)
    metric.kind = kind
    metric.buckets = buckets
    if (summary) metric.percentiles = summary.percentiles
    metric.collect = options.collect
    this.metrics.set(name, metric)
    return metric
  }

  // Runs every collect() callback. Resolves when all have finished or `budgetMs` has
  // passed; a failure is counted, never thrown. Sync callbacks have run when it returns.
  collect (budgetMs) {
    const pending = []
    for (const metric of this.metrics.values()) {
      if (metric.collect === undefined) continue
      let result
      try {
        result = metric.collect.call(metric)
      } catch (err) {
        this.collectFailed(metric.name, err)
        continue
      }
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        pending.push(Promise.resolve(result).then(() => {}, (err) => this.collectFailed(metric.name, err)))
        pending[pending.length - 1].metric = metric.name
      }
    }
    if (pending.length === 0) return null
    return new Promise((resolve) => {
      let left = pending.length
      const late = new Set(pending)
      const timer = setTimeout(() => {
        for (const p of late) this.collectFailed(p.metric, new Error(`collect() did not finish within ${budgetMs} ms: the scrape went on with the previous values`))
        resolve()
      }, budgetMs)
      for (const p of pending) {
        p.then(() => {
          late.delete(p)
          if (--left === 0) { clearTimeout(timer); resolve() }
        })
      }
    })
  }

  collectFailed (name, err) {
    const n = (this.collectErrors.get(name) || 0) + 1
    this.collectErrors.set(name, n)
    if (n === 1 && this.onCollectError) this.onCollectError(name, err)
  }

  // families() in the cluster wire form.
  wireFamilies () {
    refreshOtel()
    const out = []
    for (const metric of this.metrics.values()) out.push(metric.wire())
    for (const family of this.ownFamilies()) out.push(encodeFamily(family))
    return out
  }

  families () {
    refreshOtel()
    const out = []
    for (const metric of this.metrics.values()) out.push(metric.family())
    out.push(...this.ownFamilies())
    return out
  }

  // The registry's own figures: rejected updates and collect() failures.
  ownFamilies () {
    const out = []
    out.push({
      name: 'prodkit_metrics_rejected_updates_total',
      help: 'Metric updates ignored because of a bad value or label (the first is logged).',
      type: 'counter',
      samples: [{ labels: {}, value: this.rejections.count }]
    })
    if (this.collectErrors.size > 0) {
      out.push({
        name: 'prodkit_metrics_collect_errors_total',
        help: 'collect() callbacks that threw, rejected or missed the scrape budget, by metric (the first of each is logged).',
        type: 'counter',
        samples: [...this.collectErrors].map(([metric, value]) => ({ labels: { metric }, value }))
      })
    }
    return out
  }
}

function summaryOptions (kind, options) {
  const percentiles = options.percentiles === undefined ? DEFAULT_PERCENTILES : options.percentiles
  if (!Array.isArray(percentiles) || percentiles.length === 0 || !percentiles.every((q, i) => typeof q === 'number' && q >= 0 && q <= 1 && (i === 0 || q > percentiles[i - 1]))) {
    throw fail(`${kind} percentiles`, 'a non-empty array of increasing numbers from 0 to 1', percentiles)
  }
  const maxAgeSeconds = options.maxAgeSeconds
  if (maxAgeSeconds !== undefined && (typeof maxAgeSeconds !== 'number' || !(maxAgeSeconds > 0) || maxAgeSeconds === Infinity)) {
    throw fail(`${kind} maxAgeSeconds`, 'a positive number of seconds', maxAgeSeconds)
  }
  const ageBuckets = options.ageBuckets === undefined ? 5 : options.ageBuckets
  if (!Number.isInteger(ageBuckets) || ageBuckets < 1 || ageBuckets > 100) throw fail(`${kind} ageBuckets`, 'an integer from 1 to 100', ageBuckets)
  if (options.ageBuckets !== undefined && maxAgeSeconds === undefined) throw fail(`${kind} ageBuckets`, 'given with maxAgeSeconds (the window it divides)', ageBuckets)
  return { percentiles: Object.freeze([...percentiles]), maxAgeSeconds, ageBuckets }
}

module.exports = { Registry, DEFAULT_BUCKETS, DEFAULT_PERCENTILES, otel, refreshOtel }

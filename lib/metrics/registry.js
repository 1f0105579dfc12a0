'use strict'
// App metrics: counter, gauge, histogram and timer, with labels. Updates stay in JS and
// cost a few nanoseconds (`labels()` returns a cached child, so a labelled update on a hot
// path is a property write). Creating a metric validates everything once and throws a
// TypeError on bad names or options; updating never throws: a bad value is ignored and
// counted in prodkit_metrics_rejected_updates_total.

const { fail, isPlainObject } = require('../log/options')

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const DEFAULT_BUCKETS = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
const KNOWN = { counter: ['help', 'labelNames'], gauge: ['help', 'labelNames'], histogram: ['help', 'labelNames', 'buckets'] }

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
    if (typeof by === 'number' && by >= 0 && by !== Infinity) this.value += by
    else this.rejections.add(`counter.inc(${String(by)}): counters only go up by finite amounts`)
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
    this.rejections = rejections
    this.unlabelled = this.labelNames.length === 0 ? this.child('') : null
  }

  child (key) {
    let child = this.children.get(key)
    if (child === undefined) {
      child = this.makeChild()
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
      const parts = key === '' && this.labelNames.length === 0 ? [] : key.split('\u0000')
      const labels = {}
      this.labelNames.forEach((name, i) => { labels[name] = parts[i] ?? '' })
      samples.push(this.type === 'histogram'
        ? { labels, counts: Array.from(child.counts), sum: child.sum, count: child.count }
        : { labels, value: child.value })
    }
    return this.type === 'histogram'
      ? { name: this.name, help: this.help, type: 'histogram', buckets: this.buckets, samples }
      : { name: this.name, help: this.help, type: this.type, samples }
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

const TYPES = { counter: Counter, gauge: Gauge, histogram: Histogram, timer: Timer }

class Registry {
  constructor () {
    this.metrics = new Map()
    this.rejections = new Rejections()
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
    if (!Array.isArray(labelNames) || !labelNames.every((l) => typeof l === 'string' && LABEL.test(l) && !l.startsWith('__') && l !== 'le' && l !== 'worker')) {
      throw fail(`${kind} labelNames`, 'an array of label names ([a-zA-Z_][a-zA-Z0-9_]*, not le, worker or __*)', labelNames)
    }
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
    const makeChild = type === 'counter'
      ? () => new CounterChild(rejections)
      : type === 'gauge' ? () => new GaugeChild(rejections) : () => new HistogramChild(buckets, rejections)
    const metric = new TYPES[kind](type, name, { help, labelNames }, rejections, makeChild)
    metric.kind = kind
    metric.buckets = buckets
    this.metrics.set(name, metric)
    return metric
  }

  families () {
    const out = []
    for (const metric of this.metrics.values()) out.push(metric.family())
    out.push({
      name: 'prodkit_metrics_rejected_updates_total',
      help: 'Metric updates ignored because of a bad value or label (the first is logged).',
      type: 'counter',
      samples: [{ labels: {}, value: this.rejections.count }]
    })
    return out
  }
}

module.exports = { Registry, DEFAULT_BUCKETS }

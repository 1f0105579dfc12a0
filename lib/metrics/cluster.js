'use strict'
// Cluster-wide metrics. Each worker answers the primary's request over the cluster IPC
// channel with its metric families; the primary merges them: counters summed, gauges
// labelled by worker, histograms merged bucket by bucket, summaries by merging their
// sketches (lib/metrics/sketch.js: the quantiles are those of every worker's observations,
// never averaged quantiles; sum and count summed).
//
// Counters never go backwards while workers come and go (ClusterMerger): the primary keeps
// each worker's last report; a worker that misses the deadline (blocked, busy) is counted
// with its last counters, histograms and summary sums (its gauges are left out, and
// prodkit_cluster_worker_up{worker} is 0 for it); a worker that exits has its last
// cumulative values kept for good (what it counted after its last report is lost).
// Summary windows of a missing or dead worker are left out (they would be stale).

const cluster = require('node:cluster')
const { mergePlain, emptyBins, plain } = require('./sketch')
const { encode, decode } = require('./wire')

const REQUEST = 'prodkit:metrics:request'
const REPLY = 'prodkit:metrics:reply'
let nextId = 1

// In a worker: answer the primary's requests with `families()`.
function answerPrimary (families) {
  if (!cluster.isWorker) return { close () {} }
  const onMessage = (msg) => {
    if (!msg || msg.type !== REQUEST) return
    const send = (payload) => { if (process.connected) process.send(payload, () => {}) }
    Promise.resolve().then(families).then(
      (list) => send({ type: REPLY, id: msg.id, families: encode(list) }),
      (err) => send({ type: REPLY, id: msg.id, families: [], error: String(err && err.message) })
    )
  }
  process.on('message', onMessage)
  return { close: () => process.off('message', onMessage) }
}

// In the primary: every live worker's families, within timeoutMs.
function collectWorkers (timeoutMs) {
  const workers = Object.values(cluster.workers || {}).filter((w) => w && w.isConnected())
  return Promise.all(workers.map((worker) => new Promise((resolve) => {
    const id = nextId++
    const done = (result) => {
      clearTimeout(timer)
      worker.off('message', onMessage)
      resolve(result)
    }
    const onMessage = (msg) => {
      if (msg && msg.type === REPLY && msg.id === id) {
        let families = null
        try { families = decode(msg.families) } catch {} // a malformed report counts as missing
        done({ worker: String(worker.id), families })
      }
    }
    const timer = setTimeout(() => done({ worker: String(worker.id), families: null }), timeoutMs)
    worker.on('message', onMessage)
    try {
      worker.send({ type: REQUEST, id }, () => {})
    } catch {
      done({ worker: String(worker.id), families: null })
    }
  })))
}

// A series' identity. Label objects come from the same metric definitions in every
// process, so their keys are in the same order: no sort needed (a different order would
// only keep two series apart, never merge two different ones).
function labelKey (labels) {
  let key = ''
  for (const k in labels) key += k + '\u0001' + labels[k] + '\u0000'
  return key
}

function sameNumbers (a, b) {
  if (a === b) return true
  if (!a || !b || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// Merges the workers' families into one list.
function mergeFamilies (reports) {
  const merged = new Map()
  for (const { worker, families } of reports) {
    for (const family of families) {
      let target = merged.get(family.name)
      if (!target) {
        target = { ...family, samples: [], index: new Map() }
        merged.set(family.name, target)
      }
      if (target.type !== family.type) continue
      const sameBuckets = family.type === 'histogram'
        ? sameNumbers(target.buckets, family.buckets)
        : family.type !== 'summary' || sameNumbers(target.percentiles, family.percentiles)
      for (const sample of family.samples) {
        if (family.type === 'gauge' || !sameBuckets) {
          // Gauges do not add up across processes (a heap size, a queue depth): keep each.
          if (!sameBuckets) continue
          target.samples.push({ ...sample, labels: { ...sample.labels, worker } })
          continue
        }
        const key = labelKey(sample.labels)
        const existing = target.index.get(key)
        if (!existing) {
          const copy = family.type === 'histogram'
            ? { labels: sample.labels, counts: [...sample.counts], sum: sample.sum, count: sample.count }
            : family.type === 'summary'
              ? { labels: sample.labels, sum: sample.sum, count: sample.count, bins: mergePlain(emptyBins(), sample.sketch) }
              : { labels: sample.labels, value: sample.value }
          if (sample.exemplars) copy.exemplars = [...sample.exemplars]
          if (sample.exemplar) copy.exemplar = sample.exemplar
          target.index.set(key, copy)
          target.samples.push(copy)
        } else if (family.type === 'histogram') {
          sample.counts.forEach((c, i) => { existing.counts[i] += c })
          existing.sum += sample.sum
          existing.count += sample.count
          if (sample.exemplars) {
            existing.exemplars = existing.exemplars || []
            sample.exemplars.forEach((e, i) => { if (e && (!existing.exemplars[i] || existing.exemplars[i].timestamp < e.timestamp)) existing.exemplars[i] = e })
          }
        } else if (family.type === 'summary') {
          mergePlain(existing.bins, sample.sketch)
          existing.sum += sample.sum
          existing.count += sample.count
        } else {
          if (sample.exemplar && (!existing.exemplar || existing.exemplar.timestamp < sample.exemplar.timestamp)) existing.exemplar = sample.exemplar
          existing.value += sample.value
        }
      }
    }
  }
  return [...merged.values()].map(({ index, ...family }) => {
    if (family.type === 'summary') {
      family.samples = family.samples.map(({ bins, ...s }) => (bins ? { ...s, sketch: plain(bins) } : s))
    }
    return family
  })
}

// The cumulative part of a report: counters, histograms, and summaries' sum and count
// (an empty window). What is kept of a worker that is missing or gone.
function cumulativeOnly (families) {
  const empty = plain(emptyBins())
  return families.filter((f) => f.type !== 'gauge').map((f) => (f.type === 'summary'
    ? { ...f, samples: f.samples.map((s) => ({ labels: s.labels, sum: s.sum, count: s.count, sketch: empty })) }
    : f))
}

// In the primary: workers' reports across scrapes, so that merged counters never go back.
class ClusterMerger {
  constructor () {
    this.last = new Map() // worker id -> its last families
    this.retired = [] // the merged cumulative families of exited workers
    this.onExit = (worker) => {
      const families = this.last.get(String(worker.id))
      if (families === undefined) return
      this.last.delete(String(worker.id))
      this.retired = mergeFamilies([{ worker: 'retired', families: this.retired }, { worker: 'retired', families: cumulativeOnly(families) }])
    }
    if (cluster.isPrimary) cluster.on('exit', this.onExit)
  }

  // `own`: the primary's families; `reports`: collectWorkers()'s answer. Returns the merged
  // families and which workers were missing.
  merge (own, reports) {
    const parts = [{ worker: 'primary', families: own }]
    const up = []
    const missing = []
    for (const report of reports) {
      if (report.families) {
        this.last.set(report.worker, report.families)
        parts.push(report)
        up.push({ labels: { worker: report.worker }, value: 1 })
      } else {
        missing.push(report.worker)
        up.push({ labels: { worker: report.worker }, value: 0 })
        const last = this.last.get(report.worker)
        if (last !== undefined) parts.push({ worker: report.worker, families: cumulativeOnly(last) })
      }
    }
    if (this.retired.length) parts.push({ worker: 'retired', families: this.retired })
    const merged = mergeFamilies(parts)
    merged.push({
      name: 'prodkit_cluster_worker_up',
      help: 'Whether a worker answered this scrape in time (0: its counters are those of its last report, its gauges are missing).',
      type: 'gauge',
      samples: up
    })
    return { merged, missing }
  }

  close () {
    cluster.off('exit', this.onExit)
  }
}

module.exports = { answerPrimary, collectWorkers, mergeFamilies, ClusterMerger }

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
//
// Cost: a scrape's work in the primary is on its one thread, so reports come in the wire
// form (lib/metrics/wire.js) and are merged where they lie (mergeWire: numbers added in
// place, series matched by their rendered label text, nothing parsed back into objects);
// a worker sends its layout (families, labels, series) only when the primary does not hold
// it, then numbers only, and only the families that changed since the report the primary
// holds. Any mismatch falls back to a whole report: what is merged is always a whole,
// current report or a missing one.

const cluster = require('node:cluster')
const { mergePlain, emptyBins, plain } = require('./sketch')
const { encode, revive, escapeLabel, parsePairs, isWire } = require('./wire')

const REQUEST = 'prodkit:metrics:request'
const REPLY = 'prodkit:metrics:reply'
let nextId = 1

// Whether two reports in the wire form have the same layout: the same families in the same
// order, with the same help, labels and series (only their numbers may differ).
function sameLayout (a, b) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const f = a[i]
    const g = b[i]
    if (f[0] !== g[0] || f[1] !== g[1] || f[2] !== g[2] || !sameStrings(f[3], g[3]) || !sameNumbers(f[4], g[4]) || !sameStrings(f[5], g[5]) || !sameNumbers(f[10], g[10])) return false
    if (f[3] === null) {
      for (let k = 0; k < f[8].length; k++) if (!sameStrings(f[8][k], g[8][k])) return false
    }
  }
  return true
}

function sameStrings (a, b) {
  if (a === b) return true
  if (!a || !b || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// A family's numbers in two reports are the same: values, exemplars (the same objects:
// the registry keeps an exemplar until a newer one replaces it).
function sameValues (a, b) {
  if (!sameNumbers(a[0], b[0]) || a[2] !== b[2]) return false
  const x = a[1]
  const y = b[1]
  if (x === y) return true
  if (x === null || y === null || x.length !== y.length) return false
  for (let k = 0; k < x.length; k++) {
    if (x[k][0] !== y[k][0]) return false
    const e = x[k][1]
    const f = y[k][1]
    if (e !== f && !(Array.isArray(e) && Array.isArray(f) && sameNumbers(e, f))) return false
  }
  return true
}

// In a worker: answer the primary's requests with `report()` (families in the wire form),
// in the smallest form the primary can rebuild the report from:
//   { layout, report, families }      whole, when the primary does not hold this layout
//                                     (`have`): the families, their help, labels and series;
//   { layout, report, values }        every family's numbers, when it holds the layout;
//   { layout, report, base, delta }   only the families whose numbers changed since the
//                                     report `base`, when that is the one it holds (0 for
//                                     a family unchanged).
function answerPrimary (report) {
  if (!cluster.isWorker) return { close () {} }
  let layout = null // { id, families }: the layout of the last whole report
  let nextLayout = 1
  let sent = null // { report, layout, values }: the last reply's numbers
  let nextReport = 1
  const onMessage = (msg) => {
    if (!msg || msg.type !== REQUEST) return
    const send = (payload) => { if (process.connected) process.send(payload, () => {}) }
    Promise.resolve().then(report).then(
      (wire) => {
        if (layout === null || !sameLayout(layout.families, wire)) layout = { id: nextLayout++, families: wire }
        const id = nextReport++
        const values = wire.map((f) => [f[6], f[7], f[9]])
        if (msg.have !== layout.id) {
          send({ type: REPLY, id: msg.id, layout: layout.id, report: id, families: wire })
        } else if (sent !== null && sent.layout === layout.id && msg.base === sent.report) {
          const before = sent.values
          send({ type: REPLY, id: msg.id, layout: layout.id, report: id, base: msg.base, delta: values.map((v, i) => (sameValues(before[i], v) ? 0 : v)) })
        } else {
          send({ type: REPLY, id: msg.id, layout: layout.id, report: id, values })
        }
        sent = { report: id, layout: layout.id, values }
      },
      (err) => send({ type: REPLY, id: msg.id, families: [], error: String(err && err.message) })
    )
  }
  process.on('message', onMessage)
  return { close: () => process.off('message', onMessage) }
}

// A family of the layout with these numbers ([flat, exemplars, strings]).
function withValues (f, v) {
  return [f[0], f[1], f[2], f[3], f[4], f[5], v[0], v[1], f[8], v[2], f[10]]
}

// The whole report from a reply that is not whole, with what the primary holds of that
// worker (`held`: its layout and latest reports); null when it does not fit.
function rebuild (held, msg) {
  if (held === undefined || held.id !== msg.layout) return null
  const n = held.families.length
  if (msg.values !== undefined) {
    if (!Array.isArray(msg.values) || msg.values.length !== n) return null
    const out = new Array(n)
    for (let i = 0; i < n; i++) {
      if (!Array.isArray(msg.values[i])) return null
      out[i] = withValues(held.families[i], msg.values[i])
    }
    return out
  }
  const base = held.reports.get(msg.base)
  if (base === undefined || !Array.isArray(msg.delta) || msg.delta.length !== n) return null
  const out = new Array(n)
  for (let i = 0; i < n; i++) {
    const d = msg.delta[i]
    if (d === 0) out[i] = base[i]
    else if (Array.isArray(d)) out[i] = withValues(held.families[i], d)
    else return null
  }
  return out
}

// In the primary: every live worker's families, within timeoutMs. `layouts` (worker id ->
// { id, families, reports, last }) keeps each worker's last whole report (its layout) and
// its latest reports, so that the next can come as numbers only, or as the changed ones.
function collectWorkers (timeoutMs, layouts = new Map()) {
  const workers = Object.values(cluster.workers || {}).filter((w) => w && w.isConnected())
  return Promise.all(workers.map((worker) => new Promise((resolve) => {
    const id = nextId++
    const wid = String(worker.id)
    const held = layouts.get(wid)
    const done = (result) => {
      clearTimeout(timer)
      worker.off('message', onMessage)
      resolve(result)
    }
    const onMessage = (msg) => {
      if (!msg || msg.type !== REPLY || msg.id !== id) return
      let families = null
      let entry = layouts.get(wid)
      if (msg.values !== undefined || msg.delta !== undefined) {
        families = rebuild(entry, msg)
      } else if (Array.isArray(msg.families)) {
        families = msg.families
        entry = typeof msg.layout === 'number' ? { id: msg.layout, families, reports: new Map(), last: 0 } : undefined
        if (entry !== undefined) layouts.set(wid, entry)
      }
      // A malformed report counts as missing (and the next is asked for whole).
      if (families !== null && !isWire(families)) families = null
      if (families === null) {
        layouts.delete(wid)
      } else if (entry !== undefined && typeof msg.report === 'number') {
        entry.reports.set(msg.report, families)
        entry.last = msg.report
        if (entry.reports.size > 3) entry.reports.delete(entry.reports.keys().next().value)
      }
      done({ worker: wid, families })
    }
    const timer = setTimeout(() => done({ worker: wid, families: null }), timeoutMs)
    worker.on('message', onMessage)
    try {
      worker.send({ type: REQUEST, id, have: held === undefined ? 0 : held.id, base: held === undefined ? 0 : held.last }, () => {})
    } catch {
      done({ worker: wid, families: null })
    }
  })))
}

function sameNumbers (a, b) {
  if (a === b) return true
  if (!a || !b || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

// Merges reports in the wire form (lib/metrics/wire.js) into merged families:
//   { name, help, type, extra, keys, names, values, exemplars, index }
// one entry per series in keys (its rendered labels, the identity it is merged by), names
// (its label names, for default labels), values (counter, gauge: the number; histogram:
// [sum, count, ...counts]; summary: { sum, count, bins }) and exemplars. Nothing is parsed:
// the numbers are added where they lie, the label text is kept for rendering
// (families.js renderMerged).
function mergeWire (reports) {
  const merged = new Map()
  for (const { worker, families } of reports) {
    let workerPair = null
    for (const f of families) {
      const type = f[2]
      let target = merged.get(f[0])
      if (target === undefined) {
        target = { name: f[0], help: f[1], type, extra: f[4], keys: [], names: [], values: [], exemplars: [], created: [], index: new Map() }
        merged.set(f[0], target)
      }
      if (target.type !== type) continue
      if ((type === 'histogram' || type === 'summary') && !sameNumbers(target.extra, f[4])) continue
      const familyNames = f[3]
      const keys = f[5]
      const flat = f[6]
      const created = f[10] || null
      let exemplarOf = null
      if (f[7] !== null) {
        exemplarOf = new Map()
        for (const [i, e] of f[7]) exemplarOf.set(i, e)
      }
      if (type === 'gauge') {
        // Gauges do not add up across processes (a heap size, a queue depth): keep each.
        if (workerPair === null) workerPair = 'worker="' + escapeLabel(worker) + '"'
        for (let i = 0; i < keys.length; i++) {
          target.keys.push(keys[i] ? keys[i] + ',' + workerPair : workerPair)
          target.names.push(familyNames || f[8][i])
          target.values.push(flat[i])
          target.exemplars.push(exemplarOf === null ? undefined : exemplarOf.get(i))
        }
        continue
      }
      const stride = type === 'histogram' ? f[4].length + 3 : type === 'summary' ? 3 : 1
      const index = target.index
      for (let i = 0, at = 0; i < keys.length; i++, at += stride) {
        const key = keys[i]
        const e = exemplarOf === null ? undefined : exemplarOf.get(i)
        const j = index.get(key)
        if (j === undefined) {
          index.set(key, target.keys.length)
          target.keys.push(key)
          target.names.push(familyNames || f[8][i])
          target.values.push(type === 'histogram'
            ? flat.slice(at, at + stride)
            : type === 'summary'
              ? { sum: flat[at], count: flat[at + 1], bins: mergePlain(emptyBins(), flat[at + 2]) }
              : flat[at])
          target.exemplars.push(e === undefined ? undefined : type === 'histogram' ? [...e] : e)
          target.created.push(created === null ? undefined : created[i])
        } else if (type === 'histogram') {
          if (created !== null && !(target.created[j] <= created[i])) target.created[j] = created[i]
          const into = target.values[j]
          for (let k = 0; k < stride; k++) into[k] += flat[at + k]
          if (e !== undefined) {
            const existing = target.exemplars[j] || (target.exemplars[j] = [])
            e.forEach((x, k) => { if (x && (!existing[k] || existing[k].timestamp < x.timestamp)) existing[k] = x })
          }
        } else if (type === 'summary') {
          if (created !== null && !(target.created[j] <= created[i])) target.created[j] = created[i]
          const into = target.values[j]
          mergePlain(into.bins, flat[at + 2])
          into.sum += flat[at]
          into.count += flat[at + 1]
        } else {
          if (created !== null && !(target.created[j] <= created[i])) target.created[j] = created[i]
          const existing = target.exemplars[j]
          if (e && (!existing || existing.timestamp < e.timestamp)) target.exemplars[j] = e
          target.values[j] += flat[at]
        }
      }
    }
  }
  return [...merged.values()]
}

// A merged family back in the wire form (what is kept of exited workers).
function toWire (m) {
  const stride = m.type === 'histogram' ? m.extra.length + 3 : m.type === 'summary' ? 3 : 1
  const flat = new Array(m.keys.length * stride)
  let exemplars = null
  for (let i = 0; i < m.keys.length; i++) {
    const v = m.values[i]
    if (m.type === 'histogram') for (let k = 0; k < stride; k++) flat[i * stride + k] = v[k]
    else if (m.type === 'summary') { flat[i * 3] = v.sum; flat[i * 3 + 1] = v.count; flat[i * 3 + 2] = plain(v.bins) }
    else flat[i] = v
    if (m.exemplars[i] !== undefined) (exemplars || (exemplars = [])).push([i, m.exemplars[i]])
  }
  const created = m.type !== 'gauge' && m.created.length > 0 && m.created.every((c) => c !== undefined) ? [...m.created] : null
  return [m.name, m.help, m.type, null, m.extra, [...m.keys], flat, exemplars, [...m.names], 0, created]
}

function withCreated (sample, created) {
  if (created !== undefined) sample.created = created
  return sample
}

// A merged family as a plain family (families.js's shape).
function toPlain (m) {
  const samples = m.keys.map((key, i) => {
    const labels = parsePairs(key, m.type === 'gauge' ? [...m.names[i], 'worker'] : m.names[i])
    const v = m.values[i]
    const e = m.exemplars[i]
    if (m.type === 'histogram') {
      const sample = { labels, counts: v.slice(2), sum: v[0], count: v[1] }
      if (e !== undefined) sample.exemplars = e
      return withCreated(sample, m.created[i])
    }
    if (m.type === 'summary') return withCreated({ labels, sum: v.sum, count: v.count, sketch: plain(v.bins) }, m.created[i])
    const sample = { labels, value: v }
    if (e !== undefined) sample.exemplar = e
    return withCreated(sample, m.created[i])
  })
  const family = { name: m.name, help: m.help, type: m.type, samples }
  if (m.type === 'histogram') family.buckets = m.extra
  if (m.type === 'summary') family.percentiles = m.extra
  return family
}

// Merges plain families (families.js's shape) into one list of plain families.
function mergeFamilies (reports) {
  return mergeWire(reports.map(({ worker, families }) => ({ worker, families: encode(families).map(revive) }))).map(toPlain)
}

// The cumulative part of a report: counters, histograms, and summaries' sum and count
// (an empty window). What is kept of a worker that is missing or gone.
function cumulativeOnly (families) {
  const empty = plain(emptyBins())
  return families.filter((f) => f[2] !== 'gauge').map((f) => {
    if (f[2] !== 'summary') return f
    const flat = f[6].slice()
    for (let k = 2; k < flat.length; k += 3) flat[k] = empty
    return [f[0], f[1], f[2], f[3], f[4], f[5], flat, f[7], f[8], f[9], f[10]]
  })
}

// In the primary: workers' reports across scrapes, so that merged counters never go back.
class ClusterMerger {
  constructor () {
    this.last = new Map() // worker id -> its last families
    this.retired = [] // the merged cumulative families of exited workers
    this.layouts = new Map() // worker id -> its last whole report's layout (collectWorkers)
    this.onExit = (worker) => {
      this.layouts.delete(String(worker.id))
      const families = this.last.get(String(worker.id))
      if (families === undefined) return
      this.last.delete(String(worker.id))
      this.retired = mergeWire([{ worker: 'retired', families: this.retired }, { worker: 'retired', families: cumulativeOnly(families) }]).map(toWire)
    }
    if (cluster.isPrimary) cluster.on('exit', this.onExit)
  }

  // `own`: the primary's families (wire form); `reports`: collectWorkers()'s answer. Returns the merged
  // families and which workers were missing.
  merge (own, reports) {
    const parts = [{ worker: 'primary', families: own.map(revive) }]
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
    const merged = mergeWire(parts)
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

module.exports = { answerPrimary, collectWorkers, mergeFamilies, mergeWire, ClusterMerger }

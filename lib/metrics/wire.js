'use strict'
// The form a worker's families take on the cluster IPC channel, which is also the form the
// primary merges and renders without rebuilding objects (lib/metrics/cluster.js). Node sends
// IPC messages as JSON and the primary handles every worker's report on its one thread, so
// the report is made for the primary's work: label names go once per family, each series'
// labels arrive already rendered as exposition text (`k="a",j="x"`, escaped), which is both
// the series' identity for merging and what the primary writes out, and the numbers are one
// flat array per family:
//
//   [name, help, type, labelNames, buckets | percentiles | null, keys, flat, exemplars | null, perSeriesNames | null, strings, created | null]
//   keys:           one rendered label string per series ('' for none)
//   counter, gauge: flat = [value] per series
//   histogram:      flat = [sum, count, ...counts] per series
//   summary:        flat = [sum, count, sketch] per series
//   exemplars:      [[seriesIndex, exemplar or exemplars], ...] (only series that have one)
//   labelNames is null when the series do not all carry the same label names; then
//   perSeriesNames holds each series' names.
//   strings:        1 when NaN or ±Infinity in flat went as strings (JSON has no such numbers).
//   created:        each series' creation time (seconds; OpenMetrics _created), or null.
//
// A labels object seen again (the registry hands out the same frozen object for a series
// at every scrape) is rendered once: its text is cached by identity.
// decode(encode(families)) gives back the same families.

const NEEDS_ESCAPE = /[\\"\n]/

function escapeLabel (value) {
  const text = String(value)
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c)) : text
}

const rendered = new WeakMap()

// `k="a",j="x"` for a labels object (cached for frozen ones: they cannot change).
function pairsOf (labels) {
  let text = rendered.get(labels)
  if (text !== undefined) return text
  text = ''
  for (const key in labels) text += (text ? ',' : '') + key + '="' + escapeLabel(labels[key]) + '"'
  if (Object.isFrozen(labels)) rendered.set(labels, text)
  return text
}

// The label values back out of a rendered label string (names in order).
function parsePairs (text, names) {
  const labels = {}
  let at = 0
  for (const name of names) {
    at += name.length + 2 // name="
    let value = ''
    while (text[at] !== '"') {
      if (text[at] === '\\') {
        at++
        value += text[at] === 'n' ? '\n' : text[at]
      } else {
        value += text[at]
      }
      at++
    }
    labels[name] = value
    at += 2 // ",
  }
  return labels
}

function sameKeys (labels, names) {
  let n = 0
  for (const key in labels) {
    if (key !== names[n]) return false
    n++
  }
  return n === names.length
}

function encodeFamily (family) {
  const samples = family.samples
  let names = samples.length ? Object.keys(samples[0].labels) : []
  let perSeries = null
  for (let i = 0; i < samples.length; i++) {
    if (!sameKeys(samples[i].labels, names)) {
      perSeries = samples.map((s) => Object.keys(s.labels))
      names = null
      break
    }
  }
  const keys = new Array(samples.length)
  const flat = []
  let exemplars = null
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]
    keys[i] = pairsOf(s.labels)
    if (family.type === 'histogram') {
      flat.push(s.sum, s.count)
      for (let k = 0; k < s.counts.length; k++) flat.push(s.counts[k])
      if (s.exemplars) (exemplars || (exemplars = [])).push([i, s.exemplars])
    } else if (family.type === 'summary') {
      flat.push(s.sum, s.count, s.sketch)
    } else {
      flat.push(s.value)
      if (s.exemplar) (exemplars || (exemplars = [])).push([i, s.exemplar])
    }
  }
  const extra = family.type === 'histogram' ? family.buckets : family.type === 'summary' ? family.percentiles : null
  // JSON has no NaN or Infinity (they would arrive as null): such numbers go as strings.
  let strings = 0
  for (let k = 0; k < flat.length; k++) {
    if (typeof flat[k] === 'number' && !Number.isFinite(flat[k])) { flat[k] = String(flat[k]); strings = 1 }
  }
  let created = null
  if (family.type !== 'gauge' && samples.length > 0 && samples.every((x) => typeof x.created === 'number')) created = samples.map((x) => x.created)
  return [family.name, family.help, family.type, names, extra, keys, flat, exemplars, perSeries, strings, created]
}

// NaN and ±Infinity back from their strings (in place).
function revive (encoded) {
  if (encoded[9] !== 1) return encoded
  const flat = encoded[6]
  for (let k = 0; k < flat.length; k++) if (typeof flat[k] === 'string') flat[k] = Number(flat[k])
  encoded[9] = 0
  return encoded
}

function decodeFamily (encoded) {
  const [name, help, type, names, extra, keys, flat, exemplars, perSeries, , created] = revive(encoded)
  const family = { name, help, type, samples: [] }
  const stride = type === 'histogram' ? 2 + extra.length + 1 : type === 'summary' ? 3 : 1
  for (let i = 0; i < keys.length; i++) {
    const labels = parsePairs(keys[i], names || perSeries[i])
    const at = i * stride
    if (type === 'histogram') {
      family.samples.push({ labels, sum: flat[at], count: flat[at + 1], counts: flat.slice(at + 2, at + stride) })
    } else if (type === 'summary') {
      family.samples.push({ labels, sum: flat[at], count: flat[at + 1], sketch: flat[at + 2] })
    } else {
      family.samples.push({ labels, value: flat[at] })
    }
  }
  if (exemplars) {
    for (const [i, e] of exemplars) {
      if (type === 'histogram') family.samples[i].exemplars = e
      else family.samples[i].exemplar = e
    }
  }
  if (created) created.forEach((c, i) => { family.samples[i].created = c })
  if (type === 'histogram') family.buckets = extra
  if (type === 'summary') family.percentiles = extra
  return family
}

const encode = (families) => families.map(encodeFamily)
const decode = (encoded) => encoded.map(decodeFamily)

// A report from the IPC channel, checked enough that merging it cannot throw (and its
// NaN and Infinity revived).
function isWire (encoded) {
  if (!Array.isArray(encoded)) return false
  for (const f of encoded) {
    if (!Array.isArray(f) || typeof f[0] !== 'string' || typeof f[1] !== 'string' || !Array.isArray(f[5]) || !Array.isArray(f[6])) return false
    if (f[3] === null ? !Array.isArray(f[8]) || f[8].length !== f[5].length : !Array.isArray(f[3])) return false
    const type = f[2]
    const stride = type === 'histogram' ? (Array.isArray(f[4]) ? f[4].length + 3 : -1) : type === 'summary' ? (Array.isArray(f[4]) ? 3 : -1) : type === 'counter' || type === 'gauge' ? 1 : -1
    if (stride < 0 || f[6].length !== f[5].length * stride) return false
    if (f[7] !== null && !Array.isArray(f[7])) return false
    if (f[10] != null && (!Array.isArray(f[10]) || f[10].length !== f[5].length)) return false
    revive(f)
  }
  return true
}

module.exports = { encode, decode, revive, encodeFamily, escapeLabel, pairsOf, parsePairs, isWire }

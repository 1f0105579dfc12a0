'use strict'
// The form a worker's families take on the cluster IPC channel. Node sends IPC messages as
// JSON and the primary parses every worker's on its one thread, which is most of a merged
// scrape's cost; so label names go once per family, not once per series, and each family's
// series are one flat array:
//
//   [name, help, type, labelNames, buckets | percentiles | null, flat, exemplars | null]
//   counter, gauge: flat = [...labelValues, value] per series
//   histogram:      flat = [...labelValues, sum, count, ...counts] per series
//   summary:        flat = [...labelValues, sum, count, sketch] per series
//   exemplars: [[seriesIndex, exemplar or exemplars], ...] (only series that have one)
//
// A family whose series do not all carry the same label names is sent as it is (an object).
// decode(encode(families)) gives back the same families.

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
  const names = samples.length ? Object.keys(samples[0].labels) : []
  const flat = []
  let exemplars = null
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]
    if (!sameKeys(s.labels, names)) return family
    for (let k = 0; k < names.length; k++) flat.push(s.labels[names[k]])
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
  return [family.name, family.help, family.type, names, extra, flat, exemplars]
}

function decodeFamily (encoded) {
  if (!Array.isArray(encoded)) return encoded
  const [name, help, type, names, extra, flat, exemplars] = encoded
  const family = { name, help, type, samples: [] }
  const width = names.length
  const bucketCount = type === 'histogram' ? extra.length + 1 : 0
  const stride = width + (type === 'histogram' ? 2 + bucketCount : type === 'summary' ? 3 : 1)
  for (let at = 0; at < flat.length; at += stride) {
    const labels = {}
    for (let k = 0; k < width; k++) labels[names[k]] = flat[at + k]
    if (type === 'histogram') {
      family.samples.push({ labels, sum: flat[at + width], count: flat[at + width + 1], counts: flat.slice(at + width + 2, at + stride) })
    } else if (type === 'summary') {
      family.samples.push({ labels, sum: flat[at + width], count: flat[at + width + 1], sketch: flat[at + width + 2] })
    } else {
      family.samples.push({ labels, value: flat[at + width] })
    }
  }
  if (exemplars) {
    for (const [i, e] of exemplars) {
      if (type === 'histogram') family.samples[i].exemplars = e
      else family.samples[i].exemplar = e
    }
  }
  if (type === 'histogram') family.buckets = extra
  if (type === 'summary') family.percentiles = extra
  return family
}

const encode = (families) => families.map(encodeFamily)
const decode = (encoded) => encoded.map(decodeFamily)

module.exports = { encode, decode }

'use strict'
// Quantiles for Summary: a DDSketch (Masson, Rim, Lee, "DDSketch: a fast and fully-mergeable
// quantile sketch with relative-error guarantees", VLDB 2019) in a sliding time window.
//
// Guarantees: every quantile is within RELATIVE_ACCURACY (1%) of a value that was observed
// at that rank, whatever the distribution; memory is bounded by the range of the values
// (about 2,400 bins per sign from 1e-9 to 1e12), not by how many were observed; two
// sketches merge exactly (bin counts add up), which is what lets the cluster primary give
// true quantiles over every worker's observations instead of averaging their quantiles.
// The prom-client rival, tdigest, has no error bound and does not merge across processes.
//
// The window: `ageBuckets` sketches, each taking the observations of maxAgeSeconds /
// ageBuckets; a quantile merges those still inside maxAgeSeconds, so an observation counts
// for between (ageBuckets - 1) / ageBuckets and 1 times maxAgeSeconds (prom-client and the
// Go client rotate the same way). Without maxAgeSeconds, one sketch holds everything.

const RELATIVE_ACCURACY = 0.01
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
const LN_GAMMA = Math.log(GAMMA)
// Below this magnitude a value counts as 0 (keeps the bin range bounded).
const MIN_INDEXABLE = 1e-9

const indexOf = (magnitude) => Math.ceil(Math.log(magnitude) / LN_GAMMA)
// The bin's representative value: within RELATIVE_ACCURACY of every value in it.
const valueOf = (index) => (2 * Math.pow(GAMMA, index)) / (GAMMA + 1)

class Sketch {
  constructor () {
    this.pos = new Map()
    this.neg = new Map()
    this.zero = 0
    this.count = 0
  }

  add (value) {
    if (value > MIN_INDEXABLE) {
      const i = indexOf(value)
      this.pos.set(i, (this.pos.get(i) || 0) + 1)
    } else if (value < -MIN_INDEXABLE) {
      const i = indexOf(-value)
      this.neg.set(i, (this.neg.get(i) || 0) + 1)
    } else {
      this.zero++
    }
    this.count++
  }

  clear () {
    this.pos.clear()
    this.neg.clear()
    this.zero = 0
    this.count = 0
  }

  // A plain, JSON-safe form (it crosses the cluster IPC channel): [index, count, ...].
  serialize (into = { zero: 0, count: 0, pos: new Map(), neg: new Map() }) {
    into.zero += this.zero
    into.count += this.count
    for (const [i, c] of this.pos) into.pos.set(i, (into.pos.get(i) || 0) + c)
    for (const [i, c] of this.neg) into.neg.set(i, (into.neg.get(i) || 0) + c)
    return into
  }
}

// Bins as maps (merge target) -> the plain form.
function plain (bins) {
  const flat = (map) => { const out = []; for (const [i, c] of map) out.push(i, c); return out }
  return { zero: bins.zero, count: bins.count, pos: flat(bins.pos), neg: flat(bins.neg) }
}

// Adds a plain sketch into merge-target bins (maps).
function mergePlain (into, sketch) {
  into.zero += sketch.zero
  into.count += sketch.count
  for (let k = 0; k < sketch.pos.length; k += 2) into.pos.set(sketch.pos[k], (into.pos.get(sketch.pos[k]) || 0) + sketch.pos[k + 1])
  for (let k = 0; k < sketch.neg.length; k += 2) into.neg.set(sketch.neg[k], (into.neg.get(sketch.neg[k]) || 0) + sketch.neg[k + 1])
  return into
}

const emptyBins = () => ({ zero: 0, count: 0, pos: new Map(), neg: new Map() })

// The values at these quantiles (0..1) of the bins (maps); NaN for an empty sketch (the
// Prometheus convention: no observations is not a value of 0).
function quantilesOf (bins, qs) {
  if (bins.count === 0) return qs.map(() => NaN)
  const neg = [...bins.neg.keys()].sort((a, b) => b - a)
  const pos = [...bins.pos.keys()].sort((a, b) => a - b)
  return qs.map((q) => {
    const rank = q * (bins.count - 1)
    let seen = 0
    for (const i of neg) {
      seen += bins.neg.get(i)
      if (seen > rank) return -valueOf(i)
    }
    seen += bins.zero
    if (seen > rank) return 0
    for (const i of pos) {
      seen += bins.pos.get(i)
      if (seen > rank) return valueOf(i)
    }
    return pos.length ? valueOf(pos[pos.length - 1]) : 0
  })
}

class WindowedSketch {
  // `now()`: milliseconds from a monotonic clock (performance.now, or a test's clock).
  constructor (maxAgeSeconds, ageBuckets, now) {
    this.now = now
    this.slotMs = maxAgeSeconds === undefined ? Infinity : (maxAgeSeconds * 1000) / ageBuckets
    this.slots = Array.from({ length: maxAgeSeconds === undefined ? 1 : ageBuckets }, () => new Sketch())
    this.current = 0
    this.slotStart = this.slotMs === Infinity ? 0 : now()
  }

  rotate () {
    if (this.slotMs === Infinity) return
    const now = this.now()
    if (now - this.slotStart < this.slotMs) return
    const steps = Math.floor((now - this.slotStart) / this.slotMs)
    for (let k = 0; k < Math.min(steps, this.slots.length); k++) {
      this.current = (this.current + 1) % this.slots.length
      this.slots[this.current].clear()
    }
    this.slotStart += steps * this.slotMs
  }

  add (value) {
    this.rotate()
    this.slots[this.current].add(value)
  }

  // The window's observations as merge-target bins.
  bins () {
    this.rotate()
    const into = emptyBins()
    for (const slot of this.slots) slot.serialize(into)
    return into
  }
}

module.exports = { Sketch, WindowedSketch, quantilesOf, plain, mergePlain, emptyBins, RELATIVE_ACCURACY }

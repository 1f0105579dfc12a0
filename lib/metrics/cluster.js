'use strict'
// Cluster-wide metrics. Each worker answers the primary's request over the cluster IPC
// channel with its metric families; the primary merges them: counters summed, gauges
// labelled by worker, histograms merged bucket by bucket (never averaged percentiles).
// A worker that does not answer in time is left out and counted; the scrape still answers.

const cluster = require('node:cluster')

const REQUEST = 'prodkit:metrics:request'
const REPLY = 'prodkit:metrics:reply'
let nextId = 1

// In a worker: answer the primary's requests with `families()`.
function answerPrimary (families) {
  if (!cluster.isWorker) return { close () {} }
  const onMessage = (msg) => {
    if (!msg || msg.type !== REQUEST) return
    let payload
    try {
      payload = { type: REPLY, id: msg.id, families: families() }
    } catch (err) {
      payload = { type: REPLY, id: msg.id, families: [], error: String(err && err.message) }
    }
    if (process.connected) process.send(payload, () => {})
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
      if (msg && msg.type === REPLY && msg.id === id) done({ worker: String(worker.id), families: msg.families })
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

const labelKey = (labels) => JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]))

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
      const sameBuckets = family.type !== 'histogram' || JSON.stringify(target.buckets) === JSON.stringify(family.buckets)
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
            : { labels: sample.labels, value: sample.value }
          target.index.set(key, copy)
          target.samples.push(copy)
        } else if (family.type === 'histogram') {
          sample.counts.forEach((c, i) => { existing.counts[i] += c })
          existing.sum += sample.sum
          existing.count += sample.count
        } else {
          existing.value += sample.value
        }
      }
    }
  }
  return [...merged.values()].map(({ index, ...family }) => family)
}

module.exports = { answerPrimary, collectWorkers, mergeFamilies }

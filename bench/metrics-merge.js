'use strict'
// `node bench/metrics-merge.js [--workers 4] [--scrapes 200] [--block-ms 8000]`
//
// The cluster-wide scrape, side by side in one run: a node:cluster primary with N workers,
// each holding the same app metrics in prodkit and in prom-client 15 (with prom-client's
// default metrics, as prodkit always has its runtime ones), and the primary answering
// prodkit's `metrics.scrape()` against prom-client's `AggregatorRegistry.clusterMetrics()`.
//
// 1. Time per merged scrape (wall time in the primary, the workers' part included),
//    interleaved in rounds, reported as prodkit / prom-client.
// 2. One worker blocked (a busy loop of --block-ms): prodkit answers after its
//    clusterTimeoutMs with the others' figures and the blocked worker flagged;
//    prom-client's clusterMetrics() fails (it waits for every worker, then times out).

const cluster = require('node:cluster')
const { parseArgs } = require('node:util')
const promClient = require('prom-client')
const prodkit = require('..')

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '4' },
    scrapes: { type: 'string', default: '200' },
    'block-ms': { type: 'string', default: '8000' }
  }
})
const WORKERS = Number(values.workers)
const SCRAPES = Number(values.scrapes)
const BLOCK_MS = Number(values['block-ms'])

const kit = prodkit.install({
  log: { destination: 'stderr', level: 'warn' },
  metrics: { intervalMs: 1000, clusterTimeoutMs: 1000, httpServer: false },
  signals: false,
  watchdog: false,
  productionWarning: false
})

// The same app metrics in both: 20 counters x 10 label values, 10 histograms x 5 label
// values (default buckets), 10 gauges.
function defineAppMetrics (id) {
  for (let c = 0; c < 20; c++) {
    const ours = kit.metrics.counter(`bench_counter_${c}_total`, { help: 'c', labelNames: ['k'] })
    const theirs = new promClient.Counter({ name: `bench_counter_${c}_total`, help: 'c', labelNames: ['k'] })
    for (let k = 0; k < 10; k++) { ours.inc({ k: String(k) }, id + k); theirs.inc({ k: String(k) }, id + k) }
  }
  for (let h = 0; h < 10; h++) {
    const ours = kit.metrics.histogram(`bench_histogram_${h}_seconds`, { help: 'h', labelNames: ['k'] })
    const theirs = new promClient.Histogram({ name: `bench_histogram_${h}_seconds`, help: 'h', labelNames: ['k'] })
    for (let k = 0; k < 5; k++) {
      for (let i = 0; i < 20; i++) { ours.observe({ k: String(k) }, i / 10); theirs.observe({ k: String(k) }, i / 10) }
    }
  }
  for (let g = 0; g < 10; g++) {
    kit.metrics.gauge(`bench_gauge_${g}`, { help: 'g' }).set(id * g)
    new promClient.Gauge({ name: `bench_gauge_${g}`, help: 'g' }).set(id * g)
  }
}

const series = (text) => text.split('\n').filter((l) => l && !l.startsWith('#')).length
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6

async function timeOne (fn) {
  const t0 = process.hrtime.bigint()
  await fn()
  return ms(t0)
}

async function primary () {
  promClient.collectDefaultMetrics()
  const aggregator = new promClient.AggregatorRegistry()
  let ready = 0
  await new Promise((resolve) => {
    cluster.on('message', (worker, msg) => { if (msg === 'ready' && ++ready === WORKERS) resolve() })
    for (let i = 0; i < WORKERS; i++) cluster.fork()
  })
  await new Promise((resolve) => setTimeout(resolve, 1500)) // every sampler has a sample

  const oursText = await kit.metrics.scrape()
  const theirsText = await aggregator.clusterMetrics()
  const check = (text, name) => text.split('\n').find((l) => l.startsWith(name + ' '))
  console.log(`merged series: prodkit ${series(oursText)}, prom-client ${series(theirsText)}`)
  console.log(`  bench_counter_0_total{k="0"}: prodkit ${check(oursText, 'bench_counter_0_total{k="0"}')}, prom-client ${check(theirsText, 'bench_counter_0_total{k="0"}')}`)

  // The floor under both: one empty IPC round trip to every worker.
  const pingAll = () => Promise.all(Object.values(cluster.workers).map((w) => new Promise((resolve) => {
    const onMessage = (msg) => { if (msg === 'pong') { w.off('message', onMessage); resolve() } }
    w.on('message', onMessage)
    w.send('ping')
  })))
  const ours = []
  const theirs = []
  const floor = []
  const rounds = 10
  const per = Math.max(1, Math.floor(SCRAPES / rounds))
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < per; i++) theirs.push(await timeOne(() => aggregator.clusterMetrics()))
    for (let i = 0; i < per; i++) ours.push(await timeOne(() => kit.metrics.scrape()))
    for (let i = 0; i < per; i++) floor.push(await timeOne(pingAll))
  }
  const mo = median(ours)
  const mt = median(theirs)
  console.log(`\nmerged scrape of ${WORKERS} workers, median of ${ours.length} (interleaved rounds):`)
  console.log(`  prom-client AggregatorRegistry.clusterMetrics(): ${mt.toFixed(2)} ms`)
  console.log(`  prodkit metrics.scrape():                         ${mo.toFixed(2)} ms`)
  console.log(`  an empty IPC round trip to every worker:          ${median(floor).toFixed(2)} ms (the floor under both)`)
  console.log(`  ratio prodkit / prom-client: ${(mo / mt).toFixed(3)} (target <= 0.2)`)

  // One worker blocked.
  const blocked = Object.values(cluster.workers)[WORKERS - 1]
  await new Promise((resolve) => { blocked.once('message', resolve); blocked.send('block') })
  let t0 = process.hrtime.bigint()
  const partial = await kit.metrics.scrape()
  const oursBlocked = ms(t0)
  const up = partial.split('\n').filter((l) => l.startsWith('prodkit_cluster_worker_up')).join(', ')
  console.log(`\nworker ${blocked.id} blocked for ${BLOCK_MS} ms:`)
  console.log(`  prodkit answered in ${oursBlocked.toFixed(0)} ms, ${series(partial)} series, ${check(partial, 'bench_counter_0_total{k="0"}')} (the blocked worker counted from its last report); ${up}`)
  t0 = process.hrtime.bigint()
  try {
    const text = await aggregator.clusterMetrics()
    console.log(`  prom-client answered in ${ms(t0).toFixed(0)} ms (${series(text)} series): the block was shorter than its timeout`)
  } catch (err) {
    console.log(`  prom-client failed after ${ms(t0).toFixed(0)} ms: ${err.message}`)
  }
  for (const w of Object.values(cluster.workers)) w.kill()
  kit.close()
}

function worker () {
  defineAppMetrics(cluster.worker.id)
  process.on('message', (msg) => {
    if (msg === 'ping') process.send('pong')
    if (msg !== 'block') return
    process.send('blocking')
    const end = Date.now() + BLOCK_MS
    while (Date.now() < end) {}
  })
  setTimeout(() => process.send('ready'), 100)
}

if (cluster.isPrimary) primary().catch((err) => { console.error(err); process.exit(1) })
else {
  promClient.collectDefaultMetrics()
  new promClient.AggregatorRegistry() // eslint-disable-line no-new -- installs prom-client's worker listener (its docs' cluster example)
  worker()
}

'use strict'
// `npm run bench:metrics`: prodkit's metrics against prom-client 15 with its default
// metrics, in the same process and run.
//
//   node bench/metrics.js [--scrapes 2000] [--sampler-seconds 15]
//
// 1. JS-thread time per scrape: prom-client's `await register.metrics()` against prodkit's
//    `metrics.prometheus()`, interleaved in rounds, and the number of series each exports.
// 2. The sampler thread's CPU at a 1 s interval (its own getrusage, over a quiet period).
// 3. Accuracy: a deliberate 200 ms block of the event loop, as prodkit reports it.

const { parseArgs } = require('node:util')
const promClient = require('prom-client')
const prodkit = require('..')
const { createMetrics } = require('../lib/metrics')

const { values } = parseArgs({
  options: {
    scrapes: { type: 'string', default: '2000' },
    'sampler-seconds': { type: 'string', default: '15' }
  }
})
const SCRAPES = Number(values.scrapes)
const SAMPLER_SECONDS = Number(values['sampler-seconds'])

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const series = (text) => text.split('\n').filter((l) => l && !l.startsWith('#')).length
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function timeScrapes (scrape, n) {
  const times = []
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint()
    await scrape()
    times.push(Number(process.hrtime.bigint() - t0) / 1000)
  }
  return times
}

async function scrapeCost (metrics) {
  promClient.collectDefaultMetrics()
  const register = promClient.register
  await sleep(1500) // both have their first samples
  const rounds = 10
  const per = Math.max(1, Math.floor(SCRAPES / rounds))
  const prom = []
  const ours = []
  for (let r = 0; r < rounds; r++) {
    prom.push(...await timeScrapes(() => register.metrics(), per))
    ours.push(...await timeScrapes(() => metrics.prometheus(), per))
  }
  return {
    promClient: { usPerScrape: median(prom), series: series(await register.metrics()) },
    prodkit: { usPerScrape: median(ours), series: series(metrics.prometheus()) }
  }
}

// ns per update on the JS thread, for the "under 50 ns" target.
function updateCost (metrics) {
  const counter = metrics.counter('bench_updates_total')
  const labelled = metrics.counter('bench_labelled_total', { labelNames: ['route'] }).labels({ route: '/orders' })
  const histogram = metrics.histogram('bench_latency_seconds')
  const n = 20_000_000
  const time = (fn) => {
    for (let i = 0; i < 1e6; i++) fn(i)
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) fn(i)
    return Number(process.hrtime.bigint() - t0) / n
  }
  return {
    inc: time(() => counter.inc()),
    labelledInc: time(() => labelled.inc()),
    observe: time((i) => histogram.observe((i & 1023) / 1000))
  }
}

async function samplerCpu (metrics) {
  const read = () => metrics.snapshot().sampler
  await sleep(1200)
  const before = read()
  const t0 = process.hrtime.bigint()
  await sleep(SAMPLER_SECONDS * 1000)
  const after = read()
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  return {
    samples: after.samples - before.samples,
    cpuPercentOfCore: ((after.cpuSeconds - before.cpuSeconds) / wall) * 100
  }
}

async function blockAccuracy (metrics) {
  const results = []
  for (let i = 0; i < 5; i++) {
    metrics.runtime.tick()
    await sleep(100)
    const end = process.hrtime.bigint() + 200_000_000n
    while (process.hrtime.bigint() < end) {}
    await sleep(100)
    results.push(metrics.runtime.tick().maxMs)
  }
  return results
}

async function main () {
  const log = prodkit.createLogger({ destination: 'stderr', level: 'warn' })
  const metrics = createMetrics({ intervalMs: 1000 }, { log })
  const cost = await scrapeCost(metrics)
  const updates = updateCost(metrics)
  const cpu = await samplerCpu(metrics)
  metrics.close()
  // Its own instance, with an interval longer than the test, so that only these ticks
  // close event-loop windows.
  const quiet = createMetrics({ intervalMs: 600_000 }, { log })
  const blocks = await blockAccuracy(quiet)
  quiet.close()
  log.close()

  const ratio = cost.prodkit.usPerScrape / cost.promClient.usPerScrape
  const inRange = blocks.every((ms) => ms >= 190 && ms <= 220)
  console.log(`## Metrics benchmark: ${SCRAPES} scrapes each, median; Node ${process.version}\n`)
  console.log('| | JS µs per scrape | series exported |')
  console.log('| --- | ---: | ---: |')
  console.log(`| prom-client 15, default metrics | ${cost.promClient.usPerScrape.toFixed(1)} | ${cost.promClient.series} |`)
  console.log(`| prodkit | ${cost.prodkit.usPerScrape.toFixed(1)} | ${cost.prodkit.series} |`)
  console.log('')
  console.log(`- JS time per scrape, prodkit / prom-client: ${ratio.toFixed(3)} (target ≤ 0.2) ${ratio <= 0.2 ? 'PASS' : 'MISS'}`)
  const fast = Math.max(updates.inc, updates.labelledInc, updates.observe) < 50
  console.log(`- counter.inc(): ${updates.inc.toFixed(1)} ns, a labelled series' inc(): ${updates.labelledInc.toFixed(1)} ns, histogram.observe(): ${updates.observe.toFixed(1)} ns (target < 50 ns) ${fast ? 'PASS' : 'MISS'}`)
  console.log(`- sampler thread CPU at a 1 s interval: ${cpu.cpuPercentOfCore.toFixed(3)}% of a core over ${cpu.samples} samples (target < 0.5%) ${cpu.cpuPercentOfCore < 0.5 ? 'PASS' : 'MISS'}`)
  console.log(`- a 200 ms block reads as max delay: ${blocks.map((ms) => ms.toFixed(1)).join(', ')} ms (target 190 to 220) ${inRange ? 'PASS' : 'MISS'}`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

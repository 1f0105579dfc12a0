'use strict'
// Metrics: app metrics, runtime and system sampling, Prometheus text checked by the real
// promtool and scraped by a real Prometheus server, outgoing HTTP calls, thresholds,
// the /metrics server and handler, and cluster-wide merging across real processes.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { spawn, spawnSync, execFileSync } = require('node:child_process')
const prodkit = require('..')
const { createMetrics } = require('../lib/metrics')
const { mergeFamilies } = require('../lib/metrics/cluster')
const { ROOT, tempDir, readJsonLines, runNode, waitFor } = require('./helpers')

function setup (t, options = {}) {
  const file = path.join(tempDir(t), 'metrics.log')
  const log = prodkit.createLogger({ destination: file, level: 'debug' })
  const metrics = createMetrics({ intervalMs: 100, ...options }, { log })
  t.after(() => { metrics.close(); log.close() })
  return { metrics, log, lines: () => (log.flushSync(), fs.existsSync(file) ? readJsonLines(file) : []) }
}


// A series' value from Prometheus text, e.g. valueOf(text, 'jobs_total{kind="email"}').
function valueOf (text, series) {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

// Tools from Debian's prometheus package: CI installs them (.ci/run); elsewhere the tests
// that need them are skipped with the reason.
function tool (t, name) {
  const found = spawnSync('which', [name], { encoding: 'utf8' }).stdout.trim()
  if (found) return found
  if (process.env.CI) assert.fail(`${name} is not installed: .ci/run must install Debian's prometheus package`)
  t.skip(`${name} not installed (apt-get install prometheus)`)
  return null
}

test('counters, gauges and histograms with labels, rendered with HELP and TYPE', (t) => {
  const { metrics } = setup(t)
  const orders = metrics.counter('orders_total', { help: 'Orders placed.', labelNames: ['method'] })
  orders.inc()
  orders.inc(2)
  const card = orders.labels({ method: 'card' })
  card.inc()
  card.inc()
  assert.equal(orders.labels({ method: 'card' }), card, 'labels() returns the same child')
  orders.inc({ method: 'sepa' }, 5)
  const depth = metrics.gauge('queue_depth', { help: 'Jobs waiting.' })
  depth.set(10)
  depth.inc(2)
  depth.dec()
  const sizes = metrics.histogram('upload_size_bytes', { help: 'Upload sizes.', buckets: [100, 1000] })
  for (const v of [50, 100, 101, 5000]) sizes.observe(v)
  const text = metrics.prometheus()
  assert.match(text, /# HELP orders_total Orders placed\.\n# TYPE orders_total counter\n/)
  assert.equal(valueOf(text, 'orders_total{method=""}'), 3)
  assert.equal(valueOf(text, 'orders_total{method="card"}'), 2)
  assert.equal(valueOf(text, 'orders_total{method="sepa"}'), 5)
  assert.equal(valueOf(text, 'queue_depth'), 11)
  assert.equal(valueOf(text, 'upload_size_bytes_bucket{le="100"}'), 2)
  assert.equal(valueOf(text, 'upload_size_bytes_bucket{le="1000"}'), 3)
  assert.equal(valueOf(text, 'upload_size_bytes_bucket{le="+Inf"}'), 4)
  assert.equal(valueOf(text, 'upload_size_bytes_sum'), 5251)
  assert.equal(valueOf(text, 'upload_size_bytes_count'), 4)
  assert.equal(metrics.counter('orders_total', { labelNames: ['method'] }), orders, 'the same metric again is the same object')
})

test('timers record seconds: wrap() for sync and async functions (errors pass through), start() and stop()', async (t) => {
  const { metrics } = setup(t)
  const timer = metrics.timer('payment_api_seconds', { labelNames: ['outcome'] })
  const add = timer.wrap((a, b) => a + b, { outcome: 'sync' })
  assert.equal(add(2, 3), 5)
  const slow = timer.wrap(async (ms) => { await new Promise((resolve) => setTimeout(resolve, ms)); return 'done' }, { outcome: 'async' })
  assert.equal(await slow(30), 'done')
  const failing = timer.wrap(async () => { throw new Error('declined') }, { outcome: 'failed' })
  await assert.rejects(failing(), /declined/)
  const throwing = timer.wrap(() => { throw new RangeError('sync throw') }, { outcome: 'failed' })
  assert.throws(() => throwing(), RangeError)
  const stop = timer.start({ outcome: 'manual' })
  const seconds = stop()
  assert.ok(seconds >= 0 && seconds < 5)
  const text = metrics.prometheus()
  assert.equal(valueOf(text, 'payment_api_seconds_count{outcome="async"}'), 1)
  assert.ok(valueOf(text, 'payment_api_seconds_sum{outcome="async"}') >= 0.025, 'the async time runs until the promise settles')
  assert.equal(valueOf(text, 'payment_api_seconds_count{outcome="failed"}'), 2)
  assert.equal(valueOf(text, 'payment_api_seconds_count{outcome="sync"}'), 1)
  assert.equal(valueOf(text, 'payment_api_seconds_count{outcome="manual"}'), 1)
})

test('bad names and options throw TypeErrors at creation; bad updates never throw, are counted and logged once', (t) => {
  const { metrics, lines } = setup(t)
  const cases = [
    [() => metrics.counter('orders'), /counter\(name\) must be a name ending in _total/],
    [() => metrics.gauge('depth_total'), /gauge\(name\) must be a name without _total/],
    [() => metrics.timer('payment_ms'), /timer\(name\) must be a name ending in _seconds/],
    [() => metrics.counter('bad name_total'), /counter\(name\) must be a metric name matching/],
    [() => metrics.counter('process_thing_total'), /outside prodkit's own families/],
    [() => metrics.histogram('h', { buckets: [2, 1] }), /histogram buckets must be a non-empty array of finite numbers in increasing order/],
    [() => metrics.gauge('g', { labelNames: ['le'] }), /gauge labelNames must be an array of label names/],
    [() => metrics.gauge('g', { unit: 's' }), /unknown option gauge unit \(known: help, labelNames, collect\)/],
    [() => metrics.gauge('g', { collect: 5 }), /gauge collect must be a function/],
    [() => metrics.summary('s', { percentiles: [0.9, 0.5] }), /summary percentiles must be a non-empty array of increasing numbers from 0 to 1/],
    [() => metrics.summary('s', { maxAgeSeconds: -1 }), /summary maxAgeSeconds must be a positive number of seconds/],
    [() => metrics.summary('s', { ageBuckets: 3 }), /summary ageBuckets must be given with maxAgeSeconds/],
    [() => metrics.summary('s', { labelNames: ['quantile'] }), /summary labelNames must be an array of label names/],
    [() => metrics.setDefaultLabels({ 'bad-name': 'x' }), /setDefaultLabels\(labels\) keys must be label names/],
    [() => metrics.setDefaultLabels({ app: {} }), /setDefaultLabels\(labels\).app must be a string, number or boolean/]
  ]
  for (const [fn, message] of cases) assert.throws(fn, { name: 'TypeError', message })
  metrics.gauge('same')
  assert.throws(() => metrics.counter('same_total') && metrics.histogram('same'), { name: 'TypeError', message: /already exists as a gauge/ })
  const c = metrics.counter('ok_total', { labelNames: ['a'] })
  assert.doesNotThrow(() => {
    c.inc(-1)
    c.inc('x')
    c.labels({ a: 1, b: 2 }).inc()
    metrics.histogram('h2').observe(NaN)
  })
  const text = metrics.prometheus()
  assert.equal(valueOf(text, 'prodkit_metrics_rejected_updates_total'), 4)
  assert.equal(valueOf(text, 'ok_total{a="1"}'), 1)
  const warned = lines().filter((l) => /metric update ignored/.test(l.msg))
  assert.equal(warned.length, 1)
})

test('snapshot(): process, system, event loop, heap, GC and active resources, and the app metrics', async (t) => {
  const { metrics } = setup(t)
  metrics.counter('snap_total').inc(3)
  const keepAlive = setInterval(() => {}, 1000)
  t.after(() => clearInterval(keepAlive))
  await waitFor(() => metrics.sampler.seq() >= 2, { what: 'two samples' })
  const s = metrics.snapshot()
  assert.ok(s.time > 1.6e12)
  assert.ok(s.process.residentMemoryBytes > 10 << 20)
  assert.ok(s.process.virtualMemoryBytes >= s.process.residentMemoryBytes)
  assert.ok(s.process.threads >= 5, 'node has worker threads')
  assert.ok(s.process.openFds >= 3)
  assert.ok(s.process.cpuUserSeconds > 0)
  assert.ok(s.system.memoryTotalBytes > s.system.memoryAvailableBytes)
  assert.equal(s.system.cpuRatioPerCore.length, require('node:os').cpus().length)
  assert.ok(s.system.filesystems.some((f) => f.mountpoint === '/' && f.sizeBytes > 0))
  assert.ok(s.system.networks.lo.receiveBytes >= 0)
  assert.ok(Object.keys(s.system.disks).length >= 0)
  assert.ok(s.sampler.samples >= 2)
  assert.ok(s.heap.usedBytes > 0 && s.heap.spaces.new_space && s.heap.spaces.old_space)
  assert.ok(s.activeResources.Timeout >= 1, 'a ref\'d interval keeps the loop alive')
  assert.equal(typeof s.eventLoop.p99Ms, 'number')
  assert.equal(s.app.snap_total.samples[0].value, 3)
})

test('event-loop delay: a blocked loop shows in max and p99 of the interval, the timer resolution subtracted', async (t) => {
  const { metrics } = setup(t, { intervalMs: 60_000 })
  metrics.runtime.tick()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const end = Date.now() + 150
  while (Date.now() < end) {}
  await new Promise((resolve) => setTimeout(resolve, 50))
  const window = metrics.runtime.tick()
  assert.ok(window.maxMs >= 140, `max ${window.maxMs}`)
  assert.ok(window.minMs < 10, `an idle tick reads near 0, not the 10 ms resolution: min ${window.minMs}`)
  assert.equal(metrics.snapshot().eventLoop.maxMs, window.maxMs)
  assert.ok(window.utilization > 0 && window.utilization <= 1)
})

test('GC pauses are recorded by kind', async () => {
  const out = await runNode(`
    const { createMetrics } = require('./lib/metrics')
    const log = require('.').createLogger({ destination: 'stderr' })
    const m = createMetrics({}, { log })
    global.gc(); global.gc({ type: 'minor' })
    setTimeout(() => { console.log(m.prometheus()); m.close(); log.close() }, 50)`, { args: ['--expose-gc'] })
  assert.equal(out.code, 0, out.stderr)
  assert.ok(valueOf(out.stdout, 'nodejs_gc_duration_seconds_count{kind="major"}') >= 1, out.stdout.slice(0, 500))
  assert.ok(valueOf(out.stdout, 'nodejs_gc_duration_seconds_count{kind="minor"}') >= 1)
})

test('outgoing HTTP calls from node:http and fetch are counted and timed by host, method and status', async (t) => {
  const { metrics } = setup(t)
  const server = http.createServer((req, res) => { res.statusCode = req.url === '/missing' ? 404 : 200; res.end('x') })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const host = `127.0.0.1:${server.address().port}`
  await new Promise((resolve, reject) => http.get(`http://${host}/a`, (res) => res.resume().on('end', resolve)).on('error', reject))
  await new Promise((resolve, reject) => http.get(`http://${host}/missing`, (res) => res.resume().on('end', resolve)).on('error', reject))
  await (await fetch(`http://${host}/b`, { method: 'POST', body: 'hi' })).text()
  await (await fetch(`http://${host}/c`)).text()
  const closed = http.createServer()
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const refused = `127.0.0.1:${closed.address().port}`
  await new Promise((resolve) => closed.close(resolve))
  await fetch(`http://${refused}/refused`).catch(() => {})
  await new Promise((resolve) => http.get(`http://${refused}/refused`).on('error', resolve))
  const text = metrics.prometheus()
  const count = (method, status, h = host) => valueOf(text, `http_client_request_duration_seconds_count{host="${h}",method="${method}",status="${status}"}`)
  assert.equal(count('GET', 200), 2)
  assert.equal(count('GET', 404), 1)
  assert.equal(count('POST', 200), 1)
  assert.equal(count('GET', 'error', refused), 2, 'a refused connection, from fetch and from node:http')
  assert.ok(valueOf(text, `http_client_request_duration_seconds_sum{host="${host}",method="GET",status="200"}`) > 0)
})

test('the Prometheus text passes promtool check metrics', async (t) => {
  const promtool = tool(t, 'promtool')
  if (!promtool) return
  const { metrics } = setup(t)
  metrics.counter('jobs_total', { labelNames: ['queue'] }).inc({ queue: 'mail "quoted" \\ and\nnewline' })
  metrics.timer('job_seconds').start()()
  metrics.summary('job_latency_seconds', { labelNames: ['queue'], maxAgeSeconds: 60 }).observe({ queue: 'mail' }, 0.2)
  metrics.summary('idle_latency_seconds') // no observation: NaN quantiles
  metrics.gauge('collected_depth', { collect () { this.set(7) } })
  metrics.histogram('observed_in_http_seconds', { labelNames: ['route'] }).observe({ route: '#unmatched' }, 0.01)
  await waitFor(() => metrics.sampler.seq() >= 1, { what: 'a sample' })
  const result = spawnSync(promtool, ['check', 'metrics'], { input: metrics.prometheus(), encoding: 'utf8' })
  assert.equal(result.status, 0, result.stdout + result.stderr)
  assert.equal(result.stdout + result.stderr, '', 'no lint warnings either')
})

test('a real Prometheus server scrapes /metrics (it negotiates OpenMetrics): the target is up, series, a summary, a histogram and an exemplar with the trace id answer queries', async (t) => {
  const prometheusBin = tool(t, 'prometheus')
  if (!prometheusBin) return
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
  new NodeTracerProvider().register()
  const otel = require('@opentelemetry/api')
  t.after(() => { otel.trace.disable(); otel.context.disable(); otel.propagation.disable() })
  const { metrics } = setup(t, { port: 0, defaultLabels: { app: 'shop' } })
  const madeAt = Date.now() / 1000
  metrics.counter('scraped_orders_total').inc(40)
  const traceId = otel.trace.getTracer('t').startActiveSpan('order', (span) => {
    metrics.counter('scraped_orders_total').inc(2)
    metrics.histogram('scraped_size_bytes', { buckets: [10, 100] }).observe(50)
    span.end()
    return span.spanContext().traceId
  })
  metrics.summary('scraped_latency_seconds', { maxAgeSeconds: 600 }).observe(0.25)
  await waitFor(() => metrics.port, { what: 'the metrics server' })
  const dir = tempDir(t, 'prom')
  fs.chmodSync(dir, 0o777)
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prodkit\n    static_configs:\n      - targets: ['127.0.0.1:${metrics.port}']\n`)
  const webPort = await new Promise((resolve) => { const s = http.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })
  const prom = spawn(prometheusBin, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${webPort}`, '--enable-feature=exemplar-storage'
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let promErr = ''
  prom.stderr.on('data', (d) => { promErr = (promErr + d).slice(-4000) })
  t.after(() => prom.kill('SIGKILL'))
  const api = `http://127.0.0.1:${webPort}/api/v1`
  const getJson = async (url) => { try { return await (await fetch(url)).json() } catch { return null } }
  const up = await waitFor(async () => {
    const targets = await getJson(`${api}/targets`)
    const target = targets && targets.data.activeTargets.find((x) => x.labels.job === 'prodkit')
    return target && target.health === 'up' ? target : null
  }, { what: `the target to be up (prometheus said: ${promErr})`, timeoutMs: 30_000 })
  assert.equal(up.lastError, '')
  const result = await waitFor(async () => {
    const r = await getJson(`${api}/query?query=${encodeURIComponent('scraped_orders_total{job="prodkit"}')}`)
    return r && r.data.result.length ? r.data.result : null
  }, { what: 'the series', timeoutMs: 30_000 })
  assert.equal(result[0].value[1], '42')
  assert.equal(result[0].metric.app, 'shop', 'default labels')
  const rss = await getJson(`${api}/query?query=process_resident_memory_bytes`)
  assert.ok(Number(rss.data.result[0].value[1]) > 0)
  const query = async (q) => (await getJson(`${api}/query?query=${encodeURIComponent(q)}`)).data.result
  assert.ok(Math.abs(Number((await query('scraped_latency_seconds{quantile="0.5"}'))[0].value[1]) - 0.25) <= 0.0025, 'the summary quantile, within 1%')
  assert.equal((await query('scraped_size_bytes_bucket{le="100.0"}'))[0].value[1], '1', 'OpenMetrics le values are canonical numbers')
  // Exemplars exist only in OpenMetrics: Prometheus asked for it and parsed it.
  const exemplars = await waitFor(async () => {
    const r = await getJson(`${api}/query_exemplars?query=${encodeURIComponent('scraped_orders_total')}&start=0&end=${Date.now() / 1000 + 60}`)
    return r && r.data && r.data.length ? r.data : null
  }, { what: 'the counter\'s exemplar in Prometheus', timeoutMs: 30_000 })
  assert.equal(exemplars[0].exemplars[0].labels.trace_id, traceId)
  assert.equal(exemplars[0].exemplars[0].value, '2')
  // OpenMetrics _created lines: Prometheus 2.x parses them and stores them as series.
  const created = await query('{__name__=~"scraped_.*_created"}')
  assert.deepEqual(created.map((r) => r.metric.__name__).sort(), ['scraped_latency_seconds_created', 'scraped_orders_created', 'scraped_size_bytes_created'])
  for (const r of created) assert.ok(Math.abs(Number(r.value[1]) - madeAt) < 60, `${r.metric.__name__} ${r.value[1]} near ${madeAt}`)
})

test('the /metrics server binds to 127.0.0.1, serves GET /metrics and 404 elsewhere; express.metricsHandler serves the same', async (t) => {
  const { metrics } = setup(t, { port: 0 })
  metrics.counter('served_total').inc()
  await waitFor(() => metrics.port, { what: 'the metrics server' })
  assert.equal(metrics.server.address().address, '127.0.0.1')
  const res = await fetch(`http://127.0.0.1:${metrics.port}/metrics`)
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  assert.equal(valueOf(await res.text(), 'served_total'), 1)
  assert.equal((await fetch(`http://127.0.0.1:${metrics.port}/other`)).status, 404)
  const app = require('express')()
  app.get('/metrics', prodkit.express.metricsHandler({ metrics }))
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  t.after(() => server.close())
  const viaExpress = await fetch(`http://127.0.0.1:${server.address().port}/metrics`)
  assert.equal(valueOf(await viaExpress.text(), 'served_total'), 1)
  assert.throws(() => prodkit.express.metricsHandler({ metrics: {} }), { name: 'TypeError', message: /metricsHandler metrics must be the metrics of a prodkit kit/ })
})

test('thresholds: one warn line after K intervals above the limit, one line when it clears', async (t) => {
  const { metrics, lines } = setup(t, { intervalMs: 60_000, thresholds: { eventLoopDelayP99Ms: 50, intervals: 2 } })
  const block = (ms) => { const end = Date.now() + ms; while (Date.now() < end) {} }
  const interval = async (blockMs) => {
    await new Promise((resolve) => setTimeout(resolve, 30))
    if (blockMs) block(blockMs)
    await new Promise((resolve) => setTimeout(resolve, 30))
    metrics.tick()
  }
  metrics.tick()
  await interval(120)
  assert.equal(lines().filter((l) => l.metric).length, 0, 'one interval above is not enough')
  await interval(120)
  await interval(120)
  await interval(0)
  await interval(0)
  const alerts = lines().filter((l) => l.metric === 'eventLoopDelayP99Ms')
  assert.equal(alerts.length, 2)
  assert.equal(alerts[0].level, 40)
  assert.match(alerts[0].msg, /event-loop delay p99 above 50 ms for 2 intervals/)
  assert.equal(alerts[1].level, 30)
  assert.match(alerts[1].msg, /event-loop delay p99 back under 50 ms/)
})

test('invalid metrics options throw TypeErrors naming the option', () => {
  const cases = [
    [{ intervalMs: 5 }, /option metrics.intervalMs must be an integer from 100/],
    [{ port: 70000 }, /option metrics.port must be an integer from 0 to 65535/],
    [{ thresholds: { cpu: 1 } }, /unknown option metrics.thresholds.cpu/],
    [{ every: 1 }, /unknown option metrics.every/],
    [{ prefix: 'my-app_' }, /option metrics.prefix must be a metric name prefix/],
    [{ defaultLabels: { le: 'x' } }, /option metrics.defaultLabels keys must be label names/],
    [{ defaultLabels: [] }, /option metrics.defaultLabels must be an object/],
    [{ httpServer: { buckets: [] } }, /option metrics.httpServer.buckets must be a non-empty array/],
    [{ httpServer: { bucket: [1] } }, /unknown option metrics.httpServer.bucket \(known: buckets\)/],
    [{ httpServer: 'yes' }, /option metrics.httpServer must be true, false or \{ buckets \}/],
    [{ collectTimeoutMs: 0 }, /option metrics.collectTimeoutMs must be an integer from 1 to 60000/],
    ['on', /option metrics must be an object, or false to turn metrics off/]
  ]
  for (const [metrics, message] of cases) {
    assert.throws(() => prodkit.install({ metrics }), { name: 'TypeError', message })
  }
})

test('mergeFamilies: counters summed, gauges labelled by worker, histograms merged by bucket', () => {
  const reports = [1, 2].map((w) => ({
    worker: String(w),
    families: [
      { name: 'c_total', help: 'c', type: 'counter', samples: [{ labels: { k: 'a' }, value: w }] },
      { name: 'g', help: 'g', type: 'gauge', samples: [{ labels: {}, value: w * 10 }] },
      { name: 'h', help: 'h', type: 'histogram', buckets: [1, 2], samples: [{ labels: {}, counts: [w, 0, 1], sum: w + 5, count: w + 1 }] }
    ]
  }))
  const [c, g, h] = mergeFamilies(reports)
  assert.deepEqual(c.samples, [{ labels: { k: 'a' }, value: 3 }])
  assert.deepEqual(g.samples, [{ labels: { worker: '1' }, value: 10 }, { labels: { worker: '2' }, value: 20 }])
  assert.deepEqual(h.samples, [{ labels: {}, counts: [3, 0, 2], sum: 13, count: 5 }])
})

test('cluster: the primary merges real workers; a worker that does not answer in time is left out and counted', async (t) => {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'cluster-metrics.js')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => child.kill('SIGKILL'))
  let buffer = ''
  const waiters = []
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buffer += d
    let i
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i)
      buffer = buffer.slice(i + 1)
      const waiter = waiters.shift()
      if (waiter) waiter(line)
    }
  })
  // A line from the primary, or a failure (not a hang) when none comes.
  const nextLine = () => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line from the cluster fixture within 30 s; stderr: ${stderr.slice(-2000)}`)), 30_000)
    waiters.push((line) => { clearTimeout(timer); resolve(line) })
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  assert.equal(await nextLine(), 'ready')
  child.stdin.write('scrape\n')
  const all = JSON.parse(await nextLine()).text
  assert.equal(valueOf(all, 'jobs_total{kind="email"}'), 3, 'counters summed (1 + 2)')
  assert.equal(valueOf(all, 'jobs_total{kind="sms"}'), 20)
  assert.equal(valueOf(all, 'queue_depth{worker="1"}'), 100, 'gauges labelled by worker')
  assert.equal(valueOf(all, 'queue_depth{worker="2"}'), 200)
  assert.equal(valueOf(all, 'job_size_bytes_bucket{le="10"}'), 2, 'histograms merged by bucket')
  assert.equal(valueOf(all, 'job_size_bytes_bucket{le="1000"}'), 4)
  assert.equal(valueOf(all, 'job_size_bytes_count'), 4)
  assert.equal(valueOf(all, 'prodkit_cluster_workers{state="answered"}'), 2)
  assert.ok(valueOf(all, 'process_resident_memory_bytes') > 0, "the primary's own process figures")
  assert.ok(valueOf(all, 'nodejs_heap_size_used_bytes{worker="primary"}') > 0)
  assert.equal((all.match(/^# TYPE nodejs_heap_size_used_bytes /gm) || []).length, 1, 'one TYPE line per family')
  assert.equal(valueOf(all, 'prodkit_cluster_worker_up{worker="2"}'), 1)
  // Summaries: the quantiles of both workers' observations (1..200), from merged sketches.
  assert.ok(Math.abs(valueOf(all, 'job_latency_seconds{quantile="0.5"}') - 100) <= 1, 'merged median of 1..200')
  assert.ok(Math.abs(valueOf(all, 'job_latency_seconds{quantile="0.99"}') - 198) <= 2)
  assert.equal(valueOf(all, 'job_latency_seconds_count'), 200)
  assert.equal(valueOf(all, 'job_latency_seconds_sum'), 20100)
  child.stdin.write('scrape-om\n')
  const om = JSON.parse(await nextLine()).text
  assert.ok(om.endsWith('# EOF\n'))
  assert.match(om, /^# TYPE jobs counter$/m)
  assert.equal(valueOf(om, 'jobs_total{kind="email"}'), 3)
  child.stdin.write('block\nscrape\n')
  const partial = JSON.parse(await nextLine()).text
  assert.equal(valueOf(partial, 'prodkit_cluster_workers{state="missing"}'), 1)
  assert.equal(valueOf(partial, 'prodkit_cluster_missing_reports_total'), 1)
  assert.equal(valueOf(partial, 'prodkit_cluster_worker_up{worker="2"}'), 0, 'the blocked worker is flagged')
  assert.equal(valueOf(partial, 'jobs_total{kind="email"}'), 3, 'the blocked worker counted from its last report: no reset seen by Prometheus')
  assert.equal(valueOf(partial, 'job_size_bytes_count'), 4)
  assert.equal(valueOf(partial, 'queue_depth{worker="2"}'), undefined, 'its gauges are left out')
  assert.equal(valueOf(partial, 'queue_depth{worker="1"}'), 100)
  if (spawnSync('which', ['promtool']).status === 0) {
    const check = spawnSync('promtool', ['check', 'metrics'], { input: all, encoding: 'utf8' })
    assert.equal(check.status, 0, check.stdout + check.stderr)
  }
  // Worker 1 crashes and is replaced by worker 3 (which counts 3 emails): its last values
  // stay in the sum, so the counter goes 3 -> 3 + 3 and never back.
  child.stdin.write('crash\n')
  assert.equal(await nextLine(), 'replaced')
  let after
  for (let tries = 0; tries < 200; tries++) {
    child.stdin.write('scrape\n')
    after = JSON.parse(await nextLine()).text
    if (valueOf(after, 'prodkit_cluster_worker_up{worker="2"}') === 1) break // worker 2 has woken up
  }
  assert.equal(valueOf(after, 'jobs_total{kind="email"}'), 6, 'crashed worker 1 (1) kept, worker 2 (2), replacement worker 3 (3)')
  assert.equal(valueOf(after, 'jobs_total{kind="sms"}'), 30)
  assert.equal(valueOf(after, 'job_size_bytes_count'), 6, 'histogram counts kept across the crash too')
  assert.equal(valueOf(after, 'queue_depth{worker="1"}'), undefined, 'a dead worker\'s gauges go')
  assert.equal(valueOf(after, 'queue_depth{worker="3"}'), 300)
  child.stdin.write('exit\n')
})

test('prodkit.cluster(): the primary serves /metrics merged from its workers', async (t) => {
  const freePort = () => new Promise((resolve) => { const s = http.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })
  const metricsPort = await freePort()
  const appPort = await freePort()
  const dir = tempDir(t)
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'cluster-metrics-app', 'primary.js')], {
    cwd: ROOT,
    env: { ...process.env, METRICS_PORT: String(metricsPort), APP_PORT: String(appPort), LOG_FILE: path.join(dir, 'app.log') },
    stdio: 'ignore'
  })
  t.after(() => child.kill('SIGKILL'))
  await waitFor(async () => {
    try { return (await fetch(`http://127.0.0.1:${appPort}/`)).ok } catch { return false }
  }, { what: 'the workers to serve', timeoutMs: 20_000 })
  for (let i = 1; i < 10; i++) await (await fetch(`http://127.0.0.1:${appPort}/`)).text()
  const text = await waitFor(async () => {
    const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    return valueOf(body, 'app_requests_total') === 10 && valueOf(body, 'prodkit_cluster_workers{state="answered"}') === 2 ? body : null
  }, { what: 'the merged count of 10 requests from 2 workers', timeoutMs: 20_000 })
  assert.ok(valueOf(text, 'prodkit_worker_resident_memory_bytes{worker="1"}') > 0 || valueOf(text, 'nodejs_heap_size_used_bytes{worker="1"}') > 0)
  child.kill('SIGTERM')
  assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 0)
})

test('summary: sliding-window quantiles within 1% of the exact ones (prom-client\'s tdigest side by side); NaN once the window is empty; sum and count for all time', async (t) => {
  const { metrics } = setup(t)
  let now = 0
  metrics.registry.now = () => now
  const promClient = require('prom-client')
  const register = new promClient.Registry()
  const theirs = new promClient.Summary({ name: 'lat_seconds', help: 'h', registers: [register] })
  const ours = metrics.summary('lat_seconds', { help: 'h', maxAgeSeconds: 60, ageBuckets: 3 })
  let x = 7
  const all = []
  for (let i = 0; i < 5000; i++) {
    x = (x * 48271) % 2147483647
    const v = (x / 2147483647) * (i % 10 === 0 ? 5 : 0.2)
    theirs.observe(v)
    ours.observe(v)
    all.push(v)
  }
  all.sort((a, b) => a - b)
  const text = metrics.prometheus()
  const reference = (await theirs.get()).values
  for (const q of [0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999]) {
    const exact = all[Math.floor(q * (all.length - 1))]
    const got = valueOf(text, `lat_seconds{quantile="${q}"}`)
    const tdigest = reference.find((r) => r.labels.quantile === q).value
    assert.ok(Math.abs(got - exact) <= 0.01 * exact, `q${q}: ${got} vs the exact ${exact} (prom-client's tdigest: ${tdigest})`)
    assert.ok(Math.abs(tdigest - exact) <= 0.05 * exact, `prom-client agrees roughly: q${q} ${tdigest} vs ${exact}`)
  }
  assert.equal(valueOf(text, 'lat_seconds_count'), 5000)
  now = 45_000 // 2 of 3 age buckets gone: the observations are still inside the window
  assert.equal(valueOf(metrics.prometheus(), 'lat_seconds_count'), 5000)
  assert.ok(valueOf(metrics.prometheus(), 'lat_seconds{quantile="0.5"}') > 0)
  ours.observe(100)
  now = 61_000 // the first observations are out of the window; the 100 is not
  assert.equal(valueOf(metrics.prometheus(), 'lat_seconds{quantile="0.5"}'), valueOf(metrics.prometheus(), 'lat_seconds{quantile="0.999"}'))
  assert.ok(Math.abs(valueOf(metrics.prometheus(), 'lat_seconds{quantile="0.5"}') - 100) <= 1)
  now = 200_000
  const empty = metrics.prometheus()
  assert.ok(Number.isNaN(valueOf(empty, 'lat_seconds{quantile="0.5"}')), 'an empty window reads NaN, not 0')
  assert.equal(valueOf(empty, 'lat_seconds_count'), 5001, 'count covers all time')
})

test('collect(): sync and async callbacks set gauges at scrape time; one that throws, rejects or hangs is counted and logged once, never breaking the scrape', async (t) => {
  const { metrics, lines } = setup(t, { collectTimeoutMs: 200 })
  let depth = 3
  metrics.gauge('sync_depth', { collect () { this.set(depth) } })
  metrics.gauge('async_depth', { async collect () { await new Promise((resolve) => setImmediate(resolve)); this.set(depth * 10) } })
  metrics.gauge('throws', { collect () { throw new Error('boom') } })
  metrics.gauge('rejects', { collect () { return Promise.reject(new Error('nope')) } })
  metrics.gauge('hangs', { collect () { return new Promise(() => {}) } })
  let text = await metrics.scrape()
  assert.equal(valueOf(text, 'sync_depth'), 3)
  assert.equal(valueOf(text, 'async_depth'), 30, 'scrape() waits for async collect()')
  depth = 4
  text = await metrics.scrape()
  assert.equal(valueOf(text, 'sync_depth'), 4)
  assert.equal(valueOf(text, 'async_depth'), 40)
  assert.equal(valueOf(text, 'prodkit_metrics_collect_errors_total{metric="throws"}'), 2)
  assert.equal(valueOf(text, 'prodkit_metrics_collect_errors_total{metric="rejects"}'), 2)
  assert.equal(valueOf(text, 'prodkit_metrics_collect_errors_total{metric="hangs"}'), 2)
  const logged = lines().filter((l) => /collect\(\) failed/.test(l.msg))
  assert.deepEqual(logged.map((l) => l.metric).sort(), ['hangs', 'rejects', 'throws'], 'the first failure of each is logged once')
  assert.equal(valueOf(metrics.prometheus(), 'sync_depth'), 4, 'prometheus() runs sync callbacks too')
})

test('prefix and default labels on every series (prodkit\'s and the sampler\'s too); a series\' own label wins; promtool accepts the result', async (t) => {
  const { metrics } = setup(t, { prefix: 'shop_', defaultLabels: { app: 'shop', region: 'eu' } })
  metrics.counter('orders_total', { labelNames: ['region'] }).inc({ region: 'us' })
  metrics.gauge('depth').set(2)
  await waitFor(() => metrics.sampler.seq() >= 1, { what: 'a sample' })
  let text = metrics.prometheus()
  assert.equal(valueOf(text, 'shop_orders_total{app="shop",region="us"}'), 1)
  assert.equal(valueOf(text, 'shop_depth{app="shop",region="eu"}'), 2)
  assert.ok(valueOf(text, 'shop_process_resident_memory_bytes{app="shop",region="eu"}') > 0)
  assert.ok(text.includes('shop_system_cpu_usage_ratio{app="shop",region="eu",cpu="all"} '))
  assert.ok(!/^[a-z]/m.test(text.split('\n').filter((l) => !l.startsWith('shop_') && !l.startsWith('#') && l).join('\n')), 'every series is prefixed')
  metrics.setDefaultLabels({ app: 'shop2' })
  text = metrics.prometheus()
  assert.equal(valueOf(text, 'shop_depth{app="shop2"}'), 2)
  const promtool = spawnSync('which', ['promtool'], { encoding: 'utf8' }).stdout.trim()
  if (promtool) {
    const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' })
    assert.equal(result.status, 0, result.stdout + result.stderr)
  }
})

test('HTTP server duration histogram from requestLogger: method, route template, status code; unmatched routes are one value; prom-client\'s default buckets', async (t) => {
  const { metrics } = setup(t)
  const promClient = require('prom-client')
  const reference = new promClient.Histogram({ name: 'x_seconds', help: 'h', registers: [] })
  assert.deepEqual([...require('../lib/metrics/registry').DEFAULT_BUCKETS], [...reference.upperBounds], 'the default buckets are prom-client\'s')
  const express = require('express')
  const app = express()
  const log = prodkit.createLogger({ destination: path.join(tempDir(t), 'req.log') })
  t.after(() => log.close())
  app.use(prodkit.express.requestLogger({ logger: log, skip: ['/health'] }))
  const router = express.Router()
  router.get('/orders/:id', (req, res) => res.status(req.params.id === '0' ? 404 : 200).send('ok'))
  app.use('/api', router)
  app.get('/health', (req, res) => res.send('ok'))
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  t.after(() => server.close())
  const base = `http://127.0.0.1:${server.address().port}`
  for (const url of ['/api/orders/1', '/api/orders/2', '/api/orders/0', '/health', '/nope/1', '/nope/2', '/nope/3']) await (await fetch(base + url)).text()
  await (await fetch(base + '/api/orders/3', { method: 'DELETE' })).text()
  const text = metrics.prometheus()
  const count = (labels) => valueOf(text, `http_server_request_duration_seconds_count{${labels}}`)
  assert.equal(count('method="GET",route="/api/orders/:id",status_code="200"'), 2)
  assert.equal(count('method="GET",route="/api/orders/:id",status_code="404"'), 1)
  assert.equal(count('method="GET",route="/health",status_code="200"'), 1, 'skipped by the logger, still measured')
  assert.equal(count('method="GET",route="#unmatched",status_code="404"'), 3, 'three URLs, one series')
  assert.equal(count('method="DELETE",route="#unmatched",status_code="404"'), 1)
  assert.equal((text.match(/^http_server_request_duration_seconds_count/gm) || []).length, 5)
  assert.equal(valueOf(text, 'http_server_request_duration_seconds_bucket{method="GET",route="/api/orders/:id",status_code="200",le="+Inf"}'), 2)
})

test('OpenMetrics on Accept: application/openmetrics-text: content type, counter names, units, exemplars with the active trace id, # EOF', async (t) => {
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
  const provider = new NodeTracerProvider()
  provider.register()
  const api = require('@opentelemetry/api')
  t.after(() => { api.trace.disable(); api.context.disable(); api.propagation.disable() })
  const { metrics } = setup(t, { port: 0 })
  const jobs = metrics.counter('jobs_total', { help: 'Jobs "done".', labelNames: ['kind'] })
  const sizes = metrics.histogram('job_size_bytes', { buckets: [10, 100] })
  jobs.inc({ kind: 'a' })
  const traceId = api.trace.getTracer('t').startActiveSpan('work', (span) => {
    jobs.inc({ kind: 'a' }, 2)
    sizes.observe(50)
    span.end()
    return span.spanContext().traceId
  })
  metrics.summary('lat_seconds').observe(1)
  await waitFor(() => metrics.port && metrics.sampler.seq() >= 1, { what: 'the metrics server and a sample' })
  const url = `http://127.0.0.1:${metrics.port}/metrics`
  const om = await fetch(url, { headers: { accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } })
  assert.equal(om.headers.get('content-type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8')
  const text = await om.text()
  assert.ok(text.endsWith('\n# EOF\n'))
  assert.match(text, /# HELP jobs Jobs \\"done\\"\.\n# TYPE jobs counter\n/)
  assert.match(text, /# TYPE process_cpu_user_seconds counter\n# UNIT process_cpu_user_seconds seconds\nprocess_cpu_user_seconds_total /)
  assert.match(text, /# TYPE job_size_bytes histogram\n# UNIT job_size_bytes bytes\n/)
  const exemplar = new RegExp(`^jobs_total\\{kind="a"\\} 3 # \\{trace_id="${traceId}",span_id="[0-9a-f]{16}"\\} 2 \\d+\\.\\d{3}$`, 'm')
  assert.match(text, exemplar)
  assert.match(text, new RegExp(`^job_size_bytes_bucket\\{le="100.0"\\} 1 # \\{trace_id="${traceId}",span_id="[0-9a-f]{16}"\\} 50 `, 'm'))
  assert.match(text, /^job_size_bytes_bucket\{le="10.0"\} 0$/m, 'no exemplar where nothing was observed under a span')
  assert.match(text, /^lat_seconds\{quantile="0.5"\} /m)
  const plain = await fetch(url, { headers: { accept: 'text/plain;version=0.0.4' } })
  assert.equal(plain.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const plainText = await plain.text()
  assert.ok(!plainText.includes('# EOF') && !plainText.includes('trace_id'))
  assert.equal((await (await fetch(url)).headers.get('content-type')), 'text/plain; version=0.0.4; charset=utf-8', 'no Accept: Prometheus text')
  const { negotiate } = require('../lib/metrics/negotiate')
  assert.equal(negotiate('application/openmetrics-text;q=0.1,text/plain;q=0.9').format, 'prometheus')
  assert.equal(negotiate('application/openmetrics-text;q=0').format, 'prometheus')
  assert.equal(negotiate(';;;,,q=').format, 'prometheus')
  await assert.rejects(metrics.scrape('json'), { name: 'TypeError', message: /scrape\(format\) must be 'prometheus' or 'openmetrics'/ })
})

test('the cluster wire form: decode(encode(families)) gives the same families (labels, histograms with exemplars, summaries, irregular label sets); mergeFamilies merges summary sketches and keeps the latest exemplar', () => {
  const { encode, decode } = require('../lib/metrics/wire')
  const exemplar = { labels: { trace_id: 'a'.repeat(32), span_id: 'b'.repeat(16) }, value: 1, timestamp: 1700000000.5 }
  const later = { ...exemplar, value: 2, timestamp: 1700000001 }
  const sketch = (values) => {
    const { WindowedSketch, plain } = require('../lib/metrics/sketch')
    const w = new WindowedSketch(undefined, 1, () => 0)
    values.forEach((v) => w.add(v))
    return plain(w.bins())
  }
  const families = (w) => [
    { name: 'c_total', help: 'c "q"', type: 'counter', samples: [{ labels: { k: 'a', j: 'x' }, value: w, ...(w === 2 ? { exemplar: later } : { exemplar }) }, { labels: { k: 'b', j: 'y' }, value: 1 }] },
    { name: 'g', help: 'g', type: 'gauge', samples: [{ labels: {}, value: w }] },
    { name: 'odd', help: 'o', type: 'gauge', samples: [{ labels: { a: '1' }, value: 1 }, { labels: { b: '2' }, value: 2 }] },
    { name: 'h', help: 'h', type: 'histogram', buckets: [1, 2], samples: [{ labels: { k: 'a' }, counts: [w, 0, 1], sum: 3, count: w + 1, exemplars: [null, exemplar, null] }] },
    { name: 's', help: 's', type: 'summary', percentiles: [0.5], samples: [{ labels: {}, sum: 5, count: 2, sketch: sketch(w === 1 ? [1, 2, 3] : [4, 5, 6]) }] }
  ]
  for (const w of [1, 2]) assert.deepEqual(decode(JSON.parse(JSON.stringify(encode(families(w))))), JSON.parse(JSON.stringify(families(w))))
  const merged = mergeFamilies([1, 2].map((w) => ({ worker: String(w), families: decode(JSON.parse(JSON.stringify(encode(families(w))))) })))
  const byName = Object.fromEntries(merged.map((f) => [f.name, f]))
  assert.equal(byName.c_total.samples[0].value, 3)
  assert.deepEqual(byName.c_total.samples[0].exemplar, later, 'the latest exemplar wins')
  const { render } = require('../lib/metrics/families')
  const text = render(merged)
  assert.ok(Math.abs(valueOf(text, 's{quantile="0.5"}') - 3) <= 0.04, 'the median of 1..6 from merged sketches, not an average of medians')
  assert.equal(valueOf(text, 's_count'), 4)
})

test('OpenMetrics: a _created line after every counter, histogram and summary series (its creation, the earliest across a cluster; else the process start), le and quantile values as canonical numbers; Prometheus text unchanged', async (t) => {
  const { metrics } = setup(t)
  const before = Date.now() / 1000
  metrics.counter('made_total', { labelNames: ['k'] }).inc({ k: 'a' })
  metrics.histogram('took_seconds', { buckets: [0.5, 1, 1e6] }).observe(0.7)
  metrics.summary('size_bytes', { percentiles: [0.5, 1] }).observe(3)
  const after = Date.now() / 1000
  const om = await metrics.scrape('openmetrics')
  const created = (series) => {
    const value = valueOf(om, series)
    assert.ok(value >= Math.floor(before * 1000) / 1000 && value <= after + 0.001, `${series} ${value} in [${before}, ${after}]`)
  }
  assert.match(om, /^made_total\{k="a"\} 1\nmade_created\{k="a"\} \d+\.\d{3}$/m, '_created right after its counter')
  created('made_created{k="a"}')
  assert.match(om, /^took_seconds_bucket\{le="0.5"\} 0\ntook_seconds_bucket\{le="1.0"\} 1\ntook_seconds_bucket\{le="1e\+06"\} 1\ntook_seconds_bucket\{le="\+Inf"\} 1\ntook_seconds_sum 0.7\ntook_seconds_count 1\ntook_seconds_created \d+\.\d{3}$/m)
  created('took_seconds_created')
  assert.match(om, /^size_bytes\{quantile="0.5"\} \S+\nsize_bytes\{quantile="1.0"\} \S+\nsize_bytes_sum 3\nsize_bytes_count 1\nsize_bytes_created \d+\.\d{3}$/m)
  created('size_bytes_created')
  // Families that do not know their series' creation: the process start.
  const start = valueOf(om, 'prodkit_metrics_rejected_updates_created')
  assert.ok(Math.abs(start - require('node:perf_hooks').performance.timeOrigin / 1000) < 0.002, `process start ${start}`)
  assert.doesNotMatch(om, /^nodejs_heap_size_used_bytes_created/m, 'no _created for gauges')
  const text = await metrics.scrape('prometheus')
  assert.doesNotMatch(text, /_created/, 'Prometheus text 0.0.4 has no _created')
  assert.match(text, /^took_seconds_bucket\{le="1"\} 1$/m, 'nor canonical numbers (unchanged)')

  // Across a cluster: the earliest creation of a series, kept through the wire form.
  const { encode, decode } = require('../lib/metrics/wire')
  const { render } = require('../lib/metrics/families')
  const family = (created) => [{ name: 'c_total', help: 'c', type: 'counter', samples: [{ labels: { k: 'a' }, value: 1, created }] }]
  const reports = [[1, 1700000005], [2, 1700000001], [3, 1700000009]].map(([w, c]) => ({ worker: String(w), families: decode(JSON.parse(JSON.stringify(encode(family(c))))) }))
  const merged = mergeFamilies(reports)
  assert.equal(merged[0].samples[0].created, 1700000001)
  assert.match(render(merged, { openMetrics: true }), /^c_total\{k="a"\} 3\nc_created\{k="a"\} 1700000001\.000$/m)
  const unknown = mergeFamilies([{ worker: '1', families: [{ name: 'd_total', help: 'd', type: 'counter', samples: [{ labels: {}, value: 1 }] }] }])
  assert.match(render(unknown, { openMetrics: true, created: 1600000000 }), /^d_total 1\nd_created 1600000000\.000$/m)
})

'use strict'
// `npm run bench:http`: what logging every request costs an Express 5 "hello world" under
// load, with pino-http 10 (pino's sync and async file destinations) and with prodkit's
// requestLogger() (its file destination), against the same app without logging.
//
//   node bench/http.js [--seconds 10] [--warmup 3] [--connections 50] [--rounds 1] [--js-requests 20000]
//   node bench/http.js --instructions
//
// Each contender is a server in its own process (bench/http-server.js), loaded by
// autocannon from this process: a warm-up, then the measured run. The cost of logging
// is the time per request above the app without logging (1e6 / rps - 1e6 / rps without
// logging, in µs/request), and, steadier on a busy machine, the server's CPU time per
// request (all its threads) above the app's without logging; the ratio is prodkit's cost
// over pino-http's. With --rounds N
// the contenders take turns N times, a different one first each round, and the medians
// are reported. Then the JS-thread time per request of the same apps without the network
// (bench/http-server.js --js). Each log file is then counted: a logger that lost lines has not won.
// With --instructions, only this: the instructions per request of the same in-process
// requests, counted by valgrind's callgrind in runs of 1,000 and 3,000 requests (each
// after as many of warm-up), the difference over 4,000 (start-up cancels out): on the JS
// thread, and on all threads (the writers' included), with V8's seeds fixed
// (bench/callgrind.js). User-space instructions only: the system calls' own work is not
// in them. Two runs of the same code agree within about 2%, on an idle or a busy machine
// (timings here swing by 2x): the measure to compare two versions of the code by. Takes
// a few minutes (valgrind runs Node about 50 times slower).
// Nothing here is asserted on: a missed target is reported, not fatal.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { fork, execFileSync } = require('node:child_process')
const { parseArgs } = require('node:util')
const autocannon = require('autocannon')
const { hasValgrind, countInstructions } = require('./callgrind')

const SERVER = path.join(__dirname, 'http-server.js')
const CONTENDERS = ['none', 'pino-http-sync', 'pino-http-async', 'prodkit']
const TARGET_RATIO = 0.5

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' },
    'js-requests': { type: 'string', default: '20000' },
    instructions: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false }
  }
})
if (values.help) {
  console.log('usage: node bench/http.js [--seconds 10] [--warmup 3] [--connections 50] [--rounds 1] [--js-requests 20000] | --instructions')
  process.exit(0)
}
const SECONDS = Number(values.seconds)
const WARMUP = Number(values.warmup)
const CONNECTIONS = Number(values.connections)
const ROUNDS = Number(values.rounds)
const JS_REQUESTS = Number(values['js-requests'])

// The JS-thread time per request of the same app without the network (http-server.js
// --js): one process per contender and round.
function jsTime (contender, dir, round) {
  const file = path.join(dir, `${contender}-js-${round}.log`)
  const out = execFileSync(process.execPath, [SERVER, contender, file, '--js', String(JS_REQUESTS)], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop()).usPerRequest
}

// Instructions per request of `contender`'s in-process requests (see --instructions):
// { js, all }, on the JS thread and on all threads.
async function instructions (contender, dir) {
  const counts = []
  for (const n of [1000, 3000]) {
    const file = path.join(dir, `${contender}-ir-${n}.log`)
    counts.push(await countInstructions([SERVER, contender, file, '--js', String(n)]))
  }
  // Each run makes its warm-up (as many requests, up to 5,000) and then its N requests.
  return { js: (counts[1].js - counts[0].js) / 4000, all: (counts[1].all - counts[0].all) / 4000 }
}

async function mainInstructions () {
  if (!hasValgrind()) {
    console.log('--instructions needs valgrind (Debian: apt-get install valgrind)')
    process.exitCode = 1
    return
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-bench-http-'))
  const ir = {}
  // Two at a time: the counts do not depend on what runs beside them.
  for (let i = 0; i < CONTENDERS.length; i += 2) {
    const pair = CONTENDERS.slice(i, i + 2)
    const counts = await Promise.all(pair.map((c) => instructions(c, dir)))
    pair.forEach((c, k) => { ir[c] = counts[k] })
  }
  fs.rmSync(dir, { recursive: true, force: true })
  const cost = (c, key) => ir[c][key] - ir.none[key]
  const n = (x) => Math.round(x).toLocaleString('en')
  console.log(`Instructions per request (callgrind; bench/http-server.js --js, 4 requests per event-loop turn); Node ${process.version}`)
  console.log(['| contender | JS thread | cost of logging | all threads | cost of logging |', '| --- | ---: | ---: | ---: | ---: |',
    ...CONTENDERS.map((c) => `| ${c} | ${n(ir[c].js)} | ${c === 'none' ? '-' : n(cost(c, 'js'))} | ${n(ir[c].all)} | ${c === 'none' ? '-' : n(cost(c, 'all'))} |`)].join('\n'))
  const ratio = (rival, key) => cost('prodkit', key) / cost(rival, key)
  const sync = ratio('pino-http-sync', 'all')
  const async = ratio('pino-http-async', 'all')
  console.log(`prodkit / pino-http instructions, JS thread: ${ratio('pino-http-sync', 'js').toFixed(2)} (sync destination), ${ratio('pino-http-async', 'js').toFixed(2)} (async destination)`)
  console.log(`prodkit / pino-http instructions, all threads: ${sync.toFixed(2)} (sync destination), ${async.toFixed(2)} (async destination); target <= ${TARGET_RATIO}${Math.max(sync, async) <= TARGET_RATIO ? ': met' : ': NOT met'}`)
  const outDir = path.join(__dirname, 'out')
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'http-instructions.json'), JSON.stringify({ ir, sync, async }, null, 2))
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function load (url, duration) {
  return autocannon({ url, connections: CONNECTIONS, duration })
}

async function runOne (contender, dir, round) {
  const file = path.join(dir, `${contender}-${round}.log`)
  const child = fork(SERVER, [contender, file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const port = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`${contender}: the server exited (${code})`)))
  })
  const url = `http://127.0.0.1:${port}/`
  const ask = (message) => new Promise((resolve) => { child.once('message', resolve); child.send(message) })
  await load(url, WARMUP)
  await ask('start')
  const result = await load(url, SECONDS)
  // The server flushes its log, counts its lines and the requests it answered, and exits.
  const { handled, lines, cpuUsPerRequest } = await ask('done')
  await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)))
  return {
    rps: result.requests.average,
    cpuUsPerRequest,
    latencyP99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    // A request line for each request answered (warm-up included).
    linesOk: contender === 'none' ? true : lines === handled,
    lines,
    handled
  }
}

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-bench-http-'))
  const runs = Object.fromEntries(CONTENDERS.map((c) => [c, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const order = CONTENDERS.slice(round % CONTENDERS.length).concat(CONTENDERS.slice(0, round % CONTENDERS.length))
    for (const contender of order) {
      const r = await runOne(contender, dir, round)
      runs[contender].push(r)
      console.error(`round ${round + 1}, ${contender}: ${r.rps.toFixed(0)} req/s, ${r.cpuUsPerRequest.toFixed(1)} CPU µs/request, p99 ${r.latencyP99Ms} ms, ${r.lines} lines for ${r.handled} requests`)
    }
  }
  const js = Object.fromEntries(CONTENDERS.map((c) => [c, []]))
  for (let round = 0; round < ROUNDS; round++) {
    const order = CONTENDERS.slice(round % CONTENDERS.length).concat(CONTENDERS.slice(0, round % CONTENDERS.length))
    for (const contender of order) js[contender].push(jsTime(contender, dir, round))
  }
  fs.rmSync(dir, { recursive: true, force: true })
  const summary = {}
  for (const c of CONTENDERS) {
    summary[c] = {
      rps: median(runs[c].map((r) => r.rps)),
      cpuUsPerRequest: median(runs[c].map((r) => r.cpuUsPerRequest)),
      latencyP99Ms: median(runs[c].map((r) => r.latencyP99Ms)),
      errors: runs[c].reduce((n, r) => n + r.errors, 0),
      lines: runs[c].map((r) => `${r.lines}/${r.handled}`),
      linesOk: runs[c].every((r) => r.linesOk),
      jsUsPerRequest: median(js[c])
    }
  }
  // Two measures of the cost: from throughput (what a client sees, but swayed by whatever
  // else the machine runs) and from the server's CPU time per request (steadier on a busy
  // machine). The ratio is taken from both.
  const base = 1e6 / summary.none.rps
  for (const c of CONTENDERS) {
    summary[c].usPerRequest = 1e6 / summary[c].rps - base
    summary[c].cpuCostUs = summary[c].cpuUsPerRequest - summary.none.cpuUsPerRequest
    summary[c].jsCostUs = summary[c].jsUsPerRequest - summary.none.jsUsPerRequest
  }
  const ratio = (key, rival) => summary.prodkit[key] / summary[rival][key]
  const ratioSync = ratio('usPerRequest', 'pino-http-sync')
  const ratioAsync = ratio('usPerRequest', 'pino-http-async')
  const cpuRatioSync = ratio('cpuCostUs', 'pino-http-sync')
  const cpuRatioAsync = ratio('cpuCostUs', 'pino-http-async')
  const jsRatioSync = ratio('jsCostUs', 'pino-http-sync')
  const jsRatioAsync = ratio('jsCostUs', 'pino-http-async')
  const rows = [
    '| contender | requests/s | cost from throughput (µs/request) | server CPU (µs/request) | cost in CPU (µs/request) | p99 latency (ms) | log lines / requests answered |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...CONTENDERS.map((c) => `| ${c} | ${summary[c].rps.toFixed(0)} | ${c === 'none' ? '-' : summary[c].usPerRequest.toFixed(1)} | ${summary[c].cpuUsPerRequest.toFixed(1)} | ${c === 'none' ? '-' : summary[c].cpuCostUs.toFixed(1)} | ${summary[c].latencyP99Ms} | ${c === 'none' ? '-' : summary[c].lines.join(', ')} |`)
  ]
  console.log(`Express 5 hello world, ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${SECONDS} s measured, ${ROUNDS} round(s); Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  console.log(rows.join('\n'))
  console.log(`\nJS-thread time per request without the network (${JS_REQUESTS} requests, median of ${ROUNDS}):`)
  console.log(['| contender | µs/request | cost of logging (µs/request) |', '| --- | ---: | ---: |',
    ...CONTENDERS.map((c) => `| ${c} | ${summary[c].jsUsPerRequest.toFixed(1)} | ${c === 'none' ? '-' : summary[c].jsCostUs.toFixed(1)} |`)].join('\n'))
  console.log(`prodkit / pino-http JS-thread cost: ${jsRatioSync.toFixed(2)} (sync destination), ${jsRatioAsync.toFixed(2)} (async destination)`)
  console.log(`prodkit / pino-http cost from throughput: ${ratioSync.toFixed(2)} (sync destination), ${ratioAsync.toFixed(2)} (async destination)`)
  console.log(`prodkit / pino-http cost in CPU: ${cpuRatioSync.toFixed(2)} (sync destination), ${cpuRatioAsync.toFixed(2)} (async destination); target <= ${TARGET_RATIO}${Math.max(cpuRatioSync, cpuRatioAsync) <= TARGET_RATIO ? ': met' : ': NOT met'}`)
  const errors = CONTENDERS.reduce((n, c) => n + summary[c].errors, 0)
  if (errors > 0) console.log(`${errors} errors or non-2xx answers: the figures are suspect`)
  const lost = CONTENDERS.filter((c) => !summary[c].linesOk)
  if (lost.length > 0) console.log(`a line per request: FAILED for ${lost.join(', ')}`)
  const outDir = path.join(__dirname, 'out')
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'http.json'), JSON.stringify({ options: values, summary, runs, js, ratioSync, ratioAsync, cpuRatioSync, cpuRatioAsync, jsRatioSync, jsRatioAsync }, null, 2))
  if (lost.length > 0) process.exitCode = 1
}

;(values.instructions ? mainInstructions() : main()).catch((err) => { console.error(err); process.exit(1) })

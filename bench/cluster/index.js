'use strict'
// `npm run bench:cluster`: prodkit's cluster against PM2's cluster mode, on the same app
// (bench/cluster/app.js, a plain HTTP server), in the same run, on this machine:
//
//   1. failed requests during 3 rolling reloads under load from wrk;
//   2. time from a worker crash to its replacement answering (median of --crashes);
//   3. the primary's RSS and open file descriptors over --restarts worker restarts (PM2:
//      its God daemon, which is PM2's cluster primary), sampled every tenth of the run,
//      after --warmup restarts (also sampled), in a fresh start of each contender whose
//      processes run with NODE_OPTIONS="--max-semi-space-size=1 --expose-gc --require
//      gc-on-signal.js", the RSS read right after a full GC. Left to itself, V8 doubles its
//      young generation (here 4 → 8 → 16 → 32 MiB) whenever enough objects have survived
//      its scavenges, as a primary's do (a Worker and its ChildProcess per restart, each
//      connection it hands on), and a GC in a busy process does not shrink it back; its
//      old generation grows until its next full collection. Sampled as it comes, the RSS of
//      every primary rose and fell by up to 30 MiB with that sizing, at moments that
//      varied from run to run. With the young generation held at its smallest and a full
//      GC before each reading, the RSS shows what the primary keeps.
//
// A bare node:cluster primary that only re-forks runs 2 and 3 too: the floor that both
// managers sit on.
//
//   node bench/cluster [--workers 2] [--warmup 200] [--restarts 1000] [--crashes 20] [--only prodkit|pm2|node]
//
// PM2 runs with PM2_HOME in a temporary folder, and its daemon is killed at the end (also
// when the benchmark fails), so that no daemon is left behind. Needs wrk (apt-get install
// wrk).

const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { parseArgs } = require('node:util')

const ROOT = path.join(__dirname, '..', '..')
const APP = path.join(__dirname, 'app.js')
const PM2 = path.join(ROOT, 'node_modules', '.bin', 'pm2')
const OUT = path.join(ROOT, 'bench', 'out')
const RELOADS = 3
// The restart run's processes: the young generation held at 1 MiB per semi-space, gc()
// exposed, and a full GC on SIGWINCH (see 3.).
const RESTART_RUN_OPTIONS = `--max-semi-space-size=1 --expose-gc --require ${JSON.stringify(path.join(__dirname, 'gc-on-signal.js'))}`

// Requests that got no answer before their timeout (counted per contender).
let hung = 0

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function freePort () {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// One request on a fresh connection: the pid that answered, or null on any error or
// after timeoutMs.
function pidAt (port, urlPath = '/', timeoutMs = 5000) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d) => { body += d })
      res.on('end', () => {
        try {
          resolve(JSON.parse(body).pid)
        } catch {
          resolve(null)
        }
      })
      res.on('error', () => resolve(null))
    })
    req.on('error', () => resolve(null))
    req.setTimeout(timeoutMs, () => {
      hung++
      req.destroy()
    })
  })
}

// Requests until `count` different pids have answered; returns them.
async function servingPids (port, count, { timeoutMs = 30_000 } = {}) {
  const pids = new Set()
  const started = Date.now()
  while (pids.size < count) {
    const pid = await pidAt(port, '/', 500) // see crashToAnswer for why a request may hang
    if (pid) pids.add(pid)
    else await sleep(5)
    if (Date.now() - started > timeoutMs) throw new Error(`only ${pids.size} of ${count} workers answered`)
  }
  return pids
}

// The primary's memory and open files right after a full GC: RSS, its anonymous part (the
// heap, where a leak shows; the rest is the node binary's pages), and its file descriptors
// (a connection or a channel kept open shows there).
async function primaryUsage (pid, restarts, gcDir) {
  const mark = path.join(gcDir, String(pid))
  fs.rmSync(mark, { force: true })
  process.kill(pid, 'SIGWINCH')
  const started = Date.now()
  // The file appears once written whole: writeFileSync of a few bytes is one write(2).
  while (!fs.existsSync(mark) || fs.statSync(mark).size === 0) {
    if (Date.now() - started > 10_000) throw new Error(`process ${pid} did not collect its garbage on SIGWINCH`)
    await sleep(5)
  }
  const { heapUsed } = JSON.parse(fs.readFileSync(mark, 'utf8'))
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)[1])
  return { restarts, rssKiB: kib('VmRSS'), anonKiB: kib('RssAnon'), heapKiB: heapUsed / 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length }
}

function runSync (command, args, env) {
  const result = spawnSync(command, args, { env, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr || result.stdout}`)
  return result.stdout
}

// --- the contenders: start, reload (resolves when done), primary pid, stop ---

function prodkitContender (workers) {
  let dir
  let logFile
  let child
  let port
  const reloadsDone = () => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"rolling reload finished')).length
    } catch {
      return 0
    }
  }
  return {
    name: 'prodkit',
    async start (p, extraEnv = {}) {
      port = p
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-prodkit-'))
      logFile = path.join(dir, 'primary.log')
      child = spawn(process.execPath, [path.join(__dirname, 'prodkit-primary.js')], {
        env: { ...process.env, NODE_ENV: 'production', PORT: String(port), WORKERS: String(workers), LOG_FILE: logFile, ...extraEnv },
        stdio: 'ignore'
      })
      await servingPids(port, workers)
    },
    async reload () {
      const before = reloadsDone()
      child.kill('SIGHUP')
      while (reloadsDone() === before) await sleep(10)
    },
    primaryPid: () => child.pid,
    async stop () {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

function pm2Contender (workers) {
  let home
  let env
  return {
    name: 'pm2',
    async start (port, extraEnv = {}) {
      home = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-pm2-'))
      env = { ...process.env, PM2_HOME: home, PORT: String(port), NODE_ENV: 'production', ...extraEnv }
      // --max-restarts: PM2 gives up after 16 restarts within min_uptime otherwise; the
      // 1,000-restart run needs it as prodkit needs crashLoop: false.
      runSync(PM2, ['start', APP, '--name', 'bench', '-i', String(workers), '--max-restarts', '1000000'], env)
      await servingPids(port, workers)
    },
    async reload () {
      runSync(PM2, ['reload', 'bench'], env) // returns once PM2 has replaced every worker
    },
    primaryPid: () => Number(fs.readFileSync(path.join(home, 'pm2.pid'), 'utf8')),
    async stop () {
      if (env) spawnSync(PM2, ['kill'], { env, encoding: 'utf8' })
      if (home) fs.rmSync(home, { recursive: true, force: true })
    }
  }
}

// The floor of the restart figures: node:cluster alone, with no reload to measure.
function nodeContender (workers) {
  let child
  return {
    name: 'node:cluster (baseline)',
    reloads: false,
    async start (port, extraEnv = {}) {
      child = spawn(process.execPath, [path.join(__dirname, 'node-primary.js')], {
        env: { ...process.env, PORT: String(port), WORKERS: String(workers), ...extraEnv },
        stdio: 'ignore'
      })
      await servingPids(port, workers)
    },
    primaryPid: () => child.pid,
    async stop () {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL') // its workers exit with the IPC channel
        await exited
      }
    }
  }
}

// --- the measurements ---

function parseWrk (text) {
  const number = (re) => { const m = re.exec(text); return m ? Number(m[1]) : 0 }
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)
  const socket = errors ? errors.slice(1).map(Number) : [0, 0, 0, 0]
  const non2xx = number(/Non-2xx or 3xx responses: (\d+)/)
  return {
    requests: number(/(\d+) requests in/),
    requestsPerSec: number(/Requests\/sec:\s+([\d.]+)/),
    connectErrors: socket[0],
    readErrors: socket[1],
    writeErrors: socket[2],
    timeouts: socket[3],
    non2xx,
    failed: socket.reduce((a, b) => a + b, 0) + non2xx
  }
}

async function reloadsUnderLoad (contender, port) {
  const wrk = spawn('wrk', ['-t2', '-c50', '-d300s', `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  wrk.stdout.setEncoding('utf8').on('data', (d) => { output += d })
  const finished = new Promise((resolve) => wrk.on('exit', resolve))
  await sleep(2000)
  const reloadMs = []
  for (let i = 0; i < RELOADS; i++) {
    const started = process.hrtime.bigint()
    await contender.reload()
    reloadMs.push(Number(process.hrtime.bigint() - started) / 1e6)
    await sleep(1000)
  }
  await sleep(1000)
  wrk.kill('SIGINT') // wrk stops and prints its report
  await finished
  return { ...parseWrk(output), reloadMs }
}

// Crashes one worker (GET /crash) and times until a worker that did not answer before
// answers a request. The polling requests have a short timeout: node:cluster's primary
// (PM2's and a bare one) may hand a connection to the crashed worker in the instant
// before it learns of the exit, and that connection is never answered (prodkit's hands it
// to another worker). The polls pause 2 ms between them: back to back, on 2 CPUs, they
// would take the CPU that the replacement needs to start, and a poll left hanging would
// give it back, which favoured a primary that loses connections by about 8 ms.
async function crashToAnswer (port, workers) {
  const known = await servingPids(port, workers)
  const started = process.hrtime.bigint()
  await pidAt(port, '/crash')
  for (;;) {
    const pid = await pidAt(port, '/', 50)
    if (pid && !known.has(pid)) return Number(process.hrtime.bigint() - started) / 1e6
    await sleep(2)
  }
}

function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function measure (contender, options) {
  let port = await freePort()
  await contender.start(port)
  hung = 0
  let reload = null
  const crashMs = []
  try {
    if (contender.reloads !== false) {
      process.stderr.write(`  ${contender.name}: ${RELOADS} reloads under load\n`)
      reload = await reloadsUnderLoad(contender, port)
    }
    process.stderr.write(`  ${contender.name}: ${options.crashes} crashes\n`)
    for (let i = 0; i < options.crashes; i++) crashMs.push(await crashToAnswer(port, options.workers))
  } finally {
    await contender.stop()
  }

  port = await freePort()
  const gcDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gc-'))
  const nodeOptions = [process.env.NODE_OPTIONS, RESTART_RUN_OPTIONS].filter(Boolean).join(' ')
  await contender.start(port, { NODE_OPTIONS: nodeOptions, BENCH_GC_DIR: gcDir })
  const sampleRestarts = async (count, first) => {
    const samples = [await primaryUsage(contender.primaryPid(), first, gcDir)]
    const every = Math.max(1, Math.floor(count / 10))
    for (let i = 1; i <= count; i++) {
      await crashToAnswer(port, options.workers)
      if (i % every === 0) samples.push(await primaryUsage(contender.primaryPid(), first + i, gcDir))
      if (i % 100 === 0) process.stderr.write(`  ${contender.name}: ${first + i} restarts\n`)
    }
    return samples
  }
  process.stderr.write(`  ${contender.name}: ${options.warmup} restarts of warm-up, then ${options.restarts}\n`)
  const warmup = await sampleRestarts(options.warmup, 0)
  const rss = await sampleRestarts(options.restarts, options.warmup)
  fs.rmSync(gcDir, { recursive: true, force: true })
  return { reload, crashToAnswerMs: { median: median(crashMs), samples: crashMs }, warmup, rss, unansweredDuringCrashes: hung }
}

function report (results, options) {
  const mib = (kib) => (kib / 1024).toFixed(1)
  const span = (samples, key, unit = mib) => `${unit(samples[0][key])} → ${unit(samples.at(-1)[key])}`
  const end = options.warmup + options.restarts
  const lines = [
    `cluster benchmark: ${options.workers} workers, node ${process.version}, ${os.cpus().length} CPUs`,
    '',
    '| contender | failed requests during 3 reloads | of which read / connect / timeout / non-2xx | requests | crash to replacement answering (median) |',
    '| --- | ---: | --- | ---: | ---: |'
  ]
  for (const [name, r] of Object.entries(results)) {
    const w = r.reload || { failed: '-', readErrors: '-', connectErrors: '-', timeouts: '-', non2xx: '-', requests: '-' }
    lines.push(`| ${name} | ${w.failed} | ${w.readErrors} / ${w.connectErrors} / ${w.timeouts} / ${w.non2xx} | ${w.requests} | ` +
      `${r.crashToAnswerMs.median.toFixed(0)} ms |`)
  }
  lines.push('', `Restarts (a fresh start of each, NODE_OPTIONS=${RESTART_RUN_OPTIONS}; memory read right after a full GC):`, '',
    `| contender | primary RSS at 0 → ${options.warmup} restarts (warm-up, MiB) | RSS at ${options.warmup} → ${end} (max) | RssAnon at ${options.warmup} → ${end} | JS heap in use at ${options.warmup} → ${end} | open fds at 0 → ${options.warmup} → ${end} | requests unanswered around the ${options.crashes + end} crashes |`,
    '| --- | --- | --- | --- | --- | --- | ---: |')
  for (const [name, r] of Object.entries(results)) {
    lines.push(`| ${name} | ${span(r.warmup, 'rssKiB')} | ${span(r.rss, 'rssKiB')} (${mib(Math.max(...r.rss.map((s) => s.rssKiB)))}) | ` +
      `${span(r.rss, 'anonKiB')} | ${span(r.rss, 'heapKiB')} | ${r.warmup[0].fds} → ${r.rss[0].fds} → ${r.rss.at(-1).fds} | ${r.unansweredDuringCrashes} |`)
  }
  lines.push('')
  for (const [name, r] of Object.entries(results)) {
    const samples = [...r.warmup, ...r.rss.slice(1)]
    lines.push(`${name} RSS (MiB) at ${samples.map((s) => s.restarts).join(', ')} restarts: ${samples.map((s) => mib(s.rssKiB)).join(', ')}`)
    lines.push(`${name} open fds at the same points: ${samples.map((s) => s.fds).join(', ')}`)
    if (r.reload) lines.push(`${name} reload durations (ms): ${r.reload.reloadMs.map((ms) => ms.toFixed(0)).join(', ')}`)
  }
  return lines.join('\n')
}

async function main () {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '200' },
      restarts: { type: 'string', default: '1000' },
      crashes: { type: 'string', default: '20' },
      only: { type: 'string' }
    }
  })
  const options = { workers: Number(values.workers), warmup: Number(values.warmup), restarts: Number(values.restarts), crashes: Number(values.crashes) }
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) {
    console.error('bench:cluster needs wrk: apt-get install wrk')
    process.exit(2)
  }
  const contenders = [prodkitContender(options.workers), pm2Contender(options.workers), nodeContender(options.workers)]
    .filter((c) => !values.only || c.name.startsWith(values.only))
  const results = {}
  const stopAll = () => Promise.all(contenders.map((c) => c.stop().catch(() => {})))
  process.once('SIGINT', () => stopAll().then(() => process.exit(130)))
  try {
    for (const contender of contenders) {
      process.stderr.write(`${contender.name}...\n`)
      try {
        results[contender.name] = await measure(contender, options)
      } finally {
        await contender.stop()
      }
    }
  } finally {
    await stopAll()
  }
  const text = report(results, options)
  console.log(text)
  fs.mkdirSync(OUT, { recursive: true })
  fs.writeFileSync(path.join(OUT, 'cluster.json'), JSON.stringify({ options, results }, null, 2))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

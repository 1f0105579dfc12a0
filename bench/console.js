'use strict'
// `node bench/console.js`: the round trip of `prodkit status` against PM2's `pm2 jlist`
// (PM2's machine-readable `pm2 list`), on the same app (bench/cluster/app.js) with the same
// number of workers, in the same run:
//
//   1. the command line, as an operator or a script runs it: a new process each time
//      (`prodkit status --json` / `pm2 jlist`), median of --runs;
//   2. the request alone, from a connected client: a `status` request on the control
//      socket against `pm2.list()` over PM2's connected RPC client, median of --requests.
//
// Both answer with every worker's pid, state, CPU and memory. PM2 runs with PM2_HOME in a
// temporary folder and its daemon is killed at the end (also on failure).
//
//   node bench/console.js [--workers 4] [--runs 15] [--requests 200]

const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { parseArgs } = require('node:util')

const ROOT = path.join(__dirname, '..')
const APP = path.join(__dirname, 'cluster', 'app.js')
const CLI = path.join(ROOT, 'bin', 'prodkit')
const PM2 = path.join(ROOT, 'node_modules', '.bin', 'pm2')

const { values: opts } = parseArgs({
  options: { workers: { type: 'string', default: '4' }, runs: { type: 'string', default: '15' }, requests: { type: 'string', default: '200' } }
})
const WORKERS = Number(opts.workers)
const RUNS = Number(opts.runs)
const REQUESTS = Number(opts.requests)

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ms = (ns) => Number(ns) / 1e6

function freePort () {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitFor (check, what, limitMs = 60_000) {
  const started = Date.now()
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() - started > limitMs) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function timeCommand (file, args, env) {
  const started = process.hrtime.bigint()
  const out = spawnSync(process.execPath, [file, ...args], { env, encoding: 'utf8' })
  const elapsed = process.hrtime.bigint() - started
  if (out.status !== 0) throw new Error(`${path.basename(file)} ${args.join(' ')} failed: ${out.stderr}`)
  return { ms: ms(elapsed), stdout: out.stdout }
}

async function main () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-console-'))
  const runtime = path.join(tmp, 'run')
  const pm2Home = path.join(tmp, 'pm2')
  const prodkitEnv = { ...process.env, NODE_ENV: 'production', PRODKIT_RUNTIME_DIR: runtime, PORT: String(await freePort()) }
  const pm2Env = { ...process.env, NODE_ENV: 'production', PM2_HOME: pm2Home, PORT: String(await freePort()) }
  let primary
  try {
    primary = spawn(process.execPath, [CLI, 'run', '--workers', String(WORKERS), '--name', 'bench-console', '--log', path.join(tmp, 'app.log'), APP], { env: prodkitEnv, stdio: 'ignore' })
    const statusArgs = ['status', '--json', '--name', 'bench-console']
    await waitFor(() => {
      const out = spawnSync(process.execPath, [CLI, ...statusArgs], { env: prodkitEnv, encoding: 'utf8' })
      return out.status === 0 && JSON.parse(out.stdout).workers.filter((w) => w.state === 'ready').length === WORKERS
    }, 'prodkit run to be ready')

    spawnSync(PM2, ['start', APP, '--name', 'bench-console', '-i', String(WORKERS)], { env: pm2Env, encoding: 'utf8' })
    await waitFor(() => {
      const out = spawnSync(PM2, ['jlist'], { env: pm2Env, encoding: 'utf8' })
      try {
        return JSON.parse(out.stdout).filter((p) => p.pm2_env.status === 'online').length === WORKERS
      } catch {
        return false
      }
    }, 'pm2 to be online')

    // 1. The command line, a new process each run, alternated.
    const cli = { prodkit: [], pm2: [] }
    for (let i = 0; i < RUNS; i++) {
      cli.prodkit.push(timeCommand(CLI, statusArgs, prodkitEnv).ms)
      cli.pm2.push(timeCommand(fs.realpathSync(PM2), ['jlist'], pm2Env).ms)
    }

    // 2. The request alone, over a connected client.
    const socketFile = fs.readdirSync(runtime).find((f) => f.endsWith('.sock'))
    const { Client } = require('../lib/cli/control-client')
    const conn = await new Promise((resolve, reject) => {
      const s = net.connect(path.join(runtime, socketFile), () => resolve(s))
      s.once('error', reject)
    })
    const client = new Client(conn)
    const requests = { prodkit: [], pm2: [] }
    for (let i = 0; i < REQUESTS; i++) {
      const started = process.hrtime.bigint()
      const status = await client.request('status')
      requests.prodkit.push(ms(process.hrtime.bigint() - started))
      if (status.workers.length !== WORKERS) throw new Error('prodkit: wrong number of workers')
    }
    client.close()
    process.env.PM2_HOME = pm2Home
    const pm2 = require('pm2')
    await new Promise((resolve, reject) => pm2.connect(true, (err) => (err ? reject(err) : resolve())))
    for (let i = 0; i < REQUESTS; i++) {
      const started = process.hrtime.bigint()
      const list = await new Promise((resolve, reject) => pm2.list((err, l) => (err ? reject(err) : resolve(l))))
      requests.pm2.push(ms(process.hrtime.bigint() - started))
      if (list.length !== WORKERS) throw new Error('pm2: wrong number of workers')
    }
    pm2.disconnect()

    const row = (what, a, b) => `| ${what} | ${median(a).toFixed(2)} ms | ${median(b).toFixed(2)} ms | ${(median(b) / median(a)).toFixed(2)}× |`
    console.log(`${WORKERS} workers, Node ${process.version}, ${os.cpus().length} CPUs\n`)
    console.log('| round trip (median) | prodkit | PM2 | PM2 / prodkit |')
    console.log('| --- | --- | --- | --- |')
    console.log(row(`command line (\`prodkit status --json\` / \`pm2 jlist\`), ${RUNS} runs`, cli.prodkit, cli.pm2))
    console.log(row(`request on a connected client (\`status\` / \`pm2.list()\`), ${REQUESTS} requests`, requests.prodkit, requests.pm2))
  } finally {
    if (primary) primary.kill('SIGTERM')
    spawnSync(PM2, ['kill'], { env: pm2Env, encoding: 'utf8' })
    if (primary && primary.exitCode === null) await new Promise((resolve) => primary.once('exit', resolve))
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err)
  process.exit(1)
})

'use strict'
// Runs a real cluster for the tests: a primary process (fixtures/cluster/primary.js or the
// prodkit CLI) with its workers, a log file they all write, and an HTTP client. Every wait
// is for a condition (a log line, a response), never for an amount of time; the limits
// below only end a test that is broken.

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { ROOT, tempDir, completeLines: readLines } = require('./helpers')

const FIXTURES = path.join(__dirname, 'fixtures', 'cluster')
const GIVE_UP_MS = 30_000


function startCluster (t, { options = {}, env = {}, command } = {}) {
  const dir = tempDir(t, 'prodkit-cluster')
  const logFile = path.join(dir, 'app.log')
  const versionFile = path.join(dir, 'version.js')
  fs.writeFileSync(versionFile, "module.exports = 'v1'\n")
  // `command(paths)`: the primary's script and arguments, e.g. the prodkit CLI.
  const [file, ...args] = command ? command({ logFile }) : [path.join(FIXTURES, 'primary.js')]
  const child = spawn(process.execPath, [file, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_FILE: logFile,
      APP_VERSION_FILE: versionFile,
      CLUSTER_OPTIONS: JSON.stringify(options),
      // The primary's control socket in the test's folder, not the user's runtime folder.
      PRODKIT_RUNTIME_DIR: path.join(dir, 'run'),
      ...env
    },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  let done = false
  exited.then(() => { done = true })
  // Workers exit by themselves when their primary's IPC channel closes.
  t.after(() => { if (!done) child.kill('SIGKILL') })

  const cluster = {
    child,
    dir,
    logFile,
    versionFile,
    exited,
    get stdout () { return stdout },
    get stderr () { return stderr },
    lines: () => readLines(logFile),
    // Resolves with the first truthy value of `check(lines)`; fails if the primary exits
    // first (unless `whileRunning` is false) or after GIVE_UP_MS.
    async waitFor (check, what, { whileRunning = true } = {}) {
      const started = Date.now()
      for (;;) {
        const value = check(readLines(logFile))
        if (value) return value
        if (whileRunning && done) throw new Error(`the primary exited while waiting for ${what}\nstderr: ${stderr}`)
        if (Date.now() - started > GIVE_UP_MS) throw new Error(`gave up waiting for ${what}\nstderr: ${stderr}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    // Lines from the primary with message `msg` (a string or RegExp).
    primaryLines (lines, msg) {
      return lines.filter((l) => l.role === 'primary' && (msg instanceof RegExp ? msg.test(l.msg) : l.msg === msg))
    },
    async port () {
      const line = await this.waitFor((lines) => lines.find((l) => l.msg === 'listening'), 'a worker listening')
      return line.port
    },
    // Waits until `count` workers are ready in total since the start.
    readyWorkers (count) {
      return this.waitFor((lines) => {
        const ready = this.primaryLines(lines, /^worker \d+ ready$/)
        return ready.length >= count && ready
      }, `${count} workers ready`)
    }
  }
  return cluster
}

// GET http://127.0.0.1:port/path with `agent`; resolves { status, body, headers }.
function get (port, urlPath, agent = false) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(GIVE_UP_MS, () => req.destroy(new Error('request timed out')))
  })
}

// Keeps `concurrency` keep-alive request loops running until stop(); counts answers and
// failures (an error or a status other than 200), and the pids that answered, in order.
function load (port, { concurrency = 8 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const stats = { ok: 0, failed: 0, errors: [], pids: [] }
  let running = true
  const loop = async () => {
    while (running) {
      try {
        const res = await get(port, '/', agent)
        if (res.status === 200) {
          stats.ok++
          stats.pids.push(JSON.parse(res.body).pid)
        } else {
          stats.failed++
          stats.errors.push(`status ${res.status}`)
        }
      } catch (err) {
        stats.failed++
        stats.errors.push(err.code || err.message)
      }
    }
  }
  const loops = Array.from({ length: concurrency }, loop)
  return {
    stats,
    async stop () {
      running = false
      await Promise.all(loops)
      agent.destroy()
      return stats
    }
  }
}

// Keeps wrk (2 threads, 50 keep-alive connections) loading http://127.0.0.1:port/ until
// stop(), which interrupts it (wrk then prints its report) and resolves wrk's own counts:
// requests, socket errors (connect, read, write, timeout) and non-2xx answers. wrk honours
// "Connection: close" (it reconnects), as a browser or a proxy does. The timeout is wrk's
// per-request limit, long so that a slow answer on a busy machine is not a failure.
function wrkLoad (port, { connections = 50, threads = 2 } = {}) {
  const wrk = spawn('wrk', [`-t${threads}`, `-c${connections}`, '-d600s', '--timeout', '30s', `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  wrk.stdout.setEncoding('utf8').on('data', (d) => { output += d })
  wrk.stderr.setEncoding('utf8').on('data', (d) => { output += d })
  const exited = new Promise((resolve, reject) => {
    wrk.on('error', (err) => reject(new Error(`wrk could not start (apt-get install wrk): ${err.message}`)))
    wrk.on('exit', resolve)
  })
  exited.catch(() => {})
  return {
    async stop () {
      wrk.kill('SIGINT')
      await exited
      const count = (re) => { const m = re.exec(output); return m ? Number(m[1]) : 0 }
      const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output)
      const [connect, read, write, timeout] = errors ? errors.slice(1).map(Number) : [0, 0, 0, 0]
      return { requests: count(/(\d+) requests in/), connect, read, write, timeout, non2xx: count(/Non-2xx or 3xx responses: (\d+)/), output }
    }
  }
}

module.exports = { startCluster, get, load, wrkLoad, readLines, FIXTURES }

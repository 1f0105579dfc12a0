'use strict'
// The signal path of docs/docker.md's example (examples/docker), run as the container
// would run it: the Dockerfile's CMD, exactly, started as the top process of its own
// process group (a container's PID 1 and its children). SIGTERM to that top process (what
// `docker stop` and `docker run --init`'s tini send) must stop the whole cluster, primary
// and every worker, with exit code 0 and the graceful shutdown in the log. Also what the
// docs say of `npm start`: when npm is told to stop, the cluster stops too, and workers
// never outlive their primary.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, tempDir, parseJsonLines, waitFor } = require('./helpers')

const EXAMPLE = path.join(ROOT, 'examples', 'docker')
const GIVE_UP_MS = 60_000

// The example app in a new folder, with @oj/prodkit installed in its node_modules (this
// checkout, linked, as `npm install` of the package would place it) and its bin linked.
function exampleApp (t) {
  const dir = tempDir(t, 'prodkit-docker')
  for (const name of fs.readdirSync(EXAMPLE)) fs.copyFileSync(path.join(EXAMPLE, name), path.join(dir, name))
  fs.mkdirSync(path.join(dir, 'node_modules', '@oj'), { recursive: true })
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', '@oj', 'prodkit'))
  fs.mkdirSync(path.join(dir, 'node_modules', '.bin'))
  fs.symlinkSync('../@oj/prodkit/bin/prodkit', path.join(dir, 'node_modules', '.bin', 'prodkit'))
  return dir
}

// The exec-form CMD of a Dockerfile, as an argument array.
function cmdOf (dockerfile) {
  const match = /^CMD (\[.*\])\s*$/m.exec(fs.readFileSync(path.join(EXAMPLE, dockerfile), 'utf8'))
  assert.ok(match, `${dockerfile} has an exec-form CMD`)
  return JSON.parse(match[1])
}

// The environment of a container: none of the package manager's variables that a test
// run under `npm test` would pass on.
function containerEnv (extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')))
  return { ...env, NODE_ENV: 'production', PORT: '0', ...extra }
}

function alive (pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

// Starts `argv` in `dir` as the leader of a new process group; collects its stdout lines.
function start (t, dir, [command, ...args], env = containerEnv()) {
  const child = spawn(command === 'node' ? process.execPath : command, args, { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  // Every output pipe closed: the last process of the group that held them is gone.
  const closed = new Promise((resolve) => child.on('close', resolve))
  t.after(() => {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
  })
  const app = {
    child,
    exited,
    closed,
    get stderr () { return stderr },
    // npm prints its own banner ("> shop@1.0.0 start") before the app's JSON lines.
    lines: () => {
      const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1)
      return parseJsonLines(command === 'npm' ? complete.split('\n').filter((l) => l.startsWith('{')).map((l) => l + '\n').join('') : complete)
    },
    wait: (check, what) => waitFor(() => check(app.lines()), { what: `${what}\nstderr: ${stderr}`, timeoutMs: GIVE_UP_MS })
  }
  return app
}

// Waits until the cluster serves; returns { primaryPid, workerPids, port }.
async function serving (app) {
  const lines = await app.wait((lines) => {
    const ready = lines.find((l) => /^cluster ready: \d+ workers serving$/.test(l.msg))
    if (!ready) return null
    const workers = lines.filter((l) => l.role === 'primary' && /^worker \d+ ready$/.test(l.msg))
    const listening = lines.filter((l) => l.msg === 'listening')
    return listening.length >= ready.workers && lines
  }, 'the cluster to serve')
  const ready = lines.find((l) => /^cluster ready/.test(l.msg))
  const workerPids = lines.filter((l) => l.role === 'primary' && /^worker \d+ ready$/.test(l.msg)).map((l) => l.workerPid)
  assert.equal(workerPids.length, ready.workers)
  const port = lines.find((l) => l.msg === 'listening').port
  const body = await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (d) => { text += d }).on('end', () => resolve(text))
    }).on('error', reject)
  })
  assert.deepEqual(JSON.parse(body), { hello: 'world' })
  return { primaryPid: ready.pid, workerPids, port }
}

function assertGracefulStop (lines, { primaryPid, workerPids }, trigger) {
  const primary = lines.filter((l) => l.pid === primaryPid).map((l) => l.msg)
  assert.ok(primary.some((m) => trigger.test(m)), `${trigger}\n${primary.join('\n')}`)
  assert.ok(primary.includes(`stopping: draining ${workerPids.length} workers`), primary.join('\n'))
  for (const pid of workerPids) {
    assert.ok(lines.some((l) => l.pid === primaryPid && l.workerPid === pid && /^worker \d+ exited \(code 0\)$/.test(l.msg)), `worker ${pid} exited with code 0`)
  }
  assert.ok(primary.includes('all workers stopped'))
}

async function assertAllGone (pids, pgid) {
  await waitFor(() => pids.every((pid) => !alive(pid)), { what: `every process gone: ${pids.filter(alive)}`, timeoutMs: GIVE_UP_MS })
  if (pgid) assert.equal(alive(-pgid), false, 'nothing left in the process group')
}

for (const dockerfile of ['Dockerfile', 'Dockerfile.cluster']) {
  const argv = cmdOf(dockerfile)
  test(`${dockerfile}: CMD ${JSON.stringify(argv)}; SIGTERM to the top process stops the primary and every worker, exit code 0, graceful lines`, async (t) => {
    assert.equal(argv[0], 'node', 'the exec form starts node itself, not a shell or npm')
    const app = start(t, exampleApp(t), argv)
    const cluster = await serving(app)
    assert.equal(cluster.primaryPid, app.child.pid, 'node is the top process: nothing in between to eat the signal')
    process.kill(app.child.pid, 'SIGTERM')
    const { code, signal } = await app.exited
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, app.stderr)
    await app.closed
    assertGracefulStop(app.lines(), cluster, /^SIGTERM received/)
    await assertAllGone([cluster.primaryPid, ...cluster.workerPids], app.child.pid)
    assert.equal(app.stderr, '')
  })
}

test('Dockerfile: SIGTERM to the whole process group (tini -g, Ctrl-C in a terminal) also drains and exits 0', async (t) => {
  const app = start(t, exampleApp(t), cmdOf('Dockerfile'))
  const cluster = await serving(app)
  process.kill(-app.child.pid, 'SIGTERM')
  const { code, signal } = await app.exited
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, app.stderr)
  await app.closed
  assertGracefulStop(app.lines(), cluster, /^SIGTERM received/)
  await assertAllGone([cluster.primaryPid, ...cluster.workerPids], app.child.pid)
})

test('the workers never outlive their primary: SIGKILL to the primary ends every worker', async (t) => {
  const app = start(t, exampleApp(t), cmdOf('Dockerfile'))
  const cluster = await serving(app)
  process.kill(cluster.primaryPid, 'SIGKILL')
  assert.equal((await app.exited).signal, 'SIGKILL')
  await assertAllGone(cluster.workerPids, app.child.pid)
})

test('npm start: when npm is told to stop (SIGTERM to npm only), the cluster notices its parent is gone and stops gracefully', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v npm']).status !== 0) {
    if (process.env.CI) assert.fail('npm is required in CI')
    return t.skip('npm is not installed')
  }
  const app = start(t, exampleApp(t), ['npm', 'start'], containerEnv({ npm_config_update_notifier: 'false' }))
  const cluster = await serving(app)
  assert.notEqual(cluster.primaryPid, app.child.pid, 'npm (and its sh -c) stand between the signal and node')
  const warned = app.lines().find((l) => l.pid === cluster.primaryPid && /^started by a package manager \(npm start\)/.test(l.msg))
  assert.ok(warned, 'the primary says npm is not a process manager')
  assert.equal(warned.level, 40)
  process.kill(app.child.pid, 'SIGTERM') // npm only, as `docker stop` does when npm is PID 1
  await app.exited
  await app.closed // npm gone, then the primary and its workers, which held its stdout
  assertGracefulStop(app.lines(), cluster, /^the parent process \(\d+, the package manager's\) exited: shutting down$/)
  await assertAllGone([cluster.primaryPid, ...cluster.workerPids], app.child.pid)
})

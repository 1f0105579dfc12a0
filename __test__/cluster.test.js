'use strict'
// prodkit.cluster() with real processes: serving, restarts after a crash, the crash loop,
// rolling reloads under load (every request answered), a reload to a version that cannot
// start, graceful stop, the memory limit, and readiness.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { startCluster, get, load } = require('./cluster-harness')

const pidsOf = (readyLines) => readyLines.map((l) => l.workerPid)

test('workers serve, and every line in the shared log file carries the worker id of its process', async (t) => {
  const c = startCluster(t, { options: { workers: 2 } })
  const ready = await c.readyWorkers(2)
  const port = await c.port()
  const seen = new Set()
  while (seen.size < 2) seen.add(JSON.parse((await get(port, '/')).body).pid)
  assert.deepEqual([...seen].sort(), pidsOf(ready).sort())
  // Both workers log a lot to the same file at the same time.
  await Promise.all([get(port, '/log?n=20000'), get(port, '/log?n=20000'), get(port, '/log?n=20000')])
  const lines = await c.waitFor((lines) => lines.filter((l) => l.msg === 'busy line').length === 60000 && lines, 'the busy lines')
  const workerIds = Object.fromEntries(ready.map((l) => [l.workerPid, l.worker]))
  for (const line of lines) {
    if (line.role === 'primary' || line.pid === c.child.pid) continue
    assert.equal(line.worker, workerIds[line.pid], JSON.stringify(line))
  }
  assert.ok(lines.some((l) => l.msg === 'busy line' && l.worker === ready[0].worker))
})

test('a worker killed with SIGKILL is replaced and the replacement serves', async (t) => {
  const c = startCluster(t, { options: { workers: 2 } })
  const [first, second] = await c.readyWorkers(2)
  const port = await c.port()
  process.kill(first.workerPid, 'SIGKILL')
  const [, , third] = await c.readyWorkers(3)
  assert.notEqual(third.workerPid, first.workerPid)
  const lines = c.lines()
  const died = c.primaryLines(lines, `worker ${first.worker} died (signal SIGKILL)`)
  assert.equal(died.length, 1)
  assert.equal(died[0].level, 50)
  // Round-robin: the replacement answers among the next requests.
  const answered = new Set()
  while (!answered.has(third.workerPid)) answered.add(JSON.parse((await get(port, '/')).body).pid)
  assert.ok(!answered.has(first.workerPid))
  assert.ok(answered.has(second.workerPid))
})

// The primary's open sockets: its stdio, its listening socket, an IPC channel per worker,
// and any connection it holds between accepting it and a worker taking it.
function primarySockets (pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')
    } catch {
      return false // closed meanwhile
    }
  }).length
}

// The primary's socket count once it has read the same 5 times in a row: a socket the
// primary is still closing (a connection handed over, a worker's pipe) is not counted.
async function settledSockets (c) {
  let last = -1
  let same = 0
  await c.waitFor(() => {
    const now = primarySockets(c.child.pid)
    same = now === last ? same + 1 : 0
    last = now
    return same >= 4
  }, 'the primary\'s socket count to settle')
  return last
}

// Freezes one worker (GET /freeze answers, then blocks its event loop) and sends `count`
// requests, each on its own connection; resolves once all but the one handed to the frozen
// worker are answered. node:cluster hands it exactly one: it is never free again.
async function freezeOneWorker (c, port, count) {
  const frozenPid = JSON.parse((await get(port, '/freeze')).body).pid
  const outcomes = []
  const requests = Array.from({ length: count }, () => get(port, '/').then(
    (res) => outcomes.push(res.status),
    (err) => outcomes.push(err.code || err.message)))
  await c.waitFor(() => outcomes.length >= count - 1, `${count - 1} answers`)
  assert.equal(outcomes.length, count - 1)
  return { frozenPid, outcomes, all: Promise.all(requests) }
}

test('a connection handed to a worker that dies before taking it is served by another worker; the primary keeps no socket', async (t) => {
  const c = startCluster(t, { options: { workers: 2 } })
  await c.readyWorkers(2)
  const port = await c.port()
  const before = await settledSockets(c)
  const { frozenPid, outcomes, all } = await freezeOneWorker(c, port, 6)
  // The connection the frozen worker never took (the primary may still be handing it over).
  await c.waitFor(() => primarySockets(c.child.pid) === before + 1, 'the primary to hold one socket more')
  process.kill(frozenPid, 'SIGKILL')
  await all // without the handoff rescue, this request is never answered
  assert.deepEqual(outcomes, [200, 200, 200, 200, 200, 200])
  await c.readyWorkers(3)
  await c.waitFor(() => primarySockets(c.child.pid) === before, 'the primary to close the rescued connection')
  // node:cluster forgot the dead worker too (without a 'disconnect' it would keep it).
  await c.waitFor(() => {
    c.child.stdin.write('node-workers\n')
    return c.stdout.trim().split('\n').at(-1) === 'node:cluster workers: 2'
  }, 'node:cluster to forget the dead worker')
  // The cluster carries on: both workers serve, the dead one's place taken.
  const answered = new Set()
  while (answered.size < 2) answered.add(JSON.parse((await get(port, '/')).body).pid)
  assert.ok(!answered.has(frozenPid))
})

test('with no worker left on the address, such a connection is closed instead of left hanging', async (t) => {
  const c = startCluster(t, { options: { workers: 1 } })
  await c.readyWorkers(1)
  const port = await c.port()
  const before = primarySockets(c.child.pid)
  const { frozenPid, outcomes, all } = await freezeOneWorker(c, port, 1)
  process.kill(frozenPid, 'SIGKILL')
  await all
  assert.deepEqual(outcomes, ['ECONNRESET']) // at once, not after the client's timeout
  await c.readyWorkers(2)
  await c.waitFor(() => primarySockets(c.child.pid) === before, 'the primary to close the connection')
  // node:cluster closed the listening socket with its last worker: the replacement opened
  // a new one (on a new port, as the app listens on port 0).
  // The primary's "ready" line and the worker's own "listening" line come from two
  // processes: the latter may reach the file after the former.
  const [, replacement] = c.primaryLines(c.lines(), /^worker \d+ ready$/)
  const newPort = (await c.waitFor((lines) => lines.find((l) => l.msg === 'listening' && l.pid === replacement.workerPid), 'the replacement listening')).port
  assert.equal((await get(newPort, '/')).status, 200)
})

test('a worker that throws stops accepting before it exits: under load, no other request fails', async (t) => {
  const c = startCluster(t, { options: { workers: 2, drainTimeoutMs: 1_000 } })
  await c.readyWorkers(2)
  const port = await c.port()
  const client = load(port, { concurrency: 4 })
  await c.waitFor(() => client.stats.ok >= 100, 'some answers before the crash')
  const thrown = await get(port, '/throw').then(() => 'answered', (err) => err.code)
  assert.equal(thrown, 'ECONNRESET') // cut off when the drain's deadline came
  await c.readyWorkers(3)
  const okAfter = client.stats.ok
  await c.waitFor(() => client.stats.ok >= okAfter + 100, 'answers after the crash')
  const stats = await client.stop()
  assert.equal(stats.failed, 0, stats.errors.join(', '))
  const lines = c.lines()
  const fatal = lines.filter((l) => l.level === 60 && l.msg === 'uncaught exception')
  assert.equal(fatal.length, 1)
  assert.equal(c.primaryLines(lines, `worker ${fatal[0].worker} died (code 1)`).length, 1)
})

test('a crash loop makes the primary log fatal and exit non-zero', async (t) => {
  const c = startCluster(t, {
    options: { workers: 2, restart: { baseMs: 5, maxMs: 20 }, crashLoop: { crashes: 4, windowMs: 60_000 } },
    env: { APP_CRASH_AT_START: '1' }
  })
  const { code } = await c.exited
  assert.equal(code, 1, c.stderr)
  const lines = c.lines()
  const fatal = c.primaryLines(lines, 'crash loop: 4 worker crashes within 60000 ms: stopping the cluster')
  assert.equal(fatal.length, 1)
  assert.equal(fatal[0].level, 60)
  assert.equal(c.primaryLines(lines, /^worker \d+ died \(code 1\)$/).length, 4)
  // Backoff: the first restart of a slot is immediate, the next ones wait.
  const delays = c.primaryLines(lines, /^restarting slot 0 in/).map((l) => l.delayMs)
  assert.deepEqual(delays, [0, 5, 10, 20].slice(0, delays.length))
})

test('rolling reloads (SIGHUP and the API) under continuous load answer every request', async (t) => {
  const c = startCluster(t, { options: { workers: 2 } })
  const before = pidsOf(await c.readyWorkers(2))
  const port = await c.port()
  const client = load(port, { concurrency: 8 })
  await c.waitFor(() => client.stats.ok >= 200, 'some answers before the reload')
  c.child.kill('SIGHUP')
  await c.waitFor((lines) => c.primaryLines(lines, /^rolling reload finished/).length === 1, 'the first reload')
  c.child.stdin.write('reload\n')
  await c.waitFor((lines) => c.primaryLines(lines, /^rolling reload finished/).length === 2, 'the second reload')
  const okAfter = client.stats.ok
  await c.waitFor(() => client.stats.ok >= okAfter + 200, 'answers after the reloads')
  const stats = await client.stop()
  assert.deepEqual(stats.errors, [])
  assert.equal(stats.failed, 0)
  const lines = c.lines()
  const ready = c.primaryLines(lines, /^worker \d+ ready$/)
  assert.equal(ready.length, 6) // 2 at start, 2 per reload
  const current = pidsOf(ready.slice(4))
  // The last answers came from the newest workers only; the old ones exited cleanly.
  assert.deepEqual([...new Set(stats.pids.slice(-50))].sort(), [...current].sort())
  for (const pid of before) assert.equal(lines.filter((l) => l.workerPid === pid && /exited \(code 0\)/.test(l.msg)).length, 1)
  // The API's answer (stdout) and the log line travel separately: wait for it too.
  const answer = await c.waitFor(() => c.stdout.trim() && JSON.parse(c.stdout.trim().split('\n').pop()), 'the answer of reload()')
  assert.deepEqual(answer, { ok: true, replaced: 2 })
})

test('a reload to a version that cannot start (crashes, or never listens) is aborted and the old workers keep serving', async (t) => {
  // readyTimeoutMs also bounds the first workers' start: on a loaded 2-core machine that
  // can take seconds, so the limit is generous (the hung version below waits it out once).
  const c = startCluster(t, { options: { workers: 2, readyTimeoutMs: 10_000 } })
  const before = pidsOf(await c.readyWorkers(2))
  const port = await c.port()
  const client = load(port, { concurrency: 4 })
  await c.waitFor(() => client.stats.ok >= 100, 'some answers before the reload')
  fs.writeFileSync(c.versionFile, "throw new Error('v2 cannot start: missing configuration')\n")
  c.child.stdin.write('reload\n')
  const result = await c.waitFor(() => c.stdout.trim() && JSON.parse(c.stdout.trim()), 'the result of reload()')
  assert.equal(result.ok, false)
  assert.equal(result.replaced, 0)
  assert.match(result.error, /^worker 3 exited with code 1 before it was ready$/, JSON.stringify(c.lines().filter((l) => l.role === 'primary').map((l) => l.msg)))
  const okAfter = client.stats.ok
  await c.waitFor(() => client.stats.ok >= okAfter + 100, 'answers after the failed reload')
  const stats = await client.stop()
  assert.equal(stats.failed, 0, stats.errors.join(', '))
  assert.deepEqual([...new Set(stats.pids)].sort(), [...before].sort())
  // reload()'s answer on stdout can arrive before the primary's line reaches the file.
  const lines = await c.waitFor((lines) => c.primaryLines(lines, /^rolling reload aborted after 0 of 2 workers: worker 3 exited with code 1/).length === 1 && lines, 'the "reload aborted" line')
  assert.equal(c.primaryLines(lines, /^worker \d+ draining$/).length, 0)
  // The new version's error is in the log, from the worker that could not start.
  assert.ok(lines.some((l) => l.worker === 3 && l.level === 60 && /v2 cannot start/.test(l.err && l.err.message)))
  // A version that starts but never listens: cut off at readyTimeoutMs, rollout stopped.
  fs.writeFileSync(c.versionFile, "process.env.APP_LISTEN_AFTER_MS = 'never'\nmodule.exports = 'v2b'\n")
  c.child.kill('SIGHUP')
  await c.waitFor((lines) => c.primaryLines(lines, /^rolling reload aborted after 0 of 2 workers: worker 4 not ready within 10000 ms; the other workers keep serving$/).length === 1, 'the second aborted reload')
  await c.waitFor((lines) => c.primaryLines(lines, 'worker 4 exited (signal SIGKILL)').length === 1, 'the hung worker to be killed')
  for (let i = 0; i < 4; i++) assert.ok(before.includes(JSON.parse((await get(port, '/')).body).pid))
  // Once the version is fixed, a reload goes through.
  fs.writeFileSync(c.versionFile, "module.exports = 'v3'\n")
  c.child.kill('SIGHUP')
  await c.waitFor((lines) => c.primaryLines(lines, /^rolling reload finished: 2 workers replaced$/).length === 1, 'the fixed reload')
  assert.equal(JSON.parse((await get(port, '/')).body).version, 'v3')
})

test('SIGTERM drains every worker: an in-flight request completes, the primary exits 0', async (t) => {
  const c = startCluster(t, { options: { workers: 2 } })
  await c.readyWorkers(2)
  const port = await c.port()
  const slow = get(port, '/slow?ms=400')
  await c.waitFor((lines) => lines.some((l) => l.msg === 'slow request started'), 'the slow request to start')
  c.child.kill('SIGTERM')
  const res = await slow
  assert.equal(res.status, 200)
  assert.equal(res.headers.connection, 'close') // answered while draining
  assert.equal(JSON.parse(res.body).slow, true)
  const { code } = await c.exited
  assert.equal(code, 0, c.stderr)
  const lines = c.lines()
  assert.equal(c.primaryLines(lines, 'stopping: draining 2 workers').length, 1)
  assert.equal(c.primaryLines(lines, /^worker \d+ exited \(code 0\)$/).length, 2)
  assert.equal(c.primaryLines(lines, 'all workers stopped').length, 1)
  await assert.rejects(get(port, '/'), { code: 'ECONNREFUSED' })
})

test('a worker above memoryLimit is replaced gracefully: new worker first, then the old one drains', async (t) => {
  const c = startCluster(t, { options: { workers: 1, memoryLimit: '160MB', memoryCheckMs: 20 } })
  const [first] = await c.readyWorkers(1)
  const port = await c.port()
  await get(port, '/grow?mb=200')
  const [, second] = await c.readyWorkers(2)
  const lines = await c.waitFor((lines) => c.primaryLines(lines, `worker ${first.worker} exited (code 0)`).length === 1 && lines, 'the old worker to exit')
  const above = c.primaryLines(lines, `worker ${first.worker} is above the memory limit: replacing it`)
  assert.equal(above.length, 1)
  assert.equal(above[0].limit, 160 * 1024 * 1024)
  assert.ok(above[0].rss > above[0].limit)
  const order = lines.map((l) => l.msg)
  assert.ok(order.indexOf(`worker ${second.worker} ready`) < order.indexOf(`worker ${first.worker} draining`))
  assert.equal(JSON.parse((await get(port, '/')).body).pid, second.workerPid)
})

test('waitReady: a worker is ready when it calls prodkit.ready(); one that never is, is killed and restarted', async (t) => {
  const c = startCluster(t, { options: { workers: 1, waitReady: true }, env: { APP_CALL_READY: '1' } })
  const [ready] = await c.readyWorkers(1)
  assert.equal(ready.readyOn, 'ready()')

  const stuck = startCluster(t, {
    options: { workers: 1, readyTimeoutMs: 300, crashLoop: { crashes: 2, windowMs: 60_000 } },
    env: { APP_LISTEN_AFTER_MS: 'never' }
  })
  const { code } = await stuck.exited
  assert.equal(code, 1)
  const lines = stuck.lines()
  assert.equal(stuck.primaryLines(lines, /^worker \d+ not ready within 300 ms: killing it$/).length, 2)
  assert.equal(stuck.primaryLines(lines, /^worker \d+ ready$/).length, 0)
})

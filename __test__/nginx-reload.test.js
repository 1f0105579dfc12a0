'use strict'
// Zero failed requests through nginx (the config `prodkit startup nginx` prints, in a real
// nginx) while the app behind it is replaced under continuous load (8 keep-alive request
// loops to nginx): three rolling reloads (SIGHUP) of a `prodkit run` cluster of 2
// workers, and a full restart (SIGTERM, exit, start again) of one of two `prodkit run`
// instances behind one upstream. Every response must be a 200 and no request may fail or
// time out; the assertions are on counts (failures: 0; answers: at least a minimum, and
// some on each side of every change), never on time. Every wait is for a condition (a log
// line, a count) with limits generous enough for a loaded 2-core machine.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { waitFor } = require('./helpers')
const { startCluster, load } = require('./cluster-harness')
const { CLI, workspace, needsNginx, generate, freePort, startNginx, lines } = require('./nginx-harness')

const APP = path.join(__dirname, 'fixtures', 'nginx-cluster-app.js')
const LONG = { timeoutMs: 180_000 }

// A `prodkit run` cluster of the app on `port`; resolves once it serves ("cluster ready").
async function startRun (t, port, workers) {
  const c = startCluster(t, {
    command: ({ logFile }) => [CLI, 'run', '--workers', String(workers), '--log', logFile, APP, String(port)]
  })
  await waitFor(() => {
    if (c.child.exitCode !== null) throw new Error(`prodkit run exited: ${c.stderr}`)
    return c.primaryLines(c.lines(), /^cluster ready:/).length === 1
  }, { ...LONG, what: `the cluster on port ${port} to be ready` })
  return c
}

// Keep-alive request loops (Node's http.Agent, 8 at once) sending GET / through nginx until
// stop(), which lets the requests in flight finish: every request sent is counted, as a 200
// or as a failure (an error, a reset, a timeout, another status). Not autocannon: nginx
// closes a client's keep-alive connection after 1000 requests (keepalive_requests), with
// "Connection: close" on the last response, and autocannon writes its next request on that
// connection anyway: it counts a reset that no HTTP client honouring the header sees.
function startLoad (port) {
  const running = load(port, { concurrency: 8 })
  return {
    counts: running.stats,
    // Waits until `more` further 200s have been answered.
    async more (more, what) {
      const target = running.stats.ok + more
      await waitFor(() => running.stats.ok >= target, { ...LONG, what })
    },
    stop: () => running.stop()
  }
}

function assertNoFailure (counts, minimum) {
  assert.deepEqual(counts.errors, [], 'no request failed')
  assert.equal(counts.failed, 0)
  assert.ok(counts.ok >= minimum, `at least ${minimum} answers (${counts.ok})`)
}

test('three rolling reloads (SIGHUP) of a 2-worker prodkit run cluster behind nginx, under load: every GET is a 200', { timeout: 900_000 }, async (t) => {
  if (!needsNginx(t)) return
  const ws = workspace(t)
  const [appPort, port] = [await freePort(), await freePort()]
  const accessLog = path.join(ws.dir, 'access.log')
  const config = generate(['--port', String(appPort), '--listen', `127.0.0.1:${port}`, '--access-log', accessLog])
  const c = await startRun(t, appPort, 2)
  await startNginx(ws, config, [port])

  const traffic = startLoad(port)
  t.after(() => traffic.stop())
  await traffic.more(200, 'answers before the first reload')
  for (let i = 1; i <= 3; i++) {
    c.child.kill('SIGHUP')
    await waitFor(() => {
      const all = c.lines()
      const aborted = c.primaryLines(all, /^rolling reload aborted/)
      if (aborted.length > 0) throw new Error(`a reload was aborted: ${aborted[0].msg}`)
      return c.primaryLines(all, /^rolling reload finished: 2 workers replaced$/).length === i
    }, { ...LONG, what: `rolling reload ${i} to finish` })
    await traffic.more(100, `answers after reload ${i}`)
  }
  await traffic.stop()
  assertNoFailure(traffic.counts, 500)
  // 2 workers at the start and 2 per reload: every one of them was ready.
  assert.equal(c.primaryLines(c.lines(), /^worker \d+ ready$/).length, 8)
  // nginx's side: nothing but 200s (a retried request shows its tries in upstreamStatus).
  const access = await waitFor(() => {
    const all = lines(accessLog)
    return all.length >= traffic.counts.ok && all
  }, { ...LONG, what: 'every request in the access log' })
  assert.deepEqual(access.filter((l) => l.status !== 200), [])
  c.child.kill('SIGTERM')
  assert.equal((await c.exited).code, 0, c.stderr)
  t.diagnostic(`${traffic.counts.ok} GETs, all 200; retried by nginx: ${access.filter((l) => l.upstreamStatus.includes(',')).length}`)
})

test('two prodkit run instances behind nginx, one fully restarted (SIGTERM, exit, start) under load: every GET is a 200', { timeout: 900_000 }, async (t) => {
  if (!needsNginx(t)) return
  const ws = workspace(t)
  const [portA, portB, port] = [await freePort(), await freePort(), await freePort()]
  const accessLog = path.join(ws.dir, 'access.log')
  const config = generate(['--upstream', `127.0.0.1:${portA}`, '--upstream', `127.0.0.1:${portB}`, '--listen', `127.0.0.1:${port}`, '--access-log', accessLog])
  const a = await startRun(t, portA, 1)
  const b = await startRun(t, portB, 1)
  await startNginx(ws, config, [port])
  const served = (upstream) => lines(accessLog).filter((l) => l.upstreamAddr === `127.0.0.1:${upstream}` && l.status === 200).length

  const traffic = startLoad(port)
  t.after(() => traffic.stop())
  await traffic.more(200, 'answers before the restart')
  await waitFor(() => served(portA) > 0 && served(portB) > 0, { ...LONG, what: 'both instances to answer' })

  a.child.kill('SIGTERM')
  assert.equal((await a.exited).code, 0, a.stderr)
  await traffic.more(100, 'answers while instance A is down')
  const before = served(portA)
  const again = await startRun(t, portA, 1)
  // nginx tries A again once its fail_timeout (10 s) is over: wait until A answers again.
  await waitFor(() => served(portA) > before, { ...LONG, what: 'instance A to answer again after its restart' })
  await traffic.more(100, 'answers after the restart')
  await traffic.stop()
  assertNoFailure(traffic.counts, 400)
  const access = await waitFor(() => {
    const all = lines(accessLog)
    return all.length >= traffic.counts.ok && all
  }, { ...LONG, what: 'every request in the access log' })
  assert.deepEqual(access.filter((l) => l.status !== 200), [])
  for (const c of [again, b]) {
    c.child.kill('SIGTERM')
    assert.equal((await c.exited).code, 0, c.stderr)
  }
  t.diagnostic(`${traffic.counts.ok} GETs, all 200; retried by nginx: ${access.filter((l) => l.upstreamStatus.includes(',')).length}`)
})

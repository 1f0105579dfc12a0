'use strict'
// Shipping over RELP (relp://) to a real rsyslog with imrelp (rsyslog-relp), started by
// each test on a loopback port: every line arrives once and in order; rsyslog killed with
// SIGKILL and restarted mid-stream loses nothing and repeats at most one window (the
// commands in flight); an unreachable RELP host fails at creation naming the option; and
// `prodkit run --ship-to relp://...` ships a cluster's shared log file once, from the
// primary, while a worker given log.ship says once that it is ignored.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const prodkit = require('..')
const { waitFor, freePort, ROOT } = require('./helpers')
const { workspace } = require('./ship-harness')
const { Rsyslog, needsRsyslog } = require('./rsyslog-harness')
const { startCluster, get, FIXTURES } = require('./cluster-harness')

const CLI = path.join(ROOT, 'bin', 'prodkit')

const LONG = { timeoutMs: 120_000 }
const WINDOW = 16

// A temp folder and a real rsyslog with a RELP input in it, killed at cleanup.
async function relpWorkspace (t) {
  const { dir, onCleanup } = workspace(t, 'prodkit-relp')
  const rsyslog = await new Rsyslog(dir, { input: 'imrelp' }).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
  return { dir, onCleanup, rsyslog }
}

function counts (lines) {
  const seen = new Map()
  for (const line of lines) seen.set(line, (seen.get(line) || 0) + 1)
  return seen
}

test('a logger ships every line to rsyslog over RELP, once and in order', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup, rsyslog } = await relpWorkspace(t)
  const file = path.join(dir, 'app.log')
  const log = prodkit.createLogger({ destination: file, name: 'orders', ship: { to: rsyslog.url(), flushMs: 20 } })
  onCleanup(() => log.close())
  for (let i = 0; i < 2000; i++) log.info({ i }, 'placed')
  log.error({ i: 2000 }, 'failed')
  await waitFor(() => rsyslog.lines().length >= 2001, { ...LONG, what: '2001 lines over RELP' })
  const written = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
  assert.deepEqual(rsyslog.lines(), written, 'the lines as written, in order, once')
  const [pri, , , app, procid, msgid] = rsyslog.headLines().at(-1).split('|')
  assert.deepEqual([pri, app, procid, msgid], ['11', 'orders', String(process.pid), 'error'])
  await waitFor(() => log.stats().shipping.lines >= 2001, { ...LONG, what: 'the stats to count 2001 lines' })
  assert.equal(log.stats().shipping.rejectedLines, 0)
})

test('rsyslog killed (SIGKILL) and restarted mid-stream: every line arrives, at most one window repeated', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup, rsyslog } = await relpWorkspace(t)
  const file = path.join(dir, 'app.log')
  const log = prodkit.createLogger({ destination: file, ship: { to: `${rsyslog.url()}?window=${WINDOW}`, flushMs: 20, batchBytes: '64KiB' } })
  onCleanup(() => log.close())
  const TOTAL = 20_000
  let i = 0
  const writeSome = (n) => { for (const end = i + n; i < end; i++) log.info({ i, pad: 'x'.repeat(i % 100) }, 'line') }
  writeSome(TOTAL / 2)
  await waitFor(() => rsyslog.lines().length >= 2000, { ...LONG, what: 'the first lines' })
  await rsyslog.stop('SIGKILL') // mid-stream: the backlog is still being shipped
  writeSome(TOTAL / 4)
  await waitFor(() => log.stats().shipping.errors > 0, { ...LONG, what: 'the shipper to see the failure' })
  await rsyslog.start()
  writeSome(TOTAL / 4)
  await waitFor(() => new Set(rsyslog.lines()).size >= TOTAL, { ...LONG, what: `${TOTAL} distinct lines after the restart` })
  const received = rsyslog.lines()
  const seen = counts(received)
  const written = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
  assert.equal(written.length, TOTAL)
  for (const line of written) assert.ok(seen.has(line), `line lost: ${line}`)
  const repeated = received.length - seen.size
  assert.ok(repeated <= WINDOW, `${repeated} lines repeated, more than one window (${WINDOW})`)
  // In order apart from the repeat: first arrivals follow the file.
  const firsts = [...seen.keys()]
  assert.deepEqual(firsts, written)
})

test('an unreachable RELP host, or a bad relp:// URL, fails at creation naming the option', async (t) => {
  const { dir } = workspace(t, 'prodkit-relp')
  const closedPort = await freePort()
  const file = path.join(dir, 'app.log')
  assert.throws(() => prodkit.createLogger({ destination: file, ship: { to: `relp://127.0.0.1:${closedPort}`, checkMs: 2000 } }),
    (err) => err instanceof TypeError && /option log\.ship\.to .*cannot reach relp:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/.test(err.message))
  for (const [to, message] of [
    [`relp://127.0.0.1:${closedPort}?window=0`, /option log\.ship\.to .*window of a relp:\/\/ URL must be from 1 to 65536/],
    [`relp://127.0.0.1:${closedPort}?ca=/x`, /option log\.ship\.to .*unknown setting ca in a relp:\/\/ URL \(known: window\)/]
  ]) {
    assert.throws(() => prodkit.createLogger({ destination: file, ship: { to } }), message)
  }
  // A port that answers but is not RELP (a plain syslog receiver that never answers `open`)
  // fails within checkMs too.
  const net = require('node:net')
  const silent = net.createServer((socket) => socket.on('error', () => {}))
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.after(() => silent.close())
  const { runNode } = require('./helpers')
  const out = await runNode(`
    try { require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)}, ship: { to: 'relp://127.0.0.1:${silent.address().port}', checkMs: 300 } }) }
    catch (err) { console.log(err.message) }`, { cwd: ROOT })
  assert.match(out.stdout, /option log\.ship\.to .*cannot reach relp:\/\/127\.0\.0\.1:\d+/)
})

test('prodkit run --ship-to ships the shared log file once, from the primary; a worker given log.ship says once that it is ignored', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup, rsyslog } = await relpWorkspace(t)
  const c = startCluster(t, {
    command: ({ logFile }) => [CLI, 'run', '--workers', '2', '--log', logFile, '--ship-to', rsyslog.url(), path.join(FIXTURES, 'app.js')],
    env: { APP_LOG_SHIP: rsyslog.url() }
  })
  const port = await c.port()
  await c.readyWorkers(2)
  for (let i = 0; i < 4; i++) assert.equal((await get(port, '/log?n=250')).status, 200)
  // Every line of the shared file arrives once, in file order: one shipper (the primary's).
  const fileLines = () => fs.readFileSync(c.logFile, 'utf8').split('\n').slice(0, -1)
  await waitFor(() => {
    const written = fileLines()
    return written.filter((l) => l.includes('busy line')).length === 1000 && rsyslog.lines().length === written.length
  }, { ...LONG, what: 'every line of the shared file at rsyslog' })
  assert.deepEqual(rsyslog.lines(), fileLines())
  // Each worker warned once (its stderr, captured into the shared log by the primary).
  const warnings = c.lines().filter((l) => /option log\.ship .* is ignored in a cluster worker/.test(l.msg))
  assert.equal(warnings.length, 2, JSON.stringify(warnings))
  assert.equal(new Set(warnings.map((l) => l.msg.match(/pid (\d+)/)[1])).size, 2)
  assert.match(warnings[0].msg, /prodkit run --log FILE --ship-to URL/)
  c.child.kill('SIGTERM')
  assert.equal((await c.exited).code, 0, c.stderr)
})

test('prodkit run --ship-to: an unreachable target or a missing --log is a usage error naming --ship-to', async (t) => {
  const { dir } = workspace(t, 'prodkit-relp')
  const closedPort = await freePort()
  const app = path.join(FIXTURES, 'app.js')
  const { spawnSync } = require('node:child_process')
  const run = (args) => spawnSync(process.execPath, [CLI, 'run', '--workers', '1', ...args, app], {
    encoding: 'utf8', env: { ...process.env, PRODKIT_RUNTIME_DIR: path.join(dir, 'run') }, timeout: 60_000
  })
  let out = run(['--log', path.join(dir, 'app.log'), '--ship-to', `relp://127.0.0.1:${closedPort}`])
  assert.equal(out.status, 2, out.stderr)
  assert.match(out.stderr.split('\n')[0], /^prodkit run: option --ship-to: cannot reach relp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/)
  out = run(['--ship-to', 'relp://127.0.0.1:1'])
  assert.equal(out.status, 2, out.stderr)
  assert.match(out.stderr, /--ship-to needs --log FILE/)
  out = run(['--log', path.join(dir, 'app.log'), '--ship-to', 'kafka://h:1'])
  assert.equal(out.status, 2, out.stderr)
  assert.match(out.stderr.split('\n')[0], /option --ship-to: unknown target kafka:\/\//)
})

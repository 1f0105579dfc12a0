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
const { startCluster } = require('./cluster-harness')

const LONG = { timeoutMs: 120_000 }
const WINDOW = 16

function counts (lines) {
  const seen = new Map()
  for (const line of lines) seen.set(line, (seen.get(line) || 0) + 1)
  return seen
}

test('a logger ships every line to rsyslog over RELP, once and in order', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup } = workspace(t, 'prodkit-relp')
  const rsyslog = await new Rsyslog(dir, { input: 'imrelp' }).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
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
  const { dir, onCleanup } = workspace(t, 'prodkit-relp')
  const rsyslog = await new Rsyslog(dir, { input: 'imrelp' }).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
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


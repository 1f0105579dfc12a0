'use strict'
// Shipping to a real ClickHouse (clickhouse-server started by each test on a loopback port,
// with its own config and data folder: __test__/clickhouse-harness.js), as a user runs it:
// a logger's `ship: { to: 'clickhouse://...' }`, and `prodkit ship --to clickhouse://...` as a
// sidecar. Every line arrives at least once across rotation, gzip, the server killed and
// started again on the same data and the shipper SIGKILLed mid-backlog; duplicates stay within
// one batch per interruption (ClickHouse 18.16 takes no insert_deduplication_token, so a
// resent batch is stored twice); nothing torn; wrong credentials are reported once and never
// thrown into the app, and everything arrives once they are right.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const prodkit = require('..')
const { runNode, waitFor } = require('./helpers')
const { workspace, sidecar, startWriters, outage, kill, assertDelivered } = require('./ship-harness')
const { ClickHouse, needsClickHouse } = require('./clickhouse-harness')

const LONG = { timeoutMs: 120_000 }
const SHIPPER = { PRODKIT_SHIP_USER: 'shipper', PRODKIT_SHIP_PASSWORD: 'pw' }

async function atLeast (clickhouse, table, n, what) {
  let seen = 0
  await waitFor(async () => (seen = await clickhouse.count(table)) >= n, { ...LONG, what: `${n} rows in ${table} (${what}; ${seen} so far)` })
  return seen
}

test('a logger ships every line to ClickHouse as a row (row mode: the table keeps its columns); a server stopped and restarted is retried, never thrown', async (t) => {
  const command = needsClickHouse(t)
  if (!command) return
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-ch')
  const clickhouse = new ClickHouse(dir, command)
  onCleanup(() => clickhouse.stop('SIGKILL'))
  await clickhouse.start()
  await clickhouse.query('CREATE TABLE default.logs (time UInt64, level UInt8, msg String, name String, i UInt32) ENGINE = MergeTree ORDER BY time')
  const file = path.join(dir, 'app.log')
  const N = 2000
  const log = prodkit.createLogger({ destination: file, name: 'orders', ship: { to: clickhouse.url('default.logs'), flushMs: 20 } })
  onCleanup(() => log.close())
  assert.equal(log.stats().shipping.target, `clickhouse://127.0.0.1:${clickhouse.port}/default.logs`)
  for (let i = 0; i < N; i++) log.info({ i, user: { id: i }, tags: ['a', i] }, 'placed')
  await atLeast(clickhouse, 'default.logs', N, 'the logger')
  assert.equal(await clickhouse.count('default.logs'), N, 'each line once')
  assert.equal((await clickhouse.query('SELECT uniqExact(i), min(i), max(i) FROM default.logs FORMAT TSV')).trim(), `${N}\t0\t${N - 1}`)
  // The row is the line as written: its fields in the table's columns, the others skipped.
  const written = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const line = written.find((l) => l.i === 42)
  assert.equal(await clickhouse.query('SELECT time, level, msg, name FROM default.logs WHERE i = 42 FORMAT TSV'),
    `${line.time}\t30\tplaced\torders\n`)
  assert.equal(log.stats().shipping.errors, 0)

  // The server stops (SIGTERM) and starts again on its data: logging goes on, nothing is
  // thrown, the failure is counted, and the lines written meanwhile arrive.
  await clickhouse.stop('SIGTERM')
  for (let i = N; i < 2 * N; i++) log.info({ i }, 'while the store is down')
  await waitFor(() => log.stats().shipping.errors > 0, { ...LONG, what: 'a failed send' })
  await clickhouse.start()
  await atLeast(clickhouse, 'default.logs', 2 * N, 'after the store came back')
  assert.equal((await clickhouse.query('SELECT uniqExact(i), min(i), max(i) FROM default.logs FORMAT TSV')).trim(), `${2 * N}\t0\t${2 * N - 1}`)
  // ClickHouse has the rows before the shipper has read its answer and counted them.
  const s = await waitFor(() => { const s = log.stats().shipping; return s.lines >= 2 * N && s }, { ...LONG, what: 'the lines counted as shipped' })
  assert.equal(s.rejectedLines, 0)
  assert.ok(s.lastSuccessMs > 0, JSON.stringify(s))
})

test('4 processes × 50,000 lines, rotation and gzip, ClickHouse killed for 10 s and restarted on its data, the sidecar SIGKILLed twice: every line at least once (row count and distinct lines), duplicates within one batch per interruption, nothing torn', async (t) => {
  const command = needsClickHouse(t)
  if (!command) return
  const started = Date.now()
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-ch-mp')
  const clickhouse = new ClickHouse(dir, command)
  onCleanup(() => clickhouse.stop('SIGKILL'))
  await clickhouse.start()
  // Column mode: each line whole in one String column, so a torn line would be seen as one.
  await clickhouse.query('CREATE TABLE default.raw (line String) ENGINE = MergeTree ORDER BY tuple()')
  const table = 'default.raw'
  const file = path.join(dir, 'app.log')
  const PROCESSES = 4
  const LINES = 50_000
  const BATCH = 256 * 1024
  const args = ['--to', clickhouse.url(table, '?column=line'), '--batch-bytes', String(BATCH), '--flush-ms', '50', file]
  let shipper = sidecar(onCleanup, args, { env: SHIPPER })
  await waitFor(() => /shipping /.test(shipper.stderr), { ...LONG, what: 'the shipper to start' })
  // Retention keeps 2 rotated files: every other one must be kept until shipped. Each
  // writer writes half its lines, the rest once ClickHouse is down.
  const writers = startWriters(onCleanup, { file, go: path.join(dir, 'second-half'), processes: PROCESSES, lines: LINES, rotate: "{ size: '1MiB', keep: 2 }" })
  const total = PROCESSES * LINES

  let stored = await atLeast(clickhouse, table, total / 8, 'before the first kill')
  await kill(shipper)
  shipper = sidecar(onCleanup, args, { env: SHIPPER })
  // Reachable before the second half is written: the first half is total / 2 lines.
  stored = await atLeast(clickhouse, table, Math.min(stored + total / 8, total / 2), 'before the store is killed')
  await clickhouse.stop('SIGKILL')
  fs.writeFileSync(path.join(dir, 'second-half'), '')
  const failed = () => /shipping .* failed: /.test(shipper.stderr)
  await outage({ failed, writers, what: `the failure to be reported (stderr: ${shipper.stderr})` })
  // Everything is on disk, rotated and mostly compressed: the store comes back to a backlog.
  const rotated = fs.readdirSync(dir).filter((n) => /^app\..*\.log(\.gz)?$/.test(n))
  assert.ok(rotated.some((n) => n.endsWith('.gz')), `some rotated files compressed: ${rotated}`)
  assert.ok(rotated.length > 2, `unshipped files kept past keep: 2 (${rotated.length})`)
  await clickhouse.start()
  stored = await clickhouse.count(table)
  await atLeast(clickhouse, table, stored + 2000, 'catching up, before the second kill')
  await kill(shipper)
  assert.equal((shipper.stderr.match(/ failed: /g) || []).length, 1, `reported once: ${shipper.stderr}`)
  assert.match(shipper.stderr, /shipping .* recovered\./)
  shipper = sidecar(onCleanup, [...args.slice(0, -1), '--until-caught-up', file], { env: SHIPPER })
  const exit = await shipper.exited
  assert.deepEqual(exit, { code: 0, signal: null }, shipper.stderr)

  // Three interruptions: two kills of the shipper, one of the store.
  const counts = await clickhouse.counts(table, 'line')
  const { received, duplicates } = assertDelivered(counts, { processes: PROCESSES, lines: LINES, batchBytes: BATCH, interruptions: 3 })
  assert.equal(received, await clickhouse.count(table), 'the row count is the lines received')
  assert.equal(Number(await clickhouse.query(`SELECT uniqExact(line) FROM ${table} FORMAT TSV`)), total, 'distinct rows: every line written')
  t.diagnostic(`${received} rows stored for ${total} lines written: ${duplicates} duplicates after 3 interruptions; ${((Date.now() - started) / 1000).toFixed(0)} s`)
  assert.equal(fs.existsSync(file + '.rejected'), false)
})

test('wrong ClickHouse credentials: the app keeps logging, the failure is reported once, and a sidecar with the right ones ships everything', async (t) => {
  const command = needsClickHouse(t)
  if (!command) return
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-ch-auth')
  const clickhouse = new ClickHouse(dir, command, { password: 'the-right-one' })
  onCleanup(() => clickhouse.stop('SIGKILL'))
  await clickhouse.start()
  await clickhouse.query('CREATE TABLE default.logs (time UInt64, level UInt8, msg String, i UInt32) ENGINE = MergeTree ORDER BY time')
  const file = path.join(dir, 'app.log')
  const to = clickhouse.url('default.logs')
  // The app: logs, waits until shipping has failed more than once, logs more, and ends.
  const app = await runNode(`
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)}, ship: { to: ${JSON.stringify(to)}, flushMs: 20 } })
    let listened = 0
    log.on('error', () => listened++)
    for (let i = 0; i < 500; i++) log.info({ i }, 'before')
    const more = () => {
      for (let i = 500; i < 1000; i++) log.info({ i }, 'while the credentials are wrong')
      log.flush().then((ok) => {
        console.log(JSON.stringify({ ok, listened, shipping: log.stats().shipping }))
        log.close()
      })
    }
    const wait = () => log.stats().shipping.errors >= 3 ? more() : setTimeout(wait, 20)
    wait()`, { env: { PRODKIT_SHIP_USER: 'shipper', PRODKIT_SHIP_PASSWORD: 'not-the-password' }, timeoutMs: 120_000 })
  assert.equal(app.code, 0, app.stderr)
  const { ok, listened, shipping } = JSON.parse(app.stdout)
  assert.equal(ok, true)
  assert.equal(listened, 0, 'nothing reported to the logger\'s error listeners: logging is fine')
  assert.ok(shipping.errors >= 3 && shipping.lines === 0, JSON.stringify(shipping))
  const failures = app.stderr.split('\n').filter((l) => / failed: /.test(l))
  assert.equal(failures.length, 1, `reported once: ${app.stderr}`)
  assert.match(failures[0], new RegExp(`^prodkit: shipping .*app\\.log to clickhouse://127\\.0\\.0\\.1:${clickhouse.port}/default\\.logs failed: .*(wrong password|credentials)`))
  assert.doesNotMatch(app.stderr, /not-the-password/)
  assert.equal(await clickhouse.count('default.logs'), 0)
  assert.equal(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 1000, 'the app logged every line')

  // The credentials fixed: a sidecar ships everything from the checkpoint (nothing acknowledged).
  const fixed = sidecar(onCleanup, ['--to', to, '--flush-ms', '20', '--until-caught-up', file],
    { env: { PRODKIT_SHIP_USER: 'shipper', PRODKIT_SHIP_PASSWORD: 'the-right-one' } })
  assert.deepEqual(await fixed.exited, { code: 0, signal: null }, fixed.stderr)
  assert.doesNotMatch(fixed.stderr, / failed: /)
  assert.equal(await clickhouse.count('default.logs'), 1000)
  assert.equal((await clickhouse.query('SELECT uniqExact(i), min(i), max(i) FROM default.logs FORMAT TSV')).trim(), '1000\t0\t999')
})

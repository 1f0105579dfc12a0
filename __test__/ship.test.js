'use strict'
// Shipping to a real rsyslog (started by each test on a loopback port, with its own config):
// every line arrives at least once across rotation, gzip, the store stopped and restarted
// and the shipper killed with SIGKILL mid-backlog; duplicates stay within one batch per
// interruption; nothing torn; failures are reported once and never thrown into the app; bad
// configuration fails at creation naming the option.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const prodkit = require('..')
const { ROOT, runNode, waitFor, freePort } = require('./helpers')
const { CLI, workspace, sidecar, startWriters, outage, kill, assertDelivered } = require('./ship-harness')
const { Rsyslog, needsRsyslog, testCertificates } = require('./rsyslog-harness')

const LONG = { timeoutMs: 120_000 }

// Reads what rsyslog received, incrementally: a count per line.
class Received {
  constructor (rsyslog) {
    this.rsyslog = rsyslog
    this.offset = 0
    this.rest = ''
    this.counts = new Map()
    this.total = 0
  }

  update () {
    let fd
    try {
      fd = fs.openSync(this.rsyslog.out, 'r')
    } catch (err) {
      if (err.code === 'ENOENT') return this
      throw err
    }
    try {
      const size = fs.fstatSync(fd).size
      if (size > this.offset) {
        const buf = Buffer.alloc(size - this.offset)
        fs.readSync(fd, buf, 0, buf.length, this.offset)
        this.offset = size
        const lines = (this.rest + buf.toString('utf8')).split('\n')
        this.rest = lines.pop()
        for (const line of lines) {
          this.counts.set(line, (this.counts.get(line) || 0) + 1)
          this.total++
        }
      }
    } finally {
      fs.closeSync(fd)
    }
    return this
  }

  async atLeast (n, what) {
    await waitFor(() => this.update().total >= n, { ...LONG, what: `${n} lines received (${what})` })
  }
}

test('a logger ships every line to rsyslog as RFC 5424 over TCP; a store down at run time is retried, never thrown', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup } = workspace(t, 'prodkit-ship')
  const rsyslog = await new Rsyslog(dir).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
  const file = path.join(dir, 'app.log')
  const log = prodkit.createLogger({ destination: file, name: 'orders', ship: { to: rsyslog.url(), flushMs: 20 } })
  onCleanup(() => log.close())
  for (let i = 0; i < 500; i++) log.info({ i, user: { email: `u${i}@example.com` } }, 'placed')
  log.error({ i: 500 }, 'failed')
  const received = new Received(rsyslog)
  await received.atLeast(501, 'first part')
  const written = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
  assert.deepEqual([...received.counts.keys()], written, 'the lines as written, in order, once')
  const heads = rsyslog.headLines()
  const [pri, time, host, app, procid, msgid, version] = heads[0].split('|')
  assert.deepEqual([pri, host, app, procid, msgid, version], ['14', os.hostname(), 'orders', String(process.pid), 'info', '1'])
  assert.equal(Date.parse(time), JSON.parse(written[0]).time)
  assert.equal(heads[500].split('|')[0], '11', 'error: severity 3, facility user')

  // The store goes away: logging goes on, nothing is thrown, the failure is counted.
  await rsyslog.stop()
  for (let i = 501; i < 1000; i++) log.info({ i }, 'while the store is down')
  await waitFor(() => log.stats().shipping.errors > 0, { ...LONG, what: 'a failed send' })
  assert.ok(log.stats().shipping.lagBytes >= 0)
  await rsyslog.start()
  await received.atLeast(1000, 'after the store came back')
  const ids = new Set([...received.counts.keys()].map((l) => JSON.parse(l).i))
  assert.equal(ids.size, 1000)
  // The store has the lines before the shipper has read its acknowledgment and counted them.
  const s = await waitFor(() => { const s = log.stats().shipping; return s.lines >= 1000 && s }, { ...LONG, what: 'the lines counted as shipped' })
  assert.equal(s.rejectedLines, 0)
  assert.ok(s.lastSuccessMs > 0, JSON.stringify(s))
})

test('4 processes × 50,000 lines, rotation and gzip, rsyslog stopped for 10 s and restarted, the shipper SIGKILLed twice: every line at least once, duplicates within one batch per interruption, nothing torn', async (t) => {
  if (!needsRsyslog(t)) return
  const started = Date.now()
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-mp')
  const rsyslog = await new Rsyslog(dir).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
  const file = path.join(dir, 'app.log')
  const PROCESSES = 4
  const LINES = 50_000
  const BATCH = 256 * 1024
  const args = ['--to', rsyslog.url(), '--batch-bytes', String(BATCH), '--flush-ms', '20', file]
  let shipper = sidecar(onCleanup, args)
  await waitFor(() => /shipping /.test(shipper.stderr), { ...LONG, what: 'the shipper to start' })
  // Retention keeps 2 rotated files: every other one must be kept until shipped. Each
  // writer writes half its lines, the rest once rsyslog is down.
  const writers = startWriters(onCleanup, { file, go: path.join(dir, 'second-half'), processes: PROCESSES, lines: LINES, rotate: "{ size: '1MiB', keep: 2 }" })
  const received = new Received(rsyslog)
  const total = PROCESSES * LINES

  await received.atLeast(total / 8, 'before the first kill')
  await kill(shipper)
  shipper = sidecar(onCleanup, args)
  // Reachable before the second half is written: the first half is total / 2 lines.
  await received.atLeast(Math.min(received.total + total / 8, total / 2), 'before the store stops')
  await rsyslog.stop()
  fs.writeFileSync(path.join(dir, 'second-half'), '')
  const failed = () => /shipping .* failed: /.test(shipper.stderr)
  await outage({ failed, writers, what: `the failure to be reported (stderr: ${shipper.stderr})` })
  // Everything is on disk, rotated and mostly compressed: the store comes back to a backlog.
  const rotated = fs.readdirSync(dir).filter((n) => /^app\..*\.log(\.gz)?$/.test(n))
  assert.ok(rotated.some((n) => n.endsWith('.gz')), `some rotated files compressed: ${rotated}`)
  assert.ok(rotated.length > 2, `unshipped files kept past keep: 2 (${rotated.length})`)
  await rsyslog.start()
  await received.atLeast(received.update().total + 2000, 'catching up, before the second kill')
  await kill(shipper)
  assert.equal((shipper.stderr.match(/ failed: /g) || []).length, 1, `reported once: ${shipper.stderr}`)
  shipper = sidecar(onCleanup, [...args.slice(0, -1), '--until-caught-up', file])
  const exit = await shipper.exited
  assert.deepEqual(exit, { code: 0, signal: null }, shipper.stderr)

  received.update()
  // Three interruptions: two kills, one store stop.
  const { duplicates } = assertDelivered(received.counts, { processes: PROCESSES, lines: LINES, batchBytes: BATCH, interruptions: 3 })
  assert.equal(received.total - total, duplicates)
  t.diagnostic(`${received.total} lines received for ${total} written: ${duplicates} duplicates after 3 interruptions; ${((Date.now() - started) / 1000).toFixed(0)} s`)
  assert.equal(fs.existsSync(file + '.rejected'), false)
})

test('bad shipping configuration fails at creation with an error naming the option', async (t) => {
  const { dir } = workspace(t, 'prodkit-ship-bad')
  const file = path.join(dir, 'app.log')
  const closedPort = await freePort()
  const cases = [
    [{ to: 'kafka://broker:9092' }, /option log\.ship\.to .*unknown target kafka:\/\/ \(known: syslog\+tcp:\/\/.*clickhouse:\/\/.*otlp:\/\/; each HTTP store also as STORE\+https:\/\/\)/],
    [{ to: `clickhouse://127.0.0.1:${closedPort}/logs.app` }, /option log\.ship\.to .*cannot reach clickhouse:\/\/127\.0\.0\.1:\d+\/logs\.app.*ECONNREFUSED/],
    [{ to: 'loki+https://user:hunter2@127.0.0.1:3100' }, /option log\.ship\.to .*credentials in the URL are not accepted.*PRODKIT_SHIP_USER/],
    [{ to: 'elasticsearch://127.0.0.1:9200/logs?timeout=soon' }, /option log\.ship\.to .*option timeout: `soon` is not a duration/],
    [{ to: `syslog+tcp://127.0.0.1:${closedPort}` }, /option log\.ship\.to .*cannot reach syslog\+tcp:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/],
    [{ to: 'syslog+tcp://user:hunter2@127.0.0.1:99999' }, /option log\.ship\.to .*port .*1 to 65535/],
    [{ to: 'logs.internal:514' }, /option log\.ship\.to must be a target URL/],
    [{}, /option log\.ship\.to must be a target URL/],
    [{ to: 'syslog+tcp://h', batchBytes: 0 }, /option log\.ship\.batchBytes must be a size/],
    [{ to: 'syslog+tcp://h', flushMs: 'soon' }, /option log\.ship\.flushMs must be a duration/],
    [{ to: 'syslog+tcp://h', backlogBytes: -1 }, /option log\.ship\.backlogBytes must be a size/],
    [{ to: 'syslog+tcp://h', retries: 3 }, /unknown option log\.ship\.retries/],
    ['syslog+tcp://h', /option log\.ship must be an object/]
  ]
  for (const [ship, expected] of cases) {
    assert.throws(() => prodkit.createLogger({ destination: file, ship }), (err) => {
      assert.ok(err instanceof TypeError, err.message)
      assert.match(err.message, expected)
      assert.doesNotMatch(err.message, /hunter2/)
      return true
    }, JSON.stringify(ship))
  }
  assert.throws(() => prodkit.createLogger({ ship: { to: 'syslog+tcp://h' } }), /option log\.ship needs log\.destination to be a file path/)
  // The app goes on: a logger made after a failed one works.
  const log = prodkit.createLogger({ destination: file })
  log.info('still logging')
  assert.equal(await log.flush(), true)
  log.close()

  const cli = (args) => spawnSync(process.execPath, [CLI, 'ship', ...args], { cwd: ROOT, encoding: 'utf8' })
  for (const [args, expected] of [
    [['--to', 'kafka://b:9092', file], /unknown target kafka:\/\//],
    [['--to', `syslog+tcp://127.0.0.1:${closedPort}`, file], /cannot reach/],
    [['--to', 'syslog+tcp://h', '--batch-bytes', 'lots', file], /option --batch-bytes must be a size/],
    [['--to', 'syslog+tcp://h'], /at least one log FILE/],
    [[file], /option --to is required/]
  ]) {
    const out = cli(args)
    assert.equal(out.status, 2, `${args}: ${out.stderr}`)
    assert.match(out.stderr, expected)
    assert.match(out.stderr, /Usage: prodkit ship/)
  }
})

test('encrypted fields ship as ciphertext: the shipper ships bytes as written', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-enc')
  const rsyslog = await new Rsyslog(dir).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
  const file = path.join(dir, 'app.log')
  const key = require('node:crypto').randomBytes(32).toString('base64')
  const log = prodkit.createLogger({ destination: file, encrypt: { paths: ['user.email'], key }, ship: { to: rsyslog.url(), flushMs: 20 } })
  onCleanup(() => log.close())
  log.info({ user: { email: 'secret@example.com' } }, 'signup')
  const received = new Received(rsyslog)
  await received.atLeast(1, 'the sealed line')
  const [line] = received.counts.keys()
  assert.equal(line, fs.readFileSync(file, 'utf8').trimEnd())
  assert.doesNotMatch(line, /secret@example\.com/)
  assert.equal(typeof JSON.parse(line).user.email, 'string')
})

test('under prodkit.cluster() only the primary ships the shared file: workers start no shipper', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-cluster')
  const rsyslog = await new Rsyslog(dir).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
  const file = path.join(dir, 'app.log')
  const primary = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'ship-cluster-primary.js')], {
    cwd: ROOT,
    env: { ...process.env, LOG_FILE: file, SHIP_TO: rsyslog.url() },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  primary.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => primary.on('exit', resolve))
  onCleanup(async () => {
    if (primary.exitCode === null && primary.signalCode === null) primary.kill('SIGKILL')
    await exited
  })
  const received = new Received(rsyslog)
  const workerLines = () => [...received.update().counts.keys()].map((l) => JSON.parse(l)).filter((l) => l.msg === 'worker line')
  await waitFor(() => workerLines().length >= 1000, { ...LONG, what: `both workers' lines shipped (stderr: ${stderr})` })
  const lines = workerLines()
  assert.equal(lines.length, 1000)
  assert.ok(lines.every((l) => l.shipping === false), 'no worker has a shipper')
  assert.equal(new Set(lines.map((l) => `${l.worker}-${l.i}`)).size, 1000)
  assert.ok([...received.counts.values()].every((n) => n === 1), 'each line once')
  primary.kill('SIGTERM')
  await exited
  assert.doesNotMatch(stderr, /another process is shipping/)
})

test('kit.metrics reports the shipping figures', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-metrics')
  const rsyslog = await new Rsyslog(dir).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
  const file = path.join(dir, 'app.log')
  const out = await runNode(`
    const kit = require('@oj/prodkit').install({ log: { destination: ${JSON.stringify(file)}, ship: { to: ${JSON.stringify(rsyslog.url())}, flushMs: 10 } } })
    for (let i = 0; i < 100; i++) kit.log.info({ i }, 'counted')
    const wait = () => kit.log.stats().shipping.lines >= 101 ? done() : setTimeout(wait, 20)
    const done = () => { console.log(kit.metrics.prometheus()); kit.shutdown() }
    wait()`, { timeoutMs: 60_000 })
  assert.equal(out.code, 0, out.stderr)
  const target = rsyslog.url()
  assert.match(out.stdout, new RegExp(`^prodkit_log_ship_lines_total\\{target="${target.replace(/[+.]/g, '\\$&')}"\\} (\\d+)$`, 'm'))
  const value = (name) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(out.stdout)[1])
  assert.ok(value('prodkit_log_ship_lines_total') >= 101)
  assert.equal(value('prodkit_log_ship_rejected_lines_total'), 0)
  assert.ok(value('prodkit_log_ship_last_success_timestamp_seconds') > 0)
  assert.match(out.stdout, /^# TYPE prodkit_log_ship_lag_bytes gauge$/m)
})

test('syslog+tls ships to rsyslog over TLS with a private CA (?ca=); a certificate that does not verify fails at creation', async (t) => {
  if (!needsRsyslog(t)) return
  if (!fs.existsSync('/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so') && !fs.existsSync('/usr/lib/rsyslog/lmnsd_gtls.so')) {
    if (process.env.CI) assert.fail('rsyslog-gnutls is required in CI (.ci/run installs it)')
    return t.skip('rsyslog-gnutls is not installed')
  }
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-tls')
  const tls = testCertificates(dir)
  const rsyslog = await new Rsyslog(dir, { tls }).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
  const file = path.join(dir, 'app.log')
  const log = prodkit.createLogger({ destination: file, name: 'tls-app', ship: { to: rsyslog.url(), flushMs: 20 } })
  onCleanup(() => log.close())
  assert.equal(log.stats().shipping.target, `syslog+tls://127.0.0.1:${rsyslog.port}`)
  for (let i = 0; i < 300; i++) log.info({ i }, 'over tls')
  const received = new Received(rsyslog)
  await received.atLeast(300, 'over TLS')
  assert.deepEqual([...received.counts.keys()], fs.readFileSync(file, 'utf8').split('\n').filter(Boolean))
  assert.equal(rsyslog.headLines()[0].split('|')[3], 'tls-app')

  // Without the private CA the server's certificate does not verify: an error at creation.
  const untrusted = `syslog+tls://127.0.0.1:${rsyslog.port}`
  assert.throws(() => prodkit.createLogger({ destination: path.join(dir, 'b.log'), ship: { to: untrusted } }),
    /option log\.ship\.to .*cannot reach syslog\+tls:\/\/127\.0\.0\.1:\d+: TLS: invalid peer certificate: UnknownIssuer/)
  assert.throws(() => prodkit.createLogger({ destination: path.join(dir, 'b.log'), ship: { to: `${untrusted}?ca=${path.join(dir, 'missing.pem')}` } }),
    /option log\.ship\.to .*cannot read the CA file/)
  assert.throws(() => prodkit.createLogger({ destination: path.join(dir, 'b.log'), ship: { to: `syslog+tcp://127.0.0.1:${rsyslog.port}?ca=x` } }),
    /option log\.ship\.to .*unknown setting ca in a syslog\+tcp:\/\/ URL/)
})

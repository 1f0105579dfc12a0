'use strict'
// Shipping from a full disk: the log file lives on a small tmpfs (root only: mount) that
// fills while a logger ships it to a real rsyslog. The shipper keeps sending the lines that
// reached the disk, the checkpoint saves that fail with ENOSPC are reported once (not per
// batch, no crash, no spin: no line is sent twice while the disk is full), and once space
// returns the checkpoint is saved again and shipping goes on: every line that reached the
// disk arrives (the writer's queue holds the lines logged while it is full, and writes them
// once it can, or counts them as lost), and none arrives
// that is not in the file. (The `.rejected` writes failing on ENOSPC are covered by the
// Rust tests of src/ship/shipper.rs, on /dev/full.)

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { ROOT, waitFor, tmpfs } = require('./helpers')
const { workspace, sidecar } = require('./ship-harness')
const { Rsyslog, needsRsyslog } = require('./rsyslog-harness')

const LONG = { timeoutMs: 120_000 }

// The app: a logger on `file` shipping to `to`, driven over IPC: { from, to } logs lines
// { i, pad } from..to-1 and answers with the flush's result and the stats; 'stats' answers
// with the stats alone.
const APP = `
  const log = require('@oj/prodkit').createLogger({ destination: process.env.LOG_FILE, ship: { to: process.env.SHIP_TO, flushMs: 20, batchBytes: 4096 } })
  log.on('error', () => {})
  process.on('message', async (m) => {
    if (m === 'stats') return process.send({ stats: log.stats() })
    for (let i = m.from; i < m.to; i++) log.info({ i, pad: 'x'.repeat(100) }, 'full')
    const ok = await log.flush()
    process.send({ ok, stats: log.stats() })
  })
  process.send({ ready: true })`

function startApp (onCleanup, file, to) {
  const child = spawn(process.execPath, ['-e', APP], {
    cwd: ROOT,
    env: { ...process.env, LOG_FILE: file, SHIP_TO: to },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  const state = { child, stderr: '' }
  child.stderr.setEncoding('utf8').on('data', (d) => { state.stderr += d })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  const replies = []
  const waiting = []
  child.on('message', (m) => (waiting.length ? waiting.shift()(m) : replies.push(m)))
  state.ask = (message) => {
    const reply = new Promise((resolve) => (replies.length ? resolve(replies.shift()) : waiting.push(resolve)))
    if (message !== undefined) child.send(message)
    return reply
  }
  state.kill = async () => { child.kill('SIGKILL'); await exited }
  return state
}

// Fills the file system of `dir` to its last byte with `filler`.
function fill (filler) {
  const fd = fs.openSync(filler, 'a')
  try {
    for (const size of [1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x61)
      for (;;) {
        try {
          fs.writeSync(fd, chunk)
        } catch (err) {
          if (err.code !== 'ENOSPC') throw err
          break
        }
      }
    }
  } finally {
    fs.closeSync(fd)
  }
}

// How many times each i arrived.
function arrived (rsyslog) {
  const counts = new Map()
  for (const line of rsyslog.lines()) {
    const { i } = JSON.parse(line)
    if (!Number.isInteger(i)) continue // the logger's own lines
    counts.set(i, (counts.get(i) || 0) + 1)
  }
  return counts
}

function range (from, to) {
  return Array.from({ length: to - from }, (_, k) => from + k)
}

test('the log file\'s disk fills while shipping: what reached the disk is shipped, the failed checkpoint saves are reported once, and shipping resumes when space returns', async (t) => {
  if (!needsRsyslog(t)) return
  const { dir, onCleanup } = workspace(t, 'prodkit-ship-full')
  // Mounted after the workspace: its unmount runs after the processes have stopped.
  const { mnt, skip } = tmpfs(t, '2m')
  if (skip) return t.skip(skip) // as disk-full.test.js: mounting needs root
  const rsyslog = await new Rsyslog(dir).start()
  onCleanup(() => rsyslog.stop('SIGKILL'))
  const file = path.join(mnt, 'app.log')
  const app = startApp(onCleanup, file, rsyslog.url())
  assert.deepEqual(await app.ask(), { ready: true })
  const has = (ids) => { const c = arrived(rsyslog); return ids.every((i) => c.has(i)) }

  // Shipping as usual.
  let reply = await app.ask({ from: 0, to: 500 })
  assert.equal(reply.ok, true)
  await waitFor(() => has(range(0, 500)), { ...LONG, what: 'the first 500 lines shipped' })

  // The store away, 500 more lines reach the disk; then the disk fills to its last byte.
  await rsyslog.stop()
  reply = await app.ask({ from: 500, to: 1000 })
  assert.equal(reply.ok, true)
  await waitFor(async () => (await app.ask('stats')).stats.shipping.errors > 0, { ...LONG, what: 'a failed send' })
  const filler = path.join(mnt, 'filler')
  fill(filler)

  // The store back: the lines on the full disk are shipped, their checkpoint saves fail.
  await rsyslog.start()
  await waitFor(() => has(range(500, 1000)), { ...LONG, what: `the lines on the full disk shipped (stderr: ${app.stderr})` })
  await waitFor(() => /cannot save the shipping checkpoint/.test(app.stderr), { ...LONG, what: `the checkpoint failure reported (stderr: ${app.stderr})` })
  // Lines logged now do not reach the disk: the writer keeps them queued (or counts them
  // lost once its queue is full), the app goes on.
  reply = await app.ask({ from: 1000, to: 1500 })
  assert.equal(reply.ok, false)
  assert.ok(reply.stats.writeErrors > 0 && reply.stats.failing, JSON.stringify(reply.stats))
  const shipped = await waitFor(async () => { const { stats } = await app.ask('stats'); return stats.shipping.lines >= 1000 && stats.shipping }, { ...LONG, what: 'the lines counted as shipped' })
  assert.equal(shipped.rejectedLines, 0)
  const checkpointFailures = app.stderr.match(/cannot save the shipping checkpoint .*No space left on device/g) || []
  assert.equal(checkpointFailures.length, 1, `reported once: ${app.stderr}`)
  // No spin: nothing was sent twice while the checkpoint could not be saved.
  assert.ok([...arrived(rsyslog).values()].every((n) => n === 1), 'each line once while the disk is full')
  assert.match(fs.readFileSync(file + '.ship.json', 'utf8'), /"offset"/, 'the old checkpoint is still there, whole')
  assert.deepEqual(fs.readdirSync(mnt).filter((n) => n.endsWith('.tmp')), [], 'no partial temporary checkpoint left')

  // Space returns: the checkpoint is saved again, new lines are shipped.
  fs.rmSync(filler)
  // (The writer retries with a backoff: this flush may end before it has written again.)
  reply = await app.ask({ from: 1500, to: 2000 })
  await waitFor(() => has(range(1500, 2000)), { ...LONG, what: 'the lines after space returned shipped' })
  await waitFor(() => /checkpoint of .* is saved again/.test(app.stderr), { ...LONG, what: `the recovery reported (stderr: ${app.stderr})` })
  assert.doesNotMatch(app.stderr, /panicked|failed \(/)

  // A restart from the saved checkpoint ships the rest, if any; nothing is lost.
  await app.kill()
  const after = sidecar(onCleanup, ['--to', rsyslog.url(), '--flush-ms', '20', '--until-caught-up', file])
  assert.deepEqual(await after.exited, { code: 0, signal: null }, after.stderr)
  const onDisk = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).i).filter(Number.isInteger)
  const counts = arrived(rsyslog)
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [...onDisk].sort((a, b) => a - b), 'every line on disk arrived, and only those')
  for (const i of [...range(0, 1000), ...range(1500, 2000)]) assert.ok(counts.has(i), `line ${i} on disk`)
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0)
  // The restart may repeat one batch (4 KiB of ~150-byte lines).
  assert.ok(duplicates <= 4096 / 100, `${duplicates} duplicates`)
  t.diagnostic(`${onDisk.length} lines reached the disk of 2000 logged (the rest counted lost: ${reply.stats.lostLines}); ${duplicates} duplicates`)
})

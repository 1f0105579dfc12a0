'use strict'
// Rotation in one process: options, naming, size and interval rotation, gzip on the
// background thread, finishing what a crash left, retention, reopen() and reopenOnSignal.

// Compression at normal priority in these tests (and their child processes): they check
// what compression produces, and an idle-priority thread barely runs while the machine is
// kept busy by other work (docs/rotation.md, PRODKIT_COMPRESS_PRIORITY). bench:rotate
// measures the idle-priority default.
process.env.PRODKIT_COMPRESS_PRIORITY = 'normal'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const prodkit = require('..')
const { tempDir, readJsonLines, runNode, logFiles, readLogSet, waitFor } = require('./helpers')

const STAMP = /^app\.(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z)\.log(\.gz)?$/

// Logs `count` lines with ids from `from`, `perTurn` per event-loop turn (each turn's lines
// reach the writer as one batch or more).
async function logTurns (log, from, count, perTurn = 100) {
  for (let i = from; i < from + count; i += perTurn) {
    for (let j = i; j < Math.min(i + perTurn, from + count); j++) {
      log.info({ id: j, user: { email: `user${j}@example.com` } }, 'line %d', j)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
}

function assertIdsOnce (lines, count) {
  const ids = lines.filter((l) => l.msg !== undefined && l.msg.startsWith('line ')).map((l) => l.id)
  assert.equal(ids.length, count, 'line count')
  assert.deepEqual(ids, Array.from({ length: count }, (_, i) => i), 'every id once, in order')
}

function rotatedNames (dir) {
  return fs.readdirSync(dir).filter((n) => STAMP.test(n)).sort()
}

test('rotate options are validated with TypeErrors that name the option and what it accepts', (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const cases = [
    [{ rotate: { size: 'big' } }, /option log.rotate.size must be a size such as '100MB', '512KiB', '1GiB' \(B, KB, MB, GB, TB, KiB, MiB, GiB, TiB\) or a positive integer of bytes \(got "big"\)/],
    [{ rotate: { size: '10 parsecs' } }, /option log.rotate.size must be .* \(got "10 parsecs"\)/],
    [{ rotate: { size: 0 } }, /option log.rotate.size must be .* \(got 0\)/],
    [{ rotate: { size: 1.5 } }, /option log.rotate.size must be .* \(got 1.5\)/],
    [{ rotate: { interval: 'weekly' } }, /option log.rotate.interval must be 'hourly', 'daily' or an integer of milliseconds from 1000 \(got "weekly"\)/],
    [{ rotate: { interval: 10 } }, /option log.rotate.interval must be .* \(got 10\)/],
    [{ rotate: { size: '1MB', keep: 0 } }, /option log.rotate.keep must be an integer from 1 to 100000 \(rotated files kept\) \(got 0\)/],
    [{ rotate: { size: '1MB', maxAge: '14' } }, /option log.rotate.maxAge must be an age such as '14d', '12h', '30m' \(ms, s, m, h, d, w\) or a positive integer of milliseconds \(got "14"\)/],
    [{ rotate: { size: '1MB', maxAge: -5 } }, /option log.rotate.maxAge must be .* \(got -5\)/],
    [{ rotate: { size: '1MB', compress: 'yes' } }, /option log.rotate.compress must be true or false \(got "yes"\)/],
    [{ rotate: { keep: 3 } }, /option log.rotate needs size and\/or interval/],
    [{ rotate: 'daily' }, /option log.rotate must be an object such as .* or false \(got "daily"\)/],
    [{ rotate: { size: '1MB', every: 'day' } }, /unknown option log.rotate.every \(known: size, interval, keep, maxAge, compress\)/],
    [{ rotate: { size: '1MB' }, destination: 'stdout' }, /option log.rotate needs log.destination to be a file path \(got 'stdout'\)/],
    [{ rotate: { size: '1MB' }, destination: 2 }, /option log.rotate needs log.destination to be a file path \(got 'stderr'\)/],
    [{ rotate: { size: '1MB' }, destination: 9 }, /option log.rotate needs log.destination to be a file path \(got file descriptor 9\)/],
    [{ reopenOnSignal: 'SIGUSR1' }, /option log.reopenOnSignal must be 'SIGHUP' or 'SIGUSR2', or false \(got "SIGUSR1"\)/],
    [{ reopenOnSignal: 'SIGHUP', destination: 'stdout' }, /option log.reopenOnSignal needs log.destination to be a file path \(got 'stdout'\)/]
  ]
  for (const [options, message] of cases) {
    assert.throws(() => prodkit.createLogger({ destination: file, ...options }), { name: 'TypeError', message }, JSON.stringify(options))
  }
  // Accepted spellings.
  for (const rotate of [{ size: '100MB' }, { size: '1GiB' }, { size: '1.5kb' }, { size: 4096 }, { size: '4096' },
    { interval: 'hourly' }, { interval: 'daily', keep: 14, maxAge: '14d', compress: false }, { interval: 60_000, maxAge: 3_600_000 }]) {
    prodkit.createLogger({ destination: file, rotate }).close()
  }
  prodkit.createLogger({ destination: file, rotate: false, reopenOnSignal: false }).close()
  assert.equal(prodkit.createLogger({ destination: file }).stats().rotation, undefined, 'no rotation stats without rotate')
})

test('size: files fill with whole lines up to the limit, then rotate; names sort in rotation order; every line once', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 's', rotate: { size: '16KiB', compress: false } })
  t.after(() => log.close())
  await logTurns(log, 0, 5000, 50)
  assert.equal(await log.flush(), true)
  const names = rotatedNames(dir)
  assert.ok(names.length >= 20, `${names.length} rotated files`)
  assert.equal(log.stats().rotation.rotations, names.length)
  for (const name of names) {
    assert.ok(!name.endsWith('.gz'), 'compress: false')
    assert.ok(fs.statSync(path.join(dir, name)).size <= 16 * 1024, `${name} is within the size`)
  }
  assert.ok(fs.existsSync(file), 'the current file keeps its name')
  // Rotated files hold older lines than the ones after them: name order is time order.
  assertIdsOnce(readLogSet(file), 5000)
})

test('compression: rotated files become .gz off the JS thread, plain files are removed, content is identical', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 's', rotate: { size: '32KiB' } })
  t.after(() => log.close())
  await logTurns(log, 0, 4000)
  assert.equal(await log.flush(), true)
  const rotations = log.stats().rotation.rotations
  assert.ok(rotations >= 5, `${rotations} rotations`)
  await waitFor(() => log.stats().rotation.compressedFiles === rotations, { what: 'compression' })
  const names = rotatedNames(dir)
  assert.equal(names.length, rotations)
  assert.ok(names.every((n) => n.endsWith('.log.gz')), names.join(' '))
  assert.ok(!fs.readdirSync(dir).some((n) => n.endsWith('.tmp')))
  const stats = log.stats().rotation
  assert.ok(stats.compressedBytes > 0 && stats.compressMs > 0 && stats.errors === 0, JSON.stringify(stats))
  // The gzip header names the original file, as gzip does.
  const gz = fs.readFileSync(path.join(dir, names[0]))
  assert.ok(gz.includes(Buffer.from(names[0].replace(/\.gz$/, ''))), 'original name in the header')
  assertIdsOnce(readLogSet(file), 4000)
})

test('a crash in the middle of compressing is finished by the next start: partial .gz and .gz.tmp replaced, plain removed', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const content = (from) => Array.from({ length: 1000 }, (_, i) => JSON.stringify({ level: 30, id: from + i, msg: `line ${from + i}` }) + '\n').join('')
  // Two rotations an earlier run left: one with a partial .gz under its final name (as a
  // tool that writes in place would leave it), one with a partial .gz.tmp (as prodkit
  // would); and debris of a third whose plain file was already done and removed.
  const a = path.join(dir, 'app.2026-01-01T00-00-00.000Z.log')
  const b = path.join(dir, 'app.2026-01-01T01-00-00.000Z.log')
  fs.writeFileSync(a, content(0))
  fs.writeFileSync(b, content(1000))
  const full = zlib.gzipSync(content(0))
  fs.writeFileSync(a + '.gz', full.subarray(0, full.length >> 1))
  fs.writeFileSync(b + '.gz.tmp', zlib.gzipSync(content(1000)).subarray(0, 40))
  fs.writeFileSync(path.join(dir, 'app.2026-01-01T02-00-00.000Z.log.gz.tmp'), 'debris')
  assert.throws(() => zlib.gunzipSync(fs.readFileSync(a + '.gz')), 'the leftover .gz is incomplete')

  const log = prodkit.createLogger({ destination: file, service: 's', rotate: { size: '1MB' } })
  t.after(() => log.close())
  await waitFor(() => !fs.existsSync(a) && !fs.existsSync(b), { what: 'the leftover plain files to be compressed' })
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('app.')).sort(), [
    'app.2026-01-01T00-00-00.000Z.log.gz',
    'app.2026-01-01T01-00-00.000Z.log.gz'
  ])
  assert.equal(zlib.gunzipSync(fs.readFileSync(a + '.gz')).toString(), content(0))
  assert.equal(zlib.gunzipSync(fs.readFileSync(b + '.gz')).toString(), content(1000))
  assert.equal(log.stats().rotation.compressedFiles, 2)
})

test('retention: keep N keeps the newest N rotated files', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 's', rotate: { size: '8KiB', keep: 3, compress: false } })
  t.after(() => log.close())
  await logTurns(log, 0, 3000, 40)
  assert.equal(await log.flush(), true)
  assert.ok(log.stats().rotation.rotations > 10)
  const names = await waitFor(() => {
    const n = rotatedNames(dir)
    return n.length === 3 && n
  }, { what: 'retention to keep 3 files' })
  // The three kept are the newest: their lines run up to the current file's first line.
  const lines = readLogSet(file)
  const ids = lines.map((l) => l.id)
  assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => ids[0] + i), 'contiguous newest lines')
  assert.equal(ids.at(-1), 2999)
  assert.ok(names.every((n) => STAMP.test(n)))
})

test('retention: maxAge deletes rotated files older than it, at start and after rotations; other files are never touched', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const stamp = (ms) => new Date(ms).toISOString().replace(/:/g, '-')
  const old = `app.${stamp(Date.now() - 3 * 86_400_000)}.log.gz`
  const young = `app.${stamp(Date.now() - 3_600_000)}.log.gz`
  const others = ['app.log.1', 'other.2020-01-01T00-00-00.000Z.log', `app.${stamp(0)}.txt`, 'notes.txt']
  for (const name of [old, young, ...others]) fs.writeFileSync(path.join(dir, name), zlib.gzipSync('{}\n'))
  const log = prodkit.createLogger({ destination: file, service: 's', rotate: { size: '1MB', maxAge: '2d' } })
  t.after(() => log.close())
  await waitFor(() => !fs.existsSync(path.join(dir, old)), { what: 'the old file to be deleted' })
  assert.ok(fs.existsSync(path.join(dir, young)))
  for (const name of others) assert.ok(fs.existsSync(path.join(dir, name)), `${name} untouched`)
})

test('interval: a file born in an earlier period is rotated before the next write', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 's', rotate: { interval: 1000, compress: false } })
  t.after(() => log.close())
  let id = 0
  const start = Date.now()
  const until = start + 2600
  while (Date.now() < until) {
    log.info({ id, user: {} }, `line ${id}`)
    id++
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.equal(await log.flush(), true)
  const end = Date.now()
  const names = rotatedNames(dir)
  // A rotation happens at the first write after a period boundary: at least one (the
  // writes span more than two periods), and at most one per boundary between the first
  // line and the end of the flush. Counted over that time rather than over the lines' own
  // times: on a loaded machine the writer may write a line in a later period than it was
  // logged in.
  const boundaries = Math.floor(end / 1000) - Math.floor(start / 1000)
  assert.ok(names.length >= 1 && names.length <= boundaries, `${names.length} rotations, ${boundaries} period boundaries while logging`)
  // Each rotated file's lines were logged within one second-long period (give or take the
  // time between logging a line and its batch being written, longer on a loaded machine).
  for (const name of names) {
    const times = readJsonLines(path.join(dir, name)).map((l) => l.time)
    assert.ok(times.at(-1) - times[0] < 1000 + 500, `${name} spans ${times.at(-1) - times[0]} ms`)
  }
  assertIdsOnce(readLogSet(file), id)
})

// The descriptors this process has open on `file`.
function descriptorsOn (file) {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file
    } catch {
      return false
    }
  })
}

test('reopen(): the next write goes through a freshly opened descriptor; nothing is lost', { skip: !fs.existsSync('/proc/self/fd') && 'needs /proc' }, async (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 's' })
  t.after(() => log.close())
  log.info({ id: 0 }, 'line 0')
  assert.equal(log.flushSync(), true)
  const before = descriptorsOn(file)
  assert.equal(before.length, 1)
  log.info({ id: 1 }, 'line 1')
  assert.equal(log.flushSync(), true)
  assert.deepEqual(descriptorsOn(file), before, 'not reopened unasked')
  log.info({ id: 2 }, 'line 2')
  log.reopen()
  log.info({ id: 3 }, 'line 3')
  assert.equal(log.flushSync(), true)
  const after = descriptorsOn(file)
  assert.equal(after.length, 1, 'the old descriptor is closed')
  assert.notDeepEqual(after, before, 'a new descriptor')
  assertIdsOnce(readJsonLines(file), 4)
})

test("reopenOnSignal: 'SIGHUP' keeps the process alive on SIGHUP and reopens; the listener goes with the last logger", async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const code = `
    const fs = require('node:fs')
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)}, reopenOnSignal: 'SIGHUP' })
    const other = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file + '.2')}, reopenOnSignal: 'SIGHUP' })
    log.info({ id: 0 }, 'line 0')
    log.flushSync()
    fs.renameSync(${JSON.stringify(file)}, ${JSON.stringify(file + '.old')})
    process.kill(process.pid, 'SIGHUP')
    setTimeout(() => {
      log.info({ id: 1 }, 'line 1')
      log.close()
      const during = process.listenerCount('SIGHUP')
      other.close()
      console.log(JSON.stringify({ during, after: process.listenerCount('SIGHUP') }))
    }, 100)`
  const out = await runNode(code)
  assert.equal(out.code, 0, `exit ${out.code} ${out.signal}: ${out.stderr}`)
  assert.deepEqual(JSON.parse(out.stdout), { during: 1, after: 0 })
  assert.deepEqual(readJsonLines(file + '.old').map((l) => l.id), [0])
  assert.deepEqual(readJsonLines(file).map((l) => l.id), [1])
  // Without the option, SIGHUP ends the process as usual.
  const plain = await runNode(`require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)} }); process.kill(process.pid, 'SIGHUP'); setTimeout(() => {}, 2000)`)
  assert.equal(plain.signal, 'SIGHUP')
})

test('a rotating logger as the only thing left does not keep the process alive, and exits with every line written', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)}, rotate: { size: '4KiB', keep: 1000 }, reopenOnSignal: 'SIGHUP' })
    let i = 0
    const turn = () => { for (const end = i + 50; i < end; i++) log.info({ id: i }, 'line ' + i); if (i < 2000) setImmediate(turn) }
    turn()`
  const out = await runNode(code, { timeoutMs: 20_000 })
  assert.equal(out.code, 0, out.stderr)
  assert.ok(logFiles(file).length > 10)
  assertIdsOnce(readLogSet(file), 2000)
})

'use strict'
// Exactness: after a flush, every line logged before it is on disk, once, intact. At a
// normal exit every buffered line is written. A full queue blocks (loses nothing) or
// drops and counts, as configured.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const crypto = require('node:crypto')
const path = require('node:path')
const { spawn, execFileSync } = require('node:child_process')
const prodkit = require('..')
const { ROOT, tempDir, readJsonLines, parseJsonLines, runNode } = require('./helpers')

const LINES = 200_000

// Every id from 0 to count-1 exactly once, and nothing else.
function assertEachIdOnce (lines, count, key = 'id') {
  assert.equal(lines.length, count, 'line count')
  const seen = new Uint8Array(count)
  for (const line of lines) {
    const id = line[key]
    assert.ok(Number.isInteger(id) && id >= 0 && id < count, `unexpected id ${id}`)
    assert.equal(seen[id], 0, `id ${id} twice`)
    seen[id] = 1
  }
}

function logMany (log, from, to) {
  for (let i = from; i < to; i++) log.info({ id: i, user: { email: `user${i}@example.com` } }, 'line %d', i)
}

test(`flush(): ${LINES} lines with unique ids are all on disk once when it resolves`, async (t) => {
  const file = path.join(tempDir(t), 'flush.log')
  const log = prodkit.createLogger({ destination: file, service: 's' })
  t.after(() => log.close())
  logMany(log, 0, LINES / 2)
  await new Promise((resolve) => setImmediate(resolve)) // part of it shipped by the event loop
  logMany(log, LINES / 2, LINES)
  assert.equal(await log.flush(), true)
  assertEachIdOnce(readJsonLines(file), LINES)
  // A second flush with nothing new is immediate and changes nothing.
  assert.equal(await log.flush(), true)
  assert.equal(readJsonLines(file).length, LINES)
})

test(`flushSync(): ${LINES} lines with unique ids are all on disk once when it returns`, (t) => {
  const file = path.join(tempDir(t), 'flushsync.log')
  const log = prodkit.createLogger({ destination: file, service: 's' })
  t.after(() => log.close())
  logMany(log, 0, LINES)
  assert.equal(log.flushSync(), true)
  assertEachIdOnce(readJsonLines(file), LINES)
  assert.equal(log.stats().droppedLines, 0)
})

test('flush is exact at every point: lines logged after it started are not waited for, before it are all there', async (t) => {
  const file = path.join(tempDir(t), 'points.log')
  const log = prodkit.createLogger({ destination: file, service: 's' })
  t.after(() => log.close())
  for (let round = 1; round <= 20; round++) {
    logMany(log, (round - 1) * 1000, round * 1000)
    assert.equal(log.flushSync(), true)
    const lines = readJsonLines(file)
    assertEachIdOnce(lines, round * 1000)
  }
})

test('at a normal exit, and at process.exit(), every buffered line is written', async (t) => {
  const dir = tempDir(t)
  for (const ending of ['', 'process.exit(0)', 'process.exitCode = 3']) {
    const file = path.join(dir, `exit-${ending.length}.log`)
    const out = await runNode(`
      const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)} })
      for (let i = 0; i < 50000; i++) log.info({ id: i }, 'before exit')
      ${ending}`)
    assert.equal(out.code, ending.includes('3') ? 3 : 0, out.stderr)
    assertEachIdOnce(readJsonLines(file), 50000)
  }
})

test('lines from 40,000 child loggers across levels each carry their own level, time and bindings', (t) => {
  // More line heads than the batch format has slots (16384): slots are reused in turn.
  const file = path.join(tempDir(t), 'children.log')
  const log = prodkit.createLogger({ destination: file, service: 's', level: 'trace' })
  t.after(() => log.close())
  const names = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']
  const before = Date.now()
  for (let i = 0; i < 40000; i++) log.child({ child: i })[names[i % 6]]({ id: i }, 'from child')
  log.flushSync()
  const lines = readJsonLines(file)
  assertEachIdOnce(lines, 40000)
  for (const line of lines) {
    assert.equal(line.child, line.id)
    assert.equal(line.level, prodkit.levels[names[line.id % 6]])
    assert.ok(line.time >= before && line.time <= Date.now())
    assert.equal(line.pid, process.pid)
  }
})

test('close() writes what is queued; lines logged after close are counted as dropped, never thrown', (t) => {
  const file = path.join(tempDir(t), 'close.log')
  const log = prodkit.createLogger({ destination: file, service: 's' })
  logMany(log, 0, 10000)
  log.close()
  assert.doesNotThrow(() => log.info('after close'))
  log.close()
  assertEachIdOnce(readJsonLines(file), 10000)
  assert.equal(log.stats().droppedLines, 1)
})

// A FIFO whose reader arrives late: the writer thread cannot write until the test opens it.
function makeFifo (t) {
  const fifo = path.join(tempDir(t), 'slow.fifo')
  execFileSync('mkfifo', [fifo])
  return fifo
}

function runWithLateReader (t, fifo, overflow, count) {
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(fifo)}, overflow: '${overflow}', queueBytes: 65536 })
    for (let i = 0; i < ${count}; i++) log.info({ id: i, pad: 'x'.repeat(100) }, 'line')
    process.stderr.write('logged\\n')
    // Registered after the logger's own exit hook, which hands over the last batch.
    process.on('exit', () => process.stderr.write('dropped ' + log.stats().droppedLines + '\\n'))`
  const child = spawn(process.execPath, ['-e', code], { cwd: ROOT })
  t.after(() => child.kill('SIGKILL'))
  let stderr = ''
  const logged = new Promise((resolve) => {
    child.stderr.on('data', (d) => {
      stderr += d
      if (stderr.includes('\n')) resolve()
    })
  })
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, logged, exited, stderr: () => stderr }
}

test("overflow 'drop': a full queue drops lines, counts them, and logs the count once the writer can", async (t) => {
  const fifo = makeFifo(t)
  const count = 20000
  const run = runWithLateReader(t, fifo, 'drop', count)
  // For 'drop' the app is never blocked: it finishes logging before anyone reads.
  await run.logged
  const text = fs.readFileSync(fifo, 'utf8') // opens the reader, reads to EOF (the child exits)
  assert.equal(await run.exited, 0, run.stderr())
  const lines = parseJsonLines(text)
  for (const l of lines) assert.ok(l.level && l.time && l.pid && l.hostname, `a whole line: ${JSON.stringify(l)}`)
  const kept = lines.filter((l) => l.msg === 'line')
  const notices = lines.filter((l) => l.droppedLines !== undefined)
  const dropped = notices.reduce((sum, l) => sum + l.droppedLines, 0)
  assert.ok(dropped > 0, 'some lines were dropped')
  assert.equal(kept.length + dropped, count, 'every line is either written or counted')
  assert.equal(new Set(kept.map((l) => l.id)).size, kept.length, 'no line twice')
  assert.equal(notices[0].level, 40)
  assert.match(notices[0].msg, /dropped \d+ log lines because the log queue was full/)
  assert.equal(Number(run.stderr().match(/dropped (\d+)/)[1]), dropped, 'stats().droppedLines agrees')
})

test("overflow 'block' (default): a full queue waits for the writer and loses nothing", async (t) => {
  const fifo = makeFifo(t)
  const count = 20000
  const run = runWithLateReader(t, fifo, 'block', count)
  const text = await new Promise((resolve, reject) => {
    fs.readFile(fifo, 'utf8', (err, data) => (err ? reject(err) : resolve(data)))
  })
  assert.equal(await run.exited, 0, run.stderr())
  assert.match(run.stderr(), /dropped 0\n/)
  const lines = parseJsonLines(text)
  assertEachIdOnce(lines, count)
})

test('flush(cb), pino\'s signature: cb(null) once the lines are on disk; flush(() => process.exit(1)) exits', async (t) => {
  const file = path.join(tempDir(t), 'cb.log')
  const log = prodkit.createLogger({ destination: file })
  t.after(() => log.close())
  logMany(log, 0, 20000)
  const err = await new Promise((resolve) => assert.equal(log.flush(resolve), undefined))
  assert.equal(err, null)
  assertEachIdOnce(readJsonLines(file), 20000)
  assert.throws(() => log.flush(42), TypeError)

  const exitFile = path.join(tempDir(t), 'exit.log')
  const out = await runNode(`
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(exitFile)} })
    for (let i = 0; i < 1000; i++) log.info({ id: i }, 'before exit')
    log.flush(() => process.exit(1))`)
  assert.equal(out.code, 1, out.stderr)
  assertEachIdOnce(readJsonLines(exitFile), 1000)
})

test('flush(cb) on a failing destination calls cb with an error; the promise form resolves false', async (t) => {
  const dir = tempDir(t)
  fs.writeFileSync(path.join(dir, 'file'), '')
  const log = prodkit.createLogger({ destination: path.join(dir, 'file', 'app.log') })
  log.on('error', () => {})
  log.info('never written')
  const err = await new Promise((resolve) => log.flush(resolve))
  assert.equal(err.code, 'PRODKIT_FLUSH_FAILED')
  assert.equal(await log.flush(), false)
  log.close()
})

test('pending flushes to a stalled destination occupy no libuv pool thread: fs and crypto run before they resolve', async (t) => {
  // A FIFO nobody reads yet: the writer cannot write. Four pending flushes are the pool's
  // default size: had each waited on a pool thread, pbkdf2 and readFile would run only
  // after the destination moved and the flushes resolved.
  const fifo = makeFifo(t)
  const log = prodkit.createLogger({ destination: fifo })
  const order = []
  logMany(log, 0, 1000)
  const flushes = [1, 2, 3, 4].map((n) => log.flush().then((ok) => order.push(`flush ${n} ${ok}`)))
  const poolWork = Promise.all([
    new Promise((resolve, reject) => crypto.pbkdf2('secret', 'salt', 1000, 32, 'sha256', (err) => {
      if (err) reject(err)
      else resolve(order.push('pbkdf2'))
    })),
    fs.promises.readFile(__filename).then(() => order.push('readFile'))
  ])
  // Without the fix the pool work never finishes on its own: let the destination move
  // after a generous while anyway, so the test ends (and fails on the order).
  let timer
  await Promise.race([poolWork, new Promise((resolve) => { timer = setTimeout(resolve, 30_000) })])
  clearTimeout(timer)
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] })
  let text = ''
  reader.stdout.setEncoding('utf8').on('data', (d) => { text += d })
  const readerDone = new Promise((resolve) => reader.on('close', resolve))
  await Promise.all([...flushes, poolWork])
  log.close()
  await readerDone
  assert.deepEqual(order.slice(0, 2).sort(), ['pbkdf2', 'readFile'], `order: ${order.join(', ')}`)
  assert.deepEqual(order.slice(2).sort(), ['flush 1 true', 'flush 2 true', 'flush 3 true', 'flush 4 true'])
  assertEachIdOnce(parseJsonLines(text), 1000)
})

test('a pending flush keeps the process alive until the lines are written, like a pending fs write', async (t) => {
  const fifo = makeFifo(t)
  const child = spawn(process.execPath, ['-e', `
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(fifo)} })
    log.info({ id: 0 }, 'held')
    log.flush().then((ok) => process.stderr.write('flushed ' + ok + '\\n'))`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  t.after(() => child.kill('SIGKILL'))
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const text = await new Promise((resolve, reject) => {
    fs.readFile(fifo, 'utf8', (err, data) => (err ? reject(err) : resolve(data)))
  })
  assert.equal(await exited, 0, stderr)
  assert.equal(stderr, 'flushed true\n')
  assertEachIdOnce(parseJsonLines(text), 1)
})

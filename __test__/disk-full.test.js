'use strict'
// A full disk (a small tmpfs), a file size limit (EFBIG) and a torn file never tear a line:
// on every file destination (a path, with and without rotation, or an fd the app opened),
// for every process, each batch is written whole or not at all, and the counts are exact:
// every line logged is in the file once, or counted in lostLines / droppedLines, never both.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, runNode, readJsonLines, readLogSet, parseJsonLines, tmpfs } = require('./helpers')

// A child that logs `lines` lines ({ w, i }, 'line') of about `pad` bytes more, 200 a turn
// of the event loop, then closes the logger and prints its stats. DEST is the logger's
// destination expression.
function logAndClose ({ dest, lines, pad = 150, w = 0, rotate = null, queueBytes = 64 << 20 }) {
  return `
    const fs = require('node:fs')
    const log = require('@oj/prodkit').createLogger({
      destination: ${dest}, service: 'full', queueBytes: ${queueBytes}${rotate ? `, rotate: ${JSON.stringify(rotate)}` : ''}
    })
    log.on('error', () => {})
    const pad = 'x'.repeat(${pad})
    let i = 0
    function turn () {
      for (let k = 0; k < 200 && i < ${lines}; k++, i++) log.info({ w: ${w}, i, pad }, 'line')
      if (i < ${lines}) return setImmediate(turn)
      log.close()
      console.log(JSON.stringify(log.stats()))
    }
    turn()`
}

// The ids of writer w's lines in `lines`; fails on a repeated id.
function idsOf (lines, w) {
  const ids = new Set()
  for (const line of lines) {
    if (line.msg !== 'line' || line.w !== w) continue
    assert.ok(!ids.has(line.i), `line ${w}-${line.i} is in the log twice`)
    ids.add(line.i)
  }
  return ids
}

for (const kind of ['path', 'fd']) {
  test(`disk full, no rotation, destination by ${kind}: whole lines only, and lines in the file + lostLines = lines logged`, { timeout: 120_000 }, async (t) => {
    const { mnt, skip } = tmpfs(t, '1m')
    if (skip) return t.skip(skip)
    const file = path.join(mnt, 'app.log')
    const lines = 20_000 // about 4 MB: the disk fills after a quarter
    const dest = kind === 'path' ? JSON.stringify(file) : `fs.openSync(${JSON.stringify(file)}, 'a')`
    const out = await runNode(logAndClose({ dest, lines }), { timeoutMs: 100_000 })
    assert.equal(out.code, 0, out.stderr)
    const stats = JSON.parse(out.stdout)
    const logged = readJsonLines(file) // fails on a torn line
    const ids = idsOf(logged, 0)
    assert.ok(stats.lostLines > 0, 'the disk filled up')
    assert.equal(stats.droppedLines, 0)
    assert.equal(ids.size + stats.lostLines, lines, `${ids.size} in the file, ${stats.lostLines} lost`)
    assert.equal(stats.writtenBytes, fs.statSync(file).size, 'writtenBytes are the bytes in the file')
    assert.match(out.stderr, new RegExp(`prodkit: ${stats.lostLines} log lines not written to .*\\(ENOSPC\\)`))
    assert.equal(out.stderr.match(/cannot write the log/g).length, 1, out.stderr)
  })
}

for (const rotate of [null, { size: '256KiB', compress: false }]) {
  test(`disk full, two processes on one file${rotate ? ' with rotation' : ''}: no line torn or glued, exact counts for each process`, { timeout: 180_000 }, async (t) => {
    const { mnt, skip } = tmpfs(t, '2m')
    if (skip) return t.skip(skip)
    const file = path.join(mnt, 'logs', 'app.log')
    const lines = 10_000
    const outs = await Promise.all([0, 1].map((w) =>
      runNode(logAndClose({ dest: JSON.stringify(file), lines, w, rotate }), { timeoutMs: 150_000 })))
    const logged = readLogSet(file) // fails on a torn line, naming the file
    for (const [w, out] of outs.entries()) {
      assert.equal(out.code, 0, out.stderr)
      const stats = JSON.parse(out.stdout)
      assert.equal(stats.droppedLines, 0)
      const ids = idsOf(logged, w)
      assert.equal(ids.size + stats.lostLines, lines, `writer ${w}: ${ids.size} in the files, ${stats.lostLines} lost`)
    }
  })
}

test('a process that exits on a full disk leaves no half line; a line torn by someone else is never glued to', { timeout: 120_000 }, async (t) => {
  const { mnt, skip } = tmpfs(t, '1m')
  if (skip) return t.skip(skip)
  const file = path.join(mnt, 'app.log')
  const first = await runNode(logAndClose({ dest: JSON.stringify(file), lines: 10_000 }), { timeoutMs: 100_000 })
  assert.equal(first.code, 0, first.stderr)
  assert.equal(fs.readFileSync(file).at(-1), 0x0a, 'the file ends with a whole line')
  // Free space, as an operator would, and tear the last line as a crash mid-write would.
  fs.truncateSync(file, 100_000)
  const text = fs.readFileSync(file, 'utf8')
  assert.notEqual(text.at(-1), '\n')
  const whole = text.lastIndexOf('\n') + 1
  const next = await runNode(logAndClose({ dest: JSON.stringify(file), lines: 10, w: 1 }))
  assert.equal(next.code, 0, next.stderr)
  const after = fs.readFileSync(file, 'utf8')
  assert.equal(after.slice(0, text.length), text, 'what was there is kept')
  assert.equal(after[text.length], '\n', 'the torn line is ended first')
  const lines = parseJsonLines(after.slice(text.length + 1))
  assert.deepEqual(lines.map((l) => l.i), [...Array(10).keys()])
  assert.ok(parseJsonLines(after.slice(0, whole)).length > 0)
})

test('a file size limit (EFBIG, a write cut short mid-batch): the partial batch is cut back, counts exact', { timeout: 120_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-fsize-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'app.log')
  const lines = 5000
  const code = logAndClose({ dest: JSON.stringify(file), lines })
  // ulimit -f: writes past the limit stop short, then fail with EFBIG (SIGXFSZ ignored).
  const out = spawnSync('sh', ['-c', 'trap "" XFSZ; ulimit -f 400 && exec "$NODE" -e "$CODE"'], {
    cwd: ROOT, env: { ...process.env, NODE: process.execPath, CODE: code }, encoding: 'utf8', timeout: 100_000
  })
  assert.equal(out.status, 0, out.stderr)
  const stats = JSON.parse(out.stdout)
  const ids = idsOf(readJsonLines(file), 0)
  assert.ok(stats.lostLines > 0, 'the limit was reached')
  assert.equal(ids.size + stats.lostLines, lines)
  assert.match(out.stderr, /\(EFBIG\)/)
})

test('a failing destination backs off: pushes do not trigger attempts', { timeout: 60_000 }, async (t) => {
  const { mnt, skip } = tmpfs(t, '64k')
  if (skip) return t.skip(skip)
  const file = path.join(mnt, 'app.log')
  fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(60 * 1024))
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)}, queueBytes: 1 << 20, overflow: 'drop' })
    log.on('error', () => {})
    const started = Date.now()
    const timer = setInterval(() => {
      for (let i = 0; i < 20; i++) log.info({ i, pad: 'x'.repeat(200) }, 'line')
      if (Date.now() - started > 2000) {
        clearInterval(timer)
        console.log(JSON.stringify(log.stats()))
        process.exit(0)
      }
    }, 1)`
  const out = await runNode(code)
  assert.equal(out.code, 0, out.stderr)
  const stats = JSON.parse(out.stdout)
  assert.ok(stats.writeErrors >= 1 && stats.writeErrors < 50, `${stats.writeErrors} attempts in 2 s`)
})

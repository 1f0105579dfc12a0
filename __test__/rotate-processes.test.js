'use strict'
// Several processes append to one rotating file: exactly one rotates at a time, every
// writer moves to the new file before its next write, and the union of every file,
// plain and .gz, holds each line exactly once, intact.

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
const { tempDir, runNode, logFiles, readLogSet, waitFor } = require('./helpers')

const PROCESSES = 4
const LINES = 100_000
const SIZE = '512KiB'
const ROTATED = /^app\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.log(\.gz)?$/

// One writer process: waits for the common start time so that all of them write at
// once, logs LINES lines with ids "<worker>-<i>", then exits normally (at exit, prodkit
// writes what is queued; a compression still running finishes its step or is abandoned,
// leaving only the plain file, which the next start compresses).
function worker (file, w, startAt) {
  return `
    const log = require('@oj/prodkit').createLogger({
      destination: ${JSON.stringify(file)}, service: 'mp', rotate: { size: '${SIZE}' }
    })
    while (Date.now() < ${startAt}) {}
    for (let i = 0; i < ${LINES}; i++) {
      log.info({ w: ${w}, i, user: { id: i, email: 'user' + i + '@example.com' } }, 'order placed')
    }
    log.flush().then((ok) => console.log(JSON.stringify({ ok, stats: log.stats() })))`
}

// Checks the union of the log's files: each worker's ids 0..LINES-1 once each, and in
// order across the files taken oldest first (a batch never goes to an older file than
// the one before it).
function assertEveryLineOnce (file) {
  const next = new Array(PROCESSES).fill(0)
  for (const line of readLogSet(file)) {
    assert.equal(line.msg, 'order placed', JSON.stringify(line))
    assert.equal(line.i, next[line.w], `worker ${line.w}: line ${next[line.w]} expected, ${line.i} found`)
    next[line.w]++
  }
  assert.deepEqual(next, new Array(PROCESSES).fill(LINES), 'every line of every worker')
}

test(`${PROCESSES} processes x ${LINES} lines into one file rotated at ${SIZE}: each line exactly once, valid JSON, in order`, { timeout: 240_000 }, async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const startAt = Date.now() + 1500
  const results = await Promise.all(Array.from({ length: PROCESSES }, (_, w) => runNode(worker(file, w, startAt), { timeoutMs: 180_000 })))
  let rotations = 0
  for (const [w, out] of results.entries()) {
    assert.equal(out.code, 0, `worker ${w}: ${out.stderr}`)
    assert.equal(out.stderr, '', `worker ${w} reported nothing`)
    const { ok, stats } = JSON.parse(out.stdout)
    assert.equal(ok, true)
    assert.equal(stats.droppedLines, 0)
    assert.equal(stats.rotation.errors, 0)
    rotations += stats.rotation.rotations
    assert.ok(stats.rotation.rotations > 0, `worker ${w} rotated too`)
  }
  // At exit each compression finished its step or left only the plain file: no rotation
  // is there both plain and compressed (a reader would read its lines twice), and no
  // partial .gz is left.
  const names = fs.readdirSync(dir)
  assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), [], 'no partial .gz left at exit')
  const both = names.filter((n) => ROTATED.test(n) && !n.endsWith('.gz') && names.includes(n + '.gz'))
  assert.deepEqual(both, [], 'no rotated file left both plain and compressed')
  const files = logFiles(file)
  // Each rotation by any worker made exactly one rotated file (no double rotation).
  assert.equal(files.length - 1, rotations)
  assert.ok(rotations >= 36, `${rotations} rotations (dozens wanted)`)
  t.diagnostic(`${rotations} rotations, ${files.length} files`)
  for (const name of files.slice(0, -1)) {
    let bytes = fs.readFileSync(name)
    if (name.endsWith('.gz')) bytes = zlib.gunzipSync(bytes)
    assert.ok(bytes.length <= 512 * 1024, `${path.basename(name)}: ${bytes.length} bytes, over the size`)
  }
  assertEveryLineOnce(file)

  // Workers exited with compressions pending or cut short: a new logger on the path
  // finishes them. Then every rotated file is a complete .gz, and the union is unchanged.
  const log = prodkit.createLogger({ destination: file, service: 'mp', rotate: { size: SIZE } })
  t.after(() => log.close())
  await waitFor(() => fs.readdirSync(dir).filter((n) => ROTATED.test(n)).every((n) => n.endsWith('.gz')), {
    timeoutMs: 60_000,
    what: 'every rotated file to be compressed'
  })
  assert.ok(!fs.readdirSync(dir).some((n) => n.endsWith('.tmp')), 'no partial .gz left')
  assert.equal(logFiles(file).length - 1, rotations)
  for (const name of logFiles(file).slice(0, -1)) {
    assert.ok(fs.statSync(name).size < 512 * 1024 / 4, `${path.basename(name)} is compressed`)
  }
  assertEveryLineOnce(file)
})

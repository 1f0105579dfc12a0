'use strict'
// Issue 12, crash paths: lines logged before the process dies without another event-loop
// turn are written (they wait in memory the native side owns: src/log/pending.rs,
// src/log/emergency.rs). Each case logs 50,000 lines, then ends the process its way.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, tempDir, readJsonLines } = require('./helpers')

const APP = path.join(__dirname, 'fixtures', 'crash-app.js')
const LINES = 50_000

function run (t, mode, args = []) {
  const file = path.join(tempDir(t), `${mode}.log`)
  const result = spawnSync(process.execPath, [...args, APP, file, mode, String(LINES)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20
  })
  return { ...result, lines: readJsonLines(file) }
}

// Every id from 0 to LINES - 1 exactly once, in order, among the lines that have one.
function assertAllLogged (lines, count = LINES) {
  const ids = lines.filter((l) => typeof l.id === 'number' && l.id < LINES).map((l) => l.id)
  assert.equal(ids.length, count, `lines with ids: ${ids.length}, lost: ${count - ids.length}`)
  for (let i = 0; i < ids.length; i++) if (ids[i] !== i) assert.fail(`line ${i} is id ${ids[i]}`)
}

test('V8 out of memory: no line lost, and a fatal line with the heap figures', (t) => {
  const { signal, lines, stderr } = run(t, 'oom', ['--max-old-space-size=64'])
  assert.equal(signal, 'SIGABRT', stderr.slice(-500))
  assertAllLogged(lines)
  const fatal = lines.at(-1)
  assert.equal(fatal.level, 60)
  assert.equal(fatal.signal, 'SIGABRT')
  assert.ok(fatal.heapLimitBytes > 0 && fatal.heapUsedBytes > 0, JSON.stringify(fatal))
})

// Where the aborting thread's stack can be read (glibc, macOS), the fatal line says for
// sure that it was out of memory: Node's out-of-memory handler is on it. On musl it cannot
// be read, and the line infers it from heap figures that may be old: not asserted there.
const STACK_READABLE = process.platform === 'darwin' ||
  (process.platform === 'linux' && Boolean(process.report.getReport().header.glibcVersionRuntime))
test('V8 out of memory: the fatal line says it was out of memory', { skip: !STACK_READABLE && 'the stack is not readable on this libc' }, (t) => {
  const { lines } = run(t, 'oom', ['--max-old-space-size=64'])
  const fatal = lines.at(-1)
  assert.equal(fatal.outOfMemory, true, JSON.stringify(fatal))
  assert.equal(fatal.outOfMemoryLikely, true)
  assert.match(fatal.msg, /JavaScript heap out of memory/)
})

test('fatal(); process.abort(): the fatal line and every line before it are written', (t) => {
  const { signal, lines } = run(t, 'abort')
  assert.equal(signal, 'SIGABRT')
  assertAllLogged(lines)
  const own = lines.find((l) => l.msg === 'about to abort')
  assert.equal(own.level, 60)
  assert.equal(lines.at(-1).signal, 'SIGABRT', 'prodkit says the process is aborting')
  if (STACK_READABLE) {
    assert.equal(lines.at(-1).outOfMemoryLikely, false, 'not taken for out of memory')
    assert.equal(lines.at(-1).msg, 'process aborting (SIGABRT)')
  }
})

test('fatal() returns once its line, and every line before it, is in the file', (t) => {
  const { stdout, lines } = run(t, 'fatal-returns')
  assert.equal(Number(stdout.trim()), LINES + 1, 'lines in the file when fatal() returned')
  assertAllLogged(lines)
})

test('the watchdog\'s abort: the lines that explain the block are written before its fatal line', (t) => {
  const { signal, lines } = run(t, 'watchdog')
  assert.equal(signal, 'SIGABRT')
  assertAllLogged(lines)
  const fatal = lines.findIndex((l) => l.level === 60 && /aborting the process/.test(l.msg))
  assert.ok(fatal > lines.findIndex((l) => l.id === LINES - 1), 'the watchdog\'s fatal line comes after the lines')
  assert.equal(lines.filter((l) => l.signal === 'SIGABRT').length, 0, 'no second fatal line')
})

test('worker.terminate(): every line the worker logged is written', (t) => {
  const { status, stdout, lines, stderr } = run(t, 'terminate')
  assert.equal(status, 0, stderr)
  assert.equal(stdout, 'terminated\n')
  assertAllLogged(lines)
})

for (const mode of ['exit-listener', 'natural-end']) {
  test(`a line logged in the app's own 'exit' listener is written (${mode === 'exit-listener' ? 'process.exit()' : 'end of the event loop'})`, (t) => {
    const { status, lines, stderr } = run(t, mode)
    assert.equal(status, 0, stderr)
    assertAllLogged(lines)
    assert.equal(lines.at(-1).msg, 'in the app\'s exit listener')
  })
}

// Nothing runs on SIGKILL: the lines not yet written are lost (docs/crash-safety.md has
// the figures). What was written is whole: a prefix of the lines, each once, in order.
test('SIGKILL: the file holds whole lines, a prefix of those logged, each once', (t) => {
  const { signal, lines } = run(t, 'sigkill')
  assert.equal(signal, 'SIGKILL')
  const ids = lines.map((l) => l.id)
  for (let i = 0; i < ids.length; i++) if (ids[i] !== i) assert.fail(`line ${i} is id ${ids[i]}`)
  t.diagnostic(`lines lost: ${LINES - ids.length} of ${LINES}`)
})

'use strict'
// Shared by the shipping tests (ship.test.js against rsyslog, ship-clickhouse.test.js against
// ClickHouse): a temp folder whose processes are stopped before it is removed, a `prodkit ship`
// sidecar, and the delivery check of the fault tests (every line at least once, duplicates
// within one batch per interruption, nothing torn), whatever the store.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { ROOT, runNode, waitFor } = require('./helpers')

const CLI = path.join(ROOT, 'bin', 'prodkit')

// A temporary folder removed after everything started in it has stopped (t.after hooks run
// in the order they are added, so the stops are collected and run first, newest first).
function workspace (t, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`))
  const stops = []
  t.after(async () => {
    for (const stop of stops.reverse()) await stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { dir, onCleanup: (stop) => stops.push(stop) }
}

// A `prodkit ship` sidecar, its stderr collected; ended (SIGKILL) by the test's cleanup.
// `env` is added to the test's environment (credentials: PRODKIT_SHIP_USER, ...).
function sidecar (onCleanup, args, { env = {} } = {}) {
  const child = spawn(process.execPath, [CLI, 'ship', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  const state = { child, stderr: '', exit: null }
  child.stderr.setEncoding('utf8').on('data', (d) => { state.stderr += d })
  state.exited = new Promise((resolve) => child.on('exit', (code, signal) => { state.exit = { code, signal }; resolve(state.exit) }))
  onCleanup(async () => {
    if (state.exit === null) child.kill('SIGKILL')
    await state.exited
  })
  return state
}

// The fault tests' writers: `processes` Node processes each logging `lines` lines
// `{ w, i, pad: 'x'.repeat(i % 200) }` to one rotating `file`, 1,000 lines a turn of the
// event loop. Each writes the first half, then waits for the file `go` to exist (the test
// makes it once the store is down) before writing the rest, so that half is written while
// the store is away. Returns { done: Promise of every writer's result, checked: exit code 0
// and a flush that succeeded }; the test's cleanup waits for them.
function startWriters (onCleanup, { file, go, processes, lines, rotate }) {
  const writers = []
  for (let w = 0; w < processes; w++) {
    writers.push(runNode(`
      const fs = require('node:fs')
      const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)}, rotate: ${rotate} })
      let i = 0
      const turn = () => {
        const limit = fs.existsSync(${JSON.stringify(go)}) ? ${lines} : ${lines / 2}
        for (let n = 0; n < 1000 && i < limit; n++, i++) log.info({ w: ${w}, i, pad: 'x'.repeat(i % 200) }, 'shipped')
        if (i >= ${lines}) log.flush().then((ok) => console.log(JSON.stringify({ ok, stats: log.stats() })))
        else if (i < limit) setImmediate(turn)
        else setTimeout(turn, 20)
      }
      turn()`, { env: { PRODKIT_COMPRESS_PRIORITY: 'normal' }, timeoutMs: 600_000 }))
  }
  onCleanup(() => Promise.allSettled(writers))
  const done = Promise.all(writers).then((results) => {
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr)
      const { ok, stats } = JSON.parse(result.stdout)
      assert.equal(ok, true, `a writer's flush: ${result.stdout}`)
      assert.equal(stats.droppedLines + stats.lostLines, 0, `a writer dropped lines: ${result.stdout}`)
    }
    return results
  })
  done.catch(() => {}) // awaited by the test; not an unhandled rejection meanwhile
  return { done }
}

// The store's outage in the fault tests: once the shipper has reported the failure (the
// store is down as far as the shipper knows), the store stays down 10 s (the issue's
// outage) and until every writer has finished, so the store comes back to a backlog.
// `failed()` says whether the failure was reported. The 10 s is the outage's length, not a
// synchronisation: nothing asserted depends on it.
async function outage ({ failed, writers, what }) {
  await waitFor(failed, { timeoutMs: 120_000, what })
  await Promise.all([new Promise((resolve) => setTimeout(resolve, 10_000)), writers.done])
}

async function kill (state) {
  state.child.kill('SIGKILL')
  await state.exited
}

// The fault tests' writers each log lines `{ w, i, pad: 'x'.repeat(i % 200) }`. Given what the
// store holds as [line, count] pairs, asserts that every (w, i) arrived, that every stored line
// parses (nothing torn), and that the copies beyond the first are at most one batch per
// interruption: a batch holds at most `batchBytes` of whole lines, and the shortest line of
// these writers is ~110 bytes (100 is the bound used). Returns the figures for a diagnostic.
function assertDelivered (counts, { processes, lines, batchBytes, interruptions }) {
  const seen = new Map()
  let received = 0
  for (const [line, count] of counts) {
    let parsed
    try {
      parsed = JSON.parse(line)
    } catch (err) {
      assert.fail(`a stored line does not parse (torn?): ${err.message}: ${line.slice(0, 200)}`)
    }
    const { w, i } = parsed
    assert.ok(Number.isInteger(w) && Number.isInteger(i), `a stored line without its ids: ${line.slice(0, 200)}`)
    const id = `${w}-${i}`
    seen.set(id, (seen.get(id) || 0) + count)
    received += count
  }
  for (let w = 0; w < processes; w++) {
    for (let i = 0; i < lines; i++) assert.ok(seen.has(`${w}-${i}`), `line ${w}-${i} arrived`)
  }
  const total = processes * lines
  assert.equal(seen.size, total, 'no line that was not written')
  const duplicates = received - total
  const perBatch = Math.ceil(batchBytes / 100)
  assert.ok(duplicates <= interruptions * perBatch, `${duplicates} duplicates, bound ${interruptions * perBatch} (${interruptions} interruptions)`)
  return { received, total, duplicates }
}

module.exports = { CLI, workspace, sidecar, startWriters, outage, kill, assertDelivered }

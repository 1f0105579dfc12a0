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
const { ROOT } = require('./helpers')

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

module.exports = { CLI, workspace, sidecar, kill, assertDelivered }

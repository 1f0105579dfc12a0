'use strict'
// SIGTERM reaches a process whose JS thread is blocked in a log call: stdout is a pipe whose
// reader stalls (`node app.js | sleep 25`), the default `block` policy waits for the writer,
// and Node runs a signal's JS listener only when the event loop turns. The shutdown must
// still start and end within exceptions.shutdownTimeoutMs, counting on stderr the lines the
// stalled destination did not take; a second signal exits at once. (Before the fix these
// children never exit: the tests' own time limit turns that hang into a failure.)

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const { ROOT } = require('./helpers')

// One synchronous loop logs far more than the queue (8 MiB) and the pipe hold: it blocks
// in a log call. The parent never reads the child's stdout.
function stalledApp (t, { shutdownTimeoutMs, hook = '' }) {
  const child = spawn(process.execPath, ['-e', `
    const kit = require('@oj/prodkit').install({ exceptions: { shutdownTimeoutMs: ${shutdownTimeoutMs} }, watchdog: false, metrics: false })
    ${hook}
    process.stderr.write('logging\\n')
    for (let i = 0; i < 300000; i++) kit.log.info({ i, pad: 'x'.repeat(100) }, 'line')
    process.stderr.write('loop done\\n')
    setInterval(() => {}, 1000)`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => {
    child.kill('SIGKILL')
    child.stdout.destroy()
  })
  let stderr = ''
  const waiters = []
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d
    for (const w of waiters.splice(0)) if (!w(stderr)) waiters.push(w)
  })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })))
  const seen = (text) => new Promise((resolve) => {
    const check = (all) => all.includes(text) && (resolve(), true)
    if (!check(stderr)) waiters.push(check)
  })
  return { child, exited, seen, stderr: () => stderr }
}

test('SIGTERM while the JS thread is blocked on a stalled stdout: shutdown within the time limit, unwritten lines counted', { timeout: 120_000 }, async (t) => {
  const app = stalledApp(t, { shutdownTimeoutMs: 2000 })
  await app.seen('logging\n')
  const sent = Date.now()
  app.child.kill('SIGTERM')
  const { code, signal, at } = await app.exited
  t.diagnostic(`exited ${at - sent} ms after SIGTERM`)
  // Before the fix it never exits while the reader stalls (systemd ends it with SIGKILL).
  // The bound is the point: 2 s of shutdown plus a generous margin for a loaded machine.
  assert.ok(at - sent < 20_000, `exited ${at - sent} ms after SIGTERM`)
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, app.stderr())
  assert.match(app.stderr(), /loop done\n/)
  const counted = app.stderr().match(/prodkit: (\d+) log lines not written to stdout/)
  assert.ok(counted, `stderr counts the lines not written: ${app.stderr()}`)
  assert.ok(Number(counted[1]) > 0)
})

test('a second SIGTERM while the shutdown waits on a stalled stdout exits at once with 128+15', { timeout: 120_000 }, async (t) => {
  const app = stalledApp(t, {
    shutdownTimeoutMs: 600_000,
    hook: "kit.onShutdown(() => process.stderr.write('in hook\\n'))"
  })
  await app.seen('logging\n')
  app.child.kill('SIGTERM')
  // The hook ran: the shutdown now waits for the stalled destination (up to 10 minutes).
  await app.seen('in hook\n')
  const sent = Date.now()
  app.child.kill('SIGTERM')
  const { code, at } = await app.exited
  t.diagnostic(`exited ${at - sent} ms after the second SIGTERM`)
  assert.ok(at - sent < 30_000, `exited ${at - sent} ms after the second SIGTERM`)
  assert.equal(code, 128 + 15, app.stderr())
  assert.match(app.stderr(), /prodkit: \d+ log lines not written to stdout/)
})

test('an uncaught exception while stdout stalls: exit 1 within the shutdown limit, unwritten lines counted', { timeout: 120_000 }, async (t) => {
  // Fewer lines than the queue holds (the app is not blocked), more than the pipe takes.
  const child = spawn(process.execPath, ['-e', `
    const kit = require('@oj/prodkit').install({ exceptions: { shutdownTimeoutMs: 2000 }, watchdog: false, metrics: false })
    for (let i = 0; i < 10000; i++) kit.log.info({ i, pad: 'x'.repeat(100) }, 'line')
    setTimeout(() => { throw new Error('crash while stdout stalls') }, 50)`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => {
    child.kill('SIGKILL')
    child.stdout.destroy()
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const started = Date.now()
  const code = await new Promise((resolve) => child.on('exit', resolve))
  t.diagnostic(`exited ${Date.now() - started} ms after the start`)
  // Before, the crash's flush waited for as long as the reader stalled.
  assert.ok(Date.now() - started < 30_000)
  assert.equal(code, 1, stderr)
  assert.match(stderr, /prodkit: \d+ log lines not written to stdout/)
})

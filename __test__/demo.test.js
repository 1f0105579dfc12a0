'use strict'
// Runs examples/demo/server.js as a real process, talks to it over HTTP and checks the
// log lines it writes on stdout, then its clean shutdown on SIGTERM.

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const os = require('node:os')
const path = require('node:path')

const SERVER = path.join(__dirname, '..', 'examples', 'demo', 'server.js')
const TIMEOUT_MS = 10_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

// Rejects when `promise` has not settled within `ms`, saying what was awaited.
function within (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

// The demo as a child process: its stdout split into lines, waited on by predicate.
function startDemo () {
  const env = { ...process.env, PORT: '0', NODE_ENV: 'production' }
  delete env.LOG_LEVEL
  const child = spawn(process.execPath, [SERVER], { cwd: path.join(__dirname, '..'), env })
  const demo = { child, stdout: '', stderr: '', lines: [], waiters: new Set() }
  let partial = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    demo.stdout += chunk
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()
    for (const text of parts) {
      demo.lines.push(text)
      for (const waiter of demo.waiters) waiter.check(text)
    }
  })
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk) => { demo.stderr += chunk })
  demo.closed = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      for (const waiter of demo.waiters) waiter.fail(new Error(`the demo exited (${code ?? signal}) first; stderr: ${demo.stderr}`))
      resolve({ code, signal })
    })
  })
  // The first line, already written or to come, whose parsed JSON satisfies `predicate`.
  demo.waitForLine = (predicate, what) => {
    const matches = (text) => {
      try {
        return predicate(JSON.parse(text))
      } catch {
        return false
      }
    }
    const seen = demo.lines.find(matches)
    if (seen !== undefined) return Promise.resolve(JSON.parse(seen))
    if (child.exitCode !== null || child.signalCode !== null) {
      return Promise.reject(new Error(`the demo has exited; no line ${what}`))
    }
    let waiter
    const found = new Promise((resolve, reject) => {
      waiter = {
        check: (text) => { if (matches(text)) resolve(JSON.parse(text)) },
        fail: reject
      }
      demo.waiters.add(waiter)
    })
    return within(found, TIMEOUT_MS, `a line ${what}; stdout so far:\n${demo.stdout}`)
      .finally(() => demo.waiters.delete(waiter))
  }
  return demo
}

test('the demo logs its requests as JSON lines and shuts down cleanly', { timeout: 60_000 }, async (t) => {
  const demo = startDemo()
  t.after(() => {
    if (demo.child.exitCode === null && demo.child.signalCode === null) demo.child.kill('SIGKILL')
  })

  const listening = await demo.waitForLine((l) => l.msg === 'listening', "'listening'")
  assert.equal(listening.level, 30)
  assert.ok(Number.isInteger(listening.port) && listening.port > 0, `port: ${listening.port}`)
  const base = `http://127.0.0.1:${listening.port}`

  // Each request, then the line that says it was answered (found by its request id).
  async function request (urlPath, init) {
    const res = await within(fetch(base + urlPath, init), TIMEOUT_MS, `${urlPath} to answer`)
    const body = await res.json()
    const requestId = res.headers.get('x-request-id')
    return { res, body, requestId }
  }
  const completedLine = (requestId) =>
    demo.waitForLine((l) => l.res !== undefined && l.requestId === requestId, `for request ${requestId}`)

  const health = await request('/health')
  assert.equal(health.res.status, 200)
  assert.deepEqual(health.body, { ok: true })

  const order = await request('/orders/42')
  assert.equal(order.res.status, 200)
  assert.equal(order.body.id, 42)
  assert.match(order.requestId, UUID)
  const orderLine = await completedLine(order.requestId)

  const badId = await request('/orders/abc')
  assert.equal(badId.res.status, 404)
  assert.equal(typeof badId.body.error, 'string')
  assert.match(badId.requestId, UUID)
  assert.notEqual(badId.requestId, order.requestId)
  const badIdLine = await completedLine(badId.requestId)

  const placed = await request('/orders', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ amount: 12.5, email: 'ann@example.com' })
  })
  assert.equal(placed.res.status, 201)
  assert.equal(placed.body.amount, 12.5)
  const placedLine = await completedLine(placed.requestId)
  const orderPlaced = await demo.waitForLine((l) => l.msg === 'order placed', "'order placed'")

  const supplied = await request('/orders/7', { headers: { 'X-Request-Id': 'abc-123' } })
  assert.equal(supplied.res.status, 200)
  assert.equal(supplied.requestId, 'abc-123')
  const suppliedLine = await completedLine('abc-123')

  const malformed = await request('/orders/8', { headers: { 'X-Request-Id': 'not a good id!' } })
  assert.match(malformed.requestId, UUID, 'a malformed X-Request-Id is replaced')
  await completedLine(malformed.requestId)

  // The metrics route: Prometheus text with the app's own metrics and the process's.
  const metricsRes = await within(fetch(base + '/metrics'), TIMEOUT_MS, '/metrics to answer')
  assert.equal(metricsRes.status, 200)
  const metricsText = await metricsRes.text()
  assert.match(metricsText, /^demo_orders_placed_total\{method="card"\} 1$/m)
  assert.match(metricsText, /^demo_payment_seconds_count 1$/m)
  assert.match(metricsText, /^# TYPE nodejs_eventloop_delay_p99_seconds gauge$/m)

  // A bug: prodkit's error handler answers without the message (production) and logs it all.
  const broken = await request('/orders/0', { headers: { accept: 'application/json' } })
  assert.equal(broken.res.status, 500)
  assert.deepEqual(broken.body, { error: { status: 500, message: 'Internal Server Error', requestId: broken.requestId } })
  const brokenLine = await completedLine(broken.requestId)
  const errorLine = await demo.waitForLine((l) => l.msg === 'GET /orders/0 failed with 500', 'the error line')

  demo.child.kill('SIGTERM')
  const { code, signal } = await within(demo.closed, TIMEOUT_MS, 'the demo to exit after SIGTERM')
  assert.equal(signal, null, `stderr: ${demo.stderr}`)
  assert.equal(code, 0, `stderr: ${demo.stderr}`)
  assert.equal(demo.stderr, '')

  // Nothing but complete JSON lines on stdout, each with the standard fields.
  assert.ok(demo.stdout.endsWith('\n'), 'stdout ends with a complete line')
  const lines = demo.stdout.slice(0, -1).split('\n').map((text) => {
    try {
      return JSON.parse(text)
    } catch {
      assert.fail(`not a JSON line on stdout: ${text}`)
    }
  })
  for (const line of lines) {
    assert.ok([30, 40, 50, 60].includes(line.level), `level ${line.level} (NODE_ENV=production logs info and up)`)
    assert.ok(Number.isInteger(line.time) && Math.abs(line.time - Date.now()) < 5 * 60_000, `time ${line.time}`)
    assert.equal(line.pid, demo.child.pid)
    assert.equal(line.hostname, os.hostname())
    assert.equal(line.service, 'demo')
    assert.equal(typeof line.msg, 'string')
  }

  // The request lines (pino-http's shape): id, method, url, status, time; the 404 at warn.
  const requestLines = lines.filter((l) => l.res !== undefined)
  assert.equal(requestLines.length, 6, 'one line per request, none for /health')
  assert.ok(!lines.some((l) => JSON.stringify(l).includes('/health')), '/health is not logged')
  assert.ok(!lines.some((l) => (l.req && l.req.url === '/metrics') || l.url === '/metrics'), '/metrics is not logged')
  for (const line of requestLines) {
    assert.equal(typeof line.responseTime, 'number')
    assert.ok(line.responseTime >= 0)
    assert.equal(line.msg, line.res.statusCode >= 500 ? 'request errored' : 'request completed')
  }
  assert.deepEqual(pick(orderLine), { level: 30, method: 'GET', url: '/orders/42', status: 200 })
  assert.deepEqual(pick(badIdLine), { level: 40, method: 'GET', url: '/orders/abc', status: 404 })
  assert.deepEqual(pick(placedLine), { level: 30, method: 'POST', url: '/orders', status: 201 })
  assert.deepEqual(pick(suppliedLine), { level: 30, method: 'GET', url: '/orders/7', status: 200 })
  assert.deepEqual(pick(brokenLine), { level: 50, method: 'GET', url: '/orders/0', status: 500 })
  assert.equal(errorLine.level, 50)
  assert.equal(errorLine.requestId, broken.requestId)
  assert.equal(errorLine.err.message, 'order 0 broke the invoice renderer')
  assert.match(errorLine.err.stack, /server\.js:\d+/)

  // install() logged its startup line first.
  assert.equal(lines[0].msg, 'prodkit installed')
  assert.equal(lines[0].nodeEnv, 'production')

  // The order line carries the POST's request id and the order.
  assert.equal(orderPlaced.level, 30)
  assert.equal(orderPlaced.requestId, placed.requestId)
  assert.deepEqual(orderPlaced.order, { id: placed.body.id, amount: 12.5, email: 'ann@example.com' })

  // prodkit's shutdown line, logged on SIGTERM, was written before the exit.
  const last = lines[lines.length - 1]
  assert.equal(last.msg, 'SIGTERM received: shutting down')
  assert.equal(last.signal, 'SIGTERM')
})

function pick ({ level, req, res }) {
  return { level, method: req.method, url: req.url, status: res.statusCode }
}

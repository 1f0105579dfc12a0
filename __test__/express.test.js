'use strict'
// The Express helpers over real HTTP, with Express 4 and Express 5.

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const prodkit = require('..')
const { spawn } = require('node:child_process')
const { ROOT, tempDir, readJsonLines, parseJsonLines, waitFor } = require('./helpers')

const EXPRESS = { 'Express 4': require('express'), 'Express 5': require('express5') }
const PACKAGE = { 'Express 4': 'express', 'Express 5': 'express5' }

// An app with requestLogger and errorHandler around `routes`, listening on a free port.
async function startApp (t, express, routes, { errorOptions = {}, loggerOptions = {}, env = 'production' } = {}) {
  const file = path.join(tempDir(t), 'http.log')
  const log = prodkit.createLogger({ destination: file, service: 'web', level: 'debug' })
  const previous = process.env.NODE_ENV
  process.env.NODE_ENV = env
  t.after(() => { process.env.NODE_ENV = previous })
  const app = express()
  app.use(prodkit.express.requestLogger({ log, skip: ['/health'], ...loggerOptions }))
  routes(app)
  app.use(prodkit.express.errorHandler({ log, ...errorOptions }))
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${server.address().port}`
  const lines = () => {
    log.flushSync()
    try {
      return readJsonLines(file)
    } catch (err) {
      if (err.code === 'ENOENT') return [] // nothing written yet
      throw err
    }
  }
  return { base, server, lines }
}

// The URL of a request line (`req.url`) or of an errorHandler line (`url`).
function urlOf (l) {
  return l.req ? l.req.url : l.url
}

function httpError (status, message, extra = {}) {
  return Object.assign(new Error(message), { status }, extra)
}

for (const [name, express] of Object.entries(EXPRESS)) {
  test(`${name}: requestLogger keeps a well-formed X-Request-Id, makes one otherwise, and logs one line per response`, async (t) => {
    const app = await startApp(t, express, (a) => {
      a.get('/health', (req, res) => res.send('ok'))
      a.get('/orders/:id', (req, res) => { req.log.info({ orderId: req.params.id }, 'loading order'); res.json({ id: req.params.id }) })
      a.get('/missing', (req, res) => res.status(404).send('nope'))
      a.get('/stream', (req, res) => { res.write('abc'); res.end('de') })
    })
    const given = await fetch(`${app.base}/orders/7`, { headers: { 'X-Request-Id': 'req-123.abc' } })
    assert.equal(given.headers.get('x-request-id'), 'req-123.abc')
    const bad = await fetch(`${app.base}/orders/8`, { headers: { 'X-Request-Id': 'has spaces and <html>' } })
    const made = bad.headers.get('x-request-id')
    assert.match(made, /^[0-9a-f-]{36}$/)
    await (await fetch(`${app.base}/missing`)).text()
    await (await fetch(`${app.base}/stream`)).text()
    await (await fetch(`${app.base}/health`)).text()
    // A response's line is written at its 'finish', which may come after the client read it.
    const lines = await waitFor(() => {
      const lines = app.lines()
      return lines.filter((l) => l.msg === 'request completed').length >= 4 && lines
    }, { what: 'four request lines' })
    const completed = lines.filter((l) => l.msg === 'request completed')
    assert.deepEqual(completed.map((l) => [l.req.url, l.res.statusCode, l.level]),
      [['/orders/7', 200, 30], ['/orders/8', 200, 30], ['/missing', 404, 40], ['/stream', 200, 30]])
    assert.equal(completed[0].requestId, 'req-123.abc')
    assert.equal(completed[1].requestId, made)
    assert.equal(completed[3].bytes, 5)
    assert.equal(completed[0].bytes, Buffer.byteLength('{"id":"7"}'))
    for (const l of completed) {
      assert.equal(l.req.method, 'GET')
      assert.equal(typeof l.responseTime, 'number')
      assert.equal(l.req.remoteAddress, '127.0.0.1')
    }
    const loading = lines.find((l) => l.msg === 'loading order')
    assert.deepEqual([loading.requestId, loading.orderId], ['req-123.abc', '7'])
    assert.ok(!lines.some((l) => l.req && l.req.url === '/health'), 'skipped path is not logged')
  })

  test(`${name}: a response aborted by the client is logged as aborted`, async (t) => {
    let release
    const app = await startApp(t, express, (a) => {
      a.get('/slow', (req, res) => { res.write('partial'); release = () => res.end('rest') })
    })
    await new Promise((resolve, reject) => {
      const req = http.get(`${app.base}/slow`, (res) => {
        res.once('data', () => { req.destroy(); resolve() })
      })
      req.on('error', (err) => (err.code === 'ECONNRESET' ? resolve() : reject(err)))
    })
    const line = await waitFor(() => app.lines().find((l) => l.req && l.req.url === '/slow'), { what: 'the /slow line' })
    release()
    assert.equal(line.msg, 'request aborted')
    assert.equal(line.aborted, true)
    assert.equal(line.level, 40)
    // Taken when the request started: the socket no longer knows once the client is gone.
    assert.equal(line.req.remoteAddress, '127.0.0.1')
    assert.equal(typeof line.req.remotePort, 'number')
  })

  test(`${name}: errorHandler, production: 5xx hides message and stack; 4xx with expose shows its message`, async (t) => {
    const app = await startApp(t, express, (a) => {
      a.get('/boom', () => { throw new Error('database password is hunter2') })
      a.get('/teapot', () => { throw httpError(418, 'short and stout') })
      a.get('/hidden4xx', () => { throw httpError(403, 'internal rule 42', { expose: false }) })
      a.get('/weird', () => { throw httpError(302, 'not an error status') })
      a.get('/code', () => { throw Object.assign(new Error('by statusCode'), { statusCode: 503 }) })
    })
    const boom = await fetch(`${app.base}/boom`, { headers: { Accept: 'application/json', 'X-Request-Id': 'r1' } })
    assert.equal(boom.status, 500)
    assert.deepEqual(await boom.json(), { error: { status: 500, message: 'Internal Server Error', requestId: 'r1' } })
    assert.equal(boom.headers.get('cache-control'), 'no-store')
    const teapot = await fetch(`${app.base}/teapot`, { headers: { Accept: 'application/json' } })
    assert.equal(teapot.status, 418)
    assert.equal((await teapot.json()).error.message, 'short and stout')
    const hidden = await fetch(`${app.base}/hidden4xx`, { headers: { Accept: 'application/json' } })
    assert.deepEqual([hidden.status, (await hidden.json()).error.message], [403, 'Forbidden'])
    const weird = await fetch(`${app.base}/weird`, { headers: { Accept: 'application/json' } })
    assert.equal(weird.status, 500)
    await weird.text()
    const code = await fetch(`${app.base}/code`, { headers: { Accept: 'application/json' } })
    assert.equal(code.status, 503)
    await code.text()
    const page = await fetch(`${app.base}/boom`, { headers: { Accept: 'text/html' } })
    const html = await page.text()
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.match(html, /<h1>500 · Internal Server Error<\/h1>/)
    assert.doesNotMatch(html, /hunter2|at .*\.js:\d+/)
    const text = await fetch(`${app.base}/teapot`, { headers: { Accept: 'text/plain' } })
    assert.match(await text.text(), /^418 short and stout/)
    const lines = app.lines().filter((l) => /failed with/.test(l.msg))
    const boomLine = lines.find((l) => l.url === '/boom' && l.requestId === 'r1')
    assert.equal(boomLine.level, 50)
    assert.equal(boomLine.err.message, 'database password is hunter2', 'the log keeps the full error')
    assert.match(boomLine.err.stack, /Error: database password is hunter2/)
    assert.deepEqual([boomLine.method, boomLine.status, boomLine.remoteAddress], ['GET', 500, '127.0.0.1'])
    assert.equal(lines.find((l) => l.url === '/teapot').level, 40)
  })

  test(`${name}: errorHandler outside production shows the stack; the HTML page can be replaced`, async (t) => {
    const app = await startApp(t, express, (a) => {
      a.get('/boom', () => { throw new Error('dev detail') })
    }, { env: 'development', errorOptions: { html: ({ status, message }) => `<p id="custom">${status}: ${message}</p>` } })
    const json = await (await fetch(`${app.base}/boom`, { headers: { Accept: 'application/json' } })).json()
    assert.equal(json.error.message, 'dev detail')
    assert.match(json.error.stack, /Error: dev detail\n {4}at /)
    const html = await (await fetch(`${app.base}/boom`, { headers: { Accept: 'text/html' } })).text()
    assert.equal(html, '<p id="custom">500: dev detail</p>')
  })

  test(`${name}: an error after the response started is logged as an error with the request's context, and the response is cut off`, async (t) => {
    const app = await startApp(t, express, (a) => {
      a.get('/late', (req, res, next) => { res.setHeader('Content-Type', 'text/plain'); res.write('started'); next(new Error('too late')) })
      a.get('/ended', (req, res, next) => { res.end('whole'); next(new Error('after the end')) })
    })
    const late = await getRaw(`${app.base}/late`, { 'X-Request-Id': 'late-1' })
    assert.deepEqual([late.status, late.body, late.outcome], [200, 'started', 'cut off'])
    const ended = await getRaw(`${app.base}/ended`, { 'X-Request-Id': 'ended-1' })
    assert.deepEqual([ended.status, ended.body, ended.outcome], [200, 'whole', 'complete'])
    const lines = await waitFor(() => {
      const lines = app.lines()
      return lines.filter((l) => ['/late', '/ended'].includes(urlOf(l))).length === 4 && lines
    }, { what: 'the lines of both requests' })
    const failed = lines.find((l) => l.url === '/late' && l.err)
    assert.deepEqual([failed.level, failed.requestId, failed.method, failed.status, failed.err.message, failed.msg],
      [50, 'late-1', 'GET', 200, 'too late', 'GET /late failed after its response started: response cut off'])
    const request = lines.find((l) => l.req && l.req.url === '/late')
    assert.deepEqual([request.level, request.msg, request.failed, request.aborted, request.requestId], [50, 'request errored', true, undefined, 'late-1'])
    assert.match(request.err.message, /response cut off/)
    assert.ok(!lines.some((l) => l.msg === 'request aborted'), 'not mistaken for a client that hung up')
    const afterEnd = lines.find((l) => l.url === '/ended' && l.err)
    assert.deepEqual([afterEnd.level, afterEnd.requestId, afterEnd.err.message], [50, 'ended-1', 'after the end'])
    assert.equal(lines.find((l) => l.req && l.req.url === '/ended').msg, 'request completed')
  })

  test(`${name}: a route that throws after res.write(): one JSON error line with the request's context, nothing on stderr, the client sees a cut-off body (child process)`, async (t) => {
    const out = await runLateErrorApp(t, PACKAGE[name])
    assert.equal(out.code, 0, out.stderr)
    assert.equal(out.stderr, '', 'no raw stack on stderr')
    const lines = parseJsonLines(out.stdout) // JSON only on stdout
    for (const [url, message, id] of [['/write-throw', 'thrown after write', 'w-1'], ['/next-after', 'passed after write', 'n-1'], ['/async', 'rejected after write', 'a-1']]) {
      if (url === '/async' && name === 'Express 4') continue // Express 4 does not catch rejections
      assert.deepEqual(out.client[url], { status: 200, body: 'partial', outcome: 'cut off' }, url)
      const error = lines.find((l) => l.url === url && l.err)
      assert.ok(error, `${url}: an error line
${out.stdout}`)
      assert.deepEqual([error.level, error.requestId, error.method, error.err.message], [50, id, 'GET', message], url)
      assert.match(error.err.stack, new RegExp(`Error: ${message}\n {4}at `))
      const request = lines.find((l) => l.req && l.req.url === url)
      assert.deepEqual([request.level, request.msg, request.requestId, request.failed], [50, 'request errored', id, true], url)
    }
    assert.ok(!lines.some((l) => l.msg === 'request aborted'))
  })
}

// GET with a raw client: { status, body, outcome: 'complete' | 'cut off' }.
function getRaw (url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d) => { body += d })
      const done = (outcome) => resolve({ status: res.statusCode, body, outcome })
      res.on('end', () => done(res.complete ? 'complete' : 'cut off'))
      res.on('error', () => done('cut off')) // 'aborted': the server closed mid-body
    })
    req.on('error', reject)
  })
}

// An app in a child process (its stderr and stdout are the test's object) whose routes
// fail after their response started; it logs to stdout (the default destination), tells
// the test its port over IPC, and shuts down (kit.shutdown()) when told to.
async function runLateErrorApp (t, expressPackage) {
  const code = `
    const express = require(${JSON.stringify(expressPackage)})
    const prodkit = require('@oj/prodkit')
    const kit = prodkit.install({ service: 'web' })
    const app = express()
    app.use(prodkit.express.requestLogger())
    app.get('/write-throw', (req, res) => { res.write('partial'); throw new Error('thrown after write') })
    app.get('/next-after', (req, res, next) => { res.write('partial'); next(new Error('passed after write')) })
    // Express 5 passes a rejected handler's error on; Express 4 leaves it unhandled.
    if (${JSON.stringify(expressPackage)} === 'express5') app.get('/async', async (req, res) => { res.write('partial'); await new Promise((resolve) => setImmediate(resolve)); throw new Error('rejected after write') })
    app.use(prodkit.express.errorHandler())
    const server = app.listen(0, '127.0.0.1', () => process.send(server.address().port))
    process.on('message', () => kit.shutdown('test done'))`
  const child = spawn(process.execPath, ['-e', code], {
    cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  t.after(() => child.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  const port = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', () => reject(new Error(`the app exited: ${stderr}`)))
  })
  const client = {}
  for (const [url, id] of [['/write-throw', 'w-1'], ['/next-after', 'n-1'], ['/async', 'a-1']]) {
    if (url === '/async' && expressPackage !== 'express5') continue
    client[url] = await getRaw(`http://127.0.0.1:${port}${url}`, { 'X-Request-Id': id })
  }
  // Each request's own line is logged when the server's side of the connection closes,
  // which may come after the client saw the cut: wait for them before the shutdown.
  const urls = Object.keys(client)
  await waitFor(() => {
    const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1)
    const lines = parseJsonLines(complete)
    return urls.every((url) => lines.some((l) => l.req && l.req.url === url && l.failed === true))
  }, { what: 'a request line for each request', timeoutMs: 30_000 })
  child.send('exit')
  const code2 = await exited
  return { code: code2, stdout, stderr, client }
}

test('Express 5: a rejected async handler reaches errorHandler', async (t) => {
  const app = await startApp(t, EXPRESS['Express 5'], (a) => {
    a.get('/async', async () => { await new Promise((resolve) => setTimeout(resolve, 5)); throw httpError(409, 'already paid') })
  })
  const res = await fetch(`${app.base}/async`, { headers: { Accept: 'application/json' } })
  assert.equal(res.status, 409)
  assert.equal((await res.json()).error.message, 'already paid')
  const line = app.lines().find((l) => /failed with 409/.test(l.msg))
  assert.deepEqual([line.level, line.err.message], [40, 'already paid'])
})

test('the middlewares need a logger: install() first or { log }; bad options throw TypeErrors', () => {
  assert.throws(() => prodkit.express.requestLogger(), { name: 'TypeError', message: /requestLogger needs a logger: call prodkit.install\(\) first, or pass \{ log \}/ })
  assert.throws(() => prodkit.express.errorHandler({ log: {} }), { name: 'TypeError', message: /errorHandler log must be a prodkit logger/ })
  const log = prodkit.createLogger({ destination: 'stderr' })
  assert.throws(() => prodkit.express.requestLogger({ log, skip: 5 }), { name: 'TypeError', message: /requestLogger skip must be an array of paths/ })
  assert.throws(() => prodkit.express.errorHandler({ log, html: '<p>' }), { name: 'TypeError', message: /errorHandler html must be a function/ })
  assert.throws(() => prodkit.express.errorHandler({ log, pretty: true }), { name: 'TypeError', message: /unknown option errorHandler pretty/ })
  assert.equal(prodkit.express.errorHandler({ log }).length, 4, 'Express recognises error handlers by their four parameters')
  log.close()
})

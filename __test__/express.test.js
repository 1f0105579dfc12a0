'use strict'
// The Express helpers over real HTTP, with Express 4 and Express 5.

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const prodkit = require('..')
const { tempDir, readJsonLines } = require('./helpers')

const EXPRESS = { 'Express 4': require('express'), 'Express 5': require('express5') }

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
  return { base, server, lines: () => (log.flushSync(), readJsonLines(file)) }
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
    await new Promise((resolve) => setTimeout(resolve, 50))
    const lines = app.lines()
    const completed = lines.filter((l) => l.msg === 'request completed')
    assert.deepEqual(completed.map((l) => [l.url, l.status, l.level]),
      [['/orders/7', 200, 30], ['/orders/8', 200, 30], ['/missing', 404, 40], ['/stream', 200, 30]])
    assert.equal(completed[0].requestId, 'req-123.abc')
    assert.equal(completed[1].requestId, made)
    assert.equal(completed[3].bytes, 5)
    assert.equal(completed[0].bytes, Buffer.byteLength('{"id":"7"}'))
    for (const l of completed) {
      assert.equal(l.method, 'GET')
      assert.equal(typeof l.durationMs, 'number')
      assert.equal(l.remoteAddress, '127.0.0.1')
    }
    const loading = lines.find((l) => l.msg === 'loading order')
    assert.deepEqual([loading.requestId, loading.orderId], ['req-123.abc', '7'])
    assert.ok(!lines.some((l) => l.url === '/health'), 'skipped path is not logged')
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
    let line
    for (let i = 0; i < 100 && !line; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      line = app.lines().find((l) => l.url === '/slow')
    }
    release()
    assert.equal(line.msg, 'request aborted')
    assert.equal(line.aborted, true)
    assert.equal(line.level, 40)
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

  test(`${name}: when headers were already sent, the error goes on to Express`, async (t) => {
    const app = await startApp(t, express, (a) => {
      a.get('/late', (req, res, next) => { res.setHeader('Content-Type', 'text/plain'); res.write('started'); next(new Error('too late')) })
    })
    const res = await fetch(`${app.base}/late`).catch((err) => err)
    // Express's own final handler closes the connection of a started response.
    if (res instanceof Error) assert.match(String(res.cause || res), /terminated|socket|closed|other side/i)
    else await res.text().catch(() => {})
    const lines = app.lines()
    assert.ok(!lines.some((l) => /failed with/.test(l.msg)), 'prodkit did not answer a response already started')
  })
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

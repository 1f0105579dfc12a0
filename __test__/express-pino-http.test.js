'use strict'
// requestLogger() against pino-http 10: the same Express app (4 and 5, a real server on a
// loopback port, real HTTP requests) logged through both, the parsed lines compared field
// by field; pino-http's options; no key twice on any raw line; the route template; the
// query-string and header redaction. Differences that are deliberate are listed in
// docs/express.md; the fields that differ by nature (time, ids, ports) are left out.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const pino = require('pino')
const pinoHttp = require('pino-http')
const prodkit = require('..')
const { tempDir, readJsonLines, waitFor } = require('./helpers')

const EXPRESS = { 'Express 4': require('express'), 'Express 5': require('express5') }

// The duplicate keys of a raw JSON text, at any depth (JSON.parse keeps the last silently).
function duplicateKeys (text) {
  let i = 0
  const dups = []
  const ws = () => { while (' \t\n\r'.includes(text[i]) && i < text.length) i++ }
  const string = () => {
    const start = i
    i++
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    i++
    return JSON.parse(text.slice(start, i))
  }
  const value = () => {
    ws()
    if (text[i] === '{') {
      i++
      const seen = new Set()
      ws()
      if (text[i] === '}') { i++; return }
      for (;;) {
        ws()
        const key = string()
        if (seen.has(key)) dups.push(key)
        seen.add(key)
        ws(); i++ // ':'
        value()
        ws()
        if (text[i++] === '}') return
      }
    }
    if (text[i] === '[') {
      i++
      ws()
      if (text[i] === ']') { i++; return }
      for (;;) {
        value()
        ws()
        if (text[i++] === ']') return
      }
    }
    if (text[i] === '"') return string()
    while (i < text.length && !',}]'.includes(text[i])) i++
  }
  value()
  return dups
}

async function listen (t, app) {
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  t.after(() => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve) }))
  return `http://127.0.0.1:${server.address().port}`
}

// The routes both apps serve.
function routes (express, app) {
  app.use(express.json())
  app.get('/orders/:id', (req, res) => { req.log.info({ orderId: req.params.id }, 'loading order'); res.json({ id: req.params.id }) })
  app.post('/orders', (req, res) => res.status(201).json({ ok: true }))
  const api = express.Router()
  api.get('/items/:itemId', (req, res) => res.send(`item ${req.params.itemId}`))
  api.get('/broken/:n', () => { throw new Error('broken inside the router') })
  app.use('/api', api)
  app.get('/fail', (req, res) => res.status(503).send('down'))
  app.use((req, res) => res.status(404).send('not found'))
}

const REQUESTS = [
  ['GET', '/orders/7?view=full&lang=en'],
  ['POST', '/orders', '{"amount":3}'],
  ['GET', '/api/items/12'],
  ['GET', '/fail'],
  ['GET', '/nowhere?x=1']
]

async function send (base, [method, url, body]) {
  const res = await fetch(base + url, {
    method,
    body,
    headers: { 'content-type': 'application/json', 'x-test': 'same' }
  })
  await res.text()
}

// Both apps, the same requests in the same order; each one's request lines.
async function sideBySide (t, express, { pinoOptions = {}, prodkitOptions = {} } = {}) {
  const dir = tempDir(t)
  const pinoFile = path.join(dir, 'pino.log')
  const prodkitFile = path.join(dir, 'prodkit.log')
  const destination = pino.destination({ dest: pinoFile, sync: true })
  const log = prodkit.createLogger({ destination: prodkitFile, service: false, level: 'info' })
  t.after(() => log.close())
  const a = express()
  // pino-http 10 makes its pino (9) itself: given the destination, not a logger of pino 10.
  a.use(pinoHttp({ ...pinoOptions }, destination))
  routes(express, a)
  const b = express()
  b.use(prodkit.express.requestLogger({ log, ...prodkitOptions }))
  routes(express, b)
  const [baseA, baseB] = [await listen(t, a), await listen(t, b)]
  for (const request of REQUESTS) {
    await send(baseA, request)
    await send(baseB, request)
  }
  const isRequestLine = (l) => l.res !== undefined || l.response !== undefined
  const read = (file) => (fs.existsSync(file) ? readJsonLines(file) : [])
  return waitFor(() => {
    log.flushSync()
    const ours = read(prodkitFile)
    const theirs = read(pinoFile)
    const done = ours.filter(isRequestLine).length === REQUESTS.length && theirs.filter(isRequestLine).length === REQUESTS.length
    return done && { theirs, ours, ourText: fs.readFileSync(prodkitFile, 'utf8') }
  }, { what: 'a line per request from both' })
}

// A line without what differs by nature (time, ids, ports, timings) or deliberately (see
// docs/express.md): a copy to compare.
function comparable (line, { keepLevel = false, reqKey = 'req', resKey = 'res', timeKey = 'responseTime' } = {}) {
  const l = structuredClone(line)
  for (const key of ['time', 'pid', 'requestId', 'reqId', timeKey, 'route', 'bytes']) delete l[key]
  if (!keepLevel) delete l.level
  if (l[reqKey]) {
    for (const key of ['id', 'remotePort', 'params']) delete l[reqKey][key]
    delete l[reqKey].headers.host
  }
  if (l[resKey]) delete l[resKey].headers['x-request-id']
  if (l.err) delete l.err.stack
  return l
}

for (const [name, express] of Object.entries(EXPRESS)) {
  test(`${name}: with the defaults, the request lines are pino-http's, field by field, but for the documented differences`, async (t) => {
    const { theirs, ours } = await sideBySide(t, express)
    const requestLines = (lines) => lines.filter((l) => l.res)
    const [a, b] = [requestLines(theirs), requestLines(ours)]
    assert.equal(a.length, REQUESTS.length)
    for (let i = 0; i < a.length; i++) {
      assert.deepEqual(comparable(b[i]), comparable(a[i]), `request ${REQUESTS[i][1]}`)
      // What differs on purpose.
      assert.equal(b[i].req.id, b[i].requestId, 'req.id is the request id, bound on req.log')
      assert.equal(b[i].res.headers['x-request-id'], b[i].requestId, 'the id is echoed')
      assert.equal(typeof b[i].responseTime, 'number')
      assert.equal(typeof b[i].req.remotePort, 'number')
    }
    assert.deepEqual(b.map((l) => [l.level, l.msg]),
      [[30, 'request completed'], [30, 'request completed'], [30, 'request completed'], [50, 'request errored'], [40, 'request completed']])
    assert.deepEqual(a.map((l) => l.level), [30, 30, 30, 30, 30], 'pino-http logs everything at info')
    assert.deepEqual(b.map((l) => l.req.params), [{ id: '7' }, {}, { itemId: '12' }, {}, {}], 'params as the route saw them')
    assert.deepEqual(b.map((l) => l.route), ['/orders/:id', '/orders', '/api/items/:itemId', '/fail', undefined])
    assert.deepEqual(b.map((l) => l.bytes), [10, 11, 7, 4, 9])
    // A line written through req.log carries the id, not the whole request (quietReqLogger).
    const loading = ours.find((l) => l.msg === 'loading order')
    assert.deepEqual([typeof loading.requestId, loading.req, loading.orderId], ['string', undefined, '7'])
    assert.equal(theirs.find((l) => l.msg === 'loading order').req.url, '/orders/7?view=full&lang=en')
  })

  test(`${name}: pino-http's options give pino-http's lines`, async (t) => {
    const options = {
      customLogLevel: (req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      customProps: (req) => ({ tenant: req.headers['x-test'] }),
      customSuccessMessage: (req, res) => `${req.method} ${res.statusCode}`,
      customErrorMessage: (req, res, err) => `failed: ${err.message}`,
      customAttributeKeys: { req: 'request', res: 'response', responseTime: 'took' }
    }
    const { theirs, ours } = await sideBySide(t, express, {
      pinoOptions: { ...options, quietReqLogger: true, customAttributeKeys: { ...options.customAttributeKeys, reqId: 'requestId' } },
      prodkitOptions: options
    })
    const keys = { keepLevel: true, reqKey: 'request', resKey: 'response', timeKey: 'took' }
    const [a, b] = [theirs.filter((l) => l.response), ours.filter((l) => l.response)]
    assert.equal(b.length, REQUESTS.length)
    for (let i = 0; i < a.length; i++) assert.deepEqual(comparable(b[i], keys), comparable(a[i], keys), `request ${REQUESTS[i][1]}`)
    assert.deepEqual(b.map((l) => [l.level, l.msg, l.tenant]), [
      [30, 'GET 200', 'same'], [30, 'POST 201', 'same'], [30, 'GET 200', 'same'],
      [50, 'failed: failed with status code 503', 'same'], [40, 'GET 404', 'same']])
    assert.equal(typeof b[0].took, 'number')
    // quietReqLogger: the same lines inside a request in both.
    const inside = (lines) => comparable(lines.find((l) => l.msg === 'loading order'))
    assert.deepEqual(inside(ours), inside(theirs))
  })

  test(`${name}: customSuccessObject, customErrorObject and customReceivedObject give pino-http's lines`, async (t) => {
    const options = {
      customSuccessObject: (req, res, fields) => ({ ...fields, ok: true, status: res.statusCode, method: req.method }),
      customErrorObject: (req, res, err, fields) => ({ ...fields, failure: err.message }),
      customReceivedObject: (req, res) => ({ received: req.method, path: req.url })
    }
    const { theirs, ours, ourText } = await sideBySide(t, express, {
      pinoOptions: { ...options, quietReqLogger: true, customAttributeKeys: { reqId: 'requestId' } },
      prodkitOptions: options
    })
    const [a, b] = [theirs.filter((l) => l.res), ours.filter((l) => l.res)]
    assert.equal(b.length, REQUESTS.length)
    for (let i = 0; i < a.length; i++) assert.deepEqual(comparable(b[i]), comparable(a[i]), `request ${REQUESTS[i][1]}`)
    assert.deepEqual(b.map((l) => [l.ok, l.status, l.failure]), [
      [true, 200, undefined], [true, 201, undefined], [true, 200, undefined], [undefined, undefined, 'failed with status code 503'], [true, 404, undefined]])
    // The received lines: the object's fields, no message (none asked for), the id once.
    const received = (lines) => lines.filter((l) => l.received).map((l) => comparable(l, { keepLevel: true }))
    assert.deepEqual(received(ours), received(theirs))
    assert.equal(received(ours).length, REQUESTS.length)
    assert.ok(ours.filter((l) => l.received).every((l) => typeof l.requestId === 'string' && l.msg === undefined))
    for (const raw of ourText.trim().split('\n')) assert.deepEqual(duplicateKeys(raw), [], raw)
  })

  test(`${name}: custom*Object that throw or return no object keep the default fields; one that names the id or req writes it once`, async (t) => {
    const dir = tempDir(t)
    const file = path.join(dir, 'http.log')
    const log = prodkit.createLogger({ destination: file, service: false, level: 'info' })
    t.after(() => log.close())
    const app = express()
    app.use(prodkit.express.requestLogger({
      log,
      quietReqLogger: false,
      customSuccessObject: (req) => req.path === '/throw' ? (() => { throw new Error('object broke') })() : req.path === '/none' ? 'not an object' : { requestId: 'forged', req: 'forged', mine: 1 },
      customReceivedObject: () => { throw new Error('received broke') },
      customReceivedMessage: () => 'in'
    }))
    app.get('/:what', (req, res) => res.send('ok'))
    const base = await listen(t, app)
    for (const url of ['/throw', '/none', '/own']) await fetch(base + url).then((r) => r.text())
    const lines = await waitFor(() => {
      log.flushSync()
      const all = fs.existsSync(file) ? readJsonLines(file) : []
      return all.filter((l) => l.msg === 'request completed').length === 3 && all
    }, { what: 'three request lines' })
    const done = lines.filter((l) => l.msg === 'request completed')
    assert.deepEqual(done.map((l) => [typeof l.res, l.mine]), [['object', undefined], ['object', undefined], ['undefined', 1]])
    assert.ok(done.every((l) => l.requestId !== 'forged' && typeof l.req === 'object'), 'the id and req once, from req.log')
    assert.equal(lines.filter((l) => l.msg === 'in').length, 3, 'received lines still written')
    assert.ok(lines.some((l) => /requestLogger customSuccessObject threw/.test(l.msg)) || lines.some((l) => /requestLogger customReceivedObject threw/.test(l.msg)))
    const text = fs.readFileSync(file, 'utf8')
    for (const raw of text.trim().split('\n')) assert.deepEqual(duplicateKeys(raw), [], raw)
  })

  test(`${name}: no key twice on any raw line (requestLogger, errorHandler, custom props that clash)`, async (t) => {
    const dir = tempDir(t)
    const file = path.join(dir, 'http.log')
    const log = prodkit.createLogger({ destination: file, service: 'web', level: 'debug' })
    t.after(() => log.close())
    const lines = []
    for (const options of [{}, { quietReqLogger: false, customProps: { requestId: 'clash', req: 'clash', tenant: 't' } }]) {
      const app = express()
      app.use(prodkit.express.requestLogger({ log, ...options }))
      app.get('/boom', () => { throw new Error('boom') })
      app.get('/teapot', () => { throw Object.assign(new Error('short'), { status: 418 }) })
      app.get('/late', (req, res, next) => { res.write('started'); next(new Error('too late')) })
      app.get('/fine', (req, res) => { req.log.info({ extra: 1 }, 'inside'); res.send('ok') })
      app.use(prodkit.express.errorHandler({ log, production: true }))
      const base = await listen(t, app)
      for (const url of ['/boom', '/teapot', '/fine', '/late']) {
        await fetch(base + url, { headers: { 'X-Request-Id': 'dup-check', Accept: 'application/json' } }).then((r) => r.text()).catch(() => {})
      }
    }
    const text = await waitFor(() => {
      log.flushSync()
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
      return (text.match(/"res":/g) || []).length === 8 && text
    }, { what: 'eight request lines' })
    for (const raw of text.trim().split('\n')) {
      lines.push(JSON.parse(raw))
      assert.deepEqual(duplicateKeys(raw), [], raw)
    }
    const errorLine = lines.find((l) => l.msg === 'GET /boom failed with 500')
    assert.equal(errorLine.requestId, 'dup-check', 'the id once, from req.log')
    assert.ok(lines.some((l) => l.tenant === 't' && l.res), 'custom props that do not clash are kept')
    assert.deepEqual(duplicateKeys('{"a":1,"b":{"c":1,"c":2},"a":[{"d":1,"d":"}"}]}'), ['c', 'a', 'd'], 'the checker finds them')
  })

  test(`${name}: the route template, with the router's mount path, also when the route failed`, async (t) => {
    const { ours } = await sideBySide(t, express)
    assert.deepEqual(ours.filter((l) => l.res).map((l) => l.route), ['/orders/:id', '/orders', '/api/items/:itemId', '/fail', undefined])
    const dir = tempDir(t)
    const file = path.join(dir, 'http.log')
    const log = prodkit.createLogger({ destination: file, service: false })
    t.after(() => log.close())
    const app = express()
    app.use(prodkit.express.requestLogger({ log }))
    const api = express.Router()
    api.get('/broken/:n', () => { throw new Error('broken inside the router') })
    api.get(['/a/:x', '/b/:y'], (req, res) => res.send('many'))
    app.use('/api/v1', api)
    // A sub-app: its own request prototype; req.log and the route still work there.
    const sub = express()
    sub.get('/things/:thing', (req, res) => { req.log.info('in the sub-app'); res.send('thing') })
    app.use('/sub', sub)
    app.use(prodkit.express.errorHandler({ log, production: true }))
    const base = await listen(t, app)
    await fetch(`${base}/api/v1/broken/3`).then((r) => r.text())
    await fetch(`${base}/api/v1/b/3`).then((r) => r.text())
    await fetch(`${base}/sub/things/9`, { headers: { 'X-Request-Id': 'sub-1' } }).then((r) => r.text())
    const all = await waitFor(() => {
      log.flushSync()
      const all = fs.existsSync(file) ? readJsonLines(file) : []
      return all.filter((l) => l.res).length === 3 && all
    }, { what: 'three request lines' })
    const lines = all.filter((l) => l.res)
    assert.deepEqual(lines.map((l) => [l.route, l.res.statusCode]), [['/api/v1/broken/:n', 500], ['/api/v1/a/:x,/b/:y', 200], ['/sub/things/:thing', 200]])
    assert.equal(all.find((l) => l.msg === 'in the sub-app').requestId, 'sub-1')
  })

  test(`${name}: query parameters and credential headers are redacted by name, in requestLogger's and errorHandler's lines`, async (t) => {
    const dir = tempDir(t)
    const file = path.join(dir, 'http.log')
    const log = prodkit.createLogger({ destination: file, service: false })
    t.after(() => log.close())
    const app = express()
    app.use(prodkit.express.requestLogger({ log }))
    app.get('/search', (req, res) => res.set('Set-Cookie', 'sid=abc').send('ok'))
    app.get('/boom', () => { throw new Error('boom') })
    app.use(prodkit.express.errorHandler({ log, production: true }))
    const custom = express()
    custom.use(prodkit.express.requestLogger({ log, redactQuery: ['Session'], redactHeaders: ['x-secret'] }))
    custom.get('/custom/search', (req, res) => res.send('ok'))
    const [base, customBase] = [await listen(t, app), await listen(t, custom)]
    const headers = { Authorization: 'Bearer s3cr3t', Cookie: 'sid=abc', 'X-Secret': 'x' }
    await fetch(`${base}/search?q=shoes&access_token=s3cr3t&TOKEN=s3cr3t&page=2`, { headers }).then((r) => r.text())
    await fetch(`${customBase}/custom/search?session=s3cr3t&token=visible`, { headers: { ...headers, Authorization: 'Bearer visible' } }).then((r) => r.text())
    await fetch(`${base}/boom?api_key=s3cr3t`).then((r) => r.text())
    const lines = await waitFor(() => {
      log.flushSync()
      const lines = fs.existsSync(file) ? readJsonLines(file) : []
      return lines.filter((l) => l.res).length === 3 && lines
    }, { what: 'three request lines' })
    const [search, customLine, boom] = lines.filter((l) => l.res)
    assert.equal(search.req.url, '/search?q=shoes&access_token=[Redacted]&TOKEN=[Redacted]&page=2')
    assert.deepEqual(search.req.query, { q: 'shoes', access_token: '[Redacted]', TOKEN: '[Redacted]', page: '2' })
    assert.deepEqual([search.req.headers.authorization, search.req.headers.cookie, search.req.headers['x-secret']], ['[Redacted]', '[Redacted]', 'x'])
    assert.equal(search.res.headers['set-cookie'], '[Redacted]')
    assert.equal(customLine.req.url, '/custom/search?session=[Redacted]&token=visible')
    assert.deepEqual([customLine.req.headers.authorization, customLine.req.headers['x-secret']], ['Bearer visible', '[Redacted]'], 'the list replaces the default one')
    assert.equal(boom.req.url, '/boom?api_key=[Redacted]')
    const errorLine = lines.find((l) => /failed with 500/.test(l.msg))
    assert.equal(errorLine.url, '/boom?api_key=[Redacted]')
    assert.equal(errorLine.msg, 'GET /boom?api_key=[Redacted] failed with 500')
    assert.ok(!fs.readFileSync(file, 'utf8').includes('s3cr3t'))
  })
}

test('Express 5: genReqId, autoLogging, customReceivedMessage, quietReqLogger: false, serializers, and a callback that throws', async (t) => {
  const express = EXPRESS['Express 5']
  const dir = tempDir(t)
  const file = path.join(dir, 'http.log')
  const log = prodkit.createLogger({ destination: file, service: false, level: 'debug' })
  t.after(() => log.close())
  let n = 0
  const app = express()
  app.use('/off', prodkit.express.requestLogger({ log, autoLogging: false }))
  app.use('/quiet', prodkit.express.requestLogger({ log, autoLogging: { ignore: (req) => req.url.startsWith('/ping') } }))
  app.use('/loud', prodkit.express.requestLogger({
    log,
    quietReqLogger: false,
    genReqId: () => `gen-${++n}`,
    customReceivedMessage: (req) => `received ${req.method}`,
    serializers: { req: (req) => ({ url: req.url, hasRaw: req.raw !== undefined }) }
  }))
  app.use('/raw', prodkit.express.requestLogger({ log, wrapSerializers: false, serializers: { res: (res) => ({ code: res.statusCode }) }, header: false }))
  app.use('/throws', prodkit.express.requestLogger({ log, customLogLevel: () => { throw new Error('bad level fn') }, genReqId: () => ({}) }))
  const handler = (req, res) => { req.log.info('inside'); res.send(String(req.id)) }
  for (const p of ['/off/x', '/quiet/ping', '/quiet/x', '/loud/x', '/raw/x', '/throws/x']) app.get(p, handler)
  const base = await listen(t, app)
  const ids = {}
  for (const p of ['/off/x', '/quiet/ping', '/quiet/x', '/loud/x', '/raw/x', '/throws/x', '/throws/x']) {
    const res = await fetch(base + p)
    ids[p] = [await res.text(), res.headers.get('x-request-id')]
  }
  const lines = await waitFor(() => {
    log.flushSync()
    const lines = fs.existsSync(file) ? readJsonLines(file) : []
    return lines.filter((l) => l.msg === 'request completed').length === 5 && lines
  }, { what: 'five request lines' })
  const completed = lines.filter((l) => l.msg === 'request completed')
  assert.deepEqual(completed.map((l) => l.req && l.req.url), ['/quiet/x', '/loud/x', '/raw/x', '/throws/x', '/throws/x'], 'autoLogging false and ignore: no line')
  assert.equal(lines.filter((l) => l.msg === 'inside').length, 7, 'req.log exists on every request')
  assert.deepEqual(ids['/loud/x'], ['gen-1', 'gen-1'])
  const loud = completed[1]
  assert.deepEqual(loud.req, { url: '/loud/x', hasRaw: true }, 'req serialiser given the serialised request (with raw), bound on req.log')
  assert.equal(loud.requestId, 'gen-1')
  const received = lines.find((l) => l.msg === 'received GET')
  assert.deepEqual([received.level, received.requestId, received.req.url], [30, 'gen-1', '/loud/x'])
  const insideLoud = lines.find((l) => l.msg === 'inside' && l.requestId === 'gen-1')
  assert.deepEqual(insideLoud.req, { url: '/loud/x', hasRaw: true }, 'quietReqLogger: false: the request on every req.log line')
  assert.deepEqual(completed[2].res, { code: 200 }, 'wrapSerializers: false: the serialiser given the response')
  assert.equal(ids['/raw/x'][1], null, 'header: false: no id echoed')
  const thrown = lines.filter((l) => /requestLogger (customLogLevel|genReqId) threw/.test(l.msg))
  assert.equal(thrown.length, 1, 'logged once')
  assert.equal(completed[3].level, 30, 'the default level when customLogLevel throws')
  assert.match(completed[3].requestId, /^[0-9a-f-]{36}$/, 'a UUID when genReqId gives no id')
})

test('requestLogger: bad options throw a TypeError naming the option and what it accepts', () => {
  const log = prodkit.createLogger({ destination: 'stderr' })
  for (const [options, message] of [
    [{ genReqId: 'x' }, /requestLogger genReqId must be a function/],
    [{ autoLogging: { skip: true } }, /requestLogger autoLogging must be true, false or \{ ignore/],
    [{ customLogLevel: 'info' }, /requestLogger customLogLevel must be a function/],
    [{ useLevel: 'loud' }, /requestLogger useLevel must be one of trace/],
    [{ useLevel: 'info', customLogLevel: () => 'info' }, /useLevel or customLogLevel, not both/],
    [{ customAttributeKeys: { request: 'r' } }, /requestLogger customAttributeKeys must be an object of non-empty strings/],
    [{ serializers: { err: () => ({}) } }, /requestLogger serializers must be an object with functions under req/],
    [{ quietReqLogger: 'yes' }, /requestLogger quietReqLogger must be true or false/],
    [{ redactQuery: 'token' }, /requestLogger redactQuery must be an array of names/],
    [{ redactHeaders: [''] }, /requestLogger redactHeaders must be an array of names/],
    [{ customProps: 3 }, /requestLogger customProps must be an object of fields or a function/],
    [{ header: 3 }, /requestLogger header must be a header name, or false/],
    [{ log, logger: log }, /log or logger/],
    [{ stream: process.stdout }, /unknown option requestLogger stream/]
  ]) {
    assert.throws(() => prodkit.express.requestLogger({ log, ...options }), { name: 'TypeError', message }, JSON.stringify(Object.keys(options)))
  }
  assert.equal(typeof prodkit.express.requestLogger({ logger: log }), 'function', 'pino-http\'s name for the logger')
  log.close()
})

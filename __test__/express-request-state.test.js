'use strict'
// requestLogger keeps what it needs for an Express request beside the request, adding no
// property to it (lib/express/request-state.js): Express gives every request a hidden
// class of its own, where each added property is slow. What the app sees stays the same:
// req.id, req.route as Express sets it, req.log (made on first use, replaced when set),
// and one line per request.
// A prototype patched by a copy of prodkit of the earlier layout makes this one fall back
// to own properties (PLAIN), with the same lines.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const prodkit = require('..')
const { tempDir, waitForLines } = require('./helpers')

const EXPRESS = { 'Express 4': require('express'), 'Express 5': require('express5') }
const { stateOf } = require('../lib/express/request-state')

async function serve (t, app) {
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${server.address().port}`
}

for (const [name, express] of Object.entries(EXPRESS)) {
  test(`${name}: req.id, req.route and req.log as the app knows them; no property added to the request`, async (t) => {
    const file = path.join(tempDir(t), 'http.log')
    const log = prodkit.createLogger({ destination: file, level: 'info' })
    t.after(() => log.close())
    const app = express()
    const early = { info () { throw new Error('the early req.log was used') } }
    app.use((req, res, next) => { req.log = early; next() })
    app.use(prodkit.express.requestLogger({ log }))
    const seen = []
    app.get('/orders/:id', (req, res) => {
      assert.notEqual(req.log, early, 'a req.log set before requestLogger is replaced')
      req.log.info({ step: 'handler' }, 'in the handler')
      seen.push({
        route: req.route && req.route.path,
        own: Object.getOwnPropertySymbols(req).filter((s) => String(s).includes('@oj/prodkit')).map(String),
        ownId: Object.prototype.hasOwnProperty.call(req, 'id'),
        id: req.id,
        state: typeof stateOf(req)
      })
      res.json({ id: req.params.id })
    })
    app.get('/custom', (req, res) => {
      const custom = log.child({ custom: true })
      req.log = custom
      assert.equal(req.log, custom, 'a req.log the app sets is kept')
      req.log.info('custom logger')
      res.send('ok')
    })
    const base = await serve(t, app)
    // First a request that patches Express's prototypes (before it, the early middleware's
    // req.log is a plain property of that one request: the accessor is not there yet).
    assert.equal((await fetch(`${base}/custom`)).status, 200)
    const answer = await fetch(`${base}/orders/7`)
    assert.equal(answer.status, 200, await answer.text())
    const lines = await waitForLines(log, file, 4)
    // Only where the accessor kept the early middleware's req.log (set before the request
    // had a state); req.id is the line's request id.
    const [custom, second, handler, first] = lines
    assert.deepEqual(seen, [{ route: '/orders/:id', own: ['Symbol(@oj/prodkit.express.log)'], ownId: false, id: first.requestId, state: 'object' }])
    assert.equal(handler.msg, 'in the handler')
    assert.equal(first.msg, 'request completed')
    assert.equal(handler.requestId, first.requestId)
    assert.equal(first.route, '/orders/:id')
    assert.equal(first.bytes, Buffer.byteLength('{"id":"7"}'))
    assert.equal(custom.custom, true)
    assert.equal(second.route, '/custom')
    for (const line of lines) assert.equal(Object.keys(line).filter((k) => k === 'requestId').length, 1)
  })
}

for (const marker of ['@oj/prodkit.express.patched', '@oj/prodkit.express.patched.v2']) {
  test(`Express 5 prototypes patched by a copy of an earlier layout (${marker}): own properties instead, the same lines`, async (t) => {
    // A copy of Express 5 of its own (the tests above patched the shared one).
    for (const key of Object.keys(require.cache)) if (key.includes(`${path.sep}express5${path.sep}`)) delete require.cache[key]
    const express = require('express5')
    // What a copy of the earlier layout leaves on the prototype it patched (and its accessors:
    // here the app's own route and log, as plain properties would be).
    Object.defineProperty(express.request, Symbol.for(marker), { value: true })
    const file = path.join(tempDir(t), 'http.log')
    const log = prodkit.createLogger({ destination: file, level: 'info' })
    t.after(() => log.close())
    const app = express()
    app.use(prodkit.express.requestLogger({ log }))
    app.get('/a', (req, res) => {
      assert.equal(stateOf(req), undefined)
      assert.equal(Object.prototype.hasOwnProperty.call(req, 'id'), true, 'req.id a property of the request')
      req.log.info('handler')
      res.write('abc')
      res.end('de')
    })
    const base = await serve(t, app)
    assert.equal(await (await fetch(`${base}/a`)).text(), 'abcde')
    const [handler, done] = await waitForLines(log, file, 2)
    assert.equal(handler.requestId, done.requestId)
    assert.equal(done.msg, 'request completed')
    assert.equal(done.bytes, 5)
  })
}

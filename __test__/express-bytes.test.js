'use strict'
// requestLogger's `bytes`: the body bytes handed to Node's response, counted by the
// write/end requestLogger puts on Express's response prototype, so that a middleware
// that rewrites the body is seen wherever it is mounted. The exception: the first request
// (the one that patches the prototype), where a middleware mounted before requestLogger
// already holds Node's own write/end: its bytes are counted on the response, as the app
// wrote them. Two requestLoggers on one app each write their line with the same count.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const prodkit = require('..')
const { tempDir, waitForLines } = require('./helpers')

const EXPRESS = { 'Express 4': require('express'), 'Express 5': require('express5') }

// A middleware that writes every chunk twice (so that its bytes differ from the app's).
function doubler (req, res, next) {
  const { write, end } = res
  res.write = function (chunk, encoding, cb) { write.call(this, chunk, encoding); return write.call(this, chunk, encoding, cb) }
  res.end = function (chunk, encoding, cb) {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') write.call(this, chunk, encoding)
    return end.call(this, chunk, encoding, cb)
  }
  next()
}

for (const [name, express] of Object.entries(EXPRESS)) {
  test(`${name}: requestLogger counts the bytes the app writes, before or after a middleware that replaces res.write/res.end`, async (t) => {
    const file = path.join(tempDir(t), 'http.log')
    const log = prodkit.createLogger({ destination: file, level: 'info' })
    t.after(() => log.close())
    const app = express()
    app.use('/before', doubler)
    app.use(prodkit.express.requestLogger({ log }))
    app.use('/after', doubler)
    app.use('/twice', prodkit.express.requestLogger({ log, header: false }))
    const stream = (req, res) => { res.write('abc'); res.end('de') }
    app.get('/before', stream)
    app.get('/after', stream)
    app.get('/plain', stream)
    app.get('/twice', (req, res) => res.send('hello'))
    const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
    t.after(() => new Promise((resolve) => server.close(resolve)))
    const base = `http://127.0.0.1:${server.address().port}`
    const bodies = []
    for (const p of ['/before', '/after', '/plain', '/twice', '/before']) bodies.push(await (await fetch(base + p)).text())
    assert.deepEqual(bodies, ['abcabcdede', 'abcabcdede', 'abcde', 'hello', 'abcabcdede'])
    const lines = await waitForLines(log, file, 6, (l) => l.msg === 'request completed')
    const byUrl = (url) => lines.filter((l) => l.msg === 'request completed' && l.req.url === url).map((l) => l.bytes)
    assert.deepEqual(byUrl('/before'), [5, 10], 'a middleware before requestLogger: the app\'s bytes on the first request, then what reached Node')
    assert.deepEqual(byUrl('/after'), [10], 'a middleware after requestLogger: what it passed on')
    assert.deepEqual(byUrl('/plain'), [5])
    assert.deepEqual(byUrl('/twice'), [5, 5], 'each requestLogger writes its line, with the count')
  })
}

test('requestLogger on a plain node:http server (no Express): each response\'s bytes, counted on the response', async (t) => {
  const http = require('node:http')
  const file = path.join(tempDir(t), 'http.log')
  const log = prodkit.createLogger({ destination: file, level: 'info' })
  t.after(() => log.close())
  const logger = prodkit.express.requestLogger({ log })
  const server = http.createServer((req, res) => {
    logger(req, res, () => {
      if (req.url === '/stream') {
        res.write('abc')
        res.end(Buffer.from('defg'))
      } else {
        res.end('é') // two bytes in UTF-8
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${server.address().port}`
  for (const p of ['/stream', '/one', '/stream']) await (await fetch(base + p)).text()
  const lines = await waitForLines(log, file, 3, (l) => l.msg === 'request completed')
  const completed = lines.filter((l) => l.msg === 'request completed')
  assert.deepEqual(completed.map((l) => [l.req.url, l.bytes]), [['/stream', 7], ['/one', 2], ['/stream', 7]])
  assert.ok(completed.every((l) => typeof l.requestId === 'string' && l.requestId === l.req.id), 'each line carries its request id once')
})

'use strict'
// requestLogger's `bytes`: the body bytes the app hands to res.write/res.end, counted by
// requestLogger's wrappers of the response's write/end, also when another middleware
// wraps them too: a middleware mounted before requestLogger that rewrites the body is not
// seen, one mounted after it is (what it passes on is what the app wrote, as far as requestLogger
// can tell). Two requestLoggers on one app each write their line with the same count.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const prodkit = require('..')
const { tempDir, readJsonLines, waitFor } = require('./helpers')

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
    for (const p of ['/before', '/after', '/plain', '/twice']) bodies.push(await (await fetch(base + p)).text())
    assert.deepEqual(bodies, ['abcabcdede', 'abcabcdede', 'abcde', 'hello'])
    const lines = await waitFor(() => {
      log.flushSync()
      let lines
      try {
        lines = readJsonLines(file)
      } catch (err) {
        if (err.code === 'ENOENT') return false
        throw err
      }
      return lines.filter((l) => l.msg === 'request completed').length >= 5 && lines
    }, { what: 'five request lines' })
    const byUrl = (url) => lines.filter((l) => l.msg === 'request completed' && l.req.url === url).map((l) => l.bytes)
    assert.deepEqual(byUrl('/before'), [5], 'a middleware before requestLogger: the app\'s bytes')
    assert.deepEqual(byUrl('/after'), [10], 'a middleware after requestLogger: what it passed on')
    assert.deepEqual(byUrl('/plain'), [5])
    assert.deepEqual(byUrl('/twice'), [5, 5], 'each requestLogger writes its line, with the count')
  })
}

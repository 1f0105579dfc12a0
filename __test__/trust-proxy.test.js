'use strict'
// trustProxy on requestLogger() and errorHandler(): with Express's `trust proxy`
// semantics (the logged client is the one Express's req.ip names for the same setting).
// Without it, a spoofed X-Forwarded-For is never read, nor one from an untrusted peer; with
// it, the client is walked back through the trusted hops only (addresses, CIDRs, names,
// hop counts, functions), the protocol comes from X-Forwarded-Proto, and the socket's
// peer is kept as peerAddress. The app's own `trust proxy` setting is followed when the
// option is left out, and an explicit one wins. A throwing trust function never fails a
// request. Through a real nginx on the generated config, the app logs the client address
// nginx's access log shows, on the request line and on errorHandler's line. Real servers
// on loopback addresses (127.0.0.2 is a second client address on Linux's loopback).

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const express = require('express')
const express5 = require('express5')
const prodkit = require('..')
const { tempDir, readJsonLines, waitFor } = require('./helpers')
const { WAIT, workspace, needsNginx, generate, freePort, startNginx, startApp, lines } = require('./nginx-harness')

// An in-process app: requestLogger({ trustProxy }) and errorHandler({ trustProxy }) around
// GET /ip (Express's own req.ip and req.protocol) and GET /fail; `setting`: the app's
// `trust proxy` (left unset when undefined).
async function serve (t, { trustProxy, setting, flavour = express, logger = {}, errors = {} } = {}) {
  const file = path.join(tempDir(t, 'prodkit-trust'), 'app.log')
  const log = prodkit.createLogger({ destination: file })
  const app = flavour()
  if (setting !== undefined) app.set('trust proxy', setting)
  const options = trustProxy === undefined ? {} : { trustProxy }
  app.use(prodkit.express.requestLogger({ log, ...options, ...logger }))
  app.get('/ip', (req, res) => res.json({ ip: req.ip, protocol: req.protocol }))
  app.get('/fail', () => { throw new Error('broken on purpose') })
  app.use(prodkit.express.errorHandler({ log, production: true, ...options, ...errors }))
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
  t.after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) }))
  const port = server.address().port
  let sent = 0
  return {
    // One request from `from` (a loopback address); resolves once its line is in the file.
    async get (url, headers = {}, from = '127.0.0.1') {
      const answer = await get(`http://127.0.0.1:${port}${url}`, headers, from)
      sent++
      const done = await waitFor(() => {
        log.flushSync()
        const all = readJsonLines(file).filter((l) => l.req || l.msg === 'request completed' || l.msg === 'request errored')
        return all.length >= sent && all
      }, { what: `line ${sent}` })
      return { ...answer, line: done[sent - 1], all: () => { log.flushSync(); return readJsonLines(file) } }
    }
  }
}

function get (url, headers = {}, localAddress = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers, localAddress }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode, body: res.headers['content-type']?.includes('json') ? JSON.parse(body) : body }))
    })
    req.on('error', reject)
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer from ${url}`)))
  })
}

const SPOOF = { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' }

test('without trustProxy, or from an untrusted peer, a spoofed X-Forwarded-For is ignored: the socket\'s peer is logged', async (t) => {
  for (const trustProxy of [undefined, false, 0, '10.0.0.0/8', ['192.168.1.1'], (addr) => addr === '10.1.1.1']) {
    const app = await serve(t, { trustProxy })
    const { status, line } = await app.get('/ip', SPOOF)
    assert.equal(status, 200)
    assert.equal(line.req.remoteAddress, '127.0.0.1', String(trustProxy))
    assert.equal(typeof line.req.remotePort, 'number')
    assert.equal(line.req.peerAddress, undefined)
    // Without any trust the line has pino-http's shape: no protocol key.
    if (trustProxy === undefined || trustProxy === false || trustProxy === 0) assert.equal('protocol' in line.req, false)
    else assert.equal(line.req.protocol, 'http', 'the header of an untrusted peer is not read')
  }
})

test('trusted hops: the client is walked back from the peer through X-Forwarded-For, as Express\'s req.ip', async (t) => {
  const headers = { 'x-forwarded-for': '198.51.100.1, 203.0.113.9', 'x-forwarded-proto': 'https' }
  const cases = [
    ['loopback', '203.0.113.9'],
    ['127.0.0.1/8, 203.0.113.0/24', '198.51.100.1'],
    [['loopback', '203.0.113.9'], '198.51.100.1'],
    [1, '203.0.113.9'], // the peer only
    [2, '198.51.100.1'],
    [5, '198.51.100.1'], // more hops than there are: the leftmost
    [true, '198.51.100.1'],
    [(addr, i) => i < 1, '203.0.113.9']
  ]
  for (const [trustProxy, client] of cases) {
    for (const flavour of [express, express5]) {
      // The app's setting is the same value: req.ip is Express's answer.
      const app = await serve(t, { trustProxy, setting: trustProxy, flavour })
      const { status, body, line } = await app.get('/ip', headers)
      assert.equal(status, 200)
      assert.equal(body.ip, client, `Express: ${String(trustProxy)}`)
      assert.equal(line.req.remoteAddress, client, String(trustProxy))
      assert.equal(line.req.protocol, 'https')
      assert.equal(body.protocol, 'https')
      assert.equal(line.req.peerAddress, '127.0.0.1')
      assert.equal(typeof line.req.peerPort, 'number')
      assert.equal('remotePort' in line.req, false, 'a forwarded client\'s port is not known')
    }
  }
  // No header: the peer, with its port.
  const app = await serve(t, { trustProxy: 'loopback' })
  const { line } = await app.get('/ip')
  assert.deepEqual([line.req.remoteAddress, typeof line.req.remotePort, line.req.protocol, line.req.peerAddress], ['127.0.0.1', 'number', 'http', undefined])
})

test('the app\'s trust proxy setting is followed when trustProxy is left out; an explicit trustProxy wins', async (t) => {
  const followed = await serve(t, { setting: 'loopback' })
  const a = await followed.get('/ip', SPOOF)
  assert.equal(a.line.req.remoteAddress, '203.0.113.9')
  assert.equal(a.body.ip, '203.0.113.9')
  const overridden = await serve(t, { setting: true, trustProxy: false })
  const b = await overridden.get('/ip', SPOOF)
  assert.equal(b.body.ip, '203.0.113.9')
  assert.equal(b.line.req.remoteAddress, '127.0.0.1')
  // The setting's default (false) trusts no hop.
  const off = await serve(t, { setting: false })
  assert.equal((await off.get('/ip', SPOOF)).line.req.remoteAddress, '127.0.0.1')
})

test('errorHandler\'s lines carry the client as requestLogger does; without trustProxy the peer', async (t) => {
  const trusted = await serve(t, { trustProxy: 'loopback' })
  const a = await trusted.get('/fail', SPOOF)
  assert.equal(a.status, 500)
  const failed = await waitFor(() => a.all().find((l) => l.msg === 'GET /fail failed with 500'), { what: 'the error line' })
  assert.equal(failed.remoteAddress, '203.0.113.9')
  assert.equal(failed.protocol, 'https')
  assert.equal(a.line.req.remoteAddress, '203.0.113.9')

  const plain = await serve(t)
  const b = await plain.get('/fail', SPOOF)
  const line = await waitFor(() => b.all().find((l) => l.msg === 'GET /fail failed with 500'), { what: 'the error line' })
  assert.equal(line.remoteAddress, '127.0.0.1')
  assert.equal('protocol' in line, false)

  // Each middleware has its own option: errorHandler alone trusting.
  const mixed = await serve(t, { errors: { trustProxy: 1 } })
  const c = await mixed.get('/fail', SPOOF)
  const mixedLine = await waitFor(() => c.all().find((l) => l.msg === 'GET /fail failed with 500'), { what: 'the error line' })
  assert.equal(mixedLine.remoteAddress, '203.0.113.9')
  assert.equal(c.line.req.remoteAddress, '127.0.0.1')
})

test('a trust function that throws never fails a request: the peer is logged, the error once', async (t) => {
  const app = await serve(t, { trustProxy: () => { throw new Error('bad trust') } })
  for (let i = 0; i < 3; i++) {
    const { status, line } = await app.get('/ip', SPOOF)
    assert.equal(status, 200)
    assert.equal(line.req.remoteAddress, '127.0.0.1')
  }
  const failed = await app.get('/fail', SPOOF)
  assert.equal(failed.status, 500)
  const all = await waitFor(() => {
    const l = failed.all()
    return l.some((x) => x.msg === 'GET /fail failed with 500') && l
  }, { what: 'the error line' })
  assert.equal(all.find((x) => x.msg === 'GET /fail failed with 500').remoteAddress, '127.0.0.1')
  assert.equal(all.filter((x) => /^requestLogger trustProxy threw/.test(x.msg)).length, 1)
  assert.equal(all.filter((x) => /^errorHandler trustProxy threw/.test(x.msg)).length, 1)
})

test('bad trustProxy values throw a TypeError naming the option, for both middlewares', () => {
  const log = prodkit.createLogger({ destination: '/dev/null' })
  for (const value of [1.5, -1, NaN, 'not an address', '', ['10.0.0.1', 3], ['10.0.0.1/99'], {}, null, Symbol('x')]) {
    assert.throws(() => prodkit.express.requestLogger({ log, trustProxy: value }), (err) => err instanceof TypeError && /requestLogger trustProxy/.test(err.message), String(value?.toString?.() ?? value))
    assert.throws(() => prodkit.express.errorHandler({ log, trustProxy: value }), (err) => err instanceof TypeError && /errorHandler trustProxy/.test(err.message))
  }
})

test('through nginx (the generated config) with trustProxy \'loopback\': the app logs the client nginx\'s access log shows', async (t) => {
  if (!needsNginx(t)) return
  const ws = workspace(t)
  const { dir } = ws
  const [appPort, port] = [await freePort(), await freePort()]
  const accessLog = path.join(dir, 'access.log')
  const appLog = path.join(dir, 'app.log')
  const config = generate(['--port', String(appPort), '--listen', `127.0.0.1:${port}`, '--access-log', accessLog])
  await startApp(ws, appPort, appLog, { app: path.join(__dirname, 'fixtures', 'trust-proxy-app.js'), env: { TRUST_PROXY: '"loopback"' } })
  await startNginx(ws, config, [port])

  // The client connects from 127.0.0.2 and says it is someone else: nginx replaces that.
  const answer = await get(`http://127.0.0.1:${port}/ip`, { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' }, '127.0.0.2')
  assert.equal(answer.status, 200)
  const access = await waitFor(() => lines(accessLog).find((l) => l.uri === '/ip'), { ...WAIT, what: 'the access log line' })
  assert.equal(access.client, '127.0.0.2')
  const logged = await waitFor(() => lines(appLog).find((l) => l.requestId === access.requestId && l.msg === 'request completed'), { ...WAIT, what: 'the app\'s line' })
  assert.equal(logged.req.remoteAddress, access.client)
  assert.equal(logged.req.peerAddress, '127.0.0.1', 'nginx')
  assert.equal(logged.req.protocol, 'http', 'nginx\'s $scheme, not the client\'s header')

  const failed = await get(`http://127.0.0.1:${port}/fail`, { 'x-forwarded-for': '6.6.6.6' }, '127.0.0.2')
  assert.equal(failed.status, 500, 'the app\'s own 500 passes through nginx')
  const failedAccess = await waitFor(() => lines(accessLog).find((l) => l.uri === '/fail'), { ...WAIT, what: 'the access log line of /fail' })
  const errorLine = await waitFor(() => lines(appLog).find((l) => l.requestId === failedAccess.requestId && l.msg === 'GET /fail failed with 500'), { ...WAIT, what: 'errorHandler\'s line' })
  assert.equal(errorLine.remoteAddress, failedAccess.client)
  assert.equal(errorLine.remoteAddress, '127.0.0.2')
})

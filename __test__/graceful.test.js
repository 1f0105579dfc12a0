'use strict'
// prodkit.graceful(server) and prodkit.health() in one process: draining stops accepting,
// keeps serving requests on open keep-alive sockets with `Connection: close`, never
// destroys a keep-alive socket the moment the drain starts, lets in-flight responses
// finish, answers 503 on the health handler, and cuts off what is still open at the
// deadline. (A drain is once per process: this file drains once, with two servers.)

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const prodkit = require('..')
const { drainAll } = require('../lib/cluster/graceful')

function listen (server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
}

function get (port, path, agent) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode, body, connection: res.headers.connection, headers: res.headers }))
    }).on('error', reject)
  })
}

test('drain: stop accepting, Connection: close on open sockets, idle sockets kept until a sweep, deadline', async () => {
  const health = prodkit.health()
  let slowStarted
  const slowArrived = new Promise((resolve) => { slowStarted = resolve })
  let finishSlow // the test ends the slow response when it has checked the drain: no timer races the deadline
  const app = prodkit.graceful(http.createServer((req, res) => {
    if (req.url === '/health') return health(req, res)
    if (req.url === '/slow') {
      finishSlow = () => res.end('slow done')
      return slowStarted()
    }
    res.end('ok')
  }))
  const serverSockets = []
  app.on('connection', (socket) => serverSockets.push(socket))
  let hungArrived
  const hungStarted = new Promise((resolve) => { hungArrived = resolve })
  const hung = prodkit.graceful(http.createServer(() => hungArrived())) // never answers
  const [port, hungPort] = await Promise.all([listen(app), listen(hung)])

  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const before = await get(port, '/health', keepAlive)
  assert.deepEqual([before.status, JSON.parse(before.body).status, before.connection], [200, 'ok', 'keep-alive'])
  // The state only: nothing that tells an outside caller which process answered.
  assert.deepEqual(JSON.parse(before.body), { status: 'ok' })
  assert.ok(!JSON.stringify([before.body, before.headers]).includes(String(process.pid)), 'the pid is not served')
  const slow = get(port, '/slow', new http.Agent({ keepAlive: true }))
  const hungResponse = get(hungPort, '/', false).then(() => 'answered', (err) => err.code)
  await Promise.all([slowArrived, hungStarted])

  const drained = drainAll({ timeoutMs: 3000 })
  // Node's own http close() would have destroyed this idle keep-alive socket right here.
  assert.equal(serverSockets[0].destroyed, false)
  // Sent at once on the open keep-alive socket, before the first sweep can find it idle
  // (however slow this machine is: the bytes are in the server's buffer before the sweep).
  const duringResponse = get(port, '/health', keepAlive)
  await assert.rejects(get(port, '/', false), { code: 'ECONNREFUSED' })
  // The open keep-alive socket still carries a request: answered, and told to close.
  const during = await duringResponse
  assert.deepEqual([during.status, JSON.parse(during.body).status, during.connection], [503, 'draining', 'close'])
  assert.deepEqual(JSON.parse(during.body), { status: 'draining' })
  finishSlow()
  const slowResult = await slow
  assert.deepEqual([slowResult.status, slowResult.body, slowResult.connection], [200, 'slow done', 'close'])
  assert.equal(await hungResponse, 'ECONNRESET') // cut off at the deadline
  await drained
  assert.equal(app.listening, false)
  assert.equal(hung.listening, false)
  assert.ok(serverSockets.every((s) => s.destroyed))
})

test('graceful() takes only servers', () => {
  assert.throws(() => prodkit.graceful({}), /graceful\(server\) needs a net.Server/)
})

'use strict'
// One contender of bench/http.js: an Express 5 "hello world" on a loopback port, with no
// request logging, with pino-http 10 (pino's sync or async file destination) or with
// prodkit's requestLogger() (its file destination), both with their default options.
// Tells its port over IPC; told 'start' (after the warm-up), notes its CPU time and the
// requests handled so far; told 'done', flushes its log (the flush is part of the cost)
// and answers the CPU time per request it spent since 'start' (all its threads: pino's
// and prodkit's writers included), the requests it handled and the lines in the log.
//
//   node bench/http-server.js none|pino-http-sync|pino-http-async|prodkit <log file> [--js N]
//
// With --js N: no server; N requests made in the process (a request over a socket that is
// not connected, the response's 'finish' and 'close' emitted by hand, 4 per event-loop
// turn) go through the same app, and the JS-thread time per request is printed as JSON:
// the middleware's own cost, without the network and far less swayed than throughput by a
// busy machine. bench/http.js --instructions runs it under callgrind: instruction counts,
// the same from run to run whatever else the machine does.

const fs = require('node:fs')
const express = require('express5')

const [contender, file] = process.argv.slice(2)
const app = express()
let flush = async () => {}
if (contender === 'pino-http-sync' || contender === 'pino-http-async') {
  const pino = require('pino')
  const pinoHttp = require('pino-http')
  const destination = pino.destination({ dest: file, sync: contender === 'pino-http-sync' })
  app.use(pinoHttp({}, destination))
  // end(): whatever the async destination still buffers is written before 'close'.
  flush = () => new Promise((resolve) => { destination.once('close', resolve); destination.end() })
} else if (contender === 'prodkit') {
  const prodkit = require('..')
  const log = prodkit.createLogger({ destination: file, level: 'info' })
  app.use(prodkit.express.requestLogger({ log }))
  flush = () => log.flush()
} else if (contender !== 'none') {
  throw new TypeError(`unknown contender ${contender}`)
}
let handled = 0
app.get('/', (req, res) => { handled++; res.send('hello world') })

if (process.argv[4] === '--js') {
  const http = require('node:http')
  const net = require('node:net')
  const { setImmediate } = require('node:timers')
  const n = Number(process.argv[5])
  // As a server sees them: 'finish', then 'close' on the next tick (Node's resOnFinish),
  // and a few requests per event-loop turn (what the loaded server does): a logger that
  // hands its lines over once per turn pays for that here too.
  const PER_TURN = 4
  const one = () => {
    const req = new http.IncomingMessage(new net.Socket())
    req.method = 'GET'
    req.url = '/'
    req.headers = { host: '127.0.0.1:3000', 'user-agent': 'autocannon', connection: 'keep-alive' }
    const res = new http.ServerResponse(req)
    app(req, res)
    res.emit('finish')
    process.nextTick(() => res.emit('close'))
  }
  const time = (count) => new Promise((resolve) => {
    const t0 = process.hrtime.bigint()
    let left = count
    const turn = () => {
      for (let i = 0; i < PER_TURN && left > 0; i++, left--) one()
      if (left > 0) return setImmediate(turn)
      resolve(Number(process.hrtime.bigint() - t0) / 1000 / count)
    }
    turn()
  })
  const run = async () => {
    await time(Math.min(n, 5000)) // warm-up
    const us = await time(n)
    await flush()
    process.stdout.write(JSON.stringify({ usPerRequest: us, handled }) + '\n')
    process.exit(0)
  }
  run()
  return
}

const server = app.listen(0, '127.0.0.1', () => process.send(server.address().port))
let cpuAtStart = null
let handledAtStart = 0
process.on('message', async (message) => {
  if (message === 'start') {
    cpuAtStart = process.cpuUsage()
    handledAtStart = handled
    return process.send('started')
  }
  server.close()
  server.closeAllConnections()
  await flush()
  const cpu = process.cpuUsage(cpuAtStart)
  const cpuUsPerRequest = (cpu.user + cpu.system) / (handled - handledAtStart)
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length - 1 : 0
  process.send({ handled, lines, cpuUsPerRequest }, () => process.exit(0))
})

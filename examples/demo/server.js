'use strict'
// The @oj/prodkit demo: a small "orders" API on Express 4.
//
//   npm run demo                       JSON lines on stdout, one per event
//   npm run demo | npx pino-pretty     the same lines, made readable
//
//   curl localhost:3000/orders/42
//   curl localhost:3000/orders/abc     (404, logged at warn)
//   curl -X POST localhost:3000/orders -H 'content-type: application/json' \
//        -d '{"amount": 12.5, "email": "ann@example.com"}'
//
// PORT sets the port (default 3000; PORT=0 picks a free one). NODE_ENV=production or
// LOG_LEVEL=info hides the debug lines. Ctrl-C (or SIGTERM) shuts down cleanly.

const prodkit = require('@oj/prodkit')
const kit = prodkit.install({ service: 'demo' })
const { log } = kit

const crypto = require('node:crypto')
const express = require('express')

const app = express()

// Before the request logger: health checks are frequent and not worth a line.
app.get('/health', (req, res) => res.json({ ok: true }))

// Every request gets a child logger carrying its id, and one line when it is answered.
const WELL_FORMED_ID = /^[\w.:-]{1,128}$/
app.use((req, res, next) => {
  const header = req.get('X-Request-Id')
  const requestId = header && WELL_FORMED_ID.test(header) ? header : crypto.randomUUID()
  req.log = log.child({ requestId })
  res.set('X-Request-Id', requestId)
  const start = performance.now()
  res.on('finish', () => {
    const status = res.statusCode
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info'
    const durationMs = Math.round((performance.now() - start) * 100) / 100
    req.log[level]({ method: req.method, url: req.originalUrl, status, durationMs }, 'request completed')
  })
  next()
})

app.get('/orders/:id', (req, res) => {
  const { id } = req.params
  if (!/^\d+$/.test(id)) return res.status(404).json({ error: `no order ${id}` })
  req.log.debug({ orderId: id }, 'order looked up')
  res.json({ id: Number(id), status: 'shipped', amount: 42.5, currency: 'EUR' })
})

app.post('/orders', express.json(), (req, res) => {
  const { amount, email } = req.body || {}
  if (typeof amount !== 'number' || !(amount > 0)) {
    return res.status(400).json({ error: 'amount must be a positive number' })
  }
  const order = { id: crypto.randomInt(1e6), amount, email }
  req.log.info({ order }, 'order placed')
  res.status(201).json(order)
})

app.use((req, res) => res.status(404).json({ error: 'not found' }))

// Errors, including malformed JSON bodies (400), answer JSON instead of an HTML page.
app.use((err, req, res, next) => {
  const status = err.status >= 400 && err.status < 600 ? err.status : 500
  if (status >= 500) req.log.error(err, 'request failed')
  res.status(status).json({ error: status >= 500 ? 'internal error' : err.message })
})

const server = app.listen(Number(process.env.PORT || 3000), () => {
  log.info({ port: server.address().port }, 'listening')
})
// Such as EADDRINUSE. Lines still queued are written at exit.
server.on('error', (err) => {
  log.fatal(err, 'server error')
  process.exit(1)
})

// Stop taking requests, let those in flight finish, write every log line, exit.
// A second Ctrl-C during shutdown exits at once (the handlers are `once`).
function shutdown (signal) {
  log.info({ signal }, 'shutting down')
  server.close(async () => {
    await kit.flush()
    process.exit(0)
  })
}
process.once('SIGTERM', shutdown)
process.once('SIGINT', shutdown)

'use strict'
// The @oj/prodkit demo: a small "orders" API on Express 4.
//
//   npm run demo                       JSON lines on stdout, one per event
//   npm run -s demo | npx pino-pretty  the same lines, made readable
//
//   curl localhost:3000/orders/42
//   curl localhost:3000/orders/abc     (404, logged at warn)
//   curl localhost:3000/orders/0       (500: a bug, logged at error. The answer shows the stack:
//                                       npm run demo leaves NODE_ENV unset; with
//                                       NODE_ENV=production npm run demo it shows only
//                                       "Internal Server Error", as a service should)
//   curl -X POST localhost:3000/orders -H 'content-type: application/json' \
//        -d '{"amount": 12.5, "email": "ann@example.com"}'
//   curl localhost:3000/metrics        (Prometheus text: process, system, event loop, app)
//
// PORT sets the port (default 3000; PORT=0 picks a free one). NODE_ENV=production or
// LOG_LEVEL=info hides the debug lines. Ctrl-C (or SIGTERM) shuts down cleanly: prodkit
// runs the shutdown hooks, writes every log line and exits 0. A crash is logged as fatal
// and the process exits 1, for its supervisor to restart it.

const prodkit = require('@oj/prodkit')
const kit = prodkit.install({ service: 'demo' })
const { log } = kit

const crypto = require('node:crypto')
const express = require('express')

// App metrics: a counter of orders by payment method, and a timer around the (fake)
// payment provider call.
const ordersPlaced = kit.metrics.counter('demo_orders_placed_total', { help: 'Orders placed.', labelNames: ['method'] })
const charge = kit.metrics.timer('demo_payment_seconds', { help: 'Time spent charging the payment provider.' })
  .wrap(async (amount) => { await new Promise((resolve) => setTimeout(resolve, 5)); return { charged: amount } })

const app = express()
// A request id (X-Request-Id), req.log, and one line per response; health checks skipped.
// First, before any body parser: a parser that fails skips every middleware after it.
app.use(prodkit.express.requestLogger({ skip: ['/health', '/metrics'] }))

app.get('/health', (req, res) => res.json({ ok: true }))
app.get('/metrics', prodkit.express.metricsHandler())

app.get('/orders/:id', (req, res) => {
  const { id } = req.params
  if (!/^\d+$/.test(id)) return res.status(404).json({ error: `no order ${id}` })
  if (id === '0') throw new Error('order 0 broke the invoice renderer')
  req.log.debug({ orderId: id }, 'order looked up')
  res.json({ id: Number(id), status: 'shipped', amount: 42.5, currency: 'EUR' })
})

app.post('/orders', express.json(), async (req, res, next) => {
  const { amount, email, method = 'card' } = req.body || {}
  if (typeof amount !== 'number' || !(amount > 0)) {
    return res.status(400).json({ error: 'amount must be a positive number' })
  }
  try {
    await charge(amount)
  } catch (err) {
    return next(err)
  }
  const order = { id: crypto.randomInt(1e6), amount, email }
  ordersPlaced.inc({ method: String(method) })
  req.log.info({ order }, 'order placed')
  res.status(201).json(order)
})

app.use((req, res) => res.status(404).json({ error: 'not found' }))
// Last: logs the error with the request's context, answers a friendly page or JSON.
app.use(prodkit.express.errorHandler())

const server = app.listen(Number(process.env.PORT || 3000), () => {
  log.info({ port: server.address().port }, 'listening')
})
// Such as EADDRINUSE: thrown, so prodkit logs it as fatal and exits 1.
server.on('error', (err) => { throw err })

// At shutdown: stop taking requests and let those in flight finish.
kit.onShutdown(() => new Promise((resolve) => server.close(resolve)), { name: 'http server', timeoutMs: 3000 })

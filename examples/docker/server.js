'use strict'
// The service: one HTTP server. Under `prodkit run` (Dockerfile) each worker runs this
// file; prodkit tracks the server and drains it at shutdown.
const http = require('node:http')
const prodkit = require('@oj/prodkit')

const kit = prodkit.install({ service: 'shop' })

const server = http.createServer((req, res) => {
  if (req.url === '/health') return prodkit.health()(req, res)
  res.setHeader('Content-Type', 'application/json')
  res.end(JSON.stringify({ hello: 'world' }))
})
server.listen(Number(process.env.PORT || 3000), () => {
  kit.log.info({ port: server.address().port }, 'listening')
})

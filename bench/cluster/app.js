'use strict'
// The app both contenders run in cluster mode: a plain Node HTTP server with no shutdown
// code of its own (what PM2's "81 failed requests" figure was measured on). GET / answers
// with the worker's pid; GET /crash ends the worker, as a crash would.
const http = require('node:http')

http.createServer((req, res) => {
  if (req.url === '/crash') {
    res.destroy()
    process.exit(1)
  }
  res.setHeader('Content-Type', 'application/json')
  res.end(JSON.stringify({ pid: process.pid }))
}).listen(Number(process.env.PORT), '127.0.0.1')

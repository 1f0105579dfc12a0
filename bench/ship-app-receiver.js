'use strict'
// A stand-in for ClickHouse's HTTP interface, for bench/ship-app.js only: in its own
// process (the benchmark's parent blocks while a run goes), it answers `SELECT version()`
// with an old version (so no deduplication token is sent) and every INSERT with 200, and
// appends each insert's body (JSONEachRow: one line per row, the log line as written) to
// the file given, which the parent then checks line by line like the log file itself.
// It measures what shipping costs the app, not what ClickHouse costs: it stores nothing
// else and does no parsing.
//
//   node bench/ship-app-receiver.js <out-file>    prints its port on stdout

const fs = require('node:fs')
const http = require('node:http')

const out = fs.openSync(process.argv[2], 'a')
const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    if (req.method === 'GET') {
      res.end(req.url.includes('version()') ? '18.16.1\n' : '')
      return
    }
    fs.writeSync(out, Buffer.concat(chunks))
    res.end()
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`))
// Every body is written synchronously before its answer: nothing to flush.
process.on('SIGTERM', () => { fs.closeSync(out); process.exit(0) })

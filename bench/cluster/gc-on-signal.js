'use strict'
// Loaded into every process of the restart run (NODE_OPTIONS="--expose-gc --require
// <this file>", which PM2's daemon inherits too): on SIGWINCH, a full garbage collection,
// then a file named after the pid in BENCH_GC_DIR with the JavaScript heap in use, which
// the benchmark waits for before it reads the primary's RSS (see index.js, 3.).
const fs = require('node:fs')
const path = require('node:path')

const dir = process.env.BENCH_GC_DIR
if (dir && typeof global.gc === 'function') {
  process.on('SIGWINCH', () => {
    global.gc()
    fs.writeFileSync(path.join(dir, String(process.pid)), JSON.stringify({ heapUsed: process.memoryUsage().heapUsed }))
  })
}

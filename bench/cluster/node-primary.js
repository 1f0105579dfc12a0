'use strict'
// The baseline of the restart figures: a bare node:cluster primary that re-forks a worker
// when one exits, and does nothing else (no reload, no backoff, no logging).
const cluster = require('node:cluster')
const path = require('node:path')

cluster.setupPrimary({ exec: path.join(__dirname, 'app.js') })
cluster.on('exit', () => cluster.fork())
for (let i = 0; i < Number(process.env.WORKERS); i++) cluster.fork()

'use strict'
// prodkit's side of the benchmark: the app clustered with prodkit.cluster(). For the
// 1,000-restart run, restarts are immediate and the crash-loop guard is off, as PM2's
// defaults and --max-restarts have it (prodkit's default backoff would double the delay
// of every crash within 30 s of a start).
const path = require('node:path')
const prodkit = require('../..')

prodkit.cluster({
  start: path.join(__dirname, 'app.js'),
  workers: Number(process.env.WORKERS),
  crashLoop: false,
  restart: { baseMs: 0, factor: 1, maxMs: 0 },
  install: { service: 'bench', log: { destination: process.env.LOG_FILE }, productionWarning: false }
})

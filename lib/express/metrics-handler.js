'use strict'
// metricsHandler(): serves the Prometheus text from an Express route
// (app.get('/metrics', prodkit.express.metricsHandler())), or OpenMetrics when the Accept
// header asks for it (lib/metrics/negotiate.js). In a cluster's primary the answer merges
// every worker's metrics. In a worker of a prodkit cluster it asks the primary for that
// same merged view, in the format asked for, over the cluster's IPC channel: a scrape
// through the load balancer, whichever worker takes it, sees the whole cluster (a counter
// never jumps between one worker's value and another's). If the primary does not answer in
// time (metrics off in the primary, the primary busy), the worker serves its own numbers,
// marked as such: every sample labelled with its worker, the header X-Prodkit-Metrics:
// worker, and (in the Prometheus format, which allows comments) a comment line.

const cluster = require('node:cluster')
const { Metrics } = require('../metrics')
const { negotiate } = require('../metrics/negotiate')
const { fail, isPlainObject } = require('../log/options')
const messages = require('../cluster/messages')
const { processState } = require('../cluster/state')

// The primary's own scrape waits up to metrics.clusterTimeoutMs (1 s by default) for the
// workers; this leaves it that and some.
const PRIMARY_TIMEOUT_MS = 3000
let nextId = 1

// Resolves with the merged text, or null when the primary does not answer in time.
function askPrimary (format, timeoutMs) {
  if (!processState().runtime || !cluster.isWorker || !process.connected) return Promise.resolve(null)
  return new Promise((resolve) => {
    const id = `${process.pid}:${nextId++}`
    const done = (text) => {
      clearTimeout(timer)
      process.off('message', onMessage)
      resolve(text)
    }
    const onMessage = (message) => {
      if (messages.isMessage(message, messages.MERGED_METRICS_REPLY) && message.id === id) done(typeof message.text === 'string' ? message.text : null)
    }
    const timer = setTimeout(() => done(null), timeoutMs)
    process.on('message', onMessage)
    if (!messages.send(process, { prodkit: messages.MERGED_METRICS, id, format })) done(null)
  })
}

// This worker's own samples with a worker label: never mistaken for the cluster's.
// OpenMetrics has no free comments, so the note goes only into the Prometheus text.
function workerOnly (text, format = 'prometheus') {
  const worker = cluster.worker.id
  const labelled = text.split('\n').map((line) => {
    if (line === '' || line.startsWith('#')) return line
    const brace = line.indexOf('{')
    const space = line.indexOf(' ')
    if (brace !== -1 && brace < space) return `${line.slice(0, brace + 1)}worker="${worker}",${line.slice(brace + 1)}`.replace(',}', '}')
    return `${line.slice(0, space)}{worker="${worker}"}${line.slice(space)}`
  }).join('\n')
  if (format === 'openmetrics') return labelled
  return `# prodkit: the cluster's primary did not answer: these are worker ${worker}'s own metrics only\n${labelled}`
}

function metricsHandler (options = {}) {
  if (!isPlainObject(options)) throw fail('metricsHandler(options)', 'an object', options)
  for (const key of Object.keys(options)) {
    if (key !== 'metrics') throw new TypeError(`prodkit: unknown option metricsHandler ${key} (known: metrics)`)
  }
  let metrics = options.metrics
  if (metrics === undefined) {
    metrics = require('../index').metrics
    if (!metrics) throw new TypeError('prodkit: metricsHandler needs metrics: call prodkit.install() first (with metrics on), or pass { metrics }')
  }
  if (!(metrics instanceof Metrics)) throw fail('metricsHandler metrics', 'the metrics of a prodkit kit', metrics)
  const send = (res, contentType, text, scope) => {
    res.statusCode = 200
    res.setHeader('Content-Type', contentType)
    res.setHeader('X-Prodkit-Metrics', scope)
    res.end(text)
  }
  return function prodkitMetrics (req, res, next) {
    const { format, contentType } = negotiate(req.headers && req.headers.accept)
    const inWorker = processState().runtime && cluster.isWorker
    askPrimary(format, PRIMARY_TIMEOUT_MS).then((merged) => {
      if (merged !== null) return send(res, contentType, merged, 'cluster')
      return metrics.scrape(format).then((text) => send(res, contentType, inWorker ? workerOnly(text, format) : text, inWorker ? 'worker' : 'process'))
    }).then(null, next)
  }
}

module.exports = { metricsHandler, workerOnly }

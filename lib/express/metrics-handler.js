'use strict'
// metricsHandler(): serves the Prometheus text from an Express route
// (app.get('/metrics', prodkit.express.metricsHandler())), or OpenMetrics when the Accept
// header asks for it (lib/metrics/negotiate.js). In a cluster's primary the answer merges
// every worker's metrics.

const { Metrics } = require('../metrics')
const { fail, isPlainObject } = require('../log/options')

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
  return function prodkitMetrics (req, res, next) {
    metrics.serve(req, res, next)
  }
}

module.exports = { metricsHandler }

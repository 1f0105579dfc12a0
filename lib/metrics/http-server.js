'use strict'
// Incoming HTTP requests: http_server_request_duration_seconds{method, route, status_code},
// recorded for every request that goes through express.requestLogger() (one call,
// `observeHttpServer(req, res)`, when the request starts). The time runs until the response
// finishes or the connection closes.
//
// Bounded cardinality, whatever clients send: `route` is the route template Express
// matched with its mount path (`/orders/:id`, never the URL), or UNMATCHED ('#unmatched')
// when no route matched (a 404, a static file, a plain node:http server); `method` is one
// of the standard methods or '_OTHER' (as OpenTelemetry's semantic conventions do);
// `status_code` is the status sent, or '0' when the client went away before the headers.
// The exemplar of the request's bucket is the trace active when the request started.

const { performance } = require('node:perf_hooks')
const { activeTraceFields } = require('../context/trace')
const { otel } = require('./registry')

const UNMATCHED = '#unmatched'
const NAME = 'http_server_request_duration_seconds'
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY'])
// Kept by requestLogger when Express matches a route (lib/express/request-logger.js).
const { routeTemplateOf } = require('../express/request-state')

// The process's recorder: the latest metrics made with httpServer on (install() makes one).
let active = null

class HttpServerMetrics {
  constructor (registry, buckets) {
    this.histogram = registry.create('histogram', NAME, {
      help: 'Duration of incoming HTTP requests (through requestLogger), by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets
    })
    active = this
  }

  // Times `req` from now; listens for the response's end itself unless `listen` is false
  // (the caller then calls the returned function when the response finishes or closes).
  start (req, res, listen) {
    const started = performance.now()
    let trace = null
    if (otel.api !== undefined) trace = activeTraceFields(otel.api)
    let done = false
    const finish = () => {
      if (done) return
      done = true
      const seconds = (performance.now() - started) / 1000
      const template = routeTemplateOf(req)
      const method = METHODS.has(req.method) ? req.method : '_OTHER'
      const child = this.histogram.labels({
        method,
        route: typeof template === 'string' ? template : UNMATCHED,
        status_code: res.headersSent ? String(res.statusCode) : '0'
      })
      child.observe(seconds)
      if (trace !== null) {
        let i = 0
        while (i < child.buckets.length && seconds > child.buckets[i]) i++
        ;(child.exemplars || (child.exemplars = []))[i] = {
          labels: { trace_id: trace.record.trace_id, span_id: trace.record.span_id },
          value: seconds,
          timestamp: Date.now() / 1000
        }
      }
    }
    if (listen) {
      res.on('finish', finish)
      res.on('close', finish)
    }
    return finish
  }

  close () {
    if (active === this) active = null
  }
}

// requestLogger's one call: times this request when metrics are on. Never throws. With
// `listen` false, returns the function that records the request (to be called once the
// response has finished or closed; more calls do nothing), or null when metrics are off:
// requestLogger, which listens already, spares the response two listeners.
function observeHttpServer (req, res, listen = true) {
  if (active === null) return null
  try {
    return active.start(req, res, listen)
  } catch {
    return null
  }
}

module.exports = { HttpServerMetrics, observeHttpServer, UNMATCHED, NAME }

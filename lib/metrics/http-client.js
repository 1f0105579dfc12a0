'use strict'
// Outgoing HTTP calls, from diagnostics_channel: node:http clients and fetch (undici).
// Recorded in http_client_request_duration_seconds{host, method, status}; its _count is
// the number of calls. A failed call has status "error".

const dc = require('node:diagnostics_channel')

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

function hostOf (request) {
  try {
    if (typeof request.origin === 'string' || (request.origin && request.origin.host)) {
      return new URL(String(request.origin)).host
    }
    const host = typeof request.getHeader === 'function' ? request.getHeader('host') : undefined
    return String(host || request.host || 'unknown')
  } catch {
    return 'unknown'
  }
}

function trackHttpClient (registry) {
  const histogram = registry.create('histogram', 'http_client_request_duration_seconds', {
    help: 'Duration of outgoing HTTP requests (node:http and fetch), by host, method and status.',
    labelNames: ['host', 'method', 'status'],
    buckets: BUCKETS
  })
  const started = new WeakMap()
  const start = (request) => started.set(request, process.hrtime.bigint())
  const finish = (request, status) => {
    const t = started.get(request)
    if (t === undefined) return
    started.delete(request)
    histogram.labels({ host: hostOf(request), method: String(request.method || 'GET'), status: String(status) })
      .observe(Number(process.hrtime.bigint() - t) / 1e9)
  }
  const subscriptions = [
    ['http.client.request.start', ({ request }) => start(request)],
    ['http.client.response.finish', ({ request, response }) => finish(request, response.statusCode)],
    ['http.client.request.error', ({ request }) => finish(request, 'error')],
    ['undici:request:create', ({ request }) => start(request)],
    ['undici:request:headers', ({ request, response }) => finish(request, response.statusCode)],
    ['undici:request:error', ({ request }) => finish(request, 'error')]
  ]
  for (const [name, fn] of subscriptions) dc.subscribe(name, fn)
  return {
    close () {
      for (const [name, fn] of subscriptions) dc.unsubscribe(name, fn)
    }
  }
}

module.exports = { trackHttpClient }

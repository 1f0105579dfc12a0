'use strict'
// requestLogger(): a request id for every request (the caller's X-Request-Id when it is
// well formed, else a new UUID), echoed in the response; `req.log`, a child logger that
// carries it; one line per finished or aborted response with status, duration and bytes
// (at error, `failed: true`, for a response errorHandler cut off after its route failed).

const crypto = require('node:crypto')
const { loggerOption } = require('./logger-option')
const { kFailedAfterStart } = require('./error-handler')
const { fail, isPlainObject } = require('../log/options')
// The rest of the request runs in a prodkit.context run holding its id: every line of any
// logger carries `requestId` (lib/context/).
const context = require('../context')

// Printable, no spaces or quotes, bounded: safe to log and to echo back.
const WELL_FORMED_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/
const KNOWN = ['log', 'skip', 'header']

function skipper (skip) {
  if (skip === undefined) return () => false
  if (typeof skip === 'function') return skip
  if (Array.isArray(skip) && skip.every((p) => typeof p === 'string' || p instanceof RegExp)) {
    return (req) => {
      const path = req.path !== undefined ? req.path : String(req.url).split('?')[0]
      return skip.some((p) => (typeof p === 'string' ? p === path : p.test(path)))
    }
  }
  throw fail('requestLogger skip', 'an array of paths (strings or RegExps) or a function (req) => boolean', skip)
}

// Counts the body bytes the app writes (content-length is absent for streamed responses).
function countBytes (res) {
  let bytes = 0
  const count = (chunk, encoding) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk.length
  }
  const { write, end } = res
  res.write = function (chunk, encoding, cb) {
    count(chunk, encoding)
    return write.call(this, chunk, encoding, cb)
  }
  res.end = function (chunk, encoding, cb) {
    count(chunk, encoding)
    return end.call(this, chunk, encoding, cb)
  }
  return () => bytes
}

function levelFor (status, aborted, failed) {
  if (failed) return 'error'
  if (aborted) return 'warn'
  if (status >= 500) return 'error'
  if (status >= 400) return 'warn'
  return 'info'
}

function requestLogger (options = {}) {
  if (!isPlainObject(options)) throw fail('requestLogger(options)', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new TypeError(`prodkit: unknown option requestLogger ${key} (known: ${KNOWN.join(', ')})`)
  }
  const log = loggerOption('requestLogger', options.log)
  const shouldSkip = skipper(options.skip)
  const header = options.header === undefined ? 'x-request-id' : options.header
  if (typeof header !== 'string' || header === '') throw fail('requestLogger header', 'a header name', header)

  return function prodkitRequestLogger (req, res, next) {
    const given = req.headers[header.toLowerCase()]
    const requestId = typeof given === 'string' && WELL_FORMED_ID.test(given) ? given : crypto.randomUUID()
    req.id = requestId
    req.log = log.child({ requestId })
    res.setHeader(header, requestId)
    if (shouldSkip(req)) return context.run({ requestId }, next)

    const started = process.hrtime.bigint()
    const bytes = countBytes(res)
    let logged = false
    const done = () => {
      if (logged) return
      logged = true
      // Cut off by errorHandler after the route failed mid-response (not the client's doing).
      const failed = res[kFailedAfterStart] === true
      const aborted = !failed && !res.writableFinished
      const status = res.statusCode
      req.log[levelFor(status, aborted, failed)]({
        method: req.method,
        url: req.originalUrl || req.url,
        status,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        bytes: bytes(),
        remoteAddress: req.socket && req.socket.remoteAddress,
        ...(aborted ? { aborted: true } : {}),
        ...(failed ? { failed: true } : {})
      }, failed ? 'request failed after its response started' : aborted ? 'request aborted' : 'request completed')
    }
    res.once('finish', done)
    res.once('close', done)
    context.run({ requestId }, next)
  }
}

module.exports = { requestLogger, WELL_FORMED_ID }

'use strict'
// errorHandler(): the catch-all Express error middleware, for last place. Logs the error
// with the request's context and answers a friendly HTML page, JSON or text, chosen by
// the Accept header. In production a 5xx never shows its message or stack; outside
// production the stack is shown to help the developer. The line's remoteAddress is the
// socket's peer, or behind trusted proxies (trustProxy, or the app's `trust proxy`
// setting) the client they name, with its protocol (lib/express/trust-proxy.js).

const http = require('node:http')
const { loggerOption } = require('./logger-option')
const { fail, isPlainObject } = require('../log/options')
const { redactUrl } = require('./redact-query')
const { redactQueryOf } = require('./request-state')
const { compileTrust, trustFor, clientOf } = require('./trust-proxy')

const KNOWN = ['log', 'html', 'production', 'trustProxy']
// Set on a response whose route failed after it had started: requestLogger logs it as
// failed, not as aborted by the client. Shared by name, as two copies of prodkit may meet.
const kFailedAfterStart = Symbol.for('@oj/prodkit.express.failedAfterStart')

function escapeHtml (text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

// The default page: plain, friendly, no framework, no leak.
function defaultHtml ({ status, title, message, requestId, stack }) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${status} ${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}code,pre{font-size:.85rem}pre{overflow:auto;background:#f4f4f4;padding:1rem}</style></head>
<body><h1>${status} · ${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
${status >= 500 ? '<p>Something went wrong on our side. Please try again in a moment.</p>' : ''}
${requestId ? `<p>Reference: <code>${escapeHtml(requestId)}</code></p>` : ''}
${stack ? `<pre>${escapeHtml(stack)}</pre>` : ''}
</body></html>
`
}

// 4xx and 5xx from err.status / err.statusCode; anything else is a 500.
function statusOf (err) {
  const status = err && (err.status ?? err.statusCode)
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500
}

function errorHandler (options = {}) {
  if (!isPlainObject(options)) throw fail('errorHandler(options)', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new TypeError(`prodkit: unknown option errorHandler ${key} (known: ${KNOWN.join(', ')})`)
  }
  const log = loggerOption('errorHandler', options.log)
  const html = options.html === undefined ? defaultHtml : options.html
  if (typeof html !== 'function') throw fail('errorHandler html', 'a function (details) => string', html)
  if (options.production !== undefined && typeof options.production !== 'boolean') {
    throw fail('errorHandler production', 'true or false (default: NODE_ENV === "production")', options.production)
  }
  const trust = compileTrust('errorHandler', options.trustProxy)
  let reported = false
  // The client's address (and, behind trusted proxies, its protocol) for the error line.
  const whereFrom = (req, logger) => {
    const t = trustFor(trust, req)
    if (t === null) return { remoteAddress: req.socket && req.socket.remoteAddress }
    const client = clientOf(t, req, (err) => {
      if (reported) return
      reported = true
      logger.error({ err }, 'errorHandler trustProxy threw: the socket\'s peer was logged (logged once)')
    })
    return { remoteAddress: client.address, protocol: client.protocol }
  }

  // Four arguments: that is how Express recognises an error handler.
  return function prodkitErrorHandler (err, req, res, next) {
    const error = err instanceof Error ? err : Object.assign(new Error(`non-error thrown: ${String(err)}`), { thrown: err })
    if (res.headersSent) return failedAfterStart(req.log || log, error, req, res, whereFrom)
    const production = options.production ?? process.env.NODE_ENV === 'production'
    const status = statusOf(err)
    const expose = status >= 500 && production ? false : typeof err?.expose === 'boolean' ? err.expose : status < 500 || !production
    const title = http.STATUS_CODES[status] || 'Error'
    const message = expose ? String(error.message) : title
    const stack = production ? undefined : String(error.stack)
    const requestId = req.id

    const logger = req.log || log
    const url = loggedUrl(req)
    logger[status >= 500 ? 'error' : 'warn']({
      err: error,
      ...idUnlessBound(req),
      method: req.method,
      url,
      status,
      ...whereFrom(req, logger)
    }, `${req.method} ${url} failed with ${status}`)

    const details = { status, title, message, requestId, stack }
    res.statusCode = status
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('X-Content-Type-Options', 'nosniff')
    const type = typeof req.accepts === 'function' ? req.accepts(['json', 'html', 'text']) : 'json'
    if (type === 'html') {
      let page
      try {
        page = html(details)
      } catch (pageErr) {
        logger.error({ err: pageErr }, 'errorHandler html() failed: the default page was used')
        page = defaultHtml(details)
      }
      res.setHeader('Content-Type', 'text/html; charset=utf-8')
      res.end(page)
    } else if (type === 'text') {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8')
      res.end(`${status} ${message}${requestId ? ` (reference ${requestId})` : ''}\n${stack ? `\n${stack}\n` : ''}`)
    } else {
      res.setHeader('Content-Type', 'application/json; charset=utf-8')
      res.end(JSON.stringify({ error: { status, message, ...(requestId ? { requestId } : {}), ...(stack ? { stack } : {}) } }))
    }
  }
}

// req.log (requestLogger's child) already carries the request id: a line written through
// it must not carry it a second time. Without req.log, the line says the id itself.
function idUnlessBound (req) {
  return req.log || req.id === undefined ? {} : { requestId: req.id }
}

// The URL with the query parameters requestLogger() redacts (its default list without it).
function loggedUrl (req) {
  return redactUrl(req.originalUrl || req.url, redactQueryOf(req) || undefined)
}

// A route failed after its response started (`res.write(...)` then a throw, or
// `next(err)`): no error page can be sent any more. Express's own final handler would
// print the raw stack on stderr (not a log line) and close the connection, and the
// request would look aborted by the client. Instead: an error line with the request's
// context, and the connection closed, so that the client sees a cut-off response (a
// chunked body without its last chunk, or fewer bytes than Content-Length), never one
// that looks complete, nor one that hangs.
function failedAfterStart (logger, error, req, res, whereFrom) {
  const url = loggedUrl(req)
  const finished = res.writableEnded
  if (!finished) res[kFailedAfterStart] = true
  logger.error({
    err: error,
    ...idUnlessBound(req),
    method: req.method,
    url,
    status: res.statusCode,
    ...whereFrom(req, logger)
  }, finished
    ? `${req.method} ${url} failed after its response was sent`
    : `${req.method} ${url} failed after its response started: response cut off`)
  // A response already ended went out whole: only its connection is not reused.
  if (finished) {
    res.shouldKeepAlive = false
    return
  }
  // What the route wrote goes out, then the connection closes: the client gets the
  // bytes it was sent and sees the body end early. A client that stops reading does not
  // keep the socket: it is destroyed after CUT_OFF_MS.
  const socket = res.socket
  if (!socket || typeof socket.destroySoon !== 'function') return res.destroy()
  const timer = setTimeout(() => socket.destroy(), CUT_OFF_MS)
  timer.unref()
  socket.once('close', () => clearTimeout(timer))
  socket.destroySoon()
}

const CUT_OFF_MS = 5_000

module.exports = { errorHandler, defaultHtml, kFailedAfterStart }

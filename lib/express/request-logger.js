'use strict'
// requestLogger(): a request id for every request (the caller's X-Request-Id when it is
// well formed, else a new UUID, or options.genReqId's), echoed in the response; `req.log`,
// a child logger that carries it; one line per finished or aborted response in pino-http's
// shape (`req`, `res`, `responseTime`, "request completed" / "request errored"), plus the
// route template, the body bytes, and `aborted` / `failed: true` (a response errorHandler
// cut off after its route failed). pino-http's options are taken under their names, so
// that replacing pino-http is a change of import; docs/express.md lists what differs.
//
// Guarantees: no key twice on a line (the request id is req.log's binding or, on a
// request whose handlers never used req.log, the line's first field: never both); with
// Express, req.log is made on first use, so a request that logs nothing else pays for
// no child logger; the client's address is captured when the request starts, so an aborted
// request (its socket gone) still carries it; secrets named in the query string and in
// the credential headers are redacted; behind trusted proxies (trustProxy, or the app's
// `trust proxy` setting) req.remoteAddress is the client they name and req.protocol how it
// connected, else the forwarded headers are never read; a callback option that throws never throws from
// a response's 'finish' (the host app would crash): its default is used and the error
// is logged once. Bad options throw a TypeError when the middleware is made.
//
// Cost: on Express, requestLogger adds no property to a request or a response (its state
// is beside the request, and `req.id`, which pino-http sets as a property, is an accessor
// on Express's prototype: ./request-state.js says why), and listens with one 'finish' and
// one 'close' listener, shared with the request-duration metric.

const crypto = require('node:crypto')
const http = require('node:http')
const { performance } = require('node:perf_hooks')
const { loggerOption } = require('./logger-option')
const { kFailedAfterStart } = require('./error-handler')
const { kRedactQuery, redactUrl, redactQueryObject, DEFAULT_REDACT_QUERY } = require('./redact-query')
const { RequestState, stateOf, setState, kRoute, kRouteTemplate, kLog, kId } = require('./request-state')
const { fail, isPlainObject } = require('../log/options')
const { compileTrust, trustFor, clientOf } = require('./trust-proxy')
// The rest of the request runs in a prodkit.context run holding its id: every line of any
// logger carries `requestId` (lib/context/).
const context = require('../context')
const { observeHttpServer } = require('../metrics/http-server')

// Printable, no spaces or quotes, bounded: safe to log and to echo back.
const WELL_FORMED_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/
const KNOWN = [
  'log', 'logger', 'skip', 'header', 'genReqId', 'autoLogging', 'useLevel', 'customLogLevel',
  'customProps', 'customSuccessMessage', 'customErrorMessage', 'customReceivedMessage',
  'customSuccessObject', 'customErrorObject', 'customReceivedObject',
  'customAttributeKeys', 'quietReqLogger', 'quietResLogger', 'wrapSerializers', 'serializers',
  'redactQuery', 'redactHeaders', 'trustProxy'
]
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
const ATTRIBUTE_KEYS = ['req', 'res', 'err', 'reqId', 'responseTime']
// Credentials a request or response header carries: logged as '[Redacted]'.
const DEFAULT_REDACT_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']
const CENSOR = '[Redacted]'

function skipper (skip) {
  if (skip === undefined) return null
  if (typeof skip === 'function') return skip
  if (Array.isArray(skip) && skip.every((p) => typeof p === 'string' || p instanceof RegExp)) {
    return (req) => {
      const path = req.path !== undefined ? req.path : String(req.url).split('?')[0]
      return skip.some((p) => (typeof p === 'string' ? p === path : p.test(path)))
    }
  }
  throw fail('requestLogger skip', 'an array of paths (strings or RegExps) or a function (req) => boolean', skip)
}

// The body bytes of a write/end call's chunk.
function bodyLength (chunk, encoding) {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return 0
  return typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk.length
}

// Counts the body bytes written to one response by wrapping its own write/end: for a
// plain Node response, or an Express one whose prototype could not take the counting
// write/end (see patchExpress). Returns the count's reader.
function countBytes (res) {
  let bytes = 0
  const { write, end } = res
  res.write = function (chunk, encoding, cb) {
    bytes += bodyLength(chunk, encoding)
    return write.call(this, chunk, encoding, cb)
  }
  res.end = function (chunk, encoding, cb) {
    bytes += bodyLength(chunk, encoding)
    return end.call(this, chunk, encoding, cb)
  }
  return () => bytes
}

// The write/end Express's response prototype gets (once per copy of Express): they add
// to the request's state (./request-state.js) when requestLogger made one, then call
// Node's own (looked up at each call: a later patch of http.ServerResponse.prototype, by
// an APM agent say, still runs). Nothing is allocated or added per request, and the count
// is what reaches Node whatever middleware wraps write/end on the response, before
// requestLogger or after it (compression: the compressed bytes, as nginx's $body_bytes_sent).
function responseState (res) {
  const req = res.req
  return req !== undefined && req !== null ? stateOf(req) : undefined
}

function countingMethods (base) {
  function write (chunk, encoding, cb) {
    const state = responseState(this)
    if (state !== undefined) state.bytes += bodyLength(chunk, encoding)
    return Object.getPrototypeOf(base).write.call(this, chunk, encoding, cb)
  }
  function end (chunk, encoding, cb) {
    const state = responseState(this)
    if (state !== undefined) state.bytes += bodyLength(chunk, encoding)
    return Object.getPrototypeOf(base).end.call(this, chunk, encoding, cb)
  }
  write[kCounting] = true
  end[kCounting] = true
  return { write, end }
}

// Express's request and response prototypes (the ones each app's `app.request` and
// `app.response` inherit from, shared by every app and sub-app of that copy of Express),
// or null for a plain Node request. Accessors defined there once cost nothing per request;
// defined on each request they would turn it into a slow dictionary-mode object.
function expressBase (obj, nodeProto) {
  let proto = Object.getPrototypeOf(obj)
  if (proto === null || proto === nodeProto) return null
  for (;;) {
    const up = Object.getPrototypeOf(proto)
    if (up === null) return null
    if (up === nodeProto) return proto
    proto = up
  }
}

// Shared by name, as two copies of prodkit may meet on one Express: the accessors one
// defined serve the other. Earlier layouts (own properties on each request; then one
// property holding the state, without a req.id accessor) marked the prototypes with the
// earlier markers: a copy of those makes this one use PLAIN.
const EARLIER_MARKERS = [Symbol.for('@oj/prodkit.express.patched'), Symbol.for('@oj/prodkit.express.patched.v2')]
const kPatched = Symbol.for('@oj/prodkit.express.patched.v3')
const kCounting = Symbol.for('@oj/prodkit.express.counting')
// What patchExpress found for a pair of prototypes.
const PLAIN = 0 // not Express (or its accessors taken): req.log made at once, bytes per response
const LAZY = 1 // a RequestState on the request: req.log made on first use; bytes per response
const COUNTED = 2 // and the prototype's write/end count the bytes in the state
const patched = new WeakMap()
// The last request prototype seen and its answer: one app's requests all share it.
let lastProto = null
let lastPatch = PLAIN

// Defines, once per Express copy, `req.route` (to catch the route template), `req.id`,
// `req.log` and `res.log` (made on first use) as accessors, and the byte-counting
// write/end; returns
// PLAIN, LAZY or COUNTED (above) for `req` and `res`.
//
// The route template (`/orders/:id`) with the mount path of the router it is in: Express 4
// and 5 both set `req.route` when a route matches, while `req.baseUrl` is that router's
// mount path; read later, baseUrl may have been reset by a router the request left (an
// error passed on to the app's error handler), so the template is taken as the route is set.
//
// req.log: the child logger that carries the request id is made when a handler first
// uses it; a request whose handlers never log pays for no child (the request line is then
// written with the id as its first field: the same bytes).
//
// The request that patches gets LAZY: a middleware before requestLogger may have taken
// Node's write/end for itself already in that request, so its bytes are counted on the
// response; every later one, COUNTED.
function patchExpress (req, res) {
  const proto = Object.getPrototypeOf(req)
  if (proto === lastProto && proto !== null) return lastPatch
  const reqBase = expressBase(req, http.IncomingMessage.prototype)
  const resBase = expressBase(res, http.ServerResponse.prototype)
  if (reqBase === null || resBase === null) return PLAIN
  const known = patched.get(reqBase)
  if (known !== undefined) {
    lastProto = proto
    lastPatch = known
    return known
  }
  const free = (obj, key) => Object.getOwnPropertyDescriptor(obj, key) === undefined
  const counting = (obj, key) => typeof obj[key] === 'function' && obj[key][kCounting] === true
  let found
  if (Object.prototype.hasOwnProperty.call(reqBase, kPatched)) {
    // By another copy of prodkit (its accessors serve this one; its write/end if it has them).
    found = counting(resBase, 'write') && counting(resBase, 'end') ? COUNTED : LAZY
  } else if (EARLIER_MARKERS.some((marker) => Object.prototype.hasOwnProperty.call(reqBase, marker)) ||
      !(free(reqBase, 'route') && free(reqBase, 'id') && free(reqBase, 'log') && free(resBase, 'log'))) {
    found = PLAIN
  } else {
    Object.defineProperty(reqBase, kPatched, { value: true })
    defineAccessors(reqBase, resBase)
    found = LAZY
    if (free(resBase, 'write') && free(resBase, 'end')) {
      const { write, end } = countingMethods(resBase)
      Object.defineProperty(resBase, 'write', { configurable: true, writable: true, value: write })
      Object.defineProperty(resBase, 'end', { configurable: true, writable: true, value: end })
      found = COUNTED
    }
  }
  patched.set(reqBase, found)
  lastProto = proto
  lastPatch = found
  return found === COUNTED ? LAZY : found // this request: see above
}

// The accessors keep their values in the request's state when it has one (see
// ./request-state.js), else in own properties.
function defineAccessors (reqBase, resBase) {
  Object.defineProperty(reqBase, 'route', {
    configurable: true,
    enumerable: true,
    get () {
      const state = stateOf(this)
      return state !== undefined ? state.route : this[kRoute]
    },
    set (value) {
      const template = value && value.path !== undefined ? (this.baseUrl || '') + pathText(value.path) : undefined
      const state = stateOf(this)
      if (state !== undefined) {
        state.route = value
        if (template !== undefined) state.template = template
      } else {
        this[kRoute] = value
        if (template !== undefined) this[kRouteTemplate] = template
      }
    }
  })
  Object.defineProperty(reqBase, 'id', {
    configurable: true,
    enumerable: true,
    get () {
      const state = stateOf(this)
      return state !== undefined ? state.id : this[kId]
    },
    set (value) {
      const state = stateOf(this)
      if (state !== undefined) state.id = value
      else this[kId] = value
    }
  })
  Object.defineProperty(reqBase, 'log', {
    configurable: true,
    enumerable: true,
    get () {
      const state = stateOf(this)
      if (state === undefined) return this[kLog]
      if (state.log !== undefined) return state.log
      const source = state.source
      return (state.log = source.log.child({ [source.idKey]: state.id }))
    },
    set (value) {
      const state = stateOf(this)
      if (state !== undefined) state.log = value
      else this[kLog] = value
    }
  })
  Object.defineProperty(resBase, 'log', {
    configurable: true,
    enumerable: true,
    get () { return this[kLog] !== undefined ? this[kLog] : this.req ? this.req.log : undefined },
    set (value) { this[kLog] = value }
  })
}

function pathText (path) {
  if (typeof path === 'string') return path
  if (Array.isArray(path)) return path.map(pathText).join(',')
  return String(path) // a RegExp
}

function nameList (option, value, fallback) {
  if (value === undefined) return fallback
  if (value === false) return []
  if (Array.isArray(value) && value.every((n) => typeof n === 'string' && n !== '')) return value.map((n) => n.toLowerCase())
  throw fail(`requestLogger ${option}`, 'an array of names (strings) or false', value)
}

function optionalFunction (option, value, accepts) {
  if (value !== undefined && typeof value !== 'function') throw fail(`requestLogger ${option}`, accepts, value)
  return value
}

function checkLevel (option, value) {
  if (value !== undefined && !LEVELS.includes(value)) throw fail(`requestLogger ${option}`, `one of ${LEVELS.join(', ')}`, value)
  return value
}

// Headers with the credentials replaced; the same object when none is present.
function redactHeaders (headers, names) {
  if (!headers || names.length === 0) return headers
  let copy = null
  for (const name of names) {
    if (headers[name] !== undefined) {
      if (copy === null) copy = { ...headers }
      copy[name] = CENSOR
    }
  }
  return copy === null ? headers : copy
}

function parseOptions (options) {
  if (!isPlainObject(options)) throw fail('requestLogger(options)', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new TypeError(`prodkit: unknown option requestLogger ${key} (known: ${KNOWN.join(', ')})`)
  }
  if (options.log !== undefined && options.logger !== undefined) {
    throw new TypeError('prodkit: requestLogger takes log or logger (pino-http\'s name), not both')
  }
  const log = loggerOption('requestLogger', options.log !== undefined ? options.log : options.logger)
  const header = options.header === undefined ? 'x-request-id' : options.header
  if (header !== false && (typeof header !== 'string' || header === '')) {
    throw fail('requestLogger header', 'a header name, or false for none', header)
  }
  const autoLogging = options.autoLogging === undefined ? true : options.autoLogging
  if (typeof autoLogging !== 'boolean' &&
      !(isPlainObject(autoLogging) && Object.keys(autoLogging).every((k) => k === 'ignore') &&
        (autoLogging.ignore === undefined || typeof autoLogging.ignore === 'function'))) {
    throw fail('requestLogger autoLogging', 'true, false or { ignore: (req) => boolean }', autoLogging)
  }
  const keys = options.customAttributeKeys === undefined ? {} : options.customAttributeKeys
  if (!isPlainObject(keys) || Object.keys(keys).some((k) => !ATTRIBUTE_KEYS.includes(k) || typeof keys[k] !== 'string' || keys[k] === '')) {
    throw fail('requestLogger customAttributeKeys', `an object of non-empty strings with keys among ${ATTRIBUTE_KEYS.join(', ')}`, keys)
  }
  const serializers = options.serializers === undefined ? {} : options.serializers
  if (!isPlainObject(serializers) || Object.keys(serializers).some((k) => !['req', 'res'].includes(k) || typeof serializers[k] !== 'function')) {
    throw fail('requestLogger serializers', 'an object with functions under req and/or res (errors are serialised by the logger)', serializers)
  }
  for (const flag of ['quietReqLogger', 'quietResLogger', 'wrapSerializers']) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw fail(`requestLogger ${flag}`, 'true or false', options[flag])
  }
  if (options.customProps !== undefined && typeof options.customProps !== 'function' && !isPlainObject(options.customProps)) {
    throw fail('requestLogger customProps', 'an object of fields or a function (req, res) => object', options.customProps)
  }
  if (options.useLevel !== undefined && options.customLogLevel !== undefined) {
    throw new TypeError('prodkit: requestLogger takes useLevel or customLogLevel, not both')
  }
  return {
    log,
    header,
    skip: skipper(options.skip),
    genReqId: optionalFunction('genReqId', options.genReqId, 'a function (req, res) => string or number'),
    autoLogging: autoLogging !== false,
    ignore: typeof autoLogging === 'object' ? autoLogging.ignore : undefined,
    useLevel: checkLevel('useLevel', options.useLevel),
    customLogLevel: optionalFunction('customLogLevel', options.customLogLevel, 'a function (req, res, err) => level name'),
    customProps: options.customProps,
    successMessage: optionalFunction('customSuccessMessage', options.customSuccessMessage, 'a function (req, res, responseTime) => string'),
    errorMessage: optionalFunction('customErrorMessage', options.customErrorMessage, 'a function (req, res, err) => string'),
    receivedMessage: optionalFunction('customReceivedMessage', options.customReceivedMessage, 'a function (req, res) => string'),
    successObject: optionalFunction('customSuccessObject', options.customSuccessObject, 'a function (req, res, fields) => object'),
    errorObject: optionalFunction('customErrorObject', options.customErrorObject, 'a function (req, res, err, fields) => object'),
    receivedObject: optionalFunction('customReceivedObject', options.customReceivedObject, 'a function (req, res) => object'),
    reqKey: keys.req || 'req',
    resKey: keys.res || 'res',
    errKey: keys.err || 'err',
    idKey: keys.reqId || 'requestId',
    timeKey: keys.responseTime || 'responseTime',
    quietReq: options.quietReqLogger !== false,
    quietRes: options.quietResLogger === true,
    wrap: options.wrapSerializers !== false,
    reqSerializer: serializers.req,
    resSerializer: serializers.res,
    redactQuery: new Set(nameList('redactQuery', options.redactQuery, DEFAULT_REDACT_QUERY)),
    redactHeaders: nameList('redactHeaders', options.redactHeaders, DEFAULT_REDACT_HEADERS),
    trust: compileTrust('requestLogger', options.trustProxy)
  }
}

// The socket's peer, taken when the request starts.
class Peer {
  constructor (address, port) {
    this.address = address
    this.port = port
  }
}
const NO_PEER = new Peer(undefined, undefined)

function levelFor (status, aborted, failed) {
  if (failed) return 'error'
  if (aborted) return 'warn'
  if (status >= 500) return 'error'
  if (status >= 400) return 'warn'
  return 'info'
}

function requestLogger (options = {}) {
  const o = parseOptions(options)
  const { log, header, idKey } = o
  const headerName = header === false ? null : header.toLowerCase()

  // A callback option that throws gets its default; the first such error is logged.
  let reported = false
  function guarded (name, fn, fallback, a, b, c, d) {
    try {
      return fn(a, b, c, d)
    } catch (err) {
      if (!reported) {
        reported = true
        log.error({ err }, `requestLogger ${name} threw: its default was used (logged once)`)
      }
      return fallback
    }
  }

  function newId (req, res) {
    if (o.genReqId !== undefined) {
      const id = guarded('genReqId', o.genReqId, undefined, req, res)
      if (typeof id === 'string' ? id !== '' : Number.isFinite(id)) return id
      if (id !== undefined) guarded('genReqId', () => { throw fail('requestLogger genReqId', 'a function returning a non-empty string or a number', id) })
      return crypto.randomUUID()
    }
    const given = headerName === null ? undefined : req.headers[headerName]
    return typeof given === 'string' && WELL_FORMED_ID.test(given) ? given : crypto.randomUUID()
  }

  // pino-std-serializers' req, as pino-http writes it: what the client sent. `client`:
  // clientOf()'s answer, or the socket's peer ({ address, port }) when no hop is trusted.
  function serializeReq (req, client, id) {
    const url = req.originalUrl || req.url
    const query = req.query
    const value = {
      id,
      method: req.method,
      url: o.redactQuery.size === 0 ? url : redactUrl(url, o.redactQuery),
      query: o.redactQuery.size === 0 ? query : redactQueryObject(query, o.redactQuery),
      params: req.params,
      headers: redactHeaders(req.headers, o.redactHeaders),
      remoteAddress: client.address,
      remotePort: client.port
    }
    // Behind trusted proxies: how the client connected, and the proxy it came through.
    if (client.protocol !== undefined) value.protocol = client.protocol
    if (client.peerAddress !== undefined) {
      value.peerAddress = client.peerAddress
      value.peerPort = client.peerPort
    }
    if (o.reqSerializer === undefined) return value
    if (!o.wrap) return guarded('serializers.req', o.reqSerializer, value, req)
    Object.defineProperty(value, 'raw', { value: req, enumerable: false })
    return guarded('serializers.req', o.reqSerializer, value, value)
  }

  function serializeRes (res) {
    const value = {
      statusCode: res.headersSent ? res.statusCode : null,
      headers: redactHeaders(res.getHeaders(), o.redactHeaders)
    }
    if (o.resSerializer === undefined) return value
    if (!o.wrap) return guarded('serializers.res', o.resSerializer, value, res)
    Object.defineProperty(value, 'raw', { value: res, enumerable: false })
    return guarded('serializers.res', o.resSerializer, value, value)
  }

  function levelOf (req, res, err, fallback) {
    if (o.useLevel !== undefined) return o.useLevel
    if (o.customLogLevel === undefined) return fallback
    const level = guarded('customLogLevel', o.customLogLevel, fallback, req, res, err)
    return typeof level === 'string' && LEVELS.includes(level.trim()) ? level.trim() : fallback
  }

  // What a custom*Object option returned, as a line's fields: an object (else `fallback`)
  // without the keys `child` (req.log) binds already.
  function customObject (value, fallback, child) {
    if (!isPlainObject(value)) return fallback
    if (child === undefined || (!Object.prototype.hasOwnProperty.call(value, idKey) && !(o.quietReq === false && Object.prototype.hasOwnProperty.call(value, o.reqKey)))) return value
    const copy = { ...value }
    delete copy[idKey]
    if (!o.quietReq) delete copy[o.reqKey]
    return copy
  }

  const idField = context.fieldKey(idKey)

  return function prodkitRequestLogger (req, res, next) {
    const given = req.id
    const fresh = given === undefined || given === null || given === ''
    const requestId = fresh ? newId(req, res) : given
    // At the start: once the client has gone, the socket no longer says who it was.
    // Behind trusted proxies, the client they name (X-Forwarded-For) and its protocol.
    const trust = trustFor(o.trust, req)
    let client
    if (trust === null) {
      const socket = req.socket
      client = socket ? new Peer(socket.remoteAddress, socket.remotePort) : NO_PEER
    } else {
      client = clientOf(trust, req, (err) => guarded('trustProxy', () => { throw err }))
    }
    const patch = patchExpress(req, res)
    const lazy = patch !== PLAIN
    // Express: one RequestState (the one of a requestLogger before this one, if any), and
    // req.id its accessor (an own `id` the app gave the request is kept in step).
    let state = null
    if (lazy) {
      state = stateOf(req)
      if (state === undefined) {
        state = new RequestState(o, requestId)
        setState(req, state)
      } else {
        state.source = o
        state.id = requestId
        state.log = undefined // a req.log set by a middleware before this one is replaced
      }
      if (fresh && Object.prototype.hasOwnProperty.call(req, 'id')) req.id = requestId
    } else {
      if (fresh) req.id = requestId
      req[kRedactQuery] = o.redactQuery
    }
    if (!o.quietReq) {
      req.log = log.child({ [idKey]: requestId, [o.reqKey]: serializeReq(req, client, requestId) })
    } else if (!lazy) {
      req.log = log.child({ [idKey]: requestId })
    }
    if (!lazy) res.log = req.log
    if (headerName !== null) res.setHeader(header, String(requestId))
    if (!o.autoLogging || (o.skip !== null && o.skip(req)) ||
        (o.ignore !== undefined && guarded('autoLogging.ignore', o.ignore, false, req) === true)) {
      // http_server_request_duration_seconds (lib/metrics/http-server.js), logged or not.
      observeHttpServer(req, res)
      // The rest of the request runs from here (not logged).
      return context.runField(idField, requestId, next)
    }
    const observed = observeHttpServer(req, res, false)

    if (o.receivedMessage !== undefined || o.receivedObject !== undefined) {
      const level = levelOf(req, res, undefined, 'info')
      if (level !== 'silent') {
        const msg = o.receivedMessage === undefined ? undefined : guarded('customReceivedMessage', o.receivedMessage, 'request received', req, res)
        if (o.receivedObject === undefined) req.log[level](msg)
        else req.log[level](customObject(guarded('customReceivedObject', o.receivedObject, {}, req, res, undefined), {}, req.log), msg)
      }
    }
    const started = performance.now()
    // The body bytes: counted by the prototype's write/end in the state (COUNTED), else on
    // the response.
    const bytes = patch === COUNTED ? null : countBytes(res)
    let logged = false
    // Called by 'finish' and by 'close' (which follows it, or comes alone when the client
    // went away first): the first call logs. The listeners stay: the response is done.
    const done = () => {
      if (logged) return
      logged = true
      if (observed !== null) {
        try {
          observed()
        } catch {} // a metric must never cost the line
      }
      const responseTime = Math.round((performance.now() - started) * 1000) / 1000
      // Cut off by errorHandler after the route failed mid-response (not the client's doing).
      const failed = res[kFailedAfterStart] === true
      const aborted = !failed && !res.writableFinished
      const status = res.statusCode
      const err = failed
        ? res.err || new Error('response cut off: its route failed after the response started')
        : res.err || (status >= 500 ? new Error(`failed with status code ${status}`) : undefined)
      const level = levelOf(req, res, err, levelFor(status, aborted, failed))
      if (level === 'silent') return
      // Without a child made yet, the id is the line's first field (the same bytes); the
      // request's context run, still active here, then adds nothing (lib/context/ leaves
      // out a run's fields the merge object has, at no cost when it has them all).
      const child = lazy ? state.log : req.log
      let line = child === undefined ? { [idKey]: requestId } : {}
      if (o.customProps !== undefined) {
        const props = typeof o.customProps === 'function' ? guarded('customProps', o.customProps, undefined, req, res) : o.customProps
        if (isPlainObject(props)) {
          for (const key of Object.keys(props)) {
            // A key req.log already binds would be written twice.
            if (key !== idKey && (o.quietReq || key !== o.reqKey)) line[key] = props[key]
          }
        }
      }
      if (o.quietReq && !o.quietRes) line[o.reqKey] = serializeReq(req, client, lazy ? state.id : req.id)
      line[o.resKey] = serializeRes(res)
      if (err !== undefined) line[o.errKey] = err
      line[o.timeKey] = responseTime
      const template = lazy ? state.template : req[kRouteTemplate]
      if (template !== undefined) line.route = template
      line.bytes = bytes === null ? state.bytes : bytes()
      if (aborted) line.aborted = true
      if (failed) line.failed = true
      // pino-http's customSuccessObject/customErrorObject: the fields above in, the line's
      // fields out (no key req.log binds: a line never carries a key twice).
      if (err !== undefined && o.errorObject !== undefined) {
        line = customObject(guarded('customErrorObject', o.errorObject, line, req, res, err, line), line, child)
      } else if (err === undefined && o.successObject !== undefined) {
        line = customObject(guarded('customSuccessObject', o.successObject, line, req, res, line), line, child)
      }
      const msg = err !== undefined
        ? (o.errorMessage === undefined ? 'request errored' : guarded('customErrorMessage', o.errorMessage, 'request errored', req, res, err))
        : o.successMessage === undefined
          ? (aborted ? 'request aborted' : 'request completed')
          : guarded('customSuccessMessage', o.successMessage, aborted ? 'request aborted' : 'request completed', req, res, responseTime)
      ;(child === undefined ? log : child)[level](line, typeof msg === 'string' ? msg : String(msg))
    }
    res.on('finish', done)
    res.on('close', done)
    // The rest of the request runs from here.
    context.runField(idField, requestId, next)
  }
}

module.exports = { requestLogger, WELL_FORMED_ID, DEFAULT_REDACT_HEADERS }

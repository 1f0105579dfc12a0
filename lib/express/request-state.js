'use strict'
// What requestLogger keeps for one Express request, in a WeakMap beside the request rather
// than on it.
//
// Why not on it: Express sets the prototype of every request and response it handles
// (Object.setPrototypeOf to app.request / app.response), and after that no two requests
// share a hidden class in V8. Every property added to one then builds a new hidden class
// in V8's slow path, and every later property read on it, by the app, Express and Node
// alike, misses V8's caches again: measured with callgrind, about 12,000 instructions per
// added property (bench/http.js --instructions). So requestLogger adds none: its state
// (the request id, req.log, the route, the byte count) is found through `stateOf(req)`,
// and the accessors it defines once on Express's prototypes (request-logger.js
// patchExpress: `req.id`, `req.log`, `req.route`, `res.log`) read and write it there. A
// request without a state (not through requestLogger) keeps those values in own
// properties. A plain node:http request shares its hidden class with every other one, and
// keeps its fields as own properties.
//
// The map and the keys are shared by name (Symbol.for), so that two copies of prodkit on
// one Express meet: the accessors one defined serve the other. The `.v3` marker on the
// prototypes says that their accessors are of this layout.

const kRoute = Symbol.for('@oj/prodkit.express.route')
const kRouteTemplate = Symbol.for('@oj/prodkit.express.routeTemplate')
const kLog = Symbol.for('@oj/prodkit.express.log')
const kId = Symbol.for('@oj/prodkit.express.id')
const { kRedactQuery } = require('./redact-query')

// One map per process, whichever copy of prodkit made it.
const kStates = Symbol.for('@oj/prodkit.express.states.v3')
if (!(globalThis[kStates] instanceof WeakMap)) {
  Object.defineProperty(globalThis, kStates, { value: new WeakMap(), configurable: true })
}
const states = globalThis[kStates]

class RequestState {
  constructor (source, id) {
    // The options of the last requestLogger the request went through (for req.log).
    this.source = source
    // req.id: the request's id.
    this.id = id
    // req.log once made (or set by the app).
    this.log = undefined
    // What Express set as req.route, and its template with the mount path.
    this.route = undefined
    this.template = undefined
    // The body bytes handed to Node's response (the prototype's write/end add to it).
    this.bytes = 0
  }
}

// The request's state, or undefined when it has none.
function stateOf (req) {
  return states.get(req)
}

function setState (req, state) {
  states.set(req, state)
}

// The route template of a request (`/orders/:id`), or undefined: from its state, else
// from the property the route accessor set on it.
function routeTemplateOf (req) {
  const state = states.get(req)
  return state !== undefined ? state.template : req[kRouteTemplate]
}

// The query-parameter names requestLogger redacts for this request (a Set), or undefined
// when it did not go through requestLogger: from its state, else from the request.
function redactQueryOf (req) {
  const state = states.get(req)
  return state !== undefined ? state.source.redactQuery : req[kRedactQuery]
}

module.exports = { RequestState, stateOf, setState, routeTemplateOf, redactQueryOf, kRoute, kRouteTemplate, kLog, kId }

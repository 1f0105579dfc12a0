'use strict'
// What requestLogger keeps for one Express request, in one object on the request.
//
// Why one object: Express sets the prototype of every request and response it handles
// (Object.setPrototypeOf to app.request / app.response), and after that no two requests
// share a hidden class in V8. Every property added to one then builds a new hidden class
// in V8's slow path, and every property read misses V8's caches: measured with callgrind,
// about 12,000 instructions per added property, a third of requestLogger's cost when it
// added six (bench/http.js --instructions). So requestLogger adds one, `req[kState]`, and
// the accessors it defines on Express's prototypes (request-logger.js patchExpress) keep
// the route, req.log and the byte count there. A plain node:http request shares its
// hidden class with every other one, and keeps its fields as own properties.
//
// The keys are shared by name (Symbol.for), so that two copies of prodkit on one Express
// meet: the `.v2` marker says the prototypes' accessors are of this layout.

const kState = Symbol.for('@oj/prodkit.express.state')
// Own properties of a request without a state (not through requestLogger, or plain Node).
const kRoute = Symbol.for('@oj/prodkit.express.route')
const kRouteTemplate = Symbol.for('@oj/prodkit.express.routeTemplate')
const kLog = Symbol.for('@oj/prodkit.express.log')
const { kRedactQuery } = require('./redact-query')

class RequestState {
  constructor (source) {
    // The options of the last requestLogger the request went through (for req.log).
    this.source = source
    // req.log once made (or set by the app).
    this.log = undefined
    // What Express set as req.route, and its template with the mount path.
    this.route = undefined
    this.template = undefined
    // The body bytes handed to Node's response (the prototype's write/end add to it).
    this.bytes = 0
  }
}

// The route template of a request (`/orders/:id`), or undefined: from its state, else
// from the property the route accessor set on it.
function routeTemplateOf (req) {
  const state = req[kState]
  return state !== undefined ? state.template : req[kRouteTemplate]
}

// The query-parameter names requestLogger redacts for this request (a Set), or undefined
// when it did not go through requestLogger: from its state, else from the request.
function redactQueryOf (req) {
  const state = req[kState]
  return state !== undefined ? state.source.redactQuery : req[kRedactQuery]
}

module.exports = { RequestState, routeTemplateOf, redactQueryOf, kState, kRoute, kRouteTemplate, kLog }

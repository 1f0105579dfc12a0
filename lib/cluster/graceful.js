'use strict'
// Draining servers without failing a request: stop accepting connections, let in-flight
// requests finish with `Connection: close` on their responses, close keep-alive sockets
// once they are idle, and destroy what is left at a deadline.
//
// Closing idle keep-alive sockets is where other tools drop requests. A socket looks idle
// to the server between two requests, and also while the client's next request is already
// on the wire (or in the socket's receive buffer, unread because the event loop is busy).
// Destroying it then makes the client see a reset on a request it sent to a healthy
// server. So a socket is closed only when it stayed idle over a whole sweep interval,
// checked after the event loop has read pending I/O; every socket that carries another
// request in the meantime gets `Connection: close` on the response instead, which clients
// handle by opening a new connection (to another worker).

const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const tls = require('node:tls')
const { processState } = require('./state')

const kTracked = Symbol.for('@oj/prodkit.graceful')
// How often idle sockets are looked at while draining; a socket idle at two sweeps in a
// row is closed, so an idle keep-alive socket lasts one to two intervals into the drain.
const SWEEP_MS = 250

function isHttp (server) {
  return server instanceof http.Server || server instanceof https.Server
}

function closeAfterResponse (res) {
  // The response ends the connection; Node closes the socket after it is written.
  if (!res.headersSent) res.setHeader('Connection', 'close')
  res.shouldKeepAlive = false
}

// Starts tracking `server`'s connections and requests (idempotent). Connections accepted
// before this call are not seen; prodkit tracks servers from listen() on in its workers.
function track (server) {
  if (!(server instanceof net.Server)) {
    throw new TypeError('prodkit: graceful(server) needs a net.Server, such as the one http.createServer() or app.listen() returns')
  }
  if (server[kTracked]) return server[kTracked]
  const state = processState()
  const sockets = new Map() // socket -> { idleSweeps, upgraded }
  const tracked = { server, sockets, drained: null }
  Object.defineProperty(server, kTracked, { value: tracked })

  const entryOf = (socket) => {
    let entry = sockets.get(socket)
    if (!entry) {
      entry = { idleSweeps: 0, upgraded: false }
      sockets.set(socket, entry)
      socket.once('close', () => sockets.delete(socket))
    }
    return entry
  }
  tracked.entryOf = entryOf
  // Per connection, never per request: serving costs nothing more until a drain starts.
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', entryOf)
  if (isHttp(server)) {
    // WebSocket and CONNECT tunnels belong to the app now: never idle, closed at the deadline.
    const taken = (req, socket) => { entryOf(socket).upgraded = true }
    server.prependListener('upgrade', taken)
    server.prependListener('connect', taken)
  }
  state.servers.add(tracked)
  server.once('close', () => state.servers.delete(tracked))
  // A server that starts listening while the process drains is drained at once.
  if (state.draining) server.once('listening', () => drainServer(tracked, state.drainTimeoutMs))
  return tracked
}

// The response a socket is serving now, if any. Node keeps it in `socket._httpMessage`
// from the moment a request is parsed until its response is finished (the property is
// internal but has been there since Node 0.x; http-terminator and others read it too).
function currentResponse (socket) {
  return socket._httpMessage || null
}

function drainServer (tracked, timeoutMs) {
  if (tracked.drained) return tracked.drained
  const { server, sockets } = tracked
  tracked.drained = new Promise((resolve) => {
    let sweeper = null
    let deadline = null
    const finish = () => {
      clearInterval(sweeper)
      clearTimeout(deadline)
      resolve()
    }
    if (server.listening) {
      server.once('close', finish)
      // net.Server's close(), not http.Server's: since Node 19 the latter also destroys
      // every idle-looking keep-alive socket at once (see the top of this file). In a
      // cluster worker this also tells the primary to stop handing it connections.
      net.Server.prototype.close.call(server)
    } else if (sockets.size === 0) {
      finish()
      return
    } else {
      for (const socket of sockets.keys()) socket.once('close', () => { if (sockets.size === 0) finish() })
    }
    if (isHttp(server)) {
      for (const [socket, entry] of sockets) {
        entry.idleSweeps = 0
        const res = currentResponse(socket)
        if (res) closeAfterResponse(res)
      }
      // Requests that still arrive on open keep-alive sockets are served, and end them.
      // Before the app's own listener, so that a response the app ends at once is marked.
      server.prependListener('request', (req, res) => {
        tracked.entryOf(req.socket).idleSweeps = 0
        closeAfterResponse(res)
      })
      sweeper = setInterval(() => {
        // setImmediate runs after the poll phase: bytes that arrived during the interval
        // have been read and parsed, so a socket whose next request is waiting is busy.
        setImmediate(() => {
          for (const [socket, entry] of sockets) {
            if (entry.upgraded || currentResponse(socket)) continue
            if (++entry.idleSweeps >= 2) socket.destroy()
          }
        })
      }, SWEEP_MS)
      sweeper.unref()
    }
    deadline = setTimeout(() => {
      for (const socket of sockets.keys()) socket.destroy()
      if (typeof server.closeAllConnections === 'function') server.closeAllConnections()
    }, timeoutMs)
    deadline.unref()
  })
  return tracked.drained
}

// Drains every tracked server of this process; in-flight work gets `timeoutMs`. Marks
// the process as draining (health() answers 503 from now on). Idempotent.
function drainAll ({ timeoutMs }) {
  const state = processState()
  if (state.drained) return state.drained
  state.draining = true
  state.drainTimeoutMs = timeoutMs
  state.drained = Promise.all([...state.servers].map((tracked) => drainServer(tracked, timeoutMs))).then(() => undefined)
  return state.drained
}

// prodkit.graceful(server): drain `server` when this process shuts down or is told to
// drain by its primary. Returns the server.
function graceful (server) {
  track(server)
  return server
}

// prodkit.health(): a readiness handler for HTTP servers and Express. 200 while serving,
// 503 once the process drains, so that a load balancer stops sending it work. The answer
// is the state and nothing else: the probe is often reachable from outside, and a pid (or
// host name, version, uptime) tells a caller which process answered, which helps nobody
// but someone mapping the service. Operators read the pid in the log lines.
const OK = JSON.stringify({ status: 'ok' })
const DRAINING = JSON.stringify({ status: 'draining' })

function health () {
  const state = processState()
  return function prodkitHealth (req, res) {
    const draining = state.draining
    const body = draining ? DRAINING : OK
    res.statusCode = draining ? 503 : 200
    res.setHeader('Content-Type', 'application/json')
    res.setHeader('Cache-Control', 'no-store')
    res.end(body)
  }
}

module.exports = { track, graceful, drainAll, health, SWEEP_MS }

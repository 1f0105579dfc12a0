'use strict'
// trustProxy for requestLogger() and errorHandler(): which hops in front of the app are
// trusted to say who the client is (X-Forwarded-For) and how it connected
// (X-Forwarded-Proto), with Express's `trust proxy` semantics and its own package,
// proxy-addr: true (every hop), a hop count, addresses / CIDRs / Express's names
// (loopback, linklocal, uniquelocal) as a comma-separated string or an array, or a
// function (addr, i) => boolean. false: no hop is trusted.
//
// Guarantees: without trustProxy (and without Express's `trust proxy` setting on the app)
// the forwarded headers are never read: a client cannot choose the address it is logged
// with. An explicit trustProxy wins over the app's setting; left out, the app's setting
// (the one Express's req.ip follows) is followed. A bad value throws a TypeError naming
// the option when the middleware is made; a trust function that throws (or a malformed
// header) never throws from a request: the socket's peer is logged, and the error once.

const proxyaddr = require('proxy-addr')
const { fail } = require('../log/options')

const ACCEPTS = 'true, false, a hop count (integer >= 0), a string or array of addresses, CIDRs or ' +
  'loopback / linklocal / uniquelocal, or a function (addr, i) => boolean'

// The compiled trust function, null for "trust no hop", or undefined (left out: follow the
// app's setting).
function compileTrust (name, value) {
  if (value === undefined) return undefined
  if (value === false) return null
  if (value === true) return () => true
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw fail(`${name} trustProxy`, ACCEPTS, value)
    if (value === 0) return null
    return (addr, i) => i < value
  }
  if (typeof value === 'function') return value
  let list
  if (typeof value === 'string') list = value.split(',').map((v) => v.trim())
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) list = value.map((v) => v.trim())
  else throw fail(`${name} trustProxy`, ACCEPTS, value)
  if (list.length === 0 || list.some((v) => v === '')) throw fail(`${name} trustProxy`, ACCEPTS, value)
  try {
    return proxyaddr.compile(list)
  } catch (err) {
    throw new TypeError(`prodkit: option ${name} trustProxy: ${err.message} (it must be ${ACCEPTS})`)
  }
}

// The trust function for this request: the option's, else the Express app's `trust
// proxy` setting when it was set (its default, false, trusts no hop), else null.
function trustFor (trust, req) {
  if (trust !== undefined) return trust
  const app = req.app
  if (app === undefined || app === null || typeof app.get !== 'function') return null
  try {
    const setting = app.get('trust proxy')
    if (setting === undefined || setting === false || setting === 0) return null
    const fn = app.get('trust proxy fn')
    return typeof fn === 'function' ? fn : null
  } catch {
    return null
  }
}

// { address, port, protocol, peerAddress?, peerPort? } for a request: the client as the
// trusted hops tell it, else the socket's peer (port: the peer's, only when the client is
// the peer; a forwarded client's port is not known). `onError(err)`: a trust function
// that threw.
function clientOf (trust, req, onError) {
  const socket = req.socket
  const peerAddress = socket ? socket.remoteAddress : undefined
  const peerPort = socket ? socket.remotePort : undefined
  const encrypted = Boolean(socket && socket.encrypted)
  if (trust === null || peerAddress === undefined) {
    return { address: peerAddress, port: peerPort, protocol: encrypted ? 'https' : 'http' }
  }
  let addrs
  let protocol = encrypted ? 'https' : 'http'
  try {
    // [peer, trusted hops..., the client]: the walk stops at the first untrusted address.
    addrs = proxyaddr.all(req, trust)
    // As Express's req.protocol: the header counts when the peer itself is trusted.
    if (!encrypted && trust(peerAddress, 0)) {
      const header = req.headers['x-forwarded-proto']
      if (typeof header === 'string' && header !== '') {
        const first = header.split(',')[0].trim().toLowerCase()
        if (/^[a-z][a-z0-9+.-]{0,15}$/.test(first)) protocol = first
      }
    }
  } catch (err) {
    onError(err)
    return { address: peerAddress, port: peerPort, protocol: encrypted ? 'https' : 'http' }
  }
  if (addrs.length <= 1) return { address: peerAddress, port: peerPort, protocol }
  return { address: addrs[addrs.length - 1], port: undefined, protocol, peerAddress, peerPort }
}

module.exports = { compileTrust, trustFor, clientOf }

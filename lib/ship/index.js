'use strict'
// Starting and stopping the native shipper of a log file (src/ship/). The shipper runs on
// its own Rust thread: it reads the file the logger writes, so the app's logging never
// waits for the store, and it survives nothing but its checkpoint, which is all a restart
// needs (docs/shipping.md).
//
// Under prodkit.cluster() only the primary ships: a worker's log.ship is ignored, since the
// primary's logger (cluster's install.log.ship) ships the shared file. A second shipper of
// one file anywhere else waits on the file's ship lock instead of shipping it twice.

const nodeCluster = require('node:cluster')

function isClusterWorker (env = process.env) {
  return nodeCluster.isWorker && Boolean(env.PRODKIT_CLUSTER)
}

let warnedWorker = false

// A worker's log.ship does nothing: said once per worker process, on stderr (which the
// primary captures into its log), with what to do instead.
function warnWorker (ship) {
  if (warnedWorker) return
  warnedWorker = true
  const to = require('./options').redactUrl(ship.to)
  process.stderr.write(`prodkit: option log.ship (to ${to}) is ignored in a cluster worker (pid ${process.pid}): the primary ships the log file all workers share. Give it to the primary instead: cluster({ install: { log: { destination, ship: { to } } } }), or prodkit run --log FILE --ship-to URL.\n`)
}

// Starts shipping `path` with resolved options (lib/ship/options.js); null in a cluster
// worker (with a warning). Errors (unknown target, unreachable at start) are TypeErrors
// naming log.ship.to.
function startShipper (path, ship, { check = true } = {}) {
  if (isClusterWorker()) {
    warnWorker(ship)
    return null
  }
  const { LogShipper } = require('../native')
  try {
    return new LogShipper({
      path,
      to: ship.to,
      batchBytes: ship.batchBytes,
      flushMs: ship.flushMs,
      backlogBytes: ship.backlogBytes,
      checkMs: check ? ship.checkMs : undefined
    })
  } catch (err) {
    throw new TypeError(`prodkit: ${String(err.message).replace(/^prodkit: /, '')}`)
  }
}

module.exports = { startShipper, isClusterWorker }

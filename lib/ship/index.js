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

// Starts shipping `path` with resolved options (lib/ship/options.js); null in a cluster
// worker. Errors (unknown target, unreachable at start) are TypeErrors naming log.ship.to.
function startShipper (path, ship, { check = true } = {}) {
  if (isClusterWorker()) return null
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

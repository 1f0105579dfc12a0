'use strict'
// The `worker` field of every log line written by a cluster worker: node:cluster's worker
// id, the number the primary's lines about that worker carry too.

const cluster = require('node:cluster')

function workerBinding () {
  return cluster.isWorker && cluster.worker ? `,"worker":${cluster.worker.id}` : ''
}

module.exports = { workerBinding }

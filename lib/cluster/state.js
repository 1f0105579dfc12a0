'use strict'
// Per-process state of the cluster helpers, kept on `process` under a registered symbol:
// an app may load two copies of prodkit (a global CLI and its own dependency), and both
// must see the same draining flag, tracked servers and installed kit.

const KEY = Symbol.for('@oj/prodkit.cluster.process')

function processState () {
  if (!process[KEY]) {
    Object.defineProperty(process, KEY, {
      value: {
        runtime: null, // the config of a worker forked by a prodkit primary, else null
        kit: null, // the kit of install(), whose shutdown drains the servers first
        servers: new Set(), // servers drained at shutdown
        draining: false,
        drained: null, // the promise of the drain, once it started
        readySent: false
      }
    })
  }
  return process[KEY]
}

module.exports = { processState }

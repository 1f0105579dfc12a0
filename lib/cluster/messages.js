'use strict'
// The IPC messages between a prodkit primary and its workers. They carry a `prodkit`
// field so that they never mix with the app's own `process.send()` messages.

const READY = 'ready' // worker -> primary: prodkit.ready() was called
const MEMORY = 'memory' // worker -> primary: above the memory limit ({ rss, limit })
const DRAIN = 'drain' // primary -> worker: stop accepting, finish in-flight work, exit
const STATS = 'stats' // primary -> worker: { id }; the worker answers STATS_REPLY { id, stats }
const STATS_REPLY = 'stats-reply'
const MERGED_METRICS = 'merged-metrics' // worker -> primary: { id, format }; answered with MERGED_METRICS_REPLY
const MERGED_METRICS_REPLY = 'merged-metrics-reply' // { id, text } or { id, error }

function isMessage (message, type) {
  return typeof message === 'object' && message !== null && message.prodkit === type
}

// Sends without ever throwing: a worker or primary that has gone away is not an error
// here (its 'exit' is handled where it matters).
function send (target, message) {
  if (!target || typeof target.send !== 'function' || target.connected === false) return false
  try {
    target.send(message, () => {})
    return true
  } catch {
    return false
  }
}

module.exports = { READY, MEMORY, DRAIN, STATS, STATS_REPLY, MERGED_METRICS, MERGED_METRICS_REPLY, isMessage, send }

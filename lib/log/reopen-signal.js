'use strict'
// log.reopenOnSignal: one process listener per signal, shared by every logger that asked
// for it, removed when the last of them closes so the signal's default action (SIGHUP ends
// the process) comes back. Node's signal listeners do not keep the process alive.

const sinks = new Map() // signal -> Set of sinks
const listeners = new Map() // signal -> the process listener

function watch (signal, sink) {
  let set = sinks.get(signal)
  if (set === undefined) {
    set = new Set()
    sinks.set(signal, set)
    const listener = () => {
      for (const s of set) s.reopen()
    }
    listeners.set(signal, listener)
    process.on(signal, listener)
  }
  set.add(sink)
}

function unwatch (signal, sink) {
  const set = sinks.get(signal)
  if (set === undefined || !set.delete(sink) || set.size > 0) return
  process.off(signal, listeners.get(signal))
  sinks.delete(signal)
  listeners.delete(signal)
}

module.exports = { watch, unwatch }

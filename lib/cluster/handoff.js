'use strict'
// Connections handed to a worker that dies before it takes them.
//
// node:cluster's round-robin primary (the default on Linux) accepts every connection and
// hands its handle to a free worker in a 'newconn' message, keeping its own copy open until
// the worker answers "accepted" (then it closes its copy) or "not accepted" (then it hands
// the connection to another worker). A worker that dies between the handoff and its answer
// never answers: the client waits for a response that never comes, and the primary keeps
// the socket, the reply callback and, through it, the dead Worker and its ChildProcess, for
// the life of the primary. Under traffic that is about one connection per crash, and the
// primary grows with every crash.
//
// Worse, the socket that carried the handoff waits for the dead worker to confirm that it
// received the handle, so Node never emits the worker's 'disconnect': node:cluster then
// never forgets the worker either (it stays in cluster.workers and, if it exited before
// its channel closed, among the workers of the servers it listened on).
//
// followHandoffs(worker) notes each handoff to the worker and each answer from it, and
// mends both:
// - Once the worker's process has exited and its channel has closed ('close') without a
//   'disconnect', it emits that 'disconnect', which is what makes node:cluster take the
//   worker off its servers and its list.
// - At the worker's 'disconnect', it answers the handoffs the worker left unanswered as
//   node:cluster's own worker answers one while it closes its server, "not accepted": the
//   primary hands each connection to another worker, which serves it, and frees what it
//   held. If no worker is left listening on that address, node:cluster keeps the
//   connection in a queue that nobody reads any more, so it is closed here instead.
//
// The worker never read from such a connection: a worker answers a handoff before it
// starts reading the socket, and its answer reaches the primary before the end of its
// channel does.
//
// This relies on node:cluster's internal messages ({ cmd: 'NODE_CLUSTER', act: 'newconn',
// seq } out, { cmd: 'NODE_CLUSTER', ack: seq, accepted } back), unchanged since Node 0.12.
// If they change, nothing is noted, and node:cluster behaves as it does without this.

const CLUSTER = 'NODE_CLUSTER'

// worker.id -> Map(seq -> { handle, key }) of the connected workers' unanswered handoffs.
const unanswered = new Map()

function isClusterMessage (message) {
  return message !== null && typeof message === 'object' && message.cmd === CLUSTER
}

function followHandoffs (worker) {
  const child = worker.process
  const pending = new Map()
  unanswered.set(worker.id, pending)
  const send = child.send
  child.send = function sendNoted (message, handle, ...rest) {
    if (handle && isClusterMessage(message) && message.act === 'newconn' && message.seq !== undefined) {
      pending.set(message.seq, { handle, key: message.key })
    }
    return send.call(this, message, handle, ...rest)
  }
  child.on('internalMessage', (message) => {
    if (isClusterMessage(message) && message.ack !== undefined) pending.delete(message.ack)
  })
  let disconnected = false
  child.once('disconnect', () => { disconnected = true })
  // 'close': the process has exited and its channel has ended. A 'disconnect' that is
  // coming is emitted by then or on the next tick; one that is not never will be.
  child.once('close', () => setImmediate(() => {
    if (!disconnected) child.emit('disconnect')
  }))
  // node:cluster emits the worker's 'disconnect' after it has taken the worker off every
  // server it listened on, so a connection handed back now goes to another worker.
  worker.once('disconnect', () => rehandUnanswered(worker, pending))
}

function rehandUnanswered (worker, pending) {
  unanswered.delete(worker.id)
  for (const [seq, { handle, key }] of pending) {
    pending.delete(seq)
    try {
      worker.process.emit('internalMessage', { cmd: CLUSTER, ack: seq, accepted: false })
    } catch {
      // node:cluster's internals changed shape: at least the socket is not left open.
      closeQuietly(handle)
      continue
    }
    // Handed on, or queued for a worker that is busy with a handoff on the same address
    // (its answer makes node:cluster hand it the next queued one); otherwise nobody
    // listens there any more.
    if (!handoffPending(key)) closeQuietly(handle)
  }
}

function handoffPending (key) {
  for (const pending of unanswered.values()) {
    for (const entry of pending.values()) if (entry.key === key) return true
  }
  return false
}

function closeQuietly (handle) {
  try {
    handle.close()
  } catch {
    // already closed
  }
}

module.exports = { followHandoffs }

'use strict'
// The JS side of the logger's boundary with Rust.
//
// Lines are appended to a pending string (V8 concatenation is cheap) and handed to the
// native LogSink in batches: when 64 Ki characters are pending, or on the next turn of the
// event loop. One native call per batch instead of one per line; the call copies the
// string's UTF-16 code units as they are, and the Rust writer thread converts them to
// UTF-8 and does every write(2). At process exit, pending lines are handed over and written.
//
// A line's start (`{"level":30,"time":..,"pid":..` and bindings) is sent once per logger,
// level and millisecond and referred to by the lines after it (src/log/chunk.rs has the
// format): fewer characters to copy out of V8, the largest cost of a line after
// JSON.stringify. For the same reason a merge object's JSON goes in with its braces,
// between two markers, and the writer drops the braces (a slice() here costs more).

const EventEmitter = require('node:events')
const { LogSink } = require('../native')
const { messageTail } = require('./serialize')
const reopenSignal = require('./reopen-signal')

const BATCH_CHARS = 64 * 1024
// The batch format's markers and slots (see src/log/chunk.rs).
const HEAD_REF = '\u0001'
const HEAD_DEFINE = '\u0002'
const HEAD_END = '\u0003'
const MERGE_OPEN = '\u0004'
const MERGE_CLOSE = '\u0005'
const SLOT_BASE = 0x80 // slot characters stay in 0x80..0xFF: the batch stays one-byte in V8
const SLOTS = 1 << 14
// Definitions a cached slot reference may live (line heads, message tails): half the
// slots, so a slot is never redefined while a reference to it is still handed out.
const HEAD_LIFE = SLOTS / 2
const open = new Set()

process.on('exit', () => {
  for (const sink of open) sink.flushSync()
})

class Sink extends EventEmitter {
  constructor ({ destination, queueBytes, overflow, bindings, encrypt, rotate, reopenOnSignal }) {
    super()
    this.pending = ''
    this.nextSlot = 0
    this.definitions = 0
    // The end of the line after a merge object, for the last message seen (see closedTail).
    this.tail = { message: '', limit: 0, epoch: -1, ref: null, at: 0 }
    // Bumped when a batch is dropped: it may have held head definitions, so every cached
    // head reference is stale and must be defined again.
    this.headEpoch = 0
    this.scheduled = false
    this.closed = false
    this.droppedAfterClose = 0
    this.ship = this.ship.bind(this)
    this.native = new LogSink(
      { ...destination, queueBytes, overflow, bindings, encrypt, rotate },
      (failure) => this.onWriteError(failure)
    )
    open.add(this)
    this.reopenOnSignal = reopenOnSignal
    if (reopenOnSignal) reopenSignal.watch(reopenOnSignal, this)
  }

  write (line) {
    if (this.closed) {
      this.droppedAfterClose++
      return
    }
    this.pending += line
    if (this.pending.length >= BATCH_CHARS) this.ship()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.ship)
    }
  }

  // Sends `text` once and returns the three characters that stand for it in later lines.
  // Slots are reused in turn. A cached line head (logger.js lineHead) and a cached message
  // tail are both renewed after HEAD_LIFE definitions, whatever the clock does; so a reused
  // slot is never still referred to.
  define (text) {
    this.definitions++
    const n = this.nextSlot
    const slot = String.fromCharCode(SLOT_BASE + (n >> 7), SLOT_BASE + (n & 127))
    this.nextSlot = (this.nextSlot + 1) % SLOTS
    this.pending += HEAD_DEFINE + slot + text + HEAD_END
    return HEAD_REF + slot
  }

  // What ends a line after a merge object's JSON: the close marker, `,"msg":..}`, a
  // newline. Apps log the same message again and again: from its second use in a row it is
  // a slot reference (3 characters instead of the whole message). The newline stays
  // outside the slot: the writer counts lines by their newlines.
  closedTail (message, limit) {
    const t = this.tail
    if (message === t.message && limit === t.limit && t.epoch === this.headEpoch) {
      if (t.ref === null || this.definitions - t.at >= HEAD_LIFE) {
        t.ref = MERGE_CLOSE + this.define(messageTail(message, limit).slice(0, -1)) + '\n'
        t.at = this.definitions
      }
      return t.ref
    }
    t.message = message
    t.limit = limit
    t.epoch = this.headEpoch
    t.ref = null
    return MERGE_CLOSE + messageTail(message, limit)
  }

  ship () {
    this.scheduled = false
    if (this.pending === '') return
    const chunk = this.pending
    this.pending = ''
    if (this.native.writeString(chunk) > 0) this.headEpoch++
  }

  // Resolves true once every line written before the call is on its destination; false
  // if the destination is failing (the lines stay queued and are retried).
  flush () {
    this.ship()
    return this.native.flush()
  }

  flushSync () {
    this.ship()
    return this.native.flushSync()
  }

  // The writer opens the file path afresh before its next batch (lines pending here are
  // handed over first and go wherever that batch goes: nothing is lost either way).
  reopen () {
    if (this.closed) return
    this.ship()
    this.native.reopen()
  }

  close () {
    if (this.closed) return
    this.ship()
    this.closed = true
    open.delete(this)
    if (this.reopenOnSignal) reopenSignal.unwatch(this.reopenOnSignal, this)
    this.native.close()
  }

  stats () {
    const stats = this.native.stats()
    stats.droppedLines += this.droppedAfterClose
    return stats
  }

  onWriteError ({ code, message }) {
    // An 'error' event without a listener would throw into the app: emit only to
    // listeners. Rust has already written the message to stderr.
    if (this.listenerCount('error') === 0) return
    const err = new Error(message)
    err.code = code
    this.emit('error', err)
  }
}

module.exports = { Sink, MERGE_OPEN, HEAD_LIFE }

'use strict'
// The JS side of the logger's boundary with Rust.
//
// Each line's UTF-16 code units are appended to a buffer whose memory the native LogSink
// owns (`buffer.ucs2Write`), and the length of whole lines in it is published in its
// header (an Atomics.store) after each line. The buffer is handed over in batches: when it
// is nearly full, or on the next turn of the event loop; one native call (a memory copy)
// per batch, and the Rust writer thread converts to UTF-8 and does every write(2).
// Because Rust can read the committed lines at any time, they are written even when the
// process ends without another event-loop turn: abort (V8 out of memory included), the
// end of a worker thread, exit() after the app's own 'exit' listeners (src/log/pending.rs,
// src/log/emergency.rs).
//
// A line's start (`{"level":30,"time":..,"pid":..` and bindings) is sent once per logger,
// level and millisecond and referred to by the lines after it (src/log/chunk.rs has the
// format): fewer characters to copy out of V8, the largest cost of a line after
// JSON.stringify. For the same reason a merge object's JSON goes in with its braces,
// between two markers, and the writer drops the braces (a slice() here costs more).

const EventEmitter = require('node:events')
const v8 = require('node:v8')
// The real one, taken at load: under an app's fake timers (sinon, Jest) batches still go.
const { setImmediate } = require('node:timers')
const { startShipper } = require('../ship')
const { LogSink } = require('../native')
const { messageTail } = require('./serialize')
const reopenSignal = require('./reopen-signal')

// The pending buffer's layout (src/log/pending.rs): a header, then the lines.
const HEADER_BYTES = 64
const DATA_BYTES = 128 * 1024
// How long fatal() waits for its line to be written (a stalled destination must not hang
// the process): the default exceptions.shutdownTimeoutMs.
const FATAL_WAIT_MS = 5000
// Pieces of a line up to this long are stored by a JS loop rather than a native call.
const SHORT_PIECE = 16
// The batch format's markers and slots (see src/log/chunk.rs).
const HEAD_REF = '\u0001'
const HEAD_DEFINE = '\u0002'
// The same for a slot's odd generations: the writer checks that a reference meets the
// definition it was made for (src/log/chunk.rs).
const HEAD_REF_ODD = '\u000f'
const HEAD_DEFINE_ODD = '\u000e'
const HEAD_END = '\u0003'
const MERGE_OPEN = '\u0004'
const MERGE_CLOSE = '\u0005'
const SLOT_BASE = 0x80 // slot characters stay in 0x80..0xFF: the batch stays one-byte in V8
const SLOTS = 1 << 14
// Definitions a cached slot reference may live (line heads, message tails): half the
// slots, so a slot is never redefined while a reference to it is still handed out.
const HEAD_LIFE = SLOTS / 2

// Sinks not closed yet, for the exit-time flush. Held weakly: a logger the app no longer
// reaches is collected, and the native finalizer has its writer write what is queued and
// end (thread and descriptor released). Lines waiting for the next turn are safe: the
// scheduled `ship` keeps its sink reachable until it has handed them over.
const open = new Set()
const forget = new FinalizationRegistry((ref) => open.delete(ref))

// A flush that cannot finish (failing or stalled destination, shutdown deadline, second
// signal) ends with one stderr line counting what was not written: never lost silently.
process.on('exit', () => {
  for (const ref of open) {
    const sink = ref.deref()
    if (sink !== undefined && !sink.flushSync()) sink.native.reportUnwritten()
  }
})

// The native error callback refers to its sink weakly: the callback is a GC root while
// the writer runs, and a strong reference would keep an unreachable logger alive forever.
function errorCallback (ref) {
  return (failure) => {
    const sink = ref.deref()
    if (sink !== undefined) sink.onWriteError(failure)
  }
}

function flushFailure () {
  const err = new Error('prodkit: the log destination is failing: lines logged before the flush are not written yet (they stay queued and are retried)')
  err.code = 'PRODKIT_FLUSH_FAILED'
  return err
}

class Sink extends EventEmitter {
  constructor ({ destination, queueBytes, overflow, bindings, encrypt, rotate, reopenOnSignal, ship }) {
    super()
    this.used = 0 // bytes of whole lines in the pending buffer
    this.spill = '' // what did not fit, during one log call (see append)
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
    const self = new WeakRef(this)
    // log.ship: a Rust thread ships the file this sink writes (lib/ship, src/ship). Started
    // first, so that its checkpoint is there before the first retention sweep.
    this.shipper = ship ? startShipper(destination.path, ship) : null
    try {
      this.native = new LogSink(
        { ...destination, queueBytes, overflow, bindings, encrypt, rotate },
        errorCallback(self)
      )
    } catch (err) {
      if (this.shipper) this.shipper.close(0)
      throw err
    }
    this.buffer = this.native.pendingBuffer()
    if (this.buffer.length !== HEADER_BYTES + DATA_BYTES) throw new Error('prodkit: the native pending buffer has an unexpected size')
    this.header = new Int32Array(this.buffer.buffer, this.buffer.byteOffset, 2)
    this.units = new Uint16Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length / 2)
    this.heap = new Float64Array(this.buffer.buffer, this.buffer.byteOffset, 3)
    this.openRef = self
    open.add(self)
    forget.register(this, self, self)
    this.reopenOnSignal = reopenOnSignal
    if (reopenOnSignal) reopenSignal.watch(reopenOnSignal, this)
  }

  write (line) {
    if (this.closed) {
      this.droppedAfterClose++
      this.spill = ''
      return
    }
    this.append(line)
    if (this.spill !== '') this.shipSpill()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.ship)
    }
  }

  // Appends whole lines (or a head definition) and publishes them. What does not fit
  // waits in `spill` until the log call ends, then goes with the buffer as one chunk: a
  // hand-over never happens in the middle of a call, so a line never travels apart from
  // the definitions it refers to (under overflow 'drop', they are kept or dropped together).
  append (text) {
    const bytes = text.length * 2
    if (this.spill !== '' || this.used + bytes > DATA_BYTES) {
      this.spill += text
      return
    }
    this.buffer.ucs2Write(text, HEADER_BYTES + this.used)
    this.used += bytes
    Atomics.store(this.header, 0, this.used)
  }

  shipSpill () {
    const spill = this.spill
    this.spill = ''
    this.used = 0
    if (this.native.shipWith(spill) > 0) this.headEpoch++
    if (this.header[1] !== 0) this.sampleHeap()
  }

  // The common line in its three pieces: line head reference, merge object's JSON (flat,
  // from JSON.stringify), message tail. Written piece by piece, so that V8 never builds
  // and flattens the whole line (an allocation and a copy, the largest cost of a
  // per-line write); the short pieces are stored code unit by code unit.
  writeParts (head, json, tail) {
    const bytes = (head.length + json.length + tail.length) * 2
    if (this.closed || this.spill !== '' || this.used + bytes > DATA_BYTES) {
      this.write(head + json + tail)
      return
    }
    let at = (HEADER_BYTES + this.used) >> 1
    at = this.putShort(head, at)
    this.buffer.ucs2Write(json, at * 2)
    at += json.length
    if (tail.length <= SHORT_PIECE) at = this.putShort(tail, at)
    else {
      this.buffer.ucs2Write(tail, at * 2)
      at += tail.length
    }
    this.used += bytes
    Atomics.store(this.header, 0, this.used)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.ship)
    }
  }

  // Stores a piece at code unit `at`; returns the unit after it.
  putShort (text, at) {
    const units = this.units
    for (let i = 0; i < text.length; i++) units[at + i] = text.charCodeAt(i)
    return at + text.length
  }

  // fatal(): the line, and everything logged before it, is on the destination when this
  // returns (or FATAL_WAIT_MS have passed: a stalled destination cannot hang the process).
  writeThrough () {
    if (this.closed) return false
    this.ship()
    return this.native.flushSync(FATAL_WAIT_MS)
  }

  // Sends `text` once and returns the three characters that stand for it in later lines.
  // Slots are reused in turn. A cached line head (logger.js lineHead) and a cached message
  // tail are both renewed after HEAD_LIFE definitions, whatever the clock does; so a reused
  // slot is never still referred to.
  define (text) {
    const odd = (this.definitions / SLOTS) & 1 // the slot's generation: passes over the slots
    this.definitions++
    const n = this.nextSlot
    const slot = String.fromCharCode(SLOT_BASE + (n >> 7), SLOT_BASE + (n & 127))
    this.nextSlot = (this.nextSlot + 1) % SLOTS
    this.append((odd ? HEAD_DEFINE_ODD : HEAD_DEFINE) + slot + text + HEAD_END)
    return (odd ? HEAD_REF_ODD : HEAD_REF) + slot
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
    if (this.used === 0) return
    this.used = 0
    if (this.native.ship() > 0) this.headEpoch++
    if (this.header[1] !== 0) this.sampleHeap()
  }

  // Asked for by Rust every few ms at most (src/log/pending.rs): if the process dies of
  // V8 out of memory, the native abort handler's fatal line reports the last figures.
  sampleHeap () {
    const heap = v8.getHeapStatistics()
    this.heap[1] = heap.used_heap_size
    this.heap[2] = heap.heap_size_limit
    this.header[1] = 0
  }

  // Resolves true once every line written before the call is on its destination; false
  // if the destination is failing (the lines stay queued and are retried). The writer
  // thread settles it: no libuv pool thread waits. With a callback (pino's signature),
  // calls cb(null) after the flush, or cb(err) if the destination is failing, and returns
  // nothing.
  flush (cb) {
    if (cb !== undefined && typeof cb !== 'function') {
      throw new TypeError(`prodkit: flush(cb) takes a function (got ${typeof cb})`)
    }
    this.ship()
    const done = this.native.flush()
    if (cb === undefined) return done
    // Outside the promise chain, as Node calls callbacks: what cb throws is an uncaught
    // exception, not an unhandled rejection.
    done.then((written) => process.nextTick(cb, written ? null : flushFailure()))
  }

  // True while the destination is failing (writes fail and are retried).
  isFailing () {
    return this.native.stats().failing
  }

  // `timeoutMs`: give up (false) after that long; by default waits while the destination
  // is healthy (never past the shutdown deadline: src/log/shutdown.rs).
  flushSync (timeoutMs) {
    this.ship()
    return this.native.flushSync(timeoutMs)
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
    open.delete(this.openRef)
    forget.unregister(this.openRef)
    if (this.reopenOnSignal) reopenSignal.unwatch(this.reopenOnSignal, this)
    this.native.close()
    // The shipper stops (waiting at most 1 s for a batch in flight: it is abandoned past
    // that); what it has not shipped is shipped by the next one started on this file.
    if (this.shipper) this.shipper.close(1000)
  }

  stats () {
    const stats = this.native.stats()
    stats.droppedLines += this.droppedAfterClose
    if (this.shipper) stats.shipping = this.shipper.stats()
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

'use strict'
// The workers' stdout and stderr, read by the primary (the workers are forked with pipes,
// not the primary's own descriptors) and written to the primary's log, as PM2 captures
// them. Each pipe is cut into whole lines (a line split across reads is joined first; a
// worker's pipes are its own, so two workers' lines never mix); a line that is a JSON
// object (the app's own prodkit or pino logger writing to stdout) goes through as it is,
// any other text (console.log, a native module's printf) becomes one log line
// { level, msg, worker, stream } (stdout at info, stderr at error). The pipes are read to
// their end, after the worker exits too: its last words are not lost. What a worker prints
// is written whatever the primary's level (its own child at the capture's level): an
// operator who quiets the primary's lines with LOG_LEVEL=warn still sees the app's output.

const { coreOf } = require('../log/logger')

// A line longer than this without a newline is written in pieces of this size: one runaway
// print must not hold the primary's memory.
const MAX_LINE = 1024 * 1024

function isJsonObject (line) {
  return line.charCodeAt(0) === 0x7b && line.charCodeAt(line.length - 1) === 0x7d // '{' ... '}'
}

// Reads `stream` line by line into `log` (the primary's logger).
function captureStream (stream, log, fields, level) {
  if (!stream) return
  const wrapped = log.child(fields, { level })
  const sink = coreOf(log).sink
  const emit = (raw) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') return
    if (isJsonObject(line)) sink.write(`${line}\n`)
    else wrapped[level](line)
  }
  let pending = ''
  stream.setEncoding('utf8') // a character split across two reads is joined
  stream.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop()
    for (const line of lines) emit(line)
    while (pending.length > MAX_LINE) {
      emit(pending.slice(0, MAX_LINE))
      pending = pending.slice(MAX_LINE)
    }
  })
  stream.on('end', () => {
    if (pending !== '') emit(pending)
    pending = ''
  })
  stream.on('error', () => {}) // the worker is gone: its exit is handled elsewhere
}

function captureWorker (worker, log) {
  captureStream(worker.process.stdout, log, { worker: worker.id, stream: 'stdout' }, 'info')
  captureStream(worker.process.stderr, log, { worker: worker.id, stream: 'stderr' }, 'error')
}

module.exports = { captureWorker, captureStream, isJsonObject }

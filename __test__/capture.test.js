'use strict'
// lib/cluster/capture.js on its own: a worker's output stream cut into whole lines and
// written to the primary's log, JSON lines as they are, other text wrapped with its
// worker and stream, whatever the primary's own level.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { PassThrough } = require('node:stream')
const prodkit = require('..')
const { captureStream } = require('../lib/cluster/capture')

test('captured output is written whole, JSON passed through, text wrapped, even when the primary logs at warn', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-capture-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'primary.log')
  const log = prodkit.createLogger({ destination: file, level: 'warn' })
  const out = new PassThrough()
  const err = new PassThrough()
  captureStream(out, log, { worker: 3, stream: 'stdout' }, 'info')
  captureStream(err, log, { worker: 3, stream: 'stderr' }, 'error')
  log.info('the primary\'s own info line: below its level')
  out.write('plain one\nhalf ')
  out.write('and half\r\n{"level":30,"msg":"from pino"}\n')
  err.write('oops\n')
  out.end('last words without a newline')
  err.end()
  await Promise.all([new Promise((resolve) => out.on('end', resolve)), new Promise((resolve) => err.on('end', resolve))])
  assert.equal(await log.flush(), true)
  log.close()
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(lines.map((l) => [l.level, l.msg, l.worker, l.stream]), [
    [30, 'plain one', 3, 'stdout'],
    [30, 'half and half', 3, 'stdout'],
    [30, 'from pino', undefined, undefined],
    [50, 'oops', 3, 'stderr'],
    [30, 'last words without a newline', 3, 'stdout']
  ])
})

'use strict'
// The side-by-side harness for the tests ported from pino's own test files
// (__test__/pino-port-*.test.js). A case is written once, as a body taking
// `{ make, lines, lib, impl }`:
//   make(options)  a logger: pino(options, <a stream collecting chunks>) or
//                  prodkit.createLogger({ level: 'info', ...options, destination: <file>,
//                  service: false }): the same options, pino's default level;
//   lines()        every line written so far by the loggers `make` gave, in the order the
//                  loggers were made, as parsed JSON, `time` set to 0 when it is a number
//                  (a millisecond apart between the two runs); prodkit's are flushed first;
//   raw()          the same lines as text (time masked), to compare bytes;
//   text()         the text unmasked (for a case that stubs Date.now);
//   lib            pino or prodkit (for stdSerializers, stdTimeFunctions, ...);
//   impl           'pino' or 'prodkit'.
// The body's return value (lines, bindings(), booleans, ...) must be deepEqual between the
// two, and a body that throws must throw with both. So each assertion of a ported pino test
// holds for prodkit exactly when prodkit does what pino does.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const pino = require('pino')
const prodkit = require('../..')

function mask (text) {
  return text.replace(/"time":\d+/g, '"time":0')
}

function pinoSide () {
  const outputs = []
  return {
    impl: 'pino',
    lib: pino,
    make (options) {
      const out = { text: '' }
      outputs.push(out)
      const stream = { write (s) { out.text += s } }
      return pino(options === undefined ? {} : options, stream)
    },
    text: () => outputs.map((o) => o.text).join(''),
    close () {}
  }
}

function prodkitSide () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pino-port-'))
  const loggers = []
  return {
    impl: 'prodkit',
    lib: prodkit,
    make (options) {
      const file = path.join(dir, `${loggers.length}.log`)
      const log = prodkit.createLogger({ level: 'info', ...options, destination: file, service: false })
      loggers.push({ log, file })
      return log
    },
    text () {
      return loggers.map(({ log, file }) => {
        log.flushSync()
        return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '' // created by the first line
      }).join('')
    },
    close () {
      for (const { log } of loggers) log.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

function parse (text) {
  return text === '' ? [] : text.trimEnd().split('\n').map((l) => JSON.parse(l))
}

async function run (side, body) {
  side.raw = () => mask(side.text())
  side.lines = () => parse(side.raw())
  try {
    return { value: await body(side) }
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err
    return { threw: true, error: err }
  } finally {
    side.close()
  }
}

// Runs body against both and asserts the same result (or that both threw).
async function compare (body) {
  const a = await run(pinoSide(), body)
  const b = await run(prodkitSide(), body)
  if (a.threw || b.threw) {
    assert.equal(Boolean(b.threw), Boolean(a.threw),
      `pino ${a.threw ? 'threw ' + a.error : 'did not throw'}, prodkit ${b.threw ? 'threw ' + b.error : 'did not throw'}`)
    return
  }
  assert.deepEqual(b.value, a.value)
}

// side(name, body) or side(name, { skip: 'reason' }, body): one ported case. With no
// return value the body's lines are compared, as bytes.
function side (name, opts, body) {
  if (typeof opts === 'function') { body = opts; opts = {} }
  test(name, opts, () => compare(async (s) => {
    const value = await body(s)
    return value === undefined ? s.raw() : value
  }))
}

module.exports = { side, compare, pino, prodkit }

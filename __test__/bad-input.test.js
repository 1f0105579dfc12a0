'use strict'
// Whatever the app passes, a log call gives exactly one valid JSON line and never throws;
// invalid options throw a TypeError that names the option and what it accepts.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const prodkit = require('..')
const { tempDir, readJsonLines } = require('./helpers')

function fileLogger (t, options = {}) {
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 'svc', level: 'info', ...options })
  t.after(() => log.close())
  return { log, file, lines: () => (log.flushSync(), readJsonLines(file)) }
}

// Logs with `args` and returns the single line it produced.
function oneLine (t, ...args) {
  const { log, lines } = fileLogger(t)
  assert.doesNotThrow(() => log.info(...args))
  const out = lines()
  assert.equal(out.length, 1, 'exactly one line')
  return out[0]
}

test('circular references become [Circular]; shared (non-circular) references are kept', (t) => {
  const shared = { x: 1 }
  const obj = { a: shared, b: shared, list: [] }
  obj.self = obj
  obj.list.push(obj, { up: obj.list })
  const line = oneLine(t, obj, 'circular')
  assert.deepEqual(line.a, { x: 1 })
  assert.deepEqual(line.b, { x: 1 })
  // As pino: each top-level value is written on its own, so the merge object itself is
  // not an ancestor there and a cycle back to it shows one level down.
  assert.deepEqual(line.self, { a: { x: 1 }, b: { x: 1 }, list: ['[Circular]', { up: '[Circular]' }], self: '[Circular]' })
  assert.deepEqual(line.list, [{ a: { x: 1 }, b: { x: 1 }, list: '[Circular]', self: '[Circular]' }, { up: '[Circular]' }])
})

test('BigInt values become strings of digits', (t) => {
  const line = oneLine(t, { big: 2n ** 70n, nested: { n: -5n } }, 'bigint')
  assert.equal(line.big, '1180591620717411303424')
  assert.equal(line.nested.n, '-5')
})

test('symbol keys, symbol values and functions are left out, as JSON.stringify does', (t) => {
  const line = oneLine(t, { [Symbol('k')]: 1, s: Symbol('v'), f () {}, arr: [Symbol('x'), () => 1], keep: true }, 'symbols')
  assert.deepEqual(Object.keys(line).slice(5), ['arr', 'keep', 'msg'])
  assert.deepEqual(line.arr, [null, null])
})

test('a throwing getter or toJSON is marked, and the rest of the object is kept', (t) => {
  const obj = { ok: 1, get bad () { throw new Error('getter broke') } }
  const line = oneLine(t, obj, 'getter')
  assert.equal(line.ok, 1)
  assert.equal(line.bad, '[Throws: Error: getter broke]')
  const line2 = oneLine(t, { inner: { toJSON () { throw new TypeError('no json') } }, ok: 2 }, 'toJSON')
  assert.deepEqual([line2.inner, line2.ok], ['[Throws: TypeError: no json]', 2])
  const line3 = oneLine(t, { toJSON () { throw new Error('top') } }, 'top toJSON')
  assert.equal(line3.value, '[Throws: Error: top]')
})

test('a proxy whose traps throw and an error whose message getter throws still give a line', (t) => {
  const proxy = new Proxy({}, { ownKeys () { throw new Error('trap') }, get () { throw new Error('get trap') } })
  const line = oneLine(t, { p: proxy }, 'proxy')
  assert.match(line.p, /Unserializable|Throws/)
  const err = new Error('x')
  Object.defineProperty(err, 'message', { get () { throw new Error('no message') } })
  const line2 = oneLine(t, err)
  assert.equal(line2.err.message, '[Throws: Error: no message]')
})

test('lone surrogates are escaped, so the line stays valid UTF-8 JSON', (t) => {
  const line = oneLine(t, { s: 'a\ud800b', t: '\udc00' }, 'lone \ud83d surrogate')
  assert.equal(line.s, 'a\ud800b')
  assert.equal(line.t, '\udc00')
  assert.equal(line.msg, 'lone \ud83d surrogate')
  const emoji = oneLine(t, { s: '😀 ok' }, 'é 😀')
  assert.deepEqual([emoji.s, emoji.msg], ['😀 ok', 'é 😀'])
})

test('a 10 MB string is cut at maxStringLength and marked as cut, in fields and in msg', (t) => {
  const huge = 'x'.repeat(10 * 1024 * 1024)
  const line = oneLine(t, { huge, small: 'ok' }, huge)
  assert.equal(line.huge, 'x'.repeat(65536) + `...[truncated ${huge.length - 65536} chars]`)
  assert.equal(line.small, 'ok')
  assert.equal(line.msg, line.huge)
  const { log, lines } = fileLogger(t, { maxStringLength: 100 })
  log.info({ s: 'y'.repeat(150), short: 'z'.repeat(100) }, 'm'.repeat(101))
  const [cut] = lines()
  assert.equal(cut.s, 'y'.repeat(100) + '...[truncated 50 chars]')
  assert.equal(cut.short, 'z'.repeat(100))
  assert.equal(cut.msg, 'm'.repeat(100) + '...[truncated 1 chars]')
})

test('loggers with different maxStringLength cut the same message each by their own limit', (t) => {
  const wide = fileLogger(t)
  const narrow = fileLogger(t, { maxStringLength: 16 })
  const message = 'twenty characters!!!'
  for (let i = 0; i < 2; i++) {
    wide.log.info(message)
    narrow.log.info(message)
    wide.log.info({ a: i }, message)
    narrow.log.info({ a: i }, message)
  }
  for (const line of wide.lines()) assert.equal(line.msg, message)
  for (const line of narrow.lines()) assert.equal(line.msg, 'twenty character...[truncated 4 chars]')
})

test('undefined, null and non-string messages each give one line, with the msg value pino writes', (t) => {
  const cases = [
    [[undefined], undefined],
    [[null], null],
    [[], undefined],
    [[42], 42],
    [[true], true],
    [[10n], 10],
    [[Symbol('s')], 'Symbol(s)'],
    [[function named () {}], undefined],
    [[{ a: 1 }, undefined], undefined],
    [[{ a: 1 }, 42], 42],
    [[{ a: 1 }, { b: 2 }], { b: 2 }],
    [[null, 'after null'], 'after null'],
    [[undefined, 'x %s', 'y'], 'x y'],
    [[42, 'more', 1], 42]
  ]
  for (const [args, msg] of cases) {
    const line = oneLine(t, ...args)
    assert.deepEqual(line.msg, msg, `log.info(${args.map(String).join(', ')})`)
  }
})

test('non-object merge arguments: arrays, dates and boxed values go under "value"', (t) => {
  assert.deepEqual(oneLine(t, [1, 2], 'array').value, [1, 2])
  assert.equal(oneLine(t, new Date(0), 'date').value, '1970-01-01T00:00:00.000Z')
  assert.equal(oneLine(t, Object.create(null), 'null proto').msg, 'null proto')
  assert.deepEqual(oneLine(t, new Map([[1, 2]]), 'map').msg, 'map')
})

test('invalid options throw a TypeError naming the option and the accepted values', (t) => {
  const dir = tempDir(t)
  const cases = [
    [{ level: 'verbose' }, /option log.level must be one of trace, debug, info, warn, error, fatal, silent \(any case\) or a level number \(10, 20, 30, 40, 50, 60\) \(got "verbose"\)/],
    [{ level: 35 }, /option log.level must be one of .* \(got 35\)/],
    [{ destination: '' }, /option log.destination must be 'stdout', 'stderr', a file path or a file descriptor number \(got ""\)/],
    [{ destination: -1 }, /option log.destination must be .* \(got -1\)/],
    [{ destination: {} }, /option log.destination must be .* \(got an object\)/],
    [{ overflow: 'lose' }, /option log.overflow must be 'block' or 'drop' \(got "lose"\)/],
    [{ queueBytes: 10 }, /option log.queueBytes must be an integer from 65536 to 4294967295 \(got 10\)/],
    [{ maxStringLength: 'long' }, /option log.maxStringLength must be an integer from 16 to 1073741824 \(got "long"\)/],
    [{ service: 5 }, /option log.service must be a non-empty string, or false for none \(got 5\)/],
    [{ base: 'x' }, /option log.base must be an object of fields added to every line, or null for no pid and hostname \(got "x"\)/],
    [{ levle: 'info' }, /unknown option log.levle \(known: level, destination, service, base, queueBytes, overflow, maxStringLength, rotate, reopenOnSignal, redact, encrypt, ship, name, messageKey, errorKey, nestedKey, timestamp, msgPrefix, serializers, formatters, mixin, mixinMergeStrategy, hooks, customLevels, useOnlyCustomLevels, levelComparison, enabled, depthLimit, edgeLimit, crlf\)/]
  ]
  for (const [options, message] of cases) {
    assert.throws(() => prodkit.createLogger({ destination: path.join(dir, 'x.log'), ...options }), { name: 'TypeError', message }, JSON.stringify(options))
  }
  assert.throws(() => prodkit.createLogger('info'), { name: 'TypeError', message: /option log must be an object \(got "info"\)/ })
})

test('a logger keeps working for other calls after bad input', (t) => {
  const { log, lines } = fileLogger(t)
  const evil = { get x () { throw new Error('x') } }
  evil.self = evil
  log.info(evil, 'evil')
  log.info({ fine: true }, 'fine')
  assert.deepEqual(lines().map((l) => l.msg), ['evil', 'fine'])
})

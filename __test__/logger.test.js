'use strict'
// The logger's lines, levels, children, interpolation and error serialisation.

const test = require('node:test')
const assert = require('node:assert/strict')
const os = require('node:os')
const path = require('node:path')
const prodkit = require('..')
const { tempDir, readJsonLines, runNode } = require('./helpers')

function fileLogger (t, options = {}) {
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 'svc', level: 'trace', ...options })
  t.after(() => log.close())
  return { log, lines: () => (log.flushSync(), readJsonLines(file)) }
}

test('a line carries level, time, pid, hostname, service, the merge object and msg, in pino order', (t) => {
  const { log, lines } = fileLogger(t)
  const before = Date.now()
  log.info({ user: { id: 7, email: 'a@example.com' }, orderId: 'o-1' }, 'order placed')
  const [line] = lines()
  assert.deepEqual(Object.keys(line), ['level', 'time', 'pid', 'hostname', 'service', 'user', 'orderId', 'msg'])
  assert.equal(line.level, 30)
  assert.ok(line.time >= before && line.time <= Date.now())
  assert.equal(line.pid, process.pid)
  assert.equal(line.hostname, os.hostname())
  assert.equal(line.service, 'svc')
  assert.deepEqual(line.user, { id: 7, email: 'a@example.com' })
  assert.equal(line.msg, 'order placed')
})

test('each level method writes its numeric level; levels below the threshold write nothing', (t) => {
  const { log, lines } = fileLogger(t, { level: 'warn' })
  for (const name of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[name](name)
  assert.deepEqual(lines().map((l) => [l.level, l.msg]), [[40, 'warn'], [50, 'error'], [60, 'fatal']])
  assert.deepEqual(prodkit.levels, { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 })
})

test('level can be read and set; isLevelEnabled follows it; silent logs nothing', (t) => {
  const { log, lines } = fileLogger(t, { level: 'info' })
  assert.equal(log.level, 'info')
  assert.equal(log.isLevelEnabled('debug'), false)
  assert.equal(log.isLevelEnabled('info'), true)
  assert.equal(log.isLevelEnabled('nope'), false)
  log.level = 'debug'
  assert.equal(log.isLevelEnabled('debug'), true)
  log.debug('now visible')
  log.level = 'silent'
  assert.equal(log.isLevelEnabled('fatal'), false)
  log.fatal('not written')
  assert.throws(() => { log.level = 'verbose' }, { name: 'TypeError', message: /level must be one of trace, debug, info, warn, error, fatal, silent \(any case\) or a level number \(10, 20, 30, 40, 50, 60\) \(got "verbose"\)/ })
  assert.equal(log.level, 'silent')
  assert.deepEqual(lines().map((l) => l.msg), ['now visible'])
})

test('child loggers add their bindings, nest, and take their own level', (t) => {
  const { log, lines } = fileLogger(t, { level: 'info' })
  const child = log.child({ requestId: 'r-1' })
  const grandchild = child.child({ userId: 3 }, { level: 'debug' })
  child.info('from child')
  child.debug('hidden: inherits info')
  grandchild.debug({ step: 2 }, 'from grandchild')
  log.info('from parent')
  const out = lines()
  assert.deepEqual(out.map((l) => l.msg), ['from child', 'from grandchild', 'from parent'])
  assert.equal(out[0].requestId, 'r-1')
  assert.deepEqual([out[1].requestId, out[1].userId, out[1].step, out[1].level], ['r-1', 3, 2, 20])
  assert.equal(out[2].requestId, undefined)
  assert.throws(() => log.child('x'), { name: 'TypeError', message: /child\(bindings\) must be an object/ })
  assert.throws(() => log.child({}, { level: 'loud' }), { name: 'TypeError', message: /child options.level must be one of/ })
})

test('messages interpolate %s %d %i %f %j %o %O and %% as pino does; arguments without a placeholder are dropped', (t) => {
  const { log, lines } = fileLogger(t)
  log.info('s=%s d=%d i=%i f=%f j=%j o=%o O=%O 100%%', 'str', '42', '7.9', '1.5', { a: 1 }, [1], { b: { c: 2 } })
  log.info({ k: 1 }, 'user %s logged in', 'ann', 'extra', 3)
  log.info('no placeholders', 1, 'two')
  log.info('%s and %s', 'only one')
  log.info('literal %% with no args')
  log.info('big %d', 12345678901234567890n)
  assert.deepEqual(lines().map((l) => l.msg), [
    's=str d=42 i=7 f=1.5 j={"a":1} o=[1] O={"b":{"c":2}} 100%',
    'user ann logged in',
    'no placeholders',
    'only one and %s',
    'literal %% with no args',
    'big 12345678901234567000'
  ])
})

test('errors are serialised under err with type, message, stack, code, own properties, cause and errors', (t) => {
  const { log, lines } = fileLogger(t)
  const root = new TypeError('socket hang up')
  root.code = 'ECONNRESET'
  const err = new Error('payment failed', { cause: root })
  err.status = 502
  log.error(err)
  log.error(err, 'while charging %s', 'card')
  log.warn({ err: root, orderId: 1 }, 'with merge')
  log.error({ error: new RangeError('r') }, 'error under another key')
  log.error(new AggregateError([new Error('a'), new Error('b')], 'many'))
  const [plain, withMsg, merged, otherKey, aggregate] = lines()
  assert.equal(plain.msg, 'payment failed')
  assert.equal(plain.err.type, 'Error')
  assert.equal(plain.err.message, 'payment failed')
  assert.match(plain.err.stack, /^Error: payment failed\n {4}at /)
  assert.equal(plain.err.status, 502)
  assert.deepEqual([plain.err.cause.type, plain.err.cause.message, plain.err.cause.code], ['TypeError', 'socket hang up', 'ECONNRESET'])
  assert.match(plain.err.cause.stack, /TypeError: socket hang up/)
  assert.equal(withMsg.msg, 'while charging card')
  assert.equal(withMsg.err.message, 'payment failed')
  assert.deepEqual([merged.err.type, merged.err.code, merged.orderId, merged.msg], ['TypeError', 'ECONNRESET', 1, 'with merge'])
  assert.equal(otherKey.error.type, 'RangeError')
  assert.equal(aggregate.err.type, 'AggregateError')
  assert.deepEqual(aggregate.err.errors.map((e) => e.message), ['a', 'b'])
})

test('an error whose cause chain loops back is cut with [Circular]', (t) => {
  const { log, lines } = fileLogger(t)
  const a = new Error('a')
  const b = new Error('b', { cause: a })
  a.cause = b
  log.error(a)
  const [line] = lines()
  assert.equal(line.err.cause.message, 'b')
  assert.equal(line.err.cause.cause, '[Circular]')
})

test('base fields and service are on every line; service false removes it', (t) => {
  const a = fileLogger(t, { base: { region: 'eu', build: 12 } })
  a.log.info('x')
  const [line] = a.lines()
  assert.deepEqual([line.service, line.region, line.build], ['svc', 'eu', 12])
  const b = fileLogger(t, { service: false })
  b.log.info('y')
  assert.equal('service' in b.lines()[0], false)
})

test('createLogger() has pino\'s defaults: level info whatever LOG_LEVEL and NODE_ENV say, no service field', async () => {
  const code = "const l = require('@oj/prodkit').createLogger({ destination: 'stderr' }); l.info('x'); l.debug('hidden'); process.stdout.write(l.level)"
  for (const env of [{ LOG_LEVEL: 'warn', NODE_ENV: 'production' }, { LOG_LEVEL: '', NODE_ENV: 'development' }, { LOG_LEVEL: 'loud' }]) {
    const out = await runNode(code, { env })
    assert.equal(out.code, 0, out.stderr)
    assert.equal(out.stdout, 'info', JSON.stringify(env))
    const lines = out.stderr.trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(lines.map((l) => l.msg), ['x'])
    assert.deepEqual(Object.keys(lines[0]), ['level', 'time', 'pid', 'hostname', 'msg'], 'pino\'s keys, no service')
  }
})

test('install()\'s logger: the level is LOG_LEVEL, else info in production, else debug; service defaults to package.json name', async () => {
  const code = "const kit = require('@oj/prodkit').install({ log: { destination: 'stderr' }, metrics: false }); kit.log.info('x'); process.stdout.write(kit.log.level); kit.close()"
  const cases = [
    [{ LOG_LEVEL: 'warn', NODE_ENV: 'production' }, 'warn'],
    [{ LOG_LEVEL: '', NODE_ENV: 'production' }, 'info'],
    [{ LOG_LEVEL: '', NODE_ENV: 'development' }, 'debug'],
    [{ LOG_LEVEL: '', NODE_ENV: '' }, 'debug']
  ]
  for (const [env, level] of cases) {
    const out = await runNode(code, { env })
    assert.equal(out.code, 0, out.stderr)
    assert.equal(out.stdout, level, JSON.stringify(env))
  }
  const { stderr } = await runNode(code, { env: { LOG_LEVEL: 'info' } })
  const line = stderr.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'x')
  assert.equal(line.service, '@oj/prodkit')
  const bad = await runNode(code, { env: { LOG_LEVEL: 'loud' } })
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr, /TypeError: prodkit: option LOG_LEVEL \(environment\) must be one of trace, debug, info, warn, error, fatal, silent \(any case\) or a level number \(10, 20, 30, 40, 50, 60\) \(got "loud"\)/)
})

test('install() is idempotent and exposes its logger as prodkit.log', async () => {
  const code = `
    const prodkit = require('@oj/prodkit')
    if (prodkit.log !== undefined) throw new Error('log before install')
    const kit = prodkit.install({ service: 'checkout', log: { destination: 'stdout', level: 'info' } })
    const again = prodkit.install({ service: 'other' })
    if (kit !== again || prodkit.log !== kit.log) throw new Error('not idempotent')
    kit.log.info({ a: 1 }, 'installed')
    kit.log.debug('hidden')`
  const out = await runNode(code)
  assert.equal(out.code, 0, out.stderr)
  const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.msg !== 'prodkit installed' && l.level !== 40)
  assert.equal(lines.length, 1)
  assert.deepEqual([lines[0].service, lines[0].msg, lines[0].a], ['checkout', 'installed', 1])
})

test('ESM import gives the same API', async () => {
  const code = "import prodkit, { createLogger, install, levels, version } from '@oj/prodkit'; " +
    "if (prodkit.createLogger !== createLogger || typeof install !== 'function' || levels.info !== 30 || !version) process.exit(3)"
  const out = await runNode(code, { args: ['--input-type=module'] })
  assert.equal(out.code, 0, out.stderr)
})

'use strict'
// pino compatibility: the same calls through real pino 10 and through prodkit write the
// same lines (time, which differs by a millisecond, left out), and nothing configured as
// secret reaches a line by any way of passing it.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { randomBytes } = require('node:crypto')
const pino = require('pino')
const prodkit = require('..')
const { tempDir } = require('./helpers')

const KEY = randomBytes(32).toString('base64')

function withoutTime (text) {
  return text.replace(/,"time":\d+/g, '').trimEnd().split('\n')
}

// The raw lines of `calls(log)` through pino(options) and prodkit.createLogger(options).
// `extra` holds prodkit-only options (service: false leaves out prodkit's own field).
function sideBySide (t, options, calls, extra = {}) {
  let pinoText = ''
  calls(pino({ ...options }, { write (s) { pinoText += s } }))
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ level: 'info', ...options, destination: file, service: false, ...extra })
  t.after(() => log.close())
  calls(log)
  assert.equal(log.flushSync(), true)
  return { pino: withoutTime(pinoText), prodkit: withoutTime(fs.readFileSync(file, 'utf8')) }
}

function rawLines (t, options, calls) {
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ level: 'info', ...options, destination: file, service: false })
  t.after(() => log.close())
  calls(log)
  assert.equal(log.flushSync(), true)
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '' // created by the first line
}

// Every way a secret can be handed to a log call.
function secretCalls (log) {
  log.info('unused argument', { password: 's3cret-1' })
  log.info({ a: 1 }, 'unused after a message', { password: 's3cret-2' }, 'more')
  log.info('json %j', { password: 's3cret-3' })
  log.info('object %o', { user: { password: 's3cret-4' } })
  log.info('object %O', { password: 's3cret-5', ok: 1 })
  log.info({ password: 's3cret-6' }, 'merge object')
  log.child({ password: 's3cret-7' }).info('bindings')
  log.info({}, { password: 's3cret-8' })
  log.info('%j and %j', [{ password: 's3cret-9' }], { user: { password: 's3cret-10' } })
  log.fatal('fatal %j', { password: 's3cret-11' })
}

test('unused arguments are dropped and %j %o %O interpolation is as pino writes it', (t) => {
  const calls = (log) => {
    log.info('login', { password: 'x' })
    log.info('login %s', 'a', { b: 1 }, 'c')
    log.info({ a: 1 }, 'login', { password: 'x' })
    log.info({ a: 1 }, 'login %d %%', 3, 4)
    log.info('x', 'y')
    log.info('s=%s d=%d i=%i f=%f j=%j o=%o O=%O 100%%', 'str', '42', '7.9', '1.5', { a: 1 }, [1], { b: { c: 2 } })
    log.info('%s and %s', 'only one')
    log.info('literal %% with no args')
    log.info('x %y %s', 1, 2)
    log.info('%d', null)
    log.info('%j', 'str', 'more')
    log.info('%j', function named () {})
    log.info('%d', 12345678901234567890n)
    log.info('%s', { a: 1 })
    log.info(null, 'x %s', 'y')
    log.info(undefined, 'x %s', 'y')
    log.info(3, 'x')
    log.info(true)
    log.info(null)
    log.info({}, 42)
    log.info({ a: 1 }, null)
    log.info({}, { a: 1 }, { b: 2 }, { c: 3 })
    log.info({ msg: 'inner' }, 'outer')
    log.info()
    log.info('a\u2028b\n"')
  }
  const out = sideBySide(t, {}, calls)
  assert.deepEqual(out.prodkit, out.pino)
  assert.equal(out.prodkit.length, 25)
})

test('with redact, interpolated objects are redacted as pino redacts them', (t) => {
  const calls = (log) => {
    log.info('login %j', { password: 'x' })
    log.info('login %o', { password: 'x', a: { password: 1 } })
    log.info({ password: 'x' }, 'x %O', { password: 'y', other: 2 })
    log.info('unused', { password: 'x' })
    log.child({ password: 'p', b: 1 }).info('child %j', { a: { password: 'q' } })
  }
  const out = sideBySide(t, { redact: ['password', 'a.password'] }, calls)
  assert.deepEqual(out.prodkit, out.pino)
  assert.equal(out.prodkit.join('\n').includes('"x"'), false)
})

test('a redacted secret reaches no line: merge object, bindings, interpolated and unused arguments', (t) => {
  const text = rawLines(t, { redact: ['password', 'user.password', '*.password'] }, secretCalls)
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.equal(lines.length, 10)
  assert.doesNotMatch(text, /s3cret/)
  assert.equal(lines[2].msg, 'json {"password":"[Redacted]"}')
  assert.equal(lines[3].msg, 'object {"user":{"password":"[Redacted]"}}')
  assert.equal(lines[4].msg, 'object {"password":"[Redacted]","ok":1}')
  assert.equal(lines[5].password, '[Redacted]')
  assert.equal(lines[6].password, '[Redacted]')
  assert.deepEqual(lines[7].msg, { password: '[Redacted]' })
})

test('an encrypted secret reaches no line: sealed in fields, [Redacted] inside the message', (t) => {
  const text = rawLines(t, { encrypt: { paths: ['password', 'user.password', '*.password'], key: KEY } }, secretCalls)
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.equal(lines.length, 10)
  assert.doesNotMatch(text, /s3cret/)
  assert.equal(lines[0].msg, 'unused argument')
  assert.equal(lines[2].msg, 'json {"password":"[Redacted]"}')
  assert.equal(lines[3].msg, 'object {"user":{"password":"[Redacted]"}}')
  assert.equal(lines[8].msg, '[{"password":"[Redacted]"}] and {"user":{"password":"[Redacted]"}}')
  assert.match(lines[5].password, /^\$pk1\$/)
  assert.match(lines[6].password, /^\$pk1\$/)
  assert.deepEqual(lines[7].msg, { password: '[Redacted]' })
  assert.equal(lines[9].msg, 'fatal {"password":"[Redacted]"}')
})

test('interpolation never throws: cycles, throwing getters, symbols and BigInts', (t) => {
  const cycle = { a: 1 }
  cycle.self = cycle
  const getter = { get boom () { throw new Error('no') } }
  const noString = Object.create(null)
  const text = rawLines(t, { redact: ['password'] }, (log) => {
    log.info('%j', cycle)
    log.info('%o', getter)
    log.info('%d %i %s', Symbol('s'), Symbol('t'), noString)
    log.info('%j', { big: 1n, password: 'x' })
  })
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(lines.map((l) => l.msg), [
    '{"a":1,"self":"[Circular]"}',
    '{"boom":"[Throws: Error: no]"}',
    'NaN NaN [object]',
    '{"big":"1","password":"[Redacted]"}'
  ])
})

// Calls and options pino 10 accepts, written the same by both.
function levelCalls (log) {
  log.level = 50
  log.error('at 50')
  log.warn('hidden')
  log.level = 'warn'
  log.warn('at warn %s', log.levelVal)
  log.child({ level: 30, a: 1 }).error('a level key in bindings is left out')
  const child = log.child({ a: 1 }, { level: 'info' })
  child.info('child level')
  child.setBindings({ b: 2 })
  child.info('after setBindings %j', child.bindings())
  child.info({ err: new Error('boom') })
  child.info({ err: new Error('not used'), msg: 'own message wins' })
  child.silent('nothing')
  child.level = 'silent'
  child.fatal('nothing')
}

test('levels as numbers and names in any case, levelVal, child level bindings, setBindings, bindings(), silent: as pino', (t) => {
  for (const options of [{ level: 'INFO' }, { level: 30 }, { level: 'info', base: null }]) {
    const out = sideBySide(t, options, levelCalls)
    const noStack = (lines) => lines.map((l) => l.replace(/"stack":"[^"]*"/, '"stack":""'))
    assert.deepEqual(noStack(out.prodkit), noStack(out.pino), JSON.stringify(options))
    assert.equal(out.prodkit.length, 7)
  }
})

test('the logger object has pino\'s level members: levels shape, levelVal, silent, isLevelEnabled; WARN is accepted', (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ destination: file, level: 'WARN', base: null, service: false })
  t.after(() => log.close())
  const p = pino({ level: 'warn' })
  assert.deepEqual(log.levels, p.levels)
  assert.equal(log.level, 'warn')
  assert.equal(log.levelVal, 40)
  log.level = 'ERROR'
  assert.deepEqual([log.level, log.levelVal, log.isLevelEnabled('error'), log.isLevelEnabled('warn')], ['error', 50, true, false])
  log.level = 'silent'
  assert.deepEqual([log.levelVal, log.isLevelEnabled('fatal')], [Infinity, false])
  assert.equal(typeof log.silent, 'function')
  assert.throws(() => { log.level = 35 }, { name: 'TypeError', message: /option level must be one of .* or a level number \(10, 20, 30, 40, 50, 60\) \(got 35\)/ })
  assert.throws(() => log.setBindings('x'), { name: 'TypeError', message: /setBindings\(bindings\) must be an object of fields/ })
  assert.throws(() => log.child({}, { level: 'loud' }), { name: 'TypeError', message: /child options.level must be one of/ })
})

test('bindings() never gives back a protected value', (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ destination: file, service: false, base: { tenant: 't1' }, redact: ['password'], encrypt: { paths: ['token'], key: KEY } })
  t.after(() => log.close())
  const child = log.child({ password: 'p', token: 'k', user: 7 })
  assert.deepEqual(child.bindings(), { tenant: 't1', password: '[Redacted]', token: '[Redacted]', user: 7 })
  assert.deepEqual(log.bindings(), { tenant: 't1' })
})

test('flush(cb) calls cb once the lines are written, as pino does', async (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ destination: file, service: false })
  t.after(() => log.close())
  log.info('before flush')
  const err = await new Promise((resolve) => log.flush(resolve))
  assert.equal(err, null)
  assert.match(fs.readFileSync(file, 'utf8'), /"msg":"before flush"/)
})

// Calls that exercise the shape options.
function shapeCalls (log) {
  log.info({ a: 1, password: 'x' }, 'hello %s', 'world')
  log.info('no merge object')
  log.info({ msg: 'own' })
  log.info({ err: new Error('in merge') })
  log.error(new Error('first argument'))
  log.error(new Error('first argument'), 'with %s', 'message')
  log.info(42)
  log.info({})
  const child = log.child({ c: 1 }, { msgPrefix: '[child] ' })
  child.warn('from child')
  child.child({}, { msgPrefix: '[grandchild] ' }).warn({ b: 2 }, 'deeper')
}

const SHAPES = [
  { name: 'app' },
  { name: 'app', base: null },
  { messageKey: 'message' },
  { errorKey: 'error' },
  { messageKey: 'message', errorKey: 'error' },
  { nestedKey: 'payload' },
  { nestedKey: 'payload', redact: ['password'] },
  { msgPrefix: '[app] ' },
  { timestamp: false },
  { timestamp: false, messageKey: 'm', nestedKey: 'p', msgPrefix: '> ', name: 'n', redact: ['password'] }
]

test('name, messageKey, errorKey, nestedKey, msgPrefix (and child msgPrefix), timestamp: false write what pino writes', (t) => {
  for (const options of SHAPES) {
    const out = sideBySide(t, options, shapeCalls)
    const noStack = (lines) => lines.map((l) => l.replace(/"stack":"[^"]*"/g, '"stack":""'))
    assert.deepEqual(noStack(out.prodkit), noStack(out.pino), JSON.stringify(options))
    assert.equal(out.prodkit.length, 10)
  }
})

test('timestamp functions: prodkit.stdTimeFunctions are pino\'s, and a custom function is called per line', (t) => {
  assert.deepEqual(Object.keys(prodkit.stdTimeFunctions).sort(), Object.keys(pino.stdTimeFunctions).sort())
  const shapes = {
    epochTime: /^\{"level":30,"time":\d{13},"pid"/,
    unixTime: /^\{"level":30,"time":\d{10},"pid"/,
    isoTime: /^\{"level":30,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","pid"/,
    isoTimeNano: /^\{"level":30,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z","pid"/,
    nullTime: /^\{"level":30,"pid"/
  }
  for (const [name, shape] of Object.entries(shapes)) {
    let pinoText = ''
    pino({ timestamp: pino.stdTimeFunctions[name] }, { write (s) { pinoText += s } }).info('x')
    assert.match(pinoText, shape, `pino ${name}`)
    const text = rawLines(t, { timestamp: prodkit.stdTimeFunctions[name] }, (log) => log.info('x'))
    assert.match(text, shape, `prodkit ${name}`)
  }
  let n = 0
  const counted = rawLines(t, { timestamp: () => `,"seq":${++n}` }, (log) => { log.info('a'); log.info('b'); log.info('c') })
  assert.deepEqual(counted.trimEnd().split('\n').map((l) => JSON.parse(l).seq), [1, 2, 3])
  const broken = rawLines(t, { timestamp: () => { throw new Error('clock') } }, (log) => log.info('still written'))
  assert.equal(JSON.parse(broken).msg, 'still written')
  assert.equal(typeof JSON.parse(broken).time, 'number')
})

test('shape options are validated; pino options not supported yet are refused by name, never ignored', () => {
  const bad = [
    [{ name: 3 }, /option log.name must be a string \(got 3\)/],
    [{ messageKey: '' }, /option log.messageKey must be a non-empty string/],
    [{ errorKey: {} }, /option log.errorKey must be a non-empty string .* \(got an object\)/],
    [{ nestedKey: 1 }, /option log.nestedKey must be a non-empty string/],
    [{ msgPrefix: 1 }, /option log.msgPrefix must be a string/],
    [{ timestamp: 'iso' }, /option log.timestamp must be true, false or a function/],
    [{ levelComparison: 'UP' }, /option log.levelComparison must be 'ASC', 'DESC' or a function \(level, threshold\) returning a boolean \(got "UP"\)/],
    [{ useOnlyCustomLevels: true }, /option log.useOnlyCustomLevels needs log.customLevels/],
    [{ useOnlyCustomLevels: 1, customLevels: { a: 1 } }, /option log.useOnlyCustomLevels must be true or false \(got 1\)/],
    [{ useOnlyCustomLevels: true, customLevels: { foo: 35 } }, /option log.level \(default info; give a level of log.customLevels\) must be one of foo, silent \(as named\) or a level number \(35\) \(got "info"\)/],
    [{ enabled: 'no' }, /option log.enabled must be true or false \(got "no"\)/],
    [{ depthLimit: 0 }, /option log.depthLimit must be a positive integer \(or Infinity\) \(got 0\)/],
    [{ edgeLimit: '5' }, /option log.edgeLimit must be a positive integer \(or Infinity\) \(got "5"\)/],
    [{ transport: {} }, /option log.transport is a pino option that prodkit does not support yet/],
    [{ nope: 1 }, /unknown option log.nope/]
  ]
  for (const [options, message] of bad) {
    assert.throws(() => prodkit.createLogger({ destination: 'stderr', ...options }), { name: 'TypeError', message }, JSON.stringify(Object.keys(options)))
  }
  const log = prodkit.createLogger({ destination: 'stderr', level: 'silent' })
  assert.throws(() => log.child({}, { msgPrefix: 1 }), { name: 'TypeError', message: /child options.msgPrefix must be a string/ })
  assert.throws(() => log.child({}, { serializers: { a: 1 } }), { name: 'TypeError', message: /option child options.serializers.a must be a function, null or undefined \(got 1\)/ })
  assert.throws(() => log.child({}, { formatters: { lvl: 1 } }), { name: 'TypeError', message: /unknown option child options.formatters.lvl/ })
  assert.throws(() => log.child({}, { redact: 'a' }), { name: 'TypeError', message: /option child options.redact must be an array of paths or \{ paths, censor, remove \} \(got "a"\)/ })
  assert.throws(() => log.child({}, { redact: ['a..b'] }), { name: 'TypeError', message: /option child options.redact\[0\] must be a path/ })
  assert.throws(() => log.child({}, { customLevels: { audit: 30 } }), { name: 'TypeError', message: /option child options.customLevels.audit: the parent's level info has the number 30/ })
  assert.throws(() => log.child({}, { customLevels: { info: 31 } }), { name: 'TypeError', message: /option child options.customLevels.info is not a usable level name/ })
  assert.throws(() => log.child({}, { customLevels: { audit: 35 }, level: 'nope' }), { name: 'TypeError', message: /option child options.level must be one of .*audit/ })
  assert.throws(() => prodkit.createLogger({ destination: 'stderr', levelComparison: () => { throw new Error('cmp') } }), { name: 'TypeError', message: /option log.levelComparison threw: cmp/ })
  assert.throws(() => log.child({}, { nope: 1 }), { name: 'TypeError', message: /unknown child option nope/ })
  log.close()
})

test('shape options with encrypt: fields are sealed, the message censored, lines valid', (t) => {
  const text = rawLines(t, { encrypt: { paths: ['password'], key: KEY }, messageKey: 'message', nestedKey: 'payload', timestamp: prodkit.stdTimeFunctions.isoTime, msgPrefix: '> ' }, (log) => {
    log.info({ password: 's3cret-a', ok: 1 }, 'login %j', { password: 's3cret-b' })
    log.child({ password: 's3cret-c' }, { msgPrefix: 'child ' }).info('bound')
  })
  assert.doesNotMatch(text, /s3cret/)
  const [first, second] = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.match(first.payload.password, /^\$pk1\$/)
  assert.equal(first.payload.ok, 1)
  assert.equal(first.message, '> login {"password":"[Redacted]"}')
  assert.match(second.password, /^\$pk1\$/)
  assert.equal(second.message, '> child bound')
})

test('serializers apply to the merge object, errorKey and bindings before redaction, as in pino', (t) => {
  const calls = (log) => {
    log.info({ user: { id: 1, password: 'x', name: 'ann' }, other: 2 }, 'serialised')
    log.info({ err: new Error('e1') })
    log.error(new Error('e2'))
    log.child({ user: { id: 2, password: 'y' } }).info('child')
    log.info({ user: undefined, n: 1 }, 'undefined is left out')
  }
  const options = { serializers: { user: (u) => ({ id: u.id, password: u.password }) }, redact: ['user.password'] }
  for (const extra of [{}, { errorKey: 'error', messageKey: 'message' }]) {
    const out = sideBySide(t, { ...options, ...extra }, calls)
    const noStack = (lines) => lines.map((l) => l.replace(/"stack":"[^"]*"/g, '"stack":""'))
    assert.deepEqual(noStack(out.prodkit), noStack(out.pino), JSON.stringify(extra))
    assert.equal(out.prodkit.length, 5)
  }
})

test('a serializer that throws gives a marker, never a failed call; stdSerializers req and res', (t) => {
  const req = { method: 'GET', originalUrl: '/a?b=1', headers: { host: 'x' }, socket: { remoteAddress: '::1', remotePort: 5000 } }
  const res = { headersSent: true, statusCode: 204, getHeaders: () => ({ 'x-id': '1' }) }
  const text = rawLines(t, {
    serializers: { user: () => { throw new Error('bad user') }, req: prodkit.stdSerializers.req, res: prodkit.stdSerializers.res }
  }, (log) => {
    log.info({ user: { id: 1 } }, 'still written')
    log.info({ req, res }, 'request')
  })
  const [first, second] = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.equal(first.user, '[prodkit: serializer for user threw: bad user]')
  assert.deepEqual(second.req, { method: 'GET', url: '/a?b=1', headers: { host: 'x' }, remoteAddress: '::1', remotePort: 5000 })
  assert.deepEqual(second.res, { statusCode: 204, headers: { 'x-id': '1' } })
  assert.deepEqual(prodkit.stdSerializers.err(new TypeError('t')).type, 'TypeError')
  assert.throws(() => prodkit.createLogger({ destination: 'stderr', serializers: { user: 1 } }), { name: 'TypeError', message: /option log.serializers.user must be a function, null or undefined \(got 1\)/ })
  assert.throws(() => prodkit.createLogger({ destination: 'stderr', serializers: [] }), { name: 'TypeError', message: /option log.serializers must be an object of functions/ })
})

// hooks.logMethod from pino's documentation: a message first, then the object.
function swapArguments (args, method) {
  if (args.length >= 2 && typeof args[0] === 'string') args.push(args.shift())
  return method.apply(this, args)
}

const HOOK_SETS = [
  { formatters: { level: (label) => ({ level: label }) } },
  { formatters: { level: (label, number) => ({ severity: label.toUpperCase(), level: number }) } },
  { formatters: { bindings: (b) => ({ host: b.hostname, proc: b.pid }) } },
  { formatters: { bindings: (b) => ({ host: b.hostname, n: b.name }) }, name: 'app' },
  { formatters: { log: (o) => ({ ...o, logged: true }) } },
  { mixin: () => ({ appName: 'x' }) },
  { mixin: (o, level) => ({ lvl: level, a: 'mixin' }) },
  { mixin: () => ({ a: 'mixin' }), mixinMergeStrategy: (merge, mixed) => Object.assign(merge, mixed) },
  { mixin: () => ({ a: 'mixin', password: 'm' }), redact: ['password'], nestedKey: 'p', messageKey: 'message' },
  { hooks: { logMethod: swapArguments } },
  { hooks: { logMethod (args, method, level) { return method.apply(this, [`L${level} ` + (typeof args[0] === 'string' ? args.shift() : '')].concat(args)) } } }
]

test('formatters (level, bindings, log), mixin, mixinMergeStrategy and hooks.logMethod write what pino writes', (t) => {
  const calls = (log) => {
    log.info({ a: 1, password: 'x' }, 'with merge')
    log.info('no merge')
    log.error(new Error('boom'))
    log.child({ c: 1 }).warn({ b: 2 }, 'child %s', 'x')
    log.info({ err: new Error('in merge') })
    log.info('hello', { swapped: true })
  }
  for (const options of HOOK_SETS) {
    const out = sideBySide(t, options, calls)
    const noStack = (lines) => lines.map((l) => l.replace(/"stack":"[^"]*"/g, '"stack":""'))
    assert.deepEqual(noStack(out.prodkit), noStack(out.pino), String(Object.keys(options)))
    assert.equal(out.prodkit.length, 6)
  }
})

test('a mixin, formatter or hook that throws never fails the call: the line says what went wrong', (t) => {
  const boom = () => { throw new Error('app bug') }
  const text = [
    rawLines(t, { mixin: boom }, (log) => log.info({ a: 1 }, 'mixin')),
    rawLines(t, { formatters: { log: boom } }, (log) => log.info({ a: 1 }, 'log formatter')),
    rawLines(t, { formatters: { bindings: boom } }, (log) => log.info('bindings formatter')),
    rawLines(t, { hooks: { logMethod: boom } }, (log) => log.info({ a: 1 }, 'hook'))
  ].join('')
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.deepEqual(lines.map((l) => [l.msg, l.prodkitShapeError]), [
    ['mixin', 'mixin threw: app bug'],
    ['log formatter', 'formatters.log threw: app bug'],
    ['bindings formatter', 'formatters.bindings threw: app bug'],
    ['hook', 'hooks.logMethod threw: app bug']
  ])
  assert.equal(lines[0].a, 1)
})

test('formatters, mixin and hooks are validated with errors naming the option', () => {
  const bad = [
    [{ formatters: 1 }, /option log.formatters must be \{ level, bindings, log \} functions \(got 1\)/],
    [{ formatters: { lvl: () => ({}) } }, /unknown option log.formatters.lvl \(known: level, bindings, log\)/],
    [{ formatters: { level: 'x' } }, /option log.formatters.level must be a function/],
    [{ formatters: { level: () => 'info' } }, /option log.formatters.level must be a function returning an object/],
    [{ formatters: { level: () => { throw new Error('no') } } }, /option log.formatters.level threw for trace: no/],
    [{ mixin: {} }, /option log.mixin must be a function \(got an object\)/],
    [{ mixinMergeStrategy: 1 }, /option log.mixinMergeStrategy must be a function/],
    [{ hooks: { logMethod: 1 } }, /option log.hooks.logMethod must be a function/],
    [{ hooks: { streamWrite: 1 } }, /option log.hooks.streamWrite must be a function/],
    [{ hooks: { other: 1 } }, /unknown option log.hooks.other/]
  ]
  for (const [options, message] of bad) {
    assert.throws(() => prodkit.createLogger({ destination: 'stderr', ...options }), { name: 'TypeError', message }, JSON.stringify(Object.keys(options)))
  }
})

test('redact in pino\'s path syntaxes, with a censor string, a censor function or remove, as pino writes it', (t) => {
  const obj = { a: { b: 1, 'b-c': 2, list: [{ b: 3 }, { b: 4 }] }, user: { password: 'p' }, arr: [{ b: 5 }], 'd.e': 6 }
  const paths = ['a.b', 'a["b-c"]', "a['b-c']", 'a.list[*].b', 'a.list.*.b', 'arr[0].b', '["d.e"]', 'a.*', '*.password']
  const censors = [{}, { censor: 'XX' }, { remove: true }, { censor: (value, path) => `${path.join('/')}:${typeof value}` }]
  for (const path of paths) {
    for (const extra of censors) {
      // pino throws for a censor function on a path that starts with *: prodkit calls it (tested below).
      if (path.startsWith('*') && typeof extra.censor === 'function') continue
      const out = sideBySide(t, { base: null, timestamp: false, redact: { paths: [path], ...extra } }, (log) => log.info(obj, 'm %j', obj))
      assert.deepEqual(out.prodkit, out.pino, `${path} ${Object.keys(extra)}`)
    }
  }
  const text = rawLines(t, { redact: { paths: ['*.password', 'x'], censor: (value, path) => { if (path[0] === 'x') throw new Error('no'); return path.join('.') } } }, (log) => log.info({ user: { password: 'p' }, x: 's3cret' }))
  assert.deepEqual(JSON.parse(text).user, { password: 'user.password' })
  assert.equal(JSON.parse(text).x, '[Redacted]')
})

test('customLevels: methods, level by name or number, child levels and formatters.level, as pino writes them', (t) => {
  const calls = (log) => {
    log.audit('a %s', 'x')
    log.notice({ x: 1 }, 'n')
    log.info('below notice')
    log.warn('w')
    log.level = 'audit'
    log.notice('hidden')
    log.audit('shown')
    log.level = 32
    log.child({ c: 1 }, { level: 'notice' }).notice('child notice')
    log.warn({ levelVal: log.levelVal, enabled: log.isLevelEnabled('audit') }, 'state')
  }
  for (const extra of [{}, { formatters: { level: (label) => ({ level: label }) } }, { redact: ['x'], messageKey: 'm' }]) {
    const out = sideBySide(t, { customLevels: { audit: 35, notice: 32 }, level: 'notice', ...extra }, calls)
    assert.deepEqual(out.prodkit, out.pino, String(Object.keys(extra)))
    assert.equal(out.prodkit.length, 6)
  }
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ destination: file, customLevels: { audit: 35 } })
  t.after(() => log.close())
  assert.deepEqual(log.levels, pino({ customLevels: { audit: 35 } }).levels)
  assert.throws(() => { log.level = 'nope' }, { name: 'TypeError', message: /option level must be one of trace, debug, info, warn, error, fatal, audit, silent .* \(10, 20, 30, 35, 40, 50, 60\)/ })
  const bad = [
    [{ customLevels: 1 }, /option log.customLevels must be an object of level names and numbers/],
    [{ customLevels: { info: 31 } }, /option log.customLevels.info is not a usable level name/],
    [{ customLevels: { child: 31 } }, /option log.customLevels.child is not a usable level name/],
    [{ customLevels: { audit: 'x' } }, /option log.customLevels.audit must be an integer from 1 to 2147483647 \(got "x"\)/],
    [{ customLevels: { audit: 35 }, level: 'nope' }, /option log.level must be one of .*audit/],
    [{ useOnlyCustomLevels: true }, /option log.useOnlyCustomLevels needs log.customLevels/],
    [{ useOnlyCustomLevels: true, customLevels: {}, level: 'silent' }, /option log.customLevels must be at least one level with useOnlyCustomLevels/]
  ]
  for (const [options, message] of bad) {
    assert.throws(() => prodkit.createLogger({ destination: 'stderr', ...options }), { name: 'TypeError', message }, JSON.stringify(options))
  }
})

test('a child with its own redact keeps its parent\'s encrypt: sealed fields stay sealed on every route', (t) => {
  const text = rawLines(t, { redact: ['a'], encrypt: { paths: ['token', '*.token'], key: KEY } }, (log) => {
    const child = log.child({ token: 's3cret-bound', b: 'hidden-b' }, { redact: ['b'] })
    child.info({ token: 's3cret-field', nested: { token: 's3cret-nested' }, a: 'parent-rule-dropped', b: 'hidden-field' }, 'm %j', { token: 's3cret-interp', b: 'hidden-interp' })
    log.child({}, { redact: [] }).info({ token: 's3cret-no-redact', a: 'visible' })
  })
  assert.doesNotMatch(text, /s3cret|hidden/)
  const [first, second] = text.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.match(first.token, /^\$pk1\$/)
  assert.match(first.nested.token, /^\$pk1\$/)
  assert.equal(first.b, '[Redacted]')
  assert.equal(first.a, 'parent-rule-dropped') // as pino: a child's redact replaces its parent's
  assert.match(second.token, /^\$pk1\$/)
  assert.equal(second.a, 'visible')
})

test('hooks.streamWrite: a hook that throws or returns no string gets a line saying so (never the unhooked line); markers are escaped; encrypt is refused', (t) => {
  const lines = []
  for (const hook of [() => { throw new Error('hook broke') }, () => 42, (s) => s.replace('}', ',"x":"\u0001\u0004"}'), () => '', (s) => s.trimEnd()]) {
    const text = rawLines(t, { hooks: { streamWrite: hook }, base: { app: 'a' } }, (log) => log.info({ password: 'p' }, 'secret-ish'))
    lines.push(text)
  }
  const [threw, notString, markers, empty, noNewline] = lines
  assert.match(threw, /^\{"level":30,"time":\d+,"pid":\d+,"hostname":"[^"]+","app":"a","prodkitShapeError":"hooks.streamWrite threw: hook broke"\}\n$/)
  assert.doesNotMatch(threw + notString, /password|secret-ish/)
  assert.match(notString, /"prodkitShapeError":"hooks.streamWrite returned no string"/)
  assert.equal(JSON.parse(markers).x, '\u0001\u0004')
  assert.equal(empty, '')
  assert.equal(JSON.parse(noNewline).msg, 'secret-ish')
  assert.ok(noNewline.endsWith('}\n'))
  assert.throws(() => prodkit.createLogger({ destination: 'stderr', hooks: { streamWrite: (s) => s }, encrypt: { paths: ['a'], key: KEY } }),
    { name: 'TypeError', message: /option log.hooks.streamWrite cannot be used with log.encrypt/ })
})

'use strict'
// pino's test/basic.test.js, ported side by side (__test__/pino-port/harness.js): each case
// makes the same calls through pino 10 and prodkit and asserts the same lines (or the same
// return value), so prodkit stays a drop-in for pino's basic calls.
// Cases: 117 (6 levels x 9 per-level cases + 63); ported and passing: 105; skipped with a
// reason: 12 (pino.version x3, the PINO_CONFIG stream message, pino(stream), pino.destination
// and string destinations x3, pino.default, onChild, base placement, child() without
// bindings).

const { side } = require('./pino-port/harness')

const DIFF = (what) => ({ skip: `${what} — docs/differences-from-pino.md` })

side('pino version is exposed on export', DIFF('prodkit.version is prodkit\'s'), () => {})
side('pino version is exposed on instance', DIFF('no logger.version'), () => {})
side('child instance exposes pino version', DIFF('no logger.version'), () => {})

side('bindings are exposed on every instance', ({ make }) => make().bindings())
side('bindings contain the name and the child bindings', ({ make }) =>
  make({ name: 'basicTest', level: 'info' }).child({ foo: 'bar' }).child({ a: 2 }).bindings())
side('set bindings on instance', ({ make }) => {
  const instance = make({ name: 'basicTest', level: 'info' })
  instance.setBindings({ foo: 'bar' })
  return instance.bindings()
})
side('newly set bindings overwrite old bindings', ({ make }) => {
  const instance = make({ name: 'basicTest', level: 'info', base: { foo: 'bar' } })
  instance.setBindings({ foo: 'baz' })
  return instance.bindings()
})
side('set bindings on child instance', ({ make }) => {
  const child = make({ name: 'basicTest', level: 'info' }).child({})
  child.setBindings({ foo: 'bar' })
  return child.bindings()
})
side('child should have bindings set by parent', ({ make }) => {
  const instance = make({ name: 'basicTest', level: 'info' })
  instance.setBindings({ foo: 'bar' })
  return instance.child({}).bindings()
})
side('child should not share bindings of parent set after child creation', ({ make }) => {
  const instance = make({ name: 'basicTest', level: 'info' })
  const child = instance.child({})
  instance.setBindings({ foo: 'bar' })
  return [instance.bindings(), child.bindings()]
})

function levelTest (name) {
  const at = (make, options) => {
    const instance = make(options)
    instance.level = name
    return instance
  }
  side(`${name} logs as level`, ({ make }) => { at(make)[name]('hello world') })
  side(`passing objects at level ${name}`, ({ make, raw }) => {
    const obj = { hello: 'world' }
    at(make)[name](obj)
    return [raw(), Object.keys(obj)]
  })
  side(`passing an object and a string at level ${name}`, ({ make, raw }) => {
    const obj = { hello: 'world' }
    at(make)[name](obj, 'a string')
    return [raw(), Object.keys(obj)]
  })
  side(`passing a undefined and a string at level ${name}`, ({ make }) => { at(make)[name](undefined, 'a string') })
  side(`overriding object key by string at level ${name}`, ({ make }) => {
    at(make)[name]({ hello: 'world', msg: 'object' }, 'string')
  })
  side(`formatting logs as ${name}`, ({ make }) => { at(make)[name]('hello %d', 42) })
  side(`formatting a symbol at level ${name}`, ({ make }) => { at(make)[name]('hello %s', Symbol('foo')) })
  const err = new Error('myerror') // one error: the same stack for both
  side(`passing error with a serializer at level ${name}`, ({ make, lib }) => {
    at(make, { serializers: { err: lib.stdSerializers.err } })[name]({ err })
  })
  side(`child logger for level ${name}`, ({ make }) => { at(make).child({ hello: 'world' })[name]('hello world') })
}

levelTest('fatal')
levelTest('error')
levelTest('warn')
levelTest('info')
levelTest('debug')
levelTest('trace')

side('serializers can return undefined to strip field', ({ make }) => {
  make({ serializers: { test () { return undefined } } }).info({ test: 'sensitive info' })
})
side('streams receive a message event with PINO_CONFIG', DIFF('no pino stream: one destination written by Rust'), () => {})
side('does not explode with a circular ref', ({ make }) => {
  const b = {}
  const a = { hello: b }
  b.a = a
  make().info(a)
})
side('set the name', ({ make }) => { make({ name: 'hello' }).fatal('this is fatal') })
side('set the messageKey', ({ make }) => { make({ messageKey: 'fooMessage' }).info('hello world') })
side('set the nestedKey', ({ make }) => { make({ nestedKey: 'stuff' }).info({ hello: 'world' }) })
side('set undefined properties', ({ make }) => { make().info({ hello: 'world', property: undefined }) })
side('prototype properties are not logged', ({ make }) => { make().info(Object.create({ hello: 'world' })) })
side('set the base', DIFF('base fields placement'), ({ make }) => { make({ base: { a: 'b' } }).fatal('this is fatal') })
side('set the base to null', ({ make }) => { make({ base: null }).fatal('this is fatal') })
side('set the base to null and use a formatter', ({ make }) => {
  make({
    base: null,
    formatters: { log (input) { return Object.assign({}, input, { additionalMessage: 'using pino' }) } }
  }).fatal('this is fatal too')
})
side('throw if creating child without bindings', DIFF('child() without bindings is accepted'), ({ make }) => { make().child() })
side('correctly escapes msg strings with stray double quote at end', ({ make }) => { make({ name: 'hello' }).fatal('this contains "') })
side('correctly escape msg strings with unclosed double quote', ({ make }) => { make({ name: 'hello' }).fatal('" this contains') })
side('correctly escape quote in a key', ({ make, raw }) => {
  const obj = { 'some"obj': 'world' }
  make().info(obj, 'a string')
  return [raw(), Object.keys(obj)]
})
side('object and format string', ({ make }) => { make().info({}, 'foo %s', 'bar') })
side('object and format string property', ({ make }) => { make().info({ answer: 42 }, 'foo %s', 'bar') })
side('correctly strip undefined when returned from toJSON', ({ make }) => {
  make().fatal({ test: { toJSON () { return undefined } } })
})
side('correctly supports stderr', DIFF('pino(stream): prodkit takes a destination, not a stream'), () => {})
side('normalize number to string', ({ make }) => { make().info(1) })
side('normalize number to string with an object', ({ make }) => { make().info({ answer: 42 }, 1) })
side('handles objects with null prototype', ({ make }) => {
  const o = Object.create(null)
  o.test = 'test'
  make().info(o)
})
side('pino.destination', DIFF('pino.destination()'), () => {})
side('auto pino.destination with a string', DIFF('pino.destination(): a path is the destination option'), () => {})
side('auto pino.destination with a string as second argument', DIFF('pino.destination()'), () => {})
side('does not override opts with a string as second argument', ({ make }) => {
  make({ timestamp: () => ',"time":"none"' }).info('hello')
})
side('children with same names render in correct order', ({ make }) => { make().child({ a: 1 }).child({ a: 2 }).info({ a: 3 }) })
side('use `safe-stable-stringify` to avoid circular dependencies', ({ make }) => {
  const obj = {}
  obj.a = obj
  make().info(obj)
})
side('correctly log non circular objects', ({ make }) => {
  const obj = {}
  let parent = obj
  for (let i = 0; i < 10; i++) {
    parent.node = {}
    parent = parent.node
  }
  make().info(obj)
})
side('safe-stable-stringify must be used when interpolating', ({ make }) => {
  const o = { a: { b: {} } }
  o.a.b.c = o.a.b
  make().info('test %j', o)
})
side('throws when setting useOnlyCustomLevels without customLevels', ({ make }) => { make({ useOnlyCustomLevels: true }) })
side('correctly log Infinity', ({ make }) => { make().info({ num: Infinity }) })
side('correctly log -Infinity', ({ make }) => { make().info({ num: -Infinity }) })
side('correctly log NaN', ({ make }) => { make().info({ num: NaN }) })
side('offers a .default() method to please typescript', DIFF('pino.default: prodkit exports createLogger'), () => {})
side('correctly skip function', ({ make }) => { make().info({ num: NaN }, () => {}) })
side('correctly skip Infinity', ({ make }) => { make().info({ num: NaN }, Infinity) })
side('correctly log number', ({ make }) => { make().info({ num: NaN }, 42) })
side('nestedKey should not be used for non-objects', ({ make }) => { make({ nestedKey: 'stuff' }).info('hello') })
side('throws if prettyPrint is passed in as an option', ({ make }) => { make({ prettyPrint: true }) })
side('Should invoke `onChild` with the newly created child', DIFF('onChild not supported'), () => {})
side('logger message should have the prefix message that defined in the logger creation', ({ make, raw }) => {
  const logger = make({ msgPrefix: 'My name is Bond ' })
  logger.info('James Bond')
  return [logger.msgPrefix, raw()]
})
side('child message should have the prefix message that defined in the child creation', ({ make }) => {
  make().child({}, { msgPrefix: 'My name is Bond ' }).info('James Bond')
})
side('child message should have the prefix message that defined in the child creation when logging with log meta', ({ make }) => {
  make().child({}, { msgPrefix: 'My name is Bond ' }).info({ hello: 'world' }, 'James Bond')
})
side('logged message should not have the prefix when not providing any message', ({ make }) => {
  make().child({}, { msgPrefix: 'This should not be shown ' }).info({ hello: 'world' })
})
side('child message should append parent prefix to current prefix that defined in the child creation', ({ make, raw }) => {
  const child = make({ msgPrefix: 'My name is Bond ' }).child({}, { msgPrefix: 'James ' })
  child.info('Bond')
  return [child.msgPrefix, raw()]
})
side('child message should inherent parent prefix', ({ make }) => { make({ msgPrefix: 'My name is Bond ' }).child({}).info('James Bond') })
side('grandchild message should inherent parent prefix', ({ make }) => {
  make().child({}, { msgPrefix: 'My name is Bond ' }).child({}).info('James Bond')
})
side('logs an object with an own enumerable __proto__ key', ({ make }) => {
  make().info(JSON.parse('{"__proto__":{"x":1},"user":"bob"}'), 'incoming request')
})
side('logs a redacted object with an own enumerable __proto__ key', ({ make }) => {
  make({ redact: ['user'] }).info(JSON.parse('{"__proto__":{"x":1},"user":"bob"}'), 'incoming request')
})
side('logs child bindings with an own enumerable __proto__ key', ({ make }) => {
  make().child(JSON.parse('{"__proto__":{"x":1},"reqId":"abc"}')).info('incoming request')
})
side('logs an object with keys named after Object.prototype members', ({ make }) => {
  make().info({
    toString: 'a',
    constructor: 'b',
    valueOf: 'c',
    hasOwnProperty: 'd',
    propertyIsEnumerable: 'e',
    toLocaleString: 'f',
    isPrototypeOf: 'g'
  }, 'incoming request')
})
side('logs a redacted object with keys named after Object.prototype members', ({ make }) => {
  make({ redact: ['secret'] }).info({ toString: 'a', valueOf: 'b', secret: 'x' }, 'incoming request')
})

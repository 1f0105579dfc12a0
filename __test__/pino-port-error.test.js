'use strict'
// pino's test/error.test.js, ported side by side (__test__/pino-port/harness.js): errors
// logged as the first argument, under err, with serializers, mixin and nestedKey are
// written as pino 10 writes them. Each error is made once, outside the case, so both
// loggers see the same stack.
// Cases: 17; ported and passing: 17; skipped: 0. pino's `test: 'this'` option (ignored by
// pino) is left out: prodkit refuses unknown options (docs/differences-from-pino.md).

const { side } = require('./pino-port/harness')

const name = 'error'
const withFoo = (message) => Object.assign(new Error(message), { foo: 'bar' })

const e1 = withFoo('myerror')
side('err is serialized with additional properties set on the Error object', ({ make }) => {
  const instance = make()
  instance.level = name
  instance[name](e1)
})
class Bar extends Error {}
const e2 = new Bar('myerror')
side('type should be detected based on constructor', ({ make }) => {
  const instance = make()
  instance.level = name
  instance[name](e2)
})
const e3 = withFoo('foo')
side('type, message and stack should be first level properties', ({ make }) => {
  const instance = make()
  instance.level = name
  instance[name](e3)
})
const e4 = withFoo('myerror')
side('err serializer', ({ make, lib }) => {
  const instance = make({ serializers: { err: lib.stdSerializers.err } })
  instance.level = name
  instance[name]({ err: e4 })
})
const e5 = Object.assign(new Error('StatusCodeErr'), { statusCode: 500 })
side('an error with statusCode property is not confused for a http response', ({ make }) => {
  const instance = make()
  instance.level = name
  instance[name](e5)
})
const e6 = new Error('myerror')
delete e6.stack
side('stack is omitted if it is not set on err', ({ make }) => {
  const instance = make()
  instance.level = name
  instance[name](e6)
})
const e7 = new Error('myerror')
e7.toString = () => undefined
side('correctly ignores toString on errors', ({ make }) => { make().fatal(e7) })
const e8 = new Error('myerror')
const mixin = () => ({ hello: 'world' })
side('assign mixin()', ({ make }) => { make({ mixin }).fatal(e8) })
side('no err serializer', ({ make }) => { make({ serializers: {} }).fatal(e8) })
side('empty serializer', ({ make }) => { make({ serializers: { err () {} } }).fatal(e8) })
side('assign mixin() (again, as in pino\'s file)', ({ make }) => { make({ mixin }).fatal(e8) })
side('no err serializer (again)', ({ make }) => { make({ serializers: {} }).fatal(e8) })
side('empty serializer (again)', ({ make }) => { make({ serializers: { err () {} } }).fatal(e8) })
side('correctly adds error information when nestedKey is used', ({ make }) => { make({ nestedKey: 'obj' }).fatal(e7) })
side('correctly adds msg on error when nestedKey is used', ({ make }) => { make({ nestedKey: 'obj' }).fatal(e7, 'msg message') })
side('msg should take precedence over error message on mergingObject', ({ make }) => { make().error({ msg: 'my message', err: e8 }) })
side('considers messageKey when giving msg precedence over error', ({ make }) => {
  make({ messageKey: 'message' }).error({ message: 'my message', err: e8 })
})

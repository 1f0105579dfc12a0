'use strict'
// pino's test/mixin.test.js, ported side by side (__test__/pino-port/harness.js): mixin is
// called as pino calls it (merge object, level number, the logger or child that logs),
// only for enabled levels, and its fields are merged as pino merges them.
// Cases: 11; ported and passing: 11; skipped: 0.

const { side } = require('./pino-port/harness')

const name = 'error'
const at = (make, options) => {
  const instance = make(options)
  instance.level = name
  return instance
}

side('mixin object is included', ({ make }) => {
  let n = 0
  at(make, { mixin () { return { hello: ++n } } })[name]('test')
})
side('mixin object is new every time', ({ make }) => {
  let n = 0
  const instance = at(make, { mixin () { return { hello: n } } })
  while (++n < 4) instance[name](`test #${n}`)
})
side('mixin object is not called if below log level', ({ make }) => {
  const instance = make({ mixin () { throw Error('should not call mixin function') } })
  instance.level = 'error'
  instance.info('test')
})
side('mixin object + logged object', ({ make }) => {
  at(make, { mixin () { return { foo: 1, bar: 2 } } })[name]({ bar: 3, baz: 4 })
})
side('mixin not a function', ({ make }) => { make({ mixin: 'not a function' }) })
side('mixin can use context', ({ make, raw }) => {
  const seen = []
  at(make, {
    mixin (context) {
      seen.push(context !== null, context !== undefined, { ...context })
      return Object.assign({ error: context.message, stack: context.stack })
    }
  })[name]({ message: '123', stack: 'stack' }, 'test')
  return [seen, raw()]
})
side('mixin works without context', ({ make, raw }) => {
  const seen = []
  at(make, {
    mixin (context) {
      seen.push(context !== null, context !== undefined, { ...context })
      return { something: true }
    }
  })[name]('test')
  return [seen, raw()]
})
side('mixin can use level number', ({ make, raw }) => {
  const seen = []
  at(make, {
    mixin (context, num) {
      seen.push(num)
      return Object.assign({ error: context.message, stack: context.stack })
    }
  })[name]({ message: '123', stack: 'stack' }, 'test')
  return [seen, raw()]
})
side('mixin receives logger as third parameter', ({ make, raw }) => {
  const seen = []
  const instance = at(make, {
    mixin (context, num, logger) {
      seen.push(logger === instance)
      return { ...context, num }
    }
  })
  instance[name]({ message: '123' }, 'test')
  return [seen, raw()]
})
side('mixin receives child logger', ({ make, raw }) => {
  const seen = []
  let child = null
  const instance = at(make, {
    mixin (context, num, logger) {
      seen.push(logger.expected === child.expected)
      return { ...context, num }
    }
  })
  instance.expected = false
  child = instance.child({})
  child.expected = true
  child[name]({ message: '123' }, 'test')
  return [seen, raw()]
})
side('mixin receives logger even if child exists', ({ make, raw }) => {
  const seen = []
  const instance = at(make, {
    mixin (context, num, logger) {
      seen.push(logger.expected === instance.expected)
      return { ...context, num }
    }
  })
  instance.expected = false
  const child = instance.child({})
  child.expected = true
  instance[name]({ message: '123' }, 'test')
  return [seen, raw()]
})

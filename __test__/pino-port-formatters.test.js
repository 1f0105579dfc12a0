'use strict'
// pino's test/formatters.test.js, ported side by side (__test__/pino-port/harness.js):
// formatters.level, bindings and log, alone and combined (the ECS shape), write what pino
// 10 writes.
// Cases: 10; ported and passing: 8; skipped with a reason: 2 (transport x2); one more
// case checks a child's own formatters further.

const { side } = require('./pino-port/harness')

const DIFF = (what) => ({ skip: `${what} — docs/differences-from-pino.md` })

const level = (label) => ({ log: { level: label } })
const bindings = (b) => ({ process: { pid: b.pid }, host: { name: b.hostname } })

side('level formatter', ({ make }) => { make({ formatters: { level } }).info('hello world') })
side('bindings formatter', ({ make }) => { make({ formatters: { bindings } }).info('hello world') })
side('no bindings formatter', ({ make }) => { make({ formatters: { bindings () { return null } } }).info('hello world') })
side('log formatter', ({ make, raw }) => {
  const seen = []
  make({
    formatters: {
      log (obj) {
        seen.push(Object.prototype.hasOwnProperty.call(obj, 'msg'))
        return { hello: 'world', ...obj }
      }
    }
  }).info({ foo: 'bar', nested: { object: true } }, 'hello world')
  return [seen, raw()]
})
side('Formatters combined', ({ make }) => {
  make({ formatters: { level, bindings, log (obj) { return { hello: 'world', ...obj } } } })
    .info({ foo: 'bar', nested: { object: true } }, 'hello world')
})
const rootFormatters = {
  level (label) { return { log: { level: label } } },
  bindings (bindings) { return { process: { pid: bindings.pid }, host: { name: bindings.hostname } } },
  log (obj) { return { hello: 'world', ...obj } }
}
side('Formatters in child logger', ({ make }) => {
  const child = make({ formatters: rootFormatters }).child({ foo: 'bar', nested: { object: true } }, {
    formatters: { bindings (bindings) { return { ...bindings, faz: 'baz' } } }
  })
  child.info('hello world')
})
side('Formatters without bindings in child logger', ({ make }) => {
  const child = make({ formatters: rootFormatters }).child({ foo: 'bar', nested: { object: true } }, {
    formatters: { log (obj) { return { other: 'stuff', ...obj } } }
  })
  child.info('hello world')
})
// Beyond pino's file: a grandchild, setBindings and bindings() under a child's own
// formatters.bindings, and a child formatters.level (no effect in pino 10).
side('child formatters: grandchild, setBindings, bindings() and formatters.level', ({ make }) => {
  const child = make({ formatters: rootFormatters }).child({ a: 1 }, {
    formatters: { bindings (b) { return { wrapped: b } }, level (label) { return { lvl: label } } }
  })
  child.info('child')
  child.setBindings({ b: 2 })
  child.warn('after setBindings')
  const grandchild = child.child({ c: 3 })
  grandchild.error('grandchild')
  child.child({ d: 4 }, { formatters: { log (o) { return { ...o, logged: true } } } }).info({ e: 5 }, 'other child')
  return [child.bindings(), grandchild.bindings()]
})
side('elastic common schema format', ({ make, lines }) => {
  make({
    formatters: {
      level (label) { return { log: { level: label, logger: 'pino' } } },
      bindings,
      log (obj) { return { ecs: { version: '1.4.0' }, ...obj } }
    },
    messageKey: 'message',
    timestamp: () => `,"@timestamp":"${new Date(Date.now()).toISOString()}"`
  }).info({ foo: 'bar' }, 'hello world')
  return lines().map((line) => {
    const type = typeof line['@timestamp']
    delete line['@timestamp'] // a millisecond apart between the two runs
    return [type, Object.keys(line), line]
  })
})
side('formatter with transport', DIFF('transport'), () => {})
side('throws when custom level formatter is used with transport.targets', DIFF('transport'), () => {})

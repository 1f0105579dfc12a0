'use strict'
// pino's test/formatters.test.js, ported side by side (__test__/pino-port/harness.js):
// formatters.level, bindings and log, alone and combined (the ECS shape), write what pino
// 10 writes.
// Cases: 10; ported and passing: 6; skipped with a reason: 4 (child formatters x2,
// transport x2).

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
side('Formatters in child logger', DIFF('child option formatters not supported'), () => {})
side('Formatters without bindings in child logger', DIFF('child option formatters not supported'), () => {})
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

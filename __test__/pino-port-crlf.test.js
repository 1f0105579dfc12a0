'use strict'
// pino's test/crlf.test.js, ported side by side (__test__/pino-port/harness.js): lines end
// with \n by default and with \r\n under `crlf: true`, as pino 10 writes them.
// Cases: 2; ported and passing: 2; skipped: 0 (and one case beyond pino's file: crlf with
// a child, an object message, shape options and streamWrite).

const { side } = require('./pino-port/harness')

side('pino uses LF by default', ({ make, raw }) => {
  const logger = make()
  logger.info('foo')
  logger.error('bar')
  return [/foo[^\r\n]+\n[^\r\n]+bar[^\r\n]+\n/.test(raw()), raw()]
})
side('pino can log CRLF', ({ make, raw }) => {
  const logger = make({ crlf: true })
  logger.info('foo')
  logger.error('bar')
  return [/foo[^\n]+\r\n[^\n]+bar[^\n]+\r\n/.test(raw()), raw()]
})
side('crlf with a child, merge objects, an object message, a custom level and streamWrite', ({ make }) => {
  const logger = make({ crlf: true, customLevels: { audit: 35 }, messageKey: 'message' })
  logger.child({ c: 1 }).warn({ a: [1, 2] }, 'child %j', { b: 2 })
  logger.info({ msg: 'object' }, { obj: 'message' })
  logger.audit('audit')
  const hooked = make({ crlf: true, hooks: { streamWrite: (s) => s.replace('x', 'y') } })
  hooked.info('x')
})

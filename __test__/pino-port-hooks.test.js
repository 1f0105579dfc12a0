'use strict'
// pino's test/hooks.test.js, ported side by side (__test__/pino-port/harness.js):
// hooks.logMethod is called as pino calls it (arguments, level, `this`, the method) for
// every level and for children, and writes what pino writes.
// Cases: 5; ported and passing: 5; skipped: 0 (one more case: hooks.streamWrite on every
// line).

const { side } = require('./pino-port/harness')

side('log method hook: gets invoked', ({ make, raw }) => {
  const seen = []
  const logger = make({
    hooks: {
      logMethod (args, method, level) {
        seen.push(Array.isArray(args), typeof level, args.length, level === this.levels.values.info, [...args], typeof method, method.name)
        method.apply(this, [args.join('-')])
      }
    }
  })
  logger.info('a', 'b', 'c')
  return [seen, raw()]
})
side('log method hook: fatal method invokes hook', ({ make, raw }) => {
  let calls = 0
  make({ hooks: { logMethod (args, method) { calls++; method.apply(this, [args.join('-')]) } } }).fatal('a')
  return [calls, raw()]
})
side('log method hook: children get the hook', ({ make, raw }) => {
  let calls = 0
  const root = make({ hooks: { logMethod (args, method) { calls++; method.apply(this, [args.join('-')]) } } })
  const child = root.child({ child: 'one' })
  const grandchild = child.child({ child: 'two' })
  child.info('a', 'b')
  grandchild.info('c', 'd')
  return [calls, raw()]
})
side('log method hook: get log level', ({ make, raw }) => {
  const seen = []
  make({
    hooks: {
      logMethod (args, method, level) {
        seen.push(typeof level, level === this.levels.values.error)
        method.apply(this, [args.join('-')])
      }
    }
  }).error('a')
  return [seen, raw()]
})
side('streamWrite hook: gets invoked', ({ make }) => {
  make({ hooks: { streamWrite (s) { return s.replaceAll('redact-me', 'XXX') } } }).info('hide redact-me in this string')
})
// Beyond pino's file: the hook gets each whole line (bindings, merge object, a child's,
// a custom level's) and what it returns is written.
side('streamWrite hook: every line, children and custom levels, the text it returns', ({ make, raw }) => {
  const seen = []
  const logger = make({ customLevels: { audit: 35 }, hooks: { streamWrite (s) { seen.push(s); return s.replace('"msg":"', '"msg":"hooked ') } } })
  logger.info({ a: 'redact-me' }, 'one')
  logger.child({ c: 1 }).audit('two %j', { d: 2 })
  return [seen.map((s) => s.replace(/"time":\d+/, '"time":0')), raw()]
})

'use strict'
// Side by side with pino 10 (__test__/pino-port/harness.js), for the options pino's own test
// files barely exercise: depthLimit and edgeLimit (pino's safe-stable-stringify fallback for
// a value JSON.stringify cannot write: keys sorted, "[Circular]", "[Object]"/"[Array]" past
// the depth, "N items not stringified" past the breadth), enabled: false, and
// levelComparison with children and level changes. Each case asserts the same bytes.

const { side } = require('./pino-port/harness')

function cyclic () {
  const a = { z: 1, x: 'x', list: Array.from({ length: 120 }, (_, i) => i), deep: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } }
  a.self = a
  a.nested = { back: a, arr: [a, { b: [a] }] }
  return a
}

side('default limits (5, 100): a cyclic value is written as pino writes it; its sibling values are left as they are', ({ make }) => {
  make().info({ a: cyclic(), plain: { deep: { a: { b: { c: { d: { e: { f: 1 } } } } } } }, list: Array.from({ length: 150 }, (_, i) => i) }, 'm')
})
for (const [depthLimit, edgeLimit] of [[1, 1], [2, 3], [3, 200], [10, 2]]) {
  side(`depthLimit ${depthLimit}, edgeLimit ${edgeLimit}: merge object, child bindings and errorKey`, ({ make }) => {
    const log = make({ depthLimit, edgeLimit })
    log.info({ a: cyclic(), b: 2 })
    log.child({ bound: cyclic() }).warn({ c: [cyclic()] }, 'child')
    log.info({ m: new Map([[1, 2]]), s: 'kept', n: null })
  })
}
side('depthLimit and edgeLimit with serializers, mixin and nestedKey', ({ make }) => {
  const log = make({ depthLimit: 2, edgeLimit: 2, nestedKey: 'payload', mixin: () => ({ mixed: cyclic() }), serializers: { s: (v) => ({ wrapped: v }) } })
  log.info({ s: cyclic(), t: 1 }, 'shaped')
})
side('enabled: false logs nothing, at any level, in children; setting a level turns it on, as in pino', ({ make }) => {
  const log = make({ enabled: false, level: 'trace', customLevels: { audit: 35 } })
  for (const name of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'audit']) log[name]('no')
  log.child({ c: 1 }).error('no')
  const before = [log.level, log.isLevelEnabled('fatal')]
  log.level = 'warn'
  log.error('on again')
  return before
})
side('enabled: true is the default', ({ make }) => { make({ enabled: true }).info('on') })
side('levelComparison DESC with the standard levels: a child, a child level, silent', ({ make }) => {
  const log = make({ levelComparison: 'DESC', level: 'info' })
  for (const name of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[name](name)
  const child = log.child({ c: 1 }, { level: 'error' })
  child.warn('child warn')
  child.fatal('child fatal')
  child.debug('child debug')
})

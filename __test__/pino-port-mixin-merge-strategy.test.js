'use strict'
// pino's test/mixin-merge-strategy.test.js, ported side by side
// (__test__/pino-port/harness.js): the default merge (the merge object wins) and a custom
// mixinMergeStrategy write what pino 10 writes.
// Cases: 2; ported and passing: 2 (pid and hostname aside: pino's cases pass `base: {}`,
// which in pino removes them and in prodkit adds no field — the documented base difference).

const { side } = require('./pino-port/harness')

const withoutBase = (lines) => lines.map(({ pid, hostname, ...rest }) => rest)

side('default merge strategy', ({ make, lines }) => {
  const instance = make({ base: {}, mixin () { return { tag: 'k8s' } } })
  instance.level = 'error'
  instance.error({ tag: 'local' }, 'test')
  return withoutBase(lines())
})
side('custom merge strategy with mixin priority', ({ make, lines }) => {
  const instance = make({
    base: {},
    mixin () { return { tag: 'k8s' } },
    mixinMergeStrategy (mergeObject, mixinObject) { return Object.assign(mergeObject, mixinObject) }
  })
  instance.level = 'error'
  instance.error({ tag: 'local' }, 'test')
  return withoutBase(lines())
})

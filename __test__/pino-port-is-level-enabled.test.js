'use strict'
// pino's test/is-level-enabled.test.js, ported side by side (__test__/pino-port/harness.js):
// isLevelEnabled answers as pino's for the standard levels, custom levels and children.
// Cases: 22; ported and passing: 7; skipped with a reason: 15 (useOnlyCustomLevels and
// levelComparison, which prodkit does not support yet).

const { side } = require('./pino-port/harness')

const DIFF = (what) => ({ skip: `${what} — docs/differences-from-pino.md` })
const NO_COMPARISON = DIFF('useOnlyCustomLevels, levelComparison not supported')

const ascLevels = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }

side('Default levels: can check if current level enabled', ({ make }) => make({ level: 'debug' }).isLevelEnabled('debug'))
side('Default levels: can check if level enabled after level set', ({ make }) => {
  const log = make()
  const before = log.isLevelEnabled('debug')
  log.level = 'debug'
  return [before, log.isLevelEnabled('debug')]
})
side('Default levels: can check if higher level enabled', ({ make }) => make({ level: 'debug' }).isLevelEnabled('error'))
side('Default levels: can check if lower level is disabled', ({ make }) => make({ level: 'error' }).isLevelEnabled('trace'))
side('Default levels: ASC: can check if child has current level enabled', ({ make }) => {
  const log = make().child({}, { level: 'debug' })
  return ['debug', 'error', 'trace'].map((l) => log.isLevelEnabled(l))
})
side('Default levels: can check if custom level is enabled', ({ make }) => {
  const log = make({ customLevels: { foo: 35 }, level: 'debug' })
  return ['foo', 'error', 'trace'].map((l) => log.isLevelEnabled(l))
})

for (const suite of ['Ascending', 'Descending']) {
  for (const name of ['can check if current level enabled', 'can check if level enabled after level set',
    'can check if higher level enabled', 'can check if lower level is disabled']) {
    side(`${suite} levels: ${name}`, NO_COMPARISON, () => {})
  }
  if (suite === 'Ascending') {
    // pino's case passes levelComparison, customLevels and useOnlyCustomLevels as child
    // *bindings*: they configure nothing, so it runs on the standard levels.
    side('Ascending levels: can check if child has current level enabled', ({ make }) => {
      const log = make().child({ levelComparison: 'ASC', customLevels: ascLevels, useOnlyCustomLevels: true }, { level: 'debug' })
      return ['debug', 'error', 'trace'].map((l) => log.isLevelEnabled(l))
    })
  } else {
    side('Descending levels: can check if child has current level enabled', NO_COMPARISON, () => {})
  }
  side(`${suite} levels: can check if custom level is enabled`, NO_COMPARISON, () => {})
}

for (const name of ['Custom comparison returns true cause level is enabled', 'Custom comparison returns false cause level is disabled',
  'Custom comparison returns true cause child level is enabled', 'Custom comparison returns false cause child level is disabled']) {
  side(name, NO_COMPARISON, () => {})
}

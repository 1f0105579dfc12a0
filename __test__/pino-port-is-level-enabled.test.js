'use strict'
// pino's test/is-level-enabled.test.js, ported side by side (__test__/pino-port/harness.js):
// isLevelEnabled answers as pino's for the standard levels, custom levels and children.
// Cases: 22; ported and passing: 22; skipped: 0 (and one case beyond pino's file: the
// lines each levelComparison lets through).

const { side } = require('./pino-port/harness')

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

const descLevels = { trace: 60, debug: 50, info: 40, warn: 30, error: 20, fatal: 10 }

for (const [suite, customLevels, levelComparison] of [['Ascending', ascLevels, 'ASC'], ['Descending', descLevels, 'DESC']]) {
  const only = { levelComparison, customLevels, useOnlyCustomLevels: true }
  side(`${suite} levels: can check if current level enabled`, ({ make }) => make({ level: 'debug', ...only }).isLevelEnabled('debug'))
  side(`${suite} levels: can check if level enabled after level set`, ({ make }) => {
    const log = make(only)
    const before = log.isLevelEnabled('debug')
    log.level = 'debug'
    return [before, log.isLevelEnabled('debug')]
  })
  side(`${suite} levels: can check if higher level enabled`, ({ make }) => make({ level: 'debug', ...only }).isLevelEnabled('error'))
  // pino's ascending case leaves levelComparison out (the default, ASC).
  const lower = suite === 'Ascending' ? { customLevels, useOnlyCustomLevels: true } : only
  side(`${suite} levels: can check if lower level is disabled`, ({ make }) => make({ level: 'error', ...lower }).isLevelEnabled('trace'))
  if (suite === 'Ascending') {
    // pino's case passes levelComparison, customLevels and useOnlyCustomLevels as child
    // *bindings*: they configure nothing, so it runs on the standard levels.
    side('Ascending levels: can check if child has current level enabled', ({ make }) => {
      const log = make().child({ levelComparison: 'ASC', customLevels: ascLevels, useOnlyCustomLevels: true }, { level: 'debug' })
      return ['debug', 'error', 'trace'].map((l) => log.isLevelEnabled(l))
    })
  } else {
    side('Descending levels: can check if child has current level enabled', ({ make }) => {
      const log = make(only).child({}, { level: 'debug' })
      return ['debug', 'error', 'trace'].map((l) => log.isLevelEnabled(l))
    })
  }
  side(`${suite} levels: can check if custom level is enabled`, ({ make }) => {
    const log = make({ levelComparison, useOnlyCustomLevels: true, customLevels: { foo: 35, ...customLevels }, level: 'debug' })
    return ['foo', 'error', 'trace'].map((l) => log.isLevelEnabled(l))
  })
}

side('Custom comparison returns true cause level is enabled', ({ make }) => make({ level: 'error', levelComparison: () => true }).isLevelEnabled('debug'))
side('Custom comparison returns false cause level is disabled', ({ make }) => make({ level: 'error', levelComparison: () => false }).isLevelEnabled('debug'))
side('Custom comparison returns true cause child level is enabled', ({ make }) => make({ levelComparison: () => true }).child({ level: 'error' }).isLevelEnabled('debug'))
side('Custom comparison returns false cause child level is disabled', ({ make }) => make({ levelComparison: () => false }).child({ level: 'error' }).isLevelEnabled('debug'))

// Beyond pino's file: what the lines are under each comparison (pino's file asks only
// isLevelEnabled).
side('levelComparison: the lines written under ASC, DESC and a function, before and after a level change', ({ make }) => {
  for (const levelComparison of ['ASC', 'DESC', (level, threshold) => level === threshold]) {
    const log = make({ level: 'warn', levelComparison })
    for (const name of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[name](name)
    log.level = 'debug'
    for (const name of ['trace', 'info', 'error']) log[name]('after ' + name)
    log.child({ c: 1 }, { level: 'fatal' }).error('child error')
  }
})

'use strict'
// pino's test/custom-levels.test.js, ported side by side (__test__/pino-port/harness.js):
// customLevels add methods that write pino's lines, are inherited by children, are ordered
// by number against the logger's level and go through formatters.level, as in pino 10.
// Cases: 18; ported and passing: 9; skipped with a reason: 9 (useOnlyCustomLevels x4,
// child option customLevels x5).

const { side } = require('./pino-port/harness')

const DIFF = (what) => ({ skip: `${what} — docs/differences-from-pino.md` })
const ONLY_CUSTOM = DIFF('useOnlyCustomLevels not supported')
const CHILD_LEVELS = DIFF('child option customLevels not supported')

side('adds additional levels', ({ make }) => { make({ customLevels: { foo: 35, bar: 45 } }).foo('test') })
side('custom levels does not override default levels', ({ make }) => { make({ customLevels: { foo: 35 } }).info('test') })
side('default levels can be redefined using custom levels', ONLY_CUSTOM, () => {})
side('custom levels overrides default level label if use useOnlyCustomLevels', ONLY_CUSTOM, () => {})
side('custom levels overrides default level value if use useOnlyCustomLevels', ONLY_CUSTOM, () => {})
side('custom levels are inherited by children', ({ make }) => {
  make({ customLevels: { foo: 35 } }).child({ childMsg: 'ok' }).foo('test')
})
side('custom levels can be specified on child bindings', CHILD_LEVELS, () => {})
side('customLevels property child bindings does not get logged', CHILD_LEVELS, () => {})
side('throws when specifying pre-existing parent labels via child bindings', CHILD_LEVELS, () => {})
side('throws when specifying pre-existing parent values via child bindings', CHILD_LEVELS, () => {})
side('throws when specifying core values via child bindings', ({ make }) => {
  // pino: "pre-existing level values cannot be used"; prodkit refuses child customLevels.
  make().child({}, { customLevels: { foo: 30 } })
})
side('throws when useOnlyCustomLevels is set true without customLevels', ({ make }) => { make({ useOnlyCustomLevels: true }) })
side('custom level on one instance does not affect other instances', ({ make }) => {
  make({ customLevels: { foo: 37 } })
  return typeof make().foo
})
side('setting level below or at custom level will successfully log', ({ make }) => {
  const instance = make({ customLevels: { foo: 35 } })
  instance.level = 'foo'
  instance.info('nope')
  instance.foo('bar')
})
side('custom level below level threshold will not log', ({ make }) => {
  const instance = make({ customLevels: { foo: 15 } })
  instance.level = 'info'
  instance.info('bar')
  instance.foo('nope')
})
side('does not share custom level state across siblings', CHILD_LEVELS, () => {})
side('custom level does not affect the levels serializer', ({ make }) => {
  make({ customLevels: { foo: 35, bar: 45 }, formatters: { level (label, number) { return { priority: number } } } }).foo('test')
})
side('When useOnlyCustomLevels is set to true, the level formatter should only get custom levels', ONLY_CUSTOM, () => {})

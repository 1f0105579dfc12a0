'use strict'
// pino's test/custom-levels.test.js, ported side by side (__test__/pino-port/harness.js):
// customLevels add methods that write pino's lines, are inherited by children, are ordered
// by number against the logger's level and go through formatters.level, as in pino 10.
// Cases: 18; ported and passing: 18; skipped: 0; three more cases check useOnlyCustomLevels'
// lines and a child's custom levels further.

const { side } = require('./pino-port/harness')

side('adds additional levels', ({ make }) => { make({ customLevels: { foo: 35, bar: 45 } }).foo('test') })
side('custom levels does not override default levels', ({ make }) => { make({ customLevels: { foo: 35 } }).info('test') })
side('default levels can be redefined using custom levels', ({ make }) => {
  const logger = make({ customLevels: { info: 35, debug: 45 }, useOnlyCustomLevels: true })
  const own = Object.prototype.hasOwnProperty.call(logger, 'info')
  logger.info('test')
  return [own, typeof logger.warn, logger.levelVal]
})
side('default levels can be redefined using custom levels (the line)', ({ make }) => {
  make({ customLevels: { info: 35, debug: 45 }, useOnlyCustomLevels: true }).info('test')
})
side('custom levels overrides default level label if use useOnlyCustomLevels', ({ make }) => {
  const logger = make({ customLevels: { foo: 35 }, useOnlyCustomLevels: true, level: 'foo' })
  return [Object.prototype.hasOwnProperty.call(logger, 'info'), typeof logger.info, logger.levels]
})
side('custom levels overrides default level value if use useOnlyCustomLevels', ({ make }) => {
  const logger = make({ customLevels: { foo: 35 }, useOnlyCustomLevels: true, level: 35 })
  return [Object.prototype.hasOwnProperty.call(logger, 'info'), logger.level]
})
side('custom levels are inherited by children', ({ make }) => {
  make({ customLevels: { foo: 35 } }).child({ childMsg: 'ok' }).foo('test')
})
side('custom levels can be specified on child bindings', ({ make }) => {
  make().child({ childMsg: 'ok' }, { customLevels: { foo: 35 } }).foo('test')
})
side('customLevels property child bindings does not get logged', ({ make, lines }) => {
  make().child({ childMsg: 'ok' }, { customLevels: { foo: 35 } }).foo('test')
  return lines().map((l) => l.customLevels)
})
side('throws when specifying pre-existing parent labels via child bindings', ({ make }) => {
  make({ customLevels: { foo: 35 } }).child({}, { customLevels: { foo: 45 } })
})
side('throws when specifying pre-existing parent values via child bindings', ({ make }) => {
  make({ customLevels: { foo: 35 } }).child({}, { customLevels: { bar: 35 } })
})
side('throws when specifying core values via child bindings', ({ make }) => {
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
side('does not share custom level state across siblings', ({ make }) => {
  const logger = make()
  logger.child({}, { customLevels: { foo: 35 } })
  logger.child({}, { customLevels: { foo: 35 } }).foo('second sibling')
  return [typeof logger.foo, logger.levels]
})
// Beyond pino's file: a child's custom levels with its level, the root's formatters.level,
// the child's own formatters.level, isLevelEnabled, levels and its children.
side('child customLevels: level, formatters.level, isLevelEnabled, levels, grandchildren', ({ make }) => {
  const root = make({ formatters: { level: (label, number) => ({ lv: `${label}/${number}` }) } })
  const child = root.child({ c: 1 }, { customLevels: { bar: 33 }, level: 'bar' })
  child.bar('bar')
  child.info('not logged')
  child.warn('warn')
  child.child({ g: 1 }).bar('grandchild')
  const own = root.child({}, { customLevels: { baz: 37 }, formatters: { level: (label) => ({ L: label }) } })
  own.baz('own level formatter')
  return [child.isLevelEnabled('bar'), child.isLevelEnabled('info'), child.levels, child.level, typeof root.bar]
})
side('custom level does not affect the levels serializer', ({ make }) => {
  make({ customLevels: { foo: 35, bar: 45 }, formatters: { level (label, number) { return { priority: number } } } }).foo('test')
})
side('When useOnlyCustomLevels is set to true, the level formatter should only get custom levels', ({ make }) => {
  const seen = []
  const logger = make({
    customLevels: { answer: 42 },
    useOnlyCustomLevels: true,
    level: 42,
    formatters: { level (label, number) { seen.push([label, number]); return { level: number } } }
  })
  logger.answer('test')
  return { seen: [...new Set(seen.map(String))], text: logger.level }
})
const boom = new Error('boom') // one stack for both runs
side('useOnlyCustomLevels: the lines, a child, silent and a level set by number', ({ make }) => {
  const logger = make({ customLevels: { low: 5, audit: 35, alarm: 70 }, useOnlyCustomLevels: true, level: 'audit' })
  logger.low('no')
  logger.audit({ a: 1 }, 'yes %s', 'x')
  logger.alarm(boom)
  logger.child({ c: 1 }, { level: 'low' }).low('child')
  logger.level = 70
  logger.audit('no')
  logger.alarm('alarm')
  logger.level = 'silent'
  logger.alarm('no')
})

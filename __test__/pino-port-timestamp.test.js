'use strict'
// pino's test/timestamp.test.js, ported side by side (__test__/pino-port/harness.js): the
// timestamp option (true, false, a function, stdTimeFunctions) writes pino 10's time field,
// for root loggers and children. Date.now is stubbed inside a case as pino's tests stub it.
// Cases: 10; ported and passing: 10; skipped: 0.

const { side } = require('./pino-port/harness')

function withNow (ms, fn) {
  const now = Date.now
  Date.now = () => ms
  try {
    return fn()
  } finally {
    Date.now = now
  }
}

side('pino exposes standard time functions', ({ lib }) =>
  ['epochTime', 'unixTime', 'nullTime', 'isoTime', 'isoTimeNano'].map((n) => typeof lib.stdTimeFunctions[n]))
side('pino accepts external time functions', ({ make }) => { make({ timestamp: () => ',"time":"none"' }).info('foobar') })
side('pino accepts external time functions with custom label', ({ make }) => {
  make({ timestamp: () => ',"custom-time-label":"none"' }).info('foobar')
})
side('inserts timestamp by default', ({ make }) => { make().info('foobar') })
side('omits timestamp when timestamp option is false', ({ make }) => { make({ timestamp: false }).info('foobar') })
side('inserts timestamp when timestamp option is true', ({ make }) => { make({ timestamp: true }).info('foobar') })
side('child inserts timestamp by default', ({ make }) => { make().child({ component: 'child' }).info('foobar') })
side('child omits timestamp with option', ({ make }) => { make({ timestamp: false }).child({ component: 'child' }).info('foobar') })
side('pino.stdTimeFunctions.unixTime returns seconds based timestamps', ({ make, lib, text }) => {
  const instance = make({ timestamp: lib.stdTimeFunctions.unixTime })
  withNow(1531069919686, () => instance.info('foobar'))
  return text() // unmasked: "time":1531069920 in both
})
side('pino.stdTimeFunctions.isoTime returns ISO 8601 timestamps', ({ make, lib }) => {
  const instance = make({ timestamp: lib.stdTimeFunctions.isoTime })
  withNow(1531069919686, () => instance.info('foobar'))
})

'use strict'
// pino's test/escaping.test.js, ported side by side (__test__/pino-port/harness.js): control
// characters, quotes and backslashes in messages and binding keys are escaped byte for
// byte as pino 10 escapes them, and a binding key cannot forge a line.
// Cases: 40 (6 named escapes, the binding-key case, 32 control characters, one mixed);
// ported and passing: 40; skipped: 0.

const { side } = require('./pino-port/harness')

function testEscape (ch, key) {
  side('correctly escape ' + ch, ({ make }) => { make({ name: 'hello' }).fatal('this contains ' + key) })
}

testEscape('\\n', '\n')
testEscape('\\/', '/')
testEscape('\\\\', '\\')
testEscape('\\r', '\r')
testEscape('\\t', '\t')
testEscape('\\b', '\b')

side('correctly escape child binding keys', ({ make, raw }) => {
  const key = 'x"}\n{"level":60,"msg":"forged"}\n{"swallow'
  make().child({ [key]: true }).info('hello')
  return [raw(), raw().split('\n').length]
})

for (let code = 0; code < 0x20; code++) {
  const key = String.fromCharCode(code)
  testEscape(JSON.stringify(key), key)
}

side('correctly escape `hello \\u001F world \\n \\u0022`', ({ make }) => { make({ name: 'hello' }).fatal('hello \u001F world \n \u0022') })

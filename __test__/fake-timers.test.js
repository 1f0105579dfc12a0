'use strict'
// Issue 12, fake timers: a logger's line head is cached per millisecond; correctness may
// not depend on the clock moving. Under a frozen Date.now() (sinon and Jest fake timers)
// or a wall clock stepped back, every line must be valid JSON with its own bindings.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, tempDir, readJsonLines } = require('./helpers')

const APP = path.join(__dirname, 'fixtures', 'fake-timers-app.js')
const JEST_PROJECT = path.join(__dirname, 'fixtures', 'jest-fake-timers')

// Every line was written, and with its own logger's bindings: `who` (a binding) names the
// logger that the call itself named, in its merge object (`own`) or its message.
function assertOwnBindings (lines) {
  assert.equal(lines.length, 25_000 * 2 + Math.ceil(25_000 / 11))
  for (const [n, line] of lines.entries()) {
    assert.equal(line.prodkitHeadLost, undefined, `line ${n + 1}: a head reference was lost`)
    const own = line.level === 30 ? line.own : / (\S+)$/.exec(line.msg)[1]
    assert.equal(line.who, own, `line ${n + 1} has another logger's bindings: ${JSON.stringify(line)}`)
  }
}

for (const mode of ['frozen', 'defaults', 'stepped-back']) {
  test(`fake timers (${mode}): > 16384 definitions, every line valid JSON with its own bindings`, (t) => {
    const file = path.join(tempDir(t), `${mode}.log`)
    const result = spawnSync(process.execPath, [APP, file, mode], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
    assert.equal(result.status, 0, result.stderr)
    assertOwnBindings(readJsonLines(file))
  })
}

test('Jest modern fake timers: > 16384 definitions under a frozen clock, every line with its own bindings', (t) => {
  const file = path.join(tempDir(t), 'jest.log')
  const jest = require.resolve('jest/bin/jest')
  const result = spawnSync(process.execPath, [jest, '--config', path.join(JEST_PROJECT, 'jest.config.js'), '--ci', '--runInBand'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, PRODKIT_JEST_LOG: file }
  })
  assert.equal(result.status, 0, result.stderr + result.stdout)
  const lines = readJsonLines(file)
  assert.ok(lines.every((line) => line.time === 0), 'Date.now() was frozen at 0')
  assertOwnBindings(lines)
})

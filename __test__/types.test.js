'use strict'
// index.d.ts describes the API: a typed example that uses every public function compiles
// with `tsc --noEmit` in strict mode (and its deliberate mistakes do not).

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('./helpers')

test('tsc --noEmit accepts the typed example of every public function', () => {
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc')
  const result = spawnSync(tsc, ['--noEmit', '-p', path.join(__dirname, 'types', 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stdout + result.stderr)
})

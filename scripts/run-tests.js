'use strict'
// Runs every node:test suite in __test__/ (the files named *.test.js), one file at a time.
// `node --test __test__/` takes the folder as a module on Node 22+, and Node 20 does not
// expand globs, so the files are listed here and passed by name: the same command on every
// Node version that `engines` names. Extra arguments are passed to `node --test` (for
// example `--test-name-pattern`); file arguments replace the full list.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const dir = path.join(__dirname, '..', '__test__')
const args = process.argv.slice(2)
const named = args.filter((a) => a.endsWith('.js'))
const flags = args.filter((a) => !a.endsWith('.js'))
const files = named.length > 0
  ? named
  : fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => path.join('__test__', f))

const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...flags, ...files], {
  cwd: path.join(__dirname, '..'),
  stdio: 'inherit'
})
process.exit(result.status === null ? 1 : result.status)

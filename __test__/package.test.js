'use strict'
// The package as npm and napi-rs see it: manifest, platform packages, CLI, published files.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('./helpers')

const pkg = require('../package.json')
const TARGETS = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc'
}

test('package.json declares the entry points, the CLI, engines and the six napi targets', () => {
  assert.equal(pkg.name, '@oj/prodkit')
  assert.equal(pkg.main, 'index.js')
  assert.equal(pkg.types, 'index.d.ts')
  assert.deepEqual(pkg.exports['.'], { types: './index.d.ts', import: './index.mjs', require: './index.js' })
  assert.equal(pkg.bin.prodkit, 'bin/prodkit')
  assert.ok(pkg.engines.node)
  assert.equal(pkg.napi.binaryName, 'prodkit')
  assert.deepEqual([...pkg.napi.targets].sort(), Object.keys(TARGETS).sort())
})

test('each target has its per-platform package under npm/, as napi-rs lays them out', () => {
  for (const dir of Object.values(TARGETS)) {
    const platform = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', dir, 'package.json'), 'utf8'))
    assert.equal(platform.name, `@oj/prodkit-${dir}`)
    assert.equal(platform.version, pkg.version)
    assert.equal(platform.main, `prodkit.${dir}.node`)
  }
})

test('the prodkit CLI prints its version and help, and rejects unknown commands with exit code 2', () => {
  const cli = path.join(ROOT, 'bin', 'prodkit')
  const version = spawnSync(cli, ['--version'], { encoding: 'utf8' })
  assert.equal(version.status, 0)
  assert.equal(version.stdout, `${pkg.version}\n`)
  const help = spawnSync(cli, ['help'], { encoding: 'utf8' })
  assert.match(help.stdout, /Usage:/)
  const bad = spawnSync(cli, ['frobnicate'], { encoding: 'utf8' })
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /unknown command "frobnicate"/)
})

test('the published tarball holds the entry points, the loader, lib/ and the CLI', () => {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  const files = JSON.parse(result.stdout)[0].files.map((f) => f.path)
  for (const file of ['index.js', 'index.mjs', 'index.d.ts', 'binding.js', 'binding.d.ts', 'bin/prodkit', 'lib/index.js', 'lib/log/logger.js', 'package.json', 'README.md']) {
    assert.ok(files.includes(file), `${file} is published`)
  }
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('__test__/')), 'sources and tests are not')
})

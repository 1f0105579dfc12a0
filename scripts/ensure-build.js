'use strict'
// Builds the native addon when it is missing or older than any Rust source, so that
// `npm test`, `npm run demo` and the benchmarks always run the current code.
// Set PRODKIT_SKIP_BUILD=1 to use whatever binary is present.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')
const { binaryName } = require('../package.json').napi

function nativeFile () {
  const abi = process.platform === 'linux' ? (process.report.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl') : ''
  const arch = process.platform === 'win32' ? `${process.arch}-msvc` : `${process.arch}${abi}`
  return path.join(root, `${binaryName}.${process.platform}-${arch}.node`)
}

function newestSource (entry) {
  const stat = fs.statSync(entry)
  if (!stat.isDirectory()) return stat.mtimeMs
  let newest = 0
  for (const name of fs.readdirSync(entry)) newest = Math.max(newest, newestSource(path.join(entry, name)))
  return newest
}

function isStale (file) {
  if (!fs.existsSync(file)) return true
  const built = fs.statSync(file).mtimeMs
  const sources = ['src', 'Cargo.toml', 'Cargo.lock', 'build.rs'].map((p) => path.join(root, p))
  return sources.some((p) => fs.existsSync(p) && newestSource(p) > built)
}

const file = nativeFile()
if (process.env.PRODKIT_SKIP_BUILD === '1') process.exit(0)
if (isStale(file)) {
  console.error(`prodkit: building the native addon (${path.basename(file)})...`)
  const napi = path.join(root, 'node_modules', '.bin', 'napi')
  const result = spawnSync(napi, ['build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts'], {
    cwd: root,
    stdio: 'inherit'
  })
  if (result.status !== 0) {
    console.error('prodkit: the native build failed (see above). It needs Rust (cargo) and `npm install` first.')
    process.exit(result.status || 1)
  }
}

'use strict'
// Builds the native addon when it is missing or older than any Rust source, so that
// `npm test`, `npm run demo` and the benchmarks always run the current code.
// Set PRODKIT_SKIP_BUILD=1 to use whatever binary is present.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const root = path.join(__dirname, '..')
const { binaryName } = require('../package.json').napi
const { platformArchAbi } = require('../lib/native-package')

// The file `napi build --platform` writes for this machine, named as the generated loader
// (binding.js) looks for it.
function nativeFile () {
  return path.join(root, `${binaryName}.${platformArchAbi()}.node`)
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

function main () {
  if (process.env.PRODKIT_SKIP_BUILD === '1') return
  const file = nativeFile()
  if (!isStale(file)) return
  console.error(`prodkit: building the native addon (${path.basename(file)})...`)
  const napi = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'napi.cmd' : 'napi')
  const result = spawnSync(napi, ['build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32'
  })
  if (result.status !== 0) {
    console.error('prodkit: the native build failed (see above). It needs Rust (cargo) and `npm install` first.')
    process.exit(result.status || 1)
  }
}

if (require.main === module) main()

module.exports = { nativeFile }

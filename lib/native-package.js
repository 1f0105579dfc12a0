'use strict'
// Which per-platform package holds the native addon for this machine, named exactly as the
// loader that `napi build` generates (binding.js) names it: `@oj/prodkit-<platform>-<arch>[-<abi>]`.
// Used by lib/native.js for its error message and by scripts/pack.js; it loads nothing.

const { readFileSync } = require('node:fs')

const PACKAGE = '@oj/prodkit'

// binding.js asks three questions in this order; the first that answers wins.
function isMusl () {
  if (process.platform !== 'linux') return false
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {}
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null
  if (!report) return false
  if (report.header && report.header.glibcVersionRuntime) return false
  return Array.isArray(report.sharedObjects) && report.sharedObjects.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'))
}

function windowsAbi () {
  const variables = (process.config && process.config.variables) || {}
  return variables.shlib_suffix === 'dll.a' || variables.node_target_type === 'shared_library' ? 'gnu' : 'msvc'
}

// The platform part of the package name, e.g. 'linux-x64-gnu', or null where binding.js
// knows no package for this platform and architecture at all.
function platformArchAbi (platform = process.platform, arch = process.arch, musl = isMusl) {
  switch (platform) {
    case 'win32':
      if (arch === 'x64') return `win32-x64-${windowsAbi()}`
      return arch === 'ia32' || arch === 'arm64' ? `win32-${arch}-msvc` : null
    case 'darwin':
      return arch === 'x64' || arch === 'arm64' ? `darwin-${arch}` : null
    case 'freebsd':
      return ['x64', 'arm64', 'ppc64'].includes(arch) ? `freebsd-${arch}` : null
    case 'android':
      return arch === 'arm64' ? 'android-arm64' : arch === 'arm' ? 'android-arm-eabi' : null
    case 'openharmony':
      return ['arm64', 'x64', 'arm'].includes(arch) ? `openharmony-${arch}` : null
    case 'linux':
      if (['x64', 'arm64', 'loong64', 'riscv64'].includes(arch)) return `linux-${arch}-${musl() ? 'musl' : 'gnu'}`
      if (arch === 'arm') return `linux-arm-${musl() ? 'musleabihf' : 'gnueabihf'}`
      return arch === 'ppc64' || arch === 's390x' ? `linux-${arch}-gnu` : null
    default:
      return null
  }
}

// The package binding.js requires on this machine (null: none), and the platforms that have
// a published package (the main package's optionalDependencies).
function nativePackage () {
  const suffix = platformArchAbi()
  return suffix === null ? null : `${PACKAGE}-${suffix}`
}

function supportedPlatforms () {
  const { optionalDependencies = {} } = require('../package.json')
  return Object.keys(optionalDependencies)
    .filter((name) => name.startsWith(`${PACKAGE}-`))
    .map((name) => name.slice(PACKAGE.length + 1))
    .sort()
}

module.exports = { PACKAGE, isMusl, platformArchAbi, nativePackage, supportedPlatforms }

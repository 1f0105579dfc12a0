'use strict'
// The app's own package.json: the nearest one with a name above the main module, else
// above the working directory. Gives the default service name and the app version.

const fs = require('node:fs')
const path = require('node:path')

let cached

function findPackage (starts) {
  for (const start of starts) {
    let dir = start
    for (;;) {
      try {
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
        if (pkg && typeof pkg.name === 'string' && pkg.name) {
          return { name: pkg.name, version: typeof pkg.version === 'string' ? pkg.version : undefined }
        }
      } catch {}
      const parent = path.dirname(dir)
      if (parent === dir) break
      dir = parent
    }
  }
  return {}
}

// { name, version } (either may be undefined), read once.
function appPackage () {
  if (cached === undefined) {
    const starts = []
    if (require.main && require.main.filename) starts.push(path.dirname(require.main.filename))
    starts.push(process.cwd())
    cached = findPackage(starts)
  }
  return cached
}

// The nearest package.json with a name at or above `dir` (the CLI, whose own main module
// is prodkit's, looks up the app's this way).
function packageAbove (dir) {
  return findPackage([dir])
}

// `prodkit run`: the app is the one above its entry file, not the CLI's own package (the
// main module): install()'s startup line and the service name are then the app's.
function useAppPackageAbove (dir) {
  cached = findPackage([dir])
  return cached
}

module.exports = { appPackage, packageAbove, useAppPackageAbove }

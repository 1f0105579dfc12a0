'use strict'
// Sets every per-platform package in package.json's optionalDependencies to the package's own
// version, as `napi prepublish` does at publish time, so the committed manifest says what is
// published. Run by the `version` script after `napi version` (which updates npm/*/).

const fs = require('node:fs')
const path = require('node:path')

const file = path.join(__dirname, '..', 'package.json')
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
for (const name of Object.keys(pkg.optionalDependencies || {})) {
  if (name.startsWith(`${pkg.name}-`)) pkg.optionalDependencies[name] = pkg.version
}
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n')

'use strict'
// index.d.ts and index.mjs agree exactly: every value index.d.ts declares as an export
// (found with the TypeScript compiler API, not by reading the text) is exported by
// index.mjs at run time, with the kind its declaration says (function, class, object,
// string), and index.mjs exports nothing else. So `import { x } from '@oj/prodkit'` never
// type-checks and then fails at run time.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { spawnSync } = require('node:child_process')
const ts = require('typescript')
const { ROOT } = require('./helpers')

// { name: 'function' | 'object' | 'string' | ... }: the `typeof` each declared value export
// must have at run time.
function declaredValueExports () {
  const file = path.join(ROOT, 'index.d.ts')
  const program = ts.createProgram([file], { strict: true, noEmit: true, types: ['node'], module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 })
  const checker = program.getTypeChecker()
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(file))
  const expected = {}
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    // `export default prodkit` is an alias of the declared const.
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    if (!(symbol.flags & ts.SymbolFlags.Value)) continue // interfaces and type aliases
    const declaration = symbol.valueDeclaration || symbol.declarations[0]
    const type = checker.getTypeOfSymbolAtLocation(symbol, declaration)
    expected[exported.name] = runtimeKind(checker, symbol, type)
  }
  return expected
}

function runtimeKind (checker, symbol, declaredType) {
  // A value declared `T | undefined` must still be a T when imported: a binding read at
  // import time never becomes defined later.
  const type = checker.getNonNullableType(declaredType)
  if (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class)) return 'function'
  if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) return 'function'
  if (type.flags & ts.TypeFlags.StringLike) return 'string'
  if (type.flags & ts.TypeFlags.NumberLike) return 'number'
  if (type.flags & ts.TypeFlags.BooleanLike) return 'boolean'
  if (type.flags & ts.TypeFlags.Object) return 'object'
  throw new Error(`index.d.ts: cannot tell the run-time kind of export ${symbol.name}: ${checker.typeToString(type)}`)
}

// { name: typeof value } of everything index.mjs exports, imported in a fresh process.
function runtimeExports () {
  const url = pathToFileURL(path.join(ROOT, 'index.mjs')).href
  const script = `import * as m from ${JSON.stringify(url)}
const kinds = {}
for (const name of Object.keys(m)) kinds[name] = typeof m[name]
process.stdout.write(JSON.stringify(kinds))`
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  return JSON.parse(result.stdout)
}

test('every value index.d.ts exports is exported by index.mjs, with its kind, and nothing else', () => {
  const declared = declaredValueExports()
  const actual = runtimeExports()
  assert.ok(Object.keys(declared).length >= 10, `too few declared exports found: ${Object.keys(declared)}`)
  assert.ok('default' in declared, 'index.d.ts declares a default export')
  for (const [name, kind] of Object.entries(declared)) {
    assert.ok(name in actual, `index.d.ts declares export ${name}, index.mjs does not export it`)
    assert.equal(actual[name], kind, `export ${name}: declared as a ${kind}, is a ${actual[name]} at run time`)
  }
  for (const name of Object.keys(actual)) {
    assert.ok(name in declared, `index.mjs exports ${name}, index.d.ts does not declare it`)
  }
})

test('the default export carries every named export, and the live log and metrics getters', () => {
  const url = pathToFileURL(path.join(ROOT, 'index.mjs')).href
  const script = `import prodkit, * as m from ${JSON.stringify(url)}
for (const name of Object.keys(m)) if (name !== 'default' && prodkit[name] !== m[name]) throw new Error('default.' + name + ' differs')
if (prodkit.log !== undefined || prodkit.metrics !== undefined) throw new Error('log/metrics before install()')
const kit = prodkit.install({ log: { level: 'silent' }, signals: false, watchdog: false, productionWarning: false, metrics: { intervalMs: 60000, httpClient: false } })
if (prodkit.log !== kit.log || prodkit.metrics !== kit.metrics || kit.metrics === null) throw new Error('log/metrics not live after install()')
kit.close()
if (prodkit.log !== undefined) throw new Error('log still set after close()')`
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stdout + result.stderr)
})

'use strict'
// The release dry run: what a user's machine does with the published packages, done here.
// The `.node` that `npm run build` made (never rebuilt here) goes into a copy of
// npm/<platform>/; the main and the platform package are packed (scripts/pack.js, i.e.
// `npm pack`); both tarballs are installed, offline, into a new app in a temporary folder
// with no Rust on PATH and nothing of the checkout reachable (no NODE_PATH, no npm_*
// variables); and the app then uses prodkit as the README says: require + install() + a
// line in a file, ESM imports of every named export that index.d.ts declares, the CLI
// (--version, keygen, decrypt, startup systemd), and `tsc --strict` over the README's
// examples. An install with --omit=optional gives the PRODKIT_NATIVE_MISSING error.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, readJsonLines } = require('./helpers')
const { pack } = require('../scripts/pack')
const { nativeFile } = require('../scripts/ensure-build')
const { nativePackage, platformArchAbi } = require('../lib/native-package')

const FIXTURE = path.join(__dirname, 'fixtures', 'release-app')
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const SUFFIX = platformArchAbi()
const NATIVE_PACKAGE = nativePackage()
const NATIVE_FILE = `prodkit.${SUFFIX}.node`
const windows = process.platform === 'win32'

// The app's environment: PATH is this node (first, alone in a folder of its own: the folder
// it came from may hold other tools) and the current PATH less every folder in the checkout
// (`npm test` puts node_modules/.bin first) and every folder with Rust's tools; no variable
// that points back at the checkout (`npm test` sets npm_config_* and npm_package_*).
const RUST_TOOLS = ['cargo', 'rustc', 'rustup'].map((tool) => windows ? `${tool}.exe` : tool)
let nodeDir
function cleanEnv (extra = {}) {
  if (nodeDir === undefined) {
    if (windows) nodeDir = path.dirname(process.execPath)
    else {
      nodeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-node-'))
      fs.symlinkSync(process.execPath, path.join(nodeDir, 'node'))
      process.on('exit', () => fs.rmSync(nodeDir, { recursive: true, force: true }))
    }
  }
  const env = {}
  let current = ''
  for (const [name, value] of Object.entries(process.env)) {
    if (/^path$/i.test(name)) current = value
    else if (!/^(npm_|NODE_PATH$|NODE_OPTIONS$|INIT_CWD$|NAPI_RS_)/i.test(name)) env[name] = value
  }
  const inCheckout = (dir) => !path.relative(ROOT, path.resolve(dir)).startsWith('..')
  const hasRust = (dir) => RUST_TOOLS.some((tool) => fs.existsSync(path.join(dir, tool)))
  const dirs = current.split(path.delimiter).filter((dir) => dir && !inCheckout(dir) && !hasRust(dir))
  env.PATH = [nodeDir, ...dirs].join(path.delimiter)
  return { ...env, ...extra }
}

function run (command, args, { cwd, env = cleanEnv(), input } = {}) {
  // npm.cmd and npx.cmd need a shell on Windows; node.exe (under "Program Files") must not get one.
  const result = spawnSync(command, args, { cwd, env, input, encoding: 'utf8', shell: windows && command.endsWith('.cmd'), timeout: 120_000 })
  if (result.error) throw result.error
  return result
}

function ok (result, what) {
  assert.equal(result.status, 0, `${what} failed (${result.status}):\n${result.stdout}\n${result.stderr}`)
  return result
}

function npm (args, cwd) {
  return ok(run(windows ? 'npm.cmd' : 'npm', [...args, '--no-audit', '--no-fund', '--offline', '--loglevel=warn'], { cwd }), `npm ${args.join(' ')}`)
}

// The package's runtime dependencies (proxy-addr and what it needs), packed from the
// checkout's node_modules at the versions package-lock.json names: npm installs offline here
// (no registry, and a cache that may not hold them), so they are given as tarballs, as a
// registry would give them.
function packDependencies (dest) {
  fs.mkdirSync(dest, { recursive: true })
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'))
  const runtime = Object.entries(lock.packages).filter(([key, entry]) => key.startsWith('node_modules/') && !entry.dev && !entry.devOptional && !entry.optional)
  return runtime.map(([key]) => {
    const out = ok(run(windows ? 'npm.cmd' : 'npm', ['pack', path.join(ROOT, key), '--pack-destination', dest, '--ignore-scripts', '--json', '--loglevel=warn'], { cwd: dest }), `npm pack ${key}`)
    return path.join(dest, JSON.parse(out.stdout)[0].filename)
  })
}

function npx (args, cwd, options = {}) {
  return run(windows ? 'npx.cmd' : 'npx', ['--no', '--', ...args], { cwd, ...options })
}

function newApp (root, name) {
  const dir = path.join(root, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }, null, 2) + '\n')
  for (const file of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, file), path.join(dir, file))
  return fs.realpathSync(dir)
}

// The value exports (functions, constants, classes, `export { }` names) that a .d.ts
// declares, read with the TypeScript compiler; interfaces and type aliases are types only.
function declaredValueExports (file) {
  const ts = require('typescript')
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const names = new Set()
  const exported = (node) => (ts.getModifiers ? ts.getModifiers(node) || [] : node.modifiers || []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  for (const node of source.statements) {
    if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isEnumDeclaration(node)) && node.name && exported(node)) names.add(node.name.text)
    else if (ts.isVariableStatement(node) && exported(node)) {
      for (const d of node.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text)
    } else if (ts.isModuleDeclaration(node) && exported(node) && ts.isIdentifier(node.name)) names.add(node.name.text)
    else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.exportClause && ts.isNamedExports(node.exportClause)) {
      for (const e of node.exportClause.elements) if (!e.isTypeOnly) names.add(e.name.text)
    }
  }
  names.delete('default')
  return [...names].sort()
}

test('release dry run: the packed packages, installed in a new app without Rust, work as the README says', { timeout: 600_000 }, async (t) => {
  const binary = nativeFile()
  assert.ok(fs.existsSync(binary), `${path.basename(binary)} is missing: run \`npm run build\` (npm test does) first`)
  assert.equal(path.basename(binary), NATIVE_FILE)

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-release-'))
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }))
  assert.ok(path.relative(ROOT, tmp).startsWith('..'), 'the app is outside the checkout')
  for (let dir = path.dirname(tmp); ; dir = path.dirname(dir)) {
    assert.ok(!fs.existsSync(path.join(dir, 'node_modules')), `${dir}/node_modules would be reachable from the app`)
    if (path.dirname(dir) === dir) break
  }
  const env = cleanEnv()
  const noRust = run(windows ? 'where' : 'sh', windows ? ['cargo'] : ['-c', 'command -v cargo || command -v rustc'], { env })
  assert.notEqual(noRust.status, 0, `Rust is reachable from the app's PATH: ${noRust.stdout}`)

  const packed = pack(path.join(tmp, 'packages'))

  await t.test('the tarballs: the main package without binaries or test files, the platform package with the addon; LICENSE in both', () => {
    const main = packed.main.files
    for (const file of ['LICENSE', 'README.md', 'docs/install.md', 'package.json', 'index.js', 'index.mjs', 'index.d.ts', 'binding.js', 'binding.d.ts', 'bin/prodkit', 'lib/native.js', 'lib/native-package.js']) {
      assert.ok(main.includes(file), `${file} is in the main package`)
    }
    const unwanted = main.filter((f) => /^(__test__|src|bench|examples|scripts|npm|target|\.github|\.ci)\//.test(f) || /\.(node|rs|tgz)$/.test(f) || /^Cargo\./.test(f))
    assert.deepEqual(unwanted, [], 'nothing of the build or the tests is published')
    assert.deepEqual([...packed.platform.files].sort(), ['LICENSE', 'README.md', NATIVE_FILE, 'package.json'].sort())
    assert.equal(path.basename(packed.main.file), `oj-prodkit-${pkg.version}.tgz`)
    assert.equal(path.basename(packed.platform.file), `oj-prodkit-${SUFFIX}-${pkg.version}.tgz`)
  })

  const app = newApp(tmp, 'app')
  const dependencies = packDependencies(path.join(tmp, 'dependencies'))
  const install = npm(['install', packed.main.file, packed.platform.file, ...dependencies], app)
  // npm 11 holds back packages with install scripts until they are approved: there are none.
  assert.doesNotMatch(install.stderr, /install-scripts|node-gyp|EBADENGINE|EBADPLATFORM/, install.stderr)
  const installed = path.join(app, 'node_modules', '@oj', 'prodkit')

  await t.test('installed: optionalDependencies at the own version, no install script, the addon only in the platform package', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'))
    assert.equal(manifest.optionalDependencies[NATIVE_PACKAGE], pkg.version)
    for (const name of Object.keys(manifest.optionalDependencies)) assert.equal(manifest.optionalDependencies[name], pkg.version, name)
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) {
      assert.equal((manifest.scripts || {})[script], undefined, `no ${script} script runs on a user's machine`)
    }
    assert.ok(!fs.existsSync(path.join(installed, 'binding.gyp')), 'no binding.gyp (npm would run node-gyp)')
    assert.deepEqual(fs.readdirSync(installed).filter((f) => f.endsWith('.node')), [])
    const platformDir = path.join(app, 'node_modules', ...NATIVE_PACKAGE.split('/'))
    assert.ok(fs.existsSync(path.join(platformDir, NATIVE_FILE)))
    assert.equal(fs.readFileSync(path.join(platformDir, 'LICENSE'), 'utf8'), fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'))
  })

  await t.test('require + install() + a log line in a file', () => {
    const file = path.join(app, 'app.log')
    const out = ok(run(process.execPath, ['app.js', file], { cwd: app, env }), 'node app.js')
    const info = JSON.parse(out.stdout)
    assert.equal(info.prodkit, path.join(installed, 'index.js'), 'the app loads its own installed copy')
    assert.equal(info.version, pkg.version)
    assert.deepEqual(info.native, [fs.realpathSync(path.join(app, 'node_modules', ...NATIVE_PACKAGE.split('/'), NATIVE_FILE))], 'the addon comes from the platform package')
    const lines = readJsonLines(file)
    const hello = lines.find((l) => l.msg === 'hello from the installed package')
    assert.ok(hello, JSON.stringify(lines))
    assert.equal(hello.service, 'release-app')
    assert.equal(hello.user.email, 'ann@example.com')
  })

  await t.test('ESM: the default export and every named export that index.d.ts declares', () => {
    const names = declaredValueExports(path.join(installed, 'index.d.ts'))
    assert.ok(names.includes('install') && names.includes('createLogger'), names.join(', '))
    const code = `
      import prodkit, * as ns from '@oj/prodkit'
      import { createRequire } from 'node:module'
      const names = ${JSON.stringify(names)}
      const cjs = createRequire(import.meta.url)('@oj/prodkit')
      console.log(JSON.stringify({
        defaultIsTheModule: prodkit === cjs,
        missing: names.filter((n) => !(n in ns)),
        differs: names.filter((n) => n in ns && ns[n] !== cjs[n])
      }))`
    fs.writeFileSync(path.join(app, 'esm.mjs'), code)
    const out = ok(run(process.execPath, ['esm.mjs'], { cwd: app, env }), 'node esm.mjs')
    const result = JSON.parse(out.stdout)
    assert.deepEqual(result.missing, [], `index.d.ts declares exports that index.mjs does not export: ${result.missing.join(', ')}`)
    assert.deepEqual(result.differs, [], 'the named exports are the CommonJS module\'s members')
    assert.equal(result.defaultIsTheModule, true)
  })

  await t.test('npx prodkit --version, keygen, and decrypt of a line the app wrote', () => {
    const version = ok(npx(['prodkit', '--version'], app), 'npx prodkit --version')
    assert.equal(version.stdout, `${pkg.version}\n`)
    const keygen = ok(npx(['prodkit', 'keygen'], app), 'npx prodkit keygen')
    const key = keygen.stdout.trim()
    assert.equal(Buffer.from(key, 'base64').length, 32)
    const file = path.join(app, 'encrypted.log')
    ok(run(process.execPath, ['app.js', file], { cwd: app, env: cleanEnv({ PRODKIT_LOG_KEY: key }) }), 'node app.js (encrypting)')
    const sealed = readJsonLines(file).find((l) => l.msg === 'hello from the installed package')
    assert.match(sealed.user.email, /^\$pk1\$/)
    const decrypt = ok(npx(['prodkit', 'decrypt', '--key-env', 'PRODKIT_LOG_KEY', file], app, { env: cleanEnv({ PRODKIT_LOG_KEY: key }) }), 'npx prodkit decrypt')
    const clear = decrypt.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'hello from the installed package')
    assert.equal(clear.user.email, 'ann@example.com')
  })

  await t.test('prodkit startup systemd runs the app\'s own installed copy', { skip: windows && 'systemd units are for Linux' }, () => {
    const unit = ok(npx(['prodkit', 'startup', 'systemd', '--user', 'app', '--cwd', app, '--entry', 'app.js'], app), 'npx prodkit startup systemd').stdout
    const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='))
    const cli = fs.realpathSync(path.join(installed, 'bin', 'prodkit'))
    assert.equal(exec, `ExecStart=${process.execPath} ${cli} run --workers auto app.js`)
    assert.ok(!unit.includes(ROOT), `the unit points into the checkout:\n${unit}`)
  })

  await t.test('tsc --strict accepts the README\'s examples against the installed types', () => {
    const types = path.join(ROOT, 'node_modules', '@types')
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'node16',
        moduleResolution: 'node16',
        target: 'es2022',
        types: ['node'],
        typeRoots: [types],
        // Express's types are the checkout's (the app installs nothing from the registry).
        paths: { express: [path.join(types, 'express')] },
        skipLibCheck: false
      },
      files: ['readme-examples.ts']
    }, null, 2))
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    ok(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, env }), 'tsc --strict')
  })

  await t.test('npm install --omit=optional: PRODKIT_NATIVE_MISSING names the package, the platform and the two ways out', () => {
    const bare = newApp(tmp, 'bare')
    npm(['install', '--omit=optional', packed.main.file, ...dependencies], bare)
    assert.ok(!fs.existsSync(path.join(bare, 'node_modules', ...NATIVE_PACKAGE.split('/'))))
    const out = ok(run(process.execPath, ['missing-native.js'], { cwd: bare, env }), 'node missing-native.js')
    const result = JSON.parse(out.stdout)
    assert.equal(result.loaded, false)
    assert.equal(result.code, 'PRODKIT_NATIVE_MISSING')
    assert.ok(result.message.includes(NATIVE_PACKAGE), result.message)
    assert.ok(result.message.includes(`${process.platform}-${process.arch}`), result.message)
    assert.ok(!result.message.includes('wasm32-wasi'), result.message)
    assert.match(result.message, /--omit=optional/)
    assert.match(result.message, /supported platform \(darwin-arm64, darwin-x64, linux-arm64-gnu, linux-x64-gnu, linux-x64-musl, win32-x64-msvc\)/)
    assert.match(result.message, /Build the addon from source .*docs\/install\.md#building-from-source/)
    assert.ok(!result.message.includes('npm run build'), 'no checkout advice in an installed package')
    // A platform no package is published for (the loader is made to see Linux on s390x).
    fs.writeFileSync(path.join(bare, 'elsewhere.js'), "Object.defineProperty(process, 'platform', { value: 'linux' }); Object.defineProperty(process, 'arch', { value: 's390x' })\n")
    const elsewhere = JSON.parse(ok(run(process.execPath, ['-r', './elsewhere.js', 'missing-native.js'], { cwd: bare, env }), 'node missing-native.js on s390x').stdout)
    assert.equal(elsewhere.code, 'PRODKIT_NATIVE_MISSING')
    assert.match(elsewhere.message, /no prebuilt native addon is published for this platform, linux-s390x \(gnu\) \(it would be the package @oj\/prodkit-linux-s390x-gnu\)/)
    assert.match(elsewhere.message, /supported platform \(darwin-arm64, .*\).*\n.*Build the addon from source/s)
    const doc = fs.readFileSync(path.join(bare, 'node_modules', '@oj', 'prodkit', 'docs', 'install.md'), 'utf8')
    assert.match(doc, /^## Building from source$/m)
  })
})

test('every npm/<platform> package publishes its addon and the LICENSE, at the main package\'s version', () => {
  const license = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')
  assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 The @oj\/prodkit authors\n/)
  const dirs = fs.readdirSync(path.join(ROOT, 'npm')).sort()
  assert.deepEqual(Object.keys(pkg.optionalDependencies).sort(), dirs.map((d) => `@oj/prodkit-${d}`))
  for (const dir of dirs) {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', dir, 'package.json'), 'utf8'))
    assert.equal(manifest.version, pkg.version, dir)
    assert.equal(pkg.optionalDependencies[manifest.name], pkg.version, dir)
    assert.deepEqual(manifest.files, [`prodkit.${dir}.node`, 'LICENSE'], dir)
    assert.deepEqual(manifest.engines, pkg.engines, dir)
    assert.equal(manifest.license, 'MIT', dir)
    assert.equal(manifest.repository.url, pkg.repository.url, dir)
    assert.equal(fs.readFileSync(path.join(ROOT, 'npm', dir, 'LICENSE'), 'utf8'), license, `npm/${dir}/LICENSE is the LICENSE`)
  }
  assert.ok(pkg.files.includes('LICENSE'))
  const loader = fs.readFileSync(path.join(ROOT, 'binding.js'), 'utf8')
  assert.ok(loader.includes(`bindingPackageVersion !== '${pkg.version}'`), 'binding.js checks the platform packages against this version: after `npm version`, `npm run build` regenerates it')
  assert.equal(pkg.scripts.artifacts, 'napi artifacts')
  assert.equal(pkg.scripts.prepublishOnly, 'napi prepublish -t npm')
  assert.match(pkg.scripts.version, /^napi version/)
})

test('engines names the Node lines that CI tests (.ci/run runs the suites on 20, 22 and 24)', () => {
  assert.equal(pkg.engines.node, '^20.3.0 || ^22.0.0 || ^24.0.0')
  const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')
  for (const major of ['22', '24']) assert.match(ci, new RegExp(`^NODE${major}_VERSION=${major}\\.`, 'm'))
  const workflow = fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'CI.yml'), 'utf8')
  assert.match(workflow, /node: \['20', '22', '24'\]/)
})

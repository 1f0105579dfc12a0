'use strict'
// Packs @oj/prodkit for this machine as npm would publish it: the main package and the
// per-platform package holding the native addon built here (npm run build), as two tarballs.
//
//   node scripts/pack.js [--out DIR] [--json]
//
// The platform package is staged in a temporary folder from npm/<platform>/ (its package.json,
// README and LICENSE) plus the `.node` file, so the checkout is left as it was. On a platform
// without a folder under npm/ (one prodkit publishes no binary for), a package.json is written
// with the name the generated loader looks for. Install both tarballs in an app:
//   npm install ./oj-prodkit-<version>.tgz ./oj-prodkit-<platform>-<version>.tgz
// This is the "building from source" route of docs/install.md and the release dry run's.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { parseArgs } = require('node:util')
const { nativeFile } = require('./ensure-build')
const { PACKAGE, isMusl, platformArchAbi } = require('../lib/native-package')

const root = path.join(__dirname, '..')

function npm (args, cwd) {
  const windows = process.platform === 'win32'
  const result = spawnSync(windows ? 'npm.cmd' : 'npm', args, { cwd, encoding: 'utf8', shell: windows })
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${result.stderr}`)
  return result.stdout
}

function packInto (dir, out) {
  const [info] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], dir))
  return { file: path.join(out, info.filename), files: info.files.map((f) => f.path) }
}

function platformManifest (suffix, version) {
  const manifest = {
    name: `${PACKAGE}-${suffix}`,
    version,
    os: [process.platform],
    cpu: [process.arch],
    main: `prodkit.${suffix}.node`,
    files: [`prodkit.${suffix}.node`, 'LICENSE'],
    license: 'MIT'
  }
  if (process.platform === 'linux') manifest.libc = [isMusl() ? 'musl' : 'glibc']
  return manifest
}

function pack (out) {
  const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
  const suffix = platformArchAbi()
  if (suffix === null) throw new Error(`the napi-rs loader knows no package name for ${process.platform}-${process.arch}`)
  const binary = nativeFile()
  if (!fs.existsSync(binary)) throw new Error(`${path.basename(binary)} is missing: run \`npm run build\` first`)

  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-pack-'))
  try {
    const dir = path.join(root, 'npm', suffix)
    if (fs.existsSync(dir)) {
      for (const name of fs.readdirSync(dir)) {
        if (!name.endsWith('.node')) fs.copyFileSync(path.join(dir, name), path.join(stage, name))
      }
    } else {
      fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(platformManifest(suffix, version), null, 2) + '\n')
      fs.copyFileSync(path.join(root, 'LICENSE'), path.join(stage, 'LICENSE'))
    }
    const staged = JSON.parse(fs.readFileSync(path.join(stage, 'package.json'), 'utf8'))
    if (staged.version !== version) throw new Error(`npm/${suffix}/package.json is at ${staged.version}, the main package at ${version}: run \`npm run version\``)
    fs.copyFileSync(binary, path.join(stage, path.basename(binary)))
    fs.mkdirSync(out, { recursive: true })
    return { main: packInto(root, out), platform: packInto(stage, out) }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true })
  }
}

if (require.main === module) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: '.' }, json: { type: 'boolean', default: false } } })
  const result = pack(path.resolve(values.out))
  if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n')
  else process.stdout.write(`${result.main.file}\n${result.platform.file}\n`)
}

module.exports = { pack }

'use strict'
// Every ```js / ```javascript / ```ts / ```typescript block of README.md and docs/*.md is a
// module that type-checks against index.d.ts with `strict: true`, in one tsc run. JS blocks
// are checked as JavaScript (`allowJs` + `checkJs`: `require()` is typed, so a wrong option
// or a possibly-null value is an error); TS blocks as TypeScript. Blocks in other languages
// (sh, json, text, ini, dockerfile) are not code of this package and are skipped.
//
// A block that needs context it does not show (a `db`, an `app` built above) says so in an
// HTML comment on the line before its fence, which the rendered page hides:
//
//   <!-- prelude: const db = { end: async () => {} } -->
//
// The prelude is code put before the block (JavaScript, so that it fits both kinds); keep
// it short and rare: a block that can be complete should be. A failure names the Markdown
// file and line.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('./helpers')

const LANGUAGES = { js: 'js', javascript: 'js', ts: 'ts', typescript: 'ts' }
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/
const PRELUDE = /^\s*<!--\s*prelude:\s*([\s\S]*?)\s*-->\s*$/

function markdownFiles () {
  const docs = path.join(ROOT, 'docs')
  const pages = fs.existsSync(docs) ? fs.readdirSync(docs).filter((f) => f.endsWith('.md')).sort().map((f) => path.join(docs, f)) : []
  return [path.join(ROOT, 'README.md'), ...pages]
}

// The code blocks of one Markdown file: { kind: 'js' | 'ts', code, line (of the first
// code line, 1-based), prelude }.
function extractBlocks (file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n')
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i])
    if (!open) continue
    const [, , fence, info] = open
    let end = i + 1
    while (end < lines.length && !(lines[end].trim().startsWith(fence) && lines[end].trim().replace(/[`~]/g, '') === '')) end++
    const kind = LANGUAGES[info.toLowerCase()]
    if (kind) {
      const previous = i > 0 ? PRELUDE.exec(lines[i - 1]) : null
      blocks.push({ kind, code: lines.slice(i + 1, end).join('\n'), line: i + 2, prelude: previous ? previous[1] : '' })
    }
    i = end
  }
  return blocks
}

// A folder where `@oj/prodkit` is this checkout and every dev dependency resolves.
function workspace () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-docs-examples-'))
  const modules = path.join(dir, 'node_modules')
  fs.mkdirSync(path.join(modules, '@oj'), { recursive: true })
  fs.symlinkSync(ROOT, path.join(modules, '@oj', 'prodkit'), 'dir')
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name === '@oj' || name.startsWith('.')) continue
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name), 'dir')
  }
  return dir
}

test('every js/ts code block of the README and docs/ type-checks in strict mode', (t) => {
  const dir = workspace()
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const sources = new Map() // example file name -> { markdown, line, preludeLines }
  for (const markdown of markdownFiles()) {
    extractBlocks(markdown).forEach((block, index) => {
      const name = `${path.basename(markdown, '.md')}-${index + 1}.${block.kind}`
      const prelude = block.prelude ? block.prelude + '\n' : ''
      fs.writeFileSync(path.join(dir, name), prelude + block.code + '\n')
      sources.set(name, { markdown: path.relative(ROOT, markdown), line: block.line, preludeLines: prelude ? prelude.split('\n').length - 1 : 0 })
    })
  }
  assert.ok(sources.size >= 10, `only ${sources.size} code blocks found`)
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      allowJs: true,
      checkJs: true,
      module: 'node16',
      moduleResolution: 'node16',
      moduleDetection: 'force', // every block is its own module: top-level names never clash
      target: 'es2022',
      esModuleInterop: true,
      types: ['node'],
      skipLibCheck: true
    },
    include: ['*.js', '*.ts']
  }))
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir, encoding: 'utf8' })
  if (result.status === 0) return
  // `README-3.js(4,7): error TS2531: ...` -> `README.md:57: error TS2531: ...`
  const report = (result.stdout + result.stderr).split('\n').map((line) => {
    const m = /^([^(]+)\((\d+),(\d+)\): (.*)$/.exec(line)
    const source = m && sources.get(path.basename(m[1]))
    if (!source) return line
    const at = Number(m[2]) - source.preludeLines
    return at < 1
      ? `${source.markdown}:${source.line - 1} (its prelude): ${m[4]}`
      : `${source.markdown}:${source.line + at - 1}:${m[3]}: ${m[4]}`
  }).join('\n')
  assert.fail(`code blocks in the docs do not type-check:\n${report}`)
})

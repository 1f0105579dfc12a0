'use strict'
// The instruction counts of one Node run under valgrind's callgrind, for the benchmarks'
// --instructions modes (bench/http.js, bench/ship-app.js).
//
// Node runs with --single-threaded (V8's compiler and GC work on the JS thread, not on
// helper threads whose share would vary) and with V8's hash and random seeds fixed (else
// start-up work differs by millions of instructions between runs: hash-table rehashes,
// prime searches). callgrind writes one profile per thread; the first is the JS thread.
// User-space instructions only: the system calls' own work is not in them.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile, execFileSync } = require('node:child_process')

function hasValgrind () {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

// Runs `node <node flags above> ...args` under callgrind (with `env` added to this
// process's); resolves { js, all }: the JS thread's instructions and all threads'.
async function countInstructions (args, env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-callgrind-'))
  try {
    const out = path.join(dir, 'profile')
    await new Promise((resolve, reject) => {
      execFile('valgrind', ['--tool=callgrind', '--separate-threads=yes', `--callgrind-out-file=${out}`,
        process.execPath, '--single-threaded', '--hash-seed=1', '--random-seed=1', ...args],
      { maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (err) => (err ? reject(err) : resolve()))
    })
    const count = { js: 0, all: 0 }
    for (const name of fs.readdirSync(dir).filter((f) => f.startsWith('profile-'))) {
      const m = /^totals: (\d+)/m.exec(fs.readFileSync(path.join(dir, name), 'utf8'))
      if (!m) throw new Error(`no instruction count in callgrind's ${name} (node ${args.join(' ')})`)
      count.all += Number(m[1])
      if (name.endsWith('-01')) count.js = Number(m[1])
    }
    if (count.js === 0) throw new Error(`no JS-thread profile from callgrind (node ${args.join(' ')})`)
    return count
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { hasValgrind, countInstructions }

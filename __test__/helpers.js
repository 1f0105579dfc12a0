'use strict'
// Shared test helpers: temporary folders, reading log files, running child processes.

const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawn, spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')

function tempDir (t, name = 'prodkit') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

// Every line of a file parsed as JSON; fails (with the line) on one that is not, and on
// bytes that are not valid UTF-8.
function readJsonLines (file) {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(fs.readFileSync(file))
  return parseJsonLines(text)
}

function parseJsonLines (text) {
  if (text === '') return []
  if (!text.endsWith('\n')) throw new Error(`output does not end with a newline: ...${JSON.stringify(text.slice(-80))}`)
  return text.slice(0, -1).split('\n').map((line, i) => {
    try {
      return JSON.parse(line)
    } catch (err) {
      throw new Error(`line ${i + 1} is not valid JSON (${err.message}): ${line.slice(0, 200)}`)
    }
  })
}

// Runs `node -e <code>` (prodkit resolvable as '@oj/prodkit') and collects its output.
function runNode (code, { env = {}, args = [], timeoutMs = 60_000, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '-e', code], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      ...options
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`child timed out; stderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

// A rotating log's files, oldest first: the rotated ones (`app.<time>.log`, or its `.gz`
// when there is no plain file: while both exist, compression had not finished and the
// plain file is the authority), then the current file. Partial `.gz.tmp` files are not
// logs and are left out.
function logFiles (file) {
  const dir = path.dirname(file)
  const ext = path.extname(file)
  const stem = path.basename(file, ext)
  const pattern = new RegExp(`^${escape(stem)}\\.(\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{3}Z)${escape(ext)}(\\.gz)?$`)
  const rotated = new Map()
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const match = pattern.exec(name)
    if (!match) continue
    const [, stamp, gz] = match
    if (!gz || !rotated.has(stamp)) rotated.set(stamp, path.join(dir, name))
  }
  const files = [...rotated.keys()].sort().map((stamp) => rotated.get(stamp))
  if (fs.existsSync(file)) files.push(file)
  return files
}

function escape (text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

// Every line of every file of a rotating log (gzip read with zlib), oldest file first,
// each parsed as JSON (fails on one that is not, naming the file).
function readLogSet (file) {
  const lines = []
  for (const name of logFiles(file)) {
    let bytes = fs.readFileSync(name)
    if (name.endsWith('.gz')) bytes = zlib.gunzipSync(bytes)
    try {
      for (const line of parseJsonLines(new TextDecoder('utf-8', { fatal: true }).decode(bytes))) lines.push(line)
    } catch (err) {
      throw new Error(`${path.basename(name)}: ${err.message}`)
    }
  }
  return lines
}

// Polls `predicate` until it returns a truthy value (returned), or fails after `timeoutMs`.
async function waitFor (predicate, { timeoutMs = 10_000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

// The files a process needs to load prodkit, copied into `dir` (which must be readable by
// others) and readable by everyone: for tests that run the app as 'nobody', who may not
// be able to reach the checkout (under /root, say).
function copyPackageForNobody (dir) {
  const target = path.join(dir, 'pkg')
  for (const entry of ['package.json', 'index.js', 'binding.js', 'lib']) {
    fs.cpSync(path.join(ROOT, entry), path.join(target, entry), { recursive: true })
  }
  for (const name of fs.readdirSync(ROOT).filter((n) => n.endsWith('.node'))) {
    fs.copyFileSync(path.join(ROOT, name), path.join(target, name))
  }
  copyRuntimeDependencies(ROOT, target)
  fs.chmodSync(target, 0o755)
  return target
}

// Copies the package's runtime dependencies (package.json `dependencies`, and theirs) from
// the checkout's node_modules into `target`/node_modules, flat, as npm installs them.
function copyRuntimeDependencies (root, target) {
  const seen = new Set()
  const visit = (manifest) => {
    for (const name of Object.keys(manifest.dependencies || {})) {
      if (seen.has(name)) continue
      seen.add(name)
      const from = path.join(root, 'node_modules', name)
      fs.cpSync(from, path.join(target, 'node_modules', name), { recursive: true })
      visit(JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8')))
    }
  }
  visit(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')))
}

// The complete JSON lines of a file another process is writing: a line being written at
// the moment of reading is left for the next read. No file yet: none.
function completeLines (file) {
  let text
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return []
  }
  return parseJsonLines(text.slice(0, text.lastIndexOf('\n') + 1))
}

// A loopback port nothing listens on (at the time of asking).
function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// (disk-full.test.js, ship-disk-full.test.js; root only: mount)
// A tmpfs of `size` mounted on a new folder for the test; a skip reason if impossible.
function tmpfs (t, size) {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-full-'))
  t.after(() => {
    spawnSync('umount', ['-l', mnt])
    fs.rmSync(mnt, { recursive: true, force: true })
  })
  if (process.platform !== 'linux') return { skip: 'tmpfs is Linux only' }
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'prodkit-test', mnt], { encoding: 'utf8' })
  if (mount.error || mount.status !== 0) return { skip: `cannot mount a tmpfs here: ${(mount.stderr || mount.error?.code || '').trim()}` }
  return { mnt }
}

// The lines of a logger's file once at least `count` of them pass `keep` (every line by
// default), flushing the logger at each look; before the file exists, none.
function waitForLines (log, file, count, keep = () => true) {
  return waitFor(() => {
    log.flushSync()
    let lines
    try {
      lines = readJsonLines(file)
    } catch (err) {
      if (err.code === 'ENOENT') return false
      throw err
    }
    return lines.filter(keep).length >= count && lines
  }, { what: `${count} lines in ${file}` })
}

module.exports = { freePort, ROOT, tempDir, readJsonLines, parseJsonLines, completeLines, runNode, logFiles, readLogSet, waitFor, waitForLines, copyPackageForNobody, tmpfs }

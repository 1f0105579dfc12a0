'use strict'
// A cluster under the real logrotate with no signal at all: `prodkit run --log primary.log`
// with 2 workers that each log to app.log themselves (install({ log: { destination } }))
// and print to stdout (captured by the primary into primary.log). logrotate renames both
// files and creates new ones (`create`, `delaycompress`, no `postrotate`), several times
// while everyone writes. Every writer follows the rename by itself (it compares the open
// file's dev/inode with the path's before each batch): every line is in exactly one
// generation, each new generation gets lines, and no worker is reloaded (a SIGHUP to the
// primary would have replaced them all, which is why the docs no longer recommend it).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, tempDir, parseJsonLines, waitFor } = require('./helpers')

const ROTATIONS = 4
const WORKERS = 2
const CLI = path.join(ROOT, 'bin', 'prodkit')
const GIVE_UP_MS = 60_000
const LOGROTATE = ['logrotate', '/usr/sbin/logrotate'].find((bin) => !spawnSync(bin, ['--version']).error)
const missing = LOGROTATE || process.env.CI ? false : 'logrotate is not installed (apt-get install logrotate; .ci/run does)'

// Each worker logs numbered lines to app.log and prints numbered lines to stdout, in small
// turns, until the file `stop` appears; then it flushes and writes done-<pid>.json.
const APP = `
  const fs = require('node:fs')
  const path = require('node:path')
  const prodkit = require(${JSON.stringify(ROOT)})
  const dir = process.env.LR_DIR
  const kit = prodkit.install({ log: { destination: path.join(dir, 'app.log'), service: 'lrc' }, metrics: false })
  let id = 0
  const turn = () => {
    for (let j = 0; j < 20; j++) {
      kit.log.info({ id, pid: process.pid }, 'line')
      console.log('print ' + process.pid + ' ' + id)
      id++
    }
    if (!fs.existsSync(path.join(dir, 'stop'))) return setTimeout(turn, 10)
    kit.log.flush().then((ok) => fs.writeFileSync(path.join(dir, 'done-' + process.pid + '.json'), JSON.stringify({ ok, lines: id })))
  }
  turn()
  require('node:http').createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1') // ready once it listens
`

// The lines of every generation of `base` (base.N[.gz] oldest first, then base), and how
// many generations there are, each non-empty.
function generations (dir, base) {
  const numbered = fs.readdirSync(dir)
    .map((name) => ({ name, n: new RegExp(`^${base.replace('.', '\\.')}\\.(\\d+)(\\.gz)?$`).exec(name) }))
    .filter((f) => f.n)
    .sort((a, b) => Number(b.n[1]) - Number(a.n[1]))
    .map((f) => f.name)
  const lines = []
  const sizes = []
  for (const name of [...numbered, base]) {
    if (!fs.existsSync(path.join(dir, name))) continue
    let bytes = fs.readFileSync(path.join(dir, name))
    if (name.endsWith('.gz')) bytes = zlib.gunzipSync(bytes)
    sizes.push(bytes.length)
    lines.push(...parseJsonLines(bytes.toString('utf8')))
  }
  return { lines, sizes, names: [...numbered, base] }
}

const readLines = (file) => {
  try {
    return parseJsonLines(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    if (err.code === 'ENOENT') return []
    throw err
  }
}

for (const mode of ['create 0640', 'nocreate']) {
  test(`a cluster under logrotate (${mode}, delaycompress, no postrotate) ${ROTATIONS} times: every worker's file lines and captured output there once, no reload`, { skip: missing, timeout: 120_000 }, (t) => rotateCluster(t, mode))
}

async function rotateCluster (t, mode) {
  assert.ok(LOGROTATE, 'logrotate is not installed (.ci/run installs it)')
  const dir = tempDir(t, 'prodkit-lr-cluster')
  const appDir = path.join(dir, 'app')
  fs.mkdirSync(appDir)
  fs.writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: `lr-cluster-${process.pid}`, version: '1.0.0' }))
  fs.writeFileSync(path.join(appDir, 'app.js'), APP)
  const primaryLog = path.join(dir, 'primary.log')
  const appLog = path.join(dir, 'app.log')
  const primary = spawn(process.execPath, [CLI, 'run', '--workers', String(WORKERS), '--log', primaryLog, path.join(appDir, 'app.js')], {
    cwd: appDir,
    env: { ...process.env, NODE_ENV: 'production', LR_DIR: dir, PRODKIT_RUNTIME_DIR: path.join(dir, 'run') },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  primary.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  primary.stdout.resume()
  const exited = new Promise((resolve) => primary.on('exit', (code, signal) => resolve({ code, signal })))
  let done = false
  exited.then(() => { done = true })
  t.after(() => { if (!done) primary.kill('SIGKILL') })
  const until = (check, what) => waitFor(() => {
    if (done) throw new Error(`the cluster exited while waiting for ${what}: ${stderr}`)
    return check()
  }, { timeoutMs: GIVE_UP_MS, what })

  await until(() => readLines(primaryLog).some((l) => l.role === 'primary' && /^cluster ready:/.test(l.msg)), 'the cluster to be ready')
  const workerPids = await until(() => {
    const pids = new Set(readLines(appLog).map((l) => l.pid))
    return pids.size === WORKERS && [...pids]
  }, 'both workers to log')

  const config = path.join(dir, 'logrotate.conf')
  fs.writeFileSync(config, `${primaryLog} ${appLog} {
  ${mode}
  rotate 100
  compress
  delaycompress
  missingok
}
`)
  for (let i = 0; i < ROTATIONS; i++) {
    const run = spawnSync(LOGROTATE, ['-f', '-s', path.join(dir, 'state'), config], { encoding: 'utf8' })
    assert.equal(run.status, 0, `logrotate: ${run.stdout}${run.stderr}`)
    // Both writers found the new files by themselves: fresh lines from every worker in
    // the new app.log, and fresh captured output in the new primary.log.
    await until(() => {
      const pids = new Set(readLines(appLog).map((l) => l.pid))
      return workerPids.every((p) => pids.has(p)) && readLines(primaryLog).some((l) => /^print /.test(l.msg))
    }, `every writer to write into the files created by rotation ${i + 1}`)
  }

  fs.writeFileSync(path.join(dir, 'stop'), '')
  const results = await until(() => {
    const files = workerPids.map((pid) => path.join(dir, `done-${pid}.json`))
    return files.every((f) => fs.existsSync(f)) && files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')))
  }, 'the workers to finish')
  // Every printed line has reached the primary's log.
  const printed = (lines) => lines.filter((l) => /^print /.test(l.msg))
  await until(() => printed(generations(dir, 'primary.log').lines).length >= results.reduce((n, r) => n + r.lines, 0), 'the captured output in primary.log')

  primary.kill('SIGTERM')
  const { code, signal } = await exited
  assert.equal(code, 0, `prodkit run exit ${code} ${signal}: ${stderr}`)

  const app = generations(dir, 'app.log')
  assert.equal(app.names.length, ROTATIONS + 1, fs.readdirSync(dir).join(' '))
  assert.ok(app.sizes.every((n) => n > 0), `every generation of app.log has lines: ${app.sizes}`)
  const prim = generations(dir, 'primary.log')
  assert.ok(prim.sizes.every((n) => n > 0), `every generation of primary.log has lines: ${prim.sizes}`)
  workerPids.forEach((pid, w) => {
    const r = results[w]
    assert.equal(r.ok, true)
    const all = Array.from({ length: r.lines }, (_, i) => i)
    assert.deepEqual(app.lines.filter((l) => l.pid === pid && l.msg === 'line').map((l) => l.id), all, `worker ${pid}: every app.log line once, in order`)
    const prints = printed(prim.lines).map((l) => l.msg.split(' ')).filter(([, p]) => Number(p) === pid).map(([, , id]) => Number(id))
    assert.deepEqual(prints, all, `worker ${pid}: every printed line once, in order, in primary.log`)
  })
  // No reload, no replacement: the same two workers from start to end.
  assert.ok(!prim.lines.some((l) => l.role === 'primary' && /reload/i.test(l.msg)), 'no reload')
  assert.equal(prim.lines.filter((l) => l.role === 'primary' && /^worker \d+ started$/.test(l.msg)).length, WORKERS, 'no worker replaced')
  assert.deepEqual([...new Set(app.lines.map((l) => l.pid))].sort(), [...workerPids].sort(), 'only the first two workers wrote')
}

'use strict'
// External rotation with the real logrotate (Debian package `logrotate`, installed by
// .ci/run): `create` mode, `postrotate` sends SIGHUP, the app has reopenOnSignal. Forced
// rotations while the app logs lose nothing.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, tempDir, parseJsonLines } = require('./helpers')

const ROTATIONS = 6
// /usr/sbin may not be on a non-root user's PATH.
const LOGROTATE = ['logrotate', '/usr/sbin/logrotate'].find((bin) => !spawnSync(bin, ['--version']).error)
// Skipped on a developer machine without it; in CI (which installs it) a missing one fails.
const missing = LOGROTATE || process.env.CI ? false : 'logrotate is not installed (apt-get install logrotate; .ci/run does)'

// The app: logs numbered lines in small turns until told to stop, then flushes and exits.
const APP = `
  const log = require('@oj/prodkit').createLogger({
    destination: process.argv[1], service: 'lr', reopenOnSignal: 'SIGHUP'
  })
  let id = 0
  let stopping = false
  process.stdin.on('data', () => { stopping = true })
  const turn = () => {
    for (let j = 0; j < 200; j++) { log.info({ id }, 'line ' + id); id++ }
    if (!stopping) return setTimeout(turn, 2)
    log.flush().then((ok) => { console.log(JSON.stringify({ ok, lines: id })); process.exit(0) })
  }
  turn()
  console.log('started')`

// Every file logrotate and the app left, oldest first: app.log.N(.gz) ... app.log.1, app.log.
function readAll (dir) {
  const numbered = fs.readdirSync(dir)
    .map((name) => ({ name, n: /^app\.log\.(\d+)(\.gz)?$/.exec(name) }))
    .filter((f) => f.n)
    .sort((a, b) => Number(b.n[1]) - Number(a.n[1]))
    .map((f) => f.name)
  const lines = []
  for (const name of [...numbered, 'app.log']) {
    let bytes = fs.readFileSync(path.join(dir, name))
    if (name.endsWith('.gz')) bytes = zlib.gunzipSync(bytes)
    lines.push(...parseJsonLines(bytes.toString('utf8')))
  }
  return { files: numbered.length + 1, lines }
}

test(`logrotate -f (create, compress, delaycompress, postrotate SIGHUP) ${ROTATIONS} times while the app logs: nothing lost`, { skip: missing, timeout: 60_000 }, async (t) => {
  assert.ok(LOGROTATE, 'logrotate is not installed (.ci/run installs it)')
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  const app = spawn(process.execPath, ['-e', APP, file], { cwd: ROOT })
  t.after(() => app.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  app.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
  app.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => app.on('exit', (code, signal) => resolve({ code, signal })))
  while (!stdout.includes('started')) await new Promise((resolve) => setTimeout(resolve, 10))

  const config = path.join(dir, 'logrotate.conf')
  fs.writeFileSync(config, `${file} {
  create 0640
  rotate 100
  compress
  delaycompress
  missingok
  postrotate
    kill -HUP ${app.pid}
  endscript
}
`)
  for (let i = 0; i < ROTATIONS; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    const run = spawnSync(LOGROTATE, ['-f', '-s', path.join(dir, 'state'), config], { encoding: 'utf8' })
    assert.equal(run.status, 0, `logrotate: ${run.stdout}${run.stderr}`)
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  app.stdin.write('stop\n')
  const { code, signal } = await exited
  assert.equal(code, 0, `app exit ${code} ${signal} (a SIGHUP without the option would end it): ${stderr}`)
  const result = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{')))
  assert.equal(result.ok, true)

  const { files, lines } = readAll(dir)
  assert.equal(files, ROTATIONS + 1, fs.readdirSync(dir).join(' '))
  assert.ok(fs.readdirSync(dir).filter((n) => n.endsWith('.gz')).length >= ROTATIONS - 1, 'logrotate compressed')
  const ids = lines.map((l) => l.id)
  assert.equal(ids.length, result.lines, 'line count')
  assert.deepEqual(ids, Array.from({ length: result.lines }, (_, i) => i), 'every line once, in order')
  // The app wrote into every generation, not only the first and the last.
  const numbered = fs.readdirSync(dir).filter((n) => /^app\.log\.\d+/.test(n))
  for (const name of numbered) {
    let bytes = fs.readFileSync(path.join(dir, name))
    if (name.endsWith('.gz')) bytes = zlib.gunzipSync(bytes)
    assert.ok(bytes.length > 0, `${name} has lines`)
  }
})

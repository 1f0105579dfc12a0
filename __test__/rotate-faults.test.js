'use strict'
// Faults while rotating never crash the app: a full disk (a 1 MiB tmpfs), the log folder
// removed while running, permissions taken away. The logger reports once, counts, keeps
// what it can within the queue limit, and resumes; no line is ever torn.

// Compression at normal priority in these tests (and their child processes): they check
// what compression produces, and an idle-priority thread barely runs while the machine is
// kept busy by other work (docs/rotation.md, PRODKIT_COMPRESS_PRIORITY). bench:rotate
// measures the idle-priority default.
process.env.PRODKIT_COMPRESS_PRIORITY = 'normal'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const prodkit = require('..')
const { ROOT, tempDir, readLogSet, logFiles, waitFor, copyPackageForNobody } = require('./helpers')

// Runs `code` as a child that performs the steps the test sends on stdin, one per line,
// and answers each with one JSON line. Returns { step(name) -> answer, exit }.
function stepper (t, code, { cwd, uid } = {}) {
  const child = spawn(process.execPath, ['-e', code], { cwd: cwd || ROOT, ...(uid === undefined ? {} : { uid, gid: uid }) })
  t.after(() => child.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  const waiting = []
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d
    let newline
    while ((newline = stdout.indexOf('\n')) !== -1) {
      const line = stdout.slice(0, newline)
      stdout = stdout.slice(newline + 1)
      waiting.shift()(JSON.parse(line))
    }
  })
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr: () => stderr })))
  return {
    step (name) {
      return new Promise((resolve, reject) => {
        waiting.push(resolve)
        child.stdin.write(name + '\n')
        exit.then(({ code, signal }) => reject(new Error(`child ended (${code ?? signal}) during ${name}: ${stderr}`)))
      })
    },
    exit,
    stderr: () => stderr
  }
}

// The child's side: a logger and `steps`, run when their names arrive on stdin. Lines
// carry ids; `logLines(n)` logs n of them, 50 per event-loop turn.
const CHILD_PRELUDE = `
  const readline = require('node:readline')
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  const events = []
  let id = 0
  async function logLines (log, n) {
    for (let k = 0; k < n; k += 50) {
      for (let j = 0; j < 50; j++) { log.info({ id, pad: 'x'.repeat(60) }, 'line'); id++ }
      await sleep(0)
    }
  }
  function serve (steps) {
    readline.createInterface({ input: process.stdin }).on('line', async (name) => {
      const answer = await steps[name]()
      process.stdout.write(JSON.stringify(answer) + '\\n')
    })
  }`

function tryMountTmpfs (dir) {
  if (process.platform !== 'linux') return 'tmpfs is Linux only'
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'prodkit-test', dir], { encoding: 'utf8' })
  if (mount.error) return `mount is not available (${mount.error.code})`
  if (mount.status !== 0) return `this machine does not allow mounting a tmpfs (${(mount.stderr || '').trim() || `exit ${mount.status}`}); /dev/full covers ENOSPC in destinations.test.js`
  return null
}

test('disk full on a 1 MiB tmpfs, two processes on one file: reported once each, counted, no torn line, the apps run on and writing resumes when space is back', { timeout: 60_000 }, async (t) => {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-tmpfs-'))
  // Lazy unmount first (the children may still hold files there), then the mount point.
  t.after(() => {
    spawnSync('umount', ['-l', mnt])
    fs.rmSync(mnt, { recursive: true, force: true })
  })
  const skip = tryMountTmpfs(mnt)
  if (skip) return t.skip(skip)
  const file = path.join(mnt, 'logs', 'app.log')
  // Two writers: on a full disk a write can stop in the middle of a line, and the other
  // process's next append would land right after it. prodkit reserves a batch's space
  // under the lock first, so a batch is written whole or not at all.
  const children = [0, 1].map((w) => stepper(t, `${CHILD_PRELUDE}
    const log = require('@oj/prodkit').createLogger({
      destination: ${JSON.stringify(file)}, service: 'df', base: { w: ${w} }, queueBytes: 65536,
      rotate: { size: '64KiB', compress: true }
    })
    log.on('error', (err) => events.push(err.code))
    serve({
      async fill () { await logLines(log, 1000); return { ok: await log.flush() } },
      async settle () { log.info({ id, pad: 'x'.repeat(60) }, 'line'); id++; return { ok: await log.flush() } },
      async full () {
        await logLines(log, 2000)
        const ok = await log.flush()
        await sleep(300)
        return { ok, events, stats: log.stats() }
      },
      async freed () {
        let ok = false
        while (!ok) { ok = await log.flush(); if (!ok) await sleep(50) }
        await logLines(log, 1000)
        return { ok: await log.flush(), events, stats: log.stats(), logged: id }
      }
    })`))
  const step = (name) => Promise.all(children.map((child) => child.step(name)))

  for (const fill of await step('fill')) assert.equal(fill.ok, true)
  // Let the archive threads finish first: a compression that completes after the disk is
  // filled removes its plain file and gives space back, and the "full" step would not be.
  await waitFor(() => logFiles(file).slice(0, -1).every((name) => name.endsWith('.gz')), { what: 'compression before filling' })
  // And let each writer see the current file: a writer that still has a rotated file open
  // (the other process renamed it) keeps its pages on the tmpfs after compression removed it;
  // it would let them go at its next batch, in the full step, and write there after all.
  for (const settle of await step('settle')) assert.equal(settle.ok, true)
  // Take every free page of the tmpfs.
  const filler = path.join(mnt, 'filler')
  const fd = fs.openSync(filler, 'w')
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(4096))
  } catch (err) {
    assert.equal(err.code, 'ENOSPC')
  } finally {
    fs.closeSync(fd)
  }
  for (const full of await step('full')) {
    assert.equal(full.ok, false, 'flush says the destination is failing')
    // Not asserted: that it is still failing 300 ms later. Each rotation's compression
    // gives space back (the .gz is smaller than the plain file it replaces), and with
    // backoff the writer takes it: it may well have drained its queue by then.
    assert.equal(full.events[0], 'ENOSPC')
    assert.ok(full.stats.droppedLines > 0, 'beyond the queue limit lines are dropped and counted')
    assert.ok(full.stats.queuedBytes <= 65536 + 200_000, `memory bounded: ${full.stats.queuedBytes}`)
  }
  fs.rmSync(filler)
  const freed = await step('freed')
  // The archive threads go on compressing: read once every rotated file is a .gz.
  await waitFor(() => logFiles(file).slice(0, -1).every((name) => name.endsWith('.gz')), { what: 'compression' })
  const lines = readLogSet(file) // every line of every file parses: nothing torn
  for (const [w, result] of freed.entries()) {
    assert.equal(result.ok, true)
    assert.equal(result.stats.failing, false)
    const mine = lines.filter((l) => l.w === w)
    const ids = mine.filter((l) => l.msg === 'line').map((l) => l.id)
    assert.equal(new Set(ids).size, ids.length, 'no line twice')
    const has = new Set(ids)
    // 1,000 lines (fill) and 1 (settle) before, 2,000 while full, 1,000 after.
    for (let i = 0; i < 1001; i++) assert.ok(has.has(i), `line ${i} from before the disk filled`)
    for (let i = 3001; i < 4001; i++) assert.ok(has.has(i), `line ${i} from after space came back`)
    const keptWhileFull = ids.filter((i) => i >= 1001 && i < 3001).length
    assert.equal(keptWhileFull + result.stats.droppedLines, 2000, 'each line logged while full is either written or counted as dropped')
    const noticed = mine.reduce((sum, l) => sum + (l.droppedLines || 0), 0)
    assert.equal(noticed, result.stats.droppedLines, 'the log itself says how many were dropped')
    assert.ok(mine.some((l) => l.errorCode === 'ENOSPC' && l.level === 40), 'the log itself says writing failed and resumed')
    // Reported once: one write-failure report for the whole episode, and at most one
    // more event, from a compression that found the disk full.
    const reports = children[w].stderr().split('\n').filter((l) => l.includes('cannot write the log'))
    assert.equal(reports.length, 1, children[w].stderr())
    assert.ok(result.events.length <= 2 && result.events.every((c) => c === 'ENOSPC'), `events: ${result.events}`)
  }
})

test('the log folder removed while running: made again with its lock file, rotation goes on, every later line is written', async (t) => {
  const dir = tempDir(t)
  const logDir = path.join(dir, 'logs')
  const file = path.join(logDir, 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 's', rotate: { size: '16KiB', compress: false } })
  t.after(() => log.close())
  const logIds = async (from, to) => {
    for (let i = from; i < to; i += 50) {
      for (let j = i; j < i + 50; j++) log.info({ id: j, pad: 'x'.repeat(60) }, 'line')
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  await logIds(0, 1000)
  assert.equal(await log.flush(), true)
  const before = log.stats().rotation.rotations
  assert.ok(before > 0)
  fs.rmSync(logDir, { recursive: true })
  await logIds(1000, 3000)
  assert.equal(await log.flush(), true)
  assert.ok(fs.existsSync(path.join(logDir, '.app.log.lock')), 'lock file made again')
  assert.ok(log.stats().rotation.rotations > before, 'rotation goes on')
  assert.ok(logFiles(file).length > 2)
  const ids = readLogSet(file).map((l) => l.id)
  assert.deepEqual(ids, Array.from({ length: 2000 }, (_, i) => 1000 + i), 'every line after the removal, once, in order')
  assert.equal(log.stats().writeErrors, 0)
})

test('permissions taken away: rotation fails, is reported once, lines go on into the current file; rotation resumes when they are back', { timeout: 60_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-perm-'))
  fs.chmodSync(dir, 0o755)
  const logDir = path.join(dir, 'logs')
  fs.mkdirSync(logDir, { mode: 0o755 })
  const isRoot = process.getuid() === 0
  // Root ignores permissions: the app runs as 'nobody', who owns the folder until the
  // test gives it to root.
  const nobody = 65534
  if (isRoot) fs.chownSync(logDir, nobody, nobody)
  const revoke = () => (isRoot ? fs.chownSync(logDir, 0, 0) : fs.chmodSync(logDir, 0o555))
  const restore = () => (isRoot ? fs.chownSync(logDir, nobody, nobody) : fs.chmodSync(logDir, 0o755))
  // Permissions back first, or the folder could not be removed.
  t.after(() => {
    if (fs.existsSync(logDir)) restore()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const pkg = isRoot ? copyPackageForNobody(dir) : ROOT
  const file = path.join(logDir, 'app.log')
  const child = stepper(t, `${CHILD_PRELUDE}
    const log = require(${JSON.stringify(pkg)}).createLogger({
      destination: ${JSON.stringify(file)}, service: 'perm', rotate: { size: '8KiB', compress: false }
    })
    log.on('error', (err) => events.push(err.code))
    const report = async () => ({ ok: await log.flush(), events, rotation: log.stats().rotation, logged: id })
    serve({
      async a () { await logLines(log, 500); return report() },
      async b () { await logLines(log, 500); return report() },
      async c () { await logLines(log, 500); const r = await report(); setImmediate(() => process.exit(0)); return r }
    })`, { cwd: dir, ...(isRoot ? { uid: nobody } : {}) })

  const a = await child.step('a')
  assert.equal(a.ok, true)
  assert.ok(a.rotation.rotations > 3)
  revoke()
  const b = await child.step('b')
  assert.equal(b.ok, true, 'writing goes on')
  assert.equal(b.rotation.rotations, a.rotation.rotations, 'no rotation without permission')
  assert.ok(b.rotation.errors >= 1, 'failed attempts counted')
  assert.deepEqual(b.events, ['EACCES'], 'reported once')
  assert.ok(fs.statSync(file).size > 8 * 1024, 'the current file takes the lines past its size')
  restore()
  const c = await child.step('c')
  assert.equal(c.ok, true)
  assert.ok(c.rotation.rotations > b.rotation.rotations, 'rotation resumes')
  const { code } = await child.exit
  assert.equal(code, 0, child.stderr())
  const reports = child.stderr().split('\n').filter((l) => l.includes('cannot rotate the log'))
  assert.equal(reports.length, 1, child.stderr())
  assert.match(reports[0], /\(EACCES\)\. Writing on to the current file/)
  const ids = readLogSet(file).map((l) => l.id)
  assert.deepEqual(ids, Array.from({ length: 1500 }, (_, i) => i), 'every line once, in order')
})

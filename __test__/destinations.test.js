'use strict'
// Destinations (stdout, stderr, a file path, a file descriptor) and write errors, which
// never throw into the app: reported once on stderr and as an 'error' event, counted,
// retried.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const prodkit = require('..')
const { ROOT, tempDir, readJsonLines, parseJsonLines, runNode, copyPackageForNobody } = require('./helpers')

test('stdout (the default) and stderr receive the lines', async () => {
  const code = `
    const prodkit = require('@oj/prodkit')
    prodkit.createLogger({ service: 's', level: 'info' }).info({ to: 'out' }, 'one')
    prodkit.createLogger({ service: 's', destination: 'stderr' }).warn({ to: 'err' }, 'two')
    console.log('{"from":"console"}')`
  const out = await runNode(code)
  assert.equal(out.code, 0, out.stderr)
  const stdout = parseJsonLines(out.stdout)
  assert.deepEqual(stdout.map((l) => l.msg || l.from).sort(), ['console', 'one'])
  const [err] = parseJsonLines(out.stderr)
  assert.deepEqual([err.msg, err.to, err.level], ['two', 'err', 40])
})

test('a file path: parent folders are created, mode is 0640 at most, existing content is appended to', (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'nested', 'deeper', 'app.log')
  const first = prodkit.createLogger({ destination: file, service: 's' })
  first.info('first')
  first.close()
  const mode = fs.statSync(file).mode & 0o777
  assert.equal(mode & ~0o640, 0, `mode ${mode.toString(8)}`)
  const second = prodkit.createLogger({ destination: file, service: 's' })
  second.info('second')
  second.close()
  assert.deepEqual(readJsonLines(file).map((l) => l.msg), ['first', 'second'])
})

test('a relative path is resolved against the working directory', async (t) => {
  const dir = tempDir(t)
  const out = await runNode(`require(${JSON.stringify(ROOT)}).createLogger({ destination: 'logs/rel.log' }).info('relative')`, { cwd: dir })
  assert.equal(out.code, 0, out.stderr)
  assert.equal(readJsonLines(path.join(dir, 'logs', 'rel.log'))[0].msg, 'relative')
})

test('a file descriptor is written to and left open', (t) => {
  const file = path.join(tempDir(t), 'fd.log')
  const fd = fs.openSync(file, 'a')
  t.after(() => fs.closeSync(fd))
  const log = prodkit.createLogger({ destination: fd, service: 's' })
  log.info('via fd')
  log.close()
  fs.writeSync(fd, '{"after":"close"}\n')
  assert.deepEqual(readJsonLines(file).map((l) => l.msg || l.after), ['via fd', 'close'])
})

test('a closed descriptor: one stderr report and one error event with EBADF, counted, never thrown', async () => {
  const code = `
    const fs = require('node:fs')
    const fd = fs.openSync('/dev/null', 'w'); fs.closeSync(fd)
    const log = require('@oj/prodkit').createLogger({ destination: fd })
    const events = []
    log.on('error', (err) => events.push(err.code + ' ' + (err instanceof Error)))
    for (let i = 0; i < 1000; i++) log.info({ i }, 'line')
    log.flush().then(async (ok) => {
      await new Promise((r) => setTimeout(r, 300))
      const s = log.stats()
      console.log(JSON.stringify({ ok, events, failing: s.failing, writeErrors: s.writeErrors }))
      process.exit(0)
    })`
  const out = await runNode(code)
  assert.equal(out.code, 0, out.stderr)
  const result = JSON.parse(out.stdout)
  assert.equal(result.ok, false, 'flush reports the failure instead of hanging')
  assert.deepEqual(result.events, ['EBADF true'])
  assert.equal(result.failing, true)
  assert.ok(result.writeErrors >= 2, 'retried')
  const reports = out.stderr.split('\n').filter((l) => l.includes('prodkit: cannot write the log'))
  assert.equal(reports.length, 1, out.stderr)
  assert.match(reports[0], /fd \d+: .*\(EBADF\)\. Retrying/)
})

test('a full disk (/dev/full, ENOSPC): reported once, the app keeps running, memory stays bounded', async () => {
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: '/dev/full', queueBytes: 65536 })
    let events = 0
    log.on('error', (err) => { if (err.code === 'ENOSPC') events++ })
    for (let i = 0; i < 20000; i++) log.info({ i, pad: 'x'.repeat(100) }, 'line')
    log.flush().then(async (ok) => {
      await new Promise((r) => setTimeout(r, 300))
      const s = log.stats()
      console.log(JSON.stringify({ ok, events, queued: s.queuedBytes, dropped: s.droppedLines }))
      process.exit(0)
    })`
  const out = await runNode(code)
  assert.equal(out.code, 0, out.stderr)
  const r = JSON.parse(out.stdout)
  assert.equal(r.ok, false)
  assert.equal(r.events, 1)
  assert.ok(r.queued <= 65536 * 2 + 200000, `queued ${r.queued}`)
  assert.ok(r.dropped > 0, 'a full queue on a failing destination drops (and counts) instead of blocking the app')
  assert.match(out.stderr, /cannot write the log to \/dev\/full: .*\(ENOSPC\)/)
})

test('no permission (EACCES): reported, retried, and every line arrives once permission is given', async (t) => {
  const dir = tempDir(t)
  const logDir = path.join(dir, 'locked')
  fs.mkdirSync(logDir, { mode: 0o755 })
  fs.chmodSync(dir, 0o755)
  const isRoot = process.getuid() === 0
  // As root, permissions do not apply: run the app as 'nobody' instead.
  if (!isRoot) fs.chmodSync(logDir, 0o555)
  const file = path.join(logDir, 'app.log')
  // 'nobody' may not be able to reach the checkout (under /root, say): give it a copy.
  const pkgDir = isRoot ? copyPackageForNobody(dir) : ROOT
  const code = `
    const log = require(${JSON.stringify(pkgDir)}).createLogger({ destination: ${JSON.stringify(file)} })
    log.on('error', (err) => { console.log('event ' + err.code); process.stdin.resume() })
    for (let i = 0; i < 100; i++) log.info({ i }, 'line')
    process.stdin.on('data', async () => {
      // The parent has fixed the permissions.
      for (let i = 100; i < 200; i++) log.info({ i }, 'line')
      let ok = false
      while (!ok) { ok = await log.flush(); if (!ok) await new Promise((r) => setTimeout(r, 50)) }
      console.log('flushed')
      process.exit(0)
    })`
  const { spawn } = require('node:child_process')
  const child = spawn(process.execPath, ['-e', code], {
    cwd: dir,
    ...(isRoot ? { uid: 65534, gid: 65534 } : {})
  })
  t.after(() => child.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d
      if (stdout.includes('event EACCES') && !stdout.includes('fixed')) {
        stdout += 'fixed'
        if (isRoot) fs.chownSync(logDir, 65534, 65534)
        else fs.chmodSync(logDir, 0o755)
        child.stdin.write('go\n')
      }
    })
    child.on('exit', (codeOut) => (codeOut === 0 ? resolve() : reject(new Error(`exit ${codeOut}: ${stderr}`))))
  })
  assert.match(stdout, /flushed/)
  assert.equal(stderr.match(/cannot write the log/g).length, 1, stderr)
  const lines = readJsonLines(file)
  const ids = lines.filter((l) => l.msg === 'line').map((l) => l.i)
  assert.deepEqual(ids, Array.from({ length: 200 }, (_, i) => i))
  const notice = lines.find((l) => l.errorCode === 'EACCES')
  assert.ok(notice, 'a line in the log itself explains the gap')
  assert.equal(notice.level, 40)
})

test('a log path through a regular file is reported as ENOTDIR (an errno name), not EEXIST', async (t) => {
  const dir = tempDir(t)
  const somefile = path.join(dir, 'somefile')
  fs.writeFileSync(somefile, '')
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(path.join(somefile, 'app.log'))} })
    log.on('error', (err) => { console.log(err.code); process.exit(0) })
    log.info('x')
    setTimeout(() => {}, 20_000) // the error event arrives from the writer thread`
  const out = await runNode(code)
  assert.equal(out.code, 0, out.stderr)
  assert.equal(out.stdout.trim(), 'ENOTDIR')
  assert.match(out.stderr, /\(ENOTDIR\)/)
})

test('lines queued at exit on a failing destination are counted in one stderr line', async () => {
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: '/dev/full' })
    for (let i = 0; i < 1000; i++) log.info({ i }, 'line')`
  const out = await runNode(code, { timeoutMs: 30_000 })
  assert.equal(out.code, 0, out.stderr)
  const counts = out.stderr.split('\n').filter((l) => /^prodkit: \d+ log lines not written to \/dev\/full \(ENOSPC\)$/.test(l))
  assert.equal(counts.length, 1, out.stderr)
  assert.equal(Number(counts[0].match(/\d+/)[0]), 1000)
})

test('lines queued at process.exit() on a failing destination are counted in one stderr line too', async () => {
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: '/dev/full' })
    for (let i = 0; i < 1000; i++) log.info({ i }, 'line')
    process.exit(3)`
  const out = await runNode(code, { timeoutMs: 30_000 })
  assert.equal(out.code, 3, out.stderr)
  assert.match(out.stderr, /^prodkit: 1000 log lines not written to \/dev\/full \(ENOSPC\)$/m)
})

test('a panic on the writer thread: reported once, flush resolves false, every later line counted, exit does not hang', async (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)} })
    const events = []
    log.on('error', (err) => events.push(err.code))
    for (let i = 0; i < 100; i++) log.info({ i }, 'line')
    log.flush().then((ok) => {
      for (let i = 100; i < 150; i++) log.info({ i }, 'line')
      log.flush().then(async (again) => {
        // The event comes from the writer thread through the event loop.
        if (events.length === 0) await new Promise((resolve) => log.once('error', resolve))
        log.close()
        const s = log.stats()
        console.log(JSON.stringify({ ok, again, events, lost: s.lostLines, dropped: s.droppedLines }))
      })
    })`
  const out = await runNode(code, { env: { PRODKIT_TEST_PANIC: 'writer' }, timeoutMs: 30_000 })
  assert.equal(out.code, 0, out.stderr)
  const r = JSON.parse(out.stdout)
  assert.equal(r.ok, false)
  assert.equal(r.again, false)
  assert.deepEqual(r.events, ['ERR_PRODKIT_PANIC'])
  assert.equal(r.lost + r.dropped, 150)
  assert.equal(out.stderr.match(/log writer thread .* failed/g).length, 1, out.stderr)
  assert.match(out.stderr, new RegExp(`prodkit: ${r.lost} log lines not written`))
})

test('a panic on the writer thread without close: the process exits normally', async (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)} })
    for (let i = 0; i < 100; i++) log.info({ i }, 'line')
    setTimeout(() => { for (let i = 0; i < 100; i++) log.info({ i }, 'late') }, 50)`
  const out = await runNode(code, { env: { PRODKIT_TEST_PANIC: 'writer' }, timeoutMs: 30_000 })
  assert.equal(out.code, 0, out.stderr)
  assert.match(out.stderr, /prodkit: 200 log lines not written/)
})

test('a panic on the archive thread: reported once, logging goes on, exit does not hang', async (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const code = `
    const log = require('@oj/prodkit').createLogger({ destination: ${JSON.stringify(file)}, rotate: { size: '16KiB' } })
    // The archive thread's first sweep (where the test hook panics) may come late on a
    // busy machine. Wait for its report.
    const keepAlive = setInterval(() => {}, 1000)
    const reported = new Promise((resolve) => log.on('error', (err) => { if (err.code === 'ERR_PRODKIT_PANIC') resolve() }))
    for (let i = 0; i < 2000; i++) log.info({ i }, 'line')
    log.flush().then(async (ok) => {
      await reported
      clearInterval(keepAlive)
      for (let i = 2000; i < 2100; i++) log.info({ i }, 'line')
      console.log(JSON.stringify({ ok, again: await log.flush(), stats: log.stats() }))
    })`
  // At the process's own priority: an idle-priority thread barely runs on a machine kept
  // busy by other work, and this test is about the panic, not the scheduling.
  const out = await runNode(code, { env: { PRODKIT_TEST_PANIC: 'archive', PRODKIT_COMPRESS_PRIORITY: 'normal' }, timeoutMs: 30_000 })
  assert.equal(out.code, 0, out.stderr)
  const r = JSON.parse(out.stdout)
  assert.equal(r.ok, true)
  assert.equal(r.again, true, 'logging goes on after the archive thread panicked')
  assert.ok(r.stats.rotation.rotations > 0)
  assert.equal(out.stderr.match(/log archive thread .* failed/g).length, 1, out.stderr)
})

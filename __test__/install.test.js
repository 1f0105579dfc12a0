'use strict'
// install(): startup lines, crash capture, graceful shutdown, hooks under time limits,
// process warnings and the event-loop watchdog, each in a real child process.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const prodkit = require('..')
const { ROOT, tempDir, readJsonLines, runNode } = require('./helpers')

// Runs an app that installs prodkit with its log in `file`; `body` follows install().
function runApp (t, body, { options = '{}', env = {}, file = path.join(tempDir(t), 'app.log') } = {}) {
  const code = `
    const LOG_FILE = ${JSON.stringify(file)}
    const prodkit = require('@oj/prodkit')
    const kit = prodkit.install({ service: 'app', log: { destination: LOG_FILE }, ...${options} })
    ${body}`
  return runNode(code, { env: { NODE_ENV: 'production', ...env } }).then((out) => ({ ...out, file, lines: readJsonLines(file) }))
}

test('one startup line with versions and environment; a warn line when NODE_ENV is not production', async (t) => {
  const prod = await runApp(t, '')
  assert.equal(prod.code, 0, prod.stderr)
  assert.equal(prod.lines.length, 1)
  const [start] = prod.lines
  assert.deepEqual(
    [start.msg, start.service, start.appVersion, start.prodkitVersion, start.nodeVersion, start.nodeEnv, start.pid > 0],
    ['prodkit installed', 'app', '0.1.0', prodkit.version, process.version, 'production', true])
  const dev = await runApp(t, '', { env: { NODE_ENV: 'development' } })
  assert.equal(dev.lines.length, 2)
  assert.equal(dev.lines[1].level, 40)
  assert.match(dev.lines[1].msg, /NODE_ENV is "development", not "production": Express and many other modules run much slower/)
  const quiet = await runApp(t, '', { env: { NODE_ENV: '' }, options: '{ productionWarning: false }' })
  assert.equal(quiet.lines.length, 1)
})

test('install() twice registers nothing twice; close() takes every listener off', async (t) => {
  const out = await runApp(t, `
    const events = ['uncaughtException', 'unhandledRejection', 'SIGTERM', 'SIGINT', 'warning']
    const count = () => events.map((e) => process.listenerCount(e))
    const once = count()
    if (prodkit.install({ service: 'other' }) !== kit) throw new Error('not the same kit')
    const twice = count()
    kit.close()
    console.log(JSON.stringify({ once, twice, closed: count() }))`)
  assert.equal(out.code, 0, out.stderr)
  const { once, twice, closed } = JSON.parse(out.stdout)
  assert.deepEqual(twice, once)
  // Node has a 'warning' listener of its own; prodkit adds exactly one of each.
  assert.deepEqual(once.map((n, i) => n - closed[i]), [1, 1, 1, 1, 1])
})

test('a second install() with the same options is silent; with other options it warns once, naming them (not their values)', async (t) => {
  const same = await runApp(t, `
    prodkit.install({ service: 'app', log: { destination: LOG_FILE } })
    setImmediate(() => kit.close())`)
  assert.equal(same.code, 0, same.stderr)
  assert.equal(same.stderr, '')
  assert.deepEqual(same.lines.map((l) => l.msg), ['prodkit installed'])

  const other = await runApp(t, `
    const again = prodkit.install({ service: 'other', log: { destination: LOG_FILE, level: 'debug', secret: undefined } })
    prodkit.install({ service: 'third' })
    if (again !== kit) throw new Error('not the same kit')
    setImmediate(() => kit.close())`)
  assert.equal(other.code, 0, other.stderr)
  const printed = other.stderr.match(/PRODKIT_INSTALL_OPTIONS_IGNORED/g) || []
  assert.equal(printed.length, 1, other.stderr) // Node prints it once: warned once
  assert.match(other.stderr, /install\(\) was called again with other options \(service, log\.level\): they are ignored/)
  assert.doesNotMatch(other.stderr, /debug|third|'other'|"other"/, 'values are not shown')
  const warned = other.lines.filter((l) => l.warning && l.warning.code === 'PRODKIT_INSTALL_OPTIONS_IGNORED')
  assert.equal(warned.length, 1)
  assert.equal(warned[0].level, 40)
  assert.equal(warned[0].service, 'app', 'the first options stay in force')
})

test('uncaught exception: 50,000 lines logged just before are on disk, the fatal line with the stack is last, exit 1', async (t) => {
  const out = await runApp(t, `
    kit.onShutdown(() => new Promise((resolve) => setTimeout(resolve, 50)))
    setImmediate(() => {
      for (let i = 0; i < 50000; i++) kit.log.info({ id: i }, 'before the crash')
      throw new TypeError('kaboom')
    })`)
  assert.equal(out.code, 1, out.stderr)
  const ids = out.lines.filter((l) => l.msg === 'before the crash').map((l) => l.id)
  assert.equal(ids.length, 50000)
  assert.equal(new Set(ids).size, 50000)
  const last = out.lines.at(-1)
  assert.equal(last.level, 60)
  assert.equal(last.msg, 'uncaught exception')
  assert.equal(last.err.type, 'TypeError')
  assert.match(last.err.stack, /TypeError: kaboom\n {4}at Immediate\./)
})

test('exceptions.exitCode sets the exit code', async (t) => {
  const out = await runApp(t, 'setTimeout(() => { throw new Error("x") }, 10)', { options: '{ exceptions: { exitCode: 7 } }' })
  assert.equal(out.code, 7)
})

test('unhandled rejection: fatal and exit 1 by default; with "warn" it is logged and the process keeps running', async (t) => {
  // Kept alive by an interval, so that only the rejection can end it (a timer that prints
  // would race the shutdown on a loaded machine).
  const crash = await runApp(t, 'Promise.reject(new RangeError("nope")); setInterval(() => console.log("still here"), 60000)')
  assert.equal(crash.code, 1)
  assert.equal(crash.stdout, '')
  assert.deepEqual([crash.lines.at(-1).level, crash.lines.at(-1).msg, crash.lines.at(-1).err.type], [60, 'unhandled promise rejection', 'RangeError'])
  const nonError = await runApp(t, 'Promise.reject("just a string")')
  assert.equal(nonError.code, 1)
  assert.match(nonError.lines.at(-1).err.message, /non-error rejection: just a string/)
  const warn = await runApp(t, 'Promise.reject(new Error("ignored")); setTimeout(() => console.log("still here"), 100)',
    { options: "{ exceptions: { unhandledRejection: 'warn' } }" })
  assert.equal(warn.code, 0, warn.stderr)
  assert.equal(warn.stdout.trim(), 'still here')
  assert.equal(warn.lines.at(-1).level, 50)
  assert.match(warn.lines.at(-1).msg, /unhandled promise rejection \(the process keeps running/)
})

// Starts an app, waits for "ready" on stdout, sends `signal`, resolves with the result.
function signalApp (t, body, signal, { options = '{}' } = {}) {
  const file = path.join(tempDir(t), 'app.log')
  const child = spawn(process.execPath, ['-e', `
    const prodkit = require('@oj/prodkit')
    const kit = prodkit.install({ service: 'app', log: { destination: ${JSON.stringify(file)} }, ...${options} })
    ${body}
    setInterval(() => {}, 1000)
    console.log('ready')`], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' } })
  t.after(() => child.kill('SIGKILL'))
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  return new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      stdout += d
      if (stdout.startsWith('ready\n') && !child.signalled) {
        child.signalled = true
        child.kill(signal)
      }
    })
    child.on('exit', (code, sig) => resolve({ code, signal: sig, stdout, stderr, lines: readJsonLines(file) }))
  })
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal}: shutdown hooks run in order, buffered lines are written, exit 0`, async (t) => {
    const out = await signalApp(t, `
      kit.onShutdown(async () => { await new Promise((r) => setTimeout(r, 20)); kit.log.info('server closed') }, { name: 'server' })
      kit.onShutdown(() => kit.log.info('db closed'))`, signal)
    assert.equal(out.code, 0, out.stderr)
    assert.deepEqual(out.lines.slice(1).map((l) => l.msg), [`${signal} received: shutting down`, 'server closed', 'db closed'])
  })
}

test('a hook that never resolves is cut off at its own limit, and the next hook still runs', async (t) => {
  const out = await signalApp(t, `
    kit.onShutdown(() => new Promise(() => {}), { name: 'stuck', timeoutMs: 100 })
    kit.onShutdown(() => kit.log.info('after the stuck hook'))`, 'SIGTERM')
  assert.equal(out.code, 0, out.stderr)
  const msgs = out.lines.map((l) => l.msg)
  assert.ok(msgs.includes('shutdown hook stuck did not finish within 100 ms: cut off'), msgs.join('\n'))
  assert.equal(msgs.at(-1), 'after the stuck hook')
})

test('all hooks together are cut off at exceptions.shutdownTimeoutMs', async (t) => {
  const out = await signalApp(t, `
    kit.onShutdown(() => new Promise(() => {}), { name: 'first' })
    kit.onShutdown(() => kit.log.info('never reached'))`, 'SIGTERM', { options: '{ exceptions: { shutdownTimeoutMs: 200 } }' })
  assert.equal(out.code, 0, out.stderr)
  const msgs = out.lines.map((l) => l.msg)
  assert.ok(!msgs.includes('never reached'))
  assert.ok(msgs.some((m) => /did not finish within|shutdown took longer than 200 ms/.test(m)), msgs.join('\n'))
})

test('a hook that throws is logged and the others still run', async (t) => {
  const out = await signalApp(t, `
    kit.onShutdown(() => { throw new Error('hook broke') }, { name: 'broken' })
    kit.onShutdown(() => kit.log.info('second hook'))`, 'SIGTERM')
  assert.equal(out.code, 0)
  const failed = out.lines.find((l) => l.msg === 'shutdown hook broken failed')
  assert.equal(failed.err.message, 'hook broke')
  assert.equal(out.lines.at(-1).msg, 'second hook')
})

test('a second error during shutdown does not hang: it is logged and the process exits', async (t) => {
  const out = await runApp(t, `
    kit.onShutdown(() => new Promise(() => { setTimeout(() => { throw new Error('second') }, 20) }))
    setTimeout(() => { throw new Error('first') }, 10)`, { options: '{ exceptions: { shutdownTimeoutMs: 60000 } }' })
  assert.equal(out.code, 1)
  const fatal = out.lines.filter((l) => l.level === 60)
  assert.deepEqual(fatal.map((l) => [l.msg, l.err.message]), [['uncaught exception', 'first'], ['uncaught exception during shutdown', 'second']])
})

test('a second SIGTERM during a slow shutdown exits at once', async (t) => {
  const file = path.join(tempDir(t), 'app.log')
  const child = spawn(process.execPath, ['-e', `
    const kit = require('@oj/prodkit').install({ log: { destination: ${JSON.stringify(file)} }, exceptions: { shutdownTimeoutMs: 60000 } })
    kit.onShutdown(() => { console.log('in hook'); return new Promise(() => {}) })
    setInterval(() => {}, 1000)
    console.log('ready')`], { cwd: ROOT })
  t.after(() => child.kill('SIGKILL'))
  let stdout = ''
  child.stdout.on('data', (d) => {
    stdout += d
    if (stdout === 'ready\n') child.kill('SIGTERM')
    if (stdout === 'ready\nin hook\n') child.kill('SIGTERM')
  })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  assert.equal(code, 143)
  assert.equal(readJsonLines(file).at(-1).msg, 'SIGTERM again during shutdown: exiting now')
})

test('kit.shutdown() runs the hooks and exits with the given code', async (t) => {
  const out = await runApp(t, `
    kit.onShutdown(() => kit.log.info('hook'))
    kit.shutdown('deploy', { exitCode: 3 })`)
  assert.equal(out.code, 3)
  assert.deepEqual(out.lines.slice(1).map((l) => l.msg), ['shutting down: deploy', 'hook'])
})

test("process 'warning' events are logged at warn", async (t) => {
  const out = await runApp(t, "process.emitWarning('something is deprecated', { code: 'DEP_X', type: 'DeprecationWarning' })")
  const line = out.lines.find((l) => l.msg === 'process warning: something is deprecated')
  assert.equal(line.level, 40)
  assert.deepEqual([line.warning.name, line.warning.code], ['DeprecationWarning', 'DEP_X'])
})

test('the watchdog writes a line while the event loop is still blocked, and another when it recovers', async (t) => {
  // The app blocks its own loop until it can read the watchdog's line from the log file:
  // it can only see it if a thread other than the JS thread wrote it.
  const out = await runApp(t, `
    const fs = require('node:fs')
    setTimeout(() => {
      const start = Date.now()
      let seen = false
      while (!seen && Date.now() - start < 20000) seen = fs.readFileSync(LOG_FILE, 'utf8').includes('event loop blocked')
      console.log(seen ? 'seen while blocked' : 'not seen')
      setTimeout(() => kit.close(), 300)
    }, 100)`, { options: '{ watchdog: { blockedMs: 200 } }' })
  assert.equal(out.code, 0, out.stderr)
  assert.equal(out.stdout.trim(), 'seen while blocked')
  const blocked = out.lines.find((l) => /event loop blocked for \d+ ms/.test(l.msg))
  const recovered = out.lines.find((l) => /event loop unblocked after \d+ ms/.test(l.msg))
  assert.equal(blocked.level, 50)
  assert.ok(blocked.blockedMs >= 200)
  assert.equal(recovered.level, 40)
  assert.ok(recovered.blockedMs >= blocked.blockedMs)
  assert.equal(blocked.service, 'app')
})

test('watchdog.abortAfterMs ends a hung process (SIGABRT) after logging why', async (t) => {
  const out = await runApp(t, 'setTimeout(() => { for (;;) {} }, 50)', { options: '{ watchdog: { blockedMs: 100, abortAfterMs: 400 } }' })
  assert.equal(out.signal, 'SIGABRT')
  const last = out.lines.at(-1)
  assert.equal(last.level, 60)
  assert.match(last.msg, /event loop blocked for \d+ ms: aborting the process/)
})

test('invalid install options throw a TypeError naming the option', () => {
  const cases = [
    [{ exceptions: { exitCode: 0 } }, /option exceptions.exitCode must be an integer from 1 to 255 \(got 0\)/],
    [{ exceptions: { unhandledRejection: 'ignore' } }, /option exceptions.unhandledRejection must be 'exit' or 'warn' \(got "ignore"\)/],
    [{ exceptions: 'yes' }, /option exceptions must be an object, or false to turn it off/],
    [{ watchdog: { blockedMs: 5 } }, /option watchdog.blockedMs must be an integer from 20/],
    [{ watchdog: { blockedMs: 1000, abortAfterMs: 10 } }, /option watchdog.abortAfterMs must be an integer from 1000/],
    [{ watchdog: { blocked: 1 } }, /unknown option watchdog.blocked \(known: blockedMs, abortAfterMs\)/],
    [{ signals: 'no' }, /option signals must be true or false/],
    [{ services: "x" }, /unknown option services \(known: service, log, metrics, exceptions, signals, watchdog, productionWarning\)/],
    [{ service: '' }, /option service must be a non-empty string/],
    [{ log: { level: 'loud' } }, /option log.level must be one of/]
  ]
  for (const [options, message] of cases) {
    assert.throws(() => prodkit.install(options), { name: 'TypeError', message }, JSON.stringify(options))
  }
  assert.equal(prodkit.log, undefined, 'a failed install leaves nothing installed')
})

test('onShutdown rejects what is not a function, with a TypeError', async (t) => {
  const out = await runApp(t, `
    try { kit.onShutdown('x') } catch (e) { console.log(e.name + ': ' + e.message) }
    try { kit.onShutdown(() => {}, { timeoutMs: -1 }) } catch (e) { console.log(e.name + ': ' + e.message) }`)
  assert.equal(out.stdout, 'TypeError: prodkit: option onShutdown(fn) must be a function (got "x")\n' +
    'TypeError: prodkit: option onShutdown options.timeoutMs must be an integer from 1 to 600000 (got -1)\n')
})

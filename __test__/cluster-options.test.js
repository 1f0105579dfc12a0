'use strict'
// cluster() options are validated before anything is forked, with TypeErrors that name the
// option; the backoff and crash-loop arithmetic, with an explicit clock.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const prodkit = require('..')
const { resolveClusterOptions, parseBytes } = require('../lib/cluster/options')
const { restartDelay, CrashWindow } = require('../lib/cluster/backoff')
const { runNode } = require('./helpers')

const APP = path.join(__dirname, 'fixtures', 'cluster', 'app.js')

test('defaults, and start as a function or a module path resolved from the working directory', () => {
  const fn = () => {}
  const options = resolveClusterOptions({ start: fn })
  assert.equal(options.start.fn, fn)
  assert.equal(options.workers, 'auto')
  assert.equal(options.readyTimeoutMs, 30_000)
  assert.equal(options.drainTimeoutMs, 10_000)
  assert.deepEqual(options.restart, { baseMs: 100, factor: 2, maxMs: 30_000, stableMs: 30_000 })
  assert.deepEqual(options.crashLoop, { crashes: 10, windowMs: 60_000 })
  assert.equal(options.memoryLimit, undefined)
  assert.equal(resolveClusterOptions({ start: 'fixtures/cluster/app.js' }, { cwd: __dirname }).start.file, APP)
  assert.equal(resolveClusterOptions({ start: 'fixtures/cluster/app' }, { cwd: __dirname }).start.file, APP)
  assert.equal(resolveClusterOptions({ start: fn, crashLoop: false }).crashLoop, false)
  assert.deepEqual(resolveClusterOptions({ start: fn, restart: { baseMs: 50 } }).restart, { baseMs: 50, factor: 2, maxMs: 30_000, stableMs: 30_000 })
})

test('memoryLimit takes bytes or a size with a unit of 1024', () => {
  assert.equal(parseBytes('memoryLimit', '512MB'), 512 * 1024 ** 2)
  assert.equal(parseBytes('memoryLimit', '1.5 GiB'), 1.5 * 1024 ** 3)
  assert.equal(parseBytes('memoryLimit', '65536kb'), 64 * 1024 ** 2)
  assert.equal(parseBytes('memoryLimit', 20_000_000), 20_000_000)
})

test('bad options throw a TypeError naming the option, before anything is forked', () => {
  const start = () => {}
  const cases = [
    [undefined, /option cluster\(options\) must be an object with at least `start` \(got undefined\)/],
    [{}, /option start must be a function or the path of a module \(got undefined\)/],
    [{ start: 42 }, /option start must be a function or the path of a module \(got 42\)/],
    [{ start: 'no/such/app.js' }, /option start must be a function or the path of a module \(no module at ".*no\/such\/app.js"\)/],
    [{ start, workers: 0 }, /option workers must be an integer from 1 to 1024 \(got 0\)/],
    [{ start, workers: 'all' }, /option workers must be an integer from 1 to 1024 \(got "all"\)/],
    [{ start, readyTimeoutMs: -1 }, /option readyTimeoutMs must be an integer from 1 to 3600000/],
    [{ start, drainTimeoutMs: 1.5 }, /option drainTimeoutMs must be an integer/],
    [{ start, restart: 'fast' }, /option restart must be an object \(got "fast"\)/],
    [{ start, restart: { factor: 0.5 } }, /option restart.factor must be a number from 1 to 100 \(got 0.5\)/],
    [{ start, restart: { baseMs: 500, maxMs: 100 } }, /option restart.maxMs must be an integer from 500 to 3600000 \(got 100\)/],
    [{ start, restart: { delay: 1 } }, /unknown option restart.delay \(known: baseMs, factor, maxMs, stableMs\)/],
    [{ start, crashLoop: { crashes: 0 } }, /option crashLoop.crashes must be an integer from 1/],
    [{ start, memoryLimit: '12 parsecs' }, /option memoryLimit must be a byte count of at least 16 MiB: an integer or a string such as '512MB' \(got "12 parsecs"\)/],
    [{ start, memoryLimit: 1024 }, /option memoryLimit must be a byte count of at least 16 MiB/],
    [{ start, waitReady: 'yes' }, /option waitReady must be true or false/],
    [{ start, args: ['--port', 3] }, /option args must be an array of strings/],
    [{ start, install: 'yes' }, /option install must be an object/],
    [{ start, control: true }, /option control must be false, or an object \{ name, dir \} \(got true\)/],
    [{ start, control: { name: '' } }, /option control.name must be a non-empty string \(got ""\)/],
    [{ start, control: { path: '/tmp/x' } }, /unknown option control.path \(known: name, dir\)/],
    [{ start, wokers: 2 }, /unknown option wokers \(known: workers, start,/]
  ]
  for (const [options, message] of cases) {
    assert.throws(() => prodkit.cluster(options), (err) => err instanceof TypeError && message.test(err.message), JSON.stringify(options))
  }
})

test('from the CLI (prodkit run), errors name the flags and the app argument, never the API option names', () => {
  const { spawnSync } = require('node:child_process')
  const CLI = path.join(__dirname, '..', 'bin', 'prodkit')
  const cases = [
    [['--workers', 'many', APP], /--workers \(-i\) must be auto or an integer from 1 to 1024 \(got "many"\)/],
    [['--workers', '0', APP], /--workers \(-i\) must be auto or an integer from 1 to 1024 \(got 0\)/],
    [['-i', 'four', APP], /--workers \(-i\) must be auto or an integer from 1 to 1024 \(got "four"\)/],
    [['--ready-timeout', '0', APP], /--ready-timeout must be an integer from 1 to 3600000 \(got 0\)/],
    [['--drain-timeout', 'soon', APP], /--drain-timeout must be an integer from 1 to 3600000 \(got "soon"\)/],
    [['--memory-limit', '1KB', APP], /--memory-limit must be a byte count of at least 16 MiB/],
    [['no/such/app.js'], /the app to run \(<app.js>\) must be the path of a module \(no module at ".*no\/such\/app.js"\)/]
  ]
  for (const [args, message] of cases) {
    const out = spawnSync(process.execPath, [CLI, 'run', ...args], { encoding: 'utf8' })
    assert.equal(out.status, 2, `${args.join(' ')}: ${out.stderr}`)
    const [first] = out.stderr.split('\n')
    assert.match(first, message, args.join(' '))
    assert.doesNotMatch(first, /option (start|workers|readyTimeoutMs|drainTimeoutMs|memoryLimit|waitReady|args)\b/, args.join(' '))
  }
  // The API keeps its option names.
  assert.throws(() => resolveClusterOptions({ start: APP, workers: 'many' }), /option workers must be an integer from 1 to 1024/)
  assert.throws(() => resolveClusterOptions({ start: APP, drainTimeoutMs: 'soon' }), /option drainTimeoutMs must be/)
})

test('start as a function needs an entry file for the workers to run (not node -e)', async () => {
  const out = await runNode("require('@oj/prodkit').cluster({ start: () => {} })")
  assert.equal(out.code, 1)
  assert.match(out.stderr, /TypeError: prodkit: option start must be the path of a module when the primary does not run from a file/)
})

test('restart delays: immediate first restart, then base × factor^n up to the cap', () => {
  const restart = { baseMs: 100, factor: 2, maxMs: 1000 }
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelay(n, restart)), [0, 100, 200, 400, 800, 1000, 1000])
  assert.deepEqual([1, 2, 3].map((n) => restartDelay(n, { baseMs: 50, factor: 1, maxMs: 50 })), [0, 50, 50])
})

test('crash loop: N crashes within the window, older ones slide out', () => {
  const window = new CrashWindow({ crashes: 3, windowMs: 1000 })
  assert.equal(window.record(0), false)
  assert.equal(window.record(500), false)
  assert.equal(window.record(1000), false) // the crash at 0 is out of the window
  assert.equal(window.count, 2)
  assert.equal(window.record(1400), true)
})

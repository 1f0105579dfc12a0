'use strict'
// systemd: the unit `prodkit startup systemd` prints passes `systemd-analyze verify`, and
// the notifications (READY, RELOADING, STOPPING, WATCHDOG) that the addon sends arrive on
// a real unix datagram socket given as NOTIFY_SOCKET, from the primary's pid only.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, tempDir, runNode, waitFor } = require('./helpers')
const { startCluster, FIXTURES } = require('./cluster-harness')

const CLI = path.join(ROOT, 'bin', 'prodkit')
const RECEIVER = path.join(__dirname, 'fixtures', 'notify-receiver.py')

function hasCommand (name) {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0
}

// CI installs every tool the tests need (.ci/run): there a missing one is a failure.
function needs (t, command) {
  if (hasCommand(command)) return true
  if (process.env.CI) assert.fail(`${command} is required in CI (.ci/run installs it)`)
  t.skip(`${command} is not installed`)
  return false
}

function startReceiver (t, address) {
  const child = spawn('python3', [RECEIVER, address], { stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => child.stdin.end())
  const messages = []
  let buffered = ''
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const bound = new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`notify receiver exited (${code}): ${stderr}`)))
    child.stdout.setEncoding('utf8').on('data', (d) => {
      buffered += d
      let nl
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (line === 'bound') resolve()
        else messages.push(JSON.parse(line))
      }
    })
  })
  return { bound, messages }
}

test('the printed unit has every directive, and systemd-analyze verify accepts it', (t) => {
  if (!needs(t, 'systemd-analyze')) return
  const dir = tempDir(t, 'prodkit-unit')
  fs.mkdirSync(path.join(dir, 'logs'))
  fs.writeFileSync(path.join(dir, 'server.js'), '')
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"@shop/checkout"}')
  const own = installedCopy(dir)
  const out = spawnSync(CLI, ['startup', 'systemd', '--user', 'checkout', '--cwd', dir, '--entry', 'server.js', '--watchdog-sec', '30'], { encoding: 'utf8' })
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stderr, '')
  const unit = out.stdout
  for (const line of [
    'Type=notify', 'NotifyAccess=main', 'User=checkout', `WorkingDirectory=${dir}`, 'Environment=NODE_ENV=production',
    `ExecStart=${process.execPath} ${own} run --workers auto server.js`,
    'ExecReload=/bin/kill -HUP $MAINPID', 'KillMode=mixed', 'TimeoutStopSec=30', 'Restart=always', 'WatchdogSec=30',
    'NoNewPrivileges=true', 'ProtectSystem=strict', `ReadWritePaths=${path.join(dir, 'logs')}`, 'PrivateTmp=true',
    'SyslogIdentifier=checkout', 'WantedBy=multi-user.target',
    'Environment=PRODKIT_RUNTIME_DIR=/run/checkout', 'RuntimeDirectory=checkout', 'RuntimeDirectoryMode=0700'
  ]) {
    assert.ok(unit.split('\n').includes(line), `${line}\n---\n${unit}`)
  }
  const file = path.join(dir, 'checkout.service')
  fs.writeFileSync(file, unit)
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' })
  // verify exits 0 on many problems it only warns about: no output at all is the test.
  assert.equal(verify.status, 0, verify.stderr)
  assert.equal(verify.stderr + verify.stdout, '')
})

// An installed @oj/prodkit in `dir`/node_modules, as npm puts it there (another copy than
// the one running the tests). Returns the path of its CLI.
function installedCopy (dir) {
  const root = path.join(dir, 'node_modules', '@oj', 'prodkit')
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true })
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: '@oj/prodkit', version: '0.1.0', bin: { prodkit: 'bin/prodkit' } }))
  fs.copyFileSync(CLI, path.join(root, 'bin', 'prodkit'))
  return path.join(root, 'bin', 'prodkit')
}

test('startup systemd points at the app\'s own installed prodkit (in its folder or one above), else at this copy, saying so', (t) => {
  const base = tempDir(t, 'prodkit-unit')
  const unitFor = (cwd) => spawnSync(process.execPath, [CLI, 'startup', 'systemd', '--user', 'app', '--cwd', cwd, '--entry', 'server.js', '--name', 'app'], { encoding: 'utf8', cwd: ROOT })
  const execStart = (unit) => unit.split('\n').find((l) => l.startsWith('ExecStart='))

  const app = path.join(base, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'server.js'), '')
  const none = unitFor(app)
  assert.equal(none.status, 0, none.stderr)
  assert.equal(execStart(none.stdout), `ExecStart=${process.execPath} ${fs.realpathSync(CLI)} run --workers auto server.js`)
  assert.match(none.stderr, /has no @oj\/prodkit of its own .*the unit runs this copy, .*npm install @oj\/prodkit/)
  assert.match(none.stdout, /^# The app had no prodkit of its own/m)

  const own = installedCopy(app)
  const found = unitFor(app)
  assert.equal(found.status, 0, found.stderr)
  assert.equal(found.stderr, '')
  assert.equal(execStart(found.stdout), `ExecStart=${process.execPath} ${own} run --workers auto server.js`)
  assert.match(found.stdout, /^# It runs the app's own prodkit/m)

  // A workspace: the package is hoisted to the root's node_modules, above the app's folder.
  const workspace = path.join(base, 'monorepo')
  const service = path.join(workspace, 'services', 'api')
  fs.mkdirSync(service, { recursive: true })
  fs.writeFileSync(path.join(service, 'server.js'), '')
  const hoisted = installedCopy(workspace)
  const above = unitFor(service)
  assert.equal(above.stderr, '')
  assert.equal(execStart(above.stdout), `ExecStart=${process.execPath} ${hoisted} run --workers auto server.js`)
})

test('systemd-analyze verify also accepts paths with spaces and % (escaped as %%)', (t) => {
  if (!needs(t, 'systemd-analyze')) return
  const dir = path.join(tempDir(t, 'prodkit-unit'), 'my app %h')
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true })
  const node = path.join(dir, 'node bin')
  fs.copyFileSync(process.execPath, node)
  fs.chmodSync(node, 0o755)
  const out = spawnSync(CLI, ['startup', 'systemd', '--user', 'app', '--cwd', dir, '--entry', 'server.js', '--name', 'app', '--node', node], { encoding: 'utf8' })
  assert.equal(out.status, 0, out.stderr)
  assert.match(out.stderr, /server.js does not exist \(yet\)/)
  const file = path.join(path.dirname(dir), 'app.service')
  fs.writeFileSync(file, out.stdout)
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' })
  assert.equal(verify.status, 0, verify.stderr)
  assert.equal(verify.stderr, '')
  // Unescaped, %h would be the home folder and the command would not be found.
  fs.writeFileSync(file, out.stdout.replaceAll('%%', '%'))
  assert.notEqual(spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' }).status, 0)
})

test('startup systemd refuses root, missing options and unknown init systems with exit code 2', () => {
  const cases = [
    [['startup', 'systemd', '--user', 'root', '--cwd', '/srv/app', '--entry', 'a.js'], /--user must not be root/],
    [['startup', 'systemd', '--user', 'app', '--cwd', '/srv/app'], /--entry is required/],
    [['startup', 'systemd', '--user', 'a b', '--cwd', '/srv/app', '--entry', 'a.js'], /--user must be a user name/],
    [['startup', 'systemd', '--user', 'app', '--cwd', '/srv/app', '--entry', 'a.js', '--timeout-stop-sec', 'soon'], /--timeout-stop-sec must be a whole number/],
    [['startup', 'systemd', '--user', 'app', '--cwd', '/srv/app', '--entry', 'a.js', '--colour'], /Unknown option '--colour'/],
    [['startup', 'upstart'], /unknown init system "upstart"/],
    [['run'], /the app to run is missing/],
    [['run', '--workers', 'many', path.join(FIXTURES, 'app.js')], /prodkit run: --workers \(-i\) must be auto or an integer from 1 to 1024 \(got "many"\)/],
    [['run', '--bogus', 'app.js'], /Unknown option '--bogus'/],
    [['run', 'no-such-app.js'], /prodkit run: the app to run \(<app.js>\) must be the path of a module \(no module at/]
  ]
  for (const [args, message] of cases) {
    const out = spawnSync(CLI, args, { encoding: 'utf8', cwd: ROOT })
    assert.equal(out.status, 2, `${args.join(' ')}: ${out.stderr}`)
    assert.match(out.stderr, message)
    assert.match(out.stderr, /Usage: prodkit/)
  }
})

test('prodkit run notifies READY, RELOADING + READY on SIGHUP, STOPPING on SIGTERM, and WATCHDOG, from the primary only', async (t) => {
  if (!needs(t, 'python3')) return
  const socket = path.join(tempDir(t, 'prodkit-notify'), 'notify.sock')
  const receiver = startReceiver(t, socket)
  await receiver.bound
  const c = startCluster(t, {
    command: ({ logFile }) => [CLI, 'run', '--workers', '2', '--log', logFile, path.join(FIXTURES, 'app.js')],
    env: { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '100000' }
  })
  const states = () => receiver.messages.map((m) => m.state)
  await c.waitFor(() => states().some((s) => s.startsWith('READY=1')), 'READY=1')
  // READY=1 is sent at once; the primary's log lines reach the file a little later (the
  // writer thread): wait for the line, never read the file right after the datagram.
  const lines = await c.waitFor((lines) => c.primaryLines(lines, /^cluster ready:/).length === 1 && lines, 'the "cluster ready" line')
  const msgs = lines.map((l) => l.msg)
  const readyLines = c.primaryLines(lines.slice(0, msgs.findIndex((m) => /^cluster ready:/.test(m))), /^worker \d+ ready$/)
  assert.equal(readyLines.length, 2) // ready means every worker
  c.child.kill('SIGHUP')
  await c.waitFor(() => states().filter((s) => s.startsWith('READY=1')).length === 2, 'READY=1 after the reload')
  await c.waitFor(() => states().includes('WATCHDOG=1'), 'WATCHDOG=1')
  c.child.kill('SIGTERM')
  assert.equal((await c.exited).code, 0, c.stderr)
  await c.waitFor(() => states().includes('STOPPING=1'), 'STOPPING=1', { whileRunning: false })

  const lifecycle = states().filter((s) => s !== 'WATCHDOG=1')
  assert.deepEqual(lifecycle.map((s) => s.split('\n')[0]), ['READY=1', 'RELOADING=1', 'READY=1', 'STOPPING=1'])
  assert.equal(lifecycle[0], 'READY=1\nSTATUS=2 workers serving')
  assert.match(lifecycle[1], /^RELOADING=1\nMONOTONIC_USEC=\d+$/)
  assert.deepEqual(new Set(receiver.messages.map((m) => m.pid)), new Set([c.child.pid]))
  // The workers were not given the socket: only the primary may notify.
  await c.waitFor((lines) => lines.filter((l) => l.msg === 'listening').length === 4, '4 "listening" lines', { whileRunning: false })
})

test('prodkit.ready() in a plain process sends READY=1 to an abstract socket (@name); failures never throw', async (t) => {
  if (!needs(t, 'python3')) return
  const name = `@prodkit-test-${process.pid}-${Date.now()}`
  const receiver = startReceiver(t, name)
  await receiver.bound
  const out = await runNode(`
    const prodkit = require('@oj/prodkit')
    const sent = prodkit.ready()
    process.env.NOTIFY_SOCKET = '/nonexistent/notify'
    const failed = prodkit.ready()
    process.env.NOTIFY_SOCKET = 'relative/socket'
    const refused = prodkit.ready()
    delete process.env.NOTIFY_SOCKET
    console.log(JSON.stringify({ sent, failed, refused, absent: prodkit.ready(), pid: process.pid }))`, { env: { NOTIFY_SOCKET: name } })
  assert.equal(out.code, 0, out.stderr)
  const result = JSON.parse(out.stdout)
  assert.deepEqual(result, { sent: true, failed: false, refused: false, absent: false, pid: result.pid })
  await waitFor(() => receiver.messages.length > 0, { what: 'the READY=1 datagram' })
  assert.deepEqual(receiver.messages, [{ pid: result.pid, state: 'READY=1' }])
})

'use strict'
// Runs the config `prodkit startup nginx` prints in a real nginx for the tests: a foreground
// master on loopback ports, in an http {} wrapper that includes the printed file as conf.d
// would, with its temp paths, pid and logs in a test's own folder; the apps behind it; and
// a plain HTTP client. Every wait is for a condition (a port that accepts, a line), never
// for an amount of time; the limits only end a test that is broken. Shared by nginx.test.js,
// trust-proxy.test.js and nginx-reload.test.js.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const net = require('node:net')
const http = require('node:http')
const https = require('node:https')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, completeLines, waitFor, freePort } = require('./helpers')

const CLI = path.join(ROOT, 'bin', 'prodkit')
const APP = path.join(__dirname, 'fixtures', 'nginx-app.js')
const WAIT = { timeoutMs: 60_000 }

// A temporary folder for nginx and the app, removed once the processes started in it
// (stopped in reverse order) have exited: t.after hooks run in the order they were added,
// so the folder's own hook must come last, which a tempDir() made first cannot.
function workspace (t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-nginx-'))
  const stops = []
  t.after(async () => {
    for (const stop of stops.reverse()) await stop()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { dir, onCleanup: (stop) => stops.push(stop) }
}

// Ends a child: SIGTERM, then SIGKILL if it is still there after 20 s.
function stopper (child) {
  let exited = child.exitCode !== null || child.signalCode !== null
  const exit = new Promise((resolve) => {
    if (exited) resolve()
    child.on('exit', () => { exited = true; resolve() })
  })
  const stop = async () => {
    if (exited) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await exit
    clearTimeout(timer)
  }
  return { stop, exited: () => exited }
}

function nginxBinary () {
  const found = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' })
  if (found.status === 0) return found.stdout.trim()
  return fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined
}
const NGINX = nginxBinary()

// CI installs nginx (.ci/run): there a missing one is a failure.
function needsNginx (t) {
  if (NGINX) return true
  if (process.env.CI) assert.fail('nginx is required in CI (.ci/run installs it)')
  t.skip('nginx is not installed (apt-get install nginx)')
  return false
}

function cli (args, options = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, ...options })
}

// The printed config, which must come with exit code 0 and nothing on stderr.
function generate (args, options) {
  const out = cli(['startup', 'nginx', ...args], options)
  assert.equal(out.status, 0, out.stderr)
  assert.equal(out.stderr, '')
  return out.stdout
}

// nginx.conf for a prefix folder `dir`: the http {} block of a distribution's nginx.conf
// (mime types, temp paths inside `dir`) including the generated file as conf.d/*.conf is.
// As root the workers run as root too (the test's files are in a private /tmp folder).
function writeNginxConf (dir, generated) {
  const snippet = path.join(dir, 'conf.d', 'app.conf')
  fs.mkdirSync(path.dirname(snippet), { recursive: true })
  fs.writeFileSync(snippet, generated)
  const temp = path.join(dir, 'temp')
  fs.mkdirSync(temp, { recursive: true })
  const mime = fs.existsSync('/etc/nginx/mime.types')
    ? 'include /etc/nginx/mime.types;'
    : 'types { text/html html; text/css css; application/javascript js; text/plain txt; }'
  const conf = path.join(dir, 'nginx.conf')
  fs.writeFileSync(conf, [
    process.getuid && process.getuid() === 0 ? `user ${os.userInfo().username};` : '',
    'worker_processes 1;',
    'events { worker_connections 256; }',
    'http {',
    `  ${mime}`,
    '  default_type application/octet-stream;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${path.join(temp, k)};`),
    `  include ${snippet};`,
    '}',
    ''
  ].join('\n'))
  return conf
}

function globals (dir) {
  return `pid ${path.join(dir, 'nginx.pid')}; error_log ${path.join(dir, 'error.log')} notice;`
}

function nginxTest (dir, conf) {
  return spawnSync(NGINX, ['-t', '-p', dir + '/', '-c', conf, '-g', globals(dir)], { encoding: 'utf8' })
}

function canConnect (port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

// A foreground nginx master on the generated config; resolves once every port accepts.
async function startNginx (ws, generated, ports) {
  const { dir } = ws
  const conf = writeNginxConf(dir, generated)
  const checked = nginxTest(dir, conf)
  assert.equal(checked.status, 0, checked.stderr)
  const child = spawn(NGINX, ['-p', dir + '/', '-c', conf, '-g', `daemon off; ${globals(dir)}`], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const { stop, exited } = stopper(child)
  ws.onCleanup(stop)
  for (const port of ports) {
    await waitFor(async () => {
      if (exited()) {
        const log = fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8') : ''
        throw new Error(`nginx exited: ${stderr}${log}`)
      }
      return canConnect(port)
    }, { ...WAIT, what: `nginx on port ${port}` })
  }
  return child
}

// The Express app of fixtures/nginx-app.js on `port`, logging to `logFile`. stop() ends it.
// `app`: another app file, run with the same arguments; `env`: added to the environment.
async function startApp (ws, port, logFile, { app = APP, env = {} } = {}) {
  const child = spawn(process.execPath, [app, String(port), logFile], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const { stop, exited } = stopper(child)
  ws.onCleanup(stop)
  await waitFor(() => {
    if (exited()) throw new Error(`the app exited: ${stderr}`)
    return stdout.includes('listening\n')
  }, { ...WAIT, what: 'the app to listen' })
  return { stop }
}

// One request on a new connection: { status, headers, body (Buffer) }. `body`: sent with
// POST.
function request (url, { headers = {}, body, ...options } = {}) {
  const client = url.startsWith('https:') ? https : http
  return new Promise((resolve, reject) => {
    const req = client.request(url, { agent: false, headers, method: body === undefined ? 'GET' : 'POST', ...options }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), socket: res.socket }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(60_000, () => req.destroy(new Error(`no answer from ${url}`)))
    req.end(body)
  })
}

const lines = completeLines

module.exports = { CLI, WAIT, NGINX, workspace, stopper, needsNginx, cli, generate, freePort, writeNginxConf, nginxTest, startNginx, startApp, request, lines, canConnect }

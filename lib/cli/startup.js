'use strict'
// `prodkit startup systemd --user U --cwd DIR --entry app.js`: prints a systemd unit that
// runs the app clustered under `prodkit run` (see lib/systemd/unit.js).
// `prodkit startup nginx [options]`: prints an nginx config in front of it (lib/nginx/).

const fs = require('node:fs')
const path = require('node:path')
const { withUsage, printGenerated, UsageError } = require('./args')
const { packageAbove } = require('../app-package')
const { systemdUnit } = require('../systemd/unit')
const nginx = require('../nginx/cli')

const USAGE = `Usage: prodkit startup systemd --user USER --cwd DIR --entry FILE [options]
       prodkit startup nginx [--port N | --upstream HOST:PORT...] [options]

Prints a systemd unit (Type=notify, Restart=always, NODE_ENV=production, hardened) that
runs FILE with \`prodkit run\` as USER in DIR, using the app's own installed prodkit
(DIR/node_modules/@oj/prodkit, or one in a folder above DIR).

Options:
  --user USER             the user the service runs as (not root)
  --cwd DIR               the app's folder (WorkingDirectory)
  --entry FILE            the app's entry file, relative to --cwd
  --name NAME             the service's name (default: the package.json name in --cwd)
  --workers auto|N        workers (default auto)
  --log-dir DIR           the folder the service may write, for its logs (default DIR/logs)
  --timeout-stop-sec N    how long systemd waits for the drain before SIGKILL (default 30)
  --watchdog-sec N        systemd restarts the service if its event loop stops for N s (default off)
  --node PATH             the node binary (default: the one running this command)
  -h, --help              print this help

\`prodkit startup nginx\` prints an nginx config (for /etc/nginx/conf.d) that proxies to the
app: see prodkit startup nginx --help.
`

const OPTIONS = {
  user: { type: 'string' },
  cwd: { type: 'string' },
  entry: { type: 'string' },
  name: { type: 'string' },
  workers: { type: 'string' },
  'log-dir': { type: 'string' },
  'timeout-stop-sec': { type: 'string' },
  'watchdog-sec': { type: 'string' },
  node: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
}

const NO_NEWLINE = /^[^\n\r\0]+$/

function required (values, name) {
  if (values[name] === undefined || values[name] === '') throw new UsageError(`--${name} is required`)
  if (!NO_NEWLINE.test(values[name])) throw new UsageError(`--${name} must be one line`)
  return values[name]
}

function seconds (name, text, fallback) {
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 86400) throw new UsageError(`--${name} must be a whole number of seconds from 1 to 86400 (got ${JSON.stringify(text)})`)
  return Number(text)
}

// The prodkit CLI the unit runs: the app's own installed copy, found as Node finds the
// app's `require('@oj/prodkit')` (node_modules in DIR, then in each folder above it), so
// that the service runs the version the app depends on. The path stays the one under the
// app's node_modules (a symlink is not resolved: its target changes with each install).
// Only when the app has none, the copy running this command. { path, own }
function prodkitFor (cwd) {
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const root = path.join(dir, 'node_modules', '@oj', 'prodkit')
    let pkg
    try {
      pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
    } catch {}
    if (pkg && pkg.name === '@oj/prodkit') {
      const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin && pkg.bin.prodkit) || 'bin/prodkit'
      const file = path.join(root, bin)
      if (fs.existsSync(file)) return { path: file, own: true }
    }
    if (path.dirname(dir) === dir) break
  }
  return { path: fs.realpathSync(path.join(__dirname, '..', '..', 'bin', 'prodkit')), own: false }
}

function unitFrom (values) {
  const user = required(values, 'user')
  // systemd's own rule for user names (and no numeric id 0 or root).
  if (!/^[a-zA-Z_][a-zA-Z0-9_-]{0,30}$/.test(user)) throw new UsageError(`--user must be a user name (got ${JSON.stringify(user)})`)
  if (user === 'root') throw new UsageError('--user must not be root: run the service as an unprivileged user')
  const cwd = path.resolve(required(values, 'cwd'))
  const entry = required(values, 'entry')
  const workers = values.workers === undefined ? 'auto' : values.workers
  if (workers !== 'auto' && !/^[1-9]\d{0,3}$/.test(workers)) throw new UsageError(`--workers must be auto or a number of workers (got ${JSON.stringify(workers)})`)
  const name = values.name !== undefined ? required(values, 'name') : (packageAbove(cwd).name || path.basename(cwd)).replace(/^@[^/]+\//, '')
  if (!/^[a-zA-Z0-9:_.\\-]+$/.test(name)) throw new UsageError(`--name must be a valid unit name: letters, digits, ":", "_", ".", "-" (got ${JSON.stringify(name)})`)
  const logDir = path.resolve(cwd, values['log-dir'] !== undefined ? required(values, 'log-dir') : 'logs')
  const node = values.node !== undefined ? path.resolve(required(values, 'node')) : process.execPath
  const prodkit = prodkitFor(cwd)
  if (!prodkit.own) {
    process.stderr.write(`prodkit startup: warning: the app in ${cwd} has no @oj/prodkit of its own (node_modules/@oj/prodkit): ` +
      `the unit runs this copy, ${prodkit.path}, which an upgrade or removal of it breaks. Run \`npm install @oj/prodkit\` in the app and print the unit again.\n`)
  }
  if (!fs.existsSync(path.resolve(cwd, entry))) process.stderr.write(`prodkit startup: warning: ${path.resolve(cwd, entry)} does not exist (yet)\n`)
  return systemdUnit({
    name,
    user,
    cwd,
    entry,
    node,
    prodkit: prodkit.path,
    prodkitOwn: prodkit.own,
    workers,
    logDir,
    timeoutStopSec: seconds('timeout-stop-sec', values['timeout-stop-sec'], 30),
    watchdogSec: seconds('watchdog-sec', values['watchdog-sec'], undefined)
  })
}

function main (argv) {
  return withUsage('startup', USAGE, () => {
    const [system, ...rest] = argv
    if (system === '--help' || system === '-h') {
      process.stdout.write(USAGE)
      return 0
    }
    if (system === undefined) throw new UsageError('which init system? (known: systemd; or nginx, for the proxy in front)')
    if (system === 'nginx') return withUsage('startup nginx', nginx.USAGE, () => nginx.main(rest))
    if (system !== 'systemd') throw new UsageError(`unknown init system ${JSON.stringify(system)} (known: systemd; or nginx, for the proxy in front)`)
    return printGenerated(rest, OPTIONS, USAGE, unitFrom)
  })
}

module.exports = { main, USAGE, OPTIONS, prodkitFor }

'use strict'
// The client side of the cluster's control socket (lib/cluster/control.js), shared by
// `prodkit status`, `top`, `logs`, `reload`, `scale` and `stop`: finds the running
// cluster by name (--name, else the name in the package.json of the current folder or
// above), picks it among several (--pid), and sends line-delimited JSON requests.
// Everything that stops a command before it reaches a cluster (none running, two of the
// same name, stale files, bad arguments) is a clear message and exit code 2.

const net = require('node:net')
const { parse, UsageError } = require('./args')
const { packageAbove } = require('../app-package')
const { runtimeDir, listFor } = require('../cluster/control-path')

// A failure that is not about the command line's syntax: the message alone, exit 2.
class ConsoleError extends Error {}

// The options every console command takes.
const TARGET_OPTIONS = {
  name: { type: 'string' },
  pid: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
}

const TARGET_HELP = `  --name NAME      the cluster's name (default: the name in ./package.json or above;
                   prodkit run --name sets it)
  --pid PID        which one, when two clusters of that name run
  -h, --help       print this help

The cluster is found through its control socket in $PRODKIT_RUNTIME_DIR, else
$XDG_RUNTIME_DIR/prodkit, else <tmpdir>/prodkit-<uid> (docs/cluster.md#the-control-socket).
`

function targetName (values, cwd = process.cwd()) {
  if (values.name !== undefined) {
    if (values.name.trim() === '') throw new UsageError('--name must not be empty')
    return values.name
  }
  const { name } = packageAbove(cwd)
  if (!name) throw new ConsoleError(`no --name given and no package.json with a name in ${cwd} or above: pass --name NAME (the name prodkit run was given, or its app's package.json name)`)
  return name
}

function connect (socketPath) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

// The running cluster named `values.name` (or the folder's): { name, pid, socket, dir }.
async function findCluster (values, env = process.env) {
  const name = targetName(values)
  const dir = runtimeDir(env)
  let wanted
  if (values.pid !== undefined) {
    wanted = Number(values.pid)
    if (!/^\d+$/.test(values.pid) || wanted < 1) throw new UsageError(`--pid must be a process id (got ${JSON.stringify(values.pid)})`)
  }
  const found = listFor(dir, name).filter((c) => wanted === undefined || c.pid === wanted)
  const live = []
  const stale = []
  for (const c of found) {
    if (!c.alive || !c.hasSocket || !c.hasPidFile) {
      stale.push(c)
      continue
    }
    try {
      const socket = await connect(c.socket)
      live.push({ ...c, connection: socket })
    } catch (err) {
      stale.push({ ...c, refused: err.code || err.message })
    }
  }
  if (live.length === 0) {
    const which = wanted === undefined ? `named ${JSON.stringify(name)}` : `named ${JSON.stringify(name)} with pid ${wanted}`
    if (stale.length > 0) {
      const why = stale.map((c) => !c.alive
        ? `${c.hasSocket ? c.socket : c.pidFile} is stale: process ${c.pid} is not running`
        : c.refused ? `${c.socket} is stale: process ${c.pid} runs but its socket refuses connections (${c.refused})`
          : `${c.hasSocket ? c.socket : c.pidFile} is stale: its ${c.hasSocket ? 'pid file' : 'socket'} is missing`)
      throw new ConsoleError(`no running cluster ${which}: ${why.join('; ')}. ` +
        'The primary was killed without cleaning up; the next prodkit run of this app removes these files (or delete them).')
    }
    throw new ConsoleError(`no running cluster ${which} (no control socket in ${dir}). Start one with prodkit run, ` +
      'or pass --name (prodkit run --name, or its app\'s package.json name)')
  }
  if (live.length > 1) {
    for (const c of live) c.connection.destroy()
    throw new ConsoleError(`${live.length} clusters named ${JSON.stringify(name)} are running (pids ${live.map((c) => c.pid).join(', ')}): choose one with --pid PID`)
  }
  const [only] = live
  return { name, dir, pid: only.pid, socket: only.socket, client: new Client(only.connection) }
}

// Requests over one connection; answers are matched by id.
class Client {
  constructor (socket) {
    this.socket = socket
    this.nextId = 1
    this.waiting = new Map()
    let pending = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n')
      pending = lines.pop()
      for (const line of lines) {
        let answer
        try {
          answer = JSON.parse(line)
        } catch {
          continue
        }
        const waiter = this.waiting.get(answer.id)
        if (!waiter) continue
        this.waiting.delete(answer.id)
        if (answer.ok) waiter.resolve(answer.result)
        else waiter.reject(new ConsoleError(answer.error))
      }
    })
    this.closed = new Promise((resolve) => socket.on('close', resolve))
    socket.on('error', () => {})
    this.closed.then(() => {
      for (const waiter of this.waiting.values()) waiter.reject(new ConsoleError('the cluster closed the control connection before it answered'))
      this.waiting.clear()
    })
  }

  request (command, fields = {}) {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.socket.write(`${JSON.stringify({ id, command, ...fields })}\n`)
    })
  }

  close () {
    this.socket.end()
  }
}

// Runs a console command: parses `argv` with `options`, prints `help` on --help, finds
// the cluster unless `findTarget` is false, and runs `body(values, positionals, target)`,
// which resolves to the exit code. Usage errors print the message and the help; other
// failures the message alone; both exit 2.
// `validate(positionals, values)` checks the arguments before the cluster is looked for.
async function runConsole (command, help, options, argv, body, { findTarget = true, io = process, validate } = {}) {
  let target
  try {
    const { values, positionals } = parse(argv, options, { allowPositionals: true })
    if (values.help) {
      io.stdout.write(help)
      return 0
    }
    if (validate) validate(positionals, values)
    target = findTarget ? await findCluster(values, io.env || process.env) : null
    return await body(values, positionals, target)
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`prodkit ${command}: ${err.message}\n\n${help}`)
      return 2
    }
    if (err instanceof ConsoleError) {
      io.stderr.write(`prodkit ${command}: ${err.message}\n`)
      return 2
    }
    throw err
  } finally {
    if (target && target.client && !target.keepOpen) target.client.close()
  }
}

module.exports = { findCluster, runConsole, ConsoleError, UsageError, Client, TARGET_OPTIONS, TARGET_HELP }

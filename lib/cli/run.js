'use strict'
// `prodkit run [options] <app.js> [app arguments]`: runs any app clustered, in the
// foreground (the process systemd starts), without a change to its code.

const path = require('node:path')
const { parse, withUsage, UsageError } = require('./args')
const { useAppPackageAbove } = require('../app-package')

const USAGE = `Usage: prodkit run [options] <app.js> [app arguments]

Runs app.js in a cluster: one worker per usable CPU, restarted when they crash, reloaded
one at a time on SIGHUP, drained on SIGTERM and SIGINT. Stays in the foreground.

Options:
  -i, --workers auto|N    workers (default auto: available CPUs, capped by the cgroup quota)
  --ready-timeout MS      time a new worker has to listen or call prodkit.ready() (30000)
  --wait-ready            a worker is ready only when it calls prodkit.ready()
  --drain-timeout MS      time a worker has to finish its requests before it is killed (10000)
  --memory-limit SIZE     replace a worker above this RSS, gracefully (e.g. 512MB)
  --log PATH              where the primary writes its own log lines and the workers'
                          captured stdout/stderr (default stdout); reopened on SIGHUP
  --ship-to URL           ship the --log file to a log store from the primary, once for
                          all workers (disk first, at-least-once): relp://host:514,
                          syslog+tcp://host:514, clickhouse://host:8123/db.table, ...
                          (docs/shipping.md); checked at start like log.ship.to
  --name NAME             the name prodkit status/logs/reload/scale/stop find it by
                          (default: the name in the app's package.json)
  --metrics-port N        serve the cluster-wide merged /metrics from the primary on N
  -h, --help              print this help

Run it with node itself, not under npm (npm start, npx): npm is not a process manager
and does not pass signals on reliably (docs/docker.md).
`

const OPTIONS = {
  workers: { type: 'string', short: 'i' }, // -i as in PM2
  'ready-timeout': { type: 'string' },
  'wait-ready': { type: 'boolean' },
  'drain-timeout': { type: 'string' },
  'memory-limit': { type: 'string' },
  log: { type: 'string' },
  'ship-to': { type: 'string' },
  name: { type: 'string' },
  'metrics-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' }
}

// The definition of `--name`, `--name=value` or `-x` (a short alias), if there is one.
function optionOf (arg) {
  if (arg.startsWith('--')) return OPTIONS[arg.slice(2).split('=')[0]]
  return Object.values(OPTIONS).find((o) => o.short === arg.slice(1))
}

// prodkit's options come before the app's file, the app's own arguments after it (as
// with `node [options] app.js [arguments]`).
function splitAtEntry (argv) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') return [argv.slice(0, i), argv.slice(i + 1)]
    if (!arg.startsWith('-')) return [argv.slice(0, i), argv.slice(i)]
    const option = optionOf(arg)
    if (option && option.type === 'string' && !arg.includes('=')) i++
  }
  return [argv, []]
}

// What cluster()'s errors call each option when it comes from this command line.
const CLI_NAMES = {
  start: 'the app to run (<app.js>)',
  args: "the app's arguments",
  workers: '--workers (-i)',
  readyTimeoutMs: '--ready-timeout',
  waitReady: '--wait-ready',
  drainTimeoutMs: '--drain-timeout',
  memoryLimit: '--memory-limit',
  'control.name': '--name'
}

function integerOption (name, text) {
  if (text === undefined) return undefined
  const value = Number(text)
  return Number.isInteger(value) && /^\d+$/.test(text) ? value : text // cluster() reports a bad one
}

// Runs the cluster; the shipping options' errors (from install()'s logger: an unknown or
// unreachable target) name the flag they come from here.
function runCluster (start) {
  try {
    return start()
  } catch (err) {
    if (err instanceof TypeError) err.message = err.message.replace(/option log\.ship\.to \(prodkit ship --to\)|option log\.ship\.to/g, 'option --ship-to')
    throw err
  }
}

function main (argv) {
  return withUsage('run', USAGE, () => {
    const [own, rest] = splitAtEntry(argv)
    const { values } = parse(own, OPTIONS)
    if (values.help) {
      process.stdout.write(USAGE)
      return 0
    }
    const [entry, ...args] = rest
    if (!entry) throw new UsageError('the app to run is missing')
    const file = path.resolve(entry)
    const prodkit = require('../index')
    const service = useAppPackageAbove(path.dirname(file)).name
    let metricsPort
    if (values['metrics-port'] !== undefined) {
      metricsPort = Number(values['metrics-port'])
      if (!/^\d+$/.test(values['metrics-port']) || metricsPort > 65535) throw new UsageError(`--metrics-port must be a port number from 0 to 65535 (got ${JSON.stringify(values['metrics-port'])})`)
    }
    if (values.name !== undefined && values.name.trim() === '') throw new UsageError('--name must not be empty')
    const shipTo = values['ship-to']
    if (shipTo !== undefined && !values.log) throw new UsageError('--ship-to needs --log FILE: the log file is what is shipped')
    const log = values.log
      ? { destination: values.log, reopenOnSignal: 'SIGHUP', ...(shipTo !== undefined ? { ship: { to: shipTo } } : {}) }
      : undefined
    runCluster(() => require('../cluster').cluster({
      start: file,
      args,
      workers: values.workers === undefined || values.workers === 'auto' ? 'auto' : integerOption('--workers', values.workers),
      readyTimeoutMs: integerOption('--ready-timeout', values['ready-timeout']),
      waitReady: values['wait-ready'] === true,
      drainTimeoutMs: integerOption('--drain-timeout', values['drain-timeout']),
      memoryLimit: values['memory-limit'],
      control: values.name ? { name: values.name } : undefined,
      install: {
        ...(service ? { service } : {}),
        ...(log ? { log } : {}),
        ...(metricsPort !== undefined ? { metrics: { port: metricsPort } } : {})
      }
    }, prodkit.install, { optionNames: CLI_NAMES }))
    return undefined // runs until a signal or a crash loop ends it
  })
}

module.exports = { main, USAGE, OPTIONS, CLI_NAMES }

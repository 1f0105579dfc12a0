'use strict'
// `prodkit ship --to URL FILE...`: ships log files as a sidecar, with the same shipper the
// logger's log.ship option starts (src/ship/): disk first, a durable checkpoint beside each
// file, at-least-once. Runs until SIGTERM or SIGINT (or, with --until-caught-up, until every
// file is shipped to its end).

const path = require('node:path')
const { parse, withUsage } = require('./args')
const { resolveShip } = require('../ship/options')
const { startShipper } = require('../ship')
const { fail, isPlainObject } = require('../log/options')

const HELP = `Usage: prodkit ship --to URL [--batch-bytes SIZE] [--flush-ms MS] [--backlog-bytes SIZE] [--check-ms MS] [--until-caught-up] FILE...

  --to URL              where to ship: relp://host:514, syslog+tcp://host:514,
                        syslog+tls://host:6514[?ca=FILE],
                        clickhouse://host:8123/db.table, elasticsearch://host:9200/index,
                        loki://host:3100, splunk://host:8088, otlp://host:4318 (STORE+https://
                        for TLS); credentials from PRODKIT_SHIP_USER/_PASSWORD or _TOKEN
                        (see docs/shipping.md for every target)
  --batch-bytes SIZE    largest batch of whole lines sent at once (default 1MiB)
  --flush-ms MS         longest a line waits for its batch to fill (default 1000)
  --backlog-bytes SIZE  rotated files kept past retention while unshipped (default 1GiB)
  --check-ms MS         how long the connection check at start may take (default 3000)
  --until-caught-up     exit once every file is shipped to its end, instead of following
  -h, --help            print this help

Ships each FILE (and its rotated files, plain or .gz) to the target, from where its
checkpoint (FILE.ship.json) says the store has everything, and follows it as it grows and
rotates. Stops on SIGTERM or SIGINT; a restart resumes from the checkpoint. Credentials
come from environment variables, never from the URL.
`

// The options the parser below accepts (the help names each: __test__/cli-help.test.js).
const OPTIONS = {
  to: { type: 'string' },
  'batch-bytes': { type: 'string' },
  'flush-ms': { type: 'string' },
  'backlog-bytes': { type: 'string' },
  'check-ms': { type: 'string' },
  'until-caught-up': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
}

// A flag's text as the option takes it: digits alone are a number.
function value (text) {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : text
}

function main (args, { stderr = process.stderr } = {}) {
  let shippers
  const code = withUsage('ship', HELP, () => {
    const { values, positionals } = parse(args, OPTIONS, { allowPositionals: true })
    if (values.help) {
      process.stdout.write(HELP)
      return 0
    }
    if (values.to === undefined) throw new TypeError('option --to is required (e.g. --to syslog+tcp://logs.internal:514)')
    if (positionals.length === 0) throw new TypeError('name at least one log FILE to ship')
    const ship = resolveShip({
      to: values.to,
      batchBytes: value(values['batch-bytes']),
      flushMs: value(values['flush-ms']),
      backlogBytes: value(values['backlog-bytes']),
      checkMs: value(values['check-ms'])
    }, undefined, { fail, isPlainObject }, '--')
    shippers = []
    try {
      for (const file of positionals) {
        const full = path.resolve(file)
        shippers.push({ file: full, shipper: startShipper(full, ship) })
      }
    } catch (err) {
      for (const { shipper } of shippers) shipper.close(0)
      throw err
    }
    for (const { file, shipper } of shippers) {
      stderr.write(`prodkit ship: shipping ${file} to ${shipper.stats().target}\n`)
    }
    return null
  })
  if (code !== null) return code
  return new Promise((resolve) => {
    let timer = null
    const stop = () => {
      clearInterval(timer)
      process.removeListener('SIGTERM', stop)
      process.removeListener('SIGINT', stop)
      for (const { shipper } of shippers) shipper.close(5000)
      resolve(0)
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    // The shippers are Rust threads, which do not keep Node's event loop alive: this timer
    // does (and, with --until-caught-up, watches the lag, measured once a second).
    const untilCaughtUp = args.includes('--until-caught-up')
    timer = setInterval(() => {
      if (untilCaughtUp && shippers.every(({ shipper }) => shipper.stats().caughtUp)) stop()
    }, untilCaughtUp ? 200 : 60_000)
  })
}

module.exports = { main, HELP, OPTIONS }

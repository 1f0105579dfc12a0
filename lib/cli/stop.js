'use strict'
// `prodkit stop`: drains the running cluster and waits until its primary has exited (as
// SIGTERM would, but found by name). Under systemd, use systemctl stop: systemd would
// restart a service that stops by itself (Restart=always).

const { runConsole, UsageError, TARGET_OPTIONS, TARGET_HELP } = require('./control-client')
const { alive } = require('../cluster/control-path')

const HELP = `Usage: prodkit stop [--name NAME] [--pid PID] [--timeout MS]

Stops the running cluster as SIGTERM does: its workers finish their requests, then the
primary exits. Waits until the primary has exited (exit 1 if it still runs after the
timeout). A cluster run by systemd (Restart=always) is stopped with systemctl stop.

Options:
  --timeout MS     how long to wait for the primary to exit (default 60000)
${TARGET_HELP}`

const OPTIONS = { ...TARGET_OPTIONS, timeout: { type: 'string' } }

function main (argv, io = process) {
  return runConsole('stop', HELP, OPTIONS, argv, async (values, positionals, target) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
    const timeoutMs = values.timeout === undefined ? 60_000 : Number(values.timeout)
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError(`--timeout must be a number of milliseconds (got ${JSON.stringify(values.timeout)})`)
    await target.client.request('stop')
    const deadline = Date.now() + timeoutMs
    while (alive(target.pid)) {
      if (Date.now() > deadline) {
        io.stderr.write(`prodkit stop: ${target.name} (pid ${target.pid}) still runs after ${timeoutMs} ms\n`)
        return 1
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    io.stdout.write(`${target.name} (pid ${target.pid}) stopped\n`)
    return 0
  }, { io })
}

module.exports = { main, HELP, OPTIONS }

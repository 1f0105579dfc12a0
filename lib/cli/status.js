'use strict'
// `prodkit status`: the running cluster's processes, once (prodkit top redraws it).

const { runConsole, TARGET_OPTIONS, TARGET_HELP } = require('./control-client')
const { table } = require('./console-format')

const HELP = `Usage: prodkit status [--name NAME] [--pid PID] [--json]

Prints the running cluster's primary and workers: pid, state, uptime, restarts, CPU (share
of one core over the last second), resident memory, event-loop delay (p99 over the last
second) and requests per second.

Options:
  --json           print the status as one JSON object instead of the table
${TARGET_HELP}`

const OPTIONS = { ...TARGET_OPTIONS, json: { type: 'boolean' } }

function main (argv, io = process) {
  return runConsole('status', HELP, OPTIONS, argv, async (values, positionals, { client }) => {
    if (positionals.length > 0) throw new (require('./args').UsageError)(`unexpected argument ${JSON.stringify(positionals[0])}`)
    const status = await client.request('status')
    io.stdout.write(values.json ? `${JSON.stringify(status)}\n` : table(status))
    return 0
  }, { io })
}

module.exports = { main, HELP, OPTIONS }

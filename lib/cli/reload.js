'use strict'
// `prodkit reload`: the rolling reload of a running cluster (as SIGHUP to its primary),
// waited for: exit 0 once every worker was replaced, 1 if the reload stopped on a worker
// that could not start (the old workers keep serving).

const { runConsole, ConsoleError, UsageError, TARGET_OPTIONS, TARGET_HELP } = require('./control-client')

const HELP = `Usage: prodkit reload [--name NAME] [--pid PID]

Replaces the running cluster's workers one at a time with ones that load the app's code
anew (the rolling reload of SIGHUP), and waits for it: exit 0 when every worker was
replaced, 1 when a new worker could not start (the others keep serving).

Options:
${TARGET_HELP}`

const OPTIONS = { ...TARGET_OPTIONS }

function main (argv, io = process) {
  return runConsole('reload', HELP, OPTIONS, argv, async (values, positionals, target) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
    try {
      const result = await target.client.request('reload')
      io.stdout.write(`${target.name} (pid ${target.pid}): rolling reload finished, ${result.replaced} workers replaced\n`)
      return 0
    } catch (err) {
      if (!(err instanceof ConsoleError)) throw err
      io.stderr.write(`prodkit reload: ${err.message}\n`)
      return 1
    }
  }, { io })
}

module.exports = { main, HELP, OPTIONS }

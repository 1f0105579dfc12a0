'use strict'
// `prodkit scale N`: sets the running cluster's number of workers. New workers are waited
// for until ready; removed ones are drained (their requests finish) before it returns.

const { runConsole, ConsoleError, UsageError, TARGET_OPTIONS, TARGET_HELP } = require('./control-client')

const MAX = 1024

const HELP = `Usage: prodkit scale [--name NAME] [--pid PID] <N>

Sets the running cluster's number of workers to N (1 to ${MAX}). Scaling up waits until
the new workers are ready; scaling down drains the last workers (they finish their
requests, then exit) and waits until they have exited. Lasts until the next restart of the
primary (prodkit run --workers sets the number it starts with).

Options:
${TARGET_HELP}`

const OPTIONS = { ...TARGET_OPTIONS }

// The worker count, or a UsageError naming what is wrong.
function parseCount (positionals) {
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'the number of workers is missing' : `one number of workers, not ${positionals.length} arguments`)
  const text = positionals[0]
  const count = Number(text)
  if (!/^\d+$/.test(text) || count < 1 || count > MAX) throw new UsageError(`the number of workers must be an integer from 1 to ${MAX} (got ${JSON.stringify(text)})`)
  return count
}

function main (argv, io = process) {
  return runConsole('scale', HELP, OPTIONS, argv, async (values, positionals, target) => {
    const count = parseCount(positionals)
    try {
      const result = await target.client.request('scale', { workers: count })
      io.stdout.write(`${target.name} (pid ${target.pid}): ${result.from === result.to ? `already ${result.to} workers` : `scaled from ${result.from} to ${result.to} workers`}\n`)
      return 0
    } catch (err) {
      if (!(err instanceof ConsoleError)) throw err
      io.stderr.write(`prodkit scale: ${err.message}\n`)
      return 1
    }
  }, { io, validate: parseCount })
}

module.exports = { main, parseCount, HELP, OPTIONS }

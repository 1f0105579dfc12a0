'use strict'
// Shared by the CLI commands: parse options with node:util's parseArgs, report usage
// errors the same way (message, usage, exit code 2).

const { parseArgs } = require('node:util')

class UsageError extends Error {}

function parse (args, options, { allowPositionals = false } = {}) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true })
  } catch (err) {
    throw new UsageError(err.message)
  }
}

// Runs `fn` and turns usage errors and invalid options (TypeErrors) into exit code 2.
function withUsage (command, usage, fn) {
  try {
    return fn()
  } catch (err) {
    if (!(err instanceof UsageError) && !(err instanceof TypeError)) throw err
    process.stderr.write(`prodkit ${command}: ${err.message.replace(/^prodkit: /, '')}\n\n${usage}`)
    return 2
  }
}

// The generator commands (`startup systemd`, `startup nginx`): parses `args`, prints the
// usage for --help, else what `generate(values)` makes of the options. Exit code 0.
function printGenerated (args, options, usage, generate) {
  const { values } = parse(args, options)
  process.stdout.write(values.help ? usage : generate(values))
  return 0
}

module.exports = { parse, withUsage, printGenerated, UsageError }

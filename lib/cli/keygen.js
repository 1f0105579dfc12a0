'use strict'
// `prodkit keygen [--hex]`: prints a new random 32-byte key for log.encrypt.

const { randomBytes } = require('node:crypto')

const HELP = `Usage: prodkit keygen [--hex]

  --hex            the key in hex instead of base64
  -h, --help       print this help

Prints a new random 32-byte key (base64, or hex with --hex) on stdout, and its default
key id on stderr. Keep it out of the repository: put it in an environment variable
(log.encrypt.keyEnv) or a file only the service's user can read (log.encrypt.keyFile,
chmod 600).
`

// The options the parser below accepts (the help names each: __test__/cli-help.test.js).
const OPTIONS = {
  hex: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
}

function keygen (args, { stdout, stderr }) {
  if (args.includes('--help') || args.includes('-h')) {
    stdout.write(HELP)
    return 0
  }
  const unknown = args.filter((a) => !(a.startsWith('--') && OPTIONS[a.slice(2)]))
  if (unknown.length > 0) {
    stderr.write(`prodkit keygen: unknown argument ${JSON.stringify(unknown[0])}\n\n${HELP}`)
    return 2
  }
  const bytes = randomBytes(32)
  const key = bytes.toString(args.includes('--hex') ? 'hex' : 'base64')
  bytes.fill(0)
  stdout.write(key + '\n')
  const text = Buffer.from(key)
  stderr.write(`key id: ${require('../native').keyIdOf(text)}\n`)
  text.fill(0)
  return 0
}

module.exports = { keygen, HELP, OPTIONS }

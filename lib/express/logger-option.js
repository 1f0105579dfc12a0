'use strict'
// The logger a middleware writes to: options.log, else the installed kit's logger.

const { Logger } = require('../log/logger')
const { fail } = require('../log/options')

function loggerOption (name, log) {
  if (log === undefined) {
    // Required lazily: lib/index.js requires these modules.
    log = require('../index').log
    if (!log) throw new TypeError(`prodkit: ${name} needs a logger: call prodkit.install() first, or pass { log }`)
  }
  if (!(log instanceof Logger)) throw fail(`${name} log`, 'a prodkit logger', log)
  return log
}

module.exports = { loggerOption }

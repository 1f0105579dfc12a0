'use strict'
// The public API of @oj/prodkit.

const { createLogger, Logger, LEVELS } = require('./log/logger')
const { fail, isPlainObject } = require('./log/options')
const { createKeyring, decryptLine, generateKey, Keyring } = require('./crypt')
const { version } = require('../package.json')

const INSTALL_OPTIONS = ['service', 'log']
let kit = null

// Sets prodkit up for this process and returns the kit. Idempotent: later calls return
// the same kit and ignore their options.
function install (options) {
  if (kit) return kit
  if (options === undefined || options === null) options = {}
  if (!isPlainObject(options)) throw fail('install(options)', 'an object', options)
  for (const key of Object.keys(options)) {
    if (!INSTALL_OPTIONS.includes(key)) {
      throw new TypeError(`prodkit: unknown option ${key} (known: ${INSTALL_OPTIONS.join(', ')})`)
    }
  }
  if (options.log !== undefined && !isPlainObject(options.log)) throw fail('log', 'an object', options.log)
  const logOptions = { ...options.log }
  if (options.service !== undefined && logOptions.service === undefined) logOptions.service = options.service
  const log = createLogger(logOptions)
  kit = {
    log,
    flush: () => log.flush(),
    flushSync: () => log.flushSync(),
    close: () => log.close()
  }
  return kit
}

const prodkit = {
  install,
  createLogger,
  Logger,
  levels: LEVELS,
  version,
  createKeyring,
  decryptLine,
  generateKey,
  Keyring,
  get log () {
    return kit ? kit.log : undefined
  }
}
// `import prodkit from '@oj/prodkit'` under TypeScript's CommonJS interop reads `.default`.
prodkit.default = prodkit

module.exports = prodkit

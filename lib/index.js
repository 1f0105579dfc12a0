'use strict'
// The public API of @oj/prodkit.

const { createLogger, Logger, LEVELS } = require('./log/logger')
const { stdTimeFunctions } = require('./log/time')
const { stdSerializers } = require('./log/serializers')
const { createKit, repeatedInstall } = require('./install')
const express = require('./express')
const { createKeyring, decryptLine, generateKey, Keyring } = require('./crypt')
const { cluster } = require('./cluster')
const { graceful, health } = require('./cluster/graceful')
const { ready, attachKit, detachKit, installDefaults } = require('./cluster/worker')
const context = require('./context')
const { version } = require('../package.json')

let kit = null

// Sets prodkit up for this process and returns the kit. Idempotent: later calls return
// the same kit and register nothing again (their options are ignored, with a warning once
// when they differ: lib/install.js).
function install (options) {
  if (!kit) {
    // attachKit: shutdown drains the servers first (lib/cluster/worker.js).
    kit = attachKit(createKit(installDefaults(options), () => {
      detachKit(kit)
      kit = null
    }))
  } else {
    repeatedInstall(kit, installDefaults(options))
  }
  return kit
}

const prodkit = {
  install,
  createLogger,
  Logger,
  levels: LEVELS,
  stdTimeFunctions,
  stdSerializers,
  version,
  express,
  context: Object.freeze({ run: context.run, get: context.get }),
  createKeyring,
  decryptLine,
  generateKey,
  Keyring,
  cluster: (options) => cluster(options, install),
  ready,
  graceful,
  health,
  get log () {
    return kit ? kit.log : undefined
  },
  get metrics () {
    return kit && kit.metrics ? kit.metrics : undefined
  }
}
// `import prodkit from '@oj/prodkit'` under TypeScript's CommonJS interop reads `.default`.
prodkit.default = prodkit

module.exports = prodkit

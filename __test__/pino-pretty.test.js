'use strict'
// pino's tools read prodkit's lines: real output piped through the real pino-pretty.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { ROOT } = require('./helpers')

test('prodkit output piped through pino-pretty shows levels, messages, fields and error stacks', async () => {
  const app = spawn(process.execPath, ['-e', `
    const log = require('@oj/prodkit').createLogger({ service: 'shop', level: 'trace' })
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[level]({ orderId: 'o-' + level }, level + ' message')
    log.child({ requestId: 'req-9' }).info('from a child')
    log.error(new Error('card declined'), 'payment failed')`], { cwd: ROOT })
  const pretty = spawn(path.join(ROOT, 'node_modules', '.bin', 'pino-pretty'), ['--colorize', 'false'], { cwd: ROOT })
  app.stdout.pipe(pretty.stdin)
  let out = ''
  pretty.stdout.setEncoding('utf8').on('data', (d) => { out += d })
  const [appCode, prettyCode] = await Promise.all([
    new Promise((resolve) => app.on('close', resolve)),
    new Promise((resolve) => pretty.on('close', resolve))
  ])
  assert.equal(appCode, 0)
  assert.equal(prettyCode, 0)
  for (const [label, level] of [['TRACE', 'trace'], ['DEBUG', 'debug'], ['INFO', 'info'], ['WARN', 'warn'], ['ERROR', 'error'], ['FATAL', 'fatal']]) {
    assert.match(out, new RegExp(`${label} \\(\\d+\\): ${level} message\\n\\s+service: "shop"\\n\\s+orderId: "o-${level}"`), `${label} line`)
  }
  assert.match(out, /INFO \(\d+\): from a child\n\s+service: "shop"\n\s+requestId: "req-9"/)
  assert.match(out, /ERROR \(\d+\): payment failed\n\s+service: "shop"\n\s+err: \{\n\s+"type": "Error",\n\s+"message": "card declined",\n\s+"stack":\n\s+Error: card declined\n\s+at /)
  assert.doesNotMatch(out, /^\{"level"/m, 'every line was understood (none passed through raw)')
})

'use strict'
// The CLI's help: `prodkit help <command>`, `prodkit <command> --help` and `-h` print the
// command's own help, which names every option its parser accepts (read from the parser's
// definitions, the OPTIONS each command module exports); the general help shows each
// command's synopsis, taken from the command's help.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('./helpers')

const CLI = path.join(ROOT, 'bin', 'prodkit')
const COMMANDS = {
  decrypt: require('../lib/cli/decrypt'),
  keygen: require('../lib/cli/keygen'),
  logs: require('../lib/cli/logs'),
  reload: require('../lib/cli/reload'),
  run: require('../lib/cli/run'),
  scale: require('../lib/cli/scale'),
  ship: require('../lib/cli/ship'),
  startup: require('../lib/cli/startup'),
  status: require('../lib/cli/status'),
  stop: require('../lib/cli/stop'),
  top: require('../lib/cli/top')
}

function cli (args) {
  const out = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT })
  return { code: out.status, stdout: out.stdout, stderr: out.stderr }
}

const general = cli(['--help'])

test('prodkit --help, -h, help and no argument print the general help, with every command\'s synopsis', () => {
  assert.equal(general.code, 0, general.stderr)
  for (const args of [['help'], ['-h'], []]) assert.deepEqual(cli(args), general, args.join(' '))
  for (const [name, mod] of Object.entries(COMMANDS)) {
    const synopsis = (mod.HELP || mod.USAGE).split('\n')[0].replace(/^Usage: /, '')
    assert.ok(synopsis.startsWith(`prodkit ${name}`), synopsis)
    assert.ok(general.stdout.includes(synopsis), `${name}'s synopsis in the general help`)
  }
  assert.match(general.stdout, /--key-id/, 'the reported omission')
})

for (const [name, mod] of Object.entries(COMMANDS)) {
  test(`prodkit help ${name}, ${name} --help and ${name} -h print ${name}'s help, which names every option its parser accepts`, () => {
    const own = mod.HELP || mod.USAGE
    const forms = [['help', name], [name, '--help'], [name, '-h']]
    if (name === 'startup') forms.push(['startup', 'systemd', '--help'])
    for (const args of forms) {
      const out = cli(args)
      assert.deepEqual([out.code, out.stderr], [0, ''], args.join(' '))
      assert.equal(out.stdout, own, args.join(' '))
    }
    assert.notEqual(own, general.stdout)
    const options = Object.entries(mod.OPTIONS)
    assert.ok(options.length > 0)
    for (const [option, definition] of options) {
      assert.match(own, new RegExp(`(^|[\\s\\[|,])--${option}\\b`, 'm'), `${name}: --${option}`)
      if (definition.short) assert.match(own, new RegExp(`(^|[\\s,])-${definition.short}\\b`, 'm'), `${name}: -${definition.short}`)
    }
  })
}

test('the parsers reject what their definitions do not name (so the definitions are the parsers\' own)', () => {
  assert.match(cli(['decrypt', '--key-idd', 'x']).stderr, /unknown option --key-idd/)
  assert.match(cli(['keygen', '--hexx']).stderr, /unknown argument "--hexx"/)
  assert.match(cli(['run', '--workerz', '2', 'app.js']).stderr, /Unknown option '--workerz'/)
  assert.match(cli(['startup', 'systemd', '--users', 'x']).stderr, /Unknown option '--users'/)
  for (const name of ['status', 'top', 'logs', 'reload', 'scale', 'stop']) {
    const out = cli([name, '--nmae', 'x'])
    assert.equal(out.code, 2, name)
    assert.match(out.stderr, /Unknown option '--nmae'/, name)
  }
})

test('prodkit help <unknown> fails with exit code 2 and the general help', () => {
  const out = cli(['help', 'frobnicate'])
  assert.equal(out.code, 2)
  assert.match(out.stderr, /unknown command "frobnicate"/)
  assert.match(out.stderr, /Usage:/)
})

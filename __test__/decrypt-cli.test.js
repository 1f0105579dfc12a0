'use strict'
// `prodkit keygen` and `prodkit decrypt`: rotated .gz files, paths, failures and exit
// codes, garbage input, a 1 GiB stream in bounded memory; and no key in any output.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawn, spawnSync } = require('node:child_process')
const prodkit = require('..')
const { ROOT, tempDir, parseJsonLines, runNode } = require('./helpers')

const CLI = path.join(ROOT, 'bin', 'prodkit')
// PRODKIT_TEST_STREAM_MIB shortens the memory test on a slow machine (default 1 GiB).
const STREAM_MIB = Number(process.env.PRODKIT_TEST_STREAM_MIB || 1024)

function cli (args, { env = {}, input } = {}) {
  return spawnSync(CLI, args, { encoding: 'utf8', input, env: { ...process.env, ...env }, maxBuffer: 1 << 28 })
}

function keygen () {
  const result = cli(['keygen'])
  assert.equal(result.status, 0, result.stderr)
  return { key: result.stdout.trim(), id: result.stderr.match(/key id: ([\w-]+)/)[1] }
}

// Lines logged with `key` (in a child process, as an app would) to `file`.
async function logLines (file, key, count, first = 0) {
  const code = `
    const log = require('./').createLogger({ destination: ${JSON.stringify(file)}, encrypt: { paths: ['user.email', 'cards.*.number'], keyEnv: 'APP_KEY' } })
    for (let i = ${first}; i < ${first + count}; i++) log.info({ i, user: { email: 'user' + i + '@example.com' }, cards: [{ number: '4111-' + i }] }, 'order')`
  const result = await runNode(code, { env: { APP_KEY: key } })
  assert.equal(result.code, 0, result.stderr)
}

test('keygen prints a new base64 key of 32 bytes, and its id on stderr', () => {
  const a = keygen()
  const b = keygen()
  assert.notEqual(a.key, b.key)
  assert.equal(Buffer.from(a.key, 'base64').length, 32)
  assert.equal(a.id.length, 8)
  const hex = cli(['keygen', '--hex'])
  assert.match(hex.stdout, /^[0-9a-f]{64}\n$/)
  assert.equal(cli(['keygen', '--bad']).status, 2)
})

test('decrypt reads a rotated .gz file and the current file written under two keys', async (t) => {
  const dir = tempDir(t)
  const old = keygen()
  const current = keygen()
  const rotated = path.join(dir, 'app.log.1')
  await logLines(rotated, old.key, 50)
  fs.writeFileSync(rotated + '.gz', zlib.gzipSync(fs.readFileSync(rotated)))
  fs.rmSync(rotated)
  const live = path.join(dir, 'app.log')
  await logLines(live, current.key, 50, 50)
  const env = { OLD_KEY: old.key, NEW_KEY: current.key }
  const both = cli(['decrypt', '--key-env', 'NEW_KEY', '--key-env', 'OLD_KEY', rotated + '.gz', live], { env })
  assert.equal(both.status, 0, both.stderr)
  const entries = parseJsonLines(both.stdout)
  assert.equal(entries.length, 100)
  entries.forEach((e, i) => {
    assert.equal(e.i, i)
    assert.equal(e.user.email, `user${i}@example.com`)
    assert.equal(e.cards[0].number, `4111-${i}`)
  })
  const keyFile = path.join(dir, 'new.key')
  fs.writeFileSync(keyFile, current.key, { mode: 0o600 })
  const onlyNew = cli(['decrypt', '--key-file', keyFile, rotated + '.gz', live])
  assert.equal(onlyNew.status, 1)
  const partial = parseJsonLines(onlyNew.stdout)
  assert.equal(partial[0].user.email.decryptError, 'unknown key id')
  assert.match(partial[0].user.email.ciphertext, new RegExp(`^\\$pk1\\$${old.id}\\$`))
  assert.equal(partial[99].user.email, 'user99@example.com')
  assert.match(onlyNew.stderr, /100 fields could not be decrypted \(100 unknown key id\); 100 decrypted in 100 lines/)
  const emails = cli(['decrypt', '--paths', 'user.email', live], { env: { PRODKIT_LOG_KEY: current.key } })
  assert.equal(emails.status, 0, emails.stderr)
  const filtered = parseJsonLines(emails.stdout)[0]
  assert.equal(filtered.user.email, 'user50@example.com')
  assert.match(filtered.cards[0].number, /^\$pk1\$/, 'not in --paths: left encrypted')
  const stdin = cli(['decrypt', '--key-env', 'NEW_KEY'], { env, input: fs.readFileSync(live) })
  assert.equal(parseJsonLines(stdin.stdout).length, 50)
})

test('decrypt reads each line once when a glob names a rotation both plain and compressed, and a partial .gz.tmp', async (t) => {
  // What `prodkit decrypt logs/app.2*.log*` is given while compression runs (or after a
  // crash between the .gz rename and the plain file's removal).
  const dir = tempDir(t)
  const { key } = keygen()
  const rotated = path.join(dir, 'app.2026-11-29T10-00-00.000Z.log')
  await logLines(rotated, key, 20)
  const whole = zlib.gzipSync(fs.readFileSync(rotated))
  fs.writeFileSync(rotated + '.gz', whole)
  fs.writeFileSync(rotated + '.gz.tmp', whole.subarray(0, whole.length >> 1))
  const live = path.join(dir, 'app.log')
  await logLines(live, key, 5, 20)
  const files = [rotated, rotated + '.gz', rotated + '.gz.tmp', live]
  const result = cli(['decrypt', ...files], { env: { PRODKIT_LOG_KEY: key } })
  assert.equal(result.status, 0, result.stderr)
  assert.deepEqual(parseJsonLines(result.stdout).map((e) => e.i), Array.from({ length: 25 }, (_, i) => i))
  assert.match(result.stderr, /skipping .*\.log\.gz: .*\.log holds the same lines/)
  assert.match(result.stderr, /skipping .*\.gz\.tmp: an unfinished compression/)
})

test('decrypt marks tampered, moved and malformed fields inline, survives garbage, and exits 1', async (t) => {
  const dir = tempDir(t)
  const { key } = keygen()
  const file = path.join(dir, 'app.log')
  await logLines(file, key, 2)
  const [a, b] = fs.readFileSync(file, 'utf8').trimEnd().split('\n')
  const ct = JSON.parse(a).user.email
  const moved = a.replace(JSON.parse(a).cards[0].number, ct)
  // One character of the ciphertext changed, away from its end: the last base64url
  // character of an unpadded field carries spare bits, and changing it may make the text
  // invalid base64 (reported as malformed) rather than a ciphertext that fails its tag.
  const sealed = JSON.parse(b).user.email
  const at = sealed.length - 4
  const tampered = b.replace(sealed, sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1))
  const garbage = [
    'plain text, not json', '', '{"broken": "$pk1$', '{"x":"$pk1$k$a$b$c$d"}', '\u0000\u0001\u00ff binary \ud800',
    '['.repeat(100000), `{"deep":${'['.repeat(5000)}"$pk1$"${']'.repeat(5000)}}`, '{"x":"$pk1$' + 'A'.repeat(200000) + '"}'
  ]
  const input = [moved, tampered, ...garbage, a].join('\n') + '\n'
  const result = cli(['decrypt'], { env: { PRODKIT_LOG_KEY: key }, input })
  assert.equal(result.status, 1, result.stderr)
  const out = result.stdout.split('\n')
  assert.equal(out.length, garbage.length + 4)
  assert.equal(JSON.parse(out[0]).cards[0].number.decryptError, 'tampered (or moved from another field)')
  assert.equal(JSON.parse(out[0]).user.email, 'user0@example.com')
  assert.equal(JSON.parse(out[1]).user.email.decryptError, 'tampered (or moved from another field)')
  assert.equal(out[2], garbage[0])
  assert.equal(JSON.parse(out[5]).x.decryptError, 'malformed: bad base64url')
  assert.equal(JSON.parse(out[out.length - 2]).user.email, 'user0@example.com', 'goes on after garbage')
  assert.match(result.stderr, /could not be decrypted \(.*\d+ tampered \(or moved from another field\).*\)/)
  assert.doesNotMatch(result.stderr, /panick|Error:|at /)
  const clean = cli(['decrypt'], { env: { PRODKIT_LOG_KEY: key }, input: 'no ciphertext here\n{"a":1}\n' })
  assert.equal(clean.status, 0)
  assert.equal(clean.stdout, 'no ciphertext here\n{"a":1}\n')
  const badGz = path.join(dir, 'bad.gz')
  fs.writeFileSync(badGz, Buffer.from([0x1f, 0x8b, 1, 2, 3]))
  const gz = cli(['decrypt', badGz], { env: { PRODKIT_LOG_KEY: key } })
  assert.equal(gz.status, 2)
  assert.match(gz.stderr, /cannot read .*bad.gz/)
})

test('decrypt refuses bad usage with exit code 2 and a message', () => {
  const env = { PRODKIT_LOG_KEY: '' }
  for (const [args, message] of [
    [['decrypt'], /no key: give --key-env or --key-file, or set PRODKIT_LOG_KEY/],
    [['decrypt', '--key-env', 'PRODKIT_TEST_UNSET'], /the environment variable PRODKIT_TEST_UNSET is not set or empty/],
    [['decrypt', '--key-env', 'SHORT'], /the key from \$SHORT is not usable: the key decodes to 3 bytes, not 32/],
    [['decrypt', '--key-file', '/nonexistent/key'], /cannot read the key file \/nonexistent\/key \(ENOENT\)/],
    [['decrypt', '--key-id', 'x'], /--key-id names the key given just before it/],
    [['decrypt', '--key-env', 'GOOD', '--paths', 'a..b'], /--paths: "a..b" is not a path/],
    [['decrypt', '--frob'], /unknown option --frob/],
    [['decrypt', '--key-env', 'GOOD', '/nonexistent/app.log'], /cannot read \/nonexistent\/app.log: ENOENT/]
  ]) {
    const result = cli(args, { env: { ...env, SHORT: 'YWJj', GOOD: prodkit.generateKey() } })
    assert.equal(result.status, 2, args.join(' '))
    assert.match(result.stderr, message)
  }
})

test('decrypt streams 1 GiB through bounded memory', { timeout: 600_000 }, async (t) => {
  const dir = tempDir(t)
  const { key } = keygen()
  const file = path.join(dir, 'app.log')
  await logLines(file, key, 2000)
  const block = fs.readFileSync(file)
  const linesPerBlock = 2000
  const blocks = Math.ceil((STREAM_MIB << 20) / block.length)
  // The CLI in a process that reports its peak RSS (KiB) on exit.
  const code = `process.on('exit', () => process.stderr.write('maxRSS=' + process.resourceUsage().maxRSS + '\\n'))
    process.argv = [process.argv[0], 'prodkit', ...process.argv.slice(1)]
    require('./bin/prodkit')`
  const child = spawn(process.execPath, ['-e', code, 'decrypt'], { cwd: ROOT, env: { ...process.env, PRODKIT_LOG_KEY: key } })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  let bytes = 0
  let newlines = 0
  let head = ''
  child.stdout.on('data', (d) => {
    bytes += d.length
    if (head.length < 1000) head += d.toString('utf8', 0, Math.min(d.length, 1000))
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) newlines++
  })
  const feed = (async () => {
    for (let i = 0; i < blocks; i++) {
      if (!child.stdin.write(block)) await new Promise((resolve) => child.stdin.once('drain', resolve))
    }
    child.stdin.end()
  })()
  const [status] = await Promise.all([new Promise((resolve) => child.on('close', resolve)), feed])
  assert.equal(status, 0, stderr)
  assert.equal(newlines, blocks * linesPerBlock)
  assert.ok(bytes > blocks * block.length * 0.3, 'decrypted lines are shorter, not that much shorter')
  assert.equal(JSON.parse(head.split('\n')[0]).user.email, 'user0@example.com')
  const maxRssMiB = Number(stderr.match(/maxRSS=(\d+)/)[1]) / 1024
  t.diagnostic(`${blocks * block.length >> 20} MiB in, peak RSS ${maxRssMiB.toFixed(0)} MiB`)
  assert.ok(maxRssMiB < 150, `peak RSS ${maxRssMiB} MiB`)
})

test('no output ever holds a key, raw, base64, base64url or hex', async (t) => {
  const dir = tempDir(t)
  const raw = require('node:crypto').randomBytes(32)
  const forms = [raw.toString('base64'), raw.toString('base64url'), raw.toString('hex'), raw.toString('hex').toUpperCase()]
  const keyFile = path.join(dir, 'app.key')
  fs.writeFileSync(keyFile, raw.toString('hex'), { mode: 0o644 })
  const file = path.join(dir, 'app.log')
  // An app that logs sealed fields, hits every error path that involves the key, logs
  // the errors it got, and crashes at the end.
  const code = `
    const prodkit = require('./')
    const key = process.env.APP_KEY
    const log = prodkit.createLogger({ destination: ${JSON.stringify(file)}, encrypt: { paths: ['secret', 'nested.*'], keyEnv: 'APP_KEY' }, base: { app: 1 } })
    const fromFile = prodkit.createLogger({ destination: ${JSON.stringify(file)}, encrypt: { paths: ['secret'], keyFile: ${JSON.stringify(keyFile)} } })
    fromFile.info({ secret: 'from file' }, 'file key')
    for (const bad of [key.slice(0, 40), key + 'AA', key.replace(/./, '!'), key + key]) {
      try { prodkit.createLogger({ destination: ${JSON.stringify(file)}, encrypt: { paths: ['x'], key: bad } }) } catch (err) { log.error(err); console.error(err.stack) }
      try { prodkit.decryptLine('{}', bad) } catch (err) { log.error(err); console.error(err) }
    }
    try { prodkit.createLogger({ encrypt: { paths: ['x'], key: Buffer.from(key), keyId: 'bad id' } }) } catch (err) { console.error(err) }
    try { prodkit.createLogger({ encrypt: { paths: ['x'], key: key, mystery: 1 } }) } catch (err) { console.error(err) }
    log.info({ secret: 'value', nested: { a: 1, b: [2] } }, 'sealed')
    log.info({ secret: { key: 'not the key' } }, 'more')
    console.log(prodkit.decryptLine(JSON.stringify({ secret: 'x' }), key))
    log.flushSync()
    fromFile.flushSync()
    setImmediate(() => { throw new Error('crash at the end') })`
  const app = await runNode(code, { env: { APP_KEY: raw.toString('base64') } })
  assert.equal(app.code, 1)
  assert.match(app.stderr, /crash at the end/)
  assert.match(app.stderr, /PRODKIT_KEY_FILE_MODE|can be read by group or others/)
  const decrypted = cli(['decrypt', '--key-env', 'APP_KEY', '--key-file', keyFile, file], { env: { APP_KEY: raw.toString('base64') } })
  assert.equal(decrypted.status, 0, decrypted.stderr)
  assert.match(decrypted.stdout, /"secret":"value"/)
  const wrongUsage = cli(['decrypt', '--key-env', 'APP_KEY', '--key-id', 'bad id!', file], { env: { APP_KEY: raw.toString('base64') } })
  const generated = cli(['keygen'])
  const outputs = {
    'app stdout': app.stdout,
    'app stderr': app.stderr,
    'log file': fs.readFileSync(file, 'latin1'),
    'decrypt stdout': decrypted.stdout,
    'decrypt stderr': decrypted.stderr + wrongUsage.stdout + wrongUsage.stderr,
    'keygen stderr': generated.stderr
  }
  assert.ok(outputs['log file'].includes('$pk1$'))
  for (const [name, text] of Object.entries(outputs)) {
    for (const form of forms) assert.ok(!text.includes(form), `${name} holds the key (${form.length} chars)`)
    assert.ok(!Buffer.from(text, 'latin1').includes(raw), `${name} holds the raw key bytes`)
    for (const part of forms.map((f) => f.slice(0, 16))) assert.ok(!text.includes(part), `${name} holds part of the key`)
  }
  assert.ok(!generated.stderr.includes(generated.stdout.trim()))
})

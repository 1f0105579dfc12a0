'use strict'
// log.encrypt and log.redact: what reaches the file, what decrypts back, and the errors.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { randomBytes } = require('node:crypto')
const prodkit = require('..')
const { tempDir, readJsonLines } = require('./helpers')

const KEY_A = randomBytes(32).toString('base64')
const KEY_B = randomBytes(32).toString('hex')

// A logger writing to a fresh file; `lines()` flushes and returns the raw lines.
function fileLogger (t, options) {
  const file = path.join(tempDir(t), 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 'test', ...options })
  t.after(() => log.close())
  return {
    log,
    file,
    lines: () => {
      assert.equal(log.flushSync(), true)
      return fs.readFileSync(file, 'utf8').trimEnd().split('\n')
    }
  }
}

function get (obj, keys) {
  return keys.reduce((o, k) => (o == null ? undefined : o[k]), obj)
}

function isSealed (value) {
  return typeof value === 'string' && /^\$pk1\$[\w-]+\$[\w-]{6}\$[\w-]{22}\$[\w-]{16}\$[\w-]{22,}$/.test(value)
}

test('every JSON type is encrypted and decrypts back to the same value and type', (t) => {
  const values = ['ann@example.com', '', 'é😀 "quoted" \\ \n\t\u0001', 0, -12.5, 1e21, 2 ** 53 + 2, true, false, null,
    {}, [], { a: 1, b: [1, 'two', { c: null }], d: { e: { f: true } } }, [1, [2, [3]], 'x'], 'x'.repeat(5000)]
  const { log, lines } = fileLogger(t, { encrypt: { paths: ['v', 'nested.v'], key: KEY_A } })
  for (const v of values) log.info({ v, nested: { v, keep: 1 } }, 'value')
  const written = lines()
  assert.equal(written.length, values.length)
  written.forEach((line, i) => {
    const entry = JSON.parse(line)
    assert.ok(isSealed(entry.v), `sealed: ${line.slice(0, 200)}`)
    assert.ok(isSealed(entry.nested.v))
    assert.equal(entry.nested.keep, 1)
    const clear = JSON.parse(prodkit.decryptLine(line, KEY_A))
    assert.deepEqual(clear.v, values[i])
    assert.deepEqual(clear.nested.v, values[i])
    assert.equal(clear.msg, 'value')
  })
})

test('wildcard, bracket and index paths; absent paths and values JSON leaves out change nothing', (t) => {
  const { log, lines } = fileLogger(t, {
    encrypt: { paths: ['cards.*.number', '*.password', 'headers["x-api-key"]', "headers['x.y']", 'items[1].secret', 'list[*]', 'user.email'], key: KEY_A }
  })
  const obj = {
    cards: [{ number: '4111', exp: 1 }, { number: '4222' }, { exp: 2 }],
    wallet: { visa: { number: 'not under cards' } },
    db: { password: 'pw1', user: 'u' },
    api: { password: 'pw2' },
    headers: { 'x-api-key': 'K', 'x.y': 'XY', other: 'o' },
    items: [{ secret: 's0' }, { secret: 's1' }],
    list: ['a', { b: 1 }],
    user: { id: 7 },
    fn: { password: () => 1 }
  }
  log.info(obj, 'paths')
  log.info({ nothing: { here: 1 }, user: 'a string, not an object' }, 'absent')
  const [line, absent] = lines()
  const entry = JSON.parse(line)
  for (const keys of [['cards', 0, 'number'], ['cards', 1, 'number'], ['db', 'password'], ['api', 'password'],
    ['headers', 'x-api-key'], ['headers', 'x.y'], ['items', 1, 'secret'], ['list', 0], ['list', 1]]) {
    assert.ok(isSealed(get(entry, keys)), keys.join('.'))
  }
  assert.deepEqual(entry.cards[2], { exp: 2 })
  assert.equal(entry.wallet.visa.number, 'not under cards')
  assert.equal(entry.db.user, 'u')
  assert.equal(entry.headers.other, 'o')
  assert.equal(entry.items[0].secret, 's0')
  assert.deepEqual(entry.user, { id: 7 })
  assert.deepEqual(entry.fn, {})
  assert.deepEqual(JSON.parse(prodkit.decryptLine(line, KEY_A)), { ...JSON.parse(JSON.stringify(obj)), ...pick(entry, ['level', 'time', 'pid', 'hostname', 'service', 'msg']) })
  assert.ok(!absent.includes('$pk1$'))
  assert.deepEqual(pick(JSON.parse(absent), ['nothing', 'user']), { nothing: { here: 1 }, user: 'a string, not an object' })
  assert.deepEqual(obj.cards[0], { number: '4111', exp: 1 }, "the app's object is not changed")
})

function pick (obj, keys) {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]))
}

test('a tampered byte, a wrong key, an unknown key id and a moved ciphertext are refused, each with its reason', (t) => {
  const { log, lines } = fileLogger(t, { encrypt: { paths: ['user.email', 'user.name'], key: KEY_A, keyId: 'k2025' } })
  log.info({ user: { email: 'ann@example.com', name: 'Ann' } }, 'x')
  const [line] = lines()
  const entry = JSON.parse(line)
  const reason = (text, keyring) => get(JSON.parse(prodkit.decryptLine(text, keyring)), ['user', 'email', 'decryptError'])
  assert.equal(JSON.parse(prodkit.decryptLine(line, { key: KEY_A, keyId: 'k2025' })).user.email, 'ann@example.com')
  const ct = entry.user.email
  const at = ct.length - 10
  const tampered = ct.slice(0, at) + (ct[at] === 'A' ? 'B' : 'A') + ct.slice(at + 1)
  assert.equal(reason(line.replace(ct, tampered), { key: KEY_A, keyId: 'k2025' }), 'tampered (or moved from another field)')
  assert.equal(reason(line, { key: KEY_B, keyId: 'k2025' }), 'wrong key')
  assert.equal(reason(line, KEY_A), 'unknown key id', 'the key under its default id')
  assert.equal(reason(line, [KEY_B]), 'unknown key id')
  const swapped = line.replace(ct, 'SWAP').replace(entry.user.name, ct).replace('SWAP', entry.user.name)
  const clear = JSON.parse(prodkit.decryptLine(swapped, { key: KEY_A, keyId: 'k2025' }))
  assert.equal(clear.user.email.decryptError, 'tampered (or moved from another field)')
  assert.equal(clear.user.name.decryptError, 'tampered (or moved from another field)')
  assert.equal(clear.user.email.ciphertext, entry.user.name, 'the ciphertext is kept for another try')
  assert.equal(prodkit.decryptLine('not json at all', KEY_A), 'not json at all')
  assert.equal(prodkit.decryptLine('{"a":"$pk1$garbage"}', KEY_A), '{"a":{"decryptError":"malformed: wrong number of fields","ciphertext":"$pk1$garbage"}}')
  assert.throws(() => prodkit.decryptLine(42, KEY_A), { name: 'TypeError' })
  assert.throws(() => prodkit.decryptLine(line, 'short'), { code: 'PRODKIT_KEY_INVALID' })
})

test('key rotation: a keyring with the old and the new key reads lines from both', (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'app.log')
  for (const [key, user] of [[KEY_A, 'old@example.com'], [KEY_B, 'new@example.com']]) {
    const log = prodkit.createLogger({ destination: file, encrypt: { paths: ['email'], key } })
    log.info({ email: user }, 'rotated')
    log.close()
  }
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n')
  const keyring = prodkit.createKeyring([KEY_B, KEY_A])
  assert.deepEqual(lines.map((l) => JSON.parse(prodkit.decryptLine(l, keyring)).email), ['old@example.com', 'new@example.com'])
  const onlyNew = lines.map((l) => JSON.parse(prodkit.decryptLine(l, KEY_B)).email)
  assert.equal(onlyNew[0].decryptError, 'unknown key id')
  assert.equal(onlyNew[1], 'new@example.com')
  assert.equal(keyring.ids.length, 2)
})

test('redact: a list of paths, a censor, remove, and redaction wins over encryption', (t) => {
  const obj = { user: { email: 'e', password: 'p', name: 'n' }, token: 't', list: [{ secret: 1 }, { secret: 2 }] }
  const cases = [
    [{ redact: ['user.password', 'token', 'list.*.secret'] }, { user: { email: 'e', password: '[Redacted]', name: 'n' }, token: '[Redacted]', list: [{ secret: '[Redacted]' }, { secret: '[Redacted]' }] }],
    [{ redact: { paths: ['user.password'], censor: '***' } }, { ...obj, user: { email: 'e', password: '***', name: 'n' } }],
    [{ redact: { paths: ['user.password', 'token'], remove: true } }, { user: { email: 'e', name: 'n' }, list: obj.list }]
  ]
  for (const [options, expected] of cases) {
    const { log, lines } = fileLogger(t, options)
    log.info(obj, 'r')
    assert.deepEqual(pick(JSON.parse(lines()[0]), ['user', 'token', 'list']), expected, JSON.stringify(options))
  }
  const { log, lines } = fileLogger(t, { redact: ['user.*'], encrypt: { paths: ['user.email', 'token'], key: KEY_A } })
  log.info(obj, 'both')
  const entry = JSON.parse(lines()[0])
  assert.deepEqual(entry.user, { email: '[Redacted]', password: '[Redacted]', name: '[Redacted]' })
  assert.ok(isSealed(entry.token))
  assert.deepEqual(obj.user, { email: 'e', password: 'p', name: 'n' })
})

test('bindings, base, errors, throwing getters and every call form are protected too', (t) => {
  const { log, lines, file } = fileLogger(t, {
    base: { tenant: { apiKey: 'base-secret' } },
    encrypt: { paths: ['tenant.apiKey', 'user.email', 'err.user.email'], key: KEY_A }
  })
  const child = log.child({ user: { email: 'child-secret' } })
  child.info('child %s', 'line')
  child.info({ user: { email: 'merge-secret' } }, 'merge wins in the merge object')
  log.error(Object.assign(new Error('boom'), { user: { email: 'error-secret' } }))
  log.warn({ user: { email: 'getter-secret', get bad () { throw new Error('no') } } }, 'getter')
  const circular = { user: { email: 'circular-secret' } }
  circular.self = circular
  log.info(circular, 'circular')
  log.info({ user: { email: 'extra-secret' } }, 'with %d args', 1, { x: 1 })
  log.info({ user: { email: 'big-secret' }, n: 10n }, 'bigint')
  const written = lines()
  const text = fs.readFileSync(file, 'utf8')
  assert.ok(!/secret/.test(text), `no secret in clear:\n${text}`)
  const clear = written.map((l) => JSON.parse(prodkit.decryptLine(l, KEY_A)))
  assert.equal(clear[0].tenant.apiKey, 'base-secret')
  assert.equal(clear[0].user.email, 'child-secret')
  assert.equal(clear[1].user.email, 'merge-secret')
  assert.equal(clear[2].err.user.email, 'error-secret')
  assert.equal(clear[2].err.message, 'boom')
  assert.equal(clear[3].user.email, 'getter-secret')
  assert.match(clear[3].user.bad, /Throws/)
  assert.equal(clear[4].user.email, 'circular-secret')
  assert.equal(clear[5].user.email, 'extra-secret')
  assert.equal(clear[6].user.email, 'big-secret')
  for (const entry of clear) assert.ok(!JSON.stringify(entry).includes('decryptError'))
})

test('invalid options throw TypeErrors that name the option; a missing or bad key fails closed', (t) => {
  const dir = tempDir(t)
  const make = (options, env) => prodkit.createLogger({ destination: path.join(dir, 'x.log'), ...options })
  const typeErrors = [
    [{ redact: 'token' }, /option log.redact must be an array of paths or \{ paths, censor, remove \} \(got "token"\)/],
    [{ redact: ['a..b'] }, /option log.redact\[0\] must be a path like .* \(got "a..b": expected a key at 2\)/],
    [{ redact: { paths: [] } }, /option log.redact.paths must be a non-empty array of paths/],
    [{ redact: { paths: ['a'], censor: {} } }, /option log.redact.censor must be a string, number, boolean, null or a function \(value, path\) => replacement \(got an object\)/],
    [{ redact: { paths: ['a'], remove: 'yes' } }, /option log.redact.remove must be a boolean/],
    [{ redact: { paths: ['a'], mask: 1 } }, /unknown option log.redact.mask/],
    [{ encrypt: ['a'] }, /option log.encrypt must be \{ paths, keyEnv \| keyFile \| key, keyId \}/],
    [{ encrypt: { paths: ['a[x]'], key: KEY_A } }, /option log.encrypt.paths\[0\] must be a path/],
    [{ encrypt: { paths: ['a'] } }, /option log.encrypt needs exactly one of keyEnv, keyFile or key \(got none\)/],
    [{ encrypt: { paths: ['a'], key: KEY_A, keyEnv: 'X' } }, /needs exactly one of keyEnv, keyFile or key \(got keyEnv and key\)/],
    [{ encrypt: { paths: ['a'], key: KEY_A, keyId: 'has space' } }, /option log.encrypt.keyId must be 1 to 32 characters/],
    [{ encrypt: { paths: ['a'], key: 12345 } }, /option log.encrypt.key must be a string \(base64 or hex\) or a Buffer \(got number\)/]
  ]
  for (const [options, message] of typeErrors) {
    assert.throws(() => make(options), { name: 'TypeError', message }, JSON.stringify(options))
  }
  delete process.env.PRODKIT_TEST_NO_SUCH_KEY
  assert.throws(() => make({ encrypt: { paths: ['a'], keyEnv: 'PRODKIT_TEST_NO_SUCH_KEY' } }),
    { code: 'PRODKIT_KEY_MISSING', message: /environment variable PRODKIT_TEST_NO_SUCH_KEY is not set or empty/ })
  assert.throws(() => make({ encrypt: { paths: ['a'], keyFile: path.join(dir, 'missing.key') } }),
    { code: 'PRODKIT_KEY_MISSING', message: /cannot read the key file .*missing.key \(ENOENT\)/ })
  const short = randomBytes(16).toString('base64')
  for (const [key, why] of [[short, 'the key decodes to 16 bytes, not 32'], ['not a key at all!', 'the key is neither base64 nor hex']]) {
    const err = captureError(() => make({ encrypt: { paths: ['a'], key } }))
    assert.equal(err.code, 'PRODKIT_KEY_INVALID')
    assert.equal(err.message, `prodkit: log.encrypt: the key from log.encrypt.key is not usable: ${why}`)
    assert.ok(!err.stack.includes(key))
  }
})

function captureError (fn) {
  try {
    fn()
  } catch (err) {
    return err
  }
  assert.fail('did not throw')
}

test('a key file readable by group or others gives a warning; a private one does not', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'log.key')
  fs.writeFileSync(file, KEY_A + '\n', { mode: 0o644 })
  fs.chmodSync(file, 0o644)
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  t.after(() => process.off('warning', onWarning))
  const open = () => prodkit.createLogger({ destination: path.join(dir, 'x.log'), encrypt: { paths: ['a'], keyFile: file } }).close()
  open()
  fs.chmodSync(file, 0o600)
  open()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(warnings.length, 1)
  assert.equal(warnings[0].code, 'PRODKIT_KEY_FILE_MODE')
  assert.match(warnings[0].message, /can be read by group or others \(mode 0644\); run chmod 600/)
  assert.ok(!warnings[0].message.includes(KEY_A))
})

test('lines with sealed fields stay valid JSON and in order under many lines and small batches', (t) => {
  const { log, file } = fileLogger(t, { encrypt: { paths: ['user.email'], key: KEY_A }, queueBytes: 65536 })
  for (let i = 0; i < 20000; i++) log.info({ i, user: { email: `u${i}@x.io` } }, 'many')
  assert.equal(log.flushSync(), true)
  const entries = readJsonLines(file)
  assert.equal(entries.length, 20000)
  const keyring = prodkit.createKeyring(KEY_A)
  entries.forEach((entry, i) => {
    assert.equal(entry.i, i)
    if (i % 1000 === 0) assert.equal(JSON.parse(prodkit.decryptLine(JSON.stringify(entry), keyring)).user.email, `u${i}@x.io`)
  })
})

test('paths match the JSON the line holds: toJSON results, and cycles back to the app object', (t) => {
  const { log, lines, file } = fileLogger(t, { encrypt: { paths: ['user.email', 'when'], key: KEY_A } })
  class User {
    constructor (email) { this._email = email }
    toJSON () { return { email: this._email } }
  }
  log.info({ user: new User('tojson-secret'), when: new Date(0) }, 'toJSON')
  const loop = { user: { email: 'cycle-secret' } }
  loop.back = loop
  log.info(loop, 'cycle')
  const written = lines()
  assert.ok(!fs.readFileSync(file, 'utf8').includes('secret'))
  const clear = written.map((l) => JSON.parse(prodkit.decryptLine(l, KEY_A)))
  assert.equal(clear[0].user.email, 'tojson-secret')
  assert.equal(clear[0].when, '1970-01-01T00:00:00.000Z')
  assert.equal(clear[1].user.email, 'cycle-secret')
  assert.equal(clear[1].back, '[Circular]')
})

test("the README's decryptLine example runs and prints the value back", () => {
  const result = require('node:child_process').spawnSync(process.execPath, [path.join(__dirname, '..', 'examples', 'decrypt-line.js')], { encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  const [sealed, clear, email] = result.stdout.trimEnd().split('\n')
  assert.ok(isSealed(JSON.parse(sealed).user.email))
  assert.equal(JSON.parse(clear).card.number, '4111 1111 1111 1111')
  assert.equal(email, 'ann@example.com')
})

test('install() with encryption and no key throws, and sets nothing up', async () => {
  const { runNode } = require('./helpers')
  const code = `
    const prodkit = require('./')
    try { prodkit.install({ log: { encrypt: { paths: ['a'], keyEnv: 'PRODKIT_TEST_MISSING' } } }) } catch (err) { console.log(err.code + ' ' + err.message) }
    console.log(String(prodkit.log))
    const kit = prodkit.install({ log: { encrypt: { paths: ['a'], keyEnv: 'PRODKIT_TEST_KEY' }, destination: 'stderr' } })
    kit.log.info({ a: 'secret' }, 'installed')`
  const result = await runNode(code, { env: { PRODKIT_TEST_KEY: KEY_A } })
  assert.equal(result.code, 0, result.stderr)
  const [error, log] = result.stdout.trim().split('\n')
  assert.match(error, /^PRODKIT_KEY_MISSING prodkit: log.encrypt: the environment variable PRODKIT_TEST_MISSING is not set or empty/)
  assert.equal(log, 'undefined')
  // install() also logs its startup lines; the app's line is the one with its message.
  const line = result.stderr.trim().split('\n').find((l) => l.includes('"msg":"installed"'))
  assert.ok(!result.stderr.includes('secret'))
  assert.equal(JSON.parse(prodkit.decryptLine(line, KEY_A)).a, 'secret')
})

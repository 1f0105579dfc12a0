'use strict'
// prodkit.context: the fields of a run reach every logger's lines through async work,
// never twice a key, protected like bindings; requestLogger's id in every line of a
// request (Express 4 and 5 over loopback); OpenTelemetry trace ids as
// instrumentation-pino writes them (real SDK and HTTP instrumentation, in a child process).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { randomBytes } = require('node:crypto')
const { spawn } = require('node:child_process')
const prodkit = require('..')
const { ROOT, tempDir, readJsonLines, parseJsonLines } = require('./helpers')

const { context } = prodkit

function fileLogger (t, options = {}) {
  const file = path.join(tempDir(t, 'prodkit-context'), 'app.log')
  const log = prodkit.createLogger({ destination: file, service: 'ctx', level: 'debug', ...options })
  t.after(() => log.close())
  return {
    log,
    file,
    raw: () => {
      assert.equal(log.flushSync(), true)
      return fs.readFileSync(file, 'utf8')
    },
    lines: () => {
      assert.equal(log.flushSync(), true)
      return readJsonLines(file)
    }
  }
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Every top-level key of every raw line appears once (JSON.parse would hide a repeated key):
// keys counted in the text at depth 1, strings skipped.
function assertNoRepeatedKey (text) {
  for (const line of text.trimEnd().split('\n')) {
    JSON.parse(line)
    let depth = 0
    const counts = new Map()
    for (let i = 0; i < line.length; i++) {
      const c = line[i]
      if (c === '"') {
        const m = /^"((?:[^"\\]|\\.)*)"/.exec(line.slice(i))
        if (depth === 1 && (line[i - 1] === '{' || line[i - 1] === ',') && line[i + m[0].length] === ':') {
          counts.set(m[1], (counts.get(m[1]) || 0) + 1)
        }
        i += m[0].length - 1
      } else if (c === '{' || c === '[') depth++
      else if (c === '}' || c === ']') depth--
    }
    assert.ok(counts.size > 0)
    for (const [key, n] of counts) assert.equal(n, 1, `key ${key} appears ${n} times in ${line}`)
  }
}

test('run() makes its bindings active for fn and returns what fn returns; get() reads them', async () => {
  assert.equal(context.get(), undefined)
  const value = context.run({ job: 'a' }, () => {
    assert.deepEqual(context.get(), { job: 'a' })
    assert.equal(Object.isFrozen(context.get()), true)
    return 42
  })
  assert.equal(value, 42)
  const promised = await context.run({ job: 'b' }, async () => {
    await pause(1)
    return context.get().job
  })
  assert.equal(promised, 'b')
  assert.equal(context.get(), undefined)
  context.run({ a: 1, b: 1 }, () => {
    context.run({ b: 2, c: 3 }, () => {
      assert.deepEqual(context.get(), { a: 1, b: 2, c: 3 })
      assert.deepEqual(Object.keys(context.get()), ['a', 'b', 'c'])
    })
    assert.deepEqual(context.get(), { a: 1, b: 1 })
  })
  // The caller's object is copied: changing it later changes nothing.
  const bindings = { k: 1 }
  context.run(bindings, () => {
    bindings.k = 2
    assert.equal(context.get().k, 1)
  })
  // What fn throws goes to the caller, and the run ends.
  assert.throws(() => context.run({ x: 1 }, () => { throw new Error('from fn') }), /from fn/)
  assert.equal(context.get(), undefined)
})

test('bad arguments are TypeErrors that name the argument', () => {
  for (const bad of [null, undefined, 'id', 42, ['a'], () => {}]) {
    assert.throws(() => context.run(bad, () => {}), (err) => err instanceof TypeError && /context\.run\(bindings, fn\): bindings must be an object/.test(err.message))
  }
  for (const bad of [undefined, null, 'fn', {}]) {
    assert.throws(() => context.run({ a: 1 }, bad), (err) => err instanceof TypeError && /fn must be a function/.test(err.message))
  }
})

test('every logger carries the run through awaits, timers, promise chains, nextTick and I/O callbacks', async (t) => {
  const { log, lines } = fileLogger(t)
  const child = log.child({ module: 'db' }) // made before the run
  const other = fileLogger(t)
  await context.run({ requestId: 'r-1' }, async () => {
    log.info({ where: 'sync' }, 'm')
    child.info('child sync')
    await pause(2)
    log.info({ where: 'await' }, 'm')
    await new Promise((resolve) => setTimeout(() => { child.warn({ where: 'timeout' }, 'm'); resolve() }, 1))
    await new Promise((resolve) => setImmediate(() => { log.error({ where: 'immediate' }, 'm'); resolve() }))
    await new Promise((resolve) => process.nextTick(() => { log.debug({ where: 'tick' }, 'm'); resolve() }))
    await Promise.resolve().then(() => pause(1)).then(() => child.info({ where: 'then' }, 'm'))
    await new Promise((resolve) => fs.readFile(__filename, () => { log.info({ where: 'fs callback' }, 'm'); resolve() }))
    other.log.info({ where: 'another logger' }, 'm')
    log.child({ made: 'inside' }).info({ where: 'child made in the run' }, 'm')
    log.info(new Error('boom'))
    log.info('just a message %s', 'formatted')
  })
  log.info({ where: 'after' }, 'm')
  const all = lines()
  const inside = all.slice(0, -1)
  assert.equal(inside.length, 11)
  for (const line of inside) assert.equal(line.requestId, 'r-1', JSON.stringify(line))
  assert.equal(all.at(-1).requestId, undefined)
  assert.equal(other.lines()[0].requestId, 'r-1')
})

test('concurrent runs never see each other\'s fields', async (t) => {
  const { log, lines } = fileLogger(t)
  const child = log.child({ module: 'worker' })
  await Promise.all(Array.from({ length: 30 }, (_, i) => context.run({ jobId: i }, async () => {
    for (let step = 0; step < 4; step++) {
      await pause((i * 7 + step * 3) % 5)
      ;(step % 2 ? child : log).info({ mine: i, step }, 'step')
    }
  })))
  const all = lines()
  assert.equal(all.length, 120)
  for (const line of all) assert.equal(line.jobId, line.mine)
})

test('key order and precedence: merge object > logger bindings > run; level, time and msg are never taken from a run', (t) => {
  const { log, raw } = fileLogger(t, { base: { region: 'eu' } })
  const child = log.child({ requestId: 'from-child', module: 'db' })
  context.run({ requestId: 'from-run', tenant: 't1', region: 'run', level: 99, time: 1, msg: 'run', pid: 1, hostname: 'h', service: 's' }, () => {
    log.info({ a: 1 }, 'fast path')
    log.info({ tenant: 'from-merge', a: 2 }, 'merge wins')
    child.info({ b: 1 }, 'bindings win')
    child.info({ tenant: 'merge', b: 2 }, 'merge and bindings win over the run')
    log.info('message only')
    log.info({ err: new Error('e') }, 'error value: general path')
    log.info(new Error('an error'))
    context.run({ err: 'from run' }, () => log.error(new Error('err key taken by the error')))
    context.run({ value: 'from run' }, () => log.info([1, 2], 'an array goes under value'))
    context.run({ tenant: undefined }, () => log.info('an inner undefined drops the key'))
    context.run({ when: 'x' }, () => log.info({ toJSON: () => ({ when: 'toJSON' }) }, 'toJSON view'))
    context.run({ value: 'run' }, () => log.info({ get toJSON () { throw new Error('getter') } }, 'a throwing toJSON getter: the object is a marker under value'))
  })
  const text = raw()
  assertNoRepeatedKey(text)
  const lines = parseJsonLines(text)
  const base = ['level', 'time', 'pid', 'hostname', 'service', 'region']
  assert.deepEqual(Object.keys(lines[0]), [...base, 'requestId', 'tenant', 'a', 'msg'])
  assert.equal(lines[0].requestId, 'from-run')
  assert.equal(lines[0].level, 30)
  assert.equal(lines[0].region, 'eu')
  assert.equal(lines[0].msg, 'fast path')
  assert.deepEqual(Object.keys(lines[1]), [...base, 'requestId', 'tenant', 'a', 'msg'])
  assert.equal(lines[1].tenant, 'from-merge')
  assert.deepEqual(Object.keys(lines[2]), [...base, 'requestId', 'module', 'tenant', 'b', 'msg'])
  assert.equal(lines[2].requestId, 'from-child')
  assert.deepEqual(Object.keys(lines[3]), [...base, 'requestId', 'module', 'tenant', 'b', 'msg'])
  assert.equal(lines[3].requestId, 'from-child')
  assert.equal(lines[3].tenant, 'merge')
  assert.deepEqual(Object.keys(lines[4]), [...base, 'requestId', 'tenant', 'msg'])
  assert.equal(lines[5].err.message, 'e')
  assert.equal(lines[5].tenant, 't1')
  assert.equal(lines[6].err.message, 'an error')
  assert.equal(lines[7].err.message, 'err key taken by the error')
  assert.deepEqual(lines[8].value, [1, 2])
  assert.equal(lines[9].tenant, undefined)
  assert.equal(lines[9].requestId, 'from-run')
  assert.equal(lines[10].when, 'toJSON')
  assert.equal(lines[11].value, '[Throws: Error: getter]')
  assert.equal(lines[11].requestId, 'from-run')
})

test('without a run (and without OpenTelemetry) lines are exactly as before', (t) => {
  const { log, raw } = fileLogger(t)
  log.info({ a: 1 }, 'm')
  context.run({ x: 1 }, () => {})
  log.info({ a: 1 }, 'm')
  log.info('plain')
  const lines = parseJsonLines(raw())
  for (const line of lines) assert.deepEqual(Object.keys(line).filter((k) => !['level', 'time', 'pid', 'hostname', 'service', 'a', 'msg'].includes(k)), [])
})

test('values the run cannot serialise as they are (cycles, BigInt, long strings) still give valid lines', (t) => {
  const { log, raw } = fileLogger(t, { maxStringLength: 20 })
  const cyclic = { name: 'c' }
  cyclic.self = cyclic
  context.run({ cyclic, big: 10n, long: 'x'.repeat(100) }, () => log.info({ a: 1 }, 'm'))
  const [line] = parseJsonLines(raw())
  assert.equal(line.cyclic.self, '[Circular]')
  assert.equal(line.big, '10')
  assert.match(line.long, /^x{20}\.\.\.\[truncated 80 chars\]$/)
})

test('a logger\'s redact and encrypt apply to the run\'s fields', (t) => {
  const redacting = fileLogger(t, { redact: ['token', 'user.email'] })
  const removing = fileLogger(t, { redact: { paths: ['token'], remove: true } })
  const key = randomBytes(32).toString('base64')
  const sealing = fileLogger(t, { encrypt: { paths: ['email'], key } })
  context.run({ token: 'secret-token', user: { email: 'ann@example.com', id: 7 }, email: 'bob@example.com', requestId: 'r' }, () => {
    redacting.log.info({ a: 1 }, 'fast')
    redacting.log.info('general')
    removing.log.info({ a: 1 }, 'fast')
    sealing.log.info({ a: 1 }, 'fast')
    sealing.log.info('general')
    sealing.log.child({ c: 1 }).info({ email: 'merge@example.com' }, 'merge wins')
    sealing.log.info({ requestId: 'mine' }, 'a key shared with the run: the fields go inline')
  })
  const redacted = redacting.raw()
  assert.doesNotMatch(redacted, /secret-token|ann@example\.com/)
  for (const line of parseJsonLines(redacted)) {
    assert.equal(line.token, '[Redacted]')
    assert.deepEqual(line.user, { email: '[Redacted]', id: 7 })
    assert.equal(line.requestId, 'r')
  }
  const [removed] = parseJsonLines(removing.raw())
  assert.equal('token' in removed, false)
  const sealed = sealing.raw()
  assert.doesNotMatch(sealed, /bob@example\.com|merge@example\.com/)
  const lines = sealed.trimEnd().split('\n')
  assert.equal(lines.length, 4)
  for (const line of lines) {
    const parsed = JSON.parse(line)
    assert.match(parsed.email, /^\$pk1\$/)
    assert.equal(parsed.requestId, line === lines[3] ? 'mine' : 'r')
  }
  assert.equal(JSON.parse(prodkit.decryptLine(lines[3], key)).email, 'bob@example.com')
  assert.equal(JSON.parse(prodkit.decryptLine(lines[0], key)).email, 'bob@example.com')
  assert.equal(JSON.parse(prodkit.decryptLine(lines[1], key)).email, 'bob@example.com')
  assert.equal(JSON.parse(prodkit.decryptLine(lines[2], key)).email, 'merge@example.com')
  assertNoRepeatedKey(sealed)
})

// The Express app of fixtures/context-app.js in a child process; concurrent requests.
for (const [name, pkg] of [['Express 4', 'express'], ['Express 5', 'express5']]) {
  test(`${name}: inside requestLogger every line of every logger carries the request's id`, async (t) => {
    const file = path.join(tempDir(t, 'prodkit-context'), 'app.log')
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'context-app.js'), pkg, file], {
      cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    t.after(() => child.kill('SIGKILL'))
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
    child.stdout.resume()
    const exited = new Promise((resolve) => child.on('exit', resolve))
    const port = await new Promise((resolve, reject) => {
      child.once('message', resolve)
      child.once('exit', () => reject(new Error(`the app exited: ${stderr}`)))
    })
    const ids = Array.from({ length: 12 }, (_, n) => (n % 3 === 0 ? null : `req-${n}`))
    const answers = await Promise.all(ids.map(async (id, n) => {
      const res = await fetch(`http://127.0.0.1:${port}/work/${n}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(id ? { 'x-request-id': id } : {}) },
        body: JSON.stringify({ n })
      })
      assert.equal(res.status, 200)
      return res.json()
    }))
    child.send('stop')
    await exited
    assert.equal(stderr, '')
    const idOf = new Map(answers.map((a) => [a.n, a.id]))
    for (const [n, answer] of answers.entries()) {
      if (ids[n]) assert.equal(answer.id, ids[n])
      assert.deepEqual(answer.context, { requestId: answer.id })
    }
    const lines = [...readJsonLines(file), ...readJsonLines(file + '.own')]
    const routeLines = lines.filter((l) => l.where !== undefined)
    // Per request: 3 sync, 2 after await, 2 in setTimeout, 1 in the promise chain.
    assert.equal(routeLines.length, 12 * 8)
    for (const line of routeLines) assert.equal(line.requestId, idOf.get(line.n), JSON.stringify(line))
    assert.equal(routeLines.filter((l) => l.where === 'await' && l.body === Number(l.n)).length, 12)
    const completed = lines.filter((l) => l.msg === 'request completed')
    assert.equal(completed.length, 12)
    for (const line of completed) assert.equal(line.requestId, idOf.get(line.req.url.split('/').pop()))
    assertNoRepeatedKey(fs.readFileSync(file, 'utf8'))
    // Outside requests: no requestId.
    assert.equal(lines.find((l) => l.msg === 'prodkit installed').requestId, undefined)
  })
}

test('OpenTelemetry: inside a span, lines carry its trace_id, span_id and trace_flags as instrumentation-pino writes them', async (t) => {
  const file = path.join(tempDir(t, 'prodkit-context'), 'otel.log')
  const { stdout, stderr, code } = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'context-otel.js'), file], { cwd: ROOT })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d })
    child.on('error', reject)
    child.on('close', (c) => resolve({ stdout: out, stderr: err, code: c }))
  })
  assert.equal(code, 0, stderr)
  const { spans, lines: text, redacted } = JSON.parse(stdout)
  assertNoRepeatedKey(text)
  const lines = parseJsonLines(text)
  const byMsg = (msg) => lines.filter((l) => l.msg === msg)
  // The HTTP server spans (SpanKind.SERVER = 1), one per request path.
  const serverSpans = new Map(spans.filter((s) => s.kind === 1).map((s) => [s.path, s]))
  assert.equal(serverSpans.size, 3)
  for (const msg of ['in the request', 'after await']) {
    const found = byMsg(msg)
    assert.equal(found.length, 3)
    for (const line of found) {
      const span = serverSpans.get('/' + line.n)
      assert.equal(line.trace_id, span.traceId)
      assert.equal(line.span_id, span.spanId)
      assert.equal(line.trace_flags, '01')
      assert.deepEqual(Object.keys(line), ['level', 'time', 'pid', 'hostname', 'service', 'trace_id', 'span_id', 'trace_flags', 'n', 'msg'])
    }
  }
  for (const line of byMsg('merge object wins')) {
    assert.equal(line.trace_id, 'mine')
    assert.equal(line.span_id, serverSpans.get('/' + line.n).spanId)
  }
  for (const line of byMsg('in a run')) {
    assert.deepEqual(Object.keys(line), ['level', 'time', 'pid', 'hostname', 'service', 'job', 'trace_id', 'span_id', 'trace_flags', 'msg'])
    assert.equal(line.trace_id, serverSpans.get('/' + line.job).traceId)
  }
  const [unsampled] = byMsg('unsampled')
  assert.deepEqual([unsampled.trace_id, unsampled.span_id, unsampled.trace_flags], ['a'.repeat(32), 'b'.repeat(16), '00'])
  const manual = spans.find((s) => s.name === 'manual')
  assert.equal(byMsg('manual span')[0].span_id, manual.spanId)
  for (const msg of ['before any span', 'invalid span', 'after the spans']) {
    assert.equal(byMsg(msg)[0].trace_id, undefined, msg)
    assert.equal(byMsg(msg)[0].span_id, undefined, msg)
  }
  // A logger's redact applies to the trace fields too.
  for (const line of parseJsonLines(redacted)) {
    assert.equal(line.span_id, '[Redacted]')
    assert.equal(line.trace_id, serverSpans.get('/' + line.n).traceId)
  }
})

test('loggers with pino\'s shape options (messageKey, timestamp, msgPrefix) carry a run\'s fields too, never a key twice', (t) => {
  const { log, raw } = fileLogger(t, { messageKey: 'message', timestamp: prodkit.stdTimeFunctions.isoTime, msgPrefix: '[job] ' })
  context.run({ job: 'nightly', tenant: 't1' }, () => {
    log.info('started')
    log.info({ tenant: 'own' }, 'with its own tenant')
    log.child({ job: 'child-job' }).warn('from a child')
  })
  log.info('outside')
  const text = raw()
  assertNoRepeatedKey(text)
  const lines = parseJsonLines(text)
  assert.deepEqual(lines.map((l) => [l.message, l.job, l.tenant]), [
    ['[job] started', 'nightly', 't1'],
    ['[job] with its own tenant', 'nightly', 'own'],
    ['[job] from a child', 'child-job', 't1'],
    ['[job] outside', undefined, undefined]
  ])
  assert.ok(lines.every((l) => typeof l.time === 'string'), 'ISO times')
})

test('a run never overrides or repeats the keys a shaped logger writes itself: its messageKey, nestedKey and level key', (t) => {
  const { log, raw } = fileLogger(t, {
    messageKey: 'message',
    nestedKey: 'payload',
    formatters: { level: (label) => ({ severity: label.toUpperCase() }) }
  })
  context.run({ message: 'from the run', payload: 'run', severity: 'run', job: 'j1' }, () => {
    log.info({ a: 1 }, 'the real message')
  })
  const text = raw()
  assertNoRepeatedKey(text)
  const [line] = parseJsonLines(text)
  assert.equal(line.message, 'the real message')
  assert.deepEqual(line.payload, { a: 1 })
  assert.equal(line.severity, 'INFO')
  assert.equal(line.job, 'j1')
})

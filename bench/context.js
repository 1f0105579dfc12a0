'use strict'
// `node bench/context.js [--rounds 5] [--lines 200000]`: the JS time per line of the
// benchmark's common line (bench/log.js) with prodkit.context (docs/context.md):
//   none      no run ever started, no OpenTelemetry: the cost every app pays
//   run       inside context.run({ requestId, tenant })
//   otel      OpenTelemetry SDK registered, inside an active span
//   otel-run  both
// Each mode in its own process (a run or a registered SDK changes the process for good),
// taking turns over the rounds; the median is reported. Lines go to a file under bench/out.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { parseArgs } = require('node:util')

const MODES = ['none', 'run', 'otel', 'otel-run']
const OUT_DIR = path.join(__dirname, 'out')

function worker (mode, file, lines) {
  if (mode.startsWith('otel')) {
    const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node')
    new NodeTracerProvider().register()
  }
  const prodkit = require('..')
  const log = prodkit.createLogger({ destination: file, service: 'bench', level: 'info' })
  const loop = (from, to) => {
    for (let i = from; i < to; i++) {
      log.info({ user: { id: i, email: `user${i}@example.com` }, orderId: `ord-${i}`, amount: 12.5 + i }, 'order placed')
    }
  }
  const timed = () => {
    const warm = Math.floor(lines / 20)
    loop(0, warm)
    const t0 = process.hrtime.bigint()
    loop(warm, lines)
    return Number(process.hrtime.bigint() - t0) / (lines - warm)
  }
  let body = timed
  if (mode.endsWith('run')) {
    const inner = body
    body = () => prodkit.context.run({ requestId: '3f1c9a52-8d7e-4c1b-9a0e-2b6d5f8e7c41', tenant: 'acme' }, inner)
  }
  if (mode.startsWith('otel')) {
    const api = require('@opentelemetry/api')
    const inner = body
    body = () => api.trace.getTracer('bench').startActiveSpan('work', (span) => { const r = inner(); span.end(); return r })
  }
  const nsPerLine = body()
  log.flush().then((flushed) => {
    log.close()
    process.stdout.write(JSON.stringify({ mode, nsPerLine, flushed }) + '\n')
  })
}

function main () {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, lines: { type: 'string', default: '200000' } } })
  const rounds = Number(values.rounds)
  const lines = Number(values.lines)
  fs.mkdirSync(OUT_DIR, { recursive: true })
  const results = Object.fromEntries(MODES.map((m) => [m, []]))
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < MODES.length; k++) {
      const mode = MODES[(k + round) % MODES.length]
      const file = path.join(OUT_DIR, `context-${mode}.log`)
      fs.rmSync(file, { force: true })
      const r = spawnSync(process.execPath, [__filename, '--worker', mode, file, String(lines)], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`${mode} failed: ${r.stderr}`)
      const { nsPerLine, flushed } = JSON.parse(r.stdout)
      if (!flushed) throw new Error(`${mode}: the flush failed`)
      results[mode].push(nsPerLine)
      console.log(`round ${round + 1}/${rounds} ${mode.padEnd(8)} ${(nsPerLine / 1000).toFixed(2)} µs/line`)
      fs.rmSync(file, { force: true })
    }
  }
  const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)] }
  const base = median(results.none)
  console.log(`\n## Context benchmark: ${lines.toLocaleString('en-US')} lines, median of ${rounds} rounds\n`)
  console.log('| mode | JS µs/line | vs none |\n| --- | ---: | ---: |')
  for (const mode of MODES) {
    const m = median(results[mode])
    console.log(`| ${mode} | ${(m / 1000).toFixed(2)} | ${(m / base).toFixed(2)} |`)
  }
}

if (process.argv[2] === '--worker') worker(process.argv[3], process.argv[4], Number(process.argv[5]))
else main()

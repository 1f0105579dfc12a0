'use strict'
// `npm run bench:rotate`: what rotation and gzip cost the JavaScript thread, and how fast
// rotated files are compressed.
//
//   node bench/rotate.js [--rounds 5] [--lines 1000000] [--size 16MiB]
//
// Two contenders log the same lines (those of bench/log.js) in the same run, each in its
// own process (bench/rotate-worker.js), taking turns over the rounds: prodkit writing one
// file, and prodkit rotating it every --size with gzip on. The size is small so that
// rotations and compression happen while the loop runs, not after it. The figure that
// matters is JS-thread time per line, rotate / plain (target: within 10%). Compression
// throughput is measured twice: from the archive thread's CPU time while the app logs,
// and as wall time compressing a plain rotated file alone (the start-up sweep of a
// logger, as after a crash). Every run's files, plain and .gz, are read back: each
// orderId once, each line valid JSON.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const zlib = require('node:zlib')
const { spawnSync } = require('node:child_process')
const { parseArgs } = require('node:util')

const WORKER = path.join(__dirname, 'rotate-worker.js')
const OUT_DIR = path.join(__dirname, 'out')
const CONTENDERS = ['plain', 'rotate']
const TARGET_JS_RATIO = 1.1
// The plain rotated file the compress-only runs compress, in MB.
const ALONE_MB = 64

function parseOptions () {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      lines: { type: 'string', default: '1000000' },
      size: { type: 'string', default: '16MiB' },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    console.log('usage: node bench/rotate.js [--rounds N] [--lines N] [--size 16MiB]')
    process.exit(0)
  }
  const positive = (name, text) => {
    const n = Number(text)
    if (!Number.isSafeInteger(n) || n < 1) {
      console.error(`bench/rotate.js: ${name} must be a positive integer (got ${JSON.stringify(text)})`)
      process.exit(2)
    }
    return n
  }
  return { rounds: positive('--rounds', values.rounds), lines: positive('--lines', values.lines), size: values.size }
}

function runWorker (contender, dir, { lines, size }) {
  const child = spawnSync(process.execPath, [WORKER, contender, dir, String(lines), size], { encoding: 'utf8' })
  if (child.status !== 0) {
    return { error: `worker exit ${child.status ?? child.signal}: ${child.stderr.trim().split('\n').slice(-3).join(' | ')}` }
  }
  if (child.stderr.trim() !== '') process.stderr.write(child.stderr)
  return JSON.parse(child.stdout.trim().split('\n').pop())
}

// Reads every file of a run (plain and .gz) line by line: each line valid JSON, each
// orderId from ord-0 to ord-<lines-1> exactly once.
async function checkRun (dir, lines) {
  const seen = new Uint8Array(lines)
  const problems = []
  let count = 0
  let bad = 0
  for (const name of fs.readdirSync(dir).filter((n) => /\.log(\.gz)?$/.test(n))) {
    let input = fs.createReadStream(path.join(dir, name))
    if (name.endsWith('.gz')) input = input.pipe(zlib.createGunzip())
    for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
      count++
      let id
      try {
        id = JSON.parse(text).orderId
      } catch {
        bad++
        if (problems.length < 5) problems.push(`${name}: invalid JSON: ${text.slice(0, 80)}`)
        continue
      }
      const i = typeof id === 'string' && /^ord-\d+$/.test(id) ? Number(id.slice(4)) : -1
      if (i < 0 || i >= lines || seen[i]) {
        bad++
        if (problems.length < 5) problems.push(`${name}: unexpected or repeated orderId ${id}`)
      } else {
        seen[i] = 1
      }
    }
  }
  const missing = lines - seen.reduce((sum, s) => sum + s, 0)
  if (missing > 0) problems.push(`${missing} orderIds missing`)
  return { ok: bad === 0 && missing === 0 && count === lines, lines: count, problems }
}

// A plain rotated file of ALONE_MB of the benchmark's lines, made once and copied into
// each compress-only run's folder.
function aloneTemplate () {
  const file = path.join(OUT_DIR, 'rotate-alone-template.log')
  if (fs.existsSync(file) && fs.statSync(file).size >= ALONE_MB * 1e6) return file
  const fd = fs.openSync(file, 'w')
  let written = 0
  for (let i = 0; written < ALONE_MB * 1e6; i++) {
    let chunk = ''
    for (let j = 0; j < 1000; j++) {
      const n = i * 1000 + j
      chunk += JSON.stringify({ level: 30, time: 1764066842000 + n, pid: 4211, hostname: 'bench', service: 'bench', user: { id: n, email: `user${n}@example.com` }, orderId: `ord-${n}`, amount: 12.5 + n, msg: 'order placed' }) + '\n'
    }
    written += fs.writeSync(fd, chunk)
  }
  fs.closeSync(fd)
  return file
}

function median (values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function main () {
  const options = parseOptions()
  fs.mkdirSync(OUT_DIR, { recursive: true })
  const template = aloneTemplate()
  const runs = { plain: [], rotate: [], alone: [] }
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 ? [...CONTENDERS].reverse() : CONTENDERS
    for (const contender of order) {
      const dir = path.join(OUT_DIR, `rotate-${contender}`)
      fs.rmSync(dir, { recursive: true, force: true })
      fs.mkdirSync(dir)
      const result = runWorker(contender, dir, options)
      if (!result.error) result.integrity = await checkRun(dir, options.lines)
      fs.rmSync(dir, { recursive: true, force: true })
      runs[contender].push(result)
      const text = result.error
        ? `FAILED ${result.error}`
        : `${(result.jsNsPerLine / 1000).toFixed(3)} µs/line, ${Math.round(result.linesPerSec)} lines/s` +
          (contender === 'rotate' ? `, ${result.rotations} rotations, gzip ${mbps(result.compressedBytes, result.compressMs)} MB/s CPU` : '') +
          `, integrity ${result.integrity.ok ? 'ok' : 'FAIL'}`
      process.stderr.write(`round ${round + 1}/${options.rounds} ${contender.padEnd(6)} ${text}\n`)
    }
    const dir = path.join(OUT_DIR, 'rotate-alone')
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir)
    fs.copyFileSync(template, path.join(dir, 'app.2026-01-01T00-00-00.000Z.log'))
    const alone = runWorker('compress-only', dir, options)
    fs.rmSync(dir, { recursive: true, force: true })
    runs.alone.push(alone)
    process.stderr.write(`round ${round + 1}/${options.rounds} alone  ${alone.error ? `FAILED ${alone.error}` : `gzip ${mbps(alone.bytes, alone.wallMs)} MB/s wall`}\n`)
  }

  const ok = (r) => !r.error
  const summary = {}
  for (const c of CONTENDERS) {
    const done = runs[c].filter(ok)
    summary[c] = {
      jsNsPerLine: median(done.map((r) => r.jsNsPerLine)),
      linesPerSec: median(done.map((r) => r.linesPerSec)),
      processCpuNsPerLine: median(done.map((r) => r.processCpuNsPerLine)),
      integrityOk: runs[c].every((r) => ok(r) && r.integrity.ok && r.flushed === true),
      problems: runs[c].flatMap((r) => (ok(r) ? r.integrity.problems : [r.error]))
    }
  }
  const rotated = runs.rotate.filter(ok)
  summary.rotate.rotations = median(rotated.map((r) => r.rotations))
  summary.rotate.compressedAll = rotated.every((r) => r.compressed)
  summary.rotate.gzipMBps = median(rotated.map((r) => Number(mbps(r.compressedBytes, r.compressMs))))
  summary.rotate.gzipRatio = median(rotated.map((r) => r.compressedBytes / r.gzBytes))
  const alone = runs.alone.filter((r) => ok(r) && r.done)
  summary.alone = {
    MB: ALONE_MB,
    wallMBps: median(alone.map((r) => Number(mbps(r.bytes, r.wallMs)))),
    cpuMBps: median(alone.map((r) => Number(mbps(r.bytes, r.cpuMs)))),
    ratio: median(alone.map((r) => r.bytes / r.gzBytes))
  }
  const jsRatio = summary.rotate.jsNsPerLine / summary.plain.jsNsPerLine

  const row = (name, s, extra) => `| ${name} | ${(s.jsNsPerLine / 1000).toFixed(3)} | ${Math.round(s.linesPerSec).toLocaleString('en-US')} | ${(s.processCpuNsPerLine / 1000).toFixed(2)} | ${extra} | ${s.integrityOk ? 'ok' : 'FAIL'} |`
  const out = [
    `## Rotation benchmark: ${options.lines.toLocaleString('en-US')} lines, rotate at ${options.size} with gzip, median of ${options.rounds} rounds`,
    '',
    '| contender | JS µs/line | lines/s end-to-end | process CPU µs/line | rotations | integrity |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    row('prodkit, one file', summary.plain, '-'),
    row(`prodkit, rotate ${options.size} + gzip`, summary.rotate, String(summary.rotate.rotations)),
    '',
    `- JS-thread time per line, rotate + gzip / one file: ${jsRatio.toFixed(3)} (target ≤ ${TARGET_JS_RATIO}) ${jsRatio <= TARGET_JS_RATIO ? 'PASS' : 'MISS'}`,
    `- gzip while logging: ${summary.rotate.gzipMBps.toFixed(1)} MB/s of the archive thread's CPU time, ${summary.rotate.gzipRatio.toFixed(1)}:1` +
      (summary.rotate.compressedAll ? '' : ' (SOME ROTATED FILES WERE NOT COMPRESSED IN TIME)'),
    `- gzip alone (${ALONE_MB} MB rotated file, start-up sweep): ${summary.alone.wallMBps.toFixed(1)} MB/s wall, ${summary.alone.cpuMBps.toFixed(1)} MB/s CPU, ${summary.alone.ratio.toFixed(1)}:1`
  ]
  for (const c of CONTENDERS) for (const p of summary[c].problems) out.push(`- INTEGRITY ${c}: ${p}`)
  console.log(out.join('\n'))

  const jsonFile = path.join(OUT_DIR, 'rotate.json')
  const cpus = os.cpus()
  fs.writeFileSync(jsonFile, JSON.stringify({
    environment: { date: new Date().toISOString(), node: process.version, cpu: cpus.length ? `${cpus[0].model} x${cpus.length}` : 'unknown' },
    options,
    summary,
    jsRatio,
    runs
  }, null, 2) + '\n')
  console.log(`\nresults: ${path.relative(process.cwd(), jsonFile)}`)
  if (!CONTENDERS.every((c) => summary[c].integrityOk)) {
    console.error('integrity check FAILED')
    process.exitCode = 1
  }
}

// MB (10^6 bytes) per second.
function mbps (bytes, ms) {
  return ms > 0 ? (bytes / 1e6 / (ms / 1000)).toFixed(1) : 'n/a'
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

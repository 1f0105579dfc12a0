'use strict'
// `npm run bench:log`: prodkit's logger against pino 10 with its sync and async file
// destinations. Same lines, same run, same disk, side by side. And field encryption: a
// line with two sensitive fields (bench/log-line.js) encrypted by prodkit, as it is by
// prodkit, and redacted by pino (sync destination). And the cost of pino's shape options
// (`serializers`, `formatters`, `mixin`) when on: prodkit-compat and pino-compat (sync
// destination) log the common line with the same ones (bench/log-worker.js COMPAT).
//
//   node bench/log.js [--rounds 5] [--lines 200000] [--fsync]
//
// Each run is one contender in its own process (bench/log-worker.js), so that peak RSS
// and JIT state belong to that contender alone. The contenders take turns over several
// rounds, starting with a different one each round, so that a slow spell of the machine or
// the disk hits them all alike; the report is the median of each metric over the rounds.
// Every output file is then read back and checked: a fast logger that loses or mangles
// lines has not won anything. Only a failed check makes the exit code non-zero;
// performance targets that are missed are reported, not fatal.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')
const { spawnSync } = require('node:child_process')
const { parseArgs } = require('node:util')

const WORKER = path.join(__dirname, 'log-worker.js')
const OUT_DIR = path.join(__dirname, 'out')
const CONTENDERS = ['prodkit', 'pino-sync', 'pino-async', 'prodkit-card', 'prodkit-encrypt', 'pino-redact', 'prodkit-compat', 'pino-compat']
const { BENCH_KEY, SEALED_PATHS } = require('./log-line')
const prodkit = require('..')
// Loads prodkit and opens a logger, logs nothing: the RSS prodkit's peak is measured from.
const BASELINE = 'baseline'
// prodkit's default queue limit (log.queueBytes), the bound on what it holds in memory.
const QUEUE_LIMIT_MIB = 8
// The targets the logger is judged by (see the issue).
const TARGETS = {
  jsTimeVsPinoSync: 0.33,
  linesPerSecVsPino: 2,
  // An encrypted line costs the JS thread less than pino's redacted one.
  encryptedJsVsPinoRedact: 1
}

function parseOptions () {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      lines: { type: 'string', default: '200000' },
      fsync: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) {
    console.log('usage: node bench/log.js [--rounds N] [--lines N] [--fsync]\n' +
      '  --fsync  end-to-end time includes an fsync of the file, for every contender')
    process.exit(0)
  }
  return {
    rounds: positiveInteger('--rounds', values.rounds),
    lines: positiveInteger('--lines', values.lines),
    fsync: values.fsync
  }
}

function positiveInteger (name, text, script = 'bench/log.js') {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`${script}: ${name} must be a positive integer (got ${JSON.stringify(text)})`)
    process.exit(2)
  }
  return n
}

// The order of round r: the contenders rotated by r, so no one always runs first (cold
// page cache, CPU frequency ramp-up) or last.
function roundOrder (round) {
  const all = [BASELINE, ...CONTENDERS]
  const shift = round % all.length
  return [...all.slice(shift), ...all.slice(0, shift)]
}

// Runs one contender in a fresh process; returns its result line, or { error } if the
// worker failed (a crash is reported as a failed run, not thrown, so the other runs go on).
// `env`: added to the worker's environment (bench/ship-app.js passes the ship target).
function runWorker (contender, file, { lines, fsync }, env = {}) {
  const args = [WORKER, contender, file, String(contender === BASELINE ? 0 : lines)]
  if (fsync) args.push('fsync')
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } })
  if (child.status !== 0) {
    const why = child.error ? child.error.message : `exit ${child.status ?? child.signal}`
    return { error: `worker ${why}: ${child.stderr.trim().split('\n').slice(-3).join(' | ')}` }
  }
  if (child.stderr.trim() !== '') process.stderr.write(child.stderr)
  const lastLine = child.stdout.trim().split('\n').pop()
  return JSON.parse(lastLine)
}

// Reads a log file back, one line at a time so that the check stays small in memory
// whatever the line count: every line must be valid JSON, there must be exactly `lines`
// of them, and every orderId from ord-0 to ord-<lines-1> must appear exactly once.
async function checkFile (file, lines, contender) {
  const seen = new Uint8Array(lines)
  const problems = []
  const note = (message) => { if (problems.length < 5) problems.push(message) }
  let count = 0
  let invalid = 0
  let duplicates = 0
  let unexpected = 0
  let unique = 0
  let bytes = 0
  try {
    bytes = fs.statSync(file).size
  } catch (err) {
    return { ok: false, lines: 0, bytes: 0, problems: [`cannot read ${path.basename(file)}: ${err.code}`] }
  }
  const input = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })
  for await (const text of input) {
    count++
    let entry
    try {
      entry = JSON.parse(text)
    } catch {
      invalid++
      note(`line ${count} is not valid JSON: ${text.slice(0, 80)}`)
      continue
    }
    const index = orderIndex(entry, lines)
    const sealed = index === -1 ? null : checkSealed(contender, entry, index, text)
    if (sealed) {
      invalid++
      note(`line ${count}: ${sealed}`)
    }
    if (index === -1) {
      unexpected++
      note(`line ${count} has an unexpected orderId: ${JSON.stringify(entry && entry.orderId)}`)
    } else if (seen[index]) {
      duplicates++
      note(`line ${count} repeats orderId ord-${index}`)
    } else {
      seen[index] = 1
      unique++
    }
  }
  const missing = lines - unique
  if (count !== lines) note(`${count} lines in the file, ${lines} logged`)
  if (missing > 0) note(`${missing} orderIds missing`)
  const ok = count === lines && invalid === 0 && unexpected === 0 && duplicates === 0 && missing === 0
  return { ok, lines: count, bytes, invalid, unexpected, duplicates, missing, problems }
}

// What is wrong with the sensitive fields of a card line, or null: encrypted by
// prodkit-encrypt (every 997th line is decrypted back), redacted by pino-redact.
const keyring = prodkit.createKeyring(BENCH_KEY)
function checkSealed (contender, entry, i, text) {
  const values = SEALED_PATHS.map((p) => p.split('.').reduce((o, k) => (o == null ? o : o[k]), entry))
  if (contender === 'pino-redact') return values.every((v) => v === '[Redacted]') ? null : 'not redacted'
  if (contender !== 'prodkit-encrypt') return null
  if (!values.every((v) => typeof v === 'string' && v.startsWith('$pk1$'))) return 'a sensitive field is not encrypted'
  if (i % 997 !== 0) return null
  const clear = JSON.parse(prodkit.decryptLine(text, keyring))
  return clear.user.email === `user${i}@example.com` && clear.card.number.startsWith('4111 1111') ? null : 'does not decrypt back'
}

// The i of an entry's "ord-<i>", or -1 if it is not one of the orderIds logged.
function orderIndex (entry, lines) {
  const id = entry !== null && typeof entry === 'object' ? entry.orderId : undefined
  if (typeof id !== 'string' || !/^ord-(0|[1-9]\d*)$/.test(id)) return -1
  const i = Number(id.slice(4))
  return i < lines ? i : -1
}

async function runRounds (options) {
  fs.mkdirSync(OUT_DIR, { recursive: true })
  const runs = Object.fromEntries([BASELINE, ...CONTENDERS].map((c) => [c, []]))
  for (let round = 0; round < options.rounds; round++) {
    for (const contender of roundOrder(round)) {
      const file = path.join(OUT_DIR, `log-${contender}.log`)
      // Both loggers append: a leftover file would fail the line count.
      fs.rmSync(file, { force: true })
      const result = runWorker(contender, file, options)
      if (contender !== BASELINE && !result.error) {
        result.integrity = await checkFile(file, options.lines, contender)
      }
      fs.rmSync(file, { force: true })
      runs[contender].push(result)
      progress(round, options.rounds, contender, result)
    }
  }
  return runs
}

// Progress goes to stderr, so that stdout is just the report.
function progress (round, rounds, contender, result) {
  let text
  if (result.error) text = `FAILED ${result.error}`
  else if (contender === BASELINE) text = `peak RSS ${result.peakRssMiB.toFixed(1)} MiB`
  else {
    text = `${(result.jsNsPerLine / 1000).toFixed(2)} µs/line, ${Math.round(result.linesPerSec)} lines/s, ` +
      `peak RSS ${result.peakRssMiB.toFixed(1)} MiB, integrity ${result.integrity.ok ? 'ok' : 'FAIL'}`
  }
  process.stderr.write(`round ${round + 1}/${rounds} ${contender.padEnd(10)} ${text}\n`)
}

function median (values) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

// Medians over the runs that completed; integrity over all runs, a crashed one included.
function summarize (contender, results) {
  const completed = results.filter((r) => !r.error)
  const metric = (key) => median(completed.map((r) => r[key]))
  const summary = {
    runs: results.length,
    completed: completed.length,
    peakRssMiB: metric('peakRssMiB')
  }
  if (contender === BASELINE) return summary
  const failed = results.filter((r) => r.error || !r.integrity.ok || r.flushed !== true)
  return {
    ...summary,
    jsNsPerLine: metric('jsNsPerLine'),
    linesPerSec: metric('linesPerSec'),
    cpuNsPerLine: metric('cpuNsPerLine'),
    integrityOk: failed.length === 0,
    integrityProblems: failed.map(describeFailure)
  }
}

function describeFailure (result) {
  if (result.error) return result.error
  if (result.flushed !== true) return `flush reported ${result.flushed}; ${result.integrity.problems.join('; ')}`
  return result.integrity.problems.join('; ')
}

function ratios (s) {
  const prodkit = s.prodkit
  const check = (value, target, better) => ({
    value,
    target,
    pass: better === 'lower' ? value <= target : value >= target
  })
  return {
    jsTimeVsPinoSync: check(prodkit.jsNsPerLine / s['pino-sync'].jsNsPerLine, TARGETS.jsTimeVsPinoSync, 'lower'),
    linesPerSecVsPinoSync: check(prodkit.linesPerSec / s['pino-sync'].linesPerSec, TARGETS.linesPerSecVsPino, 'higher'),
    linesPerSecVsPinoAsync: check(prodkit.linesPerSec / s['pino-async'].linesPerSec, TARGETS.linesPerSecVsPino, 'higher'),
    encryptedJsVsPinoRedact: check(s['prodkit-encrypt'].jsNsPerLine / s['pino-redact'].jsNsPerLine, TARGETS.encryptedJsVsPinoRedact, 'lower'),
    encryptedJsVsPlain: s['prodkit-encrypt'].jsNsPerLine / s['prodkit-card'].jsNsPerLine,
    // serializers + formatters + mixin on: the JS time per line they add, and the ratio.
    compatAddedNs: s['prodkit-compat'].jsNsPerLine - prodkit.jsNsPerLine,
    pinoCompatAddedNs: s['pino-compat'].jsNsPerLine - s['pino-sync'].jsNsPerLine,
    compatJsVsPinoCompat: s['prodkit-compat'].jsNsPerLine / s['pino-compat'].jsNsPerLine,
    sealedFieldsPerSec: s['prodkit-encrypt'].linesPerSec * SEALED_PATHS.length
  }
}

// What prodkit holds in memory beyond an idle process with a logger open. The whole
// process is measured, so this includes the V8 heap the JS side of a run fills with
// garbage (pino's runs have the same); pino-sync, which holds nothing in flight, shows
// how much of it is just that.
function memory (s) {
  return {
    baselinePeakRssMiB: s[BASELINE].peakRssMiB,
    prodkitPeakRssMiB: s.prodkit.peakRssMiB,
    prodkitAboveBaselineMiB: s.prodkit.peakRssMiB - s[BASELINE].peakRssMiB,
    prodkitAbovePinoSyncMiB: s.prodkit.peakRssMiB - s['pino-sync'].peakRssMiB,
    queueLimitMiB: QUEUE_LIMIT_MIB
  }
}

function table (s, rounds) {
  const rows = [['contender', 'JS µs/line', 'lines/s end-to-end', 'peak RSS MiB', 'integrity']]
  for (const c of CONTENDERS) {
    const r = s[c]
    rows.push([
      c,
      (r.jsNsPerLine / 1000).toFixed(2),
      Math.round(r.linesPerSec).toLocaleString('en-US'),
      r.peakRssMiB.toFixed(1),
      r.integrityOk ? `ok (${r.runs}/${rounds})` : `FAIL (${r.runs - r.integrityProblems.length}/${rounds} ok)`
    ])
  }
  rows.push([BASELINE, '-', '-', s[BASELINE].peakRssMiB.toFixed(1), '-'])
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  // Text columns left-aligned, numbers right-aligned.
  const isText = (i) => i === 0 || i === rows[0].length - 1
  const line = (row) => '| ' + row.map((cell, i) => (isText(i) ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ') + ' |'
  const rule = '|' + widths.map((w, i) => (isText(i) ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|') + '|'
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n')
}

function report (options, summaries, r, mem) {
  const mark = (t) => (t.pass ? 'PASS' : 'MISS')
  const out = []
  out.push(`## Logger benchmark: ${options.lines.toLocaleString('en-US')} lines, median of ${options.rounds} round${options.rounds === 1 ? '' : 's'}` +
    (options.fsync ? ', end-to-end includes fsync' : ''))
  out.push('')
  out.push(table(summaries, options.rounds))
  out.push('')
  out.push(`- JS time, prodkit / pino-sync: ${r.jsTimeVsPinoSync.value.toFixed(2)} (target ≤ ${TARGETS.jsTimeVsPinoSync}) ${mark(r.jsTimeVsPinoSync)}`)
  out.push(`- lines/s, prodkit / pino-sync: ${r.linesPerSecVsPinoSync.value.toFixed(2)} (target ≥ ${TARGETS.linesPerSecVsPino}) ${mark(r.linesPerSecVsPinoSync)}`)
  out.push(`- lines/s, prodkit / pino-async: ${r.linesPerSecVsPinoAsync.value.toFixed(2)} (target ≥ ${TARGETS.linesPerSecVsPino}) ${mark(r.linesPerSecVsPinoAsync)}`)
  out.push(`- JS time, prodkit-encrypt / pino-redact: ${r.encryptedJsVsPinoRedact.value.toFixed(2)} (target < ${TARGETS.encryptedJsVsPinoRedact}) ${mark(r.encryptedJsVsPinoRedact)}` +
    `; prodkit-encrypt / prodkit-card (the same line in clear): ${r.encryptedJsVsPlain.toFixed(2)}`)
  out.push(`- serializers + formatters + mixin on: prodkit-compat ${(summaries['prodkit-compat'].jsNsPerLine / 1000).toFixed(2)} µs/line` +
    ` (${signed(r.compatAddedNs / 1000)} µs over prodkit's plain line), pino-compat ${(summaries['pino-compat'].jsNsPerLine / 1000).toFixed(2)} µs/line` +
    ` (${signed(r.pinoCompatAddedNs / 1000)} µs over pino-sync); JS time, prodkit-compat / pino-compat: ${r.compatJsVsPinoCompat.toFixed(2)}`)
  out.push(`- fields encrypted end-to-end: ${Math.round(r.sealedFieldsPerSec).toLocaleString('en-US')} a second (2 a line, writer thread; \`npm run bench:seal\` measures the writer alone)`)
  out.push(`- memory: prodkit peak RSS ${mem.prodkitPeakRssMiB.toFixed(1)} MiB = baseline ${mem.baselinePeakRssMiB.toFixed(1)} MiB` +
    ` + ${mem.prodkitAboveBaselineMiB.toFixed(1)} MiB (queue limit ${mem.queueLimitMiB} MiB;` +
    ` ${signed(mem.prodkitAbovePinoSyncMiB)} MiB vs pino-sync, which holds no lines in flight)`)
  for (const c of CONTENDERS) {
    for (const problem of summaries[c].integrityProblems) out.push(`- INTEGRITY ${c}: ${problem}`)
  }
  return out.join('\n')
}

function signed (n) {
  return (n >= 0 ? '+' : '') + n.toFixed(1)
}

function environment () {
  const cpus = os.cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpu: cpus.length ? `${cpus[0].model} x${cpus.length}` : 'unknown'
  }
}

async function main () {
  const options = parseOptions()
  const runs = await runRounds(options)
  const summaries = {}
  for (const c of [BASELINE, ...CONTENDERS]) summaries[c] = summarize(c, runs[c])
  const complete = [BASELINE, ...CONTENDERS].every((c) => summaries[c].completed > 0)
  const r = complete ? ratios(summaries) : null
  const mem = complete ? memory(summaries) : null
  if (complete) console.log(report(options, summaries, r, mem))
  else {
    // Not a performance miss: the benchmark itself could not run.
    console.log('Some contender did not complete a single run: no report. See the errors above.')
    process.exitCode = 1
  }

  const jsonFile = path.join(OUT_DIR, 'log.json')
  fs.writeFileSync(jsonFile, JSON.stringify({
    environment: environment(),
    options,
    summaries,
    ratios: r,
    memory: mem,
    runs
  }, null, 2) + '\n')
  console.log(`\nresults: ${path.relative(process.cwd(), jsonFile)}`)

  const integrityOk = CONTENDERS.every((c) => summaries[c].integrityOk)
  if (!integrityOk) {
    console.error('integrity check FAILED: see the table')
    process.exitCode = 1
  }
}

// bench/ship-app.js reuses the runner, the file check and the medians.
module.exports = { runWorker, checkFile, orderIndex, median, positiveInteger, environment }

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
}

'use strict'
// `npm run bench:ship-app`: what `log.ship` costs the app. The same logger, the same line
// (`log.info({ user: { id, email }, orderId, amount }, msg)`, bench/log-worker.js), with
// and without shipping, in one run:
// - file: prodkit's logger writing its file, no shipping (the `prodkit` contender of
//   `npm run bench:log`);
// - syslog: the same plus `ship: { to: 'syslog+tcp://127.0.0.1:PORT' }` to a real rsyslog
//   (imtcp, Direct queue, omfile: __test__/rsyslog-harness.js), which acknowledges each
//   batch by closing the connection once it has read it;
// - clickhouse: the same plus `ship: { to: 'clickhouse://127.0.0.1:PORT/db.logs' }` to a
//   stand-in that answers 200 (bench/ship-app-receiver.js): the app-side cost of the
//   HTTP path, not ClickHouse's.
//
//   node bench/ship-app.js [--rounds 5] [--lines 200000] [--receiver-nice 19]
//   node bench/ship-app.js --instructions
//
// Each run is one process (bench/log.js's runner and worker); contenders alternate, the
// first one rotating each round, and the report is the median of each metric. A shipping
// run ends when the shipper says every line is acknowledged, so its process CPU includes
// shipping them. Every log file is checked, and so is what each receiver got: every
// orderId exactly once, or the run fails (a contender that drops lines does not win).
// The receivers run on the same machine and compete for its cores (in production they are
// elsewhere); their CPU is not counted.
//
// With --instructions, only this: the JS thread's instructions per line, counted by
// valgrind's callgrind, for file, syslog and clickhouse: runs of 4,000 and 12,000 lines,
// the difference over 8,000 (start-up cancels out), each run ending with its loop (the
// exit flush writes the lines; shipping is not waited for) and its clock held at one
// millisecond (bench/log-worker.js says why), and V8's seeds fixed (bench/callgrind.js).
// Whether shipping adds work to the app's thread, apart from what the shipper thread's
// CPU does to it (timed above).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, execFileSync } = require('node:child_process')
const { parseArgs } = require('node:util')
const { runWorker, checkFile, median, positiveInteger, environment } = require('./log')
const { Rsyslog } = require('../__test__/rsyslog-harness')
const { hasValgrind, countInstructions } = require('./callgrind')

// syslog-same-priority (as root only): syslog with the shipper thread put back at the app's
// priority, to measure what running it 10 nice levels below saves.
const CONTENDERS = ['file', 'syslog', 'clickhouse', ...(process.getuid && process.getuid() === 0 ? ['syslog-same-priority'] : [])]
// The target: the JS time per line with shipping within 5% of without. Measured as
// the JS (main) thread's own CPU time over the timed loop (bench/log-worker.js `threads`:
// process.threadCpuUsage() where Node has it, else /proc/self/task/<pid>/schedstat), not
// wall time (which counts the time the thread waits for a core that another process or the
// shipper thread holds) nor the whole process's CPU (which includes the shipper thread: its
// CPU per line is reported apart).
const JS_TARGET = 1.05

function parseOptions () {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      lines: { type: 'string', default: '200000' },
      'receiver-nice': { type: 'string', default: '19' },
      instructions: { type: 'boolean', default: false }
    }
  })
  const receiverNice = Number(values['receiver-nice'])
  if (!Number.isInteger(receiverNice) || receiverNice < 0 || receiverNice > 19) {
    console.error('bench/ship-app.js: --receiver-nice must be an integer from 0 to 19')
    process.exit(2)
  }
  return {
    rounds: positiveInteger('--rounds', values.rounds, 'bench/ship-app.js'),
    lines: positiveInteger('--lines', values.lines, 'bench/ship-app.js'),
    receiverNice,
    instructions: values.instructions
  }
}

// The receivers run on the app's machine only for the benchmark: at a low priority (nice
// 19 by default, --receiver-nice), they take the cores the app leaves, as a store on
// another machine would take none. --receiver-nice 0 measures them competing as equals.
function lowerPriority (pid, nice) {
  if (nice > 0) execFileSync('renice', ['-n', String(nice), '-p', String(pid)], { stdio: 'ignore' })
}

// A receiver for one run: { env for the worker, out file, stop() }.
async function startReceiver (contender, dir, nice) {
  if (contender === 'file') return { env: {}, out: null, stop: async () => {} }
  if (contender.startsWith('syslog')) {
    const rsyslog = new Rsyslog(fs.mkdtempSync(path.join(dir, 'rsyslog-')))
    await rsyslog.start()
    lowerPriority(rsyslog.child.pid, nice)
    const env = { PRODKIT_BENCH_SHIP_TO: rsyslog.url() }
    if (contender === 'syslog-same-priority') env.PRODKIT_BENCH_SHIP_SAME_PRIORITY = '1'
    return { env, out: rsyslog.out, stop: () => rsyslog.stop() }
  }
  const out = path.join(fs.mkdtempSync(path.join(dir, 'http-')), 'received.log')
  const child = spawn(process.execPath, [path.join(__dirname, 'ship-app-receiver.js'), out], { stdio: ['ignore', 'pipe', 'inherit'] })
  lowerPriority(child.pid, nice)
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const port = await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (d) => resolve(Number(d.trim())))
    child.once('exit', (code) => reject(new Error(`the HTTP receiver exited (${code})`)))
  })
  return {
    env: { PRODKIT_BENCH_SHIP_TO: `clickhouse://127.0.0.1:${port}/db.logs` },
    out,
    stop: async () => { child.kill('SIGTERM'); await exited }
  }
}

async function runRounds (options, dir) {
  const runs = Object.fromEntries(CONTENDERS.map((c) => [c, []]))
  for (let round = 0; round < options.rounds; round++) {
    const shift = round % CONTENDERS.length
    for (const contender of [...CONTENDERS.slice(shift), ...CONTENDERS.slice(0, shift)]) {
      const file = path.join(dir, `app-${contender}.log`)
      for (const f of fs.readdirSync(dir)) if (f.startsWith(`app-${contender}.log`)) fs.rmSync(path.join(dir, f), { force: true })
      const receiver = await startReceiver(contender, dir, options.receiverNice)
      let result
      try {
        result = runWorker(contender === 'file' ? 'prodkit' : 'prodkit-ship', file, options, receiver.env)
      } finally {
        await receiver.stop()
      }
      if (!result.error) {
        result.integrity = await checkFile(file, options.lines, 'prodkit')
        if (receiver.out) result.received = await checkFile(receiver.out, options.lines, 'prodkit')
      }
      if (receiver.out) fs.rmSync(path.dirname(receiver.out), { recursive: true, force: true })
      runs[contender].push(result)
      progress(round, options.rounds, contender, result)
    }
  }
  return runs
}

function ok (r) {
  return !r.error && r.flushed === true && r.integrity.ok && (r.received === undefined || r.received.ok)
}

function progress (round, rounds, contender, r) {
  const text = r.error
    ? `FAILED ${r.error}`
    : `JS ${(r.jsNsPerLine / 1000).toFixed(3)} µs/line, CPU ${(r.cpuAllNsPerLine / 1000).toFixed(3)} µs/line, ` +
      `file ${r.integrity.ok ? 'ok' : 'FAIL'}` + (r.received ? `, received ${r.received.lines} lines ${r.received.ok ? 'ok' : 'FAIL ' + r.received.problems.join('; ')}` : '')
  process.stderr.write(`round ${round + 1}/${rounds} ${contender.padEnd(20)} ${text}\n`)
}

function summarize (results) {
  const good = results.filter(ok)
  const metric = (key) => median(good.map((r) => r[key]))
  const thread = (key) => median(good.filter((r) => r.threads).map((r) => r.threads[key] || 0))
  return {
    jsThreadCpuNsPerLine: thread('jsCpuNsPerLine'),
    jsThreadWaitNsPerLine: thread('jsWaitNsPerLine'),
    shipperCpuNsPerLine: thread('prodkit-shipCpuNsPerLine'),
    runs: results.length,
    ok: good.length,
    jsNsPerLine: metric('jsNsPerLine'),
    cpuNsPerLine: metric('cpuNsPerLine'),
    cpuAllNsPerLine: metric('cpuAllNsPerLine'),
    problems: results.filter((r) => !ok(r)).map((r) => r.error || [...r.integrity.problems, ...(r.received ? r.received.problems : [])].join('; ') || `flushed ${r.flushed}`)
  }
}

function report (options, s, load) {
  const out = []
  out.push(`## What log.ship costs the app: ${options.lines.toLocaleString('en-US')} lines, median of ${options.rounds} rounds`)
  out.push('')
  const us = (ns) => (ns / 1000).toFixed(3)
  out.push('| contender | JS µs/line (wall) | JS thread CPU µs/line | JS thread waiting for a core µs/line | shipper thread CPU µs/line | process CPU µs/line (until shipped) | JS wall ratio | JS CPU ratio | process CPU ratio | runs with every line received |')
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |')
  for (const c of CONTENDERS) {
    const r = s[c]
    out.push(`| ${c} | ${us(r.jsNsPerLine)} | ${us(r.jsThreadCpuNsPerLine)} | ${us(r.jsThreadWaitNsPerLine)} | ${us(r.shipperCpuNsPerLine)} | ${us(r.cpuAllNsPerLine)} | ` +
      `${(r.jsNsPerLine / s.file.jsNsPerLine).toFixed(3)} | ${(r.jsThreadCpuNsPerLine / s.file.jsThreadCpuNsPerLine).toFixed(3)} | ${(r.cpuAllNsPerLine / s.file.cpuAllNsPerLine).toFixed(3)} | ${r.ok}/${r.runs} |`)
  }
  out.push('')
  for (const c of CONTENDERS.slice(1)) {
    const ratio = s[c].jsThreadCpuNsPerLine / s.file.jsThreadCpuNsPerLine
    const wall = s[c].jsNsPerLine / s.file.jsNsPerLine
    out.push(`- JS thread CPU per line, ${c} / file: ${ratio.toFixed(3)} (target ≤ ${JS_TARGET}) ${ratio <= JS_TARGET ? 'PASS' : 'MISS'}; ` +
      `shipper thread CPU ${us(s[c].shipperCpuNsPerLine)} µs/line; JS wall ${wall.toFixed(3)} (includes waiting for a core)`)
  }
  out.push(`- load average (1, 5, 15 min) before: ${load.before.join(', ')}; after: ${load.after.join(', ')}`)
  for (const c of CONTENDERS) for (const p of s[c].problems) out.push(`- FAILED ${c}: ${p}`)
  return out.join('\n')
}

async function mainInstructions (options) {
  if (!hasValgrind()) throw new Error('bench/ship-app.js --instructions needs valgrind (apt-get install valgrind)')
  const contenders = CONTENDERS.filter((c) => c !== 'syslog-same-priority')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-bench-ship-app-'))
  const perLine = {}
  try {
    for (const contender of contenders) {
      const counts = []
      for (const lines of [4000, 12000]) {
        const file = path.join(dir, `app-${contender}-${lines}.log`)
        const receiver = await startReceiver(contender, dir, options.receiverNice)
        try {
          const worker = path.join(__dirname, 'log-worker.js')
          const args = [worker, contender === 'file' ? 'prodkit' : 'prodkit-ship', file, String(lines)]
          counts.push((await countInstructions(args, { ...receiver.env, PRODKIT_BENCH_INSTRUCTIONS: '1' })).js)
        } finally {
          await receiver.stop()
        }
        const written = await checkFile(file, lines, 'prodkit')
        if (!written.ok) throw new Error(`${contender}: the log file is not whole: ${written.problems.join('; ')}`)
      }
      perLine[contender] = (counts[1] - counts[0]) / 8000
      process.stderr.write(`${contender}: ${Math.round(perLine[contender])} JS-thread instructions/line\n`)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  console.log(`## JS-thread instructions per line (callgrind; 12,000 minus 4,000 lines); Node ${process.version}`)
  console.log('')
  console.log('| contender | instructions/line | / file |')
  console.log('| --- | ---: | ---: |')
  for (const c of contenders) console.log(`| ${c} | ${Math.round(perLine[c]).toLocaleString('en-US')} | ${(perLine[c] / perLine.file).toFixed(3)} |`)
  const outDir = path.join(__dirname, 'out')
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'ship-app-instructions.json'), JSON.stringify({ environment: environment(), perLine }, null, 2) + '\n')
}

async function main () {
  const options = parseOptions()
  if (!fs.existsSync('/usr/sbin/rsyslogd')) throw new Error('bench/ship-app.js needs rsyslog (apt-get install rsyslog)')
  if (options.instructions) return mainInstructions(options)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-bench-ship-app-'))
  const load = { before: os.loadavg().map((l) => l.toFixed(2)) }
  let runs
  try {
    runs = await runRounds(options, dir)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  load.after = os.loadavg().map((l) => l.toFixed(2))
  const summaries = Object.fromEntries(CONTENDERS.map((c) => [c, summarize(runs[c])]))
  console.log(report(options, summaries, load))
  const outDir = path.join(__dirname, 'out')
  fs.mkdirSync(outDir, { recursive: true })
  const jsonFile = path.join(outDir, 'ship-app.json')
  fs.writeFileSync(jsonFile, JSON.stringify({ environment: environment(), options, load, summaries, runs }, null, 2) + '\n')
  console.log(`\nresults: ${path.relative(process.cwd(), jsonFile)}`)
  if (CONTENDERS.some((c) => summaries[c].problems.length > 0)) {
    console.error('a run failed or lost lines: see above')
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

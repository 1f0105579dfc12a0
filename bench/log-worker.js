'use strict'
// One benchmark run in its own process, so that peak RSS belongs to one contender.
// argv: <contender> <file> <lines> [fsync]. Prints one JSON result line on stdout.
//
// Every contender's end-to-end time stops when its last line has been written to the file
// (handed to the kernel). With `fsync`, each one then also fsyncs the file, the same way
// for all, so that the time includes the storage device.
//
// prodkit-ship (bench/ship-app.js): the prodkit contender with `ship: { to:
// $PRODKIT_BENCH_SHIP_TO }`; its run ends when the shipper reports every line acknowledged
// by the receiver (log.stats().shipping.lines), so that its total CPU includes shipping.

const fs = require('node:fs')
const { BENCH_KEY, SEALED_PATHS, cardLine } = require('./log-line')

const [contender, file, linesArg, fsyncArg] = process.argv.slice(2)
const lines = Number(linesArg)
const fsyncAtEnd = fsyncArg === 'fsync'

// prodkit-compat and pino-compat: pino's shape options on, the same for both: a serializer
// (the user's id only), formatters (the level as its label; each merge object with one more
// field) and a mixin.
const COMPAT = {
  serializers: { user: (u) => ({ id: u.id }) },
  formatters: { level: (label) => ({ level: label }), log: (obj) => ({ ...obj, checked: true }) },
  mixin: () => ({ region: 'eu-west-1' })
}

function makeLogger () {
  switch (contender) {
    case 'prodkit':
    case 'prodkit-card':
    case 'prodkit-encrypt':
    case 'prodkit-ship':
    case 'prodkit-compat':
    case 'baseline': {
      const options = { destination: file, service: 'bench', level: 'info' }
      if (contender === 'prodkit-compat') Object.assign(options, COMPAT)
      if (contender === 'prodkit-encrypt') options.encrypt = { paths: SEALED_PATHS, key: BENCH_KEY }
      if (contender === 'prodkit-ship') options.ship = { to: process.env.PRODKIT_BENCH_SHIP_TO }
      const log = require('..').createLogger(options)
      // prodkit-ship-same-priority: as prodkit-ship, with the shipper thread put back at the
      // app's priority (needs root: a thread may not lower its nice value itself), to
      // measure what running it below the app (src/ship/shipper.rs lower_priority) saves.
      if (process.env.PRODKIT_BENCH_SHIP_SAME_PRIORITY) samePriority()
      return {
        log,
        // flush() resolves true once every line logged before it is written; false would
        // mean a failing destination, which the result reports.
        done: async (log, beforeClose) => {
          const flushed = await log.flush()
          if (contender === 'prodkit-ship') await shipped(log)
          if (beforeClose) beforeClose()
          log.close()
          return flushed
        }
      }
    }
    case 'pino-sync':
    case 'pino-redact':
    case 'pino-compat':
    case 'pino-async': {
      const pino = require('pino')
      const sync = contender !== 'pino-async'
      const dest = pino.destination({ dest: file, sync })
      const options = { base: { pid: process.pid, hostname: require('node:os').hostname(), service: 'bench' } }
      if (contender === 'pino-redact') options.redact = SEALED_PATHS
      if (contender === 'pino-compat') Object.assign(options, COMPAT)
      const log = pino(options, dest)
      return {
        log,
        done: () => new Promise((resolve) => {
          // The sync destination wrote each line inside log.info.
          if (sync) return resolve(true)
          // Not dest.flush(cb): sonic-boom fsyncs there, a cost the other contenders would
          // not pay. The logging loop never yields, so when this runs the file is still
          // being opened or written, and 'drain' fires once the last byte is written.
          dest.once('drain', () => resolve(true))
          dest.once('error', () => resolve(false))
        })
      }
    }
    default:
      throw new Error(`unknown contender ${contender}`)
  }
}

// Waits until the shipper has every line acknowledged (a condition, polled; 120 s at most:
// the parent then finds the missing lines at the receiver).
function samePriority () {
  const { execFileSync } = require('node:child_process')
  const nice = (tid) => Number(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16])
  let tid
  // The thread is named as it starts: wait for it.
  while (!tid) tid = fs.readdirSync('/proc/self/task').find((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'prodkit-ship')
  execFileSync('renice', ['-n', String(nice(process.pid)), '-p', tid], { stdio: 'ignore' })
  if (nice(tid) !== nice(process.pid)) throw new Error('cannot put the shipper thread back at the app\'s priority')
}

let shippedLines
async function shipped (log) {
  const deadline = Date.now() + 120_000
  while ((shippedLines = log.stats().shipping.lines) < lines && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

// Linux: a thread's CPU time and its time waiting for a core (ns, /proc/.../schedstat),
// per thread name: where the JS thread's time goes, and what the other threads take. The JS
// (main) thread is the one whose tid is the pid; its CPU time is its own (user + system,
// sum_exec_runtime in ns: /proc/self/task/<pid>/stat has the same in clock ticks of 10 ms,
// too coarse for a 5% target over ~0.3 s), or process.threadCpuUsage()'s where Node has it.
function threads () {
  const out = {}
  if (typeof process.threadCpuUsage === 'function') {
    const { user, system } = process.threadCpuUsage()
    out.jsOwn = (user + system) * 1000
  }
  let tids
  try {
    tids = fs.readdirSync('/proc/self/task')
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const name = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
      const [cpu, wait] = fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ').map(Number)
      const key = Number(tid) === process.pid ? 'js' : name
      const t = out[key] || (out[key] = { cpu: 0, wait: 0 })
      t.cpu += cpu
      t.wait += wait
    } catch {} // a thread that ended meanwhile
  }
  return out
}

function fsyncFile () {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

function report (result) {
  process.stdout.write(JSON.stringify({ contender, ...result, peakRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n')
}

let threadsEnd
// Per line: the JS thread's CPU and wait for a core during the timed loop, and each other
// thread's CPU from the timed loop's start to the end of the run.
function threadFigures (t0, t1, tEnd, timed) {
  const jsCpu = t0.jsOwn !== undefined ? t1.jsOwn - t0.jsOwn : t1.js.cpu - t0.js.cpu
  const figures = {
    jsCpuNsPerLine: jsCpu / timed,
    jsCpuSource: t0.jsOwn !== undefined ? 'process.threadCpuUsage()' : '/proc/self/task/<pid>/schedstat',
    jsWaitNsPerLine: (t1.js.wait - t0.js.wait) / timed
  }
  for (const [name, t] of Object.entries(tEnd || {})) {
    if (name !== 'js' && name !== 'jsOwn') figures[`${name}CpuNsPerLine`] = (t.cpu - (t0[name] ? t0[name].cpu : 0)) / timed
  }
  return figures
}

async function main () {
  // bench/ship-app.js --instructions: one millisecond for the whole run. Under valgrind a
  // millisecond holds a few lines instead of hundreds, and how many depends on how much of
  // valgrind's time the other threads take: a line head defined per millisecond (the
  // logger's cache) would then count for more, and differently from run to run.
  if (process.env.PRODKIT_BENCH_INSTRUCTIONS) {
    const now = Date.now()
    Date.now = () => now
  }
  const { log, done } = makeLogger()
  if (contender === 'baseline') {
    // The module loaded and a logger open, nothing logged: the RSS any process using
    // prodkit starts from, which the prodkit run's peak is compared with.
    report({ flushed: await done(log) })
    return
  }
  // Warm up the JIT on a second logger of the same kind would double the file handles;
  // instead the first 5% of the lines count as warm-up and are excluded from the timing.
  const warm = Math.floor(lines / 20)
  const cpuStart = process.cpuUsage()
  const card = contender === 'prodkit-card' || contender === 'prodkit-encrypt' || contender === 'pino-redact'
  let t0, t1, cpu0, threads0, threads1
  if (card) {
    // The line with a card: two sensitive fields, encrypted, redacted or (prodkit-card) as they are.
    for (let i = 0; i < warm; i++) log.info(cardLine(i), 'order placed')
    cpu0 = process.cpuUsage()
    t0 = process.hrtime.bigint()
    for (let i = warm; i < lines; i++) log.info(cardLine(i), 'order placed')
    t1 = process.hrtime.bigint()
  } else {
    for (let i = 0; i < warm; i++) {
      log.info({ user: { id: i, email: `user${i}@example.com` }, orderId: `ord-${i}`, amount: 12.5 + i }, 'order placed')
    }
    threads0 = threads()
    cpu0 = process.cpuUsage()
    t0 = process.hrtime.bigint()
    for (let i = warm; i < lines; i++) {
      log.info({ user: { id: i, email: `user${i}@example.com` }, orderId: `ord-${i}`, amount: 12.5 + i }, 'order placed')
    }
    t1 = process.hrtime.bigint()
    threads1 = threads()
  }
  // bench/ship-app.js --instructions counts the JS thread's instructions up to here: the
  // lines are written by the exit flush, and shipping is not waited for.
  if (process.env.PRODKIT_BENCH_INSTRUCTIONS) process.exit(0)
  const flushed = await done(log, () => { threadsEnd = threads() })
  if (fsyncAtEnd) fsyncFile()
  const t2 = process.hrtime.bigint()
  const cpu = process.cpuUsage(cpu0)
  const cpuAll = process.cpuUsage(cpuStart)
  const timed = lines - warm
  report({
    flushed,
    jsNsPerLine: Number(t1 - t0) / timed,
    linesPerSec: timed / (Number(t2 - t0) / 1e9),
    cpuNsPerLine: ((cpu.user + cpu.system) * 1000) / timed,
    // The whole process (every thread: JS, writer, shipper) from before the first line,
    // warm-up included, until done (written; for prodkit-ship: shipped), over every line.
    cpuAllNsPerLine: ((cpuAll.user + cpuAll.system) * 1000) / lines,
    ...(shippedLines === undefined ? {} : { shippedLines }),
    ...(threads0 && threads0.js ? { threads: threadFigures(threads0, threads1, threadsEnd, timed) } : {})
  })
}

main()

'use strict'
// `npm run bench:ship`: shipping a log file to syslog, prodkit against rsyslog's own imfile.
//
//   node bench/ship.js [--lines 500000] [--rounds 3]
//
// Same run, same file, same receiver: a file of --lines JSON lines (the shape prodkit's
// logger writes) is shipped to one rsyslog receiver (imtcp, Direct queue, omfile; the
// harness of the tests) by each contender in turn, from the file's start:
// - prodkit: `prodkit ship --to syslog+tcp://...` (the shipper log.ship starts);
// - imfile: a second rsyslogd reading the file with imfile and forwarding it with omfwd over
//   TCP, octet-counted, RFC 5424 (RSYSLOG_SyslogProtocol23Format).
// Timed from the contender's start until the receiver has every line; CPU is the
// contender's process CPU (user + system, /proc/<pid>/stat) at that moment, so it includes
// its start-up (Node's, for prodkit). Reported: lines per second and CPU microseconds per
// line, each contender's median over the rounds, and the ratios prodkit / imfile.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { parseArgs } = require('node:util')
const { Rsyslog } = require('../__test__/rsyslog-harness')

const CLI = path.join(__dirname, '..', 'bin', 'prodkit')
const TICK_US = 1e6 / 100 // /proc CPU figures are in clock ticks (USER_HZ, 100 on Linux)

function cpuUs (pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_US
}

function countLines (file) {
  try {
    const buf = fs.readFileSync(file)
    let n = 0
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++
    return n
  } catch (err) {
    if (err.code === 'ENOENT') return 0
    throw err
  }
}

function writeLog (file, lines) {
  const out = fs.openSync(file, 'w')
  const base = Date.now()
  let chunk = ''
  for (let i = 0; i < lines; i++) {
    chunk += JSON.stringify({ level: 30, time: base + i, pid: 4242, hostname: 'bench', service: 'shop', orderId: i, user: { id: i % 1000, email: `user${i % 1000}@example.com` }, msg: 'order placed' }) + '\n'
    if (chunk.length > 1 << 20) { fs.writeSync(out, chunk); chunk = '' }
  }
  fs.writeSync(out, chunk)
  fs.closeSync(out)
}

function imfileConfig (dir, file, port) {
  const work = path.join(dir, 'imfile-work')
  fs.rmSync(work, { recursive: true, force: true })
  fs.mkdirSync(work)
  return `global(workDirectory="${work}" maxMessageSize="64k")
module(load="imfile")
input(type="imfile" File="${file}" Tag="shop" freshStartTail="off")
action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
`
}

async function round (name, dir, file, lines) {
  const receiver = new Rsyslog(path.join(dir, `recv-${name}`))
  fs.mkdirSync(receiver.dir, { recursive: true })
  fs.rmSync(receiver.out, { force: true })
  await receiver.start()
  fs.rmSync(file + '.ship.json', { force: true })
  let child
  const started = process.hrtime.bigint()
  if (name === 'prodkit') {
    child = spawn(process.execPath, [CLI, 'ship', '--to', receiver.url(), '--flush-ms', '100', file], { stdio: 'ignore' })
  } else {
    const conf = path.join(dir, 'imfile.conf')
    fs.writeFileSync(conf, imfileConfig(dir, file, receiver.port))
    child = spawn('/usr/sbin/rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'imfile.pid')], { stdio: 'ignore' })
  }
  let cpu = 0
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    if (countLines(receiver.out) >= lines) {
      cpu = cpuUs(child.pid)
      break
    }
    if (child.exitCode !== null) throw new Error(`${name} exited early (${child.exitCode})`)
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  child.kill('SIGKILL')
  await new Promise((resolve) => child.on('exit', resolve))
  await receiver.stop()
  return { name, seconds, linesPerSecond: lines / seconds, cpuUsPerLine: cpu / lines }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main () {
  const { values } = parseArgs({ options: { lines: { type: 'string', default: '500000' }, rounds: { type: 'string', default: '3' } } })
  const lines = Number(values.lines)
  const rounds = Number(values.rounds)
  if (!fs.existsSync('/usr/sbin/rsyslogd')) throw new Error('bench/ship.js needs rsyslog (apt-get install rsyslog)')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-bench-ship-'))
  try {
    const file = path.join(dir, 'app.log')
    writeLog(file, lines)
    const results = { prodkit: [], imfile: [] }
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0 ? ['prodkit', 'imfile'] : ['imfile', 'prodkit']) {
        results[name].push(await round(name, dir, file, lines))
      }
    }
    const summary = {}
    for (const [name, runs] of Object.entries(results)) {
      summary[name] = { linesPerSecond: median(runs.map((r) => r.linesPerSecond)), cpuUsPerLine: median(runs.map((r) => r.cpuUsPerLine)) }
    }
    const mb = fs.statSync(file).size / 1e6
    console.log(`ship ${lines} lines (${mb.toFixed(1)} MB) to one rsyslog receiver, median of ${rounds} rounds:`)
    for (const [name, s] of Object.entries(summary)) {
      console.log(`- ${name.padEnd(8)} ${Math.round(s.linesPerSecond).toLocaleString('en')} lines/s, ${s.cpuUsPerLine.toFixed(2)} µs CPU/line`)
    }
    console.log(`- prodkit / imfile: throughput ${(summary.prodkit.linesPerSecond / summary.imfile.linesPerSecond).toFixed(2)}x, CPU per line ${(summary.prodkit.cpuUsPerLine / summary.imfile.cpuUsPerLine).toFixed(2)}x`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})

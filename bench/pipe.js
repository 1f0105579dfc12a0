'use strict'
// `node bench/pipe.js [--lines 300000] [--rounds 5] [--against DIR]`: throughput of the
// logger to stdout through a pipe (`| cat > /dev/null`), as under Docker or systemd.
// prodkit writes a pipe in whole lines of at most PIPE_BUF (4096) bytes a write, so that
// no other writer can tear a line; this measures what that costs. With --against DIR (a
// copy of the package with another build of the addon), both run in turns and the report
// gives the ratio.

const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { parseArgs } = require('node:util')

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '300000' },
    rounds: { type: 'string', default: '5' },
    against: { type: 'string' }
  }
})
const LINES = Number(values.lines)

function child (pkg) {
  return `
    const log = require(${JSON.stringify(pkg)}).createLogger({ service: 'bench' })
    const started = process.hrtime.bigint()
    const cpu0 = process.cpuUsage()
    let i = 0
    function turn () {
      for (let k = 0; k < 2000 && i < ${LINES}; k++, i++) {
        log.info({ i, user: { id: i, email: 'user' + i + '@example.com' }, orderId: 'o' + i, amount: 12.5 }, 'order placed')
      }
      if (i < ${LINES}) return setImmediate(turn)
      log.flush().then(() => {
        const cpu = process.cpuUsage(cpu0)
        process.stderr.write(Number(process.hrtime.bigint() - started) / 1e6 + ' ' + (cpu.user + cpu.system) / 1000 + '\\n')
      })
    }
    turn()`
}

function run (pkg) {
  const out = spawnSync('sh', ['-c', '"$NODE" -e "$CODE" | cat > /dev/null'], {
    env: { ...process.env, NODE: process.execPath, CODE: child(pkg) },
    encoding: 'utf8'
  })
  if (out.status !== 0) throw new Error(out.stderr)
  const [ms, cpuMs] = out.stderr.trim().split('\n').pop().split(' ').map(Number)
  return { ms, cpuMs }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const contenders = { current: path.join(__dirname, '..') }
if (values.against) contenders.against = path.resolve(values.against)
const runs = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, pkg] of Object.entries(contenders)) runs[name].push(run(pkg))
}
// Wall time is at the mercy of whatever else runs on the machine; CPU time (all threads of
// the logging process: JS and writer) much less so.
const report = {}
for (const name of Object.keys(contenders)) {
  const m = median(runs[name].map((r) => r.ms))
  const cpu = median(runs[name].map((r) => r.cpuMs))
  report[name] = { medianMs: Math.round(m), linesPerSec: Math.round(LINES / (m / 1000)), cpuUsPerLine: +(cpu * 1000 / LINES).toFixed(3) }
}
if (values.against) {
  report.ratioCurrentVsAgainst = {
    linesPerSec: +(report.current.linesPerSec / report.against.linesPerSec).toFixed(3),
    cpuPerLine: +(report.current.cpuUsPerLine / report.against.cpuUsPerLine).toFixed(3)
  }
}
console.log(JSON.stringify(report, null, 2))

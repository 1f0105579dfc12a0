'use strict'
// One benchmark run in its own process, so that peak RSS belongs to one contender.
// argv: <contender> <file> <lines>. Prints one JSON result line on stdout.

const [contender, file, linesArg] = process.argv.slice(2)
const lines = Number(linesArg)

function makeLogger () {
  switch (contender) {
    case 'prodkit':
      return { log: require('..').createLogger({ destination: file, service: 'bench', level: 'info' }), done: (l) => l.flush() }
    case 'pino-sync':
    case 'pino-async': {
      const pino = require('pino')
      const dest = pino.destination({ dest: file, sync: contender === 'pino-sync' })
      const log = pino({ base: { pid: process.pid, hostname: require('node:os').hostname(), service: 'bench' } }, dest)
      return {
        log,
        done: () => new Promise((resolve) => (contender === 'pino-sync' ? resolve() : dest.flush(() => resolve())))
      }
    }
    default:
      throw new Error(`unknown contender ${contender}`)
  }
}

async function main () {
  const { log, done } = makeLogger()
  // Warm up the JIT on a second logger of the same kind would double the file handles;
  // instead the first 5% of the lines count as warm-up and are excluded from the timing.
  const warm = Math.floor(lines / 20)
  for (let i = 0; i < warm; i++) {
    log.info({ user: { id: i, email: `user${i}@example.com` }, orderId: `ord-${i}`, amount: 12.5 + i }, 'order placed')
  }
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let i = warm; i < lines; i++) {
    log.info({ user: { id: i, email: `user${i}@example.com` }, orderId: `ord-${i}`, amount: 12.5 + i }, 'order placed')
  }
  const t1 = process.hrtime.bigint()
  await done(log)
  const t2 = process.hrtime.bigint()
  const cpu = process.cpuUsage(cpu0)
  const timed = lines - warm
  process.stdout.write(JSON.stringify({
    contender,
    jsNsPerLine: Number(t1 - t0) / timed,
    linesPerSec: timed / (Number(t2 - t0) / 1e9),
    cpuNsPerLine: ((cpu.user + cpu.system) * 1000) / timed,
    peakRssMiB: process.resourceUsage().maxRSS / 1024
  }) + '\n')
}

main()

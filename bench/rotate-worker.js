'use strict'
// One run of bench/rotate.js in its own process. argv: <contender> <dir> <lines> <size>.
// Prints one JSON result line on stdout.
//
//   plain          prodkit logging to <dir>/app.log, no rotation
//   rotate         the same with rotate: { size, compress: true }; after the loop, waits
//                  until the archive thread has compressed every rotated file
//   compress-only  no logging: <dir> holds a plain rotated file made beforehand (an
//                  earlier run's leftover, as after a crash); a rotating logger opened on
//                  the path compresses it at start, alone on the machine: wall-clock speed

const fs = require('node:fs')
const path = require('node:path')
const prodkit = require('..')

const [contender, dir, linesArg, size] = process.argv.slice(2)
const lines = Number(linesArg)
const file = path.join(dir, 'app.log')

function report (result) {
  process.stdout.write(JSON.stringify({ contender, ...result }) + '\n')
}

function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

async function waitCompressed (log, expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (log.stats().rotation.compressedFiles < expected) {
    if (Date.now() > deadline) return false
    await sleep(5)
  }
  return true
}

function gzBytes () {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.gz')).reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0)
}

async function compressOnly () {
  const plain = fs.readdirSync(dir).find((n) => n.endsWith('Z.log'))
  const bytes = fs.statSync(path.join(dir, plain)).size
  const t0 = process.hrtime.bigint()
  const log = prodkit.createLogger({ destination: file, service: 'bench', rotate: { size } })
  const done = await waitCompressed(log, 1, 120_000)
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  const { compressMs } = log.stats().rotation
  log.close()
  report({ done, bytes, gzBytes: gzBytes(), wallMs, cpuMs: compressMs })
}

async function logLines () {
  const rotate = contender === 'rotate' ? { size, compress: true } : undefined
  const log = prodkit.createLogger({ destination: file, service: 'bench', level: 'info', rotate })
  // The first 5% of the lines warm the JIT up and are not timed (as in bench/log-worker.js).
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
  const flushed = await log.flush()
  const t2 = process.hrtime.bigint()
  const cpu = process.cpuUsage(cpu0)
  const timed = lines - warm
  const result = {
    flushed,
    jsNsPerLine: Number(t1 - t0) / timed,
    linesPerSec: timed / (Number(t2 - t0) / 1e9),
    processCpuNsPerLine: ((cpu.user + cpu.system) * 1000) / timed
  }
  if (contender === 'rotate') {
    const { rotations } = log.stats().rotation
    const compressed = await waitCompressed(log, rotations, 300_000)
    const { compressedFiles, compressedBytes, compressMs } = log.stats().rotation
    Object.assign(result, { rotations, compressed, compressedFiles, compressedBytes, compressMs, gzBytes: gzBytes() })
  }
  log.close()
  report(result)
}

;(contender === 'compress-only' ? compressOnly() : logLines()).catch((err) => {
  console.error(err)
  process.exitCode = 1
})

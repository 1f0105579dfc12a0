'use strict'
// `prodkit top`: prodkit status redrawn each second, the busiest processes first, until
// `q` (or Ctrl-C). Draws on the terminal's alternate screen, which it leaves as it found it.

const { runConsole, ConsoleError, UsageError, TARGET_OPTIONS, TARGET_HELP } = require('./control-client')
const { table } = require('./console-format')

const HELP = `Usage: prodkit top [--name NAME] [--pid PID]

Shows the running cluster's processes as prodkit status does, refreshed each second, the
workers sorted by CPU (busiest first). Press q (or Ctrl-C) to quit. Fits 80 columns.

Options:
${TARGET_HELP}`

const OPTIONS = { ...TARGET_OPTIONS }
const REFRESH_MS = 1000

function main (argv, io = process) {
  return runConsole('top', HELP, OPTIONS, argv, (values, positionals, target) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
    return watch(target, io)
  }, { io })
}

function watch ({ client, name, pid }, { stdin, stdout }) {
  return new Promise((resolve) => {
    let timer = null
    let finished = false
    const raw = stdin.isTTY && typeof stdin.setRawMode === 'function'
    const finish = (code, message) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      stdin.off('data', onKey)
      if (raw) stdin.setRawMode(false)
      stdin.pause()
      stdout.write('\x1b[?25h\x1b[?1049l') // cursor back, main screen back
      if (message) stdout.write(message)
      resolve(code)
    }
    const onKey = (key) => {
      const text = String(key)
      if (text.includes('q') || text.includes('Q') || text.includes('\u0003')) finish(0)
    }
    const onSignal = () => finish(0)
    process.once('SIGINT', onSignal) // Ctrl-C when stdin is not a terminal
    process.once('SIGTERM', onSignal)
    if (raw) stdin.setRawMode(true)
    stdin.on('data', onKey)
    stdin.resume()
    stdout.write('\x1b[?1049h\x1b[?25l') // alternate screen, cursor hidden
    client.closed.then(() => finish(1, `prodkit top: ${name} (pid ${pid}) closed the connection: it stopped\n`))
    const draw = async () => {
      try {
        const status = await client.request('status')
        if (finished) return
        const time = new Date().toTimeString().slice(0, 8)
        stdout.write(`\x1b[H\x1b[2J${table(status, { order: 'cpu' })}\n${time}  refreshed each second, busiest first; q to quit\n`)
        timer = setTimeout(draw, REFRESH_MS)
      } catch (err) {
        if (!(err instanceof ConsoleError)) throw err
        finish(1, `prodkit top: ${err.message}\n`)
      }
    }
    draw()
  })
}

module.exports = { main, HELP, OPTIONS }

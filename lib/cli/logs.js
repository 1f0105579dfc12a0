'use strict'
// `prodkit logs`: the running cluster's log file (the primary's, where the workers'
// captured output goes too), its last lines then every new one as it is written, across
// rotations (the file replaced or truncated: read again from its start). Pretty by
// default, one line per entry as pino-pretty prints them; --json passes the lines as they
// are. Filters: --worker N, --level L. Encrypted fields are decrypted with a key
// (--key-env / --key-file, as prodkit decrypt takes them).

const fs = require('node:fs')
const { runConsole, findCluster, ConsoleError, UsageError, TARGET_OPTIONS, TARGET_HELP } = require('./control-client')

const HELP = `Usage: prodkit logs [--name NAME] [--pid PID] [--file PATH] [--json] [--worker N]
                    [--level L] [--lines N] [--no-follow] [--key-env NAME | --key-file FILE]

Prints the last lines of the running cluster's log file (prodkit run --log), then follows
it: each new line as it is written, across rotations, until Ctrl-C. Pretty by default:
time, level, which process (primary or wN), message, then the other fields as key=value.

Options:
  --file PATH      read this log file instead of asking the cluster for its own
  --json           print the lines as they are (JSON), filtered
  --worker N       only the lines of worker N (its own and the primary's about it)
  --level L        only lines at this level or above (trace, debug, info, warn, error,
                   fatal, or a number)
  --lines N        how many of the last lines to print first (default 20; 0: only new)
  --no-follow      print the last lines and exit
  --key-env NAME   decrypt encrypted fields with the key in the environment variable NAME
  --key-file FILE  decrypt encrypted fields with the key in FILE
${TARGET_HELP}`

const OPTIONS = {
  ...TARGET_OPTIONS,
  file: { type: 'string' },
  json: { type: 'boolean' },
  worker: { type: 'string' },
  level: { type: 'string' },
  lines: { type: 'string' },
  'no-follow': { type: 'boolean' },
  'key-env': { type: 'string' },
  'key-file': { type: 'string' }
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }
const NAMES = Object.fromEntries(Object.entries(LEVELS).map(([name, value]) => [value, name.toUpperCase()]))
const COLORS = { 10: 90, 20: 36, 30: 32, 40: 33, 50: 31, 60: 35 }
const SHOWN_ELSEWHERE = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'worker', 'role', 'service', 'v'])
const POLL_MS = 200
const TAIL_BYTES = 4 * 1024 * 1024

function checkOptions (values) {
  const filters = {}
  if (values.worker !== undefined) {
    filters.worker = Number(values.worker)
    if (!/^\d+$/.test(values.worker) || filters.worker < 1) throw new UsageError(`--worker must be a worker id (the N of wN in prodkit status; got ${JSON.stringify(values.worker)})`)
  }
  if (values.level !== undefined) {
    const level = values.level.toLowerCase()
    filters.level = LEVELS[level] !== undefined ? LEVELS[level] : /^\d+$/.test(level) ? Number(level) : NaN
    if (Number.isNaN(filters.level)) throw new UsageError(`--level must be one of ${Object.keys(LEVELS).join(', ')} or a number (got ${JSON.stringify(values.level)})`)
  }
  filters.lines = values.lines === undefined ? 20 : Number(values.lines)
  if (values.lines !== undefined && !/^\d+$/.test(values.lines)) throw new UsageError(`--lines must be a number of lines (got ${JSON.stringify(values.lines)})`)
  if (values['key-env'] !== undefined && values['key-file'] !== undefined) throw new UsageError('give --key-env or --key-file, not both')
  return filters
}

function keyring (values, env) {
  let key
  if (values['key-env'] !== undefined) {
    const text = env[values['key-env']]
    if (text === undefined || text.trim() === '') throw new UsageError(`--key-env: the environment variable ${values['key-env']} is not set or empty`)
    key = Buffer.from(text)
  } else if (values['key-file'] !== undefined) {
    try {
      key = fs.readFileSync(values['key-file'])
    } catch (err) {
      throw new UsageError(`--key-file: cannot read ${values['key-file']} (${err.code || err.message})`)
    }
  } else return null
  try {
    return require('../crypt').createKeyring([{ key }])
  } catch (err) {
    throw new UsageError(`the key is not usable: ${err.message.replace(/^prodkit: (key 1 of the keyring: )?/, '')}`)
  } finally {
    key.fill(0)
  }
}

function field (value) {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value
  if (value && typeof value === 'object' && typeof value.message === 'string' && typeof value.stack === 'string') return JSON.stringify(value.message)
  return JSON.stringify(value)
}

// One entry on one line: "12:00:01.234 INFO  w2: message key=value ...".
function pretty (entry, color) {
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : String(entry.time || '')
  const name = (NAMES[entry.level] || String(entry.level)).padEnd(5)
  const level = color ? `\x1b[${COLORS[entry.level] || 0}m${name}\x1b[0m` : name
  const who = entry.role === 'primary' ? 'primary' : entry.worker !== undefined ? `w${entry.worker}` : `pid ${entry.pid}`
  const rest = Object.entries(entry).filter(([k]) => !SHOWN_ELSEWHERE.has(k) || (k === 'worker' && entry.role === 'primary'))
    .map(([k, v]) => `${k}=${field(v)}`).join(' ')
  const msg = typeof entry.msg === 'string' ? entry.msg.replace(/\n/g, '\\n') : ''
  return `${time} ${level} ${who}: ${msg}${rest ? ` ${rest}` : ''}`
}

// What to print for one line of the file, or null when a filter leaves it out.
function render (line, { filters, json, color, keys }) {
  if (keys) {
    try {
      line = keys.decryptLine(line)
    } catch {}
  }
  let entry
  try {
    entry = JSON.parse(line)
  } catch {}
  if (!entry || typeof entry !== 'object') {
    return filters.worker === undefined && filters.level === undefined ? line : null
  }
  if (filters.worker !== undefined && entry.worker !== filters.worker) return null
  if (filters.level !== undefined && !(entry.level >= filters.level)) return null
  return json ? line : pretty(entry, color)
}

// The last `count` whole lines of `file`, and the offset after them.
function tail (file, count) {
  const fd = fs.openSync(file, 'r')
  try {
    const { size, ino } = fs.fstatSync(fd)
    const start = Math.max(0, size - TAIL_BYTES)
    const buffer = Buffer.alloc(size - start)
    fs.readSync(fd, buffer, 0, buffer.length, start)
    const end = buffer.lastIndexOf(0x0a) + 1 // a last line still being written waits
    let lines = buffer.subarray(0, end).toString('utf8').split('\n').slice(0, -1)
    if (start > 0) lines = lines.slice(1) // the first one may be cut
    return { lines: count === 0 ? [] : lines.slice(-count), offset: start + end, ino }
  } finally {
    fs.closeSync(fd)
  }
}

function follow (file, state, onLine, isDone) {
  return new Promise((resolve) => {
    const poll = () => {
      if (isDone()) return resolve()
      let st
      try {
        st = fs.statSync(file)
      } catch {
        return setTimeout(poll, POLL_MS) // rotated away, not recreated yet
      }
      if (st.ino !== state.ino || st.size < state.offset) {
        state.ino = st.ino // a new file (rotation) or a truncated one: from its start
        state.offset = 0
      }
      if (st.size > state.offset) {
        const fd = fs.openSync(file, 'r')
        try {
          // Truncated and written again past where we were: the byte before our offset
          // is no longer the newline that ended the last line we read.
          if (state.offset > 0) {
            const before = Buffer.alloc(1)
            fs.readSync(fd, before, 0, 1, state.offset - 1)
            if (before[0] !== 0x0a) state.offset = 0
          }
          const buffer = Buffer.alloc(st.size - state.offset)
          const read = fs.readSync(fd, buffer, 0, buffer.length, state.offset)
          const end = buffer.subarray(0, read).lastIndexOf(0x0a) + 1
          for (const line of buffer.subarray(0, end).toString('utf8').split('\n').slice(0, -1)) onLine(line)
          state.offset += end
        } finally {
          fs.closeSync(fd)
        }
      }
      setTimeout(poll, POLL_MS)
    }
    poll()
  })
}

function main (argv, io = process) {
  return runConsole('logs', HELP, OPTIONS, argv, async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`)
    const filters = checkOptions(values)
    const keys = keyring(values, io.env || process.env)
    let file = values.file
    if (file === undefined) {
      const target = await findCluster(values, io.env || process.env)
      try {
        const status = await target.client.request('status')
        file = status.logFile
        if (!file) throw new ConsoleError(`${target.name} (pid ${target.pid}) writes its log to stdout, not to a file: read it where its stdout goes (journalctl -u <unit>), or start it with prodkit run --log PATH`)
      } finally {
        target.client.close()
      }
    }
    let state
    try {
      state = tail(file, filters.lines)
    } catch (err) {
      throw new ConsoleError(`cannot read the log file ${file} (${err.code || err.message})`)
    }
    const options = { filters, json: values.json === true, color: Boolean(io.stdout.isTTY) && !values.json, keys }
    const print = (line) => {
      const out = render(line, options)
      if (out !== null) io.stdout.write(`${out}\n`)
    }
    for (const line of state.lines) print(line)
    if (values['no-follow']) return 0
    let done = false
    const stop = () => { done = true }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    await follow(file, state, print, () => done)
    return 0
  }, { io, findTarget: false, validate: (positionals, values) => checkOptions(values) })
}

module.exports = { main, pretty, render, HELP, OPTIONS }

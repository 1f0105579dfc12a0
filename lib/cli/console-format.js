'use strict'
// The table `prodkit status` prints and `prodkit top` redraws: one row per process (the
// primary first, then each worker), fixed columns that fit in 80 columns whatever the
// numbers (durations and sizes are shortened: 3d4h, 512M).

const COLUMNS = [
  ['ID', 7, 'left'], ['PID', 8, 'right'], ['STATE', 10, 'left'], ['UPTIME', 7, 'right'],
  ['RESTARTS', 9, 'right'], ['CPU', 6, 'right'], ['MEM', 7, 'right'], ['LOOP', 8, 'right'],
  ['REQ/S', 8, 'right']
]

function duration (ms) {
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${s % 60}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h${m % 60}m`
  return `${Math.floor(h / 24)}d${h % 24}h`
}

function bytes (n) {
  if (typeof n !== 'number') return '-'
  const units = ['B', 'K', 'M', 'G', 'T']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)}${units[i]}`
}

const num = (v, f) => (typeof v === 'number' && Number.isFinite(v) ? f(v) : '-')

function cell (text, width, align) {
  text = String(text)
  if (text.length > width) text = text.slice(0, width)
  return align === 'left' ? text.padEnd(width) : text.padStart(width)
}

function row (values) {
  return COLUMNS.map(([, width, align], i) => cell(values[i], width, align)).join(' ').trimEnd()
}

function processRow (id, p) {
  return row([
    id, p.pid, p.state, duration(p.uptimeMs), p.restarts === undefined ? '-' : p.restarts,
    num(p.cpu, (v) => `${Math.round(v * 100)}%`), bytes(p.rss), num(p.eventLoopDelayMs, (v) => `${v.toFixed(1)}ms`),
    num(p.requestsPerSec, (v) => (v >= 100 ? String(Math.round(v)) : v.toFixed(1)))
  ])
}

// The whole table; `order` sorts the workers ('slot' or 'cpu').
function table (status, { order = 'slot' } = {}) {
  const workers = [...status.workers]
  if (order === 'cpu') workers.sort((a, b) => (b.cpu || 0) - (a.cpu || 0) || a.id - b.id)
  const online = status.workers.filter((w) => w.state === 'ready').length
  const head = `${status.name}${status.version ? ` ${status.version}` : ''}: ${online}/${status.workersWanted} workers ready` +
    `${status.stopping ? ', stopping' : ''}, primary pid ${status.primary.pid}, up ${duration(status.primary.uptimeMs)}`
  const lines = [head.length > 79 ? head.slice(0, 79) : head, '', row(COLUMNS.map(([title]) => title))]
  lines.push(processRow('primary', { ...status.primary, state: status.stopping ? 'stopping' : 'running' }))
  for (const w of workers) {
    lines.push(processRow(`w${w.id}`, { ...w, state: w.answered === false && w.state === 'ready' ? 'no answer' : w.state }))
  }
  return `${lines.join('\n')}\n`
}

module.exports = { table, duration, bytes }

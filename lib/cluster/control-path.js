'use strict'
// Where a cluster's control socket and pid file live, and how a command finds them.
//
// The folder: $PRODKIT_RUNTIME_DIR if set, else $XDG_RUNTIME_DIR/prodkit (systemd's
// per-user runtime folder), else <os.tmpdir()>/prodkit-<uid>. It is created owner-only
// (0700) and refused when it is someone else's or open to others: whoever can connect to
// the socket can stop the cluster.
//
// The files: <name>.<pid>.sock and <name>.<pid>.pid, where <name> is the app's name made
// safe for a file name (@acme/shop -> acme-shop). The primary's pid is in the file name,
// so two clusters of the same app can run side by side (a command then asks which one).
// A pair whose process is gone, or whose socket refuses connections, is stale.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

// sockaddr_un's sun_path holds 108 bytes (104 on macOS) with the final NUL.
const MAX_SOCKET_PATH = 103

function runtimeDir (env = process.env) {
  if (env.PRODKIT_RUNTIME_DIR) return path.resolve(env.PRODKIT_RUNTIME_DIR)
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'prodkit')
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user'
  return path.join(os.tmpdir(), `prodkit-${uid}`)
}

// '@acme/shop' -> 'acme-shop'; anything but letters, digits, '.', '_' and '-' becomes '-'.
function safeName (name) {
  const safe = String(name).replace(/^@/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 60)
  return safe || 'app'
}

// Creates the folder (owner-only) if needed; throws an Error saying what is wrong with it.
function ensureDir (dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = fs.lstatSync(dir)
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`)
  if (typeof process.getuid === 'function') {
    if (st.uid !== process.getuid()) throw new Error(`${dir} belongs to uid ${st.uid}, not to this user (${process.getuid()})`)
    if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700)
  }
  return dir
}

function filesFor (dir, name, pid) {
  const base = path.join(dir, `${safeName(name)}.${pid}`)
  return { socket: `${base}.sock`, pidFile: `${base}.pid` }
}

function alive (pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

// Every pair of files for `name` in `dir`: [{ pid, socket, pidFile, hasSocket, hasPidFile, alive }].
function listFor (dir, name) {
  const prefix = `${safeName(name)}.`
  let entries
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return []
  }
  const byPid = new Map()
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue
    const match = /^(\d+)\.(sock|pid)$/.exec(entry.slice(prefix.length))
    if (!match) continue
    const pid = Number(match[1])
    if (!byPid.has(pid)) byPid.set(pid, { pid, ...filesFor(dir, name, pid), hasSocket: false, hasPidFile: false })
    byPid.get(pid)[match[2] === 'sock' ? 'hasSocket' : 'hasPidFile'] = true
  }
  return [...byPid.values()].map((c) => ({ ...c, alive: alive(c.pid) }))
}

module.exports = { runtimeDir, safeName, ensureDir, filesFor, listFor, alive, MAX_SOCKET_PATH }

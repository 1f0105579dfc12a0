'use strict'
// The primary's control socket: what `prodkit status`, `top`, `reload`, `scale` and `stop`
// talk to. A Unix socket in an owner-only folder (control-path.js), mode 0600, with a pid
// file beside it; both removed when the primary exits, and stale ones (their process is
// gone) removed when a primary of the same name starts.
//
// The protocol: line-delimited JSON. A client writes one request per line,
//   {"id":1,"command":"status"}   {"id":2,"command":"scale","workers":4}
// and the primary answers each with one line carrying the same id,
//   {"id":1,"ok":true,"result":{...}}   or   {"id":2,"ok":false,"error":"..."}
// in the order the answers are ready. Commands: status, reload, scale, stop. A connection
// may carry any number of requests (`prodkit top` keeps one open).

const fs = require('node:fs')
const net = require('node:net')
const { ensureDir, filesFor, listFor, MAX_SOCKET_PATH } = require('./control-path')

const MAX_REQUEST = 64 * 1024

class ControlServer {
  // `handle(request)`: resolves with the result or rejects with an Error whose message
  // is sent back.
  constructor ({ name, dir, handle, log }) {
    this.name = name
    this.dir = dir
    this.handle = handle
    this.log = log
    this.server = null
    this.connections = new Set()
    this.files = filesFor(dir, name, process.pid)
    this.removeOnExit = () => this.removeFiles()
  }

  // Resolves with the socket's path once it listens; rejects with why it cannot.
  start () {
    ensureDir(this.dir)
    if (Buffer.byteLength(this.files.socket) > MAX_SOCKET_PATH) {
      throw new Error(`the socket path ${this.files.socket} is longer than a Unix socket allows (${MAX_SOCKET_PATH} bytes): set PRODKIT_RUNTIME_DIR to a shorter folder`)
    }
    for (const stale of listFor(this.dir, this.name)) {
      if (stale.alive && stale.pid !== process.pid) continue
      for (const file of [stale.socket, stale.pidFile]) fs.rmSync(file, { force: true })
      if (stale.pid !== process.pid) this.log.info({ stalePid: stale.pid }, `removed the stale control files of process ${stale.pid} (not running)`)
    }
    this.server = net.createServer((socket) => this.onConnection(socket))
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.files.socket, () => {
        this.server.off('error', reject)
        this.server.on('error', (err) => this.log.warn({ err }, 'control socket error'))
        fs.chmodSync(this.files.socket, 0o600)
        fs.writeFileSync(this.files.pidFile, `${process.pid}\n`, { mode: 0o600 })
        process.on('exit', this.removeOnExit)
        resolve(this.files.socket)
      })
    })
  }

  onConnection (socket) {
    this.connections.add(socket)
    socket.on('close', () => this.connections.delete(socket))
    socket.on('error', () => {})
    socket.setEncoding('utf8')
    let pending = ''
    socket.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n')
      pending = lines.pop()
      if (pending.length > MAX_REQUEST) {
        this.reply(socket, { id: null, ok: false, error: `a request is longer than ${MAX_REQUEST} bytes` })
        socket.end()
        return
      }
      for (const line of lines) if (line.trim() !== '') this.onRequest(socket, line)
    })
  }

  onRequest (socket, line) {
    let request
    try {
      request = JSON.parse(line)
    } catch {
      return this.reply(socket, { id: null, ok: false, error: 'a request is one JSON object per line' })
    }
    if (typeof request !== 'object' || request === null || typeof request.command !== 'string') {
      return this.reply(socket, { id: request && request.id, ok: false, error: 'a request needs a "command" (status, reload, scale, stop)' })
    }
    Promise.resolve().then(() => this.handle(request)).then(
      (result) => this.reply(socket, { id: request.id, ok: true, result }),
      (err) => this.reply(socket, { id: request.id, ok: false, error: err.message })
    )
  }

  reply (socket, message) {
    if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`)
  }

  removeFiles () {
    // Only our own: another primary of the same name has its own pid in its file names.
    for (const file of [this.files.socket, this.files.pidFile]) {
      try {
        fs.rmSync(file, { force: true })
      } catch {}
    }
  }

  close () {
    process.off('exit', this.removeOnExit)
    this.removeFiles()
    if (this.server) this.server.close()
    for (const socket of this.connections) socket.end()
  }
}

module.exports = { ControlServer }

'use strict'
// A real rsyslog for the shipping tests: rsyslogd in the foreground with its own config
// (imtcp on a free loopback port, omfile to a file in the test's folder, its own pid file
// and work folder: no system path), started and stopped by the test. Every wait is for a
// condition (the port accepts, a count of lines), never for an amount of time.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { waitFor, freePort } = require('./helpers')

const RSYSLOGD = '/usr/sbin/rsyslogd'

// CI installs rsyslog (.ci/run): there a missing one is a failure.
function needsRsyslog (t) {
  if (fs.existsSync(RSYSLOGD)) return true
  if (process.env.CI) assert.fail('rsyslog is required in CI (.ci/run installs it)')
  t.skip('rsyslog is not installed (apt-get install rsyslog)')
  return false
}

function accepts (port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('connect', () => { socket.destroy(); resolve(true) })
    socket.on('error', () => resolve(false))
  })
}

// `queue`: 'direct' (the input thread writes each message before it reads the next: a
// session closed by rsyslog means its lines are in the file) or 'memory' (rsyslog's
// default in-memory queue).
class Rsyslog {
  // `tls`: { ca, cert, key } (PEM files): imtcp over TLS (rsyslog-gnutls), syslog+tls://.
  // `input`: 'imtcp' (syslog+tcp://, syslog+tls://) or 'imrelp' (relp://, rsyslog-relp).
  constructor (dir, { queue = 'direct', tls = null, input = 'imtcp' } = {}) {
    this.dir = dir
    this.queue = queue
    this.tls = tls
    this.input = input
    this.out = path.join(dir, 'received.log')
    this.heads = path.join(dir, 'heads.log')
    this.child = null
    this.port = null
    this.stderr = ''
  }

  config () {
    const work = path.join(this.dir, 'rsyslog-work')
    fs.mkdirSync(work, { recursive: true })
    const tls = this.tls
    return `global(workDirectory="${work}" maxMessageSize="256k"${tls
      ? ` DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${tls.ca}" DefaultNetstreamDriverCertFile="${tls.cert}" DefaultNetstreamDriverKeyFile="${tls.key}"`
      : ''})
main_queue(queue.type="${this.queue === 'direct' ? 'Direct' : 'LinkedList'}")
${this.input === 'imrelp'
  ? `module(load="imrelp")
input(type="imrelp" port="${this.port}" address="127.0.0.1")`
  : `module(load="imtcp"${tls ? ' StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.Authmode="anon"' : ''})
input(type="imtcp" port="${this.port}" address="127.0.0.1")`}
template(name="msgonly" type="string" string="%msg%\\n")
template(name="head" type="string" string="%pri%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%protocol-version%\\n")
action(type="omfile" file="${this.out}" template="msgonly")
action(type="omfile" file="${this.heads}" template="head")
`
  }

  async start () {
    if (this.port === null) this.port = await freePort()
    const conf = path.join(this.dir, 'rsyslog.conf')
    fs.writeFileSync(conf, this.config())
    const child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(this.dir, 'rsyslog.pid')], {
      stdio: ['ignore', 'ignore', 'pipe']
    })
    child.stderr.setEncoding('utf8').on('data', (d) => { this.stderr += d })
    this.child = child
    this.exited = new Promise((resolve) => child.on('exit', resolve))
    await waitFor(async () => child.exitCode === null && await accepts(this.port), {
      timeoutMs: 30_000,
      what: `rsyslogd to accept on ${this.port} (stderr: ${this.stderr})`
    })
    return this
  }

  async stop (signal = 'SIGTERM') {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    await this.exited
    clearTimeout(timer)
    this.child = null
  }

  url () {
    if (this.input === 'imrelp') return `relp://127.0.0.1:${this.port}`
    return this.tls
      ? `syslog+tls://127.0.0.1:${this.port}?ca=${this.tls.ca}`
      : `syslog+tcp://127.0.0.1:${this.port}`
  }

  // The messages received so far, as text lines (a line being written is left out).
  lines () {
    let text
    try {
      text = fs.readFileSync(this.out, 'utf8')
    } catch (err) {
      if (err.code === 'ENOENT') return []
      throw err
    }
    const end = text.lastIndexOf('\n')
    return end < 0 ? [] : text.slice(0, end).split('\n')
  }

  headLines () {
    return fs.existsSync(this.heads) ? fs.readFileSync(this.heads, 'utf8').split('\n').filter(Boolean) : []
  }
}

// A test CA and a server certificate for 127.0.0.1 it signed, made with openssl in `dir`.
function testCertificates (dir) {
  const run = (args) => {
    const out = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
    assert.equal(out.status, 0, `openssl ${args.join(' ')}: ${out.stderr}`)
  }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=prodkit test CA'])
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'])
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') }
}

module.exports = { Rsyslog, needsRsyslog, testCertificates }

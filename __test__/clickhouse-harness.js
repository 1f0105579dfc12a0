'use strict'
// A real ClickHouse for the shipping tests, started as src/ship/http/clickhouse_real.rs does:
// Debian's clickhouse-server (18.16; .ci/run installs it) with its own config in the test's
// folder, HTTP on a free loopback port and no other listener, data in that folder, so it can
// be stopped (SIGTERM or SIGKILL) and started again on the same port with the same tables.
// keep_alive_timeout is 1 s (18.16's default is 10 s): a SIGTERM waits for idle keep-alive
// connections to close, and the shipper keeps one open between batches, so a graceful stop
// would take 10 s (measured) instead of about one.
// Every wait is for a condition (/ping answers, a row count), never for an amount of time.
// Queries go over the HTTP interface, a new connection each (no pooled socket outlives a
// server that was killed).

const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { waitFor, freePort } = require('./helpers')

// Debian installs /usr/sbin/clickhouse-server; ClickHouse's own packages /usr/bin/clickhouse
// (one binary: `clickhouse server`) with /usr/bin/clickhouse-server linked to it.
const BINARIES = [
  ['/usr/sbin/clickhouse-server', []],
  ['/usr/bin/clickhouse-server', []],
  ['/usr/bin/clickhouse', ['server']]
]

// The server's command, or null (the test skipped) when none is installed; CI installs it
// (.ci/run), so there a missing one is a failure.
function needsClickHouse (t) {
  const found = BINARIES.find(([file]) => fs.existsSync(file))
  if (found) return found
  if (process.env.CI) assert.fail('clickhouse-server is required in CI (.ci/run installs it)')
  t.skip('clickhouse-server is not installed (apt-get install clickhouse-server)')
  return null
}

// Users: `default` (no password) for the test's own queries, and `shipper` with `password`
// for the shipper (PRODKIT_SHIP_USER=shipper, PRODKIT_SHIP_PASSWORD=...).
class ClickHouse {
  constructor (dir, command, { password = 'pw' } = {}) {
    this.dir = path.join(dir, 'clickhouse')
    this.command = command
    this.password = password
    this.child = null
    this.port = null
    this.stderr = ''
  }

  config () {
    const d = this.dir
    for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) fs.mkdirSync(path.join(d, sub), { recursive: true })
    fs.writeFileSync(path.join(d, 'users.xml'), `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <shipper><password>${this.password}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></shipper>
  </users>
  <quotas><default></default></quotas>
</yandex>
`)
    const file = path.join(d, 'config.xml')
    fs.writeFileSync(file, `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${d}/server.log</log><errorlog>${d}/server.err.log</errorlog></logger>
  <http_port>${this.port}</http_port>
  <listen_host>127.0.0.1</listen_host>
  <keep_alive_timeout>1</keep_alive_timeout>
  <path>${d}/data/</path>
  <tmp_path>${d}/tmp/</tmp_path>
  <user_files_path>${d}/user_files/</user_files_path>
  <format_schema_path>${d}/format_schemas/</format_schema_path>
  <users_config>${d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
  <uncompressed_cache_size>8589934</uncompressed_cache_size>
</yandex>
`)
    return file
  }

  // Starts the server (again: same port, same data) and waits for /ping.
  async start () {
    if (this.port === null) this.port = await freePort()
    const [binary, args] = this.command
    const child = spawn(binary, [...args, `--config-file=${this.config()}`], { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr.setEncoding('utf8').on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000) })
    this.child = child
    this.exited = new Promise((resolve) => child.on('exit', resolve))
    await waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        assert.fail(`clickhouse-server exited (${child.exitCode ?? child.signalCode}): ${this.stderr}\n${this.errorLog()}`)
      }
      const answer = await this.request('GET', '/ping').catch(() => null)
      return answer !== null && answer.status === 200 && answer.body.trim() === 'Ok.'
    }, { timeoutMs: 120_000, what: `clickhouse-server to answer /ping on ${this.port}` })
    return this
  }

  async stop (signal = 'SIGTERM') {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await this.exited
    clearTimeout(timer)
    this.child = null
  }

  errorLog () {
    try {
      return fs.readFileSync(path.join(this.dir, 'server.err.log'), 'utf8').slice(-4000)
    } catch {
      return ''
    }
  }

  url (table, query = '') {
    return `clickhouse://127.0.0.1:${this.port}/${table}${query}`
  }

  request (method, urlPath, body) {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path: urlPath, agent: false, timeout: 60_000 }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (d) => { text += d })
        res.on('end', () => resolve({ status: res.statusCode, body: text }))
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${urlPath} in 60 s`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  // Runs one SQL statement as `default`; its answer's text, or a failure with ClickHouse's.
  async query (sql) {
    const answer = await this.request('POST', '/', sql)
    assert.equal(answer.status, 200, `${sql.slice(0, 200)}: ${answer.body}`)
    return answer.body
  }

  async count (table) {
    return Number((await this.query(`SELECT count() FROM ${table}`)).trim())
  }

  // Each distinct value of a String column with how many rows hold it: [[value, count], ...].
  async counts (table, column) {
    const text = await this.query(`SELECT ${column} AS v, count() AS n FROM ${table} GROUP BY v FORMAT JSONEachRow`)
    return text.split('\n').filter(Boolean).map((row) => {
      const { v, n } = JSON.parse(row)
      return [v, Number(n)]
    })
  }
}

module.exports = { ClickHouse, needsClickHouse }

'use strict'
// `prodkit startup nginx [options]`: validates the options and prints the nginx config of
// lib/nginx/config.js. A bad option (a missing certificate, an upstream that is not
// host:port, a static folder that does not exist, a port out of range...) is a usage error
// that names the flag: exit code 2, the message and usage on stderr, nothing on stdout.

const fs = require('node:fs')
const path = require('node:path')
const { printGenerated, UsageError } = require('../cli/args')
const { packageAbove } = require('../app-package')
const { nginxConfig } = require('./config')

const USAGE = `Usage: prodkit startup nginx [--port N | --upstream HOST:PORT...] [options]

Prints an nginx config for the app: save it as /etc/nginx/conf.d/NAME.conf, the normal
deployment (nginx.conf includes conf.d/*.conf in its http {} block, so the file holds a
log_format, an upstream and the server blocks), then \`sudo nginx -t && sudo systemctl
reload nginx\`. nginx proxies to the app (\`prodkit run\` on --port, or several machines),
with keep-alive connections, X-Forwarded-* headers and nginx's $request_id as X-Request-Id,
retries of idempotent requests on another instance, gzip, optional static files and TLS,
a JSON access log and an error page of its own when no instance answers. Every choice is
explained in a comment in the output.

Options:
  --port N                    the port the app listens on, on this machine (default 3000)
  --upstream HOST:PORT        an instance of the app (repeat for several machines; instead of --port)
  --name NAME                 names the upstream, log format and log file (default: the package.json name here, else app)
  --server-name NAME          a host name the server answers (repeatable; default _, any)
  --listen [ADDR:]PORT        where nginx listens for HTTP (default 80)
  --tls-cert FILE             the certificate chain (PEM): serve HTTPS, redirect HTTP to it
  --tls-key FILE              the certificate's private key (PEM), with --tls-cert
  --tls-listen [ADDR:]PORT    where nginx listens for HTTPS (default 443)
  --static DIR                serve the files in DIR from nginx, with cache headers
  --static-path PATH          the URL prefix of --static (default /static/)
  --access-log FILE           the JSON access log (default /var/log/nginx/NAME.access.log)
  --client-max-body-size SIZE the largest request body, as nginx writes sizes (default 1m)
  --drain-timeout MS          the cluster's drain time, as given to prodkit run (default 10000):
                              nginx waits that long for a response
  -h, --help                  print this help
`

const OPTIONS = {
  port: { type: 'string' },
  upstream: { type: 'string', multiple: true },
  name: { type: 'string' },
  'server-name': { type: 'string', multiple: true },
  listen: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-listen': { type: 'string' },
  static: { type: 'string' },
  'static-path': { type: 'string' },
  'access-log': { type: 'string' },
  'client-max-body-size': { type: 'string' },
  'drain-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' }
}

function port (flag, text) {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new UsageError(`${flag} must be a port from 1 to 65535 (got ${JSON.stringify(text)})`)
  }
  return Number(text)
}

// host:port, host a name, an IPv4 address or a bracketed IPv6 address.
function hostPort (flag, text) {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):([^:]*)$/.exec(text)
  if (!match) throw new UsageError(`${flag} must be HOST:PORT, as 10.0.0.2:3000 or app1.internal:3000 (got ${JSON.stringify(text)})`)
  return `${match[1]}:${port(flag, match[3])}`
}

// PORT, ADDR:PORT or [IPv6]:PORT.
function listenValue (flag, text, fallback) {
  if (text === undefined) return String(fallback)
  if (/^\d+$/.test(text)) return String(port(flag, text))
  const match = /^(\[[0-9A-Fa-f:.]+\]|[0-9.]+|\*|[A-Za-z0-9.-]+):([^:]*)$/.exec(text)
  if (!match) throw new UsageError(`${flag} must be PORT or ADDRESS:PORT, as 8080 or 127.0.0.1:8080 (got ${JSON.stringify(text)})`)
  return `${match[1]}:${port(flag, match[2])}`
}

function readableFile (flag, text) {
  if (text === '') throw new UsageError(`${flag} must be a file`)
  const file = path.resolve(text)
  let stat
  try {
    stat = fs.statSync(file)
    fs.accessSync(file, fs.constants.R_OK)
  } catch (err) {
    throw new UsageError(`${flag} ${text}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
  if (!stat.isFile()) throw new UsageError(`${flag} ${text}: not a file`)
  return file
}

// Paths go into the config unquoted: refuse what nginx would split or read as syntax.
function safePath (flag, file) {
  if (!/^[^\s;{}'"\\$#]+$/.test(file)) throw new UsageError(`${flag} must be a path without spaces, quotes, ;, {, }, $ or # (got ${JSON.stringify(file)})`)
  return file
}

function configFrom (values) {
  if (values.port !== undefined && values.upstream !== undefined) throw new UsageError('--port and --upstream: give one (--port for this machine, --upstream for each instance)')
  const upstreams = values.upstream !== undefined
    ? values.upstream.map((u) => hostPort('--upstream', u))
    : [`127.0.0.1:${port('--port', values.port === undefined ? '3000' : values.port)}`]

  let name = values.name
  if (name === undefined) {
    name = (packageAbove(process.cwd()).name || 'app').replace(/^@[^/]+\//, '').replace(/[^A-Za-z0-9_]/g, '_')
  } else if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) {
    throw new UsageError(`--name must be letters, digits and _ (it names an nginx upstream; got ${JSON.stringify(name)})`)
  }

  const serverNames = values['server-name'] === undefined ? ['_'] : values['server-name']
  for (const n of serverNames) {
    if (!/^[A-Za-z0-9*_.-]+$/.test(n) || n.length > 253) throw new UsageError(`--server-name must be a host name, as example.com or *.example.com (got ${JSON.stringify(n)})`)
  }

  const listen = listenValue('--listen', values.listen, 80)
  const tlsListen = listenValue('--tls-listen', values['tls-listen'], 443)
  const certGiven = values['tls-cert'] !== undefined
  const keyGiven = values['tls-key'] !== undefined
  if (certGiven !== keyGiven) throw new UsageError(certGiven ? '--tls-cert needs --tls-key (the certificate\'s private key)' : '--tls-key needs --tls-cert (the certificate)')
  if (!certGiven && values['tls-listen'] !== undefined) throw new UsageError('--tls-listen needs --tls-cert and --tls-key')
  const tls = certGiven
    ? { cert: safePath('--tls-cert', readableFile('--tls-cert', values['tls-cert'])), key: safePath('--tls-key', readableFile('--tls-key', values['tls-key'])) }
    : undefined
  if (tls && portOf(listen) === portOf(tlsListen)) throw new UsageError(`--listen and --tls-listen must be different ports (both ${portOf(listen)})`)

  let staticDir
  if (values.static !== undefined) {
    staticDir = path.resolve(values.static)
    let stat
    try {
      stat = fs.statSync(staticDir)
    } catch (err) {
      throw new UsageError(`--static ${values.static}: ${err.code === 'ENOENT' ? 'no such folder' : err.message}`)
    }
    if (!stat.isDirectory()) throw new UsageError(`--static ${values.static}: not a folder`)
    safePath('--static', staticDir)
  } else if (values['static-path'] !== undefined) {
    throw new UsageError('--static-path needs --static DIR')
  }
  const staticPath = values['static-path'] === undefined ? '/static/' : values['static-path']
  if (!/^\/([A-Za-z0-9._~-]+\/)+$/.test(staticPath)) throw new UsageError(`--static-path must be a URL path that starts and ends with /, as /static/ or /assets/ (got ${JSON.stringify(staticPath)})`)

  const accessLog = values['access-log'] === undefined ? `/var/log/nginx/${name}.access.log` : safePath('--access-log', path.resolve(values['access-log']))

  const clientMaxBodySize = values['client-max-body-size'] === undefined ? '1m' : values['client-max-body-size']
  if (!/^\d{1,9}[kKmMgG]?$/.test(clientMaxBodySize)) throw new UsageError(`--client-max-body-size must be a size as nginx writes it: bytes, or a number with k, m or g, as 1m or 512k (got ${JSON.stringify(clientMaxBodySize)})`)

  const drainText = values['drain-timeout'] === undefined ? '10000' : values['drain-timeout']
  if (!/^\d+$/.test(drainText) || Number(drainText) < 1 || Number(drainText) > 3600000) {
    throw new UsageError(`--drain-timeout must be milliseconds from 1 to 3600000, as for prodkit run (got ${JSON.stringify(drainText)})`)
  }

  return nginxConfig({
    name,
    upstreams,
    listen,
    tlsListen,
    serverNames,
    tls,
    staticDir,
    staticPath,
    accessLog,
    clientMaxBodySize,
    drainTimeoutMs: Number(drainText)
  })
}

function portOf (listen) {
  return Number(/(\d+)$/.exec(listen)[1])
}

// argv: what follows `prodkit startup nginx`. Usage errors are thrown (UsageError), for
// the caller's withUsage() to report.
function main (argv) {
  return printGenerated(argv, OPTIONS, USAGE, configFrom)
}

module.exports = { main, USAGE, OPTIONS, configFrom }

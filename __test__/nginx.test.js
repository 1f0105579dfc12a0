'use strict'
// nginx: the config `prodkit startup nginx` prints is run by a real nginx (a foreground
// master started here, on loopback high ports, in an http {} wrapper that includes the
// printed file as conf.d would) in front of a real Express app using prodkit's
// requestLogger. `nginx -t` accepts every variant; through nginx, text is gzipped, static
// files get their cache headers (a year and immutable for fingerprinted names, 5 minutes
// for the rest), nginx's access log (JSON) and the app's log line carry the same request
// id, TLS serves with HSTS and plain HTTP redirects, nginx answers its own error page when
// the app is down, and with two upstreams one of which is down every GET succeeds. Bad
// options exit 2 naming the flag, with nothing on stdout. Without nginx the tests skip,
// except in CI (.ci/run installs it), where they fail.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const zlib = require('node:zlib')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { tempDir, waitFor } = require('./helpers')
const nginxCli = require('../lib/nginx/cli')
const { WAIT, workspace, needsNginx, cli, generate, freePort, writeNginxConf, nginxTest, startNginx, startApp, request, lines } = require('./nginx-harness')

function selfSigned (dir) {
  const cert = path.join(dir, 'cert.pem')
  const key = path.join(dir, 'key.pem')
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { encoding: 'utf8' })
  assert.equal(made.status, 0, made.stderr)
  return { cert, key }
}

test('startup nginx --help and -h print its help, which names every option it accepts; startup --help points at it', () => {
  for (const flag of ['--help', '-h']) {
    const out = cli(['startup', 'nginx', flag])
    assert.deepEqual([out.status, out.stderr, out.stdout], [0, '', nginxCli.USAGE])
  }
  for (const [option, definition] of Object.entries(nginxCli.OPTIONS)) {
    assert.match(nginxCli.USAGE, new RegExp(`(^|[\\s\\[|,])--${option}\\b`, 'm'), `--${option}`)
    if (definition.short) assert.match(nginxCli.USAGE, new RegExp(`(^|[\\s,])-${definition.short}\\b`, 'm'))
  }
  assert.match(nginxCli.USAGE, /conf\.d/)
  const synopsis = nginxCli.USAGE.split('\n')[0].replace(/^Usage: /, '')
  assert.ok(cli(['help', 'startup']).stdout.includes(synopsis))
  assert.match(cli(['help', 'startup']).stdout, /prodkit startup nginx --help/)
  assert.ok(cli(['--help']).stdout.includes(`\n  ${synopsis}\n`))
})

test('bad options exit 2 with an error that names the flag, and print nothing on stdout', (t) => {
  const dir = tempDir(t, 'prodkit-nginx')
  const file = path.join(dir, 'file.txt')
  fs.writeFileSync(file, 'x')
  const missing = path.join(dir, 'missing.pem')
  const cases = [
    [['--tls-cert', missing, '--tls-key', file], /--tls-cert .*no such file/],
    [['--tls-cert', file, '--tls-key', missing], /--tls-key .*no such file/],
    [['--tls-cert', file], /--tls-cert needs --tls-key/],
    [['--tls-key', file], /--tls-key needs --tls-cert/],
    [['--upstream', 'app1.internal'], /--upstream must be HOST:PORT/],
    [['--upstream', '10.0.0.2:3000', '--upstream', 'http://10.0.0.3:3000'], /--upstream must be HOST:PORT/],
    [['--upstream', '10.0.0.2:99999'], /--upstream must be a port from 1 to 65535/],
    [['--port', '3000', '--upstream', '10.0.0.2:3000'], /--port and --upstream/],
    [['--static', path.join(dir, 'nope')], /--static .*no such folder/],
    [['--static', file], /--static .*not a folder/],
    [['--port', '70000'], /--port must be a port from 1 to 65535/],
    [['--port', '0'], /--port must be a port/],
    [['--listen', '127.0.0.1:0'], /--listen must be a port/],
    [['--listen', 'abc def'], /--listen must be PORT or ADDRESS:PORT/],
    [['--static-path', 'static'], /--static-path needs --static/],
    [['--static', dir, '--static-path', 'static'], /--static-path must be a URL path/],
    [['--client-max-body-size', '1 gigabyte'], /--client-max-body-size must be a size/],
    [['--drain-timeout', '10s'], /--drain-timeout must be milliseconds/],
    [['--server-name', 'a;b'], /--server-name must be a host name/],
    [['--name', 'my app'], /--name must be letters/],
    [['--workers', '2'], /Unknown option '--workers'/]
  ]
  for (const [args, message] of cases) {
    const out = cli(['startup', 'nginx', ...args])
    assert.equal(out.status, 2, args.join(' '))
    assert.equal(out.stdout, '', args.join(' '))
    assert.match(out.stderr, message, args.join(' '))
    assert.match(out.stderr, /^prodkit startup nginx: /)
    assert.match(out.stderr, /Usage: prodkit startup nginx/)
  }
})

test('nginx -t accepts every variant: one port, several upstreams with static files, TLS', (t) => {
  if (!needsNginx(t)) return
  const base = tempDir(t, 'prodkit-nginx')
  const assets = path.join(base, 'public')
  fs.mkdirSync(assets)
  const { cert, key } = selfSigned(base)
  const variants = {
    plain: ['--port', '3000'],
    defaults: [],
    several: ['--upstream', '10.0.0.2:3000', '--upstream', 'localhost:3000', '--upstream', '[::1]:3000', '--static', assets, '--static-path', '/assets/', '--server-name', 'example.com', '--server-name', 'www.example.com'],
    tls: ['--tls-cert', cert, '--tls-key', key, '--static', assets, '--server-name', 'example.com', '--listen', '127.0.0.1:8080', '--tls-listen', '127.0.0.1:8443', '--client-max-body-size', '20m', '--drain-timeout', '30000'],
    tlsDefaultPorts: ['--tls-cert', cert, '--tls-key', key, '--name', 'shop']
  }
  for (const [name, args] of Object.entries(variants)) {
    const dir = path.join(base, name)
    fs.mkdirSync(dir)
    // Not the machine's /var/log/nginx: the test's own folder.
    const config = generate([...args, '--access-log', path.join(dir, 'access.log')])
    const checked = nginxTest(dir, writeNginxConf(dir, config))
    assert.equal(checked.status, 0, `${name}: ${checked.stderr}`)
    assert.match(checked.stderr, /test is successful/, name)
    assert.doesNotMatch(checked.stderr, /\[(warn|emerg|alert|crit)\]/, `${name}: ${checked.stderr}`)
  }
  // What the flags put in.
  const tls = generate([...variants.tls, '--access-log', path.join(base, 'a.log')])
  for (const directive of ['listen 127.0.0.1:8443 ssl http2;', 'listen 127.0.0.1:8080;', 'ssl_protocols TLSv1.2 TLSv1.3;',
    'return 301 https://$host:8443$request_uri;', 'client_max_body_size 20m;', 'proxy_read_timeout 30s;',
    'server 127.0.0.1:3000 max_fails=1 fail_timeout=10s;', 'keepalive 32;', 'proxy_http_version 1.1;',
    'proxy_set_header Connection "";', 'proxy_set_header X-Request-Id $request_id;',
    'proxy_next_upstream error timeout http_502 http_503;', 'server_name example.com;']) {
    assert.ok(tls.split('\n').some((l) => l.trim() === directive), `${directive}\n---\n${tls}`)
  }
  assert.doesNotMatch(tls, /^[^#]*non_idempotent/m)
  // The name: the package.json's here (without its scope), else app.
  assert.match(generate([]), /access_log \/var\/log\/nginx\/prodkit\.access\.log prodkit_json;/)
  const several = generate(variants.several, { cwd: base })
  for (const u of ['10.0.0.2:3000', 'localhost:3000', '[::1]:3000']) assert.match(several, new RegExp(`^ +server ${u.replace(/[[\]]/g, '\\$&')} `, 'm'))
  assert.match(several, /access_log \/var\/log\/nginx\/app\.access\.log app_json;/)
  assert.match(generate(variants.tlsDefaultPorts), /return 301 https:\/\/\$host\$request_uri;/)
})

test('through nginx: gzip, static cache headers, one request id in both logs, the error page while the app is down', async (t) => {
  if (!needsNginx(t)) return
  const ws = workspace(t)
  const { dir } = ws
  const assets = path.join(dir, 'public')
  fs.mkdirSync(path.join(assets, 'js'), { recursive: true })
  fs.writeFileSync(path.join(assets, 'js', 'app.3f9a1c2b.js'), 'console.log("fingerprinted")\n')
  fs.writeFileSync(path.join(assets, 'robots.txt'), 'User-agent: *\n')
  const [appPort, port] = [await freePort(), await freePort()]
  const accessLog = path.join(dir, 'access.log')
  const appLog = path.join(dir, 'app.log')
  const config = generate(['--port', String(appPort), '--listen', `127.0.0.1:${port}`, '--static', assets, '--access-log', accessLog])
  const app = await startApp(ws, appPort, appLog)
  await startNginx(ws, config, [port])
  const base = `http://127.0.0.1:${port}`

  // gzip on a text response from the app.
  const text = await request(`${base}/text`, { headers: { 'accept-encoding': 'gzip' } })
  assert.equal(text.status, 200)
  assert.equal(text.headers['content-encoding'], 'gzip')
  assert.match(text.headers.vary || '', /Accept-Encoding/i)
  assert.equal(zlib.gunzipSync(text.body).toString(), 'prodkit behind nginx\n'.repeat(200))

  // Static files, served by nginx: a year and immutable for a fingerprinted name, 5 minutes else.
  const fingerprinted = await request(`${base}/static/js/app.3f9a1c2b.js`)
  assert.equal(fingerprinted.status, 200)
  assert.equal(fingerprinted.body.toString(), 'console.log("fingerprinted")\n')
  assert.equal(fingerprinted.headers['cache-control'], 'public, max-age=31536000, immutable')
  const plain = await request(`${base}/static/robots.txt`)
  assert.equal(plain.status, 200)
  assert.equal(plain.body.toString(), 'User-agent: *\n')
  assert.equal(plain.headers['cache-control'], 'public, max-age=300')
  assert.equal((await request(`${base}/static/nothing.js`)).status, 404)

  // The request id: nginx's, seen by the app, in nginx's access log and in the app's line.
  const answer = await request(`${base}/id`, { headers: { 'x-request-id': 'chosen-by-the-client' } })
  assert.equal(answer.status, 200)
  const seen = JSON.parse(answer.body)
  assert.match(seen.id, /^[0-9a-f]{32}$/, 'nginx\'s $request_id, not the client\'s')
  assert.equal(answer.headers['x-request-id'], seen.id)
  assert.deepEqual([seen.forwardedFor, seen.forwardedProto, seen.host], ['127.0.0.1', 'http', '127.0.0.1'])
  const access = await waitFor(() => lines(accessLog).find((l) => l.requestId === seen.id), { ...WAIT, what: 'the access log line' })
  assert.equal(access.method, 'GET')
  assert.equal(access.uri, '/id')
  assert.equal(access.status, 200)
  assert.equal(access.client, '127.0.0.1')
  assert.equal(access.upstreamAddr, `127.0.0.1:${appPort}`)
  assert.equal(access.upstreamStatus, '200')
  assert.equal(typeof access.bytes, 'number')
  assert.equal(typeof access.requestTime, 'number')
  assert.match(access.upstreamResponseTime, /^\d+\.\d+$/)
  assert.ok(!Number.isNaN(Date.parse(access.time)), access.time)
  const logged = await waitFor(() => lines(appLog).find((l) => l.requestId === seen.id), { ...WAIT, what: 'the app\'s line' })
  assert.equal(logged.msg, 'request completed')
  assert.equal(logged.req.url, '/id') // pino-http's shape: the URL is under req
  // Kept-alive connections to the app: later requests (each on a new client connection)
  // reuse nginx's connections to the app. Not necessarily all one: one idle for nginx's
  // keepalive_timeout (4 s, on a loaded machine) is closed; any reuse at all shows keepalive.
  const ports = [seen.peerPort]
  for (let i = 0; i < 10; i++) ports.push(JSON.parse((await request(`${base}/id`)).body).peerPort)
  assert.ok(new Set(ports).size < ports.length, `nginx's ports, one connection each: ${ports}`)

  // client_max_body_size: 1m by default, refused by nginx (413) above it.
  const small = await request(`${base}/body`, { body: Buffer.alloc(512 * 1024) })
  assert.deepEqual([small.status, JSON.parse(small.body)], [200, { length: 512 * 1024 }])
  const large = await request(`${base}/body`, { body: Buffer.alloc(2 * 1024 * 1024) }).catch((err) => ({ status: err.code }))
  assert.equal(large.status, 413)

  // Static files never reach the app.
  assert.ok(!lines(appLog).some((l) => String(l.req && l.req.url).startsWith('/static/')))

  // The app stopped: nginx's own page, 503 with Retry-After.
  await app.stop()
  const down = await request(`${base}/id`)
  assert.equal(down.status, 503)
  assert.equal(down.headers['retry-after'], '5')
  assert.match(down.headers['content-type'], /^text\/html/)
  assert.match(down.body.toString(), /Service unavailable/)
  const refused = await waitFor(() => lines(accessLog).find((l) => l.status === 503), { ...WAIT, what: 'the 503 in the access log' })
  assert.equal(refused.upstreamStatus, '502')
  // Static files are still served.
  assert.equal((await request(`${base}/static/robots.txt`)).status, 200)
})

test('through nginx with TLS: HTTPS (TLS 1.2+) with HSTS, HTTP redirects to it', async (t) => {
  if (!needsNginx(t)) return
  const ws = workspace(t)
  const { dir } = ws
  const { cert, key } = selfSigned(dir)
  const assets = path.join(dir, 'public')
  fs.mkdirSync(assets)
  fs.writeFileSync(path.join(assets, 'site.0123abcd.css'), 'body{}\n')
  const [appPort, port, tlsPort] = [await freePort(), await freePort(), await freePort()]
  const config = generate(['--port', String(appPort), '--listen', `127.0.0.1:${port}`, '--tls-listen', `127.0.0.1:${tlsPort}`,
    '--tls-cert', cert, '--tls-key', key, '--server-name', 'localhost', '--static', assets, '--access-log', path.join(dir, 'access.log')])
  await startApp(ws, appPort, path.join(dir, 'app.log'))
  await startNginx(ws, config, [port, tlsPort])
  const ca = fs.readFileSync(cert)

  const secure = await request(`https://localhost:${tlsPort}/id`, { ca, lookup: (host, options, cb) => options.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4) })
  assert.equal(secure.status, 200)
  assert.match(secure.socket.getProtocol(), /^TLSv1\.[23]$/)
  assert.equal(secure.headers['strict-transport-security'], 'max-age=63072000')
  const seen = JSON.parse(secure.body)
  assert.equal(seen.forwardedProto, 'https')
  assert.match(seen.id, /^[0-9a-f]{32}$/)
  // HSTS on the static files too (a location's add_header drops the server's).
  const css = await request(`https://127.0.0.1:${tlsPort}/static/site.0123abcd.css`, { rejectUnauthorized: false, servername: 'localhost' })
  assert.equal(css.status, 200)
  assert.equal(css.headers['strict-transport-security'], 'max-age=63072000')
  assert.equal(css.headers['cache-control'], 'public, max-age=31536000, immutable')

  const redirect = await request(`http://127.0.0.1:${port}/id?x=1`, { headers: { host: 'localhost' } })
  assert.equal(redirect.status, 301)
  assert.equal(redirect.headers.location, `https://localhost:${tlsPort}/id?x=1`)
})

test('two upstreams, one of them down: every GET succeeds (nginx retries on the other)', async (t) => {
  if (!needsNginx(t)) return
  const ws = workspace(t)
  const { dir } = ws
  const [appPort, deadPort, port] = [await freePort(), await freePort(), await freePort()]
  const accessLog = path.join(dir, 'access.log')
  // The dead one first: round robin sends it the first request.
  const config = generate(['--upstream', `127.0.0.1:${deadPort}`, '--upstream', `127.0.0.1:${appPort}`, '--listen', `127.0.0.1:${port}`, '--access-log', accessLog])
  await startApp(ws, appPort, path.join(dir, 'app.log'))
  await startNginx(ws, config, [port])
  for (let i = 0; i < 20; i++) {
    const res = await request(`http://127.0.0.1:${port}/id`)
    assert.equal(res.status, 200, `request ${i}: ${res.body}`)
  }
  const logged = await waitFor(() => {
    const all = lines(accessLog)
    return all.length >= 20 && all
  }, { ...WAIT, what: '20 access log lines' })
  assert.ok(logged.every((l) => l.status === 200))
  assert.ok(logged.some((l) => l.upstreamAddr === `127.0.0.1:${deadPort}, 127.0.0.1:${appPort}`),
    `one request was retried on the live instance: ${logged.map((l) => l.upstreamAddr).join(' | ')}`)
})

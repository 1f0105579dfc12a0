'use strict'
// The nginx config that `prodkit startup nginx` prints: a file for /etc/nginx/conf.d (it
// is included in nginx's `http {}` context) with a JSON log_format, an upstream with
// keep-alive connections to the app (`prodkit run` on one machine, or several machines),
// and the server(s) in front of it: proxy headers with nginx's request id, retries of
// idempotent requests on another instance, gzip, static files with cache headers, TLS with
// an HTTP->HTTPS redirect, and an error page of nginx's own when no instance answers.
// Every choice is explained by a comment in the output: the file is read by whoever runs
// the machine, not only by nginx.

// `options` are validated by the CLI (lib/cli/startup.js): a name of [a-zA-Z0-9_], host:port
// upstreams, [addr:]port listens, absolute existing paths, seconds as whole numbers.
//   name, upstreams: ['127.0.0.1:3000', ...], listen, tlsListen, serverNames: [...],
//   tls: { cert, key } | undefined, staticDir, staticPath, accessLog, clientMaxBodySize,
//   drainTimeoutMs
function nginxConfig (options) {
  const { name, upstreams, listen, tlsListen, serverNames, tls, staticDir, staticPath, accessLog, clientMaxBodySize, drainTimeoutMs } = options
  const upstream = `${name}_app`
  const logFormat = `${name}_json`
  // Whole seconds, at least the drain time: a response still running when a worker drains
  // has the drain time to finish, so nginx must not give up on it earlier.
  const drainSeconds = Math.max(1, Math.ceil(drainTimeoutMs / 1000))
  const names = serverNames.join(' ')
  const tlsPort = tls ? portOf(tlsListen) : undefined
  // add_header in a location drops every add_header of the server: the headers every
  // response carries are repeated wherever a location adds its own.
  const always = tls ? ['add_header Strict-Transport-Security "max-age=63072000" always;'] : []

  const out = []
  const line = (indent, text = '') => out.push(text === '' ? '' : '    '.repeat(indent) + text)
  const comment = (indent, text) => {
    for (const l of text.split('\n')) line(indent, '# ' + l)
  }

  comment(0, `Written by \`prodkit startup nginx\`. Save it as /etc/nginx/conf.d/${name}.conf (nginx.conf
includes conf.d/*.conf inside its http {} block: this file is that http-level snippet),
then check and load it: sudo nginx -t && sudo systemctl reload nginx
On Debian and Ubuntu, remove /etc/nginx/sites-enabled/default if it claims the same port
as default_server.`)
  line(0)

  comment(0, `Access log in JSON, one object a line: requestId is nginx's $request_id, the same id
the app receives as X-Request-Id and logs as requestId (prodkit's requestLogger), so one
search finds both lines of a request. upstreamAddr says which instance answered, and
upstreamStatus what it answered (lists when nginx retried on another one: "10.0.0.2:3000,
10.0.0.3:3000" and "502, 200"); times are in seconds.`)
  line(0, `log_format ${logFormat} escape=json`)
  const fields = [
    ['time', '$time_iso8601'], ['requestId', '$request_id'], ['client', '$remote_addr'],
    ['method', '$request_method'], ['uri', '$request_uri'], ['status', '$status', true],
    ['bytes', '$body_bytes_sent', true], ['requestTime', '$request_time', true],
    ['upstreamAddr', '$upstream_addr'], ['upstreamStatus', '$upstream_status'],
    ['upstreamResponseTime', '$upstream_response_time'],
    ['host', '$host'], ['userAgent', '$http_user_agent'], ['referer', '$http_referer']
  ]
  fields.forEach(([key, variable, number], i) => {
    const value = number ? variable : `"${variable}"`
    const text = `${i === 0 ? '{' : ''}"${key}":${value}${i === fields.length - 1 ? '}' : ','}`
    line(1, `'${text}'${i === fields.length - 1 ? ';' : ''}`)
  })
  line(0)

  comment(0, `The app: ${upstreams.length === 1 ? `one \`prodkit run\` cluster on ${upstreams[0]}. Its primary holds the port
while workers restart or reload one at a time, so the port never refuses a connection
during a rolling reload.` : `${upstreams.length} machines, each one \`prodkit run\` cluster. nginx spreads
requests over them (round robin) and, for idempotent requests, tries another one when one
does not answer (proxy_next_upstream below).`}
max_fails=1 fail_timeout=10s: an instance that failed is left out for 10 s, then tried again.
keepalive: idle connections to the app kept open and reused, so a request does not pay a
new TCP connection (needs proxy_http_version 1.1 and an empty Connection header, below).
keepalive_timeout 4s: under Node's own keep-alive timeout (5 s), so nginx drops an idle
connection before the app closes it, not while it sends a request on it.`)
  line(0, `upstream ${upstream} {`)
  for (const u of upstreams) line(1, `server ${u} max_fails=1 fail_timeout=10s;`)
  line(1, 'keepalive 32;')
  line(1, 'keepalive_timeout 4s;')
  line(0, '}')
  line(0)

  if (tls) {
    comment(0, `Plain HTTP only redirects to HTTPS (301, the same host, path and query).`)
    line(0, 'server {')
    line(1, `listen ${listen};`)
    line(1, `server_name ${names};`)
    line(1, `access_log ${accessLog} ${logFormat};`)
    line(1, `return 301 https://$host${tlsPort === 443 ? '' : ':' + tlsPort}$request_uri;`)
    line(0, '}')
    line(0)
  }

  line(0, 'server {')
  if (tls) {
    comment(1, `HTTPS with HTTP/2 (\`listen ... ssl http2\`: the form nginx accepts since 1.9.5; from 1.25.1
on it warns and prefers a separate \`http2 on;\`, which older versions refuse).`)
    line(1, `listen ${tlsListen} ssl http2;`)
  } else {
    line(1, `listen ${listen};`)
  }
  line(1, `server_name ${names};`)
  line(1, `access_log ${accessLog} ${logFormat};`)
  line(0)

  if (tls) {
    comment(1, `TLS 1.2 and 1.3 only (older versions are broken and refused by current browsers);
the cipher list is Mozilla's "intermediate" one, which every client of the last years
speaks, with forward secrecy. Sessions are cached and resumed (shared by the workers);
session tickets are off, so that a stolen ticket key cannot decrypt past traffic.`)
    line(1, `ssl_certificate ${tls.cert};`)
    line(1, `ssl_certificate_key ${tls.key};`)
    line(1, 'ssl_protocols TLSv1.2 TLSv1.3;')
    line(1, 'ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;')
    line(1, 'ssl_prefer_server_ciphers off;')
    line(1, `ssl_session_cache shared:${name}_tls:10m;`)
    line(1, 'ssl_session_timeout 1d;')
    line(1, 'ssl_session_tickets off;')
    comment(1, `HSTS: browsers go straight to HTTPS for this host for 2 years, even when given an
http:// link. Not for subdomains (add includeSubDomains once all of them serve HTTPS).`)
    for (const h of always) line(1, h)
    line(0)
  }

  comment(1, `Request bodies over ${clientMaxBodySize} are refused with 413 before they reach the app
(nginx reads the body first: an upload is not held open on a worker).`)
  line(1, `client_max_body_size ${clientMaxBodySize};`)
  line(0)

  comment(1, `gzip for text (text/html always; the types below too) of at least 256 bytes.
gzip_proxied any: also for requests that came through another proxy (a CDN's Via header),
which nginx does not compress by default. gzip_vary: caches keep both versions apart.`)
  line(1, 'gzip on;')
  line(1, 'gzip_comp_level 5;')
  line(1, 'gzip_min_length 256;')
  line(1, 'gzip_proxied any;')
  line(1, 'gzip_vary on;')
  line(1, 'gzip_types text/plain text/css text/xml text/javascript application/javascript application/json application/xml application/rss+xml application/manifest+json image/svg+xml;')
  line(0)

  comment(1, `When no instance answers (all down, refused, or timed out: nginx's own 502 and 504),
nginx answers with the page in @unavailable: written inline, so there is no file to install
and it works when everything behind nginx is down. It is a 503 with Retry-After (a
temporary outage, to browsers and crawlers alike); the access log's upstreamStatus keeps
what happened (502: refused or reset, 504: timed out). The app's own 5xx responses pass
through unchanged (proxy_intercept_errors is off): its /health 503 "draining" among them.`)
  line(1, 'error_page 502 503 504 =503 @unavailable;')
  line(1, 'location @unavailable {')
  line(2, 'default_type text/html;')
  for (const h of always) line(2, h)
  line(2, 'add_header Cache-Control "no-store" always;')
  line(2, 'add_header Retry-After "5" always;')
  line(2, "return 503 '<!doctype html><html><head><meta charset=\"utf-8\"><title>Service unavailable</title></head><body><h1>Service unavailable</h1><p>The service is restarting or overloaded. Please try again in a few seconds.</p></body></html>\\n';")
  line(1, '}')
  line(0)

  if (staticDir) {
    comment(1, `Static files from ${staticDir}, at ${staticPath}, served by nginx (not the app).
A fingerprinted name (a hex hash of 8 or more digits before the extension, as
app.3f9a1c2b.js or app-3f9a1c2b.css) never changes content: cached for a year, immutable
(not even revalidated). Any other file: cached 5 minutes, then revalidated (ETag,
Last-Modified), so a new deployment shows within 5 minutes. A missing file is a 404 from
nginx; the app never sees ${staticPath}.`)
    line(1, `location ${staticPath} {`)
    line(2, `alias ${staticDir.endsWith('/') ? staticDir : staticDir + '/'};`)
    line(2, 'location ~ "[.-][0-9a-fA-F]{8,}\\.[A-Za-z0-9]+$" {')
    for (const h of always) line(3, h)
    line(3, 'add_header Cache-Control "public, max-age=31536000, immutable" always;')
    line(2, '}')
    for (const h of always) line(2, h)
    line(2, 'add_header Cache-Control "public, max-age=300" always;')
    line(1, '}')
    line(0)
  }

  line(1, 'location / {')
  line(2, `proxy_pass http://${upstream};`)
  comment(2, `HTTP/1.1 with an empty Connection header: what reusing the upstream keepalive
connections needs (nginx's default is HTTP/1.0 and "Connection: close").`)
  line(2, 'proxy_http_version 1.1;')
  line(2, 'proxy_set_header Connection "";')
  comment(2, `What the app sees of the client. X-Forwarded-For is the client's address as nginx saw
it, not appended to one the client sent: nginx is the edge, and a client could otherwise
put any address first (use $proxy_add_x_forwarded_for if a CDN or another proxy is in
front). X-Forwarded-Proto: http or https. X-Request-Id: nginx's $request_id (32 hex
digits), replacing whatever the client sent, so the app's log line (requestLogger takes
X-Request-Id) and nginx's access log carry the same id.`)
  line(2, 'proxy_set_header Host $host;')
  line(2, 'proxy_set_header X-Forwarded-For $remote_addr;')
  line(2, 'proxy_set_header X-Forwarded-Proto $scheme;')
  line(2, 'proxy_set_header X-Forwarded-Host $host;')
  line(2, 'proxy_set_header X-Request-Id $request_id;')
  comment(2, `Retries: a request that fails to connect, times out, or gets a 502/503 from an instance
is sent to the next one, so with several instances one restarting (or a machine down)
costs no failed request. With one, a rolling reload never refuses a connection (the
cluster's primary holds the port), and a kept-alive connection the app closed while nginx
reused it is retried on a new one (nginx does that for cached connections on "error").
Only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS...) are retried once sent:
non_idempotent is deliberately not set, so a POST that may have reached the app is never
sent twice. At most 3 tries within ${drainSeconds} s.
proxy_connect_timeout 2s: a machine that does not answer is skipped after 2 s.
proxy_send_timeout and proxy_read_timeout ${drainSeconds}s (between two writes or reads, not for the
whole response): the cluster's drain time (--drain-timeout ${drainTimeoutMs} ms). A draining worker
cuts off what is still running then, so waiting longer would not help. An app with slower
responses (reports, long polling) needs a longer --drain-timeout, here and for prodkit run.`)
  line(2, 'proxy_next_upstream error timeout http_502 http_503;')
  line(2, 'proxy_next_upstream_tries 3;')
  line(2, `proxy_next_upstream_timeout ${drainSeconds}s;`)
  line(2, 'proxy_connect_timeout 2s;')
  line(2, `proxy_send_timeout ${drainSeconds}s;`)
  line(2, `proxy_read_timeout ${drainSeconds}s;`)
  comment(2, `Responses are buffered (nginx reads them fast and frees the app while it sends them to a
slow client). A streaming response (server-sent events) turns this off itself with the
header X-Accel-Buffering: no.`)
  line(2, 'proxy_buffering on;')
  line(1, '}')
  line(0, '}')
  line(0)
  return out.join('\n')
}

// The port of a validated listen value: "443", "127.0.0.1:8443", "[::1]:8443".
function portOf (listen) {
  return Number(/(\d+)$/.exec(listen)[1])
}

module.exports = { nginxConfig }

// Uses every public function of @oj/prodkit with its types; checked by `tsc --noEmit`
// (see types.test.js). The lines marked @ts-expect-error must stay errors.
import prodkit, { TrustProxy, install, createLogger, levels, stdTimeFunctions, stdSerializers, version, express, Logger, LogStats, LoggerOptions, Kit, Metrics, decryptLine, createKeyring, generateKey, Keyring, RotateOptions, RotationStats,
  cluster, ready, graceful, health, Cluster, ClusterOptions, ReloadResult, context, ContextBindings } from '@oj/prodkit'
import * as http from 'node:http'

const options: LoggerOptions = {
  level: 'info',
  destination: '/tmp/prodkit-types.log',
  service: 'typed',
  base: { region: 'eu' },
  queueBytes: 1 << 20,
  overflow: 'drop',
  maxStringLength: 1000
}
const log: Logger = createLogger(options)
log.trace('t')
log.debug({ a: 1 }, 'd %s', 'x')
log.info({ orderId: 1 }, 'order placed')
log.warn('w %d', 3)
log.error(new Error('e'))
log.error(new Error('e'), 'with message')
log.fatal({ err: new Error('f') }, 'fatal')
log.level = 'debug'
log.level = 50
log.level = 'WARN'
// @ts-expect-error: not a level number
log.level = 35
const levelName: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' = log.level
const levelVal: number = log.levelVal + log.levels.values.warn
const label: string = log.levels.labels[30]
log.silent('nothing')
log.setBindings({ tenant: 't' })
const bound: Record<string, unknown> = log.bindings()
createLogger({ level: 30, base: null }).child({ a: 1 }, { level: 'INFO' }).close()
const shaped = createLogger({ name: 'app', messageKey: 'message', errorKey: 'error', nestedKey: 'payload', timestamp: stdTimeFunctions.isoTime, msgPrefix: '[app] ' })
const prefix: string | undefined = shaped.child({}, { msgPrefix: '[db] ' }).msgPrefix
createLogger({ timestamp: false, nestedKey: null }).close()
createLogger({ serializers: { req: stdSerializers.req, res: stdSerializers.res, user: (u: { id: number }) => ({ id: u.id }) } }).close()
createLogger({
  formatters: { level: (label) => ({ level: label }), bindings: (b) => ({ host: b.hostname }), log: (o) => ({ ...o, seen: true }) },
  mixin: (obj, level, logger) => ({ at: level, enabled: logger.isLevelEnabled('info'), keys: Object.keys(obj).length }),
  mixinMergeStrategy: (merge, mixed) => Object.assign(mixed, merge),
  hooks: { logMethod (args, method, level) { method.apply(this, [`L${level}`, ...args]) } }
}).close()
createLogger({ redact: { paths: ['a.b', 'a["b-c"]', 'list[*].secret'], censor: (value, path) => `${path.join('.')}:${typeof value}` } }).close()
const audited = createLogger({ customLevels: { audit: 35 }, level: 'audit' })
audited.audit({ userId: 1 }, 'exported %d rows', 3)
audited.info('standard levels stay')
audited.level = 'audit'
audited.child({ a: 1 }).audit('child keeps the custom methods')
// @ts-expect-error: not a custom level of this logger
audited.notice('no')
const auditEnabled: boolean = audited.isLevelEnabled('audit')
// pino's typings: a child's own customLevels are typed on it (and its children), added to the parent's
const traced = audited.child({ job: 'export' }, { customLevels: { verbose: 15 } })
traced.verbose('child level')
traced.audit('parent level')
traced.child({}).verbose('grandchild keeps it')
// @ts-expect-error: the child's levels are not the parent's
audited.verbose('no')
// @ts-expect-error: a custom level's number is a number
createLogger({ customLevels: { audit: '35' } })
// useOnlyCustomLevels: true: the standard methods no custom level names are gone (never), as in pino
const syslog = createLogger({ customLevels: { emerg: 0, err: 3, info: 6 }, useOnlyCustomLevels: true, level: 'info' })
syslog.emerg('down')
syslog.info('a custom level named info stays')
syslog.child({ a: 1 }).err('children too')
// @ts-expect-error: warn is not one of the custom levels
syslog.warn('no')
// @ts-expect-error: nor on a child
syslog.child({}).debug('no')
// @ts-expect-error: the level is one of the custom levels
createLogger({ customLevels: { audit: 35 }, useOnlyCustomLevels: true, level: 'notice' })
createLogger({ customLevels: { audit: 35 }, useOnlyCustomLevels: false }).info('standard levels stay with false')
createLogger({ levelComparison: 'DESC' }).close()
createLogger({ levelComparison: (level: number, threshold: number) => level === threshold }).close()
// @ts-expect-error: 'ASC', 'DESC' or a function
createLogger({ levelComparison: 'desc' })
// @ts-expect-error: the function answers a boolean
createLogger({ levelComparison: (level: number, threshold: number) => level - threshold })
// @ts-expect-error: a serializer is a function
createLogger({ serializers: { user: 1 } })
// @ts-expect-error: timestamp is a boolean or a function
createLogger({ timestamp: 'iso' })
const enabled: boolean = log.isLevelEnabled('info')
const child: Logger = log.child({ requestId: 'r' }, { level: 'warn' })
child.info('child')
const value: number = log.levels.values.info + levels.error
const stats: LogStats = log.stats()
const written: number = stats.writtenBytes + stats.droppedLines
log.on('error', (err) => { const code: string = err.code; console.error(code) })
log.once('error', () => {})
log.off('error', () => {})
const synced: boolean = log.flushSync()
log.flush().then((ok: boolean) => { if (!ok) console.error('destination failing') })
log.flush((err: Error | null) => { if (err) console.error(err.message) })
log.close()

const rotate: RotateOptions = { size: '100MB', interval: 'daily', keep: 14, maxAge: '30d', compress: true }
const rotating = createLogger({ destination: '/tmp/prodkit-types-rotate.log', rotate, reopenOnSignal: 'SIGHUP' })
createLogger({ destination: '/tmp/prodkit-types-rotate.log', rotate: { size: 1 << 20, interval: 60_000, maxAge: 86_400_000 } })
createLogger({ destination: '/tmp/prodkit-types-rotate.log', rotate: false, reopenOnSignal: false })
rotating.reopen()
const rotation: RotationStats | undefined = rotating.stats().rotation
const rotations: number = rotation ? rotation.rotations + rotation.compressedBytes / rotation.compressMs : 0
rotating.close()

const kit = install({
  service: 'typed',
  log: { level: 'warn' },
  metrics: { intervalMs: 5000, port: 9464, host: '0.0.0.0', httpClient: true, clusterTimeoutMs: 500, thresholds: { eventLoopDelayP99Ms: 200, residentMemoryBytes: 2 ** 30, cpuRatio: 0.9, intervals: 3 } },
  exceptions: { exitCode: 2, shutdownTimeoutMs: 3000, unhandledRejection: 'warn' },
  signals: true,
  watchdog: { blockedMs: 2000, abortAfterMs: 30000 },
  productionWarning: false
})
install({ exceptions: false, watchdog: false }).metrics.prometheus()   // metrics on by default: not null
const noMetrics: null = install({ metrics: false }).metrics
const either: Kit = install(Math.random() > 2 ? { metrics: false } : {})
// @ts-expect-error: with options only known as InstallOptions, metrics may be null
either.metrics.prometheus()
const anyKit: Kit = kit
console.log(noMetrics, anyKit)
kit.log.info('installed')
kit.onShutdown(async () => {}, { name: 'db', timeoutMs: 1000 })
kit.onShutdown(() => undefined)
kit.flush().then(() => kit.close())
kit.flushSync()
if (Math.random() > 2) kit.shutdown('deploy', { exitCode: 0 }).then((never) => never)

// Metrics.
const m: Metrics = kit.metrics
const orders = m.counter('orders_total', { help: 'Orders', labelNames: ['method'] })
orders.inc()
orders.inc({ method: 'card' }, 2)
const cardOrders = orders.labels({ method: 'card' })
cardOrders.inc()
m.gauge('queue_depth').set(3)
m.histogram('size_bytes', { buckets: [1, 10] }).observe(5)
const apiTimer = m.timer('payment_api_seconds', { labelNames: ['outcome'] })
const charge = apiTimer.wrap(async (amount: number) => amount * 2, { outcome: 'ok' })
charge(3).then((doubled: number) => doubled)
const stopTimer = apiTimer.start({ outcome: 'manual' })
const took: number = stopTimer()
const snap = m.snapshot()
const rss: number | undefined = snap.process?.residentMemoryBytes
const p99: number = snap.eventLoop.p99Ms
const text: string = m.prometheus()
m.scrape().then((t: string) => t.length)
m.scrape('openmetrics').then((t: string) => t.endsWith('# EOF\n'))
// @ts-expect-error: only 'prometheus' or 'openmetrics'
m.scrape('json')
const om: string = m.openMetrics()
const latency = m.summary('latency_seconds', { percentiles: [0.5, 0.99], maxAgeSeconds: 600, ageBuckets: 5, labelNames: ['route'] })
latency.observe({ route: '/a' }, 0.2)
latency.labels({ route: '/b' }).observe(0.1)
m.gauge('pool_free', { collect () { this.set(3) } })
m.gauge('pool_async', { async collect () { this.set(await Promise.resolve(4)) } })
m.setDefaultLabels({ app: 'shop', version: 2 })
install({ metrics: { prefix: 'shop_', defaultLabels: { region: 'eu' }, httpServer: { buckets: [0.1, 1] }, collectTimeoutMs: 500 } })
install({ metrics: { httpServer: false } })
console.log(took, rss, p99, text, om, prodkit.metrics === m)

// Express: the middlewares fit app.use() of Express 4 and 5.
import express4 = require('express')
const app = express4()
app.use(express.requestLogger({ skip: ['/health', /^\/metrics/], header: 'x-correlation-id', log }))
app.use(prodkit.express.requestLogger({ skip: (req) => req.url === '/ping' }))
// pino-http's options.
app.use(prodkit.express.requestLogger({
  logger: log,
  header: false,
  genReqId: (req) => String(req.headers['x-amzn-trace-id'] ?? Date.now()),
  autoLogging: { ignore: (req) => req.url === '/ready' },
  customLogLevel: (req, res, err) => (err ? 'error' : res.statusCode >= 400 ? 'warn' : 'silent'),
  customProps: (req) => ({ tenant: req.headers['x-tenant'] }),
  customSuccessMessage: (req, res, responseTime) => `${req.method} ${res.statusCode} in ${responseTime.toFixed(1)} ms`,
  customErrorMessage: (req, res, err) => `${req.method} failed: ${err.message}`,
  customReceivedMessage: (req) => `${req.method} ${req.url} received`,
  customAttributeKeys: { reqId: 'reqId', responseTime: 'took' },
  quietReqLogger: false,
  quietResLogger: false,
  wrapSerializers: true,
  serializers: { req: (req) => ({ method: req.method, url: req.url, ip: req.remoteAddress }), res: (res) => ({ statusCode: res.statusCode }) },
  redactQuery: ['token', 'session'],
  redactHeaders: false
}))
app.use(prodkit.express.requestLogger({ useLevel: 'debug', customProps: { region: 'eu' }, autoLogging: false }))
// @ts-expect-error useLevel takes a level name
app.use(prodkit.express.requestLogger({ useLevel: 'loud' }))
// @ts-expect-error redactQuery takes names
app.use(prodkit.express.requestLogger({ redactQuery: 'token' }))
// trustProxy: Express's trust proxy values.
app.use(prodkit.express.requestLogger({ trustProxy: 'loopback' }))
app.use(prodkit.express.requestLogger({ trustProxy: ['10.0.0.0/8', 'uniquelocal'], serializers: { req: (req) => ({ ip: req.remoteAddress, via: req.peerAddress, protocol: req.protocol }) } }))
app.use(prodkit.express.requestLogger({ trustProxy: 2 }))
app.use(prodkit.express.requestLogger({ trustProxy: (addr, i) => i === 0 && addr.startsWith('10.') }))
app.use(express.errorHandler({ trustProxy: true }))
const trust: TrustProxy = false
app.use(express.errorHandler({ trustProxy: trust }))
// @ts-expect-error trustProxy takes addresses as strings
app.use(prodkit.express.requestLogger({ trustProxy: [10] }))
app.get('/', (req, res) => { req.log.info({ requestId: req.id }, 'hello'); res.send('ok') })
app.use((req: express4.Request, res: express4.Response, next: express4.NextFunction) => { const id: string = req.id; req.log.child({ id }).debug('typed'); next() })
http.createServer((req, res) => { req.log.info('plain node:http too'); res.end() })
app.get('/metrics', express.metricsHandler())
app.use(express.errorHandler({ html: ({ status, message, requestId }) => `<h1>${status} ${message} ${requestId}</h1>`, production: true }))
const same: Logger | undefined = prodkit.log
const maybeMetrics: Metrics | undefined = prodkit.metrics
const v: string = version + prodkit.version
prodkit.createLogger().info('default export')

const key: string = generateKey()
const sealed = createLogger({
  destination: '/tmp/prodkit-types.log',
  redact: ['user.password', 'headers["x-api-key"]'],
  encrypt: { paths: ['user.email', 'cards.*.number', 'items[0]'], keyEnv: 'PRODKIT_LOG_KEY', keyId: 'k2025' }
})
createLogger({ redact: { paths: ['token'], censor: '***', remove: false }, encrypt: { paths: ['a'], keyFile: '/etc/app/log.key' } })
createLogger({ encrypt: { paths: ['a'], key: Buffer.alloc(32) } })
const keyring: Keyring = createKeyring([key, { key: Buffer.alloc(32), keyId: 'old' }])
const ids: string[] = keyring.ids
const clear: string = decryptLine('{"a":"$pk1$..."}', keyring) + prodkit.decryptLine('{}', key)
sealed.close()
// @ts-expect-error: a key from two sources
createLogger({ encrypt: { paths: ['a'], keyEnv: 'K', key: 'x' } })
// @ts-expect-error: paths are strings
createLogger({ redact: [1] })

// Cluster: the primary's handle, readiness, graceful servers, the health handler.
const clusterOptions: ClusterOptions = {
  start: () => require('./server'),
  workers: 'auto',
  readyTimeoutMs: 10_000,
  waitReady: true,
  drainTimeoutMs: 5_000,
  restart: { baseMs: 100, factor: 2, maxMs: 10_000, stableMs: 30_000 },
  crashLoop: { crashes: 5, windowMs: 60_000 },
  memoryLimit: '512MB',
  memoryCheckMs: 1_000,
  install: { service: 'typed', log: { destination: 'logs/app.log' } }
}
const handle: Cluster | null = Math.random() > 2 ? cluster(clusterOptions) : null
if (handle) {
  handle.ready.then(() => handle.workers.map((w) => `${w.id} ${w.pid} ${w.slot} ${w.state}`))
  handle.reload().then((result: ReloadResult) => result.ok || console.error(result.error, result.replaced))
  handle.stop().then(() => {})
}
prodkit.cluster({ start: 'server.js', workers: 4, crashLoop: false, args: ['--port', '3000'], memoryLimit: 1 << 29 })
const told: boolean = ready() || prodkit.ready()
const server: http.Server = graceful(http.createServer(health()))
prodkit.graceful(server).close()

// @ts-expect-error: start is required
cluster({ workers: 2 })
// @ts-expect-error: not a worker count
cluster({ start: 'a.js', workers: 'all' })
// @ts-expect-error: graceful takes a server
graceful({})

// prodkit.context: run returns what fn returns; get is the bindings or undefined.
const jobBindings: ContextBindings = { jobId: 'j-1', attempt: 2 }
const doubled: number = context.run(jobBindings, () => 21 * 2)
const later: Promise<string> = prodkit.context.run({ requestId: 'r' }, async () => 'done')
const active: Readonly<ContextBindings> | undefined = context.get()
console.log(doubled, later, active?.jobId)
// @ts-expect-error: bindings are an object of fields
context.run('r-1', () => {})
// @ts-expect-error: fn is required
context.run({ a: 1 })

// @ts-expect-error: not a level
log.level = 'verbose'
// @ts-expect-error: not an overflow policy
createLogger({ overflow: 'lose' })
// @ts-expect-error: not an option
install({ unknown: true })
// @ts-expect-error: not a policy
install({ exceptions: { unhandledRejection: 'ignore' } })

// @ts-expect-error: not an interval
createLogger({ destination: '/tmp/x.log', rotate: { interval: 'weekly' } })
// @ts-expect-error: not a signal prodkit reopens on
createLogger({ destination: '/tmp/x.log', reopenOnSignal: 'SIGUSR1' })

console.log(enabled, value, written, synced, same, maybeMetrics, v, ids, clear, rotations, told)

// log and metrics are getters on the default export (live after install()), not named
// exports: an ES module binding would be read once, at import time (index.mjs).
// @ts-expect-error: not a named export; read prodkit.log
import { log as namedLog } from '@oj/prodkit'
// @ts-expect-error: not a named export; read prodkit.metrics or kit.metrics
import { metrics as namedMetrics } from '@oj/prodkit'
console.log(namedLog, namedMetrics)

// pino's forms, accepted as pino accepts them: no serialiser for a key, formatters returning null.
prodkit.createLogger({ serializers: { err: null, other: undefined }, formatters: { bindings: () => null, log: () => undefined } })

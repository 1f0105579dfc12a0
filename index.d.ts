// Public types of @oj/prodkit (hand-written; `binding.d.ts` describes the native layer).
import type { Server as NetServer } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** A level name, or `'silent'` to log nothing. */
export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
export type LevelOrSilent = LevelName | 'silent'

export interface LoggerOptions {
  /**
   * Lowest level written. Default: `LOG_LEVEL` when set, else `'info'` when
   * `NODE_ENV=production`, else `'debug'`.
   */
  level?: LevelOrSilent
  /**
   * `'stdout'` (default), `'stderr'`, a file path (parent folders are created, the file
   * is appended to with mode 0640) or an open file descriptor (never closed by prodkit).
   */
  destination?: 'stdout' | 'stderr' | string | number
  /** The `service` field of every line. Default: the app's package.json name; `false` for none. */
  service?: string | false
  /** More fields for every line. */
  base?: Record<string, unknown>
  /** Bytes of lines held in memory before `overflow` applies. Default 8 MiB (minimum 64 KiB). */
  queueBytes?: number
  /**
   * What a full queue does: `'block'` (default) waits for the writer and loses nothing;
   * `'drop'` drops lines, counts them and later logs how many.
   */
  overflow?: 'block' | 'drop'
  /** Strings longer than this are cut and marked `...[truncated N chars]`. Default 65536. */
  maxStringLength?: number
  /**
   * Fields replaced by a censor on every line: paths such as `'user.password'`,
   * `'cards.*.number'`, `'headers["x-api-key"]'`, `'items[0].secret'`.
   */
  redact?: string[] | RedactOptions
  /** Fields encrypted on every line (AES-256-GCM, decrypted with `prodkit decrypt` or `decryptLine`). */
  encrypt?: EncryptOptions
  /** Rotation of a file destination (off by default). See {@link RotateOptions}. */
  rotate?: RotateOptions | false
  /**
   * Reopen the file destination when the process receives this signal (for logrotate's
   * `postrotate`). Off by default; while on, the signal no longer ends the process.
   */
  reopenOnSignal?: 'SIGHUP' | 'SIGUSR2' | false
}

/**
 * When a log file is rotated and what happens to rotated files. `app.log` is renamed
 * `app.<UTC time of rotation, 2026-11-25T12-00-00.123Z>.log`, then compressed to
 * `...log.gz`; the current file keeps its name. Needs `size` and/or `interval`.
 */
export interface RotateOptions {
  /**
   * Rotate before a write would take the file past this size: `'100MB'`, `'512KiB'`,
   * `'1GiB'` (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB) or a number of bytes.
   */
  size?: string | number
  /**
   * Rotate files born in an earlier period: `'hourly'` (on the hour), `'daily'` (at
   * 00:00 UTC) or a number of milliseconds (from 1000; periods count from the epoch).
   */
  interval?: 'hourly' | 'daily' | number
  /** Keep at most this many rotated files (the newest). Default: all. */
  keep?: number
  /** Delete rotated files older than this: `'14d'`, `'12h'` (ms, s, m, h, d, w) or milliseconds. Default: never. */
  maxAge?: string | number
  /** Gzip rotated files on a background thread. Default `true`. */
  compress?: boolean
}

export interface RotationStats {
  /** Rotations this process made (other processes on the same file count their own). */
  rotations: number
  /** Failed rotations, compressions and deletions of rotated files. */
  errors: number
  /** Rotated files this process compressed. */
  compressedFiles: number
  /** Bytes of rotated files compressed (before compression). */
  compressedBytes: number
  /** CPU milliseconds the background thread spent compressing them. */
  compressMs: number
}

/** A field path: dotted keys, `*` for any key or index at one level, `["any key"]`, `[0]`. */
export type FieldPath = string

export interface RedactOptions {
  paths: FieldPath[]
  /** What replaces a redacted value. Default `'[Redacted]'`. */
  censor?: string | number | boolean | null
  /** Leave redacted fields out instead. Default false. */
  remove?: boolean
}

/** Exactly one of `keyEnv`, `keyFile` or `key` gives the key: 32 bytes as base64 or hex. */
export type EncryptOptions = {
  paths: FieldPath[]
  /** The key's id in every ciphertext (`[A-Za-z0-9_-]{1,32}`). Default: derived from the key. */
  keyId?: string
} & (
  | { /** The name of the environment variable that holds the key. */ keyEnv: string; keyFile?: never; key?: never }
  | { /** A file that holds the key (a warning if group or others can read it). */ keyFile: string; keyEnv?: never; key?: never }
  | { /** The key itself. */ key: string | Uint8Array; keyEnv?: never; keyFile?: never }
)

export interface ChildOptions {
  /** The child's level. Default: the parent's level when the child is made. */
  level?: LevelOrSilent
}

export interface LogStats {
  /** Bytes (UTF-8, as written) that reached the destination. */
  writtenBytes: number
  /** Bytes held in memory now (queued or being written). */
  queuedBytes: number
  /** Lines dropped: queue full with `overflow: 'drop'`, destination failing, or after `close()`. */
  droppedLines: number
  /** Failed write attempts (each retry counts). */
  writeErrors: number
  /** Lines that did not reach the destination: given up at close because it kept failing, or after a writer-thread panic. Never lines that did. */
  lostLines: number
  /** True while the destination is failing. */
  failing: boolean
  /** Present when the logger rotates its file. */
  rotation?: RotationStats
}

/** A write error: `code` is the errno name (`ENOSPC`, `EACCES`, `EBADF`...). */
export interface LogWriteError extends Error {
  code: string
}

export interface LogFn {
  /** `log.info({ orderId }, 'order %s placed', id)` */
  (obj: object, msg?: string, ...args: unknown[]): void
  /** `log.info('order %s placed', id)` (%s %d %i %f %j %o %O %%) */
  (msg: string, ...args: unknown[]): void
  /** `log.error(err)` or any other value as the message */
  (value: unknown, ...args: unknown[]): void
}

export declare class Logger {
  private constructor()
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  fatal: LogFn
  /** The current level; setting it to an unknown name throws a TypeError. */
  level: LevelOrSilent
  /** The numeric value of every level name. */
  readonly levels: Readonly<Record<LevelName, number>>
  isLevelEnabled(level: LevelName): boolean
  /** A logger whose lines also carry `bindings`. */
  child(bindings?: Record<string, unknown>, options?: ChildOptions): Logger
  /**
   * Resolves `true` once every line logged before the call is written, `false` if the
   * destination is failing (those lines stay queued and are retried). Never rejects.
   * No libuv pool thread waits: the writer thread settles it.
   */
  flush(): Promise<boolean>
  /**
   * pino's signature: `cb(null)` once every line logged before the call is written,
   * `cb(err)` (code `PRODKIT_FLUSH_FAILED`) if the destination is failing.
   */
  flush(cb: (err: Error | null) => void): void
  /** `flush()`, blocking the calling thread. */
  flushSync(): boolean
  /**
   * Opens the file destination afresh before the next write, after an external tool
   * (logrotate) moved it. Returns at once; nothing logged is lost either way.
   */
  reopen(): void
  /** Writes what is queued and stops the writer; later lines are counted as dropped. */
  close(): void
  stats(): LogStats
  /**
   * `'error'`: a write, rotation or compression failed (reported once per failure
   * episode; it is retried).
   */
  on(event: 'error', listener: (err: LogWriteError) => void): this
  once(event: 'error', listener: (err: LogWriteError) => void): this
  off(event: 'error', listener: (err: LogWriteError) => void): this
}

export interface ExceptionsOptions {
  /** Exit code after an uncaught exception or (by default) an unhandled rejection. Default 1. */
  exitCode?: number
  /** Limit for all shutdown hooks together (and the default for each). Default 5000. */
  shutdownTimeoutMs?: number
  /** `'exit'` (default): handled like an uncaught exception; `'warn'`: logged, the process keeps running. */
  unhandledRejection?: 'exit' | 'warn'
}

export interface WatchdogOptions {
  /** A loop without a heartbeat for longer than this is logged (from a Rust thread). Default 5000. */
  blockedMs?: number
  /** A loop blocked for longer than this ends the process with abort() (SIGABRT). Off by default. */
  abortAfterMs?: number
}

export type Labels = Record<string, string | number | boolean>

export interface MetricOptions {
  /** The HELP text. Default: the name with spaces. */
  help?: string
  /** Label names this metric's series carry. */
  labelNames?: string[]
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, increasing. Default: 0.005 ... 10 (prom-client's). */
  buckets?: number[]
}

export interface CounterSeries { inc(by?: number): void }
export interface GaugeSeries { set(value: number): void; inc(by?: number): void; dec(by?: number): void }
export interface HistogramSeries { observe(value: number): void }

export interface Counter extends CounterSeries {
  /** The series of these label values; keep it for hot paths (it is the same object each time). */
  labels(values: Labels): CounterSeries
  inc(by?: number): void
  inc(labels: Labels, by?: number): void
}
export interface Gauge extends GaugeSeries {
  labels(values: Labels): GaugeSeries
  set(value: number): void
  set(labels: Labels, value: number): void
  inc(by?: number): void
  inc(labels: Labels, by?: number): void
  dec(by?: number): void
  dec(labels: Labels, by?: number): void
}
export interface Histogram extends HistogramSeries {
  labels(values: Labels): HistogramSeries
  observe(value: number): void
  observe(labels: Labels, value: number): void
}
export interface Timer extends Histogram {
  /** Starts timing; the returned function records the seconds (with these and its labels) and returns them. */
  start(labels?: Labels): (moreLabels?: Labels) => number
  /** `fn` timed on every call, sync or async (until its promise settles); errors pass through. */
  wrap<F extends (...args: any[]) => any>(fn: F, labels?: Labels): F
}

export interface MetricsThresholds {
  /** Warn when the event-loop delay p99 of an interval stays above this many ms. */
  eventLoopDelayP99Ms?: number
  /** Warn when resident memory stays above this many bytes. */
  residentMemoryBytes?: number
  /** Warn when process CPU stays above this (1 is one core). */
  cpuRatio?: number
  /** How many intervals in a row make an alert. Default 3. */
  intervals?: number
}

export interface MetricsOptions {
  /** Sampling interval (the Rust sampler, event-loop windows, thresholds). Default 10000. */
  intervalMs?: number
  /** Serve GET /metrics on this port (0: any free port). Off by default. */
  port?: number
  /** The address the /metrics server binds to. Default `'127.0.0.1'`. */
  host?: string
  /** Count and time outgoing HTTP calls (node:http and fetch). Default true. */
  httpClient?: boolean
  thresholds?: MetricsThresholds
  /** In a cluster's primary: how long a scrape waits for each worker. Default 1000. */
  clusterTimeoutMs?: number
}

/** A metric family in `snapshot().app`. */
export interface MetricFamily {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  buckets?: number[]
  samples: Array<{ labels: Record<string, string>; value?: number; counts?: number[]; sum?: number; count?: number }>
}

export interface MetricsSnapshot {
  /** When the Rust sampler took its latest sample (ms since the epoch; null before the first). */
  time: number | null
  process: {
    cpuUserSeconds: number
    cpuSystemSeconds: number
    cpuRatio: number
    residentMemoryBytes: number
    virtualMemoryBytes: number
    openFds: number | null
    threads: number | null
    diskReadBytes: number
    diskWrittenBytes: number
  } | null
  system: {
    cpuRatio: number
    cpuRatioPerCore: number[]
    load1: number
    load5: number
    load15: number
    memoryTotalBytes: number
    memoryAvailableBytes: number
    memoryUsedBytes: number
    swapTotalBytes: number
    swapUsedBytes: number
    filesystems: Array<{ mountpoint: string; device: string; fstype: string; sizeBytes: number; availableBytes: number }>
    disks: Record<string, { readBytes: number; writtenBytes: number }>
    networks: Record<string, { receiveBytes: number; transmitBytes: number }>
  } | null
  sampler: { cpuSeconds: number; samples: number } | null
  /** Over the last completed interval. */
  eventLoop: { minMs: number; maxMs: number; meanMs: number; p50Ms: number; p90Ms: number; p99Ms: number; utilization: number }
  heap: { totalBytes: number; usedBytes: number; limitBytes: number; externalBytes: number; spaces: Record<string, { sizeBytes: number; usedBytes: number; availableBytes: number }> }
  gc: Record<string, { count: number; seconds: number }>
  activeResources: Record<string, number>
  app: Record<string, MetricFamily>
}

export interface Metrics {
  counter(name: string, options?: MetricOptions): Counter
  gauge(name: string, options?: MetricOptions): Gauge
  histogram(name: string, options?: HistogramOptions): Histogram
  timer(name: string, options?: HistogramOptions): Timer
  snapshot(): MetricsSnapshot
  /** Prometheus exposition text (format 0.0.4). */
  prometheus(): string
  /** In a cluster's primary: every process's metrics merged. */
  clusterPrometheus(): Promise<string>
  /** What a scrape gets: prometheus(), or clusterPrometheus() in a primary with workers. */
  scrape(): Promise<string>
  /** The /metrics server's port, when `port` was given. */
  readonly port: number | undefined
  close(): void
}

/** A key for decryption: its text (base64 or hex), or with the `keyId` it was given in `log.encrypt`. */
export type KeyringKey = string | Uint8Array | { key: string | Uint8Array; keyId?: string }

/** Keys for decryption, made once with `createKeyring` (it keeps the subkeys it derives). */
export declare class Keyring {
  private constructor()
  /** The ids of its keys. */
  readonly ids: string[]
}

/**
 * `line` with every encrypted field replaced by its value. A field that cannot be
 * decrypted becomes `{"decryptError": reason, "ciphertext": "$pk1$..."}`; a line that is
 * not JSON or has no encrypted field comes back unchanged.
 */
export declare function decryptLine(line: string, keyring: Keyring | KeyringKey | KeyringKey[]): string
/** A keyring of one or more keys (old and new ones, for logs written across a rotation). */
export declare function createKeyring(keys: KeyringKey | KeyringKey[]): Keyring
/** A new random key, base64. */
export declare function generateKey(): string

export interface InstallOptions {
  /** The service name on every line. Default: the app's package.json name. */
  service?: string
  log?: LoggerOptions
  /** The metrics sampler; `false` turns it off. */
  metrics?: MetricsOptions | false
  /** Crash capture; `false` leaves uncaught exceptions and rejections to Node. */
  exceptions?: ExceptionsOptions | false
  /** Graceful shutdown on SIGTERM and SIGINT (exit 0). Default true. */
  signals?: boolean
  /** The event-loop watchdog; `false` turns it off. */
  watchdog?: WatchdogOptions | false
  /** A warn line at startup when NODE_ENV is not `production`. Default true. */
  productionWarning?: boolean
}

export interface ShutdownHookOptions {
  /** Shown in the log when the hook fails or is cut off. Default: the function's name. */
  name?: string
  /** This hook's own limit. Default: `exceptions.shutdownTimeoutMs`. */
  timeoutMs?: number
}

/**
 * What install() returns. `M` is what `metrics` holds: `Metrics` when metrics are on (the
 * default), `null` with `metrics: false`; `Kit` alone is either.
 */
export interface Kit<M extends Metrics | null = Metrics | null> {
  log: Logger
  /** The metrics (counters, gauges, histograms, timers, snapshot, Prometheus); null when installed with `metrics: false`. */
  metrics: M
  /**
   * Runs `fn` at shutdown (crash, SIGTERM/SIGINT, `shutdown()`), after the hooks added
   * before it, cut off at its limit.
   */
  onShutdown(fn: () => unknown, options?: ShutdownHookOptions): void
  /** Graceful shutdown, as on SIGTERM: hooks, flush, then exit with `exitCode` (default 0). */
  shutdown(reason?: string, options?: { exitCode?: number }): Promise<never>
  /** The logger's `flush()`. */
  flush(): Promise<boolean>
  /** The logger's `flush(cb)`, pino's signature. */
  flush(cb: (err: Error | null) => void): void
  flushSync(): boolean
  /** Undoes install() without exiting: listeners off, watchdog stopped, logger closed. */
  close(): void
}

// requestLogger() sets `req.id` and `req.log` on every request it sees. Declared on Node's
// IncomingMessage, which Express's Request (4 and 5) extends, as pino-http does, so that
// `req.log.info(...)` type-checks in a handler. On a request that did not pass through
// requestLogger() they are absent at run time: mount it first.
declare module 'http' {
  interface IncomingMessage {
    /** The request id, set by prodkit's requestLogger() (from `X-Request-Id` or a new UUID). */
    id: string
    /** A child logger whose lines carry `requestId`, set by prodkit's requestLogger(). */
    log: Logger
  }
}

/** What Express (4 or 5) hands a middleware; only these members are used. */
export interface HttpRequest {
  method?: string
  url?: string
  originalUrl?: string
  headers: Record<string, string | string[] | undefined>
  /** Set by requestLogger(). */
  id?: string
  /** Set by requestLogger(): a child logger carrying the request id. */
  log?: Logger
  [key: string]: any
}
export type Middleware = (req: any, res: any, next: (err?: unknown) => void) => void
export type ErrorMiddleware = (err: unknown, req: any, res: any, next: (err?: unknown) => void) => void

export interface RequestLoggerOptions {
  /** Default: the installed kit's logger. */
  log?: Logger
  /** Paths not logged (health checks): exact strings or RegExps, or a function. */
  skip?: Array<string | RegExp> | ((req: HttpRequest) => boolean)
  /** The request id header. Default `'x-request-id'`. */
  header?: string
}

export interface ErrorPageDetails {
  status: number
  title: string
  /** The error's message when it may be shown, else the status text. */
  message: string
  requestId?: string
  /** Outside production only. */
  stack?: string
}

export interface ErrorHandlerOptions {
  /** Default: the installed kit's logger. */
  log?: Logger
  /** Replaces the HTML page. */
  html?: (details: ErrorPageDetails) => string
  /** Default: `process.env.NODE_ENV === 'production'`, read per error. */
  production?: boolean
}

export declare const express: {
  /** Request id, `req.log`, one line per finished or aborted response; the rest of the request runs in a `context.run({ requestId })`, so every logger's lines carry the id. */
  requestLogger(options?: RequestLoggerOptions): Middleware
  /** The catch-all error handler, for last place. */
  errorHandler(options?: ErrorHandlerOptions): ErrorMiddleware
  /** Serves the Prometheus text (merged across the cluster in a primary). */
  metricsHandler(options?: { metrics?: Metrics }): Middleware
}

/** Fields a `prodkit.context.run()` makes every log line carry (JSON-serialisable values). */
export type ContextBindings = Record<string, unknown>

export declare const context: {
  /**
   * Runs `fn` with `bindings` active: every line any prodkit logger writes while it runs
   * (through awaits, timers and promises) carries them. Nested runs merge, the inner value
   * winning. A line never carries a key twice: the call's merge object wins over the
   * logger's bindings, which win over the run's fields, which win over the trace fields.
   * Returns what `fn` returns (its promise, for an async function).
   * Throws a TypeError when `bindings` is not an object or `fn` not a function.
   */
  run<R>(bindings: ContextBindings, fn: () => R): R
  /** The active run's bindings (merged with the runs around it, frozen), or undefined. */
  get(): Readonly<ContextBindings> | undefined
}

/** Restart of a crashed worker: immediate, then `baseMs × factor^(n-2)` up to `maxMs`. */
export interface RestartOptions {
  /** Delay before the second consecutive restart of a slot. Default 100. */
  baseMs?: number
  /** Growth of the delay per consecutive crash (1 to 100). Default 2. */
  factor?: number
  /** The longest delay. Default 30000. */
  maxMs?: number
  /** A worker up this long has its slot's crash count reset. Default 30000. */
  stableMs?: number
}

export interface CrashLoopOptions {
  /** This many worker crashes within `windowMs` stop the cluster (exit 1). Default 10. */
  crashes?: number
  /** Default 60000. */
  windowMs?: number
}

export interface ClusterOptions {
  /**
   * What each worker runs: a function (the entry file runs again in every worker, and
   * prodkit.cluster() calls it there) or the path of a module run as the worker's main.
   */
  start: (() => unknown) | string
  /** `'auto'` (default): available CPUs capped by the cgroup CPU quota; or a number. */
  workers?: 'auto' | number
  /** Time a new worker has to listen (or call `ready()`). Default 30000. */
  readyTimeoutMs?: number
  /** Only `prodkit.ready()` makes a worker ready, not listening. Default false. */
  waitReady?: boolean
  /** Time a draining worker has to finish before it is killed. Default 10000. */
  drainTimeoutMs?: number
  restart?: RestartOptions
  /** `false`: restart forever. */
  crashLoop?: CrashLoopOptions | false
  /** Replace a worker whose RSS is above this, gracefully: bytes or `'512MB'`. Off by default. */
  memoryLimit?: number | string
  /** How often workers check their RSS. Default 5000. */
  memoryCheckMs?: number
  /** Arguments of a `start` module (its process.argv). */
  args?: string[]
  /** The primary's install() options, unless it already called install(). */
  install?: InstallOptions
}

export interface ClusterWorker {
  /** node:cluster's worker id, also the `worker` field of the worker's log lines. */
  id: number
  pid: number
  slot: number
  state: 'starting' | 'ready' | 'draining'
}

export interface ReloadResult {
  /** False when a new worker did not become ready: the rollout stopped there. */
  ok: boolean
  replaced: number
  error?: string
}

/** The primary's handle on its workers. */
export interface Cluster {
  /** Resolves once every worker has been ready. */
  readonly ready: Promise<void>
  /** Rolling reload, as on SIGHUP. */
  reload(): Promise<ReloadResult>
  /** Drains every worker; resolves when all have exited. */
  stop(): Promise<void>
  readonly workers: ClusterWorker[]
}

/** In the primary: forks the workers and returns the handle. In a worker: runs `start`, returns null. */
export declare function cluster(options: ClusterOptions): Cluster | null
/** This worker can take work (or, outside a cluster, READY=1 to systemd). True when someone was told. */
export declare function ready(): boolean
/** Drains `server` gracefully at shutdown or when the primary asks. Returns it. */
export declare function graceful<S extends NetServer>(server: S): S
/** A readiness handler: 200 `{"status":"ok"}`, 503 `{"status":"draining"}` while draining. */
export declare function health(): (req: IncomingMessage, res: ServerResponse) => void

/**
 * Sets prodkit up for this process. Idempotent: later calls return the same kit (their
 * options are ignored, so the kit's `metrics` is what the first call's options made it).
 */
export declare function install(options: InstallOptions & { metrics: false }): Kit<null>
export declare function install(options?: InstallOptions & { metrics?: MetricsOptions }): Kit<Metrics>
export declare function install(options?: InstallOptions): Kit
/** A standalone logger with its own writer thread. */
export declare function createLogger(options?: LoggerOptions): Logger
/** Numeric values of the levels: trace 10, debug 20, info 30, warn 40, error 50, fatal 60. */
export declare const levels: Readonly<Record<LevelName, number>>
/** The version of @oj/prodkit. */
export declare const version: string

declare const prodkit: {
  install: typeof install
  createLogger: typeof createLogger
  Logger: typeof Logger
  levels: typeof levels
  version: typeof version
  express: typeof express
  context: typeof context
  decryptLine: typeof decryptLine
  createKeyring: typeof createKeyring
  generateKey: typeof generateKey
  Keyring: typeof Keyring
  cluster: typeof cluster
  ready: typeof ready
  graceful: typeof graceful
  health: typeof health
  /**
   * The installed kit's logger, or undefined before `install()` (and after `close()`).
   * Read it as `prodkit.log` when it is needed: it is a getter, so it is not a named
   * export (an ES module binding would hold its value at import time, undefined).
   */
  readonly log: Logger | undefined
  /** The installed kit's metrics, or undefined before `install()` or with `metrics: false`. Not a named export, as `log`. */
  readonly metrics: Metrics | undefined
}
export default prodkit

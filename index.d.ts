// Public types of @oj/prodkit (hand-written; `binding.d.ts` describes the native layer).
import type { Server as NetServer } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** A level name, or `'silent'` to log nothing. */
export type LevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
export type LevelOrSilent = LevelName | 'silent'
/**
 * A level as pino takes it: a name in any case (`'info'`, `'INFO'`) or its number
 * (10, 20, 30, 40, 50, 60).
 */
export type LevelInput = LevelOrSilent | Uppercase<LevelOrSilent> | Capitalize<LevelOrSilent> | 10 | 20 | 30 | 40 | 50 | 60

/** `T`, not a place TypeScript infers it from (TypeScript 5.4's `NoInfer`, for older versions too). */
type NotInferred<T> = [T][T extends unknown ? 0 : never]

export interface LoggerOptions<Custom extends string = never, UseOnly extends boolean = boolean> {
  /**
   * Lowest level written. Default for `createLogger()`: `'info'`, as pino; for
   * `install()`'s logger: `LOG_LEVEL` when set, else `'info'` when `NODE_ENV=production`,
   * else `'debug'`. A name in any case or a number (`30`), or the name of one of
   * `customLevels`.
   */
  level?: LevelInput | NotInferred<Custom>
  /**
   * `'stdout'` (default), `'stderr'`, a file path (parent folders are created, the file
   * is appended to with mode 0640) or an open file descriptor (never closed by prodkit).
   */
  destination?: 'stdout' | 'stderr' | string | number
  /**
   * The `service` field of every line, after hostname. Default for `createLogger()`: none
   * (pino's line); for `install()`'s logger: the app's package.json name. `false`: none.
   */
  service?: string | false
  /** More fields for every line (after pid and hostname); `null`: no pid and hostname either. */
  base?: Record<string, unknown> | null
  /** pino's `name` field, after hostname (left out with `base: null`, as pino does). */
  name?: string
  /** The message's key. Default `'msg'`. */
  messageKey?: string
  /** The key of an error logged as `log.error(err)`, and whose message is the default message. Default `'err'`. */
  errorKey?: string
  /** Puts the merge object's fields under this key: `"payload":{...}`. Default: none. */
  nestedKey?: string | null
  /**
   * `true` (default: `"time":<epoch ms>`), `false` (no time) or a function returning the
   * time's JSON fragment, such as `prodkit.stdTimeFunctions.isoTime`.
   */
  timestamp?: boolean | TimeFn
  /** Put before every message of this logger (and its children). */
  msgPrefix?: string
  /**
   * A function per top-level key of the merge object and of bindings, whose result is
   * logged instead of the value (before `redact`/`encrypt`); `err` also applies to
   * `errorKey`, and the one for `messageKey` to the message. `null`/`undefined`: none
   * (`err: null` writes errors as `JSON.stringify` does, as pino). See `stdSerializers`.
   */
  serializers?: Record<string, SerializerFn | null | undefined>
  /** pino's formatters: each returns an object. */
  formatters?: {
    /** The line's first fields instead of `"level":<number>`, called once per level at creation: `(label) => ({ level: label })`. */
    level?: (label: LevelName, number: number) => Record<string, unknown>
    /** The root logger's `{ pid, hostname, name, ...base }` -> the fields written (not applied to child bindings, as in pino); `null`/`undefined`: none. */
    bindings?: (bindings: Record<string, unknown>) => Record<string, unknown> | null | undefined
    /** Each line's merge object (after `mixin`) -> the fields written; `null`/`undefined`: none. */
    log?: (object: Record<string, unknown>) => Record<string, unknown> | null | undefined
  }
  /** Fields added to every line: `(mergeObject, level, logger) => ({ ... })`; the merge object's own keys win. */
  mixin?: (mergeObject: Record<string, unknown>, level: number, logger: Logger) => Record<string, unknown>
  /** How `mixin`'s fields and the merge object are combined. Default: `Object.assign(mixinObject, mergeObject)`. */
  mixinMergeStrategy?: (mergeObject: Record<string, unknown>, mixinObject: Record<string, unknown>) => Record<string, unknown>
  /**
   * More levels: `{ audit: 35 }` adds `log.audit()` and the level name `'audit'` (the six
   * standard levels stay unless `useOnlyCustomLevels`).
   */
  customLevels?: Record<Custom, number>
  /**
   * `true`: only `customLevels` exist (no `info()`... unless a custom level takes that
   * name; with the literal `true`, the standard methods are typed `never`, as in pino's
   * typings). Needs `customLevels`, and a `level` among them unless one is named `info`.
   * Default `false`.
   */
  useOnlyCustomLevels?: UseOnly
  /**
   * Which levels a threshold lets through: `'ASC'` (default: a level number at or above
   * the threshold's), `'DESC'` (at or below) or `(level, threshold) => boolean`.
   */
  levelComparison?: 'ASC' | 'DESC' | ((level: number, threshold: number) => boolean)
  /** `false`: the logger starts at level `'silent'` (setting `level` later turns it on, as pino). Default `true`. */
  enabled?: boolean
  /**
   * For a value `JSON.stringify` cannot write (a cycle, a BigInt): how deep it is written
   * (deeper objects are `"[Object]"`, arrays `"[Array]"`), as pino. Default 5.
   */
  depthLimit?: number
  /** The same, how many keys or items per object or array (then `"...": "N items not stringified"`). Default 100. */
  edgeLimit?: number
  /** `true`: lines end with `\r\n` instead of `\n`, as pino's option. Default `false`. */
  crlf?: boolean
  /** pino's hooks. */
  hooks?: {
    /** Called for every log call of an enabled level; logs by calling `method.apply(this, args)`. */
    logMethod?: (this: Logger, args: unknown[], method: (...args: unknown[]) => void, level: number) => void
    /**
     * Each whole line (newline included) -> the text written instead; `''` writes nothing.
     * A hook that throws or returns no string gets a line saying so (`prodkitShapeError`).
     * Not with `encrypt`.
     */
    streamWrite?: (line: string) => string
  }
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
  /**
   * Ship the file destination to a log store, disk first: a Rust thread follows the file
   * and its rotated files and keeps a durable checkpoint (at-least-once). Off by default;
   * ignored in a `prodkit.cluster()` worker (the primary ships). See {@link ShipOptions}.
   */
  ship?: ShipOptions | false
}

/** Where and how a logger's file is shipped (docs/shipping.md). */
export interface ShipOptions {
  /**
   * The target URL: `'relp://host:514'` (rsyslog's acknowledged protocol; `?window=N`),
   * `'syslog+tcp://host:514'`, `'syslog+tls://host:6514'` (add `?ca=/path/ca.pem`
   * for a private CA), `'clickhouse://host:8123/db.table'`, `'elasticsearch://host:9200/index'`,
   * `'loki://host:3100'`, `'splunk://host:8088'`, `'otlp://host:4318'` (each as `STORE+https://`
   * for TLS). Credentials come from environment variables (`PRODKIT_SHIP_USER` and
   * `PRODKIT_SHIP_PASSWORD`, or `PRODKIT_SHIP_TOKEN`), never from the URL. The HTTP stores send
   * bodies of 1 KiB and more gzip-compressed (`?compress=none` to turn it off); Splunk waits for
   * indexer acknowledgment with `?ack=on`.
   */
  to: string
  /** Largest batch of whole lines sent at once: `'1MiB'`, `65536`... (from 1024 bytes to 64 MiB). Default 1 MiB. */
  batchBytes?: string | number
  /** Longest a line waits for its batch to fill: `'2s'`, `500`... (ms, s, m, h, d, w; from 0). Default 1000 ms. */
  flushMs?: string | number
  /** Rotated files kept past `rotate.keep`/`maxAge` while unshipped, up to this size on disk. Default 1 GiB. */
  backlogBytes?: string | number
  /** How long the connection check at creation may take (an unreachable target throws). Default 3000 ms. */
  checkMs?: string | number
}

/** `stats().shipping`: the shipper of a logger's file. */
export interface ShippingStats {
  /** Lines the store acknowledged (a line repeated after an interruption counts again). */
  lines: number
  bytes: number
  batches: number
  /** Failed sends (each retry counts), read and checkpoint errors. */
  errors: number
  /** Lines the store refused for good, and torn fragments, set aside in `<file>.rejected`. */
  rejectedLines: number
  /** When the last batch was acknowledged (ms since the epoch); 0 before the first. */
  lastSuccessMs: number
  /** Bytes on disk not acknowledged yet (a `.gz` at its compressed size), measured once a second. */
  lagBytes: number
  /** While lagging: seconds since shipping last was caught up or had a batch acknowledged. */
  lagSeconds: number
  /** The target, without credentials. */
  target: string
  /** True when the last measurement found nothing left to ship. */
  caughtUp: boolean
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
  censor?: string | number | boolean | null | ((value: unknown, path: string[]) => unknown)
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

export interface ChildOptions<Custom extends string = never> {
  /** The child's level. Default: the parent's level when the child is made. */
  level?: LevelInput
  /** Put before the child's messages, after the parent's prefix. */
  msgPrefix?: string
  /** Serializers over the parent's (for this child and its children); `null`/`undefined` removes the parent's for that key. */
  serializers?: Record<string, SerializerFn | null | undefined>
  /**
   * `bindings` applies to this child's bindings only; `log` replaces the parent's;
   * `level` changes nothing (as in pino 10).
   */
  formatters?: {
    level?: (label: LevelName, number: number) => Record<string, unknown>
    bindings?: (bindings: Record<string, unknown>) => Record<string, unknown> | null | undefined
    log?: (object: Record<string, unknown>) => Record<string, unknown> | null | undefined
  }
  /**
   * Replaces the parent's `redact` for this child's lines and bindings (`[]`: none, as in
   * pino). The parent's `encrypt` paths always stay.
   */
  redact?: string[] | RedactOptions
  /**
   * More levels for this child and its children, added to the parent's (a name or number
   * the parent has is refused, as pino); typed: `child({}, { customLevels: { audit: 35 } }).audit()`.
   */
  customLevels?: Record<Custom, number>
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
  /** Present when the logger ships its file (`ship`). */
  shipping?: ShippingStats
}

/** A write error: `code` is the errno name (`ENOSPC`, `EACCES`, `EBADF`...). */
export interface LogWriteError extends Error {
  code: string
}

/**
 * A logger with `customLevels`: one method per custom level; with `useOnlyCustomLevels:
 * true`, the standard levels' methods that no custom level names are `never` (as pino's
 * `Logger<CustomLevels, UseOnlyCustomLevels>`).
 */
export type LoggerWith<Custom extends string, UseOnly extends boolean = boolean> = Logger<Custom, UseOnly> & Record<Custom, LogFn> &
  (UseOnly extends true ? { [K in Exclude<LevelName, Custom>]: never } : unknown)

export interface LogFn {
  /** `log.info({ orderId }, 'order %s placed', id)` */
  (obj: object, msg?: string, ...args: unknown[]): void
  /** `log.info('order %s placed', id)` (%s %d %i %f %j %o %O %%) */
  (msg: string, ...args: unknown[]): void
  /** `log.error(err)` or any other value as the message */
  (value: unknown, ...args: unknown[]): void
}

export declare class Logger<Custom extends string = never, UseOnly extends boolean = boolean> {
  private constructor()
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  fatal: LogFn
  /** The current level's name; set it with a name in any case or a number (`log.level = 50`). Anything else throws a TypeError. */
  get level(): LevelOrSilent | Custom
  set level(level: LevelInput | Custom)
  /** The current level's number (`Infinity` when silent), as pino's `levelVal`. */
  readonly levelVal: number
  /** pino's shape: `{ labels: { 10: 'trace', ... }, values: { trace: 10, ... } }`. */
  readonly levels: { readonly labels: Readonly<Record<number, LevelName>>; readonly values: Readonly<Record<LevelName, number>> }
  isLevelEnabled(level: LevelName | Custom): boolean
  /** Logs nothing (pino's method for the level `'silent'`). */
  silent(...args: unknown[]): void
  /** A logger whose lines also carry `bindings` (a `level` key there is left out, as pino does). */
  child<ChildCustom extends string = never>(bindings?: Record<string, unknown>, options?: ChildOptions<ChildCustom>): LoggerWith<Custom | ChildCustom, UseOnly>
  /** The fields that base and child bindings add to each line (pid and hostname aside); protected fields are `'[Redacted]'`. */
  bindings(): Record<string, unknown>
  /** Adds fields to this logger's lines from now on (children made before keep theirs). */
  setBindings(bindings: Record<string, unknown>): void
  /** The prefix of this logger's messages (`msgPrefix`), or undefined. */
  readonly msgPrefix: string | undefined
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

export interface CounterOptions extends MetricOptions {
  /** Called before each scrape (`this` is the counter); may return a promise. A failure is counted and logged once, never breaks the scrape. */
  collect?(this: Counter): void | Promise<void>
}

export interface GaugeOptions extends MetricOptions {
  /** Called before each scrape to set the gauge (`this` is the gauge); may return a promise. A failure is counted and logged once, never breaks the scrape. */
  collect?(this: Gauge): void | Promise<void>
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, increasing. Default: 0.005 ... 10 (prom-client's). */
  buckets?: number[]
  /** Called before each scrape (`this` is the histogram); may return a promise. */
  collect?(this: Histogram): void | Promise<void>
}

export interface SummaryOptions extends MetricOptions {
  /** Quantiles to report, increasing, 0 to 1. Default: 0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 0.999 (prom-client's). */
  percentiles?: number[]
  /** The sliding window of the quantiles, in seconds. Default: no window (all time). */
  maxAgeSeconds?: number
  /** How many steps the window moves in (with maxAgeSeconds). Default 5. */
  ageBuckets?: number
  /** Called before each scrape (`this` is the summary); may return a promise. */
  collect?(this: Summary): void | Promise<void>
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
export interface SummarySeries { observe(value: number): void }
export interface Summary extends SummarySeries {
  labels(values: Labels): SummarySeries
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
  /** How long a scrape waits for async collect() callbacks. Default 1000. */
  collectTimeoutMs?: number
  /** Time incoming requests through requestLogger (http_server_request_duration_seconds); `{ buckets }` to choose the buckets. Default true. */
  httpServer?: boolean | { buckets?: number[] }
  /** Put before every metric name (prodkit's own too), e.g. `'shop_'`. */
  prefix?: string
  /** Labels every series carries (a series' own label of the same name wins). */
  defaultLabels?: Record<string, string | number | boolean>
}

/** An exemplar: the trace that was active when a counter was incremented or a histogram bucket observed. */
export interface Exemplar { labels: { trace_id: string; span_id: string }; value: number; timestamp: number }

/** A metric family in `snapshot().app`. */
export interface MetricFamily {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram' | 'summary'
  buckets?: number[]
  percentiles?: number[]
  samples: Array<{
    labels: Record<string, string>
    value?: number
    counts?: number[]
    sum?: number
    count?: number
    /** A summary's values at `percentiles` (NaN with no observation in the window). */
    quantiles?: number[]
    /** A summary's window as a mergeable sketch (lib/metrics/sketch.js). */
    sketch?: { zero: number; count: number; pos: number[]; neg: number[] }
    exemplar?: Exemplar
    exemplars?: Array<Exemplar | null>
    /** When the series was created (seconds since the epoch): counters, histograms and summaries (OpenMetrics `_created`). */
    created?: number
  }>
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

export type ExpositionFormat = 'prometheus' | 'openmetrics'

export interface Metrics {
  counter(name: string, options?: CounterOptions): Counter
  gauge(name: string, options?: GaugeOptions): Gauge
  histogram(name: string, options?: HistogramOptions): Histogram
  timer(name: string, options?: HistogramOptions): Timer
  /** Sliding-window quantiles (1% relative error), sum and count. */
  summary(name: string, options?: SummaryOptions): Summary
  /** Labels every series carries from now on (replaces the previous default labels). */
  setDefaultLabels(labels: Record<string, string | number | boolean>): void
  snapshot(): MetricsSnapshot
  /** Prometheus exposition text (format 0.0.4). Sync collect() callbacks run first. */
  prometheus(): string
  /** OpenMetrics 1.0.0 text, with exemplars, ending in `# EOF`. Sync collect() callbacks run first. */
  openMetrics(): string
  /** In a cluster's primary: every process's metrics merged. */
  clusterPrometheus(format?: ExpositionFormat): Promise<string>
  /** What a scrape gets (async collect() callbacks awaited): this process's text, or clusterPrometheus() in a primary with workers. */
  scrape(format?: ExpositionFormat): Promise<string>
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
  interface ServerResponse {
    /** The same logger as `req.log`, set by prodkit's requestLogger() (as pino-http does). */
    log: Logger
    /** Set by the app: the error of a request, logged by requestLogger() ("request errored"). */
    err?: Error | undefined
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

/** A level name for a request line; `'silent'` writes none. */
export type RequestLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'

/** The `req` of a request line, as pino-http (pino-std-serializers) writes it. */
export interface SerializedRequest {
  /** The request id. */
  id: string | number
  method: string
  /** `req.originalUrl`, with the query parameters of `redactQuery` redacted. */
  url: string
  query: Record<string, unknown>
  /** The matched route's parameters. */
  params: Record<string, string>
  /** With the headers of `redactHeaders` redacted. */
  headers: Record<string, string | string[] | undefined>
  /** The client: the socket's peer, or behind trusted proxies (`trustProxy`) the client they name. */
  remoteAddress?: string
  /** The peer's port; absent when the client came from `X-Forwarded-For` (its port is not known). */
  remotePort?: number
  /** `'http'` or `'https'` (from a trusted `X-Forwarded-Proto`); only with a trust in effect. */
  protocol?: string
  /** The proxy the request came through (the socket's peer), when the client came from `X-Forwarded-For`. */
  peerAddress?: string
  peerPort?: number
  /** The request itself (not logged: not enumerable). */
  readonly raw: HttpRequest
}

/**
 * Which hops in front of the app are trusted to name the client (`X-Forwarded-For`) and its
 * protocol (`X-Forwarded-Proto`): Express's `trust proxy` values. `true`: every hop; a
 * number: that many hops; addresses, CIDRs and the names `loopback`, `linklocal`,
 * `uniquelocal` (a comma-separated string or an array); or a function of each hop's address
 * and index (0: the socket's peer). `false` or `0`: none.
 * @example
 * prodkit.express.requestLogger({ trustProxy: 'loopback' })            // nginx on this machine
 * prodkit.express.requestLogger({ trustProxy: ['10.0.0.0/8', 'loopback'] })
 * prodkit.express.errorHandler({ trustProxy: 1 })                       // one load balancer
 * prodkit.express.requestLogger({ trustProxy: (addr, i) => i === 0 && addr.startsWith('10.') })
 */
export type TrustProxy = boolean | number | string | string[] | ((addr: string, i: number) => boolean)

/** The `res` of a request line, as pino-http writes it. */
export interface SerializedResponse {
  /** null when no header was sent. */
  statusCode: number | null
  headers: Record<string, number | string | string[] | undefined>
  /** The response itself (not logged: not enumerable). */
  readonly raw: any
}

export interface RequestLoggerOptions {
  /** Default: the installed kit's logger. */
  log?: Logger
  /** pino-http's name for `log` (a prodkit logger). */
  logger?: Logger
  /** Paths not logged (health checks): exact strings or RegExps, or a function. */
  skip?: Array<string | RegExp> | ((req: HttpRequest) => boolean)
  /** The request id header, read (by the default id rule) and echoed. Default `'x-request-id'`; false: none. */
  header?: string | false
  /** The request id; replaces the default rule (a well-formed `X-Request-Id`, else a UUID). */
  genReqId?: (req: HttpRequest, res: any) => string | number
  /** false: no request line (`req.id` and `req.log` are still set); `ignore`: no line for these requests. */
  autoLogging?: boolean | { ignore?: (req: HttpRequest) => boolean }
  /** One level for every request line (default: info, warn for 4xx and aborted, error for 5xx and failed). */
  useLevel?: RequestLogLevel
  /** The level of a request line; `err` is set for "request errored". Not with `useLevel`. */
  customLogLevel?: (req: HttpRequest, res: any, err?: Error) => RequestLogLevel
  /** Fields added to the request line. */
  customProps?: Record<string, unknown> | ((req: HttpRequest, res: any) => Record<string, unknown>)
  /** The message of a completed (or aborted) request. Default `'request completed'` / `'request aborted'`. */
  customSuccessMessage?: (req: HttpRequest, res: any, responseTime: number) => string
  /** The message of an errored request (5xx, `res.err`, failed). Default `'request errored'`. */
  customErrorMessage?: (req: HttpRequest, res: any, err: Error) => string
  /** When set, a line is also written as a request arrives, with this message. */
  customReceivedMessage?: (req: HttpRequest, res: any) => string
  /**
   * The fields of a completed request's line: given the fields prodkit would write (`res`
   * serialised, `responseTime`, `route`, `bytes`...), returns those to write. A key
   * `req.log` binds (the id; `req` when `quietReqLogger: false`) is not written twice.
   */
  customSuccessObject?: (req: HttpRequest, res: any, fields: Record<string, unknown>) => Record<string, unknown>
  /** The same for an errored request's line (`fields` holds `err`). */
  customErrorObject?: (req: HttpRequest, res: any, err: Error, fields: Record<string, unknown>) => Record<string, unknown>
  /** When set, a line is also written as a request arrives, with these fields (and `customReceivedMessage`'s message if set). */
  customReceivedObject?: (req: HttpRequest, res: any) => Record<string, unknown>
  /** The keys of the request line's fields. Default `req`, `res`, `err`, `requestId` (pino-http: `reqId`), `responseTime`. */
  customAttributeKeys?: { req?: string, res?: string, err?: string, reqId?: string, responseTime?: string }
  /** Default true (pino-http: false): `req.log` carries the request id only; false: the serialised request too. */
  quietReqLogger?: boolean
  /** true: the request line without `req`. Default false. */
  quietResLogger?: boolean
  /** Default true: a serializer is given the serialised request or response; false: the raw one. */
  wrapSerializers?: boolean
  /** Replace the `req` and `res` of the line. (Errors are serialised by the logger.) */
  serializers?: {
    req?: (req: SerializedRequest) => unknown
    res?: (res: SerializedResponse) => unknown
  }
  /** Query parameters whose values are logged as `[Redacted]` (case-insensitive); replaces the default list; false: none. */
  redactQuery?: string[] | false
  /** Request and response headers logged as `[Redacted]`; replaces the default list (authorization, proxy-authorization, cookie, set-cookie, x-api-key); false: none. */
  redactHeaders?: string[] | false
  /**
   * Log the client behind trusted proxies: `req.remoteAddress` from `X-Forwarded-For`,
   * `req.protocol` from `X-Forwarded-Proto`, the proxy as `req.peerAddress`. Left out: the
   * app's `trust proxy` setting when it set one, else no hop is trusted (the headers are
   * never read).
   * @example
   * app.use(prodkit.express.requestLogger({ trustProxy: 'loopback' })) // behind `prodkit startup nginx`
   */
  trustProxy?: TrustProxy
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
  /** As requestLogger's: the line's `remoteAddress` is the client behind trusted proxies, with `protocol`. */
  trustProxy?: TrustProxy
}

export declare const express: {
  /** Request id, `req.log`, and one line per finished or aborted response, in pino-http's shape; the rest of the request runs in a `context.run({ requestId })`, so every logger's lines carry the id. */
  requestLogger(options?: RequestLoggerOptions): Middleware
  /** The catch-all error handler, for last place. */
  errorHandler(options?: ErrorHandlerOptions): ErrorMiddleware
  /**
   * Serves the Prometheus text: merged across the cluster in a primary, and in a worker of
   * a prodkit cluster too (asked of the primary over IPC; if it does not answer within 3 s,
   * the worker's own numbers, each sample labelled `worker`, with the header
   * `X-Prodkit-Metrics: worker` instead of `cluster`).
   */
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
  /**
   * The control socket `prodkit status`, `top`, `logs`, `reload`, `scale` and `stop` use
   * (a Unix socket, owner-only; not on Windows). On by default; `false` turns it off.
   */
  control?: ControlOptions | false
}

export interface ControlOptions {
  /** The name the commands find the cluster by. Default: the app's package.json name. */
  name?: string
  /** The socket's folder. Default: $PRODKIT_RUNTIME_DIR, else $XDG_RUNTIME_DIR/prodkit, else <tmpdir>/prodkit-<uid>. */
  dir?: string
}

/** One process in `cluster.status()` (and `prodkit status --json`); figures over the last second. */
export interface ClusterProcessStatus {
  pid: number
  uptimeMs: number
  /** CPU time over the last second, as a share of one core (1 = one core busy). */
  cpu?: number
  /** Resident memory, bytes. */
  rss?: number
  /** p99 event-loop delay over the last second, ms. */
  eventLoopDelayMs?: number
  requestsPerSec?: number
  /** HTTP requests since the process started. */
  requests?: number
}

export interface ClusterWorkerStatus extends ClusterProcessStatus {
  id: number
  slot: number
  state: 'starting' | 'ready' | 'draining'
  /** Workers started in this slot after its first (crash restarts, reloads, replacements). */
  restarts: number
  /** False when the worker did not answer within 1 s (its figures are then missing). */
  answered: boolean
}

export interface ClusterStatus {
  name?: string
  version?: string
  /** The primary's log file (`install.log.destination`), or null when it logs to a stream. */
  logFile: string | null
  workersWanted: number
  stopping: boolean
  primary: ClusterProcessStatus
  workers: ClusterWorkerStatus[]
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
  /**
   * Sets the number of workers (1 to 1024), as `prodkit scale N`: resolves once the new
   * workers are ready, or the removed ones drained and exited. Rejects with an Error for
   * another count, while the cluster stops, or when a new worker does not become ready.
   */
  scale(workers: number): Promise<{ from: number, to: number }>
  /** Every process's figures, as `prodkit status --json`. */
  status(): Promise<ClusterStatus>
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
export declare function createLogger<Custom extends string = never, UseOnly extends boolean = boolean>(options?: LoggerOptions<Custom, UseOnly>): LoggerWith<Custom, UseOnly>
/** Numeric values of the levels: trace 10, debug 20, info 30, warn 40, error 50, fatal 60. */
export declare const levels: Readonly<Record<LevelName, number>>
/** A `serializers` entry: the value of its key -> what is logged. */
export type SerializerFn = (value: any) => unknown
/** pino's standard serializers, for the `serializers` option. */
export declare const stdSerializers: {
  /** An error as prodkit serialises errors: `{ type, message, stack, code, ...own properties, cause, errors }`. */
  readonly err: SerializerFn
  /** An `http.IncomingMessage`: `{ id, method, url, query, params, headers, remoteAddress, remotePort }` (express's `originalUrl` as `url`). */
  readonly req: SerializerFn
  /** An `http.ServerResponse`: `{ statusCode, headers }` (`statusCode` null before the headers are sent). */
  readonly res: SerializerFn
}
/** A `timestamp` option's function: returns the time's JSON fragment (`,"time":...`), or `''` for none. */
export type TimeFn = () => string
/** pino's `stdTimeFunctions`, for the `timestamp` option (the same lines as pino's). */
export declare const stdTimeFunctions: {
  /** `,"time":<epoch ms>` (the default). */
  readonly epochTime: TimeFn
  /** `,"time":<epoch seconds>`. */
  readonly unixTime: TimeFn
  /** `,"time":"2026-01-01T00:00:00.000Z"`. */
  readonly isoTime: TimeFn
  /** `,"time":"2026-01-01T00:00:00.000000000Z"` (nanoseconds, from the monotonic clock). */
  readonly isoTimeNano: TimeFn
  /** No time field. */
  readonly nullTime: TimeFn
}
/** The version of @oj/prodkit. */
export declare const version: string

declare const prodkit: {
  install: typeof install
  createLogger: typeof createLogger
  Logger: typeof Logger
  levels: typeof levels
  stdTimeFunctions: typeof stdTimeFunctions
  stdSerializers: typeof stdSerializers
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

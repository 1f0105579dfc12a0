// Public types of @oj/prodkit (hand-written; `binding.d.ts` describes the native layer).

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

export interface ChildOptions {
  /** The child's level. Default: the parent's level when the child is made. */
  level?: LevelOrSilent
}

export interface LogStats {
  /** Bytes written to the destination. */
  writtenBytes: number
  /** Bytes held in memory now (queued or being written). */
  queuedBytes: number
  /** Lines dropped: queue full with `overflow: 'drop'`, destination failing, or after `close()`. */
  droppedLines: number
  /** Failed write attempts (each retry counts). */
  writeErrors: number
  /** Lines given up at close because the destination kept failing. */
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
   */
  flush(): Promise<boolean>
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

export interface InstallOptions {
  /** The service name on every line. Default: the app's package.json name. */
  service?: string
  log?: LoggerOptions
}

export interface Kit {
  log: Logger
  flush(): Promise<boolean>
  flushSync(): boolean
  close(): void
}

/** Sets prodkit up for this process. Idempotent: later calls return the same kit. */
export declare function install(options?: InstallOptions): Kit
/** A standalone logger with its own writer thread. */
export declare function createLogger(options?: LoggerOptions): Logger
/** Numeric values of the levels: trace 10, debug 20, info 30, warn 40, error 50, fatal 60. */
export declare const levels: Readonly<Record<LevelName, number>>
/** The version of @oj/prodkit. */
export declare const version: string
/** The installed kit's logger, or undefined before `install()`. */
export declare const log: Logger | undefined

declare const prodkit: {
  install: typeof install
  createLogger: typeof createLogger
  Logger: typeof Logger
  levels: typeof levels
  version: typeof version
  readonly log: Logger | undefined
}
export default prodkit

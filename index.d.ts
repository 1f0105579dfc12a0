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
  /**
   * Fields replaced by a censor on every line: paths such as `'user.password'`,
   * `'cards.*.number'`, `'headers["x-api-key"]'`, `'items[0].secret'`.
   */
  redact?: string[] | RedactOptions
  /** Fields encrypted on every line (AES-256-GCM, decrypted with `prodkit decrypt` or `decryptLine`). */
  encrypt?: EncryptOptions
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
  /** Writes what is queued and stops the writer; later lines are counted as dropped. */
  close(): void
  stats(): LogStats
  /** `'error'`: a write failed (reported once per failure episode; writes are retried). */
  on(event: 'error', listener: (err: LogWriteError) => void): this
  once(event: 'error', listener: (err: LogWriteError) => void): this
  off(event: 'error', listener: (err: LogWriteError) => void): this
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
  decryptLine: typeof decryptLine
  createKeyring: typeof createKeyring
  generateKey: typeof generateKey
  Keyring: typeof Keyring
  readonly log: Logger | undefined
}
export default prodkit

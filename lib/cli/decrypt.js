'use strict'
// `prodkit decrypt`: decrypts the sealed fields of log lines from files (plain or gzip)
// or stdin, streaming: memory stays bounded whatever the input size. Each line is
// written with its fields decrypted; a field that cannot be is marked inline with the
// reason, counted, and makes the exit code 1.

const fs = require('node:fs')
const zlib = require('node:zlib')
const { once } = require('node:events')
const { Readable, pipeline } = require('node:stream')
// Loaded when a command runs, not for its help (`prodkit help` needs no native addon).
const native = () => require('../native')
const crypt = () => require('../crypt')

const DEFAULT_KEY_ENV = 'PRODKIT_LOG_KEY'
const HELP = `Usage: prodkit decrypt [--key-env NAME | --key-file FILE [--key-id ID]]... [--paths p,q] [FILE...]

Writes each log line with its encrypted fields decrypted. Reads the FILEs (plain or
gzip, e.g. logs/app.2*.log.gz logs/app.log: rotated files, then the current one) in
order, or stdin when there is none (or for "-"). A rotated file given both plain and
compressed (X.log and X.log.gz, while compression runs) is read once, from X.log, and a
partial compression (X.log.gz.tmp) is never read: each line comes out once.

  --key-env NAME   a key from the environment variable NAME
  --key-file FILE  a key from FILE
  --key-id ID      the keyId the previous key was given in log.encrypt (when not the default)
  --paths p,q      decrypt only these fields (same syntax as log.encrypt.paths)
  -h, --help       print this help

Give several keys to read logs written across a key rotation: each field names its key.
With no key option, the key comes from $${DEFAULT_KEY_ENV}.

A field that cannot be decrypted becomes {"decryptError":"<reason>","ciphertext":"..."}
(reasons: unknown key id, wrong key, tampered (or moved from another field), malformed).
Exit code: 0, 1 if any field could not be decrypted, 2 for a usage or input error.
`

// The options the parser below accepts (the help names each: __test__/cli-help.test.js).
// Order matters on the command line (--key-id names the key before it), hence no parseArgs.
const OPTIONS = {
  'key-env': { type: 'string' },
  'key-file': { type: 'string' },
  'key-id': { type: 'string' },
  paths: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
}

class UsageError extends Error {}

function parseArgs (args, env) {
  const keys = []
  const paths = []
  const files = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const value = () => {
      if (i + 1 >= args.length) throw new UsageError(`${arg} needs a value`)
      return args[++i]
    }
    if (arg.startsWith('--') && arg !== '--' && !OPTIONS[arg.slice(2)]) throw new UsageError(`unknown option ${arg}`)
    switch (arg) {
      case '--key-env': {
        const name = value()
        const text = env[name]
        if (text === undefined || text.trim() === '') throw new UsageError(`the environment variable ${name} is not set or empty`)
        keys.push({ key: Buffer.from(text), source: `$${name}` })
        break
      }
      case '--key-file': {
        const file = value()
        try {
          keys.push({ key: fs.readFileSync(file), source: file })
        } catch (err) {
          throw new UsageError(`cannot read the key file ${file} (${err.code || err.message})`)
        }
        break
      }
      case '--key-id':
        if (keys.length === 0) throw new UsageError('--key-id names the key given just before it')
        keys[keys.length - 1].keyId = value()
        break
      case '--paths':
        paths.push(...splitPaths(value()))
        break
      case '--':
        files.push(...args.slice(i + 1))
        i = args.length
        break
      default:
        if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`)
        files.push(arg)
    }
  }
  if (keys.length === 0) {
    const text = env[DEFAULT_KEY_ENV]
    if (text === undefined || text.trim() === '') throw new UsageError(`no key: give --key-env or --key-file, or set ${DEFAULT_KEY_ENV}`)
    keys.push({ key: Buffer.from(text), source: `$${DEFAULT_KEY_ENV}` })
  }
  return { keys, paths, files: files.length ? files : ['-'] }
}

// "a,b[\"x,y\"]" -> ['a', 'b["x,y"]']: commas inside brackets belong to the path.
function splitPaths (text) {
  const out = []
  let depth = 0
  let quote = null
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = null
    } else if (c === '"' || c === "'") quote = c
    else if (c === '[') depth++
    else if (c === ']') depth--
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i))
      start = i + 1
    }
  }
  out.push(text.slice(start))
  return out.filter((p) => p !== '')
}

// The paths as the native filter takes them: [["user","email"],["cards",null,"number"]].
function filterJson (paths) {
  if (paths.length === 0) return undefined
  return JSON.stringify(paths.map((text) => {
    const parsed = require('../log/paths').parsePath(text)
    if (typeof parsed === 'string') throw new UsageError(`--paths: ${JSON.stringify(text)} is not a path (${parsed})`)
    return parsed.map((s) => (s.any ? null : s.key))
  }))
}

// The bytes of `source`, gunzipped when they start with the gzip magic number.
async function * decompressed (source) {
  const it = source[Symbol.asyncIterator]()
  const first = await it.next()
  if (first.done) return
  async function * all () {
    yield first.value
    for (;;) {
      const next = await it.next()
      if (next.done) return
      yield next.value
    }
  }
  if (first.value[0] !== 0x1f || first.value[1] !== 0x8b) {
    yield * all()
    return
  }
  const gunzip = zlib.createGunzip()
  pipeline(Readable.from(all()), gunzip, () => {})
  yield * gunzip
}

async function write (stdout, bytes) {
  if (bytes.length > 0 && !stdout.write(bytes)) await once(stdout, 'drain')
}

async function decryptFile (file, keyring, filter, { stdin, stdout }) {
  const source = file === '-' ? stdin : fs.createReadStream(file)
  const stream = new (native().DecryptStream)(keyring, filter)
  for await (const chunk of decompressed(source)) await write(stdout, stream.push(chunk))
  await write(stdout, stream.finish())
  return stream.stats()
}

function summary (total) {
  const reasons = Object.entries(total.reasons).map(([reason, n]) => `${n} ${reason}`).join(', ')
  return `prodkit decrypt: ${total.failed} field${total.failed === 1 ? '' : 's'} could not be decrypted (${reasons}); ` +
    `${total.decrypted} decrypted in ${total.lines} lines\n`
}

async function decrypt (args, io) {
  const { stdout, stderr, env } = io
  if (args.includes('--help') || args.includes('-h')) {
    stdout.write(HELP)
    return 0
  }
  let options
  let keyring
  let filter
  try {
    options = parseArgs(args, env)
    filter = filterJson(options.paths)
    // One key at a time first, so that an error names the key's source.
    for (const { key, keyId, source } of options.keys) {
      try {
        crypt().createKeyring([{ key, keyId }])
      } catch (err) {
        throw new UsageError(`the key from ${source} is not usable: ${err.message.replace(/^prodkit: key 1 of the keyring: /, '')}`)
      }
    }
    keyring = crypt().createKeyring(options.keys.map(({ key, keyId }) => ({ key, keyId })))
  } catch (err) {
    if (!(err instanceof UsageError) && err.code !== 'PRODKIT_KEY_INVALID') throw err
    stderr.write(`prodkit decrypt: ${err.message.replace(/^prodkit: /, '')}\n\n${HELP}`)
    return 2
  } finally {
    for (const k of options ? options.keys : []) k.key.fill(0)
  }
  const total = { lines: 0, decrypted: 0, failed: 0, reasons: {} }
  let inputError = false
  for (const file of readableFiles(options.files, stderr)) {
    try {
      const stats = await decryptFile(file, keyring, filter, io)
      total.lines += stats.lines
      total.decrypted += stats.decrypted
      total.failed += stats.failed
      for (const [reason, n] of Object.entries(stats.reasons)) total.reasons[reason] = (total.reasons[reason] || 0) + n
    } catch (err) {
      if (err.code === 'EPIPE') return 0
      inputError = true
      stderr.write(`prodkit decrypt: cannot read ${file === '-' ? 'stdin' : file}: ${err.code || err.message}\n`)
    }
  }
  if (total.failed > 0) stderr.write(summary(total))
  return inputError ? 2 : total.failed > 0 ? 1 : 0
}

// A rotation given both plain and compressed (X.log and X.log.gz: compression running, or
// a crash between the .gz rename and the plain file's removal) is read once, from the plain
// file, which is the authority; a partial compression (*.gz.tmp) is never read. Each skip
// is said on stderr.
function readableFiles (files, stderr) {
  const given = new Set(files)
  return files.filter((file) => {
    if (file.endsWith('.gz.tmp')) {
      stderr.write(`prodkit decrypt: skipping ${file}: an unfinished compression, not a log\n`)
      return false
    }
    if (file.endsWith('.gz') && given.has(file.slice(0, -3))) {
      stderr.write(`prodkit decrypt: skipping ${file}: ${file.slice(0, -3)} holds the same lines\n`)
      return false
    }
    return true
  })
}

module.exports = { decrypt, splitPaths, HELP, OPTIONS }

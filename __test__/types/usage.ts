// Uses every public function of @oj/prodkit with its types; checked by `tsc --noEmit`
// (see types.test.js). The lines marked @ts-expect-error must stay errors.
import prodkit, { install, createLogger, levels, version, Logger, LogStats, LoggerOptions, decryptLine, createKeyring, generateKey, Keyring } from '@oj/prodkit'

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
const enabled: boolean = log.isLevelEnabled('info')
const child: Logger = log.child({ requestId: 'r' }, { level: 'warn' })
child.info('child')
const value: number = log.levels.info + levels.error
const stats: LogStats = log.stats()
const written: number = stats.writtenBytes + stats.droppedLines
log.on('error', (err) => { const code: string = err.code; console.error(code) })
log.once('error', () => {})
log.off('error', () => {})
const synced: boolean = log.flushSync()
log.flush().then((ok: boolean) => { if (!ok) console.error('destination failing') })
log.close()

const kit = install({ service: 'typed', log: { level: 'warn' } })
kit.log.info('installed')
kit.flush().then(() => kit.close())
kit.flushSync()
const same: Logger | undefined = prodkit.log
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

// @ts-expect-error: not a level
log.level = 'verbose'
// @ts-expect-error: not an overflow policy
createLogger({ overflow: 'lose' })
// @ts-expect-error: not an option
install({ unknown: true })

console.log(enabled, value, written, synced, same, v, ids, clear)

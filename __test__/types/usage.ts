// Uses every public function of @oj/prodkit with its types; checked by `tsc --noEmit`
// (see types.test.js). The lines marked @ts-expect-error must stay errors.
import prodkit, { install, createLogger, levels, version, Logger, LogStats, LoggerOptions, RotateOptions, RotationStats } from '@oj/prodkit'

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

const rotate: RotateOptions = { size: '100MB', interval: 'daily', keep: 14, maxAge: '30d', compress: true }
const rotating = createLogger({ destination: '/tmp/prodkit-types-rotate.log', rotate, reopenOnSignal: 'SIGHUP' })
createLogger({ destination: '/tmp/prodkit-types-rotate.log', rotate: { size: 1 << 20, interval: 60_000, maxAge: 86_400_000 } })
createLogger({ destination: '/tmp/prodkit-types-rotate.log', rotate: false, reopenOnSignal: false })
rotating.reopen()
const rotation: RotationStats | undefined = rotating.stats().rotation
const rotations: number = rotation ? rotation.rotations + rotation.compressedBytes / rotation.compressMs : 0
rotating.close()

const kit = install({ service: 'typed', log: { level: 'warn' } })
kit.log.info('installed')
kit.flush().then(() => kit.close())
kit.flushSync()
const same: Logger | undefined = prodkit.log
const v: string = version + prodkit.version
prodkit.createLogger().info('default export')

// @ts-expect-error: not a level
log.level = 'verbose'
// @ts-expect-error: not an overflow policy
createLogger({ overflow: 'lose' })
// @ts-expect-error: not an option
install({ unknown: true })
// @ts-expect-error: not an interval
createLogger({ destination: '/tmp/x.log', rotate: { interval: 'weekly' } })
// @ts-expect-error: not a signal prodkit reopens on
createLogger({ destination: '/tmp/x.log', reopenOnSignal: 'SIGUSR1' })

console.log(enabled, value, written, synced, same, v, rotations)

'use strict'
// pino's test/metadata.test.js, ported side by side (__test__/pino-port/harness.js). pino's
// cases hand a stream marked Symbol.for('pino.metadata') the last call's logger, level,
// message, object and time before each write; prodkit writes its own destination (no
// stream to hand them to: docs/differences-from-pino.md, "pino(stream)"). Each case's
// line is compared here; its stream metadata assertions are skipped with that reason.
// Cases: 4; ported and passing: 4 (the lines); skipped with a reason: 4 (the metadata).

const { side } = require('./pino-port/harness')

const STREAM = { skip: 'pino(stream) metadata (lastLogger, lastLevel, lastMsg, lastObj, lastTime): prodkit takes a destination, not a stream — docs/differences-from-pino.md' }

side('metadata works (the line)', ({ make }) => { make({}).info({ hello: 'world' }, 'a msg') })
side('metadata works (stream metadata)', STREAM, () => {})
side('child loggers works (the line)', ({ make }) => { make({}).child({ hello: 'world' }).info({ from: 'child' }, 'a msg') })
side('child loggers works (stream metadata)', STREAM, () => {})
side('without object (the line)', ({ make }) => { make({}).info('a msg') })
side('without object (stream metadata)', STREAM, () => {})
side('without msg (the line)', ({ make }) => { make({}).info({ hello: 'world' }) })
side('without msg (stream metadata)', STREAM, () => {})

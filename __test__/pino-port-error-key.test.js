'use strict'
// pino's test/error-key.test.js, ported side by side (__test__/pino-port/harness.js): an
// error logged with a custom errorKey, with and without a serialiser for that key, is
// written as pino 10 writes it.
// Cases: 2; ported and passing: 2; skipped: 0.

const { side } = require('./pino-port/harness')

const err = new ReferenceError('test') // one error: the same stack for both

side('set the errorKey with error serializer', ({ make, lib }) => {
  make({ errorKey: 'error', serializers: { error: lib.stdSerializers.err } }).error(err)
})
side('set the errorKey without error serializer', ({ make }) => { make({ errorKey: 'error' }).error(err) })

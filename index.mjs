import prodkit from './index.js'

// Exactly the names index.d.ts declares (__test__/esm-exports.test.js checks it). `log` and
// `metrics` are not among them: they are getters, live only after install(), and an ES module
// binding would hold their value at import time (undefined). Read `prodkit.log` or `kit.log`.
export default prodkit
export const { install, createLogger, Logger, levels, stdTimeFunctions, stdSerializers, version, express, context, decryptLine, createKeyring, generateKey, Keyring, cluster, ready, graceful, health } = prodkit

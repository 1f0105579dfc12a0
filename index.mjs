import prodkit from './index.js'

export default prodkit
export const { install, createLogger, Logger, levels, version, express, decryptLine, createKeyring, generateKey, Keyring, cluster, ready, graceful, health } = prodkit

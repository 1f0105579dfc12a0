import prodkit from './index.js'

export default prodkit
export const { install, createLogger, Logger, levels, version, decryptLine, createKeyring, generateKey, Keyring } = prodkit

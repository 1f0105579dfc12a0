import prodkit from './index.js'

export default prodkit
export const { install, createLogger, Logger, levels, version, express, cluster, ready, graceful, health } = prodkit

'use strict'
// Express helpers: a request logger and a catch-all error handler. They use only the
// (req, res, next) contract, so they work with Express 4 and 5 (and plain connect).

const { requestLogger } = require('./request-logger')
const { errorHandler } = require('./error-handler')
const { metricsHandler } = require('./metrics-handler')

module.exports = { requestLogger, errorHandler, metricsHandler }

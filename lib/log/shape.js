'use strict'
// pino's hooks into a line's fields, on the general path only (lib/log/logger.js), in
// pino's order: mixin (merged by mixinMergeStrategy), formatters.log, then serializers.
// The app's functions may throw or return anything: a call never fails because of them;
// what went wrong is written in the line (prodkitShapeError) rather than lost.

const { applySerializers } = require('./serializers')

function isObject (value) {
  return typeof value === 'object' && value !== null
}

function reason (err) {
  try {
    return String(err && err.message)
  } catch {
    return 'unknown'
  }
}

// The fields of one line after mixin, formatters.log and serializers.
function shapeFields (compat, fields, level, logger) {
  let problem
  if (compat.mixin !== undefined) {
    try {
      const extra = compat.mixin(fields, level, logger)
      if (isObject(extra)) {
        fields = compat.mixinMergeStrategy !== undefined ? compat.mixinMergeStrategy(fields, extra) : Object.assign(extra, fields)
      } else if (extra !== undefined && extra !== null) problem = 'mixin returned no object'
    } catch (err) {
      problem = `mixin threw: ${reason(err)}`
    }
  }
  if (compat.logFormatter !== undefined) {
    try {
      const out = compat.logFormatter(fields)
      if (isObject(out)) fields = out
      else if (out === null || out === undefined) fields = {} // as pino: no fields
      else problem = 'formatters.log returned no object'
    } catch (err) {
      problem = `formatters.log threw: ${reason(err)}`
    }
  }
  if (!isObject(fields)) fields = {}
  if (compat.serializers) fields = applySerializers(fields, compat.serializers, compat.errorKey)
  return problem === undefined ? fields : { ...fields, prodkitShapeError: problem }
}

// formatters.bindings on the root logger's pid, hostname, name and base (pino does not
// apply it to child bindings); its result must be an object.
function shapeBindings (compat, bindings) {
  if (!compat || compat.bindingsFormatter === undefined) return bindings
  try {
    const out = compat.bindingsFormatter(bindings)
    if (out === null || out === undefined) return {} // as pino: no root bindings
    return isObject(out) ? out : { prodkitShapeError: 'formatters.bindings returned no object' }
  } catch (err) {
    return { prodkitShapeError: `formatters.bindings threw: ${reason(err)}` }
  }
}

module.exports = { shapeFields, shapeBindings }

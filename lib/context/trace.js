'use strict'
// Trace correlation: while an OpenTelemetry span is active and valid, log lines carry its
// `trace_id`, `span_id` and `trace_flags`, written as @opentelemetry/instrumentation-pino
// writes them (ids as the span context holds them, flags as `0` + hex: "01" for sampled).
//
// prodkit never requires @opentelemetry/api (no dependency, no cost for apps without it):
// the API keeps its registered globals on `globalThis[Symbol.for('opentelemetry.js.api.1')]`
// (@opentelemetry/api src/internal/global-utils.ts), among them the context manager an SDK
// registers (`context`). The active span is the context's value under the API's span key,
// `Symbol.for('OpenTelemetry Context Key SPAN')` (createContextKey uses Symbol.for). With
// no global, or no context manager, or no valid span, nothing is added. Never throws.

const API_KEY = Symbol.for('opentelemetry.js.api.1')
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN')
const TRACE_KEYS = ['trace_id', 'span_id', 'trace_flags']
const TRACE_ID = /^[0-9a-f]{32}$/i
const SPAN_ID = /^[0-9a-f]{16}$/i
const INVALID_TRACE_ID = '0'.repeat(32)
const INVALID_SPAN_ID = '0'.repeat(16)

// Each span context's fields, made once: the lines of one span share them (and, through
// `entries`, their line heads: lib/context/index.js).
const bySpanContext = new WeakMap()

// The OTel API's globals, or undefined: the cheap test made for every line.
function otelApi () {
  return globalThis[API_KEY]
}

// The active valid span's fields, or null: `record` ({ trace_id, span_id, trace_flags }),
// `text`, the same as a line fragment, and `entries`, per logger (lib/context/index.js).
function activeTraceFields (api) {
  try {
    const manager = api.context
    if (manager === undefined || manager === null || typeof manager.active !== 'function') return null
    const context = manager.active()
    if (context === undefined || context === null || typeof context.getValue !== 'function') return null
    const span = context.getValue(SPAN_KEY)
    if (span === undefined || span === null || typeof span.spanContext !== 'function') return null
    const sc = span.spanContext()
    if (sc === undefined || sc === null) return null
    if (typeof sc !== 'object') return null
    const { traceId, spanId, traceFlags } = sc
    const cached = bySpanContext.get(sc)
    if (cached !== undefined && cached.traceId === traceId && cached.spanId === spanId && cached.traceFlags === traceFlags) return cached.fields
    let fields = null
    if (typeof traceId === 'string' && TRACE_ID.test(traceId) && traceId !== INVALID_TRACE_ID &&
        typeof spanId === 'string' && SPAN_ID.test(spanId) && spanId !== INVALID_SPAN_ID) {
      const flags = typeof traceFlags === 'number' ? traceFlags : 0
      const record = { trace_id: traceId, span_id: spanId, trace_flags: `0${flags.toString(16)}` }
      // The ids are hex and the flags a number's hex: no escaping needed.
      fields = { record, text: `,"trace_id":"${traceId}","span_id":"${spanId}","trace_flags":"${record.trace_flags}"`, entries: new WeakMap() }
    }
    bySpanContext.set(sc, { traceId, spanId, traceFlags, fields })
    return fields
  } catch {
    return null
  }
}

module.exports = { otelApi, activeTraceFields, TRACE_KEYS }

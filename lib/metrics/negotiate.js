'use strict'
// Which exposition format a scraper asked for, from its Accept header: OpenMetrics 1.0.0
// when `application/openmetrics-text` is acceptable (q > 0) and not ranked below
// `text/plain` (Prometheus asks for it first), else Prometheus text 0.0.4 (also for no
// header, `*/*`, or a header that cannot be parsed).

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

function negotiate (accept) {
  let om = -1
  let text = -1
  if (typeof accept === 'string') {
    for (const part of accept.split(',')) {
      const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase())
      let q = 1
      for (const p of params) {
        if (p.startsWith('q=')) q = Number(p.slice(2))
      }
      if (!(q >= 0 && q <= 1)) continue
      if (type === 'application/openmetrics-text') om = Math.max(om, q)
      else if (type === 'text/plain') text = Math.max(text, q)
    }
  }
  return om > 0 && om >= text
    ? { format: 'openmetrics', contentType: OPENMETRICS_CONTENT_TYPE }
    : { format: 'prometheus', contentType: CONTENT_TYPE }
}

module.exports = { negotiate, CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE }

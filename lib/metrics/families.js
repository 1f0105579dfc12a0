'use strict'
// Metric families in one plain shape, whatever produced them (app metrics, runtime
// metrics, a worker's report), and their exposition text in both formats a scraper asks for:
// Prometheus text 0.0.4 and OpenMetrics 1.0.0.
//
//   { name, help, type: 'counter' | 'gauge', samples: [{ labels, value, exemplar? }] }
//   { name, help, type: 'histogram', buckets: [le...], samples: [{ labels, counts, sum, count, exemplars? }] }
//   { name, help, type: 'summary', percentiles: [q...], samples: [{ labels, sum, count, quantiles?, sketch }] }
//
// `labels` is an object of strings; histogram `counts` are per bucket (not cumulative),
// with one more entry for +Inf; `exemplars[i]` is bucket i's ({ labels, value, timestamp }).
// A summary's `quantiles` are computed from its `sketch` when absent (a merged summary).
//
// Render options: `prefix` goes before every family name; `defaultLabels` go on every
// series (a series' own label of the same name wins); `openMetrics` writes OpenMetrics:
// counter families named without `_total` (their samples keep it), `# UNIT` for names
// ending in a base unit, exemplars on counters and histogram buckets, `le` and `quantile`
// values in canonical form (1.0, +Inf), a `_created` line after each counter, histogram and
// summary series (its `created`, else the `created` render option: the process's start),
// and `# EOF`.

const { quantilesOf, mergePlain, emptyBins } = require('./sketch')

const UNITS = ['seconds', 'bytes']

const { escapeLabel, pairsOf } = require('./wire')

function escapeHelp (help, openMetrics) {
  return openMetrics
    ? help.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c))
    : help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

// OpenMetrics' canonical form of a number, required for `le` and `quantile` label values
// (the form of Go's and Python's clients): the shortest digits that read back the same,
// with a decimal point (1.0, 0.005, 100000.0), in exponent form below 1e-4 and from 1e6
// (1e-05, 2.5e+06), and +Inf, -Inf, NaN.
function canonicalNumber (value) {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  if (value === 0) return '0.0'
  const exp = value.toExponential()
  const e = exp.indexOf('e')
  const power = Number(exp.slice(e + 1))
  if (power < -4 || power >= 6) return exp.slice(0, e) + 'e' + (power < 0 ? '-' : '+') + String(Math.abs(power)).padStart(2, '0')
  const text = String(value)
  return text.includes('.') ? text : text + '.0'
}

// OpenMetrics `_created` lines: a series' creation time, or the render's fallback (the
// process's start) for series that do not know theirs.
function createdLine (name, plain, created, fallback) {
  const at = created === undefined ? fallback : created
  return at === undefined ? '' : name + '_created' + plain + ' ' + at.toFixed(3) + '\n'
}

function formatNumber (value) {
  if (Number.isFinite(value)) return String(value)
  if (Number.isNaN(value)) return 'NaN'
  return value > 0 ? '+Inf' : '-Inf'
}

// The default labels a series does not carry, as `k="v"` pairs ('' for none): `has(name)`
// says whether the series has a label of that name (its own wins).
function defaultPairs (defaults, has) {
  let text = ''
  if (defaults !== null) {
    for (const key in defaults) if (!has(key)) text += (text ? ',' : '') + key + '="' + escapeLabel(defaults[key]) + '"'
  }
  return text
}

function joinPairs (a, b) {
  return a && b ? a + ',' + b : a || b
}

// The inside of a series' braces (no braces): default labels, then its own.
function labelPairs (labels, defaults) {
  const own = pairsOf(labels)
  return defaults === null ? own : joinPairs(defaultPairs(defaults, (key) => labels[key] !== undefined), own)
}

// `pairs` from labelPairs, plus `extra` (e.g. le="0.1"), in braces; '' for none.
function braces (pairs, extra) {
  if (extra) return pairs ? '{' + pairs + ',' + extra + '}' : '{' + extra + '}'
  return pairs ? '{' + pairs + '}' : ''
}

function labelText (labels, extra, defaults) {
  return braces(labelPairs(labels, defaults), extra)
}

function exemplarText (exemplar) {
  if (!exemplar) return ''
  return ` # ${labelText(exemplar.labels, '', null) || '{}'} ${formatNumber(exemplar.value)} ${exemplar.timestamp.toFixed(3)}`
}

// The OpenMetrics family name and unit of a family.
function openMetricsName (name, type) {
  const base = type === 'counter' && name.endsWith('_total') ? name.slice(0, -6) : name
  const unit = UNITS.find((u) => base.endsWith('_' + u))
  return { base, unit }
}

function header (name, help, type, openMetrics) {
  let out = ''
  if (openMetrics) {
    const { base, unit } = openMetricsName(name, type)
    out += `# HELP ${base} ${escapeHelp(help, true)}\n# TYPE ${base} ${type}\n`
    if (unit) out += `# UNIT ${base} ${unit}\n`
    return out
  }
  return `# HELP ${name} ${escapeHelp(help, false)}\n# TYPE ${name} ${type}\n`
}

// A family's series as the renderer reads them, from either shape that holds them: the
// plain one above (LocalSeries) and the one the cluster merge makes (MergedSeries). Per
// series i: its label pairs with the default labels it does not carry (`pairs`), and its
// numbers. `exemplar(i)`: a counter's exemplar, or a histogram's per bucket.
class LocalSeries {
  constructor (family, defaults) {
    this.samples = family.samples
    this.length = family.samples.length
    this.percentiles = family.percentiles
    this.defaults = defaults
  }

  pairs (i) { return labelPairs(this.samples[i].labels, this.defaults) }
  value (i) { return this.samples[i].value }
  sum (i) { return this.samples[i].sum }
  count (i) { return this.samples[i].count }
  bucket (i, k) { return this.samples[i].counts[k] }
  quantiles (i) {
    const s = this.samples[i]
    return s.quantiles || quantilesOf(mergePlain(emptyBins(), s.sketch), this.percentiles)
  }

  exemplar (i) {
    const s = this.samples[i]
    return s.exemplars !== undefined ? s.exemplars : s.exemplar
  }

  created (i) { return this.samples[i].created }
}

// A family merged by lib/metrics/cluster.js (mergeWire): label pairs already rendered, and
// values as they lie (histogram: [sum, count, ...counts]; summary: { sum, count, bins }).
class MergedSeries {
  constructor (m, defaults) {
    this.keys = m.keys
    this.names = m.names
    this.values = m.values
    this.exemplars = m.exemplars
    this.createdAt = m.created
    this.extra = m.extra
    this.length = m.keys.length
    this.histogram = m.type === 'histogram'
    this.defaults = defaults
    // The default labels a series carries, by its label names (one array per set of names).
    this.prefixes = null
  }

  pairs (i) {
    if (this.defaults === null) return this.keys[i]
    const names = this.names[i]
    if (this.prefixes === null) this.prefixes = new Map()
    let prefix = this.prefixes.get(names)
    if (prefix === undefined) {
      prefix = defaultPairs(this.defaults, (key) => names.includes(key))
      this.prefixes.set(names, prefix)
    }
    return joinPairs(prefix, this.keys[i])
  }

  value (i) { return this.values[i] }
  sum (i) { const v = this.values[i]; return this.histogram ? v[0] : v.sum }
  count (i) { const v = this.values[i]; return this.histogram ? v[1] : v.count }
  bucket (i, k) { return this.values[i][k + 2] }
  quantiles (i) { return quantilesOf(this.values[i].bins, this.extra) }
  exemplar (i) { return this.exemplars[i] }
  created (i) { return this.createdAt[i] }
}

function defaultsOf (options) {
  return options.defaultLabels && Object.keys(options.defaultLabels).length ? options.defaultLabels : null
}

function renderFamily (family, options = {}) {
  const extra = family.type === 'histogram' ? family.buckets : family.percentiles
  return renderSeries(family, extra, new LocalSeries(family, defaultsOf(options)), options)
}

function renderMergedFamily (m, options = {}) {
  return renderSeries(m, m.extra, new MergedSeries(m, defaultsOf(options)), options)
}

// The exposition text of one family (name, help, type) whose series `series` reads (see
// LocalSeries); `extra`: a histogram's buckets or a summary's percentiles.
function renderSeries ({ name: familyName, help, type }, extra, series, options) {
  const om = options.openMetrics === true
  const name = (options.prefix || '') + familyName
  let out = header(name, help, type, om)
  const number = om ? canonicalNumber : formatNumber
  const fallback = om ? options.created : undefined
  if (type === 'histogram' || type === 'summary') {
    const histogram = type === 'histogram'
    const les = histogram ? extra.map((le) => 'le="' + number(le) + '"').concat('le="+Inf"') : null
    for (let i = 0; i < series.length; i++) {
      const pairs = series.pairs(i)
      if (histogram) {
        const ex = om ? series.exemplar(i) : undefined
        // The bucket lines' start, built once per series (`braces` for each would build it
        // again for every bucket).
        const open = name + (pairs ? '_bucket{' + pairs + ',' : '_bucket{')
        let cumulative = 0
        for (let k = 0; k < les.length; k++) {
          cumulative += series.bucket(i, k)
          out += open + les[k] + '} ' + cumulative + (ex ? exemplarText(ex[k]) : '') + '\n'
        }
      } else {
        const values = series.quantiles(i)
        for (let k = 0; k < extra.length; k++) {
          out += name + braces(pairs, 'quantile="' + number(extra[k]) + '"') + ' ' + formatNumber(values[k]) + '\n'
        }
      }
      const plain = braces(pairs, '')
      out += name + '_sum' + plain + ' ' + formatNumber(series.sum(i)) + '\n' + name + '_count' + plain + ' ' + series.count(i) + '\n'
      if (om) out += createdLine(name, plain, series.created(i), fallback)
    }
  } else {
    const counter = om && type === 'counter'
    const sampleName = counter && !name.endsWith('_total') ? name + '_total' : name
    const base = counter ? sampleName.slice(0, -6) : name
    for (let i = 0; i < series.length; i++) {
      const pairs = series.pairs(i)
      const e = om ? series.exemplar(i) : undefined
      out += (pairs ? sampleName + '{' + pairs + '} ' : sampleName + ' ') + formatNumber(series.value(i)) + (e ? exemplarText(e) : '') + '\n'
      if (counter) out += createdLine(base, braces(pairs, ''), series.created(i), fallback)
    }
  }
  return out
}

// Plain families and merged ones (lib/metrics/cluster.js), in order.
function render (families, options) {
  let out = ''
  for (const family of families) out += family.keys !== undefined ? renderMergedFamily(family, options) : renderFamily(family, options)
  return out
}

// Prometheus text from elsewhere (the Rust sampler's) with the same render options applied:
// prefixed names, default labels on every series, and for OpenMetrics counter families
// renamed without `_total`, `# UNIT` lines and HELP quotes escaped. No `# EOF` is added.
function decorateText (text, options = {}) {
  const prefix = options.prefix || ''
  const defaults = defaultsOf(options)
  const om = options.openMetrics === true
  if (!prefix && !defaults && !om) return text
  const lines = text.split('\n')
  let out = ''
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === '') continue
    if (line.startsWith('# HELP ')) {
      const space = line.indexOf(' ', 7)
      const name = line.slice(7, space)
      const next = lines[i + 1] || ''
      const type = next.startsWith(`# TYPE ${name} `) ? next.slice(8 + name.length) : 'untyped'
      const help = line.slice(space + 1)
      if (om) {
        const { base, unit } = openMetricsName(prefix + name, type)
        out += `# HELP ${base} ${help.replace(/"/g, '\\"')}\n# TYPE ${base} ${type}\n`
        if (unit) out += `# UNIT ${base} ${unit}\n`
      } else {
        out += `# HELP ${prefix}${name} ${help}\n# TYPE ${prefix}${name} ${type}\n`
      }
      if (type !== 'untyped') i++
      continue
    }
    if (line.startsWith('#')) {
      out += line + '\n'
      continue
    }
    const brace = line.indexOf('{')
    const space = line.indexOf(' ')
    if (brace !== -1 && brace < space) {
      const close = line.lastIndexOf('}')
      const own = line.slice(brace + 1, close)
      const extra = defaultPairs(defaults, (key) => own.startsWith(key + '=') || own.includes(',' + key + '='))
      out += `${prefix}${line.slice(0, brace)}{${joinPairs(extra, own)}${line.slice(close)}\n`
    } else {
      out += `${prefix}${line.slice(0, space)}${labelText({}, '', defaults)}${line.slice(space)}\n`
    }
  }
  return out
}

module.exports = { render, renderFamily, decorateText, escapeLabel, formatNumber, canonicalNumber }

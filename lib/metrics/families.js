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

const { escapeLabel } = require('./wire')

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

// The inside of a series' braces (no braces): default labels, then its own.
function labelPairs (labels, defaults) {
  let text = ''
  if (defaults !== null) {
    for (const key in defaults) if (labels[key] === undefined) text += (text ? ',' : '') + key + '="' + escapeLabel(defaults[key]) + '"'
  }
  for (const key in labels) text += (text ? ',' : '') + key + '="' + escapeLabel(labels[key]) + '"'
  return text
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

function renderFamily (family, options = {}) {
  const om = options.openMetrics === true
  const defaults = options.defaultLabels && Object.keys(options.defaultLabels).length ? options.defaultLabels : null
  const name = (options.prefix || '') + family.name
  let out = header(name, family.help, family.type, om)
  const number = om ? canonicalNumber : formatNumber
  const fallback = om ? options.created : undefined
  if (family.type === 'histogram') {
    const les = family.buckets.map((le) => 'le="' + number(le) + '"')
    les.push('le="+Inf"')
    for (const s of family.samples) {
      const pairs = labelPairs(s.labels, defaults)
      const ex = om && s.exemplars ? s.exemplars : null
      let cumulative = 0
      for (let i = 0; i < les.length; i++) {
        cumulative += s.counts[i]
        out += name + '_bucket' + braces(pairs, les[i]) + ' ' + cumulative + (ex ? exemplarText(ex[i]) : '') + '\n'
      }
      const plain = braces(pairs, '')
      out += name + '_sum' + plain + ' ' + formatNumber(s.sum) + '\n' + name + '_count' + plain + ' ' + s.count + '\n'
      if (om) out += createdLine(name, plain, s.created, fallback)
    }
  } else if (family.type === 'summary') {
    for (const s of family.samples) {
      const pairs = labelPairs(s.labels, defaults)
      const values = s.quantiles || quantilesOf(mergePlain(emptyBins(), s.sketch), family.percentiles)
      family.percentiles.forEach((q, i) => {
        out += name + braces(pairs, 'quantile="' + number(q) + '"') + ' ' + formatNumber(values[i]) + '\n'
      })
      const plain = braces(pairs, '')
      out += name + '_sum' + plain + ' ' + formatNumber(s.sum) + '\n' + name + '_count' + plain + ' ' + s.count + '\n'
      if (om) out += createdLine(name, plain, s.created, fallback)
    }
  } else {
    const counter = om && family.type === 'counter'
    const sampleName = counter && !name.endsWith('_total') ? name + '_total' : name
    const base = counter ? sampleName.slice(0, -6) : name
    for (const s of family.samples) {
      const plain = braces(labelPairs(s.labels, defaults), '')
      out += sampleName + plain + ' ' + formatNumber(s.value) + (om && s.exemplar ? exemplarText(s.exemplar) : '') + '\n'
      if (counter) out += createdLine(base, plain, s.created, fallback)
    }
  }
  return out
}

// A family merged by lib/metrics/cluster.js (mergeWire): the same text renderFamily would
// write for it, from its rendered label strings and numbers as they are.
function renderMergedFamily (m, options = {}) {
  const om = options.openMetrics === true
  const defaults = options.defaultLabels && Object.keys(options.defaultLabels).length ? options.defaultLabels : null
  const name = (options.prefix || '') + m.name
  let out = header(name, m.help, m.type, om)
  const keys = m.keys
  // The default labels a series carries: those its own labels do not have (by label names).
  let prefixes = null
  const pairsOf = (i) => {
    if (defaults === null) return keys[i]
    const names = m.names[i]
    if (prefixes === null) prefixes = new Map()
    let prefix = prefixes.get(names)
    if (prefix === undefined) {
      prefix = ''
      for (const key in defaults) if (!names.includes(key)) prefix += (prefix ? ',' : '') + key + '="' + escapeLabel(defaults[key]) + '"'
      prefixes.set(names, prefix)
    }
    return prefix && keys[i] ? prefix + ',' + keys[i] : prefix || keys[i]
  }
  const number = om ? canonicalNumber : formatNumber
  const fallback = om ? options.created : undefined
  if (m.type === 'histogram') {
    const les = m.extra.map((le) => 'le="' + number(le) + '"')
    les.push('le="+Inf"')
    const bucketName = name + '_bucket'
    for (let i = 0; i < keys.length; i++) {
      const pairs = pairsOf(i)
      const v = m.values[i]
      const ex = om && m.exemplars[i] !== undefined ? m.exemplars[i] : null
      const open = pairs ? bucketName + '{' + pairs + ',' : bucketName + '{'
      let cumulative = 0
      for (let k = 0; k < les.length; k++) {
        cumulative += v[k + 2]
        out += open + les[k] + '} ' + cumulative + (ex ? exemplarText(ex[k]) : '') + '\n'
      }
      const plain = pairs ? '{' + pairs + '}' : ''
      out += name + '_sum' + plain + ' ' + formatNumber(v[0]) + '\n' + name + '_count' + plain + ' ' + v[1] + '\n'
      if (om) out += createdLine(name, plain, m.created[i], fallback)
    }
  } else if (m.type === 'summary') {
    for (let i = 0; i < keys.length; i++) {
      const pairs = pairsOf(i)
      const v = m.values[i]
      const values = quantilesOf(v.bins, m.extra)
      m.extra.forEach((q, k) => {
        out += name + braces(pairs, 'quantile="' + number(q) + '"') + ' ' + formatNumber(values[k]) + '\n'
      })
      const plain = braces(pairs, '')
      out += name + '_sum' + plain + ' ' + formatNumber(v.sum) + '\n' + name + '_count' + plain + ' ' + v.count + '\n'
      if (om) out += createdLine(name, plain, m.created[i], fallback)
    }
  } else {
    const counter = om && m.type === 'counter'
    const sampleName = counter && !name.endsWith('_total') ? name + '_total' : name
    const base = counter ? sampleName.slice(0, -6) : name
    for (let i = 0; i < keys.length; i++) {
      const pairs = pairsOf(i)
      const e = om ? m.exemplars[i] : undefined
      out += (pairs ? sampleName + '{' + pairs + '} ' : sampleName + ' ') + formatNumber(m.values[i]) + (e ? exemplarText(e) : '') + '\n'
      if (counter) out += createdLine(base, pairs ? '{' + pairs + '}' : '', m.created[i], fallback)
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
  const defaults = options.defaultLabels && Object.keys(options.defaultLabels).length ? options.defaultLabels : null
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
      let extra = ''
      if (defaults !== null) {
        for (const key in defaults) {
          if (!own.startsWith(key + '=') && !own.includes(',' + key + '=')) extra += `${key}="${escapeLabel(defaults[key])}",`
        }
      }
      out += `${prefix}${line.slice(0, brace)}{${extra}${own}${line.slice(close)}\n`
    } else {
      out += `${prefix}${line.slice(0, space)}${labelText({}, '', defaults)}${line.slice(space)}\n`
    }
  }
  return out
}

module.exports = { render, renderFamily, decorateText, escapeLabel, formatNumber, canonicalNumber }

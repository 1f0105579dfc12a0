'use strict'
// Metric families in one plain shape, whatever produced them (app metrics, runtime
// metrics, a worker's report), and their Prometheus exposition text.
//
//   { name, help, type: 'counter' | 'gauge', samples: [{ labels, value }] }
//   { name, help, type: 'histogram', buckets: [le...], samples: [{ labels, counts, sum, count }] }
//
// `labels` is an object of strings; histogram `counts` are per bucket (not cumulative),
// with one more entry for +Inf.

function escapeLabel (value) {
  return String(value).replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c))
}

function formatNumber (value) {
  if (Number.isFinite(value)) return String(value)
  if (Number.isNaN(value)) return 'NaN'
  return value > 0 ? '+Inf' : '-Inf'
}

function labelText (labels, extra) {
  let text = ''
  for (const key in labels) text += (text ? ',' : '') + `${key}="${escapeLabel(labels[key])}"`
  if (extra) text += (text ? ',' : '') + extra
  return text ? `{${text}}` : ''
}

function renderFamily (family) {
  let out = `# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${family.name} ${family.type}\n`
  if (family.type === 'histogram') {
    for (const s of family.samples) {
      let cumulative = 0
      family.buckets.forEach((le, i) => {
        cumulative += s.counts[i]
        out += `${family.name}_bucket${labelText(s.labels, `le="${formatNumber(le)}"`)} ${cumulative}\n`
      })
      cumulative += s.counts[family.buckets.length]
      out += `${family.name}_bucket${labelText(s.labels, 'le="+Inf"')} ${cumulative}\n`
      out += `${family.name}_sum${labelText(s.labels)} ${formatNumber(s.sum)}\n`
      out += `${family.name}_count${labelText(s.labels)} ${s.count}\n`
    }
  } else {
    for (const s of family.samples) out += `${family.name}${labelText(s.labels)} ${formatNumber(s.value)}\n`
  }
  return out
}

function render (families) {
  let out = ''
  for (const family of families) out += renderFamily(family)
  return out
}

module.exports = { render, renderFamily, escapeLabel, formatNumber }

'use strict'
// Field paths of log.redact and log.encrypt, parsed once at creation:
//   user.email            dotted keys
//   cards.*.number        * is any key (or array index) at one level
//   headers["x-api-key"]  brackets for keys with dots, dashes or other characters
//   cards[0].number       array indexes (also cards.0.number)
// A path is a list of segments: { key: 'user' } or { any: true }.

const IDENT = /[A-Za-z_$][\w$]*|\d+/y

// The segments of `text`, or a string saying what is wrong with it.
function parsePath (text) {
  if (typeof text !== 'string' || text === '') return 'not a non-empty string'
  const segments = []
  let i = 0
  while (i < text.length) {
    if (text[i] === '[') {
      const parsed = bracket(text, i)
      if (typeof parsed === 'string') return parsed
      segments.push(parsed.segment)
      i = parsed.end
      continue
    }
    if (segments.length > 0) {
      if (text[i] !== '.') return `unexpected ${JSON.stringify(text[i])} at ${i}`
      i++
    }
    if (text[i] === '*') {
      segments.push({ any: true })
      i++
      continue
    }
    IDENT.lastIndex = i
    const match = IDENT.exec(text)
    if (match === null) return `expected a key at ${i}`
    segments.push({ key: match[0] })
    i += match[0].length
  }
  return segments
}

// `[*]`, `[12]`, `["any key"]` (a JSON string), `['any key']` or `[`any key`]` at text[i].
function bracket (text, i) {
  const close = (at, segment) => (text[at] === ']' ? { segment, end: at + 1 } : `expected ] at ${at}`)
  const c = text[i + 1]
  if (c === '*') return close(i + 2, { any: true })
  if (c === '"') {
    let j = i + 2
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
    let key
    try {
      key = JSON.parse(text.slice(i + 1, j + 1))
    } catch {
      return `bad quoted key at ${i + 1}`
    }
    return close(j + 1, { key })
  }
  if (c === "'" || c === '`') {
    const j = text.indexOf(c, i + 2)
    if (j === -1) return `unterminated quoted key at ${i + 1}`
    return close(j + 1, { key: text.slice(i + 2, j) })
  }
  const digits = /\d+/y
  digits.lastIndex = i + 1
  const match = digits.exec(text)
  if (match === null) return `expected *, an index or a quoted key at ${i + 1}`
  return close(i + 1 + match[0].length, { key: match[0] })
}

module.exports = { parsePath }

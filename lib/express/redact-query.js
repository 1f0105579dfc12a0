'use strict'
// Query-string parameters redacted by name, in a logged URL and in a parsed query object,
// so that a token passed as `?access_token=...` never reaches the log. Names match
// case-insensitively; the value becomes '[Redacted]', the name and the order of the
// parameters stay. requestLogger() sets the list it uses on the request (kRedactQuery),
// so that errorHandler() redacts the same names in its own line.

const CENSOR = '[Redacted]'
const DEFAULT_REDACT_QUERY = [
  'access_token', 'refresh_token', 'id_token', 'token', 'code', 'client_secret', 'api_key',
  'apikey', 'key', 'password', 'passwd', 'secret', 'signature', 'sig', 'x-amz-signature',
  'x-amz-credential', 'x-amz-security-token'
]
// Shared by name, as two copies of prodkit may meet.
const kRedactQuery = Symbol.for('@oj/prodkit.express.redactQuery')
const DEFAULT_SET = new Set(DEFAULT_REDACT_QUERY)

function nameOf (raw) {
  if (!/[%+A-Z]/.test(raw)) return raw
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase()
  } catch {
    return raw.toLowerCase()
  }
}

// `url` with the values of the parameters named in `names` (a Set of lower-case names)
// replaced; the same string when there are none.
function redactUrl (url, names = DEFAULT_SET) {
  if (typeof url !== 'string') return url
  const q = url.indexOf('?')
  if (q === -1 || names.size === 0) return url
  const hash = url.indexOf('#', q)
  const query = hash === -1 ? url.slice(q + 1) : url.slice(q + 1, hash)
  let changed = false
  const parts = query.split('&').map((part) => {
    const eq = part.indexOf('=')
    const name = eq === -1 ? part : part.slice(0, eq)
    // `token[x]=...` (the qs syntax) is redacted by its top-level name.
    const bracket = name.indexOf('[')
    const top = bracket > 0 ? name.slice(0, bracket) : name
    if (eq === -1 || !names.has(nameOf(top))) return part
    changed = true
    return `${name}=${CENSOR}`
  })
  if (!changed) return url
  return url.slice(0, q + 1) + parts.join('&') + (hash === -1 ? '' : url.slice(hash))
}

// A copy of a parsed query object with the named parameters' values replaced; the same
// object when none is present.
function redactQueryObject (query, names = DEFAULT_SET) {
  if (query === null || typeof query !== 'object' || names.size === 0) return query
  let copy = null
  for (const key of Object.keys(query)) {
    if (names.has(key.toLowerCase())) {
      if (copy === null) copy = { ...query }
      copy[key] = CENSOR
    }
  }
  return copy === null ? query : copy
}

module.exports = { redactUrl, redactQueryObject, kRedactQuery, DEFAULT_REDACT_QUERY, CENSOR }

'use strict'
// log.redact and log.encrypt on the JS thread: the configured paths are compiled once
// into a tree of small functions; per line, they copy only the objects on the way to a
// matched field (the app's objects are never changed) and
//   - redact: put the censor there (or nothing, with remove: true);
//   - encrypt: put a placeholder there and the value's JSON text in the line's table of
//     sealed fields. The writer thread encrypts the value and replaces the placeholder
//     (the batch format is in src/log/chunk.rs): AES never runs on the JS thread.
// An object without any configured path costs a few property reads, and is serialised
// as it is.

const { parsePath } = require('./paths')
const { sanitizeValue, safeStringify, mergeFragment, isError } = require('./serialize')

// Batch format markers for sealed fields (src/log/chunk.rs).
const SEAL_OPEN = '\u0006'
const SEAL_SEP = '\u0007'
const SEAL_CLOSE = '\u0008'
const REDACT = 2
const SEAL = 1
// An array index as JSON.stringify writes it, so that the path of a field in an array
// matches the one the decrypter sees.
const INDEX = /^(?:0|[1-9]\d{0,14})$/
const LINE_IDS = Array.from({ length: 64 }, (_, i) => i.toString(36))
// The start of a line's table entry for each of those ids, made once.
const LINE_ENTRY = LINE_IDS.map((id) => SEAL_OPEN + id + SEAL_SEP)
// Written by Rust-made lines (queue notices) in place of a sealed field of `base`.
const NOTICE_CENSOR = '[Redacted]'
const hasOwn = Object.prototype.hasOwnProperty

// Ids of sealed fields in bindings: unique in the process, so that a child's fields
// never take its parent's ids in the shared line head.
let bindingIds = 0

function node () {
  return { action: 0, keys: new Map(), any: null }
}

// Adds a path to the tree. A field matched by both lists is redacted.
function insert (root, segments, action) {
  let at = root
  for (const segment of segments) {
    if (segment.any) at = at.any || (at.any = node())
    else {
      if (!at.keys.has(segment.key)) at.keys.set(segment.key, node())
      at = at.keys.get(segment.key)
    }
  }
  at.action = Math.max(at.action, action)
}

// A new tree matching what `a` or `b` matches (either may be null).
function union (a, b) {
  const out = node()
  for (const n of [a, b]) {
    if (!n) continue
    out.action = Math.max(out.action, n.action)
    for (const [key, child] of n.keys) out.keys.set(key, union(out.keys.get(key) || null, child))
    if (n.any) out.any = union(out.any, n.any)
  }
  return out
}

// A `*` beside fixed keys also applies under each fixed key: fold it into them, so that
// every key meets exactly one subtree.
function normalize (n) {
  if (n.any) for (const [key, child] of n.keys) n.keys.set(key, union(child, n.any))
  for (const child of n.keys.values()) normalize(child)
  if (n.any) normalize(n.any)
  return n
}

class FieldProtection {
  // redact: { paths, censor, remove } | undefined; encrypt: { paths } | undefined;
  // token: the random part of placeholders; limit: maxStringLength.
  constructor ({ redact, encrypt, token, limit }) {
    const root = node()
    for (const text of redact ? redact.paths : []) insert(root, parsePath(text), REDACT)
    for (const text of encrypt ? encrypt.paths : []) insert(root, parsePath(text), SEAL)
    this.censor = redact && !redact.remove ? redact.censor : undefined
    // pino's censor function (value, path): then every key on the way is tracked.
    this.censorFn = typeof this.censor === 'function' ? this.censor : undefined
    this.limit = limit
    this.placeholder = SEAL_OPEN + (token || '')
    this.table = ''
    this.count = 0
    this.forBindings = false
    this.forNotice = false
    // JSON texts of the path's segments from the top: the location of a sealed field.
    this.stack = []
    this.tree = normalize(root)
    this.root = this.compileObject(this.tree, [])
  }

  // Whether redact names a top-level `key` (`msg`, `*`): as in pino, a line's message is
  // then redacted like a field of that name. (encrypt paths leave the message as it is.)
  redactsTop (key) {
    const at = this.tree.keys.get(key) || this.tree.any
    return at !== null && at !== undefined && at.action === REDACT
  }

  // A function (container) -> container, or a copy of it with the matched fields changed.
  // `prefix` holds the JSON segments of the path when they are known here (fixed keys
  // that cannot be array indexes), so that a sealed field's path is a constant.
  compileObject (tree, prefix) {
    const fixed = []
    for (const [key, child] of tree.keys) {
      const keyJson = JSON.stringify(key)
      const index = INDEX.test(key)
      const childPrefix = prefix && !index ? [...prefix, keyJson] : null
      const tracked = this.censorFn !== undefined || hasDynamicSeal(child, prefix === null || index)
      fixed.push({ key, keyJson, index, tracked, apply: this.compileValue(child, childPrefix) })
    }
    const any = tree.any ? this.compileValue(tree.any, null) : null
    const fixedKeys = new Set(tree.keys.keys())
    const stack = this.stack
    return (container) => {
      const isArray = Array.isArray(container)
      let copy = null
      for (let i = 0; i < fixed.length; i++) {
        const f = fixed[i]
        const value = container[f.key]
        if (value === undefined || !hasOwn.call(container, f.key)) continue
        let out
        if (f.tracked) {
          stack.push(isArray && f.index ? f.key : f.keyJson)
          out = f.apply(value)
          stack.pop()
        } else out = f.apply(value)
        if (out !== value) {
          if (copy === null) copy = isArray ? container.slice() : { ...container }
          copy[f.key] = out
        }
      }
      if (any !== null) {
        const keys = isArray ? null : Object.keys(container)
        const n = isArray ? container.length : keys.length
        for (let i = 0; i < n; i++) {
          const key = isArray ? String(i) : keys[i]
          if (fixedKeys.has(key)) continue
          const value = container[key]
          if (value === undefined) continue
          stack.push(isArray ? key : JSON.stringify(key))
          const out = any(value)
          stack.pop()
          if (out !== value) {
            if (copy === null) copy = isArray ? container.slice() : { ...container }
            copy[key] = out
          }
        }
      }
      return copy === null ? container : copy
    }
  }

  compileValue (tree, prefix) {
    if (tree.action === REDACT) return this.censorFn === undefined ? () => this.censor : (value) => this.censorBy(value)
    if (tree.action === SEAL) {
      // Between the id and the value in the table entry: the path, when it is constant.
      const path = prefix ? '[' + prefix.join(',') + ']' + SEAL_SEP : null
      return (value) => this.seal(value, path)
    }
    const object = this.compileObject(tree, prefix)
    return (value) => {
      if (typeof value !== 'object' || value === null) return value
      const view = jsonView(value)
      return typeof view === 'object' && view !== null ? object(view) : view
    }
  }

  // A censor function's replacement for `value`; its path as pino gives it (keys as
  // strings). A censor that throws gives '[Redacted]': the value is never written.
  censorBy (value) {
    const path = this.stack.map((segment) => segment.charCodeAt(0) === 34 /* " */ ? JSON.parse(segment) : segment)
    try {
      return this.censorFn(value, path)
    } catch {
      return '[Redacted]'
    }
  }

  // The placeholder for a sealed value; its JSON text goes into the table.
  seal (value, path) {
    if (this.forNotice) return NOTICE_CENSOR
    let json
    let threw = false
    try {
      json = JSON.stringify(value)
    } catch {
      threw = true
    }
    if (threw || (json !== undefined && json.length > this.limit)) json = safeStringify(value, this.limit)
    // Nothing JSON would write (a function, a symbol): nothing to hide.
    if (json === undefined) return value
    let id
    let entry
    if (this.forBindings || this.count >= LINE_IDS.length) {
      id = this.forBindings ? 'b' + (bindingIds++).toString(36) : (this.count++).toString(36)
      entry = SEAL_OPEN + id + SEAL_SEP
    } else {
      id = LINE_IDS[this.count]
      entry = LINE_ENTRY[this.count++]
    }
    const at = path === null ? '[' + this.stack.join(',') + ']' + SEAL_SEP : path
    this.table += entry + at + json + SEAL_CLOSE
    return this.placeholder + id
  }

  // The hot path: `obj` with its configured fields redacted or sealed (a copy, or obj
  // itself when it has none). Starts a new table. May throw (a throwing getter): the
  // caller then takes `fragment`.
  apply (obj) {
    this.table = ''
    this.count = 0
    if (this.stack.length !== 0) this.stack.length = 0 // left over by a throw
    const view = jsonView(obj)
    return typeof view === 'object' && view !== null ? this.root(view) : view
  }

  // The table of the last `apply` or `fragment`, to put before the line's head.
  takeTable () {
    const table = this.table
    this.table = ''
    return table
  }

  // mergeFragment(obj) with the fields protected, for any object (errors, cycles,
  // throwing getters...). Never throws; if even a sanitised copy cannot be protected,
  // the object is left out rather than written unprotected.
  fragment (obj, limit) {
    try {
      if (!hasErrorValue(obj)) {
        // Only when the protected copy serialises as it is: a cycle back to the app's
        // own (unprotected) objects must not be followed, so those go the sanitised way.
        const json = JSON.stringify(this.apply(obj))
        if (json !== undefined && json.length <= limit) {
          if (json === '{}') return ''
          return json.charCodeAt(0) === 123 ? ',' + json.slice(1, -1) : ',"value":' + json
        }
      }
    } catch {}
    try {
      // Cycles, BigInts, Errors and throwing getters made plain first, then protected.
      return mergeFragment(this.apply(sanitizeValue(obj, limit)), limit)
    } catch (err) {
      this.table = ''
      return ',"prodkitProtectError":' + JSON.stringify(String(err && err.message))
    }
  }

  // Bindings (child() and base): the fragment with its own table, to go into the line
  // head, where the writer seals its fields once per head.
  bindingsFragment (obj, limit) {
    this.forBindings = true
    try {
      const fragment = this.fragment(obj, limit)
      return this.takeTable() + fragment
    } finally {
      this.forBindings = false
    }
  }

  // JSON text of a value printed into the message (%j %o %O, an object message), with
  // the configured fields redacted and the sealed ones censored: inside a string they
  // cannot be sealed. Leaves the current line's table as it was. Never throws; if the
  // value cannot be protected, a marker is written instead of the value.
  json (value, limit) {
    if (typeof value !== 'object' || value === null) return safeStringify(value, limit)
    try {
      const json = JSON.stringify(this.view(value))
      if (json === undefined || json.length <= limit) return json
    } catch {}
    try {
      return JSON.stringify(this.view(sanitizeValue(value, limit)))
    } catch (err) {
      return JSON.stringify(`[prodkit: not written, could not be protected: ${String(err && err.message)}]`)
    }
  }

  // `value` with its configured fields redacted and sealed ones censored (a copy, or
  // value itself when it has none), leaving the current line's table as it was. May throw.
  view (value) {
    const { table, count } = this
    this.forNotice = true
    try {
      return this.apply(value)
    } finally {
      this.forNotice = false
      this.table = table
      this.count = count
      this.stack.length = 0
    }
  }

  // The same fields for the lines Rust writes itself (queue notices): sealed fields are
  // censored, as those lines have no table.
  noticeFragment (obj, limit) {
    this.forNotice = true
    try {
      return this.fragment(obj, limit)
    } finally {
      this.forNotice = false
      this.table = ''
    }
  }
}

// What JSON.stringify serialises for an object: its toJSON() result when it has one, so
// that paths match the JSON the line holds (a class whose toJSON renames fields).
function jsonView (value) {
  return typeof value.toJSON === 'function' ? value.toJSON() : value
}

// Whether a sealed field at or below `tree` is reached through a `*` or an array index
// (`dynamic`: the path so far already is), so that its path is known only per call and
// the keys on the way must be tracked on the stack.
function hasDynamicSeal (tree, dynamic) {
  if (tree.action === SEAL) return dynamic
  if (tree.action === REDACT) return false
  for (const [key, child] of tree.keys) if (hasDynamicSeal(child, dynamic || INDEX.test(key))) return true
  return tree.any !== null && hasDynamicSeal(tree.any, true)
}

function hasErrorValue (obj) {
  for (const key in obj) {
    if (isError(obj[key])) return true
  }
  return false
}

module.exports = { FieldProtection, SEAL_OPEN, SEAL_SEP, SEAL_CLOSE }

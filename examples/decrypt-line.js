'use strict'
// The decryptLine example of docs/encryption.md: `node examples/decrypt-line.js`.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const prodkit = require('@oj/prodkit')

const key = prodkit.generateKey() // in production: a key kept on the box, e.g. process.env.PRODKIT_LOG_KEY
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prodkit-')), 'app.log')
const log = prodkit.createLogger({ destination: file, encrypt: { paths: ['user.email', 'card.number'], key } })
log.info({ user: { id: 7, email: 'ann@example.com' }, card: { number: '4111 1111 1111 1111' } }, 'signed up')
log.flushSync()

const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n')
const line = lines[lines.length - 1]
console.log(line) // ..."user":{"id":7,"email":"$pk1$..."},"card":{"number":"$pk1$..."}...
console.log(prodkit.decryptLine(line, key)) // ..."user":{"id":7,"email":"ann@example.com"},"card":{"number":"4111 1111 1111 1111"}...

// Several keys (logs written across a key rotation): build the keyring once.
const keyring = prodkit.createKeyring([key, prodkit.generateKey()])
console.log(JSON.parse(prodkit.decryptLine(line, keyring)).user.email) // ann@example.com
log.close()

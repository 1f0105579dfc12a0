'use strict'
// The line of the encryption contenders (bench/log.js): two sensitive fields, the same
// paths encrypted by prodkit and redacted by pino.

// A fixed key, for the benchmark only (never use a key that is in a repository).
const BENCH_KEY = 'YmVuY2htYXJrIGtleSwgbm90IGEgc2VjcmV0ISEhISE='
const SEALED_PATHS = ['user.email', 'card.number']

function cardLine (i) {
  return {
    user: { id: i, email: `user${i}@example.com` },
    card: { number: `4111 1111 ${String(1e7 + i).slice(1)}`, exp: '12/29' },
    orderId: `ord-${i}`,
    amount: 12.5 + i
  }
}

module.exports = { BENCH_KEY, SEALED_PATHS, cardLine }

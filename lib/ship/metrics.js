'use strict'
// The shipping figures of a logger (`log.stats().shipping`) as Prometheus families for
// kit.metrics: read from the shipper's counters at each scrape, nothing kept here.

// The families of `log`'s shipper; none when the logger does not ship (or is not prodkit's).
function shippingFamilies (log) {
  let stats
  try {
    stats = log && typeof log.stats === 'function' ? log.stats().shipping : undefined
  } catch {
    return []
  }
  if (!stats) return []
  const labels = { target: stats.target }
  const family = (name, type, help, value) => ({ name, help, type, samples: [{ labels, value }] })
  return [
    family('prodkit_log_ship_lines_total', 'counter', 'Log lines the store acknowledged.', stats.lines),
    family('prodkit_log_ship_bytes_total', 'counter', 'Bytes of log lines the store acknowledged.', stats.bytes),
    family('prodkit_log_ship_errors_total', 'counter', 'Failed sends (each retry counts), read and checkpoint errors of the log shipper.', stats.errors),
    family('prodkit_log_ship_rejected_lines_total', 'counter', 'Log lines set aside in the .rejected file (refused by the store, or torn).', stats.rejectedLines),
    family('prodkit_log_ship_lag_bytes', 'gauge', 'Bytes of log files on disk not acknowledged by the store yet.', stats.lagBytes),
    family('prodkit_log_ship_lag_seconds', 'gauge', 'While lagging, seconds since shipping was last caught up or acknowledged.', stats.lagSeconds),
    family('prodkit_log_ship_last_success_timestamp_seconds', 'gauge', 'When the store last acknowledged a batch (0: never).', stats.lastSuccessMs / 1000)
  ]
}

module.exports = { shippingFamilies }

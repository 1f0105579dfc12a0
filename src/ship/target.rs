//! What a shipping target is: something that takes one batch of whole log lines and says
//! whether the store has them. The shipper advances its checkpoint only on `Acked` or
//! `Rejected` (the rejected lines are set aside), and resends the same batch (same id) on `Retry`.

use std::time::Duration;

use super::shipper::Control;

/// One batch of whole log lines, each without its trailing newline, in file order.
pub struct Batch<'a> {
  /// Stable id of this batch (file identity and start offset): the same lines re-sent after
  /// a crash or a retry carry the same id, so a store that can deduplicate on it does.
  pub id: &'a str,
  pub lines: &'a [&'a [u8]],
  /// The shipper's stop flag and wake-up: a target that waits between requests (Splunk's
  /// acknowledgment polls) gives up when the shipper stops, rather than hold the thread.
  /// None (tests): nothing stops it.
  pub stop: Option<&'a Control>,
}

impl Batch<'_> {
  /// Sleeps up to `pause`; false, at once, if the shipper is stopping or stops meanwhile.
  pub fn pause(&self, pause: Duration) -> bool {
    match self.stop {
      Some(control) => control.sleep(pause),
      None => {
        std::thread::sleep(pause);
        true
      }
    }
  }
}

/// What the store said about a batch.
pub enum Outcome {
  /// The store has every line.
  Acked,
  /// The store has every line but these (indexes into `lines`), which it refused for good
  /// (a 4xx, a per-item error): they go to the `.rejected` file and are counted.
  Rejected { lines: Vec<usize>, reason: String },
  /// Nothing is known to be stored (connection error, timeout, 5xx, 429): resend the whole
  /// batch after a backoff.
  Retry { reason: String },
}

/// A store the shipper sends to. One per shipper thread; `send` may block up to its timeout.
pub trait Target: Send {
  fn send(&mut self, batch: &Batch) -> Outcome;
  /// The target for messages: scheme, host, port and path, never credentials.
  fn describe(&self) -> String;
}

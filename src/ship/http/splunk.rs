//! Splunk's HTTP Event Collector: `splunk://host:8088` (HEC's port; usually `splunk+https://`).
//! Each batch is one `POST /services/collector/event` with `Authorization: Splunk <token>` (the
//! token from `PRODKIT_SHIP_TOKEN`, required) and the events stacked one after another, one per
//! line (https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector,
//! https://docs.splunk.com/Documentation/Splunk/latest/RESTREF/RESTinput#services.2Fcollector.2Fevent):
//!
//! ```text
//! {"time":1700000000.123,"event":{"level":30,...the line as written...}}
//! ```
//!
//! `event` is the line itself when it is JSON (verbatim: encrypted fields stay ciphertext), else
//! the line as a string; `time` is the line's `time` in epoch seconds (HEC's own time when the
//! line has none). Options add the metadata HEC takes per event: `index`, `source`,
//! `sourcetype`, `host`. `channel=<GUID>` sends `X-Splunk-Request-Channel`, which HEC requires
//! when indexer acknowledgment is on for the token.
//!
//! Indexer acknowledgment (`?ack=on`, or `?ack=<longest wait>`; 60 s with `on`):
//! (https://docs.splunk.com/Documentation/Splunk/latest/Data/AboutHECIDXAck) HEC's 200 then
//! carries an `ackId` for each request, and only means "received". prodkit asks
//! `POST /services/collector/ack` with `{"acks":[ids]}` on the same channel (a random GUID made
//! at open when the URL names none) until the answer (`{"acks":{"0":true}}`) says every request
//! of the batch is indexed, pausing 250 ms, then twice as long each time up to 5 s. Only then is
//! the batch acknowledged. Past the longest wait (an indexer that died, an ackId HEC forgot),
//! the batch is a `Retry`: sent again whole, at-least-once. A 200 without an `ackId` means the
//! token has acknowledgment off: retried with that reason. Without `ack`, HEC's 200 is the
//! acknowledgment, as before.
//!
//! Answers: `{"text":"Success","code":0}` stored. A 400 naming `invalid-event-number` (HEC
//! codes 6, 12, 13: invalid data format, event field required or blank) refuses that event: it
//! is set aside and the others are sent again (HEC does not say whether it kept the ones before
//! it, so they may be stored twice, never lost). Codes 7 (index not allowed for this token), 10
//! and 11 (channel missing or invalid), 14 (acknowledgment disabled) and 401/403 are
//! configuration problems, retried with the reason; 503 (code 9, busy) and 5xx are retried.

use super::client::{classify, summary, Client, Reply};
use super::line;
use super::parts::{send_in_parts, Part};
use super::{parse_duration, Endpoint};
use crate::ship::target::{Batch, Outcome, Target};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// The longest wait for indexing with `ack=on`.
const ACK_WAIT: Duration = Duration::from_secs(60);
/// The first pause between two acknowledgment queries, doubled each time up to `ACK_PAUSE_MAX`.
const ACK_PAUSE: Duration = Duration::from_millis(250);
const ACK_PAUSE_MAX: Duration = Duration::from_secs(5);

pub(crate) struct Splunk {
  client: Client,
  path: String,
  /// `"index":...,"source":...,` ready to put before `"event"` in each event.
  metadata: String,
  headers: Vec<(&'static str, String)>,
  /// With `?ack`: the longest wait for HEC to report a batch indexed.
  ack: Option<Duration>,
}

#[derive(Deserialize)]
struct HecAnswer {
  #[serde(default)]
  text: String,
  #[serde(default)]
  code: Option<u32>,
  #[serde(rename = "invalid-event-number", default)]
  invalid_event_number: Option<usize>,
  #[serde(rename = "ackId", default)]
  ack_id: Option<u64>,
}

/// A random GUID for `X-Splunk-Request-Channel` (version 4 layout), when `ack` is asked for and
/// the URL names no channel.
fn new_channel() -> Result<String, String> {
  let mut b = [0u8; 16];
  getrandom::fill(&mut b).map_err(|e| format!("cannot make a channel id: {e}"))?;
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
  Ok(format!(
    "{}-{}-{}-{}-{}",
    &hex[0..8],
    &hex[8..12],
    &hex[12..16],
    &hex[16..20],
    &hex[20..32]
  ))
}

impl Splunk {
  pub fn open(mut endpoint: Endpoint) -> Result<Splunk, String> {
    let mut metadata = String::new();
    for key in ["index", "source", "sourcetype", "host"] {
      if let Some(value) = endpoint.take(key) {
        metadata.push_str(&format!(
          "{}:{},",
          serde_json::to_string(key).unwrap_or_default(),
          serde_json::Value::String(value)
        ));
      }
    }
    let mut channel = endpoint.take("channel");
    let ack = match endpoint.take("ack").as_deref() {
      None | Some("off") => None,
      Some("on") => Some(ACK_WAIT),
      Some(wait) => match parse_duration(wait) {
        Some(d) if !d.is_zero() => Some(d),
        _ => {
          return Err(endpoint.error(format!(
            "option ack: `{wait}` is not on, off or the longest wait for indexing (30s, 2m)"
          )))
        }
      },
    };
    if ack.is_some() && channel.is_none() {
      channel = Some(new_channel().map_err(|e| endpoint.error(e))?);
    }
    endpoint.no_more_options("index, source, sourcetype, host, channel, ack")?;
    let Some(token) = endpoint.credentials.token.clone() else {
      return Err(endpoint.error("Splunk HEC needs its token in PRODKIT_SHIP_TOKEN"));
    };
    let mut headers = vec![("Authorization", format!("Splunk {token}"))];
    if let Some(channel) = channel {
      headers.push(("X-Splunk-Request-Channel", channel));
    }
    let path = endpoint.path_or("/services/collector/event");
    Ok(Splunk {
      client: endpoint.client()?,
      path,
      metadata,
      headers,
      ack,
    })
  }

  /// `/services/collector/ack`, behind the same prefix as the event path (a proxy's).
  fn ack_path(&self) -> String {
    let prefix = self
      .path
      .find("/services/collector")
      .map_or("", |at| &self.path[..at]);
    format!("{prefix}/services/collector/ack")
  }

  /// Asks HEC until it reports every request of `ids` indexed, or the longest wait has
  /// passed, or the shipper stops (`batch.stop`: the batch is then not delivered, and is
  /// sent again from the checkpoint next time, as after any interruption).
  fn wait_indexed(&self, batch: &Batch, mut ids: Vec<u64>, wait: Duration) -> Result<(), String> {
    let shown = self.client.shown();
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    headers.extend(self.headers.iter().map(|(k, v)| (*k, v.as_str())));
    let deadline = Instant::now() + wait;
    let mut pause = ACK_PAUSE;
    loop {
      let query = serde_json::json!({ "acks": ids }).to_string();
      let last = match self
        .client
        .post(&self.ack_path(), &headers, query.as_bytes())
      {
        Reply::Answer {
          status: 200, body, ..
        } => {
          let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
          ids.retain(|id| answer["acks"][id.to_string()] != serde_json::Value::Bool(true));
          if ids.is_empty() {
            return Ok(());
          }
          format!("HEC answered {}", summary(&body))
        }
        Reply::Answer { status, body, .. } => read_answer(shown, status, &body, false).0.reason(),
        Reply::Failed(e) => e,
      };
      if Instant::now() + pause > deadline {
        return Err(format!(
          "{shown}: {} request(s) of the batch not reported indexed within {} ms ({last}); sending the batch again",
          ids.len(),
          wait.as_millis()
        ));
      }
      if !batch.pause(pause) {
        return Err(format!(
          "{shown}: the shipper stopped while waiting for HEC to report the batch indexed"
        ));
      }
      pause = (pause * 2).min(ACK_PAUSE_MAX);
    }
  }

  fn event(&self, raw: &[u8], body: &mut Vec<u8>) {
    body.push(b'{');
    if let Some(ns) = line::object(raw).and_then(|f| f.time_ns()) {
      body.extend_from_slice(
        format!(
          "\"time\":{}.{:03},",
          ns / 1_000_000_000,
          ns / 1_000_000 % 1000
        )
        .as_bytes(),
      );
    }
    body.extend_from_slice(self.metadata.as_bytes());
    body.extend_from_slice(b"\"event\":");
    match line::json_value(raw) {
      Some(json) => body.extend_from_slice(json.as_bytes()),
      None => body.extend_from_slice(line::json_string(raw).as_bytes()),
    }
    body.extend_from_slice(b"}\n");
  }
}

/// Reads an event answer: what became of the part, and, with indexer acknowledgment on
/// (`ack`), the `ackId` a 2xx must carry (the part is retried without one).
fn read_answer(shown: &str, status: u16, body: &str, ack: bool) -> (Part, Option<u64>) {
  let answer: Option<HecAnswer> = serde_json::from_str(body).ok();
  let Some(answer) = answer else {
    let part = match status {
      200..=299 if ack => Part::Retry(format!(
        "{shown}: HEC answered {status} without an ackId: {}",
        summary(body)
      )),
      _ => classify(shown, status, body),
    };
    return (part, None);
  };
  let code = answer.code.unwrap_or(u32::MAX);
  let said = format!("HEC code {code}: {}", summary(&answer.text));
  let part = match (status, code) {
    (200..=299, _) => match (ack, answer.ack_id) {
      (false, _) => Part::Stored,
      (true, Some(id)) => return (Part::Stored, Some(id)),
      (true, None) => Part::Retry(format!(
        "{shown}: HEC gave no ackId: indexer acknowledgment is off for this token; enable it or drop ?ack ({said})"
      )),
    },
    (_, 7) => Part::Retry(format!(
      "{shown}: the index is not allowed for this token ({said})"
    )),
    (_, 10 | 11) => Part::Retry(format!(
      "{shown}: HEC wants a data channel: add ?channel=<GUID> ({said})"
    )),
    (_, 14) => Part::Retry(format!(
      "{shown}: indexer acknowledgment is disabled for this token: drop ?ack and ?channel ({said})"
    )),
    (400, _) => match answer.invalid_event_number {
      Some(index) => Part::RefusedOne {
        index,
        reason: said,
      },
      None => Part::RefusedAll(said),
    },
    _ => classify(shown, status, body),
  };
  (part, None)
}

impl Target for Splunk {
  fn send(&mut self, batch: &Batch) -> Outcome {
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    headers.extend(self.headers.iter().map(|(k, v)| (*k, v.as_str())));
    let mut ack_ids = Vec::new();
    let outcome = send_in_parts(batch.lines.len(), |part| {
      let mut body = Vec::new();
      for &i in part {
        self.event(batch.lines[i], &mut body);
      }
      let shown = self.client.shown();
      let ack = self.ack.is_some();
      let ids = &mut ack_ids;
      self
        .client
        .post_part(&self.path, &headers, &body, |status, _, answer| {
          let (part, id) = read_answer(shown, status, answer, ack);
          ids.extend(id);
          part
        })
    });
    match (self.ack, outcome) {
      (Some(wait), outcome @ (Outcome::Acked | Outcome::Rejected { .. }))
        if !ack_ids.is_empty() =>
      {
        match self.wait_indexed(batch, ack_ids, wait) {
          Ok(()) => outcome,
          Err(reason) => Outcome::Retry { reason },
        }
      }
      (_, outcome) => outcome,
    }
  }

  fn describe(&self) -> String {
    self.client.shown().to_string()
  }
}

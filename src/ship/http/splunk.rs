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
//! when indexer acknowledgment is on; prodkit reads HEC's 200 as the acknowledgment and does
//! not poll `/services/collector/ack` (with indexer acknowledgment a 200 means received, not yet
//! indexed).
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
use super::Endpoint;
use crate::ship::target::{Batch, Outcome, Target};
use serde::Deserialize;

pub(crate) struct Splunk {
  client: Client,
  path: String,
  /// `"index":...,"source":...,` ready to put before `"event"` in each event.
  metadata: String,
  headers: Vec<(&'static str, String)>,
}

#[derive(Deserialize)]
struct HecAnswer {
  #[serde(default)]
  text: String,
  #[serde(default)]
  code: Option<u32>,
  #[serde(rename = "invalid-event-number", default)]
  invalid_event_number: Option<usize>,
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
    let channel = endpoint.take("channel");
    endpoint.no_more_options("index, source, sourcetype, host, channel")?;
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
    })
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

fn read_answer(shown: &str, status: u16, body: &str) -> Part {
  let answer: Option<HecAnswer> = serde_json::from_str(body).ok();
  let Some(answer) = answer else {
    return classify(shown, status, body);
  };
  let code = answer.code.unwrap_or(u32::MAX);
  let said = format!("HEC code {code}: {}", summary(&answer.text));
  match (status, code) {
    (200..=299, _) => Part::Stored,
    (_, 7) => Part::Retry(format!(
      "{shown}: the index is not allowed for this token ({said})"
    )),
    (_, 10 | 11) => Part::Retry(format!(
      "{shown}: HEC wants a data channel: add ?channel=<GUID> ({said})"
    )),
    (_, 14) => Part::Retry(format!(
      "{shown}: indexer acknowledgment is disabled for this token: drop ?channel ({said})"
    )),
    (400, _) => match answer.invalid_event_number {
      Some(index) => Part::RefusedOne {
        index,
        reason: said,
      },
      None => Part::RefusedAll(said),
    },
    _ => classify(shown, status, body),
  }
}

impl Target for Splunk {
  fn send(&mut self, batch: &Batch) -> Outcome {
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    headers.extend(self.headers.iter().map(|(k, v)| (*k, v.as_str())));
    send_in_parts(batch.lines.len(), |part| {
      let mut body = Vec::new();
      for &i in part {
        self.event(batch.lines[i], &mut body);
      }
      let shown = self.client.shown();
      match self.client.post(&self.path, &headers, &body) {
        Reply::Answer { status, body, .. } => read_answer(shown, status, &body),
        Reply::Failed(e) => Part::Retry(format!("{shown}: {e}")),
      }
    })
  }

  fn describe(&self) -> String {
    self.client.shown().to_string()
  }
}

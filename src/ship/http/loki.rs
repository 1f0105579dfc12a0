//! Grafana Loki's push API: `loki://host:3100` (a path, if given, is a prefix before
//! `/loki/api/v1/push`, for a Loki behind a proxy). Each batch is one `POST
//! /loki/api/v1/push` with a JSON body (https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs):
//!
//! ```text
//! {"streams":[{"stream":{"level":"info","name":"api"},"values":[["<unix ns>","<line>"], ...]}]}
//! ```
//!
//! Streams are the lines' labels: `level` (the level's name: `info`, or `unknown`) and `name`
//! (pino's logger name, when the line has one), plus fixed labels from the URL
//! (`?label.job=checkout&label.env=prod`). Keeping labels to these few is Loki's own advice (each
//! label value set is a stream). The value is the whole line as written, the timestamp the
//! line's `time` in nanoseconds as a string (the time of sending for a line without one). Loki
//! drops an entry it already has with the same stream, timestamp and line, so a resent batch is
//! not stored twice. `?tenant=ID` sends `X-Scope-OrgID`.
//!
//! Answers: 204 (or any 2xx) stored; 400 (an entry too old, too long, out of order) refused
//! and bisected; 413 halved; 429 and 5xx retried. Credentials: basic, or `PRODKIT_SHIP_TOKEN`
//! as a bearer token.

use super::client::Client;
use super::line;
use super::parts::send_in_parts;
use super::Endpoint;
use crate::ship::target::{Batch, Outcome, Target};
use std::collections::BTreeMap;

/// A stream's labels, and its entries: (timestamp, batch index).
type Streams = BTreeMap<Vec<(String, String)>, Vec<(u64, usize)>>;

pub(crate) struct Loki {
  client: Client,
  path: String,
  labels: Vec<(String, String)>,
  headers: Vec<(&'static str, String)>,
}

fn valid_label(name: &str) -> bool {
  let mut chars = name.chars();
  chars
    .next()
    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Loki {
  pub fn open(mut endpoint: Endpoint) -> Result<Loki, String> {
    let labels = endpoint.take_prefixed("label.");
    for (name, _) in &labels {
      if !valid_label(name) || name == "level" || name == "name" {
        return Err(endpoint.error(format!(
          "option label.{name}: a label name is letters, digits and _ (level and name come from the lines)"
        )));
      }
    }
    let mut headers = Vec::new();
    if let Some(tenant) = endpoint.take("tenant") {
      headers.push(("X-Scope-OrgID", tenant));
    }
    endpoint.no_more_options("label.NAME, tenant")?;
    if let Some(auth) = endpoint.credentials.basic_or_bearer() {
      headers.push(("Authorization", auth));
    }
    let prefix = endpoint.path_or("");
    Ok(Loki {
      client: endpoint.client()?,
      path: format!("{prefix}/loki/api/v1/push"),
      labels,
      headers,
    })
  }

  /// The push body for these lines: one stream per label set, lines in file order in each.
  fn body(&self, batch: &Batch, part: &[usize], now: u64) -> Vec<u8> {
    let mut streams = Streams::new();
    for &i in part {
      let fields = line::object(batch.lines[i]);
      let mut labels = self.labels.clone();
      let level = fields
        .as_ref()
        .and_then(|f| f.level())
        .map_or_else(|| "unknown".to_string(), |l| l.name);
      labels.push(("level".to_string(), level));
      if let Some(name) = fields.as_ref().and_then(|f| f.string("name")) {
        labels.push(("name".to_string(), name));
      }
      let time = fields.as_ref().and_then(|f| f.time_ns()).unwrap_or(now);
      streams.entry(labels).or_default().push((time, i));
    }
    let streams: Vec<serde_json::Value> = streams
      .into_iter()
      .map(|(labels, entries)| {
        let stream: serde_json::Map<String, serde_json::Value> = labels
          .into_iter()
          .map(|(k, v)| (k, serde_json::Value::String(v)))
          .collect();
        let values: Vec<serde_json::Value> = entries
          .into_iter()
          .map(|(time, i)| {
            serde_json::json!([time.to_string(), String::from_utf8_lossy(batch.lines[i])])
          })
          .collect();
        serde_json::json!({ "stream": stream, "values": values })
      })
      .collect();
    serde_json::to_vec(&serde_json::json!({ "streams": streams })).unwrap_or_default()
  }
}

impl Target for Loki {
  fn send(&mut self, batch: &Batch) -> Outcome {
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    headers.extend(self.headers.iter().map(|(k, v)| (*k, v.as_str())));
    let now = line::now_ns();
    send_in_parts(batch.lines.len(), |part| {
      let body = self.body(batch, part, now);
      self.client.post_classified(&self.path, &headers, &body)
    })
  }

  fn describe(&self) -> String {
    self.client.shown().to_string()
  }
}

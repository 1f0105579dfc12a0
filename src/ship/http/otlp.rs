//! OpenTelemetry OTLP/HTTP logs, JSON encoding: `otlp://host:4318` (a collector's OTLP/HTTP
//! port; the path defaults to `/v1/logs`). Each batch is one `POST /v1/logs` with
//! `Content-Type: application/json` and an `ExportLogsServiceRequest`
//! (https://opentelemetry.io/docs/specs/otlp/#otlphttp, the JSON mapping of
//! opentelemetry/proto/logs/v1/logs.proto):
//!
//! ```text
//! {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
//!   "scopeLogs":[{"scope":{"name":"prodkit"},"logRecords":[
//!     {"timeUnixNano":"1700000000123000000","observedTimeUnixNano":"...","severityNumber":9,
//!      "severityText":"info","body":{"stringValue":"hi"},
//!      "attributes":[{"key":"pid","value":{"intValue":"42"}}, ...]}]}]}]}
//! ```
//!
//! Per line: `timeUnixNano` from `time`, `severityNumber` from pino's level (10 trace -> 1,
//! 20 debug -> 5, 30 info -> 9, 40 warn -> 13, 50 error -> 17, 60 fatal -> 21: the first of each
//! OpenTelemetry range), `severityText` the level's name, `body` the `msg` string, every other
//! top-level field an attribute: strings as `stringValue` (ciphertext stays ciphertext), integers
//! as `intValue` (a string, as the JSON mapping writes 64-bit integers), other numbers as
//! `doubleValue`, booleans as `boolValue`, objects and arrays as `stringValue` holding their JSON
//! text as written. A line that is not a JSON object is the body, whole, with no attributes.
//! `?service=NAME` sets the resource's `service.name`.
//!
//! Answers: 2xx stored, unless the answer's `partialSuccess.rejectedLogRecords` says some were
//! refused. OTLP does not say which, and the spec says not to send them again, so every line
//! of that request is set aside in the `.rejected` file (the refused ones are among them; the
//! others are stored too) and counted as refused, and the reason, reported once for the batch,
//! names the collector's count and `errorMessage`. Setting aside more than was refused is the
//! choice that loses nothing: the operator can find every refused record in the file. 400
//! refused and bisected; 413 halved; 429, 5xx retried. Credentials: basic, or `PRODKIT_SHIP_TOKEN` as a bearer token.

use super::client::{classify, summary, Client};
use super::line;
use super::parts::{send_in_parts, Part};
use super::Endpoint;
use crate::ship::target::{Batch, Outcome, Target};
use serde_json::{json, Value};

pub(crate) struct Otlp {
  client: Client,
  path: String,
  resource: Value,
  headers: Vec<(&'static str, String)>,
}

impl Otlp {
  pub fn open(mut endpoint: Endpoint) -> Result<Otlp, String> {
    let mut attributes = Vec::new();
    if let Some(service) = endpoint.take("service") {
      attributes.push(json!({ "key": "service.name", "value": { "stringValue": service } }));
    }
    endpoint.no_more_options("service")?;
    let mut headers = Vec::new();
    if let Some(auth) = endpoint.credentials.basic_or_bearer() {
      headers.push(("Authorization", auth));
    }
    let path = endpoint.path_or("/v1/logs");
    Ok(Otlp {
      client: endpoint.client()?,
      path,
      resource: json!({ "attributes": attributes }),
      headers,
    })
  }
}

/// One field as an OTLP AnyValue.
fn any_value(raw: &str) -> Value {
  match raw.as_bytes().first() {
    Some(b'"') => json!({ "stringValue": serde_json::from_str::<String>(raw).unwrap_or_default() }),
    Some(b't') | Some(b'f') => json!({ "boolValue": raw == "true" }),
    Some(b'{') | Some(b'[') => json!({ "stringValue": raw }),
    _ => match raw.parse::<i64>() {
      Ok(n) => json!({ "intValue": n.to_string() }),
      Err(_) => match raw.parse::<f64>() {
        Ok(x) => json!({ "doubleValue": x }),
        Err(_) => json!({ "stringValue": raw }),
      },
    },
  }
}

/// One line as an OTLP LogRecord.
fn record(raw: &[u8], observed: u64) -> Value {
  let Some(fields) = line::object(raw) else {
    return json!({
      "observedTimeUnixNano": observed.to_string(),
      "body": { "stringValue": String::from_utf8_lossy(raw) },
    });
  };
  let mut record = serde_json::Map::new();
  if let Some(ns) = fields.time_ns() {
    record.insert("timeUnixNano".into(), Value::String(ns.to_string()));
  }
  record.insert(
    "observedTimeUnixNano".into(),
    Value::String(observed.to_string()),
  );
  if let Some(level) = fields.level() {
    record.insert("severityNumber".into(), json!(level.severity));
    record.insert("severityText".into(), Value::String(level.name));
  }
  let body = match fields.map.get("msg") {
    Some(msg) if msg.get().starts_with('"') => any_value(msg.get()),
    Some(msg) => json!({ "stringValue": msg.get() }),
    None => json!({ "stringValue": "" }),
  };
  record.insert("body".into(), body);
  let attributes: Vec<Value> = fields
    .map
    .iter()
    .filter(|(k, v)| !matches!(k.as_str(), "time" | "level" | "msg") && v.get() != "null")
    .map(|(k, v)| json!({ "key": k, "value": any_value(v.get()) }))
    .collect();
  if !attributes.is_empty() {
    record.insert("attributes".into(), Value::Array(attributes));
  }
  Value::Object(record)
}

/// Reads an export answer for a part of `n` records.
fn read_answer(shown: &str, status: u16, body: &str, n: usize) -> Part {
  if !(200..300).contains(&status) {
    return classify(shown, status, body);
  }
  let answer: Value = serde_json::from_str(body).unwrap_or(Value::Null);
  let partial = &answer["partialSuccess"];
  let rejected = match &partial["rejectedLogRecords"] {
    Value::String(s) => s.parse::<u64>().unwrap_or(0),
    v => v.as_u64().unwrap_or(0),
  };
  if rejected == 0 {
    return Part::Stored;
  }
  // OTLP does not say which records it refused, and says not to send them again: the whole
  // part is set aside (the refused records are among its lines), once, with the count.
  let message = partial["errorMessage"].as_str().unwrap_or("");
  Part::Items {
    refused: (0..n).collect(),
    reason: format!(
      "{shown} refused {rejected} of {n} log records without saying which (OTLP partial \
       success; the {n} lines of the request are set aside): {}",
      summary(message)
    ),
  }
}

impl Target for Otlp {
  fn send(&mut self, batch: &Batch) -> Outcome {
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    headers.extend(self.headers.iter().map(|(k, v)| (*k, v.as_str())));
    let observed = line::now_ns();
    send_in_parts(batch.lines.len(), |part| {
      let records: Vec<Value> = part
        .iter()
        .map(|&i| record(batch.lines[i], observed))
        .collect();
      let request = json!({
        "resourceLogs": [{
          "resource": self.resource,
          "scopeLogs": [{ "scope": { "name": "prodkit" }, "logRecords": records }],
        }],
      });
      let body = serde_json::to_vec(&request).unwrap_or_default();
      let shown = self.client.shown();
      self
        .client
        .post_part(&self.path, &headers, &body, |status, _, answer| {
          read_answer(shown, status, answer, part.len())
        })
    })
  }

  fn describe(&self) -> String {
    self.client.shown().to_string()
  }
}

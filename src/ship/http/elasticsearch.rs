//! Elasticsearch and OpenSearch `_bulk`: `elasticsearch://host:9200/index` (or `opensearch://`).
//! Each batch is one `POST /index/_bulk` with an NDJSON body (`Content-Type:
//! application/x-ndjson`, every line ending in `\n`), one `create` action per line followed by
//! the line as the document:
//! (https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html,
//! https://opensearch.org/docs/latest/api-reference/document-apis/bulk/)
//!
//! ```text
//! {"create":{"_id":"<batch id>:<line index>"}}
//! {"level":30,"time":...,"msg":"..."}
//! ```
//!
//! `create` with an id derived from the batch id and the line's index makes a resent batch
//! idempotent: a line already stored answers 409 (version conflict), read as stored. `create`
//! is also the only action data streams take. A line that is not a JSON object is sent as
//! `{"message": "<the line>"}`.
//!
//! The answer's `errors` flag says whether any item failed; then each item's `status` counts:
//! 2xx and 409 stored, 429 and 5xx retried (the whole batch, after a backoff: the stored ones
//! answer 409 next time), other 4xx (a mapping error, say) refused for good. A refusal of the
//! request itself (400) is bisected like any other store's.
//!
//! Credentials: `PRODKIT_SHIP_USER`/`PRODKIT_SHIP_PASSWORD` (basic), or `PRODKIT_SHIP_TOKEN` as
//! an API key (`Authorization: ApiKey <token>`, the base64 `id:api_key` Elasticsearch returns).

use super::client::{classify, summary, Client};
use super::line;
use super::parts::{send_in_parts, Part};
use super::Endpoint;
use crate::ship::target::{Batch, Outcome, Target};
use serde::Deserialize;
use std::collections::HashMap;

pub(crate) struct Elasticsearch {
  client: Client,
  path: String,
  auth: Option<String>,
}

#[derive(Deserialize)]
struct BulkAnswer {
  errors: bool,
  #[serde(default)]
  items: Vec<HashMap<String, BulkItem>>,
}

#[derive(Deserialize)]
struct BulkItem {
  status: u16,
  #[serde(default)]
  error: Option<serde_json::Value>,
}

impl Elasticsearch {
  pub fn open(endpoint: Endpoint) -> Result<Elasticsearch, String> {
    let index = endpoint.path.clone();
    if index.is_empty() {
      return Err(
        endpoint
          .error("the path must name the index (or data stream): elasticsearch://host:9200/INDEX"),
      );
    }
    // Elasticsearch's own rule for index names (no \ / * ? " < > | space , # and no leading _ - +).
    if index.starts_with(['_', '-', '+'])
      || index.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', '%'])
    {
      return Err(
        endpoint.error("the index name has a character Elasticsearch does not take in one"),
      );
    }
    endpoint.no_more_options("")?;
    let auth = endpoint.credentials.basic().or_else(|| {
      endpoint
        .credentials
        .token
        .as_ref()
        .map(|t| format!("ApiKey {t}"))
    });
    let path = format!("/{index}/_bulk");
    Ok(Elasticsearch {
      client: endpoint.client()?,
      path,
      auth,
    })
  }
}

/// Reads a `_bulk` answer for a part of `n` lines.
fn read_answer(shown: &str, body: &str, n: usize) -> Part {
  let answer: BulkAnswer = match serde_json::from_str(body) {
    Ok(a) => a,
    Err(e) => {
      return Part::Retry(format!(
        "{shown}: an answer that is not a _bulk answer ({e}): {}",
        summary(body)
      ))
    }
  };
  if !answer.errors {
    return Part::Stored;
  }
  if answer.items.len() != n {
    return Part::Retry(format!(
      "{shown}: _bulk answered {} items for {n} lines",
      answer.items.len()
    ));
  }
  let mut refused = Vec::new();
  let mut reason = String::new();
  for (i, item) in answer.items.iter().enumerate() {
    let Some(item) = item.values().next() else {
      continue;
    };
    let error = || {
      item
        .error
        .as_ref()
        .map(|e| summary(&e.to_string()))
        .unwrap_or_default()
    };
    match item.status {
      200..=299 | 409 => {}
      429 | 500..=599 => {
        return Part::Retry(format!(
          "{shown}: item {i} answered {}: {}",
          item.status,
          error()
        ))
      }
      status => {
        if reason.is_empty() {
          reason = format!("item answered {status}: {}", error());
        }
        refused.push(i);
      }
    }
  }
  if refused.is_empty() {
    Part::Stored
  } else {
    Part::Items { refused, reason }
  }
}

impl Target for Elasticsearch {
  fn send(&mut self, batch: &Batch) -> Outcome {
    let mut headers = vec![("Content-Type", "application/x-ndjson")];
    if let Some(auth) = &self.auth {
      headers.push(("Authorization", auth.as_str()));
    }
    send_in_parts(batch.lines.len(), |part| {
      let mut body = Vec::new();
      for &i in part {
        let id = serde_json::to_string(&format!("{}:{i}", batch.id)).unwrap_or_default();
        body.extend_from_slice(format!("{{\"create\":{{\"_id\":{id}}}}}\n").as_bytes());
        match line::object(batch.lines[i]) {
          // NDJSON: the document must be on one line; a JSON line has no raw newline in it.
          Some(fields) => body.extend_from_slice(fields.text.trim().as_bytes()),
          None => {
            body.extend_from_slice(b"{\"message\":");
            body.extend_from_slice(line::json_string(batch.lines[i]).as_bytes());
            body.push(b'}');
          }
        }
        body.push(b'\n');
      }
      let shown = self.client.shown();
      self.client.post_part(
        &self.path,
        &headers,
        &body,
        |status, _, answer| match status {
          200 => read_answer(shown, answer, part.len()),
          _ => classify(shown, status, answer),
        },
      )
    })
  }

  fn describe(&self) -> String {
    self.client.shown().to_string()
  }
}

//! ClickHouse over its HTTP interface: `clickhouse://host:8123/db.table` (or `/table`, in the
//! `default` database). Each batch is one `INSERT INTO db.table FORMAT JSONEachRow` (the query in
//! the URL's `query` parameter, the rows as the body), which ClickHouse applies as one block:
//! a 200 means every row is in.
//! (https://clickhouse.com/docs/en/interfaces/http, https://clickhouse.com/docs/en/interfaces/formats#jsoneachrow)
//!
//! Two row shapes:
//! - default: each line is one row as it is (a pino line is a JSON object), with
//!   `input_format_skip_unknown_fields=1` so the table keeps only the columns it declares
//!   (`time UInt64, level UInt8, msg String`, ...). A line that is not a JSON object becomes
//!   `{"msg": "<the line>"}`.
//! - `?column=line`: each line goes whole, as a string, into that one String column
//!   (`{"line": "<the line>"}`), for tables that parse it later (JSONExtract, materialized
//!   columns). Nothing in the line can make such an insert fail.
//!
//! Deduplication: from ClickHouse 22.2 an insert can carry `insert_deduplication_token`; the
//! batch id (with the part's line range when a batch is split) is sent as that token, so a batch
//! resent after a crash is stored once by tables that deduplicate (Replicated*MergeTree, or
//! MergeTree with `non_replicated_deduplication_window`). The server's version is asked once
//! (`SELECT version()`); older servers (Debian's 18.16 among them) know no such setting, so
//! nothing is sent and a resent batch is stored twice (at-least-once).
//!
//! Answers: ClickHouse names the error by code (`X-ClickHouse-Exception-Code`, or `Code: N` at
//! the start of the body on old servers, which answer 500 for most errors): parse and type
//! errors refuse the rows (the batch is bisected down to the bad rows); unknown table,
//! database, column or setting and authentication errors are configuration problems (retried,
//! with the reason); anything else is read as its HTTP status.

use super::client::{classify, summary, Client, Reply};
use super::line;
use super::parts::{send_in_parts, Part};
use super::Endpoint;
use crate::ship::target::{Batch, Outcome, Target};

pub(crate) struct ClickHouse {
  client: Client,
  auth: Vec<(&'static str, String)>,
  /// `INSERT INTO `db`.`table` FORMAT JSONEachRow`, URL-encoded.
  query: String,
  column: Option<String>,
  /// Whether the server takes `insert_deduplication_token`; None until asked.
  dedup_token: Option<bool>,
}

/// Error codes that mean the rows themselves are wrong (ClickHouse's ErrorCodes.cpp).
const ROW_ERRORS: &[u32] = &[
  6,   // CANNOT_PARSE_TEXT
  26,  // CANNOT_PARSE_QUOTED_STRING
  27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  32,  // ATTEMPT_TO_READ_AFTER_EOF
  33,  // CANNOT_READ_ALL_DATA
  38,  // CANNOT_PARSE_DATE
  41,  // CANNOT_PARSE_DATETIME
  53,  // TYPE_MISMATCH
  69,  // ARGUMENT_OUT_OF_BOUND
  70,  // CANNOT_CONVERT_TYPE
  72,  // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
];

/// Error codes that mean the target is misconfigured: retried, with the reason.
const CONFIG_ERRORS: &[(u32, &str)] = &[
  (16, "no such column in the table"),
  (60, "unknown table"),
  (81, "unknown database"),
  (115, "unknown setting"),
  (192, "unknown user"),
  (193, "wrong password"),
  (194, "a password is required"),
  (195, "IP address not allowed"),
  (497, "access denied"),
  (516, "authentication failed"),
];

fn valid_identifier(name: &str) -> bool {
  !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl ClickHouse {
  pub fn open(mut endpoint: Endpoint) -> Result<ClickHouse, String> {
    let (database, table) = match endpoint.path.split_once('.') {
      Some((d, t)) => (d.to_string(), t.to_string()),
      None => ("default".to_string(), endpoint.path.clone()),
    };
    if !valid_identifier(&database) || !valid_identifier(&table) {
      return Err(
        endpoint
          .error("the path must name the table as /database.table or /table (letters, digits, _)"),
      );
    }
    let column = endpoint.take("column");
    if let Some(c) = &column {
      if !valid_identifier(c) {
        return Err(endpoint.error("option column: a column name (letters, digits, _)"));
      }
    }
    endpoint.no_more_options("column")?;
    // Basic auth is how ClickHouse's HTTP interface takes a user since its first versions.
    let mut auth = Vec::new();
    if let Some(basic) = endpoint.credentials.basic() {
      auth.push(("Authorization", basic));
    } else if endpoint.credentials.token.is_some() {
      return Err(endpoint.error(
        "ClickHouse takes PRODKIT_SHIP_USER and PRODKIT_SHIP_PASSWORD, not PRODKIT_SHIP_TOKEN",
      ));
    }
    let sql = format!("INSERT INTO `{database}`.`{table}` FORMAT JSONEachRow");
    let query =
      percent_encoding::utf8_percent_encode(&sql, percent_encoding::NON_ALPHANUMERIC).to_string();
    Ok(ClickHouse {
      client: endpoint.client()?,
      auth,
      query,
      column,
      dedup_token: None,
    })
  }

  fn headers(&self) -> Vec<(&str, &str)> {
    self.auth.iter().map(|(k, v)| (*k, v.as_str())).collect()
  }

  /// Asks the server's version once: 22.2 and later take `insert_deduplication_token`.
  fn takes_dedup_token(&mut self) -> Result<bool, String> {
    if let Some(known) = self.dedup_token {
      return Ok(known);
    }
    let headers = self.headers();
    let takes = match self.client.get("/?query=SELECT%20version()", &headers) {
      Reply::Answer {
        status: 200, body, ..
      } => {
        let mut parts = body
          .trim()
          .split('.')
          .map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        (major, minor) >= (22, 2)
      }
      Reply::Answer {
        status,
        headers,
        body,
      } => return Err(part_of(self.client.shown(), status, &headers, &body).reason()),
      Reply::Failed(e) => return Err(format!("{}: {e}", self.client.shown())),
    };
    self.dedup_token = Some(takes);
    Ok(takes)
  }

  fn row(&self, line: &[u8], body: &mut Vec<u8>) {
    match &self.column {
      Some(column) => {
        body.extend_from_slice(format!("{{\"{column}\":").as_bytes());
        body.extend_from_slice(line::json_string(line).as_bytes());
        body.push(b'}');
      }
      None => match line::object(line) {
        Some(fields) => body.extend_from_slice(fields.text.trim().as_bytes()),
        None => {
          body.extend_from_slice(b"{\"msg\":");
          body.extend_from_slice(line::json_string(line).as_bytes());
          body.push(b'}');
        }
      },
    }
    body.push(b'\n');
  }
}

/// Reads a ClickHouse answer.
fn part_of(shown: &str, status: u16, headers: &http::HeaderMap, body: &str) -> Part {
  if (200..300).contains(&status) {
    return Part::Stored;
  }
  let code = headers
    .get("X-ClickHouse-Exception-Code")
    .and_then(|v| v.to_str().ok()?.trim().parse::<u32>().ok())
    .or_else(|| {
      body
        .trim_start()
        .strip_prefix("Code: ")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
    });
  match code {
    Some(code) if ROW_ERRORS.contains(&code) => {
      Part::RefusedAll(format!("ClickHouse code {code}: {}", summary(body)))
    }
    Some(code) => match CONFIG_ERRORS.iter().find(|c| c.0 == code) {
      Some((_, what)) => Part::Retry(format!(
        "{shown}: {what} (ClickHouse code {code}): {}",
        summary(body)
      )),
      None => classify(shown, status, body),
    },
    None => classify(shown, status, body),
  }
}

impl Target for ClickHouse {
  fn send(&mut self, batch: &Batch) -> Outcome {
    let token = match self.takes_dedup_token() {
      Ok(takes) => takes,
      Err(reason) => return Outcome::Retry { reason },
    };
    let mut base = format!("/?query={}", self.query);
    if self.column.is_none() {
      base.push_str("&input_format_skip_unknown_fields=1");
    }
    let headers = self.headers();
    let whole = batch.lines.len();
    send_in_parts(whole, |part| {
      let mut body = Vec::new();
      for &i in part {
        self.row(batch.lines[i], &mut body);
      }
      let mut path = base.clone();
      if token {
        // The batch id, and the part's lines when the batch is split, so each part dedups alone.
        let id = if part.len() == whole {
          batch.id.to_string()
        } else {
          format!("{}:{}+{}", batch.id, part[0], part.len())
        };
        path.push_str("&insert_deduplication_token=");
        path.push_str(
          &percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC)
            .to_string(),
        );
      }
      let shown = self.client.shown();
      self
        .client
        .post_part(&path, &headers, &body, |status, headers, answer| {
          part_of(shown, status, headers, answer)
        })
    })
  }

  fn describe(&self) -> String {
    self.client.shown().to_string()
  }
}

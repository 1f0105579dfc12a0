//! One HTTP(S) connection pool per target (ureq 3 with rustls): a POST with a per-request
//! timeout, and the answer as a status and body, or the transport failure as text. Status codes
//! are not errors here: `post_part` posts one part of a batch and hands the answer to the
//! store's own reader, with `classify` as the shared reading of what a store says no more
//! precisely (2xx stored, 400/422 refused, 413 too large, 429/5xx/no answer retried).
//!
//! Request bodies of `GZIP_FROM` bytes and more are sent gzip-compressed
//! (`Content-Encoding: gzip`) when the target compresses (`?compress=gzip`, the default for a
//! store on another machine): every store here reads gzip bodies, and log lines shrink to a
//! sixth or less, which is what a shipper on a metered or busy link wants. gzip level 1: most
//! of the gain for an eighth of level 6's CPU (measured in tests.rs,
//! `gzip_sizes_on_a_realistic_batch`).
//!
//! Redirects are not followed: a store URL that redirects is a configuration mistake, and
//! following it would resend a batch somewhere the user did not name.

use super::parts::Part;
use super::Endpoint;
use std::io::{Read, Write};
use std::sync::Arc;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// The largest answer body read (an Elasticsearch `_bulk` answer has one item per line).
const MAX_ANSWER: u64 = 64 << 20;

/// Bodies from this size up are gzip-compressed (when the target compresses): below it the
/// gzip header and the CPU cost more than the bytes saved.
pub(crate) const GZIP_FROM: usize = 1024;

pub(crate) struct Client {
  agent: ureq::Agent,
  base: String,
  shown: String,
  gzip: bool,
}

/// What came back from one request.
pub(crate) enum Reply {
  Answer {
    status: u16,
    headers: http::HeaderMap,
    body: String,
  },
  /// No answer: connection refused or reset, DNS, TLS, timeout.
  Failed(String),
}

impl Client {
  pub fn new(endpoint: &Endpoint) -> Result<Client, String> {
    let mut tls = TlsConfig::builder();
    if let Some(path) = &endpoint.ca_file {
      let certs: Vec<Certificate<'static>> = crate::ship::tls::load_ca(path)
        .map_err(|e| endpoint.error(e))?
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
      tls = tls.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    let config = ureq::Agent::config_builder()
      .timeout_global(Some(endpoint.timeout))
      .http_status_as_error(false)
      .max_redirects(0)
      .user_agent(concat!("prodkit/", env!("CARGO_PKG_VERSION")))
      .tls_config(tls.build())
      .build();
    Ok(Client {
      agent: config.into(),
      base: endpoint.base.clone(),
      shown: endpoint.shown.clone(),
      gzip: endpoint.gzip,
    })
  }

  /// POSTs `body` to `path_and_query` (starting with `/`) with these headers, gzip-compressed
  /// when the target compresses and the body is `GZIP_FROM` bytes or more.
  pub fn post(&self, path_and_query: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut request = self.agent.post(format!("{}{path_and_query}", self.base));
    for (name, value) in headers {
      request = request.header(*name, *value);
    }
    if self.gzip && body.len() >= GZIP_FROM {
      match gzip(body) {
        Ok(compressed) => {
          return answer(
            request
              .header("Content-Encoding", "gzip")
              .send(&compressed[..]),
          )
        }
        Err(e) => return Reply::Failed(format!("cannot gzip the request body: {e}")),
      }
    }
    answer(request.send(body))
  }

  /// POSTs one part of a batch and says what the store did with it: an answer is read by
  /// `read` (status, headers, body: the store's own reading, or `classify`), no answer is a
  /// `Retry` naming the target.
  pub fn post_part(
    &self,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    read: impl FnOnce(u16, &http::HeaderMap, &str) -> Part,
  ) -> Part {
    match self.post(path_and_query, headers, body) {
      Reply::Answer {
        status,
        headers,
        body,
      } => read(status, &headers, &body),
      Reply::Failed(e) => Part::Retry(format!("{}: {e}", self.shown)),
    }
  }

  /// `post_part` for the stores that read answers by status alone (`classify`).
  pub fn post_classified(
    &self,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
  ) -> Part {
    self.post_part(path_and_query, headers, body, |status, _, answer| {
      classify(&self.shown, status, answer)
    })
  }

  /// GETs `path_and_query`.
  pub fn get(&self, path_and_query: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = self.agent.get(format!("{}{path_and_query}", self.base));
    for (name, value) in headers {
      request = request.header(*name, *value);
    }
    answer(request.call())
  }

  /// For messages: the target as `describe()` shows it.
  pub fn shown(&self) -> &str {
    &self.shown
  }
}

/// gzip at level 1 (fast): log lines are repetitive, so the fast level already takes most of
/// what the default level would, at a fraction of its CPU on the shipper thread.
pub(crate) fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
  let mut encoder = flate2::write::GzEncoder::new(
    Vec::with_capacity(body.len() / 4 + 64),
    flate2::Compression::fast(),
  );
  encoder.write_all(body)?;
  encoder.finish()
}

fn answer(result: Result<http::Response<ureq::Body>, ureq::Error>) -> Reply {
  match result {
    Ok(mut response) => {
      let status = response.status().as_u16();
      let headers = response.headers().clone();
      let mut body = Vec::new();
      let read = response
        .body_mut()
        .as_reader()
        .take(MAX_ANSWER)
        .read_to_end(&mut body);
      if let Err(e) = read {
        return Reply::Failed(format!("answer {status} cut off: {e}"));
      }
      Reply::Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
      }
    }
    Err(e) => Reply::Failed(describe_error(&e)),
  }
}

fn describe_error(e: &ureq::Error) -> String {
  match e {
    ureq::Error::Timeout(which) => format!("no answer in time ({which})"),
    ureq::Error::HostNotFound => "host not found".to_string(),
    ureq::Error::ConnectionFailed => "connection failed".to_string(),
    other => other.to_string(),
  }
}

/// The shared reading of a status code, for answers a store has no more precise reading of:
/// - 2xx: stored;
/// - 400, 422: the batch is refused as it is (bisected to find the refused lines);
/// - 413: too large (bisected; a single line too large is refused);
/// - 401, 403: the credentials (a configuration problem: retried, since it is fixed outside);
/// - 3xx, 404, 405: the URL is wrong (retried, same reason);
/// - 408, 429, 5xx and anything else: retried.
pub(crate) fn classify(shown: &str, status: u16, body: &str) -> Part {
  let said = summary(body);
  match status {
    200..=299 => Part::Stored,
    400 | 422 => Part::RefusedAll(format!("{status} {said}")),
    413 => Part::TooLarge(format!("413 {said}")),
    401 | 403 => Part::Retry(format!(
      "{shown} refused the credentials ({status} {said}): check PRODKIT_SHIP_USER/PRODKIT_SHIP_PASSWORD or PRODKIT_SHIP_TOKEN"
    )),
    300..=399 | 404 | 405 => Part::Retry(format!("{shown} answered {status}: is the URL's path right? {said}")),
    _ => Part::Retry(format!("{shown} answered {status} {said}")),
  }
}

/// The first 300 characters of an answer body, on one line, for a message.
pub(crate) fn summary(body: &str) -> String {
  let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
  if one_line.chars().count() > 300 {
    format!("{}...", one_line.chars().take(300).collect::<String>())
  } else {
    one_line
  }
}

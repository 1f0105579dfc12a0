//! One HTTP(S) connection pool per target (ureq 3 with rustls): a POST with a per-request
//! timeout, and the answer as a status and body, or the transport failure as text. Status codes
//! are not errors here: each store reads its own answers (`classify` is the shared reading).
//!
//! Redirects are not followed: a store URL that redirects is a configuration mistake, and
//! following it would resend a batch somewhere the user did not name.

use super::parts::Part;
use super::Endpoint;
use std::io::Read;
use std::sync::Arc;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// The largest answer body read (an Elasticsearch `_bulk` answer has one item per line).
const MAX_ANSWER: u64 = 64 << 20;

pub(crate) struct Client {
  agent: ureq::Agent,
  base: String,
  shown: String,
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
      tls = tls.root_certs(load_ca(path).map_err(|e| endpoint.error(format!("option ca: {e}")))?);
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
    })
  }

  /// POSTs `body` to `path_and_query` (starting with `/`) with these headers.
  pub fn post(&self, path_and_query: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut request = self.agent.post(format!("{}{path_and_query}", self.base));
    for (name, value) in headers {
      request = request.header(*name, *value);
    }
    answer(request.send(body))
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

/// Reads a PEM file of CA certificates.
fn load_ca(path: &str) -> Result<RootCerts, String> {
  let pem = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
  let mut certs: Vec<Certificate<'static>> = Vec::new();
  for item in ureq::tls::parse_pem(&pem) {
    match item {
      Ok(PemItem::Certificate(cert)) => certs.push(cert),
      Ok(_) => {}
      Err(e) => return Err(format!("{path} is not a PEM file of certificates: {e}")),
    }
  }
  if certs.is_empty() {
    return Err(format!(
      "{path} has no PEM certificate (-----BEGIN CERTIFICATE-----)"
    ));
  }
  Ok(RootCerts::Specific(Arc::new(certs)))
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

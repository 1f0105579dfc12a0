//! The log stores reached over HTTP: ClickHouse, Elasticsearch/OpenSearch, Loki, Splunk HEC and
//! OTLP/HTTP logs. `open(url)` turns a target URL into a [`Target`] that sends one batch per
//! request and says what the store acknowledged, so the shipper can advance its checkpoint only
//! over lines the store has (at-least-once).
//!
//! One URL rule for all of them: `STORE://host[:port][/path][?options]` is plain HTTP and
//! `STORE+https://...` is HTTPS (`STORE+http://` is accepted too). STORE is `clickhouse`,
//! `elasticsearch` (or `opensearch`), `loki`, `splunk` or `otlp`. Credentials never come from the
//! URL (one with `user@` or `user:password@` is refused, and never echoed): they come from
//! `PRODKIT_SHIP_USER` + `PRODKIT_SHIP_PASSWORD` (HTTP basic auth) or `PRODKIT_SHIP_TOKEN` (the
//! store's token header), read once when the target is opened. Options shared by every store:
//! `timeout` (per request, `10s` by default: `500ms`, `30s`, `2m`), `ca` (a PEM file of CA
//! certificates trusted instead of the built-in Mozilla roots, for a private CA) and `compress`
//! (`gzip`: request bodies of 1 KiB and more are sent with `Content-Encoding: gzip`, which every
//! store here reads; `none` sends them as they are; the default is gzip, but none for a store
//! on this machine: `localhost`, 127.0.0.0/8, ::1).
//!
//! Messages name the target as `describe()` does: scheme, host, port and path, never
//! credentials or option values.

mod clickhouse;
mod client;
mod elasticsearch;
mod line;
mod loki;
mod otlp;
mod parts;
mod splunk;

#[cfg(test)]
mod clickhouse_real;
#[cfg(test)]
mod recorder;
#[cfg(test)]
mod tests;

use crate::ship::target::Target;
use client::Client;
use std::time::Duration;

/// The schemes of the stores this module knows (each also as `SCHEME+https`).
pub const SCHEMES: &[&str] = &[
  "clickhouse",
  "elasticsearch",
  "opensearch",
  "loki",
  "splunk",
  "otlp",
];

/// Where the store of `url` listens, and whether over TLS with which CA file: what the
/// start-up check connects to. None when the URL is not an HTTP store's (or is malformed:
/// `open` says why).
pub fn address(url: &str) -> Option<(String, u16, Option<Option<String>>)> {
  let endpoint = parse(url, Credentials::default()).ok().flatten()?;
  let tls = endpoint
    .base
    .starts_with("https:")
    .then(|| endpoint.ca_file.clone());
  Some((endpoint.host, endpoint.port, tls))
}

/// The stores this module knows, by URL scheme (before any `+https`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Store {
  ClickHouse,
  Elasticsearch,
  Loki,
  Splunk,
  Otlp,
}

impl Store {
  fn from_scheme(name: &str) -> Option<Store> {
    Some(match name {
      "clickhouse" => Store::ClickHouse,
      "elasticsearch" | "opensearch" => Store::Elasticsearch,
      "loki" => Store::Loki,
      "splunk" => Store::Splunk,
      "otlp" => Store::Otlp,
      _ => return None,
    })
  }

  /// The port each store listens on out of the box (HTTP, HTTPS).
  fn default_port(self, tls: bool) -> u16 {
    match (self, tls) {
      (Store::ClickHouse, false) => 8123,
      (Store::ClickHouse, true) => 8443,
      (Store::Elasticsearch, _) => 9200,
      (Store::Loki, _) => 3100,
      (Store::Splunk, _) => 8088,
      (Store::Otlp, _) => 4318,
    }
  }
}

/// A target URL taken apart, with the shared options applied and the store's own options left
/// in `options` for the store to take (`take`); whatever is left over is an unknown option.
pub(crate) struct Endpoint {
  pub store: Store,
  /// `scheme://host:port/path` for messages: never credentials, never option values.
  pub shown: String,
  /// `http(s)://host:port`: where requests go.
  pub base: String,
  /// The host and port of `base`, for the start-up check.
  pub host: String,
  pub port: u16,
  /// The URL's path, without the leading `/` (may be empty).
  pub path: String,
  pub options: Vec<(String, String)>,
  pub timeout: Duration,
  pub ca_file: Option<String>,
  /// Whether request bodies of `client::GZIP_FROM` bytes and more are sent gzip-compressed
  /// (`compress=gzip`, the default but for a loopback host; `compress=none` turns it off).
  pub gzip: bool,
  pub credentials: Credentials,
}

/// What the environment gave for authentication.
#[derive(Clone, Default)]
pub(crate) struct Credentials {
  pub user: Option<String>,
  pub password: Option<String>,
  pub token: Option<String>,
}

impl Credentials {
  /// `Authorization`: basic from the user and password, else `Bearer <token>` (Loki and
  /// OTLP collectors behind a gateway take either).
  pub fn basic_or_bearer(&self) -> Option<String> {
    self
      .basic()
      .or_else(|| self.token.as_ref().map(|t| format!("Bearer {t}")))
  }

  /// `Authorization: Basic ...` when a user is set.
  pub fn basic(&self) -> Option<String> {
    use base64::Engine;
    let user = self.user.as_deref()?;
    let pair = format!("{user}:{}", self.password.as_deref().unwrap_or(""));
    Some(format!(
      "Basic {}",
      base64::engine::general_purpose::STANDARD.encode(pair)
    ))
  }
}

impl Endpoint {
  /// The URL's path with its leading `/`, or `default` when the URL has none.
  pub fn path_or(&self, default: &str) -> String {
    if self.path.is_empty() {
      default.to_string()
    } else {
      format!("/{}", self.path)
    }
  }

  /// Removes and returns the option `name`, if the URL has it.
  pub fn take(&mut self, name: &str) -> Option<String> {
    let at = self.options.iter().position(|(k, _)| k == name)?;
    Some(self.options.remove(at).1)
  }

  /// Removes every option whose name starts with `prefix`, as (rest of name, value).
  pub fn take_prefixed(&mut self, prefix: &str) -> Vec<(String, String)> {
    let mut taken = Vec::new();
    self.options.retain(|(k, v)| match k.strip_prefix(prefix) {
      Some(rest) => {
        taken.push((rest.to_string(), v.clone()));
        false
      }
      None => true,
    });
    taken
  }

  /// An error about this target: `target URL (shown): what`.
  pub fn error(&self, what: impl std::fmt::Display) -> String {
    format!("ship target {}: {what}", self.shown)
  }

  /// Fails on any option the store did not take.
  pub fn no_more_options(&self, known: &str) -> Result<(), String> {
    match self.options.first() {
      None => Ok(()),
      Some((k, _)) => Err(self.error(format!(
        "unknown option `{k}` (this store takes: timeout, ca, compress{}{known})",
        if known.is_empty() { "" } else { ", " }
      ))),
    }
  }

  pub fn client(&self) -> Result<Client, String> {
    Client::new(self)
  }
}

/// Opens the HTTP store target named by `url`, reading credentials from the environment
/// (PRODKIT_SHIP_USER, PRODKIT_SHIP_PASSWORD, PRODKIT_SHIP_TOKEN). `Ok(None)` when the scheme
/// is not one of the HTTP stores (another kind of target may take it); `Err` with a message
/// naming the URL (without credentials) and what is wrong with it.
pub fn open(url: &str) -> Result<Option<Box<dyn Target>>, String> {
  let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
  let credentials = Credentials {
    user: env("PRODKIT_SHIP_USER"),
    password: env("PRODKIT_SHIP_PASSWORD"),
    token: env("PRODKIT_SHIP_TOKEN"),
  };
  open_with(url, credentials)
}

/// `open` with the credentials given (the tests' entry: no process environment involved).
pub(crate) fn open_with(
  url: &str,
  credentials: Credentials,
) -> Result<Option<Box<dyn Target>>, String> {
  let Some(endpoint) = parse(url, credentials)? else {
    return Ok(None);
  };
  let target: Box<dyn Target> = match endpoint.store {
    Store::ClickHouse => Box::new(clickhouse::ClickHouse::open(endpoint)?),
    Store::Elasticsearch => Box::new(elasticsearch::Elasticsearch::open(endpoint)?),
    Store::Loki => Box::new(loki::Loki::open(endpoint)?),
    Store::Splunk => Box::new(splunk::Splunk::open(endpoint)?),
    Store::Otlp => Box::new(otlp::Otlp::open(endpoint)?),
  };
  Ok(Some(target))
}

/// The URL without anything between `://` and `@` (credentials) and without the query: what
/// an error may show before the URL is known to be well formed.
fn redacted(url: &str) -> String {
  let url = url.split(['?', '#']).next().unwrap_or("");
  match url.split_once("://") {
    Some((scheme, rest)) => {
      let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
      let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
      format!("{scheme}://{host}{path}")
    }
    None => url.chars().take(64).collect(),
  }
}

pub(crate) fn parse(url: &str, credentials: Credentials) -> Result<Option<Endpoint>, String> {
  let bad = |what: &str| Err(format!("ship target {}: {what}", redacted(url)));
  let Some((scheme, _)) = url.split_once("://") else {
    return Ok(None);
  };
  let scheme = scheme.to_ascii_lowercase();
  let (name, transport) = scheme.split_once('+').unwrap_or((scheme.as_str(), "http"));
  let Some(store) = Store::from_scheme(name) else {
    return Ok(None);
  };
  let tls = match transport {
    "http" => false,
    "https" => true,
    _ => {
      return bad(&format!(
        "`{name}+{transport}` is not a scheme: use {name}:// (HTTP) or {name}+https://"
      ))
    }
  };
  let uri: http::Uri = match url.parse() {
    Ok(uri) => uri,
    Err(e) => return bad(&format!("not a valid URL ({e})")),
  };
  let Some(authority) = uri.authority() else {
    return bad("no host");
  };
  if authority.as_str().contains('@') {
    return bad(
      "credentials in the URL are not accepted (they would end up in logs and process lists): \
       set PRODKIT_SHIP_USER and PRODKIT_SHIP_PASSWORD, or PRODKIT_SHIP_TOKEN",
    );
  }
  let host = authority.host();
  if host.is_empty() {
    return bad("no host");
  }
  let port = authority.port_u16().unwrap_or(store.default_port(tls));
  let path = uri
    .path()
    .trim_start_matches('/')
    .trim_end_matches('/')
    .to_string();
  let mut options = Vec::new();
  for pair in uri
    .query()
    .unwrap_or("")
    .split('&')
    .filter(|p| !p.is_empty())
  {
    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
    let decode = |s: &str| {
      percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
    };
    options.push((decode(k), decode(v)));
  }
  let http_scheme = if tls { "https" } else { "http" };
  let shown_path = if path.is_empty() {
    String::new()
  } else {
    format!("/{path}")
  };
  let mut endpoint = Endpoint {
    store,
    shown: format!("{scheme}://{host}:{port}{shown_path}"),
    base: format!("{http_scheme}://{host}:{port}"),
    host: host
      .trim_start_matches('[')
      .trim_end_matches(']')
      .to_string(),
    port,
    path,
    options,
    timeout: Duration::from_secs(10),
    ca_file: None,
    // On a remote link the bytes are what costs; to a store on this machine they cost nothing
    // and gzip's CPU is all there is (2 to 4 µs a line, measured): off by default there.
    gzip: !is_loopback(host),
    credentials,
  };
  if let Some(t) = endpoint.take("timeout") {
    endpoint.timeout = match parse_duration(&t) {
      Some(d) if !d.is_zero() => d,
      _ => {
        return Err(endpoint.error(format!(
          "option timeout: `{t}` is not a duration (e.g. 500ms, 10s, 2m)"
        )))
      }
    };
  }
  if let Some(compress) = endpoint.take("compress") {
    endpoint.gzip = match compress.as_str() {
      "gzip" => true,
      "none" => false,
      _ => {
        return Err(endpoint.error(format!("option compress: `{compress}` is not gzip or none")))
      }
    };
  }
  if let Some(ca) = endpoint.take("ca") {
    if !tls {
      return Err(endpoint.error(format!("option ca is for HTTPS: use {name}+https://")));
    }
    endpoint.ca_file = Some(ca);
  }
  Ok(Some(endpoint))
}

/// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
fn is_loopback(host: &str) -> bool {
  let host = host.trim_start_matches('[').trim_end_matches(']');
  host.eq_ignore_ascii_case("localhost")
    || host
      .parse::<std::net::IpAddr>()
      .is_ok_and(|ip| ip.is_loopback())
}

/// `500ms`, `10s`, `2m`, or a bare number of milliseconds.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
  let text = text.trim();
  let split = text
    .find(|c: char| !c.is_ascii_digit())
    .unwrap_or(text.len());
  let (number, unit) = text.split_at(split);
  let n: u64 = number.parse().ok()?;
  match unit {
    "" | "ms" => Some(Duration::from_millis(n)),
    "s" => Some(Duration::from_secs(n)),
    "m" => Some(Duration::from_secs(n.checked_mul(60)?)),
    _ => None,
  }
}

//! Targets by URL: the one place where a `log.ship.to` / `--to` URL becomes a `Target`.
//! Errors name the option, list the schemes this build knows, and never echo credentials.

use std::time::Duration;

use super::net::{connect, tls_connect};
use super::relp::{Relp, DEFAULT_WINDOW, MAX_WINDOW};
use super::syslog::SyslogTcp;
use super::target::Target;

/// The parts of a target URL: `scheme://[user[:password]@]host[:port][/path][?query]`.
#[derive(Debug, PartialEq, Eq)]
pub struct Url {
  pub scheme: String,
  pub host: String,
  pub port: Option<u16>,
  pub path: String,
  pub query: String,
}

const OPTION: &str = "option log.ship.to (prodkit ship --to)";
/// Schemes handled here. The HTTP stores' schemes are added by `http::open`.
pub const SCHEMES: &[&str] = &["syslog+tcp", "syslog+tls", "relp"];

/// Parses a target URL; errors say what is wrong without repeating a password.
pub fn parse(url: &str) -> Result<Url, String> {
  let (scheme, rest) = url.split_once("://").ok_or_else(|| {
    format!("{OPTION} must be a URL such as syslog+tcp://host:514 (got no scheme://)")
  })?;
  let scheme = scheme.to_ascii_lowercase();
  let (authority, tail) = match rest.find(['/', '?']) {
    Some(i) => rest.split_at(i),
    None => (rest, ""),
  };
  let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
  let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
    let (h, after) = v6
      .split_once(']')
      .ok_or_else(|| format!("{OPTION}: unclosed [ in the host of a {scheme}:// URL"))?;
    (h.to_string(), after.strip_prefix(':'))
  } else {
    match hostport.rsplit_once(':') {
      Some((h, p)) => (h.to_string(), Some(p)),
      None => (hostport.to_string(), None),
    }
  };
  if host.is_empty() {
    return Err(format!("{OPTION}: a {scheme}:// URL needs a host"));
  }
  let port = match port {
    None | Some("") => None,
    Some(p) => Some(p.parse::<u16>().ok().filter(|&p| p > 0).ok_or_else(|| {
      format!("{OPTION}: the port of a {scheme}:// URL must be from 1 to 65535 (got {p:?})")
    })?),
  };
  let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
  Ok(Url {
    scheme,
    host,
    port,
    path: path.to_string(),
    query: query.to_string(),
  })
}

/// The value of `key` in a URL's query (`ca=/etc/ssl/ca.pem`), if given.
fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
  query
    .split('&')
    .filter_map(|pair| pair.split_once('='))
    .find(|(k, _)| *k == key)
    .map(|(_, v)| v)
}

/// The syslog target of a parsed `syslog+tcp://` or `syslog+tls://` URL.
fn syslog(parsed: &Url) -> Result<SyslogTcp, String> {
  let tls = parsed.scheme == "syslog+tls";
  for pair in parsed.query.split('&').filter(|p| !p.is_empty()) {
    let key = pair.split_once('=').map_or(pair, |(k, _)| k);
    if !(tls && key == "ca") {
      return Err(format!(
        "{OPTION}: unknown setting {key} in a {}:// URL (known: {})",
        parsed.scheme,
        if tls { "ca" } else { "none" }
      ));
    }
  }
  let port = parsed.port.unwrap_or(if tls { 6514 } else { 514 });
  let target = SyslogTcp::new(&parsed.host, port);
  if !tls {
    return Ok(target);
  }
  let config = super::tls::client_config(query_value(&parsed.query, "ca"))
    .map_err(|e| format!("{OPTION}: {e}"))?;
  Ok(target.with_tls(config))
}

/// The RELP target of a parsed `relp://` URL (`?window=N`: commands unanswered at a time).
fn relp(parsed: &Url) -> Result<Relp, String> {
  let mut window = DEFAULT_WINDOW;
  for pair in parsed.query.split('&').filter(|p| !p.is_empty()) {
    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
    if key != "window" {
      return Err(format!(
        "{OPTION}: unknown setting {key} in a {}:// URL (known: window)",
        parsed.scheme
      ));
    }
    window = value
      .parse::<usize>()
      .ok()
      .filter(|w| (1..=MAX_WINDOW).contains(w))
      .ok_or_else(|| {
        format!(
          "{OPTION}: the window of a relp:// URL must be from 1 to {MAX_WINDOW} (got {value:?})"
        )
      })?;
  }
  Ok(Relp::new(&parsed.host, parsed.port.unwrap_or(514), window))
}

/// The target of a URL. Every scheme is dispatched here: the HTTP stores' (`http::open`),
/// then syslog's and RELP's.
pub fn open(url: &str) -> Result<Box<dyn Target>, String> {
  if let Some(target) = super::http::open(url).map_err(|e| format!("{OPTION}: {e}"))? {
    return Ok(target);
  }
  let parsed = parse(url)?;
  match parsed.scheme.as_str() {
    "syslog+tcp" | "syslog+tls" => Ok(Box::new(syslog(&parsed)?)),
    "relp" => Ok(Box::new(relp(&parsed)?)),
    other => Err(format!(
      "{OPTION}: unknown target {other}:// (known: {}; each HTTP store also as STORE+https://)",
      SCHEMES
        .iter()
        .chain(super::http::SCHEMES)
        .map(|s| format!("{s}://"))
        .collect::<Vec<_>>()
        .join(", ")
    )),
  }
}

/// Opens the target and, where the protocol allows it without sending anything, checks
/// that it can be reached (and over TLS, that its certificate verifies), so that a wrong
/// host, port or certificate fails at start, naming the option.
pub fn check(url: &str, timeout: Duration) -> Result<Box<dyn Target>, String> {
  let target = open(url)?;
  let unreachable = |err: std::io::Error| {
    format!(
      "{OPTION}: cannot reach {}: {} ({})",
      target.describe(),
      super::tls::describe(&err),
      crate::log::destination::error_code(&err)
    )
  };
  if let Some((host, port, tls)) = super::http::address(url) {
    // A store over HTTP is asked nothing at start (a request would write or need rights):
    // a connection, and over HTTPS the handshake that verifies its certificate.
    let result = match tls {
      None => connect(&host, port, timeout).map(drop),
      Some(ca) => {
        let config =
          super::tls::client_config(ca.as_deref()).map_err(|e| format!("{OPTION}: {e}"))?;
        tls_connect(&host, port, &config, timeout).map(drop)
      }
    };
    result.map_err(unreachable)?;
    return Ok(target);
  }
  let parsed = parse(url)?;
  if parsed.scheme.starts_with("syslog+") {
    syslog(&parsed)?.check(timeout).map_err(unreachable)?;
  } else if parsed.scheme == "relp" {
    // An open and a close: the host answers, speaks RELP and takes syslog.
    relp(&parsed)?.check(timeout).map_err(unreachable)?;
  }
  Ok(target)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn urls_parse_and_bad_ones_say_why_without_the_password() {
    let u = parse("syslog+tcp://user:secret@logs.example:6514/x?y=1").unwrap();
    assert_eq!(
      (
        u.scheme.as_str(),
        u.host.as_str(),
        u.port,
        u.path.as_str(),
        u.query.as_str()
      ),
      ("syslog+tcp", "logs.example", Some(6514), "/x", "y=1")
    );
    assert_eq!(parse("SYSLOG+TCP://[::1]").unwrap().host, "::1");
    for bad in [
      "logs:514",
      "syslog+tcp://:514",
      "syslog+tcp://h:99999",
      "syslog+tcp://u:secret@h:0",
    ] {
      let err = parse(bad).unwrap_err();
      assert!(err.contains("log.ship.to"), "{err}");
      assert!(!err.contains("secret"), "{err}");
    }
    let err = open("kafka://h:9092").err().unwrap();
    assert!(
      err.contains("unknown target kafka://") && err.contains("syslog+tcp://"),
      "{err}"
    );
  }
}

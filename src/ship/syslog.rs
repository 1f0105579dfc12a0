//! The syslog target: RFC 5424 messages over TCP with octet counting (RFC 6587),
//! `syslog+tcp://host[:514]`, or over TLS (RFC 5425, same framing), `syslog+tls://host[:6514]`
//! (`?ca=FILE` for a private CA; see `tls.rs`).
//!
//! Each line becomes `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG`: PRI is facility
//! user (1) and the severity of the line's `level` (pino's numbers or labels), TIMESTAMP its
//! `time`, HOSTNAME its `hostname`, APP-NAME its `name` (else `service`), PROCID its `pid`,
//! MSGID its level label, and MSG the JSON line itself, bytes as written (encrypted fields
//! stay ciphertext). A missing field is `-` (the time: now).
//!
//! Delivery. Syslog over TCP has no acknowledgment: a write that succeeded only put bytes in
//! the kernel's send buffer, and a connection that drops loses what the buffers held. So a
//! batch is one connection: connect, write the batch, shut the write side down, and wait
//! for the receiver to close its side. rsyslog's imtcp closes a session when it reads the
//! end of the stream, after it has handed every frame before it to its queue; only then is
//! the batch `Acked`. Any error before that is `Retry`, and the whole batch is sent again
//! (duplicates: at most one batch per failure). What remains at risk is what the receiver
//! itself holds in memory (its queue, before its action writes it): a receiver killed at
//! that point loses it, which no TCP syslog client can see; use a disk-assisted queue in
//! rsyslog, or RELP (`relp.rs`, acknowledged per message), when that matters
//! (docs/shipping.md measures this).

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::net::{connect, tls_connect};

use serde::Deserialize;
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use super::target::{Batch, Outcome, Target};

const TIMESTAMP: &[FormatItem<'static>] =
  format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
/// Facility user.
const FACILITY: u8 = 1;

pub struct SyslogTcp {
  host: String,
  port: u16,
  timeout: Duration,
  frames: Vec<u8>,
  /// Some for `syslog+tls://`.
  tls: Option<Arc<ClientConfig>>,
}

/// The fields of a line that go into the header. Unknown fields are skipped unparsed.
#[derive(Deserialize, Default)]
struct Head<'a> {
  level: Option<serde_json::Value>,
  time: Option<serde_json::Value>,
  #[serde(borrow)]
  hostname: Option<Cow<'a, str>>,
  #[serde(borrow)]
  name: Option<Cow<'a, str>>,
  #[serde(borrow)]
  service: Option<Cow<'a, str>>,
  pid: Option<serde_json::Value>,
}

/// (severity, label) of a pino level (number or label).
fn severity(level: Option<&serde_json::Value>) -> (u8, &'static str) {
  let n = match level {
    Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(30.0),
    Some(serde_json::Value::String(s)) => match s.as_str() {
      "trace" => 10.0,
      "debug" => 20.0,
      "warn" => 40.0,
      "error" => 50.0,
      "fatal" => 60.0,
      _ => 30.0,
    },
    _ => 30.0,
  };
  match n as i64 {
    i64::MIN..=10 => (7, "trace"),
    11..=20 => (7, "debug"),
    21..=30 => (6, "info"),
    31..=40 => (4, "warn"),
    41..=50 => (3, "error"),
    _ => (2, "fatal"),
  }
}

/// A header field: printable US-ASCII without spaces, at most `max` characters; `-` if empty.
fn token(out: &mut Vec<u8>, value: Option<&str>, max: usize) {
  let start = out.len();
  if let Some(v) = value {
    out.extend(v.bytes().filter(|b| (33..=126).contains(b)).take(max));
  }
  if out.len() == start {
    out.push(b'-');
  }
}

fn timestamp(time: Option<&serde_json::Value>) -> String {
  let from_ms = |ms: i128| {
    OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000)
      .ok()
      .and_then(|t| t.format(TIMESTAMP).ok())
  };
  let found = match time {
    Some(serde_json::Value::Number(n)) => n.as_i64().and_then(|ms| from_ms(ms as i128)),
    Some(serde_json::Value::String(s))
      if !s.is_empty() && s.len() <= 40 && s.bytes().all(|b| (33..=126).contains(&b)) =>
    {
      Some(s.clone())
    }
    _ => None,
  };
  found.unwrap_or_else(|| {
    from_ms(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or_default()
  })
}

/// Appends one octet-counted RFC 5424 frame for `line`.
pub fn frame(out: &mut Vec<u8>, line: &[u8]) {
  let mut msg = Vec::with_capacity(line.len() + 128);
  message(&mut msg, line);
  out.extend_from_slice(format!("{} ", msg.len()).as_bytes());
  out.extend_from_slice(&msg);
}

/// Appends the RFC 5424 message for `line` (no framing): what syslog over TCP octet-counts
/// and what RELP (`relp.rs`) carries in a `syslog` command.
pub fn message(msg: &mut Vec<u8>, line: &[u8]) {
  let head: Head = serde_json::from_slice(line).unwrap_or_default();
  let (sev, label) = severity(head.level.as_ref());
  msg.extend_from_slice(format!("<{}>1 ", FACILITY * 8 + sev).as_bytes());
  msg.extend_from_slice(timestamp(head.time.as_ref()).as_bytes());
  msg.push(b' ');
  token(msg, head.hostname.as_deref(), 255);
  msg.push(b' ');
  token(msg, head.name.as_deref().or(head.service.as_deref()), 48);
  msg.push(b' ');
  let pid = head.pid.as_ref().map(|p| match p {
    serde_json::Value::String(s) => s.clone(),
    other => other.to_string(),
  });
  token(msg, pid.as_deref(), 128);
  msg.push(b' ');
  token(msg, Some(label), 32);
  msg.extend_from_slice(b" - ");
  msg.extend_from_slice(line);
}

impl SyslogTcp {
  pub fn new(host: &str, port: u16) -> SyslogTcp {
    SyslogTcp {
      host: host.to_string(),
      port,
      timeout: Duration::from_secs(10),
      frames: Vec::new(),
      tls: None,
    }
  }

  /// Over TLS with this client configuration.
  pub fn with_tls(mut self, config: Arc<ClientConfig>) -> SyslogTcp {
    self.tls = Some(config);
    self
  }

  fn tls_stream(
    &self,
    config: &Arc<ClientConfig>,
    timeout: Duration,
  ) -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
    tls_connect(&self.host, self.port, config, timeout)
  }

  /// Connects once (and, over TLS, completes the handshake, which verifies the server's
  /// certificate), to tell an unreachable or untrusted receiver at start.
  pub fn check(&self, timeout: Duration) -> io::Result<()> {
    match &self.tls {
      None => connect(&self.host, self.port, timeout).map(drop),
      Some(config) => self.tls_stream(config, timeout).map(drop),
    }
  }

  fn deliver(&mut self) -> io::Result<()> {
    if let Some(config) = self.tls.clone() {
      let mut stream = self.tls_stream(&config, self.timeout)?;
      stream.write_all(&self.frames)?;
      stream.conn.send_close_notify();
      stream.flush()?;
      stream.sock.shutdown(Shutdown::Write)?;
      return wait_for_close(&mut stream);
    }
    let mut stream = connect(&self.host, self.port, self.timeout)?;
    stream.write_all(&self.frames)?;
    stream.shutdown(Shutdown::Write)?;
    wait_for_close(&mut stream)
  }
}

/// Reads until the receiver closes its side: then it has read the whole batch. Over TLS a
/// receiver may close without its own close_notify (rsyslog's gtls driver does): that
/// end of the stream counts the same; a reset does not.
fn wait_for_close(stream: &mut impl Read) -> io::Result<()> {
  let mut sink = [0u8; 512];
  loop {
    match stream.read(&mut sink) {
      Ok(0) => return Ok(()),
      Ok(_) => {}
      Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
      Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
      Err(err) => return Err(err),
    }
  }
}

impl Target for SyslogTcp {
  fn send(&mut self, batch: &Batch) -> Outcome {
    self.frames.clear();
    for line in batch.lines {
      frame(&mut self.frames, line);
    }
    match self.deliver() {
      Ok(()) => Outcome::Acked,
      Err(err) => Outcome::Retry {
        reason: format!(
          "{} ({})",
          super::tls::describe(&err),
          crate::log::destination::error_code(&err)
        ),
      },
    }
  }

  fn describe(&self) -> String {
    let scheme = if self.tls.is_some() { "tls" } else { "tcp" };
    format!("syslog+{scheme}://{}:{}", self.host, self.port)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_line_becomes_an_octet_counted_rfc5424_frame() {
    let line =
      br#"{"level":50,"time":1795608000123,"pid":42,"hostname":"web 1","name":"api","msg":"x"}"#;
    let mut out = Vec::new();
    frame(&mut out, line);
    let text = String::from_utf8(out).unwrap();
    let (len, msg) = text.split_once(' ').unwrap();
    assert_eq!(len.parse::<usize>().unwrap(), msg.len());
    assert_eq!(
      msg,
      format!(
        "<11>1 2026-11-25T12:00:00.123Z web1 api 42 error - {}",
        std::str::from_utf8(line).unwrap()
      )
    );
    let mut out = Vec::new();
    frame(&mut out, b"not json");
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(" - - - info - not json"), "{text}");
    assert!(text.starts_with("52 <14>1 "), "{text}");
  }
}

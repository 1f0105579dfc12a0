//! Reading what the stores need from a log line (its time, level, logger name, message) without
//! changing the line: the stores get the line's own bytes wherever their format allows (a JSON
//! value embedded verbatim, or the line as a string), so encrypted fields ship as the ciphertext
//! strings they are. A line that is not a JSON object (a torn or foreign line) is never an
//! error: it ships as a string.

use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A line that is a JSON object: its top-level fields, each as its raw JSON text.
pub(crate) struct Fields<'a> {
  pub text: &'a str,
  pub map: BTreeMap<String, &'a RawValue>,
}

/// The line's fields, when it is UTF-8 and a JSON object.
pub(crate) fn object(line: &[u8]) -> Option<Fields<'_>> {
  let text = std::str::from_utf8(line).ok()?;
  if !text.trim_start().starts_with('{') {
    return None;
  }
  let map: BTreeMap<String, &RawValue> = serde_json::from_str(text).ok()?;
  Some(Fields { text, map })
}

/// The line itself when it is one valid JSON value of any kind (to embed verbatim).
pub(crate) fn json_value(line: &[u8]) -> Option<&str> {
  let text = std::str::from_utf8(line).ok()?;
  serde_json::from_str::<&RawValue>(text)
    .ok()
    .map(|raw| raw.get())
}

/// The line as a JSON string literal (bytes that are not UTF-8 become U+FFFD).
pub(crate) fn json_string(line: &[u8]) -> String {
  serde_json::to_string(&String::from_utf8_lossy(line)).unwrap_or_else(|_| "\"\"".to_string())
}

/// pino's levels, by number: the name and the OpenTelemetry severity number.
const LEVELS: [(u64, &str, u8); 6] = [
  (10, "trace", 1),
  (20, "debug", 5),
  (30, "info", 9),
  (40, "warn", 13),
  (50, "error", 17),
  (60, "fatal", 21),
];

/// A line's level: pino writes a number (30), or a label with `formatters.level`.
pub(crate) struct Level {
  pub name: String,
  /// OpenTelemetry SeverityNumber (1..=24); 0 (unspecified) when unknown.
  pub severity: u8,
}

impl<'a> Fields<'a> {
  /// A string field, decoded.
  pub fn string(&self, key: &str) -> Option<String> {
    serde_json::from_str::<String>(self.map.get(key)?.get()).ok()
  }

  /// The `level` field: its name (`info`; a custom number N as `level-N`) and severity.
  pub fn level(&self) -> Option<Level> {
    let raw = self.map.get("level")?.get();
    if let Ok(n) = raw.parse::<u64>() {
      return Some(match LEVELS.iter().find(|l| l.0 == n) {
        Some(&(_, name, severity)) => Level {
          name: name.to_string(),
          severity,
        },
        // A custom level: the severity of the nearest standard level below it.
        None => Level {
          name: format!("level-{n}"),
          severity: LEVELS.iter().rev().find(|l| l.0 <= n).map_or(1, |l| l.2),
        },
      });
    }
    let name = serde_json::from_str::<String>(raw).ok()?;
    let lower = name.to_ascii_lowercase();
    let severity = LEVELS.iter().find(|l| l.1 == lower).map_or(0, |l| l.2);
    Some(Level { name, severity })
  }

  /// The `time` field in nanoseconds since the Unix epoch: pino's epoch milliseconds (the
  /// default), epoch seconds (`pino.stdTimeFunctions.unixTime`: a number below 10^11), or an
  /// RFC 3339 string (`isoTime`).
  pub fn time_ns(&self) -> Option<u64> {
    let raw = self.map.get("time")?.get();
    // Digits, maybe a fraction: exact in integers (an f64 is off by tens of nanoseconds).
    if let Some((whole, fraction)) = decimal(raw) {
      let (unit, digits) = if whole < 100_000_000_000 {
        (1_000_000_000, 9)
      } else {
        (1_000_000, 6)
      };
      let fraction: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(digits)
        .collect();
      let fraction: u64 = fraction.parse().ok()?;
      return whole.checked_mul(unit)?.checked_add(fraction);
    }
    if let Ok(n) = raw.parse::<f64>() {
      if !n.is_finite() || n < 0.0 {
        return None;
      }
      let ns = if n < 1e11 { n * 1e9 } else { n * 1e6 };
      return (ns < u64::MAX as f64).then_some(ns as u64);
    }
    let text = serde_json::from_str::<String>(raw).ok()?;
    let when =
      time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(when.unix_timestamp_nanos()).ok()
  }
}

/// `123` or `123.456` as (123, "456").
fn decimal(raw: &str) -> Option<(u64, &str)> {
  let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
  if whole.is_empty()
    || !whole.bytes().all(|b| b.is_ascii_digit())
    || !fraction.bytes().all(|b| b.is_ascii_digit())
  {
    return None;
  }
  Some((whole.parse().ok()?, fraction))
}

/// Now, in nanoseconds since the Unix epoch: the time of a line that has none.
pub(crate) fn now_ns() -> u64 {
  let since = std::time::SystemTime::now()
    .duration_since(std::time::UNIX_EPOCH)
    .unwrap_or_default();
  u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn reads_pino_lines() {
    let f =
      object(br#"{"level":30,"time":1700000000123,"msg":"hi","name":"api","k":"enc:v1:AAA"}"#)
        .unwrap();
    assert_eq!(f.level().unwrap().name, "info");
    assert_eq!(f.level().unwrap().severity, 9);
    assert_eq!(f.time_ns(), Some(1_700_000_000_123_000_000));
    assert_eq!(f.string("name").as_deref(), Some("api"));
    assert_eq!(f.map["k"].get(), r#""enc:v1:AAA""#);
  }

  #[test]
  fn reads_labels_custom_levels_and_other_times() {
    let f = object(br#"{"level":"WARN","time":"2023-11-14T22:13:20.5Z"}"#).unwrap();
    assert_eq!(f.level().unwrap().severity, 13);
    assert_eq!(f.time_ns(), Some(1_700_000_000_500_000_000));
    let f = object(br#"{"level":35,"time":1700000000}"#).unwrap();
    let level = f.level().unwrap();
    assert_eq!((level.name.as_str(), level.severity), ("level-35", 9));
    assert_eq!(f.time_ns(), Some(1_700_000_000_000_000_000));
    assert!(object(br#"{"time":"yesterday"}"#)
      .unwrap()
      .time_ns()
      .is_none());
  }

  #[test]
  fn other_lines_are_not_objects_and_ship_as_strings() {
    assert!(object(b"plain text").is_none());
    assert!(object(br#"{"torn":"#).is_none());
    assert!(object(b"[1,2]").is_none());
    assert!(object(b"\xff\xfe").is_none());
    assert_eq!(json_value(b" [1, 2] "), Some("[1, 2]"));
    assert_eq!(
      object(br#"{"time":1700000000.25}"#).unwrap().time_ns(),
      Some(1_700_000_000_250_000_000)
    );
    assert_eq!(
      object(br#"{"time":1.7e12}"#).unwrap().time_ns(),
      Some(1_700_000_000_000_000_000)
    );
    assert_eq!(json_value(b"{\"a\":"), None);
    assert_eq!(json_string(b"a\"b\n\xff"), "\"a\\\"b\\n\u{fffd}\"");
  }
}

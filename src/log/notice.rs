//! Log lines that Rust writes itself (the dropped-lines count, write failures), in the same
//! shape as the JS logger's lines so that every tool reading the log understands them.

use std::time::{SystemTime, UNIX_EPOCH};

pub const INFO: u32 = 30;
pub const WARN: u32 = 40;
pub const ERROR: u32 = 50;
pub const FATAL: u32 = 60;

/// Builds lines `{"level":..,"time":..,<bindings>,"msg":..,<fields>}`.
#[derive(Clone, Debug, Default)]
pub struct NoticeFormat {
  /// A JSON object body without braces, such as `"pid":1,"hostname":"h"`, supplied by JS.
  bindings: String,
}

fn now_ms() -> u128 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_millis())
    .unwrap_or(0)
}

impl NoticeFormat {
  /// `bindings` must be the body of a JSON object; anything else is ignored so that a bad
  /// value can never make these lines invalid.
  pub fn new(bindings: &str) -> NoticeFormat {
    let wrapped = format!("{{{bindings}}}");
    let valid =
      serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&wrapped).is_ok();
    NoticeFormat {
      bindings: if valid && !bindings.trim().is_empty() {
        bindings.to_string()
      } else {
        String::new()
      },
    }
  }

  pub fn line(
    &self,
    level: u32,
    msg: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
  ) -> Vec<u8> {
    let mut out = format!("{{\"level\":{level},\"time\":{}", now_ms());
    if !self.bindings.is_empty() {
      out.push(',');
      out.push_str(&self.bindings);
    }
    for (key, value) in fields {
      out.push(',');
      out.push_str(&serde_json::Value::String(key.clone()).to_string());
      out.push(':');
      out.push_str(&value.to_string());
    }
    out.push_str(",\"msg\":");
    out.push_str(&serde_json::Value::String(msg.to_string()).to_string());
    out.push_str("}\n");
    out.into_bytes()
  }

  pub fn dropped(&self, lines: u64) -> Vec<u8> {
    let mut fields = serde_json::Map::new();
    fields.insert("droppedLines".into(), lines.into());
    self.line(
      WARN,
      &format!("prodkit dropped {lines} log lines because the log queue was full"),
      &fields,
    )
  }

  pub fn recovered(
    &self,
    destination: &str,
    code: &str,
    failures: u64,
    failed_ms: u128,
  ) -> Vec<u8> {
    let mut fields = serde_json::Map::new();
    fields.insert("errorCode".into(), code.into());
    fields.insert("failedWrites".into(), failures.into());
    fields.insert("failedForMs".into(), (failed_ms as u64).into());
    self.line(
      WARN,
      &format!("prodkit could not write the log to {destination} for {failed_ms} ms ({code}); writing again"),
      &fields,
    )
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn notices_are_valid_json_lines_with_the_bindings() {
    let f = NoticeFormat::new(r#""pid":7,"hostname":"h\"x","service":"s""#);
    let line = f.dropped(12);
    assert_eq!(*line.last().unwrap(), b'\n');
    let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
    assert_eq!(v["level"], 40);
    assert_eq!(v["pid"], 7);
    assert_eq!(v["hostname"], "h\"x");
    assert_eq!(v["droppedLines"], 12);
    assert!(v["time"].as_u64().unwrap() > 1_600_000_000_000);
    let v: serde_json::Value =
      serde_json::from_slice(&f.recovered("/x\"y", "ENOSPC", 3, 1500)).unwrap();
    assert_eq!(v["errorCode"], "ENOSPC");
    assert_eq!(v["failedWrites"], 3);
  }

  #[test]
  fn bindings_that_are_not_an_object_body_are_ignored() {
    for bad in ["\"pid\":", "}{", "1,2", "\"a\":1}", ""] {
      let v: serde_json::Value =
        serde_json::from_slice(&NoticeFormat::new(bad).dropped(1)).unwrap();
      assert_eq!(v["droppedLines"], 1);
    }
  }
}

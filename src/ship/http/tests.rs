//! The HTTP stores against a recording server (src/ship/http/recorder.rs) that checks each
//! request against the store's documented format and answers success, per-item errors, 4xx,
//! 5xx, 429, no answer (the client's timeout) and a connection reset; each answer's Outcome is
//! asserted. ClickHouse also runs for real in clickhouse_real.rs.

use super::recorder::{Answer, Recorder, Request};
use super::{open_with, Credentials};
use crate::ship::target::{Batch, Outcome, Target};
use serde_json::{json, Value};

const LINES: [&str; 4] = [
  r#"{"level":30,"time":1700000000123,"pid":7,"hostname":"h","name":"api","msg":"one","card":"enc:v1:QUJD"}"#,
  r#"{"level":50,"time":1700000000124,"name":"api","msg":"two","err":{"type":"Error"},"ok":false,"ratio":0.5}"#,
  "not json at all \u{e9}",
  r#"{"level":"warn","time":"2023-11-14T22:13:20.5Z","msg":"four"}"#,
];

fn sample() -> Vec<&'static [u8]> {
  LINES.iter().map(|l| l.as_bytes()).collect()
}

fn no_credentials() -> Credentials {
  Credentials::default()
}

fn token(t: &str) -> Credentials {
  Credentials {
    token: Some(t.into()),
    ..Credentials::default()
  }
}

fn target(url: &str, credentials: Credentials) -> Box<dyn Target> {
  open_with(url, credentials)
    .expect("a valid URL")
    .expect("an HTTP store")
}

fn send(target: &mut dyn Target, lines: &[&[u8]]) -> Outcome {
  target.send(&Batch {
    id: "f1-0",
    lines,
    stop: None,
  })
}

fn assert_acked(outcome: Outcome) {
  match outcome {
    Outcome::Acked => {}
    Outcome::Rejected { lines, reason } => panic!("rejected {lines:?}: {reason}"),
    Outcome::Retry { reason } => panic!("retry: {reason}"),
  }
}

fn rejected(outcome: Outcome) -> (Vec<usize>, String) {
  match outcome {
    Outcome::Rejected { lines, reason } => (lines, reason),
    Outcome::Acked => panic!("acked"),
    Outcome::Retry { reason } => panic!("retry: {reason}"),
  }
}

fn retry(outcome: Outcome) -> String {
  match outcome {
    Outcome::Retry { reason } => reason,
    Outcome::Acked => panic!("acked"),
    Outcome::Rejected { lines, reason } => panic!("rejected {lines:?}: {reason}"),
  }
}

fn ok(body: Value) -> Answer {
  Answer::Status(200, body.to_string())
}

// ---- opening targets ------------------------------------------------------------------------

#[test]
fn other_schemes_are_not_ours() {
  for url in [
    "syslog+tcp://h:514",
    "relp://h:2514",
    "file:///tmp/x",
    "plain words",
  ] {
    assert!(open_with(url, no_credentials()).unwrap().is_none(), "{url}");
  }
}

#[test]
fn bad_urls_say_what_is_wrong_and_never_show_credentials() {
  let cases = [
    ("loki://user:s3cret@h:3100", "credentials in the URL"),
    ("elasticsearch://h:9200", "must name the index"),
    ("clickhouse://h/db.ta-ble", "database.table"),
    ("loki+ftp://h", "not a scheme"),
    ("loki://h?timeout=soon", "option timeout"),
    ("loki://h?timeout=0", "option timeout"),
    ("loki://h?bogus=1", "unknown option `bogus`"),
    (
      "loki://h?compress=zstd",
      "option compress: `zstd` is not gzip or none",
    ),
    ("splunk://h?ack=soon", "option ack"),
    ("loki://h?label.level=x", "option label.level"),
    ("loki://h?ca=/etc/ssl/ca.pem", "option ca is for HTTPS"),
    (
      "loki+https://h?ca=/nonexistent/ca.pem",
      "option ca: cannot read the CA file /nonexistent/ca.pem",
    ),
    ("splunk://h:8088", "PRODKIT_SHIP_TOKEN"),
    ("clickhouse://h/t", ""),
  ];
  for (url, expected) in cases {
    match open_with(url, no_credentials()) {
      Err(message) => {
        assert!(!expected.is_empty(), "{url}: {message}");
        assert!(message.contains(expected), "{url}: {message}");
        assert!(
          !message.contains("s3cret") && !message.contains("user:"),
          "{message}"
        );
        assert!(message.starts_with("ship target "), "{message}");
      }
      Ok(Some(t)) => assert!(expected.is_empty(), "{url} opened as {}", t.describe()),
      Ok(None) => panic!("{url}: not ours"),
    }
  }
  let describe = target("clickhouse+https://h/db.t?timeout=2s", no_credentials()).describe();
  assert_eq!(describe, "clickhouse+https://h:8443/db.t");
}

#[test]
fn gzip_is_the_default_but_for_a_store_on_this_machine() {
  let gzip = |url: &str| super::parse(url, no_credentials()).unwrap().unwrap().gzip;
  assert!(gzip("loki://logs.internal"));
  assert!(gzip("loki://10.0.0.9:3100"));
  assert!(!gzip("loki://logs.internal?compress=none"));
  for local in [
    "loki://localhost",
    "loki://127.0.0.1",
    "loki://127.1.2.3",
    "loki://[::1]:3100",
  ] {
    assert!(!gzip(local), "{local}");
    assert!(gzip(&format!("{local}?compress=gzip")), "{local}");
  }
}

#[test]
fn a_ca_file_without_certificates_is_refused() {
  let dir = std::env::temp_dir().join(format!("prodkit-ship-ca-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let path = dir.join("ca.pem");
  std::fs::write(&path, "not a certificate\n").unwrap();
  let result = open_with(
    &format!("otlp+https://h?ca={}", path.display()),
    no_credentials(),
  );
  // The syslog target loads its CA file with the same function, and says the same.
  let syslog = crate::ship::tls::client_config(Some(&path.display().to_string())).err();
  let missing = crate::ship::tls::client_config(Some("/nonexistent/ca.pem")).err();
  std::fs::remove_dir_all(&dir).unwrap();
  let message = result.err().expect("an error");
  let expected = format!(
    "option ca: the CA file {} holds no PEM certificate",
    path.display()
  );
  assert!(message.contains(&expected), "{message}");
  let syslog = syslog.expect("an error for syslog too");
  assert!(syslog.starts_with(&expected), "{syslog}");
  let missing = missing.expect("an error for a missing file");
  assert!(
    missing.starts_with("option ca: cannot read the CA file /nonexistent/ca.pem"),
    "{missing}"
  );
}

// ---- status classes, through one store (Loki) -----------------------------------------------

#[test]
fn status_classes() {
  let server = Recorder::start(|r| {
    let body = r.text();
    let status = [
      "s200", "s204", "s401", "s403", "s404", "s429", "s500", "s503",
    ]
    .iter()
    .find(|s| body.contains(*s))
    .map_or(204, |s| s[1..].parse().unwrap());
    Answer::Status(status, r#"{"message":"said"}"#.into())
  });
  let mut loki = target(&server.url("loki", ""), no_credentials());
  let line = |tag: &str| format!(r#"{{"level":30,"time":1,"msg":"{tag}"}}"#);
  for tag in ["s200", "s204"] {
    assert_acked(send(&mut *loki, &[line(tag).as_bytes()]));
  }
  for (tag, expected) in [
    ("s401", "refused the credentials (401"),
    ("s403", "PRODKIT_SHIP_USER"),
    ("s404", "is the URL's path right"),
    ("s429", "answered 429"),
    ("s500", "answered 500"),
    ("s503", "answered 503 {\"message\":\"said\"}"),
  ] {
    let reason = retry(send(&mut *loki, &[line(tag).as_bytes()]));
    assert!(reason.contains(expected), "{tag}: {reason}");
    assert!(
      reason.contains(&format!("loki://127.0.0.1:{}", server.port)),
      "{reason}"
    );
  }
}

#[test]
fn a_refused_batch_is_bisected_down_to_the_refused_lines() {
  let server = Recorder::start(|r| {
    if r.text().contains("BAD") {
      Answer::Status(400, "entry out of order".into())
    } else {
      Answer::Status(204, String::new())
    }
  });
  let mut loki = target(&server.url("loki", ""), no_credentials());
  let owned: Vec<String> = (0..8)
    .map(|i| {
      format!(
        r#"{{"time":1,"msg":"{}"}}"#,
        if i == 2 || i == 5 { "BAD" } else { "ok" }
      )
    })
    .collect();
  let batch: Vec<&[u8]> = owned.iter().map(|l| l.as_bytes()).collect();
  let (lines, reason) = rejected(send(&mut *loki, &batch));
  assert_eq!(lines, vec![2, 5]);
  assert!(reason.contains("400 entry out of order"), "{reason}");
  // Every line that is not refused reached the store (some parts were refused before).
  let stored: usize = server
    .requests()
    .iter()
    .filter(|r| !r.text().contains("BAD"))
    .map(|r| r.json()["streams"][0]["values"].as_array().unwrap().len())
    .sum();
  assert_eq!(stored, 6);
}

#[test]
fn too_large_halves_the_batch_and_refuses_a_single_line_too_large() {
  let server = Recorder::start(|r| {
    if r.body.len() > 400 {
      Answer::Status(413, "too large".into())
    } else {
      Answer::Status(204, String::new())
    }
  });
  let mut loki = target(&server.url("loki", ""), no_credentials());
  let big = format!(r#"{{"msg":"{}"}}"#, "x".repeat(600));
  let small = r#"{"msg":"small"}"#;
  let batch: Vec<&[u8]> = vec![
    small.as_bytes(),
    small.as_bytes(),
    big.as_bytes(),
    small.as_bytes(),
    small.as_bytes(),
  ];
  let (lines, reason) = rejected(send(&mut *loki, &batch));
  assert_eq!(lines, vec![2]);
  assert!(reason.starts_with("413"), "{reason}");
}

#[test]
fn no_answer_in_time_reset_and_refused_connections_are_retried() {
  let hang = Recorder::start(|_| Answer::Hang);
  let mut loki = target(&hang.url("loki", "?timeout=300ms"), no_credentials());
  let reason = retry(send(&mut *loki, &sample()));
  assert!(reason.contains("no answer in time"), "{reason}");

  let reset = Recorder::start(|_| Answer::Reset);
  let mut loki = target(&reset.url("loki", ""), no_credentials());
  let reason = retry(send(&mut *loki, &sample()));
  assert!(
    reason.contains(&format!("127.0.0.1:{}", reset.port)),
    "{reason}"
  );

  let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
  let port = closed.local_addr().unwrap().port();
  drop(closed);
  let mut loki = target(&format!("loki://127.0.0.1:{port}"), no_credentials());
  let reason = retry(send(&mut *loki, &sample()));
  assert!(
    reason.contains(&format!("loki://127.0.0.1:{port}")),
    "{reason}"
  );
}

// ---- Loki ------------------------------------------------------------------------------------

#[test]
fn loki_push_format() {
  let server = Recorder::start(|_| Answer::Status(204, String::new()));
  let url = server.url("loki", "?label.job=checkout&tenant=team-a");
  let mut loki = target(&url, token("tok"));
  assert_acked(send(&mut *loki, &sample()));
  let requests = server.requests();
  assert_eq!(requests.len(), 1);
  let r: &Request = &requests[0];
  assert_eq!(
    (r.method.as_str(), r.target.as_str()),
    ("POST", "/loki/api/v1/push")
  );
  assert_eq!(r.header("content-type"), Some("application/json"));
  assert_eq!(r.header("x-scope-orgid"), Some("team-a"));
  assert_eq!(r.header("authorization"), Some("Bearer tok"));
  let streams = r.json()["streams"].as_array().unwrap().clone();
  let find = |labels: Value| {
    streams
      .iter()
      .find(|s| s["stream"] == labels)
      .unwrap_or_else(|| panic!("{labels} in {streams:?}"))
      .clone()
  };
  let info = find(json!({"job":"checkout","level":"info","name":"api"}));
  assert_eq!(info["values"], json!([["1700000000123000000", LINES[0]]]));
  let error = find(json!({"job":"checkout","level":"error","name":"api"}));
  assert_eq!(error["values"], json!([["1700000000124000000", LINES[1]]]));
  let warn = find(json!({"job":"checkout","level":"warn"}));
  assert_eq!(warn["values"], json!([["1700000000500000000", LINES[3]]]));
  // The line that is not JSON ships whole, at the time of sending.
  let unknown = find(json!({"job":"checkout","level":"unknown"}));
  assert_eq!(unknown["values"][0][1], json!(LINES[2]));
  let ts: u64 = unknown["values"][0][0].as_str().unwrap().parse().unwrap();
  assert!(ts > 1_700_000_000_000_000_000);
  assert_eq!(streams.len(), 4);
}

// ---- Elasticsearch ---------------------------------------------------------------------------

#[test]
fn elasticsearch_bulk_format() {
  let server = Recorder::start(|_| ok(json!({"took":1,"errors":false,"items":[]})));
  let mut es = target(
    &server.url("elasticsearch", "/logs-app"),
    Credentials {
      user: Some("u".into()),
      password: Some("p".into()),
      ..Default::default()
    },
  );
  assert_acked(send(&mut *es, &sample()));
  let r = &server.requests()[0];
  assert_eq!(
    (r.method.as_str(), r.target.as_str()),
    ("POST", "/logs-app/_bulk")
  );
  assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
  assert_eq!(r.header("authorization"), Some("Basic dTpw"));
  let text = r.text();
  assert!(text.ends_with('\n'), "NDJSON ends with a newline");
  let rows: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
  assert_eq!(rows.len(), 8);
  for (i, pair) in rows.chunks(2).enumerate() {
    let action: Value = serde_json::from_str(pair[0]).unwrap();
    assert_eq!(action, json!({"create":{"_id":format!("f1-0:{i}")}}));
    let doc: Value = serde_json::from_str(pair[1]).unwrap();
    assert!(doc.is_object());
  }
  assert_eq!(rows[1], LINES[0], "the line is the document, byte for byte");
  assert_eq!(
    serde_json::from_str::<Value>(rows[5]).unwrap(),
    json!({"message": LINES[2]})
  );
}

#[test]
fn elasticsearch_per_item_errors() {
  let server = Recorder::start(|r| {
    let n = r.text().matches("\"create\"").count();
    if r.text().contains("retry-me") {
      return ok(
        json!({"errors":true,"items":[{"create":{"status":429,"error":{"type":"es_rejected_execution_exception"}}}]}),
      );
    }
    let items: Vec<Value> = (0..n)
      .map(|i| match i {
        1 => json!({"create":{"_id":"x","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [ratio]"}}}),
        2 => json!({"create":{"_id":"x","status":409,"error":{"type":"version_conflict_engine_exception"}}}),
        _ => json!({"create":{"_id":"x","status":201}}),
      })
      .collect();
    ok(json!({"took":3,"errors":true,"items":items}))
  });
  let mut es = target(&server.url("opensearch", "/logs"), no_credentials());
  let (lines, reason) = rejected(send(&mut *es, &sample()));
  assert_eq!(
    lines,
    vec![1],
    "409 (already there) is stored, 400 is refused"
  );
  assert!(
    reason.contains("400") && reason.contains("mapper_parsing_exception"),
    "{reason}"
  );
  let reason = retry(send(&mut *es, &[br#"{"msg":"retry-me"}"#]));
  assert!(reason.contains("429"), "{reason}");
  let whole = Recorder::start(|_| Answer::Status(401, r#"{"error":"security_exception"}"#.into()));
  let reason = retry(send(
    &mut *target(&whole.url("elasticsearch", "/logs"), token("k")),
    &sample(),
  ));
  assert!(reason.contains("credentials"), "{reason}");
  assert_eq!(
    whole.requests()[0].header("authorization"),
    Some("ApiKey k")
  );
}

// ---- Splunk HEC ------------------------------------------------------------------------------

#[test]
fn splunk_hec_format() {
  let server = Recorder::start(|_| ok(json!({"text":"Success","code":0})));
  let url = server.url(
    "splunk",
    "?index=main&sourcetype=_json&channel=FE0ECFAD-13D5-401B-847D-77833BD77131",
  );
  let mut hec = target(&url, token("abc-123"));
  assert_acked(send(&mut *hec, &sample()));
  let r = &server.requests()[0];
  assert_eq!(r.target, "/services/collector/event");
  assert_eq!(r.header("authorization"), Some("Splunk abc-123"));
  assert_eq!(
    r.header("x-splunk-request-channel"),
    Some("FE0ECFAD-13D5-401B-847D-77833BD77131")
  );
  let events: Vec<Value> = serde_json::Deserializer::from_slice(&r.body)
    .into_iter::<Value>()
    .map(|e| e.unwrap())
    .collect();
  assert_eq!(events.len(), 4);
  assert_eq!(events[0]["time"], json!(1700000000.123));
  assert_eq!(events[0]["index"], json!("main"));
  assert_eq!(events[0]["sourcetype"], json!("_json"));
  assert_eq!(
    events[0]["event"],
    serde_json::from_str::<Value>(LINES[0]).unwrap()
  );
  assert!(
    r.text().contains(LINES[0]),
    "the event is the line as written"
  );
  assert_eq!(events[2]["event"], json!(LINES[2]));
  assert!(events[2].get("time").is_none(), "no time: HEC stamps it");
  assert_eq!(events[3]["time"], json!(1700000000.5));
}

#[test]
fn splunk_invalid_event_is_set_aside_and_the_rest_resent() {
  let server = Recorder::start(|r| {
    let events: Vec<Value> = serde_json::Deserializer::from_slice(&r.body)
      .into_iter::<Value>()
      .map(|e| e.unwrap())
      .collect();
    match events.iter().position(|e| e["event"] == json!("")) {
      Some(n) => Answer::Status(
        400,
        json!({"text":"Event field cannot be blank","code":13,"invalid-event-number":n})
          .to_string(),
      ),
      None => ok(json!({"text":"Success","code":0})),
    }
  });
  let mut hec = target(&server.url("splunk", ""), token("t"));
  let batch: Vec<&[u8]> = vec![b"a", b"", b"c"];
  let (lines, reason) = rejected(send(&mut *hec, &batch));
  assert_eq!(lines, vec![1]);
  assert!(reason.contains("code 13"), "{reason}");
  let last = server.requests().last().unwrap().clone();
  assert_eq!(last.text(), "{\"event\":\"a\"}\n{\"event\":\"c\"}\n");

  let config = Recorder::start(|_| {
    Answer::Status(
      400,
      json!({"text":"Incorrect index","code":7,"invalid-event-number":0}).to_string(),
    )
  });
  let reason = retry(send(
    &mut *target(&config.url("splunk", "?index=nope"), token("t")),
    &sample(),
  ));
  assert!(reason.contains("index is not allowed"), "{reason}");
  let busy =
    Recorder::start(|_| Answer::Status(503, json!({"text":"Server is busy","code":9}).to_string()));
  let reason = retry(send(
    &mut *target(&busy.url("splunk", ""), token("t")),
    &sample(),
  ));
  assert!(reason.contains("503"), "{reason}");
}

// ---- OTLP ------------------------------------------------------------------------------------

#[test]
fn otlp_logs_format() {
  let server = Recorder::start(|_| ok(json!({})));
  let mut otlp = target(&server.url("otlp", "?service=checkout"), no_credentials());
  assert_acked(send(&mut *otlp, &sample()));
  let r = &server.requests()[0];
  assert_eq!(r.target, "/v1/logs");
  assert_eq!(r.header("content-type"), Some("application/json"));
  let body = r.json();
  let resource_logs = &body["resourceLogs"][0];
  assert_eq!(
    resource_logs["resource"]["attributes"],
    json!([{"key":"service.name","value":{"stringValue":"checkout"}}])
  );
  assert_eq!(
    resource_logs["scopeLogs"][0]["scope"]["name"],
    json!("prodkit")
  );
  let records = resource_logs["scopeLogs"][0]["logRecords"]
    .as_array()
    .unwrap();
  assert_eq!(records.len(), 4);
  let first = &records[0];
  assert_eq!(first["timeUnixNano"], json!("1700000000123000000"));
  assert_eq!(first["severityNumber"], json!(9));
  assert_eq!(first["severityText"], json!("info"));
  assert_eq!(first["body"], json!({"stringValue":"one"}));
  let attribute = |record: &Value, key: &str| {
    record["attributes"]
      .as_array()
      .unwrap()
      .iter()
      .find(|a| a["key"] == key)
      .map(|a| a["value"].clone())
  };
  assert_eq!(attribute(first, "pid"), Some(json!({"intValue":"7"})));
  assert_eq!(
    attribute(first, "card"),
    Some(json!({"stringValue":"enc:v1:QUJD"})),
    "ciphertext as written"
  );
  assert_eq!(attribute(first, "time"), None);
  let second = &records[1];
  assert_eq!(second["severityNumber"], json!(17));
  assert_eq!(
    attribute(second, "err"),
    Some(json!({"stringValue":"{\"type\":\"Error\"}"}))
  );
  assert_eq!(attribute(second, "ok"), Some(json!({"boolValue":false})));
  assert_eq!(attribute(second, "ratio"), Some(json!({"doubleValue":0.5})));
  assert_eq!(records[2]["body"], json!({"stringValue": LINES[2]}));
  assert!(records[2].get("severityNumber").is_none());
  assert_eq!(records[3]["severityNumber"], json!(13));
  assert_eq!(records[3]["timeUnixNano"], json!("1700000000500000000"));
}

#[test]
fn otlp_partial_success_is_reported() {
  let server = Recorder::start(|_| {
    ok(json!({"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}}))
  });
  let (lines, reason) = rejected(send(
    &mut *target(&server.url("otlp", ""), no_credentials()),
    &sample(),
  ));
  assert_eq!(
    lines,
    vec![0, 1, 2, 3],
    "OTLP does not say which: the request's lines are set aside"
  );
  assert!(
    reason.contains("refused 2 of 4 log records") && reason.contains("too old"),
    "{reason}"
  );
  assert_eq!(server.requests().len(), 1, "not sent again");

  // A 200 with a partialSuccess of 0 (a warning only) or none is stored.
  let warning = Recorder::start(|_| {
    ok(json!({"partialSuccess":{"rejectedLogRecords":0,"errorMessage":"slow down"}}))
  });
  assert_acked(send(
    &mut *target(&warning.url("otlp", ""), no_credentials()),
    &sample(),
  ));

  // Through the shipper: the lines go to `.rejected`, counted, and the checkpoint moves on.
  let dir = std::env::temp_dir().join(format!(
    "prodkit-otlp-partial-{}-{}",
    std::process::id(),
    line_now()
  ));
  std::fs::create_dir_all(&dir).unwrap();
  let log = dir.join("app.log");
  let body: String = LINES.iter().map(|l| format!("{l}\n")).collect();
  std::fs::write(&log, &body).unwrap();
  let shipped = ship_file(&log, &server.url("otlp", ""), 4);
  let rejected_file = std::fs::read_to_string(dir.join("app.log.rejected")).unwrap_or_default();
  std::fs::remove_dir_all(&dir).unwrap();
  let stats = shipped.expect("caught up");
  assert_eq!(stats, (4, 4), "(lines shipped, lines set aside)");
  assert_eq!(rejected_file, body);
}

fn line_now() -> u64 {
  super::line::now_ns()
}

/// Runs the real shipper thread on `log` until it has shipped `lines` lines (a generous
/// deadline), then stops it: (lines shipped, lines set aside).
fn ship_file(log: &std::path::Path, url: &str, lines: u64) -> Result<(u64, u64), String> {
  use crate::ship::shipper::{start, Control, ShipConfig, ShipStats};
  use std::sync::atomic::Ordering;
  use std::sync::Arc;
  let mut config = ShipConfig::new(log);
  config.flush = std::time::Duration::from_millis(50);
  let stats = Arc::new(ShipStats::default());
  let control = Arc::new(Control::default());
  let thread = start(
    config,
    target(url, no_credentials()),
    stats.clone(),
    control.clone(),
  )
  .map_err(|e| e.to_string())?;
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
  while stats.lines.load(Ordering::Relaxed) < lines && std::time::Instant::now() < deadline {
    std::thread::sleep(std::time::Duration::from_millis(20));
  }
  control.stop();
  thread.join().map_err(|_| "the shipper thread panicked")?;
  let shipped = stats.lines.load(Ordering::Relaxed);
  if shipped < lines {
    return Err(format!("{shipped} of {lines} lines shipped in 60 s"));
  }
  Ok((shipped, stats.rejected_lines.load(Ordering::Relaxed)))
}

// ---- ClickHouse (recorded: a new server's dedup token and error codes) ------------------------

#[test]
fn clickhouse_new_server_gets_the_dedup_token_and_row_errors_are_bisected() {
  let server = Recorder::start(|r| {
    if r.method == "GET" {
      return Answer::Status(200, "24.3.1.2672\n".into());
    }
    if r.text().contains("two") {
      Answer::Status(
        400,
        "Code: 27. DB::Exception: Cannot parse input: expected '\"' before: ...".into(),
      )
    } else {
      Answer::Status(200, String::new())
    }
  });
  let mut ch = target(&server.url("clickhouse", "/db.logs"), no_credentials());
  let (lines, reason) = rejected(send(&mut *ch, &sample()));
  assert_eq!(lines, vec![1]);
  assert!(reason.contains("ClickHouse code 27"), "{reason}");
  let requests = server.requests();
  assert_eq!(requests[0].target, "/?query=SELECT%20version()");
  let first = &requests[1];
  assert!(
    first
      .target
      .starts_with("/?query=INSERT%20INTO%20%60db%60%2E%60logs%60%20FORMAT%20JSONEachRow"),
    "{}",
    first.target
  );
  assert!(first.target.contains("&input_format_skip_unknown_fields=1"));
  assert!(
    first.target.ends_with("&insert_deduplication_token=f1%2D0"),
    "{}",
    first.target
  );
  // Parts carry their own token: the batch id, first line and count.
  assert!(
    requests[2]
      .target
      .ends_with("&insert_deduplication_token=f1%2D0%3A0%2B2"),
    "{}",
    requests[2].target
  );
  let rows: Vec<&str> = first.text().lines().collect();
  assert_eq!(rows[0], LINES[0]);
  assert_eq!(
    serde_json::from_str::<Value>(rows[2]).unwrap(),
    json!({"msg": LINES[2]})
  );
  assert_eq!(
    requests.iter().filter(|r| r.method == "GET").count(),
    1,
    "the version is asked once"
  );
}

#[test]
fn clickhouse_configuration_errors_are_retried_with_the_reason() {
  let server = Recorder::start(|r| {
    if r.method == "GET" {
      return Answer::Status(200, "18.16.1\n".into());
    }
    Answer::Status(
      404,
      "Code: 60, e.displayText() = DB::Exception: Table db.nope doesn't exist.".into(),
    )
  });
  let mut ch = target(
    &server.url("clickhouse", "/db.nope?column=line"),
    no_credentials(),
  );
  let reason = retry(send(&mut *ch, &sample()));
  assert!(
    reason.contains("unknown table (ClickHouse code 60)"),
    "{reason}"
  );
  let insert = server
    .requests()
    .into_iter()
    .find(|r| r.method == "POST")
    .unwrap();
  assert!(
    !insert.target.contains("insert_deduplication_token"),
    "18.16 has no such setting"
  );
  assert_eq!(
    insert.text().lines().next().unwrap(),
    serde_json::to_string(&json!({"line": LINES[0]})).unwrap()
  );
}

// ---- HTTPS -----------------------------------------------------------------------------------

#[test]
fn https_with_a_private_ca_and_a_certificate_that_does_not_verify() {
  let rcgen::CertifiedKey { cert, signing_key } =
    rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
  let key = rustls::pki_types::PrivateKeyDer::Pkcs8(signing_key.serialize_der().into());
  let server = Recorder::start_tls(vec![cert.der().clone()], key, |_| {
    Answer::Status(204, String::new())
  });
  let dir = std::env::temp_dir().join(format!("prodkit-ship-tls-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let ca = dir.join("ca.pem");
  std::fs::write(&ca, cert.pem()).unwrap();
  let trusted = open_with(
    &server.url("loki+https", &format!("?ca={}", ca.display())),
    no_credentials(),
  );
  std::fs::remove_dir_all(&dir).unwrap();
  let mut loki = trusted.unwrap().unwrap();
  assert_eq!(
    loki.describe(),
    format!("loki+https://127.0.0.1:{}", server.port)
  );
  assert_acked(send(&mut *loki, &sample()));
  assert_eq!(server.requests()[0].target, "/loki/api/v1/push");

  // The built-in roots do not know this certificate: retried, saying why.
  let mut untrusted = target(&server.url("loki+https", ""), no_credentials());
  let reason = retry(send(&mut *untrusted, &sample()));
  assert!(reason.to_lowercase().contains("certificate"), "{reason}");
  assert_eq!(server.requests().len(), 1);
}

// ---- gzip request bodies ---------------------------------------------------------------------

/// Lines like a service's: request logs with ids, paths, statuses and durations that vary.
fn realistic_lines(n: usize) -> Vec<String> {
  let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
  let mut next = move || {
    seed = seed
      .wrapping_mul(6_364_136_223_846_793_005)
      .wrapping_add(1_442_695_040_888_963_407);
    seed >> 33
  };
  let paths = [
    "/api/orders",
    "/api/orders/:id",
    "/api/cart",
    "/health",
    "/api/users/:id/sessions",
  ];
  let methods = ["GET", "POST", "PUT", "DELETE"];
  (0..n)
    .map(|i| {
      let status = [200, 200, 200, 201, 204, 304, 400, 404, 500][next() as usize % 9];
      let level = if status >= 500 { 50 } else { 30 };
      format!(
        r#"{{"level":{level},"time":{},"pid":{},"hostname":"web-{}","name":"checkout","reqId":"{:08x}-{:04x}","req":{{"method":"{}","url":"{}","remoteAddress":"10.0.{}.{}"}},"res":{{"statusCode":{status}}},"responseTime":{}.{},"userId":{},"msg":"request completed"}}"#,
        1_700_000_000_000u64 + i as u64 * 3 + next() % 3,
        4000 + next() % 4,
        next() % 3,
        next(),
        next() % 65536,
        methods[next() as usize % 4],
        paths[next() as usize % 5],
        next() % 256,
        next() % 256,
        next() % 900,
        next() % 1000,
        next() % 100_000,
      )
    })
    .collect()
}

/// What each store is opened with: Splunk needs its token, ClickHouse takes none.
fn credentials_for(scheme: &str) -> Credentials {
  match scheme {
    "splunk" => token("t"),
    _ => no_credentials(),
  }
}

/// Each store with an answer of success, and its URL.
fn store_recorders() -> Vec<(&'static str, Recorder, String)> {
  let store = |scheme: &'static str, path: &str, answer: fn(&Request) -> Answer| {
    let server = Recorder::start(answer);
    let url = server.url(scheme, path);
    (scheme, server, url)
  };
  vec![
    store("clickhouse", "/db.logs", |r| {
      if r.method == "GET" {
        Answer::Status(200, "18.16.1\n".into())
      } else {
        Answer::Status(200, String::new())
      }
    }),
    store("elasticsearch", "/logs", |_| {
      ok(json!({"took":1,"errors":false,"items":[]}))
    }),
    store("loki", "", |_| Answer::Status(204, String::new())),
    store("splunk", "", |_| ok(json!({"text":"Success","code":0}))),
    store("otlp", "", |_| ok(json!({}))),
  ]
}

#[test]
fn bodies_from_1_kib_are_gzipped_for_every_store_and_read_back_whole() {
  let owned = realistic_lines(500);
  let lines: Vec<&[u8]> = owned.iter().map(|l| l.as_bytes()).collect();
  for (scheme, server, url) in store_recorders() {
    for compress in ["", "?compress=gzip", "?compress=none"] {
      let mut t = target(&format!("{url}{compress}"), credentials_for(scheme));
      assert_acked(send(&mut *t, &lines));
      assert_acked(send(&mut *t, &sample()[..1]));
    }
    let posts: Vec<Request> = server
      .requests()
      .into_iter()
      .filter(|r| r.method == "POST")
      .collect();
    assert_eq!(posts.len(), 6, "{scheme}");
    for (i, r) in posts.iter().enumerate() {
      // Only the big body with ?compress=gzip: a loopback store gets none by default.
      let gzipped = i == 2;
      assert_eq!(
        r.header("content-encoding"),
        gzipped.then_some("gzip"),
        "{scheme} request {i}"
      );
      if gzipped {
        assert!(
          r.wire_len * 4 < r.body.len(),
          "{scheme}: {} bytes for {}",
          r.wire_len,
          r.body.len()
        );
      } else {
        assert_eq!(r.wire_len, r.body.len(), "{scheme} request {i}");
      }
    }
    // The same request whether compressed or not: the store reads the same thing.
    let text = |r: &Request| r.text().to_string();
    if scheme != "otlp" {
      assert_eq!(text(&posts[2]), text(&posts[4]), "{scheme}");
    }
    // OTLP carries the time of sending (observedTimeUnixNano): every line is there all the same.
    for i in [0, 2, 4] {
      assert_eq!(
        text(&posts[i]).matches("request completed").count(),
        500,
        "{scheme}: every line in the decoded body"
      );
    }
  }
}

/// The measurement the docs quote: bytes on the wire for one realistic 1 MiB batch (the
/// default batchBytes), with and without gzip, per store, and the CPU time of compressing.
/// `cargo test gzip_sizes -- --nocapture` prints the table.
#[test]
fn gzip_sizes_on_a_realistic_batch() {
  let mut owned = Vec::new();
  let mut total = 0;
  for line in realistic_lines(20_000) {
    if total + line.len() + 1 > 1 << 20 {
      break;
    }
    total += line.len() + 1;
    owned.push(line);
  }
  let lines: Vec<&[u8]> = owned.iter().map(|l| l.as_bytes()).collect();
  eprintln!("batch: {} lines, {total} bytes of log file", owned.len());
  for (scheme, server, url) in store_recorders() {
    let url = format!("{url}?compress=gzip");
    assert_acked(send(&mut *target(&url, credentials_for(scheme)), &lines));
    let r = server
      .requests()
      .into_iter()
      .find(|r| r.method == "POST")
      .unwrap();
    let started = std::time::Instant::now();
    let fast = super::client::gzip(&r.body).unwrap();
    let fast_time = started.elapsed();
    let started = std::time::Instant::now();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, &r.body).unwrap();
    let default = encoder.finish().unwrap();
    let default_time = started.elapsed();
    assert_eq!(r.wire_len, fast.len(), "{scheme}: level 1 is what is sent");
    eprintln!(
      "{scheme:<13} body {:>8} B  gzip-1 {:>7} B ({:.1}%, {:?})  gzip-6 {:>7} B ({:.1}%, {:?})",
      r.body.len(),
      fast.len(),
      fast.len() as f64 * 100.0 / r.body.len() as f64,
      fast_time,
      default.len(),
      default.len() as f64 * 100.0 / r.body.len() as f64,
      default_time
    );
    assert!(
      fast.len() * 3 < r.body.len(),
      "{scheme}: gzip saves two thirds"
    );
  }
}

// ---- Splunk indexer acknowledgment -----------------------------------------------------------

/// A HEC with indexer acknowledgment on, per Splunk's docs: each event request is answered
/// with the next `ackId`; `POST /services/collector/ack` with `{"acks":[...]}` on the same
/// channel answers `{"acks":{"<id>":bool}}`, false for the first `falses` queries of an id,
/// then true once (an id reported true is forgotten, as HEC does).
fn hec_with_ack(falses: u32) -> Recorder {
  use std::collections::HashMap;
  use std::sync::Mutex;
  let state: Mutex<(u64, HashMap<u64, u32>, Option<String>)> =
    Mutex::new((0, HashMap::new(), None));
  Recorder::start(move |r| {
    let Some(channel) = r.header("x-splunk-request-channel") else {
      return Answer::Status(
        400,
        json!({"text":"Data channel is missing","code":10}).to_string(),
      );
    };
    let mut state = state.lock().unwrap();
    let known = state.2.get_or_insert_with(|| channel.to_string()).clone();
    assert_eq!(channel, known, "one channel for the events and the queries");
    assert_eq!(r.header("authorization"), Some("Splunk t"));
    match r.target.as_str() {
      "/services/collector/event" => {
        let id = state.0;
        state.0 += 1;
        state.1.insert(id, falses);
        ok(json!({"text":"Success","code":0,"ackId":id}))
      }
      "/services/collector/ack" => {
        assert_eq!(r.header("content-type"), Some("application/json"));
        let query = r.json();
        let ids = query["acks"].as_array().expect("{\"acks\":[...]}");
        let mut acks = serde_json::Map::new();
        for id in ids {
          let id = id.as_u64().expect("ackIds are numbers");
          let indexed = match state.1.get_mut(&id) {
            Some(0) => {
              state.1.remove(&id);
              true
            }
            Some(n) => {
              *n -= 1;
              false
            }
            None => false,
          };
          acks.insert(id.to_string(), Value::Bool(indexed));
        }
        ok(json!({ "acks": acks }))
      }
      other => Answer::Status(404, format!("no {other}")),
    }
  })
}

#[test]
fn splunk_ack_waits_until_hec_reports_the_batch_indexed() {
  let server = hec_with_ack(2);
  let mut hec = target(
    &server.url(
      "splunk",
      "?ack=on&channel=FE0ECFAD-13D5-401B-847D-77833BD77131",
    ),
    token("t"),
  );
  assert_acked(send(&mut *hec, &sample()));
  assert_acked(send(&mut *hec, &sample()));
  let seen: Vec<(String, String)> = server
    .requests()
    .iter()
    .map(|r| (r.target.clone(), r.text().to_string()))
    .collect();
  let ack = |id: u64| {
    (
      "/services/collector/ack".to_string(),
      json!({ "acks": [id] }).to_string(),
    )
  };
  assert_eq!(seen.len(), 8, "{seen:?}");
  assert_eq!(seen[0].0, "/services/collector/event");
  assert_eq!(seen[1..4], [ack(0), ack(0), ack(0)]);
  assert_eq!(seen[4].0, "/services/collector/event");
  assert_eq!(seen[5..8], [ack(1), ack(1), ack(1)]);

  // Without a channel in the URL, one is made (a GUID) and used for both.
  let server = hec_with_ack(0);
  assert_acked(send(
    &mut *target(&server.url("splunk", "?ack=on"), token("t")),
    &sample(),
  ));
  let requests = server.requests();
  assert_eq!(requests.len(), 2);
  let channel = requests[0].header("x-splunk-request-channel").unwrap();
  assert_eq!(channel.len(), 36, "{channel}");
  assert_eq!(channel.matches('-').count(), 4, "{channel}");
}

#[test]
fn splunk_ack_resends_a_batch_never_reported_indexed() {
  let server = hec_with_ack(u32::MAX);
  let mut hec = target(&server.url("splunk", "?ack=600ms"), token("t"));
  let reason = retry(send(&mut *hec, &sample()));
  assert!(
    reason.contains("1 request(s) of the batch not reported indexed within 600 ms"),
    "{reason}"
  );
  let queries = server
    .requests()
    .iter()
    .filter(|r| r.target == "/services/collector/ack")
    .count();
  // 250 ms, then 500 ms would pass the 600 ms: two queries, with a backoff between them.
  assert_eq!(queries, 2);

  // A token without acknowledgment answers no ackId: retried, saying what to change.
  let plain = Recorder::start(|_| ok(json!({"text":"Success","code":0})));
  let reason = retry(send(
    &mut *target(&plain.url("splunk", "?ack=on"), token("t")),
    &sample(),
  ));
  assert!(
    reason.contains("indexer acknowledgment is off for this token"),
    "{reason}"
  );
  // Without ?ack, HEC's 200 is the acknowledgment: no query.
  let server = hec_with_ack(5);
  assert_acked(send(
    &mut *target(&server.url("splunk", "?channel=C"), token("t")),
    &sample(),
  ));
  assert_eq!(server.requests().len(), 1);
}

#[test]
fn splunk_ack_wait_ends_when_the_shipper_stops() {
  use crate::ship::shipper::Control;
  use std::sync::Arc;
  use std::time::{Duration, Instant};
  let server = hec_with_ack(u32::MAX);
  // A bound of a minute: without the stop flag, send would poll HEC for all of it.
  let mut hec = target(&server.url("splunk", "?ack=60s"), token("t"));
  let stop = Arc::new(Control::default());
  let setter = {
    let stop = Arc::clone(&stop);
    std::thread::spawn(move || {
      std::thread::sleep(Duration::from_millis(400));
      stop.stop();
    })
  };
  let lines = sample();
  let started = Instant::now();
  let outcome = hec.send(&Batch {
    id: "f1-0",
    lines: &lines,
    stop: Some(&stop),
  });
  let took = started.elapsed();
  setter.join().unwrap();
  let reason = retry(outcome);
  assert!(reason.contains("the shipper stopped"), "{reason}");
  assert!(
    took < Duration::from_secs(10),
    "the wait ended with the stop flag: {took:?}"
  );
}

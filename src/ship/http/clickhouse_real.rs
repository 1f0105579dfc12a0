//! The ClickHouse target against a real ClickHouse: Debian's `clickhouse-server` (18.16; .ci/run
//! installs it), started by the test with its own config in a temp folder, HTTP on a free
//! loopback port and no other listener, stopped and removed at the end even when an assertion
//! fails. Row counts are checked after shipping, and the lines stored are compared with the
//! lines sent.

use super::{open_with, Credentials};
use crate::ship::target::{Batch, Outcome, Target};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVER: &str = "/usr/sbin/clickhouse-server";

struct ClickHouseServer {
  child: Child,
  dir: PathBuf,
  port: u16,
}

impl Drop for ClickHouseServer {
  fn drop(&mut self) {
    let _ = self.child.kill();
    let _ = self.child.wait();
    let _ = std::fs::remove_dir_all(&self.dir);
  }
}

fn free_port() -> u16 {
  let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
  listener.local_addr().unwrap().port()
}

impl ClickHouseServer {
  fn start() -> ClickHouseServer {
    assert!(
      std::path::Path::new(SERVER).exists(),
      "{SERVER} is missing: apt-get install clickhouse-server (.ci/run installs it)"
    );
    let nanos = std::time::SystemTime::now()
      .duration_since(std::time::UNIX_EPOCH)
      .unwrap()
      .as_nanos();
    let dir =
      std::env::temp_dir().join(format!("prodkit-clickhouse-{}-{nanos}", std::process::id()));
    for sub in ["data", "tmp", "user_files", "format_schemas"] {
      std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let port = free_port();
    let d = dir.display();
    std::fs::write(
      dir.join("config.xml"),
      format!(
        r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/server.err.log</errorlog></logger>
  <http_port>{port}</http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
  <uncompressed_cache_size>8589934</uncompressed_cache_size>
</yandex>
"#
      ),
    )
    .unwrap();
    std::fs::write(
      dir.join("users.xml"),
      r#"<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <shipper><password>pw</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></shipper>
  </users>
  <quotas><default></default></quotas>
</yandex>
"#,
    )
    .unwrap();
    let child = Command::new(SERVER)
      .arg(format!("--config-file={d}/config.xml"))
      .stdin(Stdio::null())
      .stdout(Stdio::null())
      .stderr(Stdio::from(
        std::fs::File::create(dir.join("stderr")).unwrap(),
      ))
      .spawn()
      .expect("start clickhouse-server");
    let mut server = ClickHouseServer { child, dir, port };
    // Wait for /ping with a generous deadline (a busy CI machine), failing early if it exited.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
      if let Ok(Some(status)) = server.child.try_wait() {
        let log = std::fs::read_to_string(server.dir.join("server.err.log")).unwrap_or_default();
        let stderr = std::fs::read_to_string(server.dir.join("stderr")).unwrap_or_default();
        panic!("clickhouse-server exited ({status}): {stderr}\n{log}");
      }
      if server.query_get("/ping").is_ok_and(|b| b.trim() == "Ok.") {
        return server;
      }
      assert!(
        Instant::now() < deadline,
        "clickhouse-server did not answer /ping in 120 s"
      );
      std::thread::sleep(Duration::from_millis(100));
    }
  }

  fn query_get(&mut self, path: &str) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
      .timeout_global(Some(Duration::from_secs(30)))
      .build()
      .into();
    let mut response = agent
      .get(format!("http://127.0.0.1:{}{path}", self.port))
      .call()
      .map_err(|e| e.to_string())?;
    response
      .body_mut()
      .read_to_string()
      .map_err(|e| e.to_string())
  }

  fn query(&mut self, sql: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
      .timeout_global(Some(Duration::from_secs(30)))
      .build()
      .into();
    let mut response = agent
      .post(format!("http://127.0.0.1:{}/", self.port))
      .send(sql)
      .unwrap_or_else(|e| panic!("{sql}: {e}"));
    response.body_mut().read_to_string().unwrap()
  }

  fn count(&mut self, table: &str) -> u64 {
    self
      .query(&format!("SELECT count() FROM {table}"))
      .trim()
      .parse()
      .unwrap()
  }
}

fn ship(target: &mut dyn Target, id: &str, lines: &[&[u8]]) -> Outcome {
  target.send(&Batch {
    id,
    lines,
    stop: None,
  })
}

#[test]
fn ships_to_a_real_clickhouse() {
  let mut server = ClickHouseServer::start();
  let port = server.port;
  assert_eq!(server.query("SELECT version()").trim(), "18.16.1");
  server.query("CREATE TABLE default.logs (level UInt8, time UInt64, msg String, card String) ENGINE = MergeTree ORDER BY time");
  server.query("CREATE TABLE default.raw (line String) ENGINE = MergeTree ORDER BY tuple()");

  // Row mode: the lines are rows; unknown fields skipped; one row of the wrong type refused.
  let owned: Vec<String> = (0..2000)
    .map(|i| match i {
      700 => r#"{"level":"warn","time":700,"msg":"a label where the table wants a number"}"#.to_string(),
      1500 => "not json: a torn line".to_string(),
      _ => format!(r#"{{"level":30,"time":{i},"msg":"line {i}","card":"enc:v1:{i:x}","extra":{{"nested":[1,"}}"]}}}}"#),
    })
    .collect();
  let lines: Vec<&[u8]> = owned.iter().map(|l| l.as_bytes()).collect();
  // gzip (the default, named here): the 2000 rows go as one compressed body, which
  // ClickHouse decodes (Content-Encoding: gzip); the row checks below prove it read them.
  let url = format!("clickhouse://127.0.0.1:{port}/default.logs");
  let gzip_url = format!("{url}?compress=gzip");
  let shipper = Credentials {
    user: Some("shipper".into()),
    password: Some("pw".into()),
    ..Credentials::default()
  };
  let mut target = open_with(&gzip_url, shipper.clone()).unwrap().unwrap();
  match ship(&mut *target, "file-1:0", &lines) {
    Outcome::Rejected { lines, reason } => {
      assert_eq!(lines, vec![700], "{reason}");
      assert!(reason.contains("ClickHouse code"), "{reason}");
    }
    Outcome::Acked => panic!("acked a row ClickHouse cannot take"),
    Outcome::Retry { reason } => panic!("retry: {reason}"),
  }
  assert_eq!(server.count("default.logs"), 1999);
  assert_eq!(
    server.query("SELECT msg, card FROM default.logs WHERE time = 42 FORMAT TSV"),
    "line 42\tenc:v1:2a\n"
  );
  assert_eq!(
    server
      .query("SELECT count() FROM default.logs WHERE msg = 'not json: a torn line'")
      .trim(),
    "1"
  );
  // The same rows uncompressed (?compress=none) into a second table: the same content.
  server.query("CREATE TABLE default.plain AS default.logs");
  let mut target = open_with(
    &format!("clickhouse://127.0.0.1:{port}/default.plain?compress=none"),
    shipper,
  )
  .unwrap()
  .unwrap();
  assert!(matches!(
    ship(&mut *target, "file-1:0", &lines),
    Outcome::Rejected { .. }
  ));
  let digest = "SELECT sum(cityHash64(level, time, msg, card)) FROM default.";
  assert_eq!(
    server.query(&format!("{digest}logs")),
    server.query(&format!("{digest}plain"))
  );

  // Column mode: every line whole in one String column, whatever it holds.
  let raw: Vec<&[u8]> = vec![
    lines[0],
    lines[700],
    lines[1500],
    b"bytes \xff\xfe not UTF-8",
    b"",
  ];
  let mut target = open_with(
    &format!("{url}?column=line").replace("default.logs", "default.raw"),
    Credentials::default(),
  )
  .unwrap()
  .unwrap();
  assert!(matches!(
    ship(&mut *target, "file-1:9", &raw),
    Outcome::Acked
  ));
  assert_eq!(server.count("default.raw"), 5);
  let stored = server.query("SELECT line FROM default.raw FORMAT JSONEachRow");
  for sent in [
    owned[0].as_str(),
    owned[700].as_str(),
    owned[1500].as_str(),
    "bytes \u{fffd}\u{fffd} not UTF-8",
  ] {
    let row = serde_json::to_string(&serde_json::json!({ "line": sent })).unwrap();
    assert!(stored.lines().any(|l| l == row), "{row} not in {stored}");
  }

  // Configuration problems are retried with the reason, never refused.
  let wrong = Credentials {
    user: Some("shipper".into()),
    password: Some("nope".into()),
    ..Credentials::default()
  };
  let mut target = open_with(&url, wrong).unwrap().unwrap();
  match ship(&mut *target, "file-1:0", &lines[..1]) {
    Outcome::Retry { reason } => assert!(
      reason.contains("wrong password") || reason.contains("credentials"),
      "{reason}"
    ),
    _ => panic!("a wrong password is not retried"),
  }
  let mut target = open_with(
    &format!("clickhouse://127.0.0.1:{port}/default.nope"),
    Credentials::default(),
  )
  .unwrap()
  .unwrap();
  match ship(&mut *target, "file-1:0", &lines[..1]) {
    Outcome::Retry { reason } => assert!(reason.contains("unknown table"), "{reason}"),
    _ => panic!("an unknown table is not retried"),
  }
  assert_eq!(server.count("default.logs"), 1999);
}

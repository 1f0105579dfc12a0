//! The RELP target: rsyslog's Reliable Event Logging Protocol (librelp; rsyslog's `imrelp`),
//! `relp://host[:514][?window=N]`, over TCP (not TLS yet: docs/shipping.md says why). Each
//! line is one `syslog` command carrying the RFC 5424 message that `syslog.rs` builds, and
//! the server answers each command with an `rsp`.
//!
//! Wire format (librelp's doc/relp.md): every frame is `TXNR SP COMMAND SP DATALEN [SP DATA]
//! LF`; a session starts with `1 open` and the offers `relp_version=0`, `relp_software` and
//! `commands=syslog`, answered by `rsp` `200 OK` and the server's offers (which must list
//! `syslog`); then `TXNR syslog LEN MSG` frames, each answered by `TXNR rsp 6 200 OK`, in
//! order; `close` ends it. The server may send the hint `0 serverclose 0` before it closes.
//! Transaction numbers start at 1 and wrap from 999,999,999 to 1.
//!
//! Delivery. Up to `window` commands are unanswered at a time. A batch is `Acked` only when
//! every one of its lines has its `rsp 200`, and `Rejected` for the lines whose `rsp` is not
//! 200 (set aside by the shipper). A connection that drops (or a timeout of 10 s, or a
//! framing error) is `Retry`: the target keeps the answers it has for that batch (by its id)
//! and the resend sends only the lines still without one, so an interruption repeats at
//! most the commands that were in flight (one window), never lost: the checkpoint moves
//! only over answered lines. What rsyslog acknowledged it has handed to its queue (with a
//! `Direct` queue, to its actions); a disk-assisted queue makes that survive its own crash.
//!
//! The session is kept between batches. One found closed while idle (the server restarted
//! or sent `serverclose`) is opened again before sending, without counting as a failure.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::net::connect;
use super::syslog::message;
use super::target::{Batch, Outcome, Target};

/// librelp's default window.
pub const DEFAULT_WINDOW: usize = 128;
/// Largest window a URL may ask for.
pub const MAX_WINDOW: usize = 65_536;
/// Largest frame accepted from the server (its answers are short).
const MAX_ANSWER: usize = 128 * 1024;
const MAX_TXNR: u32 = 999_999_999;
/// How long `close` waits for its answer when the target is dropped.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

/// One frame as received.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
  pub txnr: u32,
  pub command: String,
  pub data: Vec<u8>,
}

/// Appends one RELP frame.
pub fn encode(out: &mut Vec<u8>, txnr: u32, command: &str, data: &[u8]) {
  out.extend_from_slice(format!("{txnr} {command} {}", data.len()).as_bytes());
  if !data.is_empty() {
    out.push(b' ');
    out.extend_from_slice(data);
  }
  out.push(b'\n');
}

fn framing(what: String) -> io::Error {
  io::Error::new(
    io::ErrorKind::InvalidData,
    format!("RELP framing error: {what}"),
  )
}

/// Reads a number of 1 to 9 digits ending at a space (or, for DATALEN, at LF) starting at
/// `at`. None: more bytes are needed.
fn number(buf: &[u8], at: usize, what: &str) -> io::Result<Option<(u32, usize)>> {
  let digits = buf[at..].iter().take_while(|b| b.is_ascii_digit()).count();
  if at + digits == buf.len() {
    return if digits > 9 {
      Err(framing(format!("{what} longer than 9 digits")))
    } else {
      Ok(None)
    };
  }
  if digits == 0 || digits > 9 {
    return Err(framing(format!("bad {what}")));
  }
  let n = std::str::from_utf8(&buf[at..at + digits])
    .ok()
    .and_then(|s| s.parse::<u32>().ok())
    .ok_or_else(|| framing(format!("bad {what}")))?;
  Ok(Some((n, at + digits)))
}

/// Takes one whole frame from the front of `buf`. None: `buf` holds only part of one.
pub fn parse(buf: &mut Vec<u8>) -> io::Result<Option<Frame>> {
  let Some((txnr, at)) = number(buf, 0, "TXNR")? else {
    return Ok(None);
  };
  if buf[at] != b' ' {
    return Err(framing("no space after TXNR".into()));
  }
  let start = at + 1;
  let letters = buf[start..]
    .iter()
    .take_while(|b| b.is_ascii_alphabetic())
    .count();
  if start + letters == buf.len() {
    return if letters > 32 {
      Err(framing("command longer than 32 letters".into()))
    } else {
      Ok(None)
    };
  }
  if letters == 0 || letters > 32 || buf[start + letters] != b' ' {
    return Err(framing("bad command".into()));
  }
  let command = String::from_utf8_lossy(&buf[start..start + letters]).into_owned();
  let Some((len, at)) = number(buf, start + letters + 1, "DATALEN")? else {
    return Ok(None);
  };
  let len = len as usize;
  if len > MAX_ANSWER {
    return Err(framing(format!("a {command} of {len} bytes")));
  }
  let (data_start, end) = if len == 0 {
    (at, at)
  } else {
    (at + 1, at + 1 + len)
  };
  if buf.len() <= end {
    return Ok(None);
  }
  if len > 0 && buf[at] != b' ' {
    return Err(framing("no space before the data".into()));
  }
  if buf[end] != b'\n' {
    return Err(framing(format!("no LF at the end of a {command}")));
  }
  let data = buf[data_start..end].to_vec();
  buf.drain(..=end);
  Ok(Some(Frame {
    txnr,
    command,
    data,
  }))
}

/// The status code of an `rsp` and its text (`200 OK`; an empty `rsp`, the answer to
/// `close`, is 200).
pub fn status(data: &[u8]) -> (u16, String) {
  if data.is_empty() {
    return (200, String::new());
  }
  let head = data.split(|&b| b == b'\n').next().unwrap_or_default();
  let text = String::from_utf8_lossy(head).into_owned();
  let code = text
    .get(..3)
    .filter(|c| c.bytes().all(|b| b.is_ascii_digit()))
    .and_then(|c| c.parse().ok())
    .unwrap_or(0);
  (code, text)
}

/// True if an `open` answer's offers (the lines after its status) list `syslog` in
/// `commands=`.
pub fn offers_syslog(data: &[u8]) -> bool {
  String::from_utf8_lossy(data).lines().skip(1).any(|offer| {
    offer
      .strip_prefix("commands=")
      .is_some_and(|v| v.split(',').any(|c| c.trim() == "syslog"))
  })
}

struct Session {
  conn: TcpStream,
  /// A handle on the same socket, to look at it while idle.
  sock: TcpStream,
  txnr: u32,
  received: Vec<u8>,
}

impl Session {
  fn next_txnr(&mut self) -> u32 {
    let txnr = self.txnr;
    self.txnr = if txnr >= MAX_TXNR { 1 } else { txnr + 1 };
    txnr
  }

  /// The next frame from the server, waiting for it (up to the socket's timeout).
  fn read_frame(&mut self) -> io::Result<Frame> {
    let mut chunk = [0u8; 4096];
    loop {
      if let Some(frame) = parse(&mut self.received)? {
        return Ok(frame);
      }
      match self.conn.read(&mut chunk) {
        Ok(0) => {
          return Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "the RELP server closed the session",
          ))
        }
        Ok(n) => self.received.extend_from_slice(&chunk[..n]),
        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
        Err(err) => return Err(err),
      }
    }
  }

  /// The status of the answer to `txnr`.
  fn answer(&mut self, txnr: u32) -> io::Result<(u16, String)> {
    self.answer_frame(txnr).map(|frame| status(&frame.data))
  }

  /// The answer to `txnr`, which must come next (a server answers in order).
  /// `serverclose` and anything but that `rsp` end the session.
  fn answer_frame(&mut self, txnr: u32) -> io::Result<Frame> {
    let frame = self.read_frame()?;
    match frame.command.as_str() {
      "rsp" if frame.txnr == txnr => Ok(frame),
      "rsp" => Err(framing(format!(
        "an rsp for {} where {txnr} was next",
        frame.txnr
      ))),
      "serverclose" => Err(io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the RELP server closed the session (serverclose)",
      )),
      other => Err(framing(format!("unexpected command {other}"))),
    }
  }

  /// True if the server has closed the session or sent something while nothing was
  /// asked (its `serverclose` hint): it cannot be used.
  fn stale(&self) -> bool {
    if self.sock.set_nonblocking(true).is_err() {
      return true;
    }
    let mut byte = [0u8; 1];
    let alive =
      matches!(self.sock.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    self.sock.set_nonblocking(false).is_err() || !alive
  }
}

/// What the server said about one line.
#[derive(Clone)]
enum Answer {
  Ok,
  Refused(String),
}

/// The answers received for the batch being sent, kept across a `Retry` of that batch.
struct Progress {
  id: String,
  answers: Vec<Option<Answer>>,
}

pub struct Relp {
  host: String,
  port: u16,
  timeout: Duration,
  window: usize,
  session: Option<Session>,
  progress: Option<Progress>,
  out: Vec<u8>,
  msg: Vec<u8>,
}

impl Relp {
  pub fn new(host: &str, port: u16, window: usize) -> Relp {
    Relp {
      host: host.to_string(),
      port,
      timeout: Duration::from_secs(10),
      window: window.clamp(1, MAX_WINDOW),
      session: None,
      progress: None,
      out: Vec::new(),
      msg: Vec::new(),
    }
  }

  /// Connects and opens a session: the server must answer `open` with 200 and offer the
  /// `syslog` command.
  fn open(&self, timeout: Duration) -> io::Result<Session> {
    let conn = connect(&self.host, self.port, timeout)?;
    let sock = conn.try_clone()?;
    let mut session = Session {
      conn,
      sock,
      txnr: 1,
      received: Vec::new(),
    };
    let offers = format!(
      "relp_version=0\nrelp_software=prodkit,{},https://www.npmjs.com/package/@oj/prodkit\ncommands=syslog",
      env!("CARGO_PKG_VERSION")
    );
    let txnr = session.next_txnr();
    let mut frame = Vec::new();
    encode(&mut frame, txnr, "open", offers.as_bytes());
    session.conn.write_all(&frame)?;
    session.conn.flush()?;
    let frame = session.answer_frame(txnr)?;
    let (code, text) = status(&frame.data);
    if code != 200 {
      return Err(io::Error::new(
        io::ErrorKind::ConnectionRefused,
        format!("the RELP server refused the session: {text}"),
      ));
    }
    if !offers_syslog(&frame.data) {
      return Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "the RELP server does not offer the syslog command",
      ));
    }
    Ok(session)
  }

  /// Opens a session and closes it: the start-up check (reachable, speaks RELP, takes
  /// syslog).
  pub fn check(&self, timeout: Duration) -> io::Result<()> {
    let mut session = self.open(timeout)?;
    close(&mut session, timeout);
    Ok(())
  }

  /// Sends the lines of `batch` without an answer yet, up to `window` at a time, and
  /// records each answer. Ok when every line has one.
  fn deliver(&mut self, batch: &Batch, answered: &mut usize) -> io::Result<()> {
    let todo: Vec<usize> = match &self.progress {
      Some(p) => (0..batch.lines.len())
        .filter(|&i| p.answers[i].is_none())
        .collect(),
      None => (0..batch.lines.len()).collect(),
    };
    if todo.is_empty() {
      return Ok(());
    }
    if self.session.as_ref().is_some_and(Session::stale) {
      self.session = None;
    }
    if self.session.is_none() {
      self.session = Some(self.open(self.timeout)?);
    }
    let progress = self.progress.as_mut().expect("progress is set by send");
    let session = self.session.as_mut().expect("opened above");
    let mut in_flight: VecDeque<(u32, usize)> = VecDeque::with_capacity(self.window);
    let mut next = 0;
    while next < todo.len() || !in_flight.is_empty() {
      self.out.clear();
      while in_flight.len() < self.window && next < todo.len() {
        let line = todo[next];
        self.msg.clear();
        message(&mut self.msg, batch.lines[line]);
        let txnr = session.next_txnr();
        encode(&mut self.out, txnr, "syslog", &self.msg);
        in_flight.push_back((txnr, line));
        next += 1;
      }
      if !self.out.is_empty() {
        session.conn.write_all(&self.out)?;
        session.conn.flush()?;
      }
      let (txnr, line) = in_flight.pop_front().expect("a command is in flight");
      let (code, text) = session.answer(txnr)?;
      progress.answers[line] = Some(if code == 200 {
        Answer::Ok
      } else {
        Answer::Refused(text)
      });
      *answered += 1;
    }
    Ok(())
  }
}

/// Sends `close` and waits briefly for its answer; the session ends either way.
fn close(session: &mut Session, wait: Duration) {
  let _ = session.sock.set_read_timeout(Some(wait.min(CLOSE_WAIT)));
  let txnr = session.next_txnr();
  let mut frame = Vec::new();
  encode(&mut frame, txnr, "close", b"");
  if session.conn.write_all(&frame).is_ok() && session.conn.flush().is_ok() {
    let _ = session.answer(txnr);
  }
}

impl Drop for Relp {
  fn drop(&mut self) {
    if let Some(mut session) = self.session.take() {
      close(&mut session, CLOSE_WAIT);
    }
  }
}

impl Target for Relp {
  fn send(&mut self, batch: &Batch) -> Outcome {
    if self
      .progress
      .as_ref()
      .is_none_or(|p| p.id != batch.id || p.answers.len() != batch.lines.len())
    {
      self.progress = Some(Progress {
        id: batch.id.to_string(),
        answers: vec![None; batch.lines.len()],
      });
    }
    let reused = self.session.is_some();
    let mut answered = 0;
    let mut result = self.deliver(batch, &mut answered);
    if result.is_err() && reused && answered == 0 {
      // A kept session that failed before any answer was closed by the server meanwhile
      // (a restart): open a new one once before calling it a failure.
      self.session = None;
      result = self.deliver(batch, &mut answered);
    }
    if let Err(err) = result {
      self.session = None;
      return Outcome::Retry {
        reason: format!(
          "{} ({})",
          super::tls::describe(&err),
          crate::log::destination::error_code(&err)
        ),
      };
    }
    let progress = self.progress.take().expect("set above");
    let mut refused = Vec::new();
    let mut reason = None;
    for (i, answer) in progress.answers.into_iter().enumerate() {
      if let Some(Answer::Refused(text)) = answer {
        refused.push(i);
        reason.get_or_insert(format!("RELP rsp {text}"));
      }
    }
    match reason {
      None => Outcome::Acked,
      Some(reason) => Outcome::Rejected {
        lines: refused,
        reason,
      },
    }
  }

  fn describe(&self) -> String {
    format!("relp://{}:{}", self.host, self.port)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::net::TcpListener;
  use std::thread;

  #[test]
  fn frames_parse_from_partial_reads() {
    let mut wire = Vec::new();
    encode(&mut wire, 7, "rsp", b"200 OK");
    encode(&mut wire, 8, "close", b"");
    encode(&mut wire, 0, "serverclose", b"");
    assert_eq!(
      &wire[..],
      b"7 rsp 6 200 OK\n8 close 0\n0 serverclose 0\n" as &[u8]
    );
    // Byte by byte: nothing until a frame is whole, then exactly that frame.
    let mut buf = Vec::new();
    let mut frames = Vec::new();
    for &b in &wire {
      buf.push(b);
      while let Some(frame) = parse(&mut buf).unwrap() {
        frames.push(frame);
      }
    }
    assert!(buf.is_empty());
    let got: Vec<(u32, &str, &[u8])> = frames
      .iter()
      .map(|f| (f.txnr, f.command.as_str(), &f.data[..]))
      .collect();
    assert_eq!(
      got,
      vec![
        (7, "rsp", b"200 OK" as &[u8]),
        (8, "close", b""),
        (0, "serverclose", b"")
      ]
    );
    assert_eq!(status(b"200 OK\nrelp_version=0"), (200, "200 OK".into()));
    assert_eq!(status(b"500 command disabled").0, 500);
    assert_eq!(status(b"").0, 200);
    assert!(offers_syslog(
      b"200 OK\nrelp_version=0\nrelp_software=librelp\ncommands=syslog"
    ));
    assert!(!offers_syslog(b"200 OK\nrelp_version=0\ncommands="));
  }

  #[test]
  fn bad_frames_are_errors() {
    for bad in [
      &b"x rsp 6 200 OK\n"[..],
      b"1234567890 rsp 0\n",
      b"1 r-p 0\n",
      b"1 rsp 6 200 OKX",
      b"1 rsp 6x200 OK\n",
      b"1 rsp 999999999 ",
      b"1 rsp 2 OK!",
    ] {
      let mut buf = bad.to_vec();
      let err = parse(&mut buf).unwrap_err();
      assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{bad:?}");
      assert!(err.to_string().contains("RELP framing"), "{err}");
    }
  }

  /// A scripted RELP server on a loopback port: each connection is handed to `script`
  /// with the frames the client sends; it returns what to write back (in pieces).
  fn server(
    script: impl Fn(usize, &mut TcpStream, &mut dyn FnMut(&mut TcpStream) -> Option<Frame>)
      + Send
      + 'static,
    connections: usize,
  ) -> (u16, thread::JoinHandle<Vec<Vec<Frame>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
      let mut seen = Vec::new();
      for n in 0..connections {
        let (mut stream, _) = listener.accept().unwrap();
        let mut frames = Vec::new();
        let mut buf = Vec::new();
        let mut next = |s: &mut TcpStream| -> Option<Frame> {
          loop {
            if let Some(f) = parse(&mut buf).unwrap() {
              frames.push(Frame {
                txnr: f.txnr,
                command: f.command.clone(),
                data: f.data.clone(),
              });
              return Some(f);
            }
            let mut chunk = [0u8; 4096];
            match s.read(&mut chunk) {
              Ok(0) | Err(_) => return None,
              Ok(k) => buf.extend_from_slice(&chunk[..k]),
            }
          }
        };
        script(n, &mut stream, &mut next);
        seen.push(frames);
      }
      seen
    });
    (port, handle)
  }

  fn accept_open(stream: &mut TcpStream, next: &mut dyn FnMut(&mut TcpStream) -> Option<Frame>) {
    let open = next(stream).unwrap();
    assert_eq!((open.txnr, open.command.as_str()), (1, "open"));
    let text = String::from_utf8(open.data).unwrap();
    assert!(
      text.starts_with("relp_version=0\nrelp_software=prodkit,")
        && text.ends_with("\ncommands=syslog"),
      "{text}"
    );
    let mut out = Vec::new();
    encode(
      &mut out,
      1,
      "rsp",
      b"200 OK\nrelp_version=0\ncommands=syslog",
    );
    stream.write_all(&out).unwrap();
  }

  fn lines(n: usize) -> Vec<Vec<u8>> {
    (0..n)
      .map(|i| format!("{{\"i\":{i}}}").into_bytes())
      .collect()
  }

  fn send(target: &mut Relp, id: &str, lines: &[Vec<u8>]) -> Outcome {
    let refs: Vec<&[u8]> = lines.iter().map(|l| &l[..]).collect();
    target.send(&Batch {
      id,
      lines: &refs,
      stop: None,
    })
  }

  #[test]
  fn answers_split_across_reads_and_a_refused_line() {
    let (port, server) = server(
      |_, stream, next| {
        accept_open(stream, next);
        let mut answers = Vec::new();
        for _ in 0..3 {
          let f = next(stream).unwrap();
          assert_eq!(f.command, "syslog");
          let body: &[u8] = if f.txnr == 3 {
            b"500 bad message"
          } else {
            b"200 OK"
          };
          encode(&mut answers, f.txnr, "rsp", body);
        }
        // Written a few bytes at a time: an answer split across reads.
        for piece in answers.chunks(5) {
          stream.write_all(piece).unwrap();
          stream.flush().unwrap();
          thread::sleep(Duration::from_millis(2));
        }
        let close = next(stream).unwrap();
        assert_eq!(close.command, "close");
        let mut out = Vec::new();
        encode(&mut out, close.txnr, "rsp", b"");
        stream.write_all(&out).unwrap();
      },
      1,
    );
    let mut target = Relp::new("127.0.0.1", port, 3);
    match send(&mut target, "b1", &lines(3)) {
      Outcome::Rejected { lines, reason } => {
        assert_eq!(lines, vec![1]);
        assert!(reason.contains("500 bad message"), "{reason}");
      }
      _ => panic!("expected line 1 to be refused"),
    }
    drop(target);
    let seen = server.join().unwrap();
    let txnrs: Vec<u32> = seen[0].iter().map(|f| f.txnr).collect();
    assert_eq!(txnrs, vec![1, 2, 3, 4, 5]);
    let msg = String::from_utf8(seen[0][1].data.clone()).unwrap();
    assert!(
      msg.starts_with("<14>1 ") && msg.ends_with(" - {\"i\":0}"),
      "{msg}"
    );
  }

  #[test]
  fn a_dropped_session_resends_only_the_unanswered_lines() {
    let (port, server) = server(
      |n, stream, next| {
        accept_open(stream, next);
        if n == 0 {
          // Answers two of the five, then the connection drops.
          for _ in 0..2 {
            let f = next(stream).unwrap();
            let mut out = Vec::new();
            encode(&mut out, f.txnr, "rsp", b"200 OK");
            stream.write_all(&out).unwrap();
          }
          next(stream);
          return;
        }
        for _ in 0..3 {
          let f = next(stream).unwrap();
          let mut out = Vec::new();
          encode(&mut out, f.txnr, "rsp", b"200 OK");
          stream.write_all(&out).unwrap();
        }
      },
      2,
    );
    let mut target = Relp::new("127.0.0.1", port, 3);
    let batch = lines(5);
    assert!(matches!(
      send(&mut target, "b1", &batch),
      Outcome::Retry { .. }
    ));
    assert!(matches!(send(&mut target, "b1", &batch), Outcome::Acked));
    target.session = None; // no close: the script ends after the three answers
    let seen = server.join().unwrap();
    let sent = |frames: &[Frame]| -> Vec<String> {
      frames
        .iter()
        .filter(|f| f.command == "syslog")
        .map(|f| {
          let text = String::from_utf8_lossy(&f.data).into_owned();
          text[text.rfind(" - ").unwrap() + 3..].to_string()
        })
        .collect()
    };
    // The first session got up to a window (3) of the five; the second only those without
    // an answer (the 3rd to 5th), in order.
    assert_eq!(sent(&seen[0])[..2], ["{\"i\":0}", "{\"i\":1}"]);
    assert_eq!(sent(&seen[1]), ["{\"i\":2}", "{\"i\":3}", "{\"i\":4}"]);
  }

  #[test]
  fn a_server_that_refuses_the_session_or_lacks_syslog_fails_the_check() {
    let (port, server) = server(
      |n, stream, next| {
        next(stream).unwrap();
        let mut out = Vec::new();
        let body: &[u8] = if n == 0 {
          b"500 required command not supported by client"
        } else {
          b"200 OK\nrelp_version=0\ncommands="
        };
        encode(&mut out, 1, "rsp", body);
        stream.write_all(&out).unwrap();
      },
      2,
    );
    let target = Relp::new("127.0.0.1", port, 4);
    let err = target.check(Duration::from_secs(10)).unwrap_err();
    assert!(
      err.to_string().contains("refused the session: 500"),
      "{err}"
    );
    let err = target.check(Duration::from_secs(10)).unwrap_err();
    assert!(
      err
        .to_string()
        .contains("does not offer the syslog command"),
      "{err}"
    );
    server.join().unwrap();
  }
}

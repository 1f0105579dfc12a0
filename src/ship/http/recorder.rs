//! A recording HTTP/1.1 server for the tests, on a loopback port the system picks: it keeps
//! every request (method, target, headers, body) and answers what the test's handler says:
//! a status and body, no answer at all until the client gives up (a store too slow: the
//! client's timeout), or a connection reset. Keep-alive connections are served in order, as
//! ureq reuses them. A gzip body (`Content-Encoding: gzip`) is decoded as the stores do, and
//! must decode whole; the bytes that came over the wire are counted.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

#[derive(Clone, Debug)]
pub(crate) struct Request {
  pub method: String,
  /// Path and query, as sent.
  pub target: String,
  /// Header names in lower case.
  pub headers: Vec<(String, String)>,
  /// The body as the store reads it: decoded when it came with `Content-Encoding: gzip`.
  pub body: Vec<u8>,
  /// How many body bytes came over the wire (compressed or not).
  pub wire_len: usize,
}

impl Request {
  pub fn header(&self, name: &str) -> Option<&str> {
    self
      .headers
      .iter()
      .find(|(k, _)| k == name)
      .map(|(_, v)| v.as_str())
  }

  pub fn text(&self) -> &str {
    std::str::from_utf8(&self.body).expect("a UTF-8 body")
  }

  pub fn json(&self) -> serde_json::Value {
    serde_json::from_slice(&self.body).expect("a JSON body")
  }
}

pub(crate) enum Answer {
  Status(u16, String),
  /// Never answer: read until the client closes the connection.
  Hang,
  /// Close the connection with a TCP reset, without answering.
  Reset,
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

pub(crate) struct Recorder {
  pub port: u16,
  requests: Arc<Mutex<Vec<Request>>>,
  stop: Arc<AtomicBool>,
  thread: Option<JoinHandle<()>>,
}

impl Recorder {
  pub fn start(handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Recorder {
    Recorder::listen(None, handler)
  }

  /// The same over TLS (rustls) with this certificate chain and key: status answers only.
  pub fn start_tls(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    handler: impl Fn(&Request) -> Answer + Send + Sync + 'static,
  ) -> Recorder {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
      rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("a certificate and its key");
    Recorder::listen(Some(Arc::new(config)), handler)
  }

  fn listen(
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: impl Fn(&Request) -> Answer + Send + Sync + 'static,
  ) -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let handler: Arc<Handler> = Arc::new(handler);
    let (seen, stopping) = (requests.clone(), stop.clone());
    let thread = std::thread::spawn(move || {
      for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
          break;
        }
        let Ok(stream) = stream else { continue };
        let (seen, handler, tls) = (seen.clone(), handler.clone(), tls.clone());
        std::thread::spawn(move || match tls {
          None => serve(stream, &seen, &*handler),
          Some(config) => {
            let Ok(connection) = rustls::ServerConnection::new(config) else {
              return;
            };
            serve_tls(
              rustls::StreamOwned::new(connection, stream),
              &seen,
              &*handler,
            )
          }
        });
      }
    });
    Recorder {
      port,
      requests,
      stop,
      thread: Some(thread),
    }
  }

  pub fn url(&self, scheme: &str, rest: &str) -> String {
    format!("{scheme}://127.0.0.1:{}{rest}", self.port)
  }

  pub fn requests(&self) -> Vec<Request> {
    self.requests.lock().unwrap().clone()
  }
}

impl Drop for Recorder {
  fn drop(&mut self) {
    self.stop.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect(("127.0.0.1", self.port));
    if let Some(thread) = self.thread.take() {
      let _ = thread.join();
    }
  }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Request>>, handler: &Handler) {
  let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
  let mut stream = stream;
  loop {
    let Some(request) = read_request(&mut reader) else {
      return;
    };
    seen.lock().unwrap().push(request.clone());
    match handler(&request) {
      Answer::Status(status, body) => {
        // A 204 has no body (RFC 9110 15.3.5): a client reads none after it.
        let body = if status == 204 { String::new() } else { body };
        let head = format!(
          "HTTP/1.1 {status} Recorded\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
          body.len()
        );
        if stream
          .write_all(head.as_bytes())
          .and_then(|_| stream.write_all(body.as_bytes()))
          .is_err()
        {
          return;
        }
      }
      Answer::Hang => {
        let mut sink = [0u8; 1024];
        while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
        return;
      }
      Answer::Reset => {
        reset(&stream);
        return;
      }
    }
  }
}

fn serve_tls(
  stream: rustls::StreamOwned<rustls::ServerConnection, TcpStream>,
  seen: &Mutex<Vec<Request>>,
  handler: &Handler,
) {
  let mut reader = BufReader::new(stream);
  while let Some(request) = read_request(&mut reader) {
    seen.lock().unwrap().push(request.clone());
    let Answer::Status(status, body) = handler(&request) else {
      panic!("the TLS recorder answers with a status only")
    };
    let answer = format!(
      "HTTP/1.1 {status} Recorded\r\nContent-Length: {}\r\n\r\n{body}",
      body.len()
    );
    let stream = reader.get_mut();
    if stream
      .write_all(answer.as_bytes())
      .and_then(|_| stream.flush())
      .is_err()
    {
      return;
    }
  }
}

/// SO_LINGER with a zero timeout: closing sends RST instead of FIN.
#[cfg(unix)]
fn reset(stream: &TcpStream) {
  use std::os::unix::io::AsRawFd;
  let linger = libc::linger {
    l_onoff: 1,
    l_linger: 0,
  };
  // SAFETY: a valid socket and a linger struct of the size given.
  unsafe {
    libc::setsockopt(
      stream.as_raw_fd(),
      libc::SOL_SOCKET,
      libc::SO_LINGER,
      &linger as *const libc::linger as *const libc::c_void,
      std::mem::size_of::<libc::linger>() as libc::socklen_t,
    );
  }
}

#[cfg(not(unix))]
fn reset(stream: &TcpStream) {
  let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn read_request(reader: &mut BufReader<impl Read>) -> Option<Request> {
  let mut line = String::new();
  if reader.read_line(&mut line).ok()? == 0 {
    return None;
  }
  let mut words = line.split_whitespace();
  let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
  let mut headers = Vec::new();
  loop {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let line = line.trim_end();
    if line.is_empty() {
      break;
    }
    let (k, v) = line.split_once(':')?;
    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
  }
  let length: usize = headers
    .iter()
    .find(|(k, _)| k == "content-length")
    .map_or(0, |(_, v)| v.parse().unwrap_or(0));
  assert!(
    !headers.iter().any(|(k, _)| k == "transfer-encoding"),
    "the client sent a chunked body; the recorder reads Content-Length bodies"
  );
  let mut body = vec![0u8; length];
  reader.read_exact(&mut body).ok()?;
  // Content-Encoding as the stores read it (RFC 9110 8.4): gzip, or none at all. A gzip body
  // must be one whole gzip member that decodes, as a store's decoder would demand.
  let encoding = headers
    .iter()
    .find(|(k, _)| k == "content-encoding")
    .map(|(_, v)| v.to_ascii_lowercase());
  if let Some(encoding) = encoding {
    assert_eq!(encoding, "gzip", "a Content-Encoding the stores here read");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
      .read_to_end(&mut decoded)
      .expect("a gzip body that decodes");
    body = decoded;
  }
  Some(Request {
    method,
    target,
    headers,
    wire_len: length,
    body,
  })
}

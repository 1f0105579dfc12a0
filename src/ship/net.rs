//! Connections to a store for the targets that drive a socket themselves (syslog) and for
//! the start-up check of every target: a TCP connection with a timeout on each address the
//! host name resolves to, and over TLS the handshake, done at once so that a certificate
//! that does not verify is its own error, not a failed write later.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

/// A TCP connection to `host:port` (the first address that answers), with `timeout` on the
/// connect and on every read and write after it.
pub fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
  let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
  let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name has no address");
  for addr in addrs {
    match TcpStream::connect_timeout(&addr, timeout) {
      Ok(stream) => {
        stream.set_write_timeout(Some(timeout))?;
        stream.set_read_timeout(Some(timeout))?;
        return Ok(stream);
      }
      Err(err) => last = err,
    }
  }
  Err(last)
}

/// A TLS connection to `host:port` with its handshake complete (the server's certificate
/// verified against `config`'s roots, for the name `host`).
pub fn tls_connect(
  host: &str,
  port: u16,
  config: &Arc<ClientConfig>,
  timeout: Duration,
) -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
  let name = ServerName::try_from(host.to_string())
    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
  let conn = ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
  let mut stream = StreamOwned::new(conn, connect(host, port, timeout)?);
  while stream.conn.is_handshaking() {
    stream.conn.complete_io(&mut stream.sock)?;
  }
  Ok(stream)
}

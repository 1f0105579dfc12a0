//! sd_notify: tells systemd about the service's state (`READY=1`, `RELOADING=1`,
//! `STOPPING=1`, `WATCHDOG=1`, `STATUS=...`) with one datagram to the unix socket that
//! systemd names in `$NOTIFY_SOCKET`, as libsystemd's `sd_notify()` does. Written here
//! rather than linked from libsystemd so that the addon loads on machines without it.
//!
//! The socket is a filesystem path (`/run/systemd/notify`) or, when it starts with `@`, a
//! name in Linux's abstract namespace. The datagram is sent non-blocking: a full receive
//! queue must never stall the JavaScript thread, and a lost notification is reported to
//! the caller instead.

use std::io;

/// Sends `state` (newline-separated `KEY=VALUE` assignments) to the socket `socket`.
pub fn notify(socket: &str, state: &str) -> io::Result<()> {
  if state.is_empty() {
    return Err(io::Error::new(
      io::ErrorKind::InvalidInput,
      "the state to send is empty",
    ));
  }
  let sent = send(socket, state.as_bytes())?;
  if sent != state.len() {
    return Err(io::Error::new(
      io::ErrorKind::WriteZero,
      format!(
        "only {sent} of {} bytes of the notification were sent",
        state.len()
      ),
    ));
  }
  Ok(())
}

#[cfg(unix)]
fn send(socket: &str, message: &[u8]) -> io::Result<usize> {
  use std::os::unix::net::UnixDatagram;

  let datagram = UnixDatagram::unbound()?;
  datagram.set_nonblocking(true)?;
  if let Some(name) = socket.strip_prefix('@') {
    send_abstract(&datagram, name.as_bytes(), message)
  } else if socket.starts_with('/') {
    datagram.send_to(message, socket)
  } else {
    // systemd only ever sets an absolute path or an abstract name (and, in new versions,
    // vsock: addresses for virtual machines, which a Node service has no use for).
    Err(io::Error::new(
      io::ErrorKind::InvalidInput,
      format!("NOTIFY_SOCKET must be an absolute path or start with @ (got {socket:?})"),
    ))
  }
}

#[cfg(target_os = "linux")]
fn send_abstract(
  datagram: &std::os::unix::net::UnixDatagram,
  name: &[u8],
  message: &[u8],
) -> io::Result<usize> {
  use std::os::linux::net::SocketAddrExt;
  use std::os::unix::net::SocketAddr;

  let address = SocketAddr::from_abstract_name(name)?;
  datagram.send_to_addr(message, &address)
}

#[cfg(all(unix, not(target_os = "linux")))]
fn send_abstract(
  _datagram: &std::os::unix::net::UnixDatagram,
  _name: &[u8],
  _message: &[u8],
) -> io::Result<usize> {
  Err(io::Error::new(
    io::ErrorKind::Unsupported,
    "abstract unix sockets (NOTIFY_SOCKET=@...) exist only on Linux",
  ))
}

#[cfg(not(unix))]
fn send(_socket: &str, _message: &[u8]) -> io::Result<usize> {
  Err(io::Error::new(
    io::ErrorKind::Unsupported,
    "sd_notify needs unix sockets",
  ))
}

#[cfg(not(test))]
mod binding {
  use napi::bindgen_prelude::*;
  use napi_derive::napi;

  /// Sends `state` to systemd's notification socket `socket` (the value of
  /// `$NOTIFY_SOCKET`). Returns false without sending when `socket` is absent or empty
  /// (not started by systemd); throws when the datagram cannot be sent.
  #[napi(js_name = "sdNotify")]
  pub fn sd_notify(state: String, socket: Option<String>) -> Result<bool> {
    let Some(socket) = socket.filter(|s| !s.is_empty()) else {
      return Ok(false);
    };
    super::notify(&socket, &state).map_err(|e| {
      Error::new(
        Status::GenericFailure,
        format!("sd_notify to {socket:?} failed: {e}"),
      )
    })?;
    Ok(true)
  }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
  use super::notify;
  use std::os::linux::net::SocketAddrExt;
  use std::os::unix::net::{SocketAddr, UnixDatagram};

  fn receive(socket: &UnixDatagram) -> String {
    let mut buffer = [0u8; 4096];
    let n = socket.recv(&mut buffer).expect("a datagram");
    String::from_utf8(buffer[..n].to_vec()).unwrap()
  }

  fn unique(name: &str) -> String {
    format!(
      "prodkit-test-{name}-{}-{:?}",
      std::process::id(),
      std::thread::current().id()
    )
  }

  #[test]
  fn sends_one_datagram_to_a_socket_path() {
    let path = std::env::temp_dir().join(unique("notify"));
    let _ = std::fs::remove_file(&path);
    let receiver = UnixDatagram::bind(&path).unwrap();
    notify(path.to_str().unwrap(), "READY=1\nSTATUS=serving").unwrap();
    assert_eq!(receive(&receiver), "READY=1\nSTATUS=serving");
    notify(path.to_str().unwrap(), "STOPPING=1").unwrap();
    assert_eq!(receive(&receiver), "STOPPING=1");
    std::fs::remove_file(&path).unwrap();
  }

  #[test]
  fn sends_to_an_abstract_socket_named_with_an_at_sign() {
    let name = unique("abstract");
    let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let receiver = UnixDatagram::bind_addr(&address).unwrap();
    notify(&format!("@{name}"), "RELOADING=1\nMONOTONIC_USEC=42").unwrap();
    assert_eq!(receive(&receiver), "RELOADING=1\nMONOTONIC_USEC=42");
  }

  #[test]
  fn refuses_relative_paths_empty_states_and_missing_sockets() {
    let relative = notify("run/notify", "READY=1").unwrap_err();
    assert_eq!(relative.kind(), std::io::ErrorKind::InvalidInput);
    assert!(relative
      .to_string()
      .contains("absolute path or start with @"));
    assert_eq!(
      notify("/tmp/x", "").unwrap_err().kind(),
      std::io::ErrorKind::InvalidInput
    );
    let missing = std::env::temp_dir().join(unique("missing"));
    assert!(notify(missing.to_str().unwrap(), "READY=1").is_err());
    assert!(notify(&format!("@{}", unique("nobody-listens")), "READY=1").is_err());
  }
}

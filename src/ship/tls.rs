//! TLS for the syslog target (`syslog+tls://`) and the start-up check of the HTTPS stores:
//! rustls with the ring provider, the same stack and versions as the HTTP client (ureq's
//! rustls: one rustls and one ring in Cargo.lock). The server's certificate is checked against
//! Mozilla's roots (webpki-roots, the same on every platform) and, with `?ca=FILE` in the
//! URL, the PEM certificates of that file (a private CA).

use std::io;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// A client configuration trusting the public roots and the certificates of `ca_file`.
pub fn client_config(ca_file: Option<&str>) -> Result<Arc<ClientConfig>, String> {
  let mut roots = RootCertStore {
    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
  };
  if let Some(path) = ca_file {
    let mut added = 0;
    for cert in CertificateDer::pem_file_iter(path)
      .map_err(|e| format!("cannot read the CA file {path}: {e}"))?
    {
      let cert = cert.map_err(|e| format!("the CA file {path} is not PEM certificates: {e}"))?;
      roots
        .add(cert)
        .map_err(|e| format!("a certificate of {path} is not usable: {e}"))?;
      added += 1;
    }
    if added == 0 {
      return Err(format!("the CA file {path} holds no certificate"));
    }
  }
  let provider = Arc::new(rustls::crypto::ring::default_provider());
  let config = ClientConfig::builder_with_provider(provider)
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup failed: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
  Ok(Arc::new(config))
}

/// The text of a TLS error for messages, with the certificate problem when there is one.
pub fn describe(err: &io::Error) -> String {
  match err
    .get_ref()
    .and_then(|e| e.downcast_ref::<rustls::Error>())
  {
    Some(tls) => format!("TLS: {tls}"),
    None => err.to_string(),
  }
}

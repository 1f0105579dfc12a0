//! TLS for the syslog target (`syslog+tls://`) and the start-up check of the HTTPS stores:
//! rustls with the ring provider, the same stack and versions as the HTTP client (ureq's
//! rustls: one rustls and one ring in Cargo.lock). The server's certificate is checked against
//! Mozilla's roots (webpki-roots, the same on every platform) and, with `?ca=FILE` in the
//! URL, the PEM certificates of that file (a private CA), loaded by `load_ca` for the HTTP
//! stores too.

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
    for cert in load_ca(path)? {
      roots
        .add(cert)
        .map_err(|e| format!("option ca: a certificate of {path} is not usable: {e}"))?;
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

/// The certificates of the PEM file given as `?ca=FILE`: the one loader of the syslog target
/// (rustls) and the HTTP stores (ureq, which takes the same DER certificates). A file that
/// cannot be read, is not PEM, or holds no certificate (a key alone, a DER file, a typo'd
/// path to some other file) is an error naming the option and the file.
pub fn load_ca(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
  let mut certs = Vec::new();
  for cert in CertificateDer::pem_file_iter(path)
    .map_err(|e| format!("option ca: cannot read the CA file {path}: {e}"))?
  {
    certs.push(
      cert.map_err(|e| format!("option ca: the CA file {path} is not PEM certificates: {e}"))?,
    );
  }
  if certs.is_empty() {
    return Err(format!(
      "option ca: the CA file {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    ));
  }
  Ok(certs)
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

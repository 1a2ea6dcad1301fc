//! The server side of mutual TLS: one rustls `ServerConfig` (ring provider) that
//! presents DIR/NAME.pem and refuses any client whose certificate does not chain
//! to DIR/ca.pem.
//!
//! Owns loading PEM files (via `rustls::pki_types::pem::PemObject`); it does not
//! generate them (that is [`crate::certs`]) nor drive connections.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

/// Whether a client must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// The binary gateway and the feedback service: always, chained to ca.pem.
    Required,
    /// HTTP/2: token auth has none; a certificate, when given, must chain to ca.pem.
    Optional,
}

/// Builds a service's TLS configuration.
///
/// `server_cert` is the file stem: `server` reads `server.pem` and `server-key.pem`;
/// `alpn` lists the protocols offered (none for the binary services, `h2` for HTTP/2).
pub fn server_config(
    dir: &Path,
    server_cert: &str,
    client_auth: ClientAuth,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(ring::default_provider());

    let ca_path = dir.join("ca.pem");
    let mut roots = RootCertStore::empty();
    for cert in read_certs(&ca_path)? {
        roots
            .add(cert)
            .map_err(|e| format!("{}: not a usable CA certificate: {e}", ca_path.display()))?;
    }
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    if client_auth == ClientAuth::Optional {
        verifier = verifier.allow_unauthenticated();
    }
    let verifier = verifier
        .build()
        .map_err(|e| format!("cannot build the client certificate verifier: {e}"))?;

    let cert_path = dir.join(format!("{server_cert}.pem"));
    let key_path = dir.join(format!("{server_cert}-key.pem"));
    let chain = read_certs(&cert_path)?;
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| format!("{}: no usable private key: {e}", key_path.display()))?;

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot choose TLS versions: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| {
            format!(
                "{} and {} do not make a usable server certificate: {e}",
                cert_path.display(),
                key_path.display()
            )
        })?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Every certificate in a PEM file; a file without one is an error.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: bad PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in the file", path.display()));
    }
    Ok(certs)
}

//! The certificates of `cafile`: PEM `CERTIFICATE` / `TRUSTED CERTIFICATE`
//! blocks (other blocks, such as a key, are skipped), or one DER certificate.
//! [`crate::transport::tls`] adds them to the built-in roots.

use std::path::Path;

use rustls::pki_types::CertificateDer;

use super::pem::{looks_like_pem, pem_blocks};
use super::read_file;
use crate::error::{CredentialsProblem as Problem, Error, Result};

/// Reads `cafile`: at least one certificate, or an [`Error::Credentials`] saying why not.
pub fn trust_anchors(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let data = read_file(path, "cafile")?;
    let certs = if looks_like_pem(&data) {
        let mut certs = Vec::new();
        for block in pem_blocks(&data) {
            if block.label == "CERTIFICATE" || block.label == "TRUSTED CERTIFICATE" {
                certs.push(block.certificate().ok_or_else(|| {
                    Error::credentials(&shown, Problem::CertificateNotBase64 { option: "cafile" })
                })?);
            }
        }
        certs
    } else if data.first() == Some(&0x30) {
        // A single DER certificate.
        vec![CertificateDer::from(data.to_vec())]
    } else {
        Vec::new()
    };
    if certs.is_empty() {
        return Err(Error::credentials(&shown, Problem::NoCaCertificate));
    }
    Ok(certs)
}

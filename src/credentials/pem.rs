//! PEM text split into blocks: label, RFC 1421 headers (`Proc-Type`,
//! `DEK-Info`) and base64 body.
//!
//! rustls's own PEM reader does not keep headers, which the traditional
//! encrypted key form needs, so blocks are split here and each body is then
//! decoded by rustls's (constant-time) base64 decoder.

use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::CertificateDer;
use zeroize::Zeroizing;

/// Whether `data` holds at least one PEM `BEGIN` line (else it may be DER or PKCS#12).
pub(super) fn looks_like_pem(data: &[u8]) -> bool {
    data.windows(11).any(|w| w == b"-----BEGIN ")
}

/// One PEM block: its label, its RFC 1421 headers and its base64 body.
pub(super) struct PemBlock {
    pub(super) label: String,
    headers: Vec<(String, String)>,
    body: Zeroizing<Vec<u8>>,
}

impl PemBlock {
    /// The value of header `name` (case-insensitive), if present.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Proc-Type: 4,ENCRYPTED`.
    pub(super) fn is_encrypted(&self) -> bool {
        self.header("Proc-Type")
            .is_some_and(|v| v.to_ascii_uppercase().contains("ENCRYPTED"))
    }

    /// Decodes the body with rustls's PEM reader, under `kind`'s label.
    fn decode(&self, kind: &str) -> Option<Zeroizing<Vec<u8>>> {
        let mut pem = Zeroizing::new(Vec::with_capacity(self.body.len() + 64));
        pem.extend_from_slice(format!("-----BEGIN {kind}-----\n").as_bytes());
        pem.extend_from_slice(&self.body);
        pem.extend_from_slice(format!("\n-----END {kind}-----\n").as_bytes());
        match <(SectionKind, Vec<u8>)>::from_pem_slice(&pem) {
            Ok((_, der)) => Some(Zeroizing::new(der)),
            Err(_) => None,
        }
    }

    /// The body as a certificate; `None` when it is not valid base64.
    pub(super) fn certificate(&self) -> Option<CertificateDer<'static>> {
        self.decode("CERTIFICATE")
            .map(|der| CertificateDer::from(der.to_vec()))
    }

    /// The body of a key block (decoded in constant time).
    pub(super) fn secret_bytes(&self) -> Option<Zeroizing<Vec<u8>>> {
        self.decode("PRIVATE KEY")
    }
}

/// Splits PEM text into blocks; text outside blocks (such as the "Bag
/// Attributes" lines of `openssl pkcs12` output) is ignored.
pub(super) fn pem_blocks(data: &[u8]) -> Vec<PemBlock> {
    let mut blocks = Vec::new();
    let mut current: Option<PemBlock> = None;
    let mut in_headers = false;
    for raw in data.split(|b| *b == b'\n' || *b == b'\r') {
        let line = raw.trim_ascii();
        if line.is_empty() {
            in_headers = false;
            continue;
        }
        if let Some(label) = line
            .strip_prefix(b"-----BEGIN ")
            .and_then(|l| l.strip_suffix(b"-----"))
        {
            current = Some(PemBlock {
                label: String::from_utf8_lossy(label).into_owned(),
                headers: Vec::new(),
                body: Zeroizing::new(Vec::new()),
            });
            in_headers = true;
            continue;
        }
        let Some(block) = current.as_mut() else {
            continue;
        };
        if let Some(label) = line
            .strip_prefix(b"-----END ")
            .and_then(|l| l.strip_suffix(b"-----"))
        {
            if label == block.label.as_bytes() {
                if let Some(done) = current.take() {
                    blocks.push(done);
                }
            } else {
                current = None;
            }
            continue;
        }
        if in_headers {
            if let Some(colon) = line.iter().position(|b| *b == b':') {
                let (name, value) = line.split_at(colon);
                let name = String::from_utf8_lossy(name).trim().to_string();
                let value = String::from_utf8_lossy(value.get(1..).unwrap_or_default())
                    .trim()
                    .to_string();
                block.headers.push((name, value));
                continue;
            }
            in_headers = false;
        }
        extend_wiped(&mut block.body, line);
    }
    blocks
}

/// Appends to a buffer that may hold a key, so that growing it leaves no copy
/// behind: the old allocation is zeroed when it is replaced (a plain
/// `extend_from_slice` would free it as it is).
fn extend_wiped(buf: &mut Zeroizing<Vec<u8>>, bytes: &[u8]) {
    let needed = buf.len() + bytes.len();
    if needed > buf.capacity() {
        let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(buf.capacity() * 2)));
        bigger.extend_from_slice(buf);
        // The old buffer is dropped here, zeroed.
        *buf = bigger;
    }
    buf.extend_from_slice(bytes);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn growing_a_pem_body_keeps_every_byte() {
        let mut body = Zeroizing::new(Vec::new());
        for i in 0..200u8 {
            extend_wiped(&mut body, &[i; 7]);
        }
        assert_eq!(body.len(), 1400);
        for (i, chunk) in body.chunks(7).enumerate() {
            assert!(chunk.iter().all(|b| usize::from(*b) == i), "chunk {i}");
        }
    }
}

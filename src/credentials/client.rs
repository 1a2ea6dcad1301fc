//! The client certificate and its key, assembled: `local_cert` is a PEM file
//! (the chain, usually with the key, like Apple's `product_ck.pem`) or a PKCS#12
//! file, recognised by its content; `local_pk` a PEM key file used when the key
//! is not inside `local_cert`. Checks, in the order a user meets them: a
//! certificate is there, a key is there, the key decrypts and loads, the key
//! matches the certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::{CertifiedKey, SigningKey};
use zeroize::Zeroizing;

use super::key::{key_der, wrong_passphrase, KeySource};
use super::pem::{looks_like_pem, pem_blocks};
use super::pkcs12::load_pkcs12;
use super::read_file;
use crate::error::{CredentialsProblem as Problem, Error, Result};
use crate::transport::tls::provider;

/// Loads the certificate chain of `local_cert` and its key (from `local_cert`,
/// or from `local_pk` when set), and checks that they belong together.
pub fn client_key_from_files(
    cert_path: &Path,
    local_pk: Option<&Path>,
    passphrase: Option<&str>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey> {
    let data = read_file(cert_path, "local_cert")?;
    let local_pk = local_pk.map(|pk_path| (pk_path, move || read_file(pk_path, "local_pk")));
    certified_key(&data, cert_path, local_pk, passphrase, provider)
}

/// Loads client credentials from bytes already in memory, as
/// [`client_key_from_files`] does from files: `cert` is what `local_cert` holds
/// (PEM or PKCS#12), `key` what `local_pk` holds, if set. The paths only name
/// the sources in error messages.
///
/// Any bytes give a key or an [`Error::Credentials`], never a panic (fuzzed in
/// `fuzz/fuzz_targets/credentials.rs`).
pub fn client_key_from_bytes(
    cert: &[u8],
    cert_path: &Path,
    key: Option<(&[u8], &Path)>,
    passphrase: Option<&str>,
) -> Result<CertifiedKey> {
    let local_pk =
        key.map(|(bytes, pk_path)| (pk_path, move || Ok(Zeroizing::new(bytes.to_vec()))));
    certified_key(cert, cert_path, local_pk, passphrase, &provider())
}

/// The work of both loaders on `local_cert`'s bytes; `local_pk` is read only
/// once the certificate is found, so the first mistake is the one reported.
fn certified_key(
    data: &[u8],
    cert_path: &Path,
    local_pk: Option<(&Path, impl FnOnce() -> Result<Zeroizing<Vec<u8>>>)>,
    passphrase: Option<&str>,
    provider: &CryptoProvider,
) -> Result<CertifiedKey> {
    let cert_shown = cert_path.display();
    let (chain, key_in_cert) = if looks_like_pem(data) {
        let mut chain = Vec::new();
        let mut key = None;
        for block in pem_blocks(data) {
            if block.label == "CERTIFICATE" {
                chain.push(block.certificate().ok_or_else(|| {
                    Error::credentials(
                        &cert_shown,
                        Problem::CertificateNotBase64 {
                            option: "local_cert",
                        },
                    )
                })?);
            } else if block.label.ends_with("PRIVATE KEY") && key.is_none() {
                key = Some(KeySource::Pem(block));
            }
        }
        (chain, key)
    } else if data.first() == Some(&0x30) {
        let (chain, key) = load_pkcs12(data, cert_path, passphrase)?;
        (chain, key.map(KeySource::Pkcs8))
    } else {
        (Vec::new(), None)
    };
    if chain.is_empty() {
        return Err(Error::credentials(&cert_shown, Problem::NoCertificate));
    }

    let (key_source, key_path) = match local_pk {
        Some((pk_path, read_pk)) => {
            let pk_data = read_pk()?;
            let block = pem_blocks(&pk_data)
                .into_iter()
                .find(|b| b.label.ends_with("PRIVATE KEY"))
                .ok_or_else(|| Error::credentials(pk_path.display(), Problem::NoKeyInLocalPk))?;
            (KeySource::Pem(block), pk_path)
        }
        None => match key_in_cert {
            Some(source) => (source, cert_path),
            None => return Err(Error::credentials(&cert_shown, Problem::NoKeyInLocalCert)),
        },
    };

    let (key_der, decrypted) = key_der(key_source, key_path, passphrase)?;
    let key: Arc<dyn SigningKey> =
        provider
            .key_provider
            .load_private_key(key_der)
            .map_err(|e| {
                if decrypted {
                    wrong_passphrase(key_path.display())
                } else {
                    Error::credentials(key_path.display(), Problem::KeyUnusable(e.to_string()))
                }
            })?;
    let certified = CertifiedKey::new(chain, key);
    match certified.keys_match() {
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(Error::credentials(
                key_path.display(),
                Problem::KeyMismatch {
                    certificate: cert_shown.to_string(),
                },
            ))
        }
        // Matching, or not checkable (a key type without a public key, or a
        // certificate webpki cannot parse, such as an X.509 v1 one): the server judges.
        _ => Ok(certified),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::credentials::fixtures::{fixtures, PASS, WRONG};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    #[test]
    fn pkcs12_chain_starts_with_the_leaf() {
        let Some(dir) = fixtures() else { return };
        let key =
            client_key_from_files(&dir.join("modern.p12"), None, Some(PASS), &provider()).unwrap();
        assert_eq!(key.cert.len(), 2, "leaf and CA");
        let leaf = std::fs::read(dir.join("rsa.crt")).unwrap();
        let leaf = CertificateDer::from_pem_slice(&leaf).unwrap();
        assert_eq!(key.cert[0], leaf);
        assert!(key.keys_match().is_ok());
    }

    #[test]
    fn bytes_give_the_same_key_and_messages_as_files() {
        let Some(dir) = fixtures() else { return };
        let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
        let name = Path::new("in-memory.pem");
        let key = client_key_from_bytes(&read("modern.p12"), name, None, Some(PASS)).unwrap();
        assert_eq!(key.cert.len(), 2);
        let key_name = Path::new("in-memory.key");
        let ec_key = read("ec_trad_aes128.key");
        let key =
            client_key_from_bytes(&read("ec.crt"), name, Some((&ec_key, key_name)), Some(PASS))
                .unwrap();
        assert!(key.keys_match().is_ok());
        let Err(Error::Credentials(e)) = client_key_from_bytes(
            &read("ec.crt"),
            name,
            Some((&ec_key, key_name)),
            Some(WRONG),
        ) else {
            panic!("a wrong passphrase loaded");
        };
        assert_eq!(
            e.to_string(),
            "wrong passphrase for the private key in 'in-memory.key'"
        );
        let Err(Error::Credentials(e)) = client_key_from_bytes(b"\x30garbage", name, None, None)
        else {
            panic!("garbage loaded");
        };
        let msg = e.to_string();
        assert!(
            msg.starts_with("local_cert 'in-memory.pem' holds no certificate"),
            "{msg}"
        );
    }
}

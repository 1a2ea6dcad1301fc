//! TLS credentials and the rustls client configuration.
//!
//! [`client_config`] turns the connection options (`local_cert`, `local_pk`,
//! `passphrase`, `cafile`) into a [`rustls::ClientConfig`]:
//!
//! - trust: the built-in webpki roots, plus the certificates of `cafile` (which
//!   adds trust and never replaces it). Peer verification is always on.
//! - client authentication, when `local_cert` is set. `local_cert` is a PEM file
//!   holding the certificate chain and usually the key (like Apple's
//!   `product_ck.pem`), or a PKCS#12 file (`.p12`/`.pfx`, recognised by its content).
//!   `local_pk` is a PEM key file, used when the key is not inside `local_cert`.
//!   Keys: PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, PKCS#8 `PRIVATE KEY`,
//!   encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2) and the traditional OpenSSL
//!   `Proc-Type: 4,ENCRYPTED` form (AES-128/192/256-CBC, DES-EDE3-CBC).
//!
//! Every failure is an [`Error::Credentials`] naming the option, the path and the
//! cause. No message and no `Debug` output ever holds the passphrase or key bytes.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use rustls::sign::{CertifiedKey, SigningKey, SingleCertAndKey};
use rustls::{ClientConfig, RootCertStore};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The TLS-related connection options, as the PHP layer parsed them.
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// PEM (certificate chain, usually with the key) or PKCS#12 file.
    pub local_cert: Option<PathBuf>,
    /// PEM key file, when the key is not inside `local_cert`.
    pub local_pk: Option<PathBuf>,
    /// For an encrypted key or a PKCS#12 file. Never printed.
    pub passphrase: Option<Zeroizing<String>>,
    /// PEM trust anchors added to the built-in roots.
    pub cafile: Option<PathBuf>,
    /// The TLS server name to verify; default the URL's host.
    pub peer_name: Option<String>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Hidden(bool);
        impl fmt::Debug for Hidden {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(if self.0 { "<hidden>" } else { "none" })
            }
        }
        f.debug_struct("TlsOptions")
            .field("local_cert", &self.local_cert)
            .field("local_pk", &self.local_pk)
            .field("passphrase", &Hidden(self.passphrase.is_some()))
            .field("cafile", &self.cafile)
            .field("peer_name", &self.peer_name)
            .finish()
    }
}

/// The crypto provider of every connection: rustls with *ring*.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client configuration: TLS 1.3 and 1.2, the webpki roots plus
/// `cafile`, client authentication with `local_cert` (and `local_pk`), and the
/// ALPN protocols to offer (`[b"h2"]` for HTTP/2, none for the binary protocol).
pub fn client_config(opts: &TlsOptions, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let roots = root_store(opts.cafile.as_deref())?;
    let client_key = match &opts.local_cert {
        Some(cert_path) => Some(load_client_key(opts, cert_path, &provider)?),
        None => None,
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Internal(format!("the TLS provider rejects TLS 1.2/1.3: {e}")))?
        .with_root_certificates(roots);
    let mut config = match client_key {
        Some(key) => builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(key))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The webpki roots plus the certificates of `cafile`.
fn root_store(cafile: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let Some(path) = cafile else {
        return Ok(roots);
    };
    let shown = path.display();
    let data = read_file(path, "cafile")?;
    let certs = if looks_like_pem(&data) {
        let mut certs = Vec::new();
        for block in pem_blocks(&data) {
            if block.label == "CERTIFICATE" || block.label == "TRUSTED CERTIFICATE" {
                certs.push(block.certificate().ok_or_else(|| {
                    Error::Credentials(format!(
                        "cafile '{shown}' holds a certificate that is not valid base64 PEM"
                    ))
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
        return Err(Error::Credentials(format!(
            "cafile '{shown}' holds no certificate (expected PEM 'BEGIN CERTIFICATE' blocks)"
        )));
    }
    for (i, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|e| {
            Error::Credentials(format!(
                "cafile '{shown}': certificate #{} cannot be used as a trust anchor: {e}",
                i + 1
            ))
        })?;
    }
    Ok(roots)
}

/// Where the private key was found, still in its file form.
enum KeySource {
    /// A PEM block of `local_cert` or `local_pk`.
    Pem(PemBlock),
    /// A PKCS#8 key taken out of a PKCS#12 file (already decrypted).
    Pkcs8(Zeroizing<Vec<u8>>),
}

/// Loads the certificate chain and the key, checks that they belong together.
fn load_client_key(
    opts: &TlsOptions,
    cert_path: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey> {
    let data = read_file(cert_path, "local_cert")?;
    let local_pk = opts
        .local_pk
        .as_deref()
        .map(|pk_path| (pk_path, move || read_file(pk_path, "local_pk")));
    certified_key(
        &data,
        cert_path,
        local_pk,
        opts.passphrase.as_deref().map(String::as_str),
        provider,
    )
}

/// Loads client credentials from bytes already in memory, as [`client_config`]
/// does from files: `cert` is what `local_cert` holds (PEM or PKCS#12), `key` what
/// `local_pk` holds, if set. The paths only name the sources in error messages.
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

/// The work of [`load_client_key`] on `local_cert`'s bytes; `local_pk` is read
/// only once the certificate is found, so the first mistake is the one reported.
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
                    Error::Credentials(format!(
                        "local_cert '{cert_shown}' holds a certificate that is not valid base64 PEM"
                    ))
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
        return Err(Error::Credentials(format!(
            "local_cert '{cert_shown}' holds no certificate (expected a PEM file with a \
             'BEGIN CERTIFICATE' block, or a PKCS#12 file)"
        )));
    }

    let (key_source, key_path) = match local_pk {
        Some((pk_path, read_pk)) => {
            let pk_data = read_pk()?;
            let block = pem_blocks(&pk_data)
                .into_iter()
                .find(|b| b.label.ends_with("PRIVATE KEY"))
                .ok_or_else(|| {
                    Error::Credentials(format!(
                        "local_pk '{}' holds no private key (expected a PEM 'BEGIN ... PRIVATE KEY' block)",
                        pk_path.display()
                    ))
                })?;
            (KeySource::Pem(block), pk_path)
        }
        None => match key_in_cert {
            Some(source) => (source, cert_path),
            None => {
                return Err(Error::Credentials(format!(
                "no private key in local_cert '{cert_shown}': add it to the file or set local_pk"
            )))
            }
        },
    };

    let (key_der, decrypted) = key_der(key_source, key_path, passphrase)?;
    let key: Arc<dyn SigningKey> =
        provider
            .key_provider
            .load_private_key(key_der)
            .map_err(|e| {
                Error::Credentials(if decrypted {
                    format!(
                        "wrong passphrase for the private key in '{}'",
                        key_path.display()
                    )
                } else {
                    format!(
                        "the private key in '{}' cannot be used: {e}",
                        key_path.display()
                    )
                })
            })?;
    let certified = CertifiedKey::new(chain, key);
    match certified.keys_match() {
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(Error::Credentials(format!(
                "the private key in '{}' does not match the certificate in '{cert_shown}'",
                key_path.display()
            )))
        }
        // Matching, or not checkable (a key type without a public key, or a
        // certificate webpki cannot parse, such as an X.509 v1 one): the server judges.
        _ => Ok(certified),
    }
}

/// Turns the key as found in the file into DER; the flag says whether a
/// passphrase was used (so that an unusable result means a wrong passphrase).
fn key_der(
    source: KeySource,
    path: &Path,
    passphrase: Option<&str>,
) -> Result<(PrivateKeyDer<'static>, bool)> {
    let shown = path.display();
    let block = match source {
        KeySource::Pkcs8(der) => {
            return Ok((PrivatePkcs8KeyDer::from(der.to_vec()).into(), false));
        }
        KeySource::Pem(block) => block,
    };
    let need_passphrase = || {
        Error::Credentials(format!(
            "the private key in '{shown}' is encrypted: set the 'passphrase' option"
        ))
    };
    let wrong_passphrase =
        || Error::Credentials(format!("wrong passphrase for the private key in '{shown}'"));
    let bad_base64 = || {
        Error::Credentials(format!(
            "the private key in '{shown}' is not valid base64 PEM"
        ))
    };

    let der = block.secret_bytes().ok_or_else(bad_base64)?;
    match block.label.as_str() {
        "PRIVATE KEY" => Ok((PrivatePkcs8KeyDer::from(der.to_vec()).into(), false)),
        "ENCRYPTED PRIVATE KEY" => {
            let passphrase = passphrase.ok_or_else(need_passphrase)?;
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()).map_err(|e| {
                Error::Credentials(format!(
                    "the encrypted private key in '{shown}' cannot be read ({e}): apns decrypts \
                     PBES2 keys (AES or 3DES, PBKDF2); convert it with \
                     'openssl pkcs8 -topk8 -v2 aes-256-cbc'"
                ))
            })?;
            let plain = info.decrypt(passphrase.as_bytes()).map_err(|e| match e {
                // pkcs5 0.7 reports a bad padding as EncryptFailed.
                pkcs8::Error::EncryptedPrivateKey(
                    pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
                )
                | pkcs8::Error::Asn1(_) => wrong_passphrase(),
                other => Error::Credentials(format!(
                    "the private key in '{shown}' uses an encryption apns cannot decrypt ({other}): \
                     re-encrypt it with 'openssl pkcs8 -topk8 -v2 aes-256-cbc'"
                )),
            })?;
            Ok((
                PrivatePkcs8KeyDer::from(plain.as_bytes().to_vec()).into(),
                true,
            ))
        }
        "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            let (der, decrypted) = if block.is_encrypted() {
                let passphrase = passphrase.ok_or_else(need_passphrase)?;
                let dek = block.header("DEK-Info").ok_or_else(|| {
                    Error::Credentials(format!(
                        "the encrypted private key in '{shown}' has no DEK-Info header"
                    ))
                })?;
                let plain = decrypt_traditional(dek, passphrase.as_bytes(), &der).map_err(
                    |why| match why {
                        TraditionalError::Unpad => wrong_passphrase(),
                        TraditionalError::Unsupported(what) => Error::Credentials(format!(
                            "the private key in '{shown}' uses an encryption apns cannot decrypt \
                             ({what}): use AES-128/192/256-CBC or DES-EDE3-CBC, or convert it with \
                             'openssl pkcs8 -topk8 -v2 aes-256-cbc'"
                        )),
                    },
                )?;
                (plain, true)
            } else {
                (der, false)
            };
            let key: PrivateKeyDer<'static> = if block.label == "RSA PRIVATE KEY" {
                PrivatePkcs1KeyDer::from(der.to_vec()).into()
            } else {
                PrivateSec1KeyDer::from(der.to_vec()).into()
            };
            Ok((key, decrypted))
        }
        other => Err(Error::Credentials(format!(
            "the private key in '{shown}' is of an unsupported type '{other}' \
             (use an RSA or EC key)"
        ))),
    }
}

enum TraditionalError {
    /// The padding is wrong: the passphrase is.
    Unpad,
    /// The cipher or its parameters are not supported.
    Unsupported(String),
}

/// Decrypts a traditional OpenSSL encrypted PEM body (`DEK-Info: <cipher>,<iv hex>`):
/// key = EVP_BytesToKey(MD5, salt = the IV's first 8 bytes, 1 iteration), CBC, PKCS#7.
fn decrypt_traditional(
    dek_info: &str,
    passphrase: &[u8],
    ciphertext: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, TraditionalError> {
    use cbc::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};

    let (cipher, iv_hex) = dek_info
        .split_once(',')
        .ok_or_else(|| TraditionalError::Unsupported(format!("DEK-Info '{dek_info}'")))?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let iv = hex::decode(iv_hex.trim())
        .map_err(|_| TraditionalError::Unsupported(format!("DEK-Info '{dek_info}'")))?;
    let (key_len, iv_len) = match cipher.as_str() {
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        "DES-EDE3-CBC" => (24, 8),
        other => return Err(TraditionalError::Unsupported(other.to_string())),
    };
    if iv.len() != iv_len {
        return Err(TraditionalError::Unsupported(format!(
            "DEK-Info '{dek_info}': the IV is not {iv_len} bytes"
        )));
    }
    // OpenSSL's salt is the IV's first 8 bytes (every supported IV is 8 or 16).
    let key = evp_bytes_to_key(passphrase, iv.get(..8).unwrap_or(&iv), key_len);
    let bad_len = |_| TraditionalError::Unsupported(format!("DEK-Info '{dek_info}'"));
    let plain = match cipher.as_str() {
        "AES-128-CBC" => cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &iv)
            .map_err(bad_len)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        "AES-192-CBC" => cbc::Decryptor::<aes::Aes192>::new_from_slices(&key, &iv)
            .map_err(bad_len)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        "AES-256-CBC" => cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &iv)
            .map_err(bad_len)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        _ => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(bad_len)?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
    };
    plain
        .map(Zeroizing::new)
        .map_err(|_| TraditionalError::Unpad)
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration:
/// D_i = MD5(D_{i-1} || passphrase || salt), key = D_1 || D_2 || ... truncated.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], key_len: usize) -> Zeroizing<Vec<u8>> {
    use md5::{Digest, Md5};

    let mut key = Zeroizing::new(Vec::with_capacity(key_len + 16));
    let mut previous = Zeroizing::new([0u8; 16]);
    let mut first = true;
    while key.len() < key_len {
        let mut hasher = Md5::new();
        if !first {
            hasher.update(previous.as_slice());
        }
        hasher.update(passphrase);
        hasher.update(salt);
        previous.copy_from_slice(&hasher.finalize());
        key.extend_from_slice(previous.as_slice());
        first = false;
    }
    key.truncate(key_len);
    key
}

/// A PKCS#12 file's certificate chain (leaf first) and its PKCS#8 key.
type Pkcs12Contents = (Vec<CertificateDer<'static>>, Option<Zeroizing<Vec<u8>>>);

/// Reads a PKCS#12 file: its certificate chain (leaf first) and its key (PKCS#8).
fn load_pkcs12(data: &[u8], path: &Path, passphrase: Option<&str>) -> Result<Pkcs12Contents> {
    use p12_keystore::error::Error as P12Error;

    let shown = path.display();
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(
        data,
        passphrase.unwrap_or(""),
    )
    .map_err(|e| match e {
        P12Error::MacError(_) | P12Error::UnpadError | P12Error::Pkcs5Error(_) => {
            Error::Credentials(match passphrase {
                None => format!(
                    "the PKCS#12 file '{shown}' is protected by a passphrase: set the 'passphrase' option"
                ),
                Some(_) => format!("wrong passphrase for the PKCS#12 file '{shown}'"),
            })
        }
        other => Error::Credentials(format!(
            "local_cert '{shown}' holds no certificate: it is neither PEM nor a readable \
             PKCS#12 file ({other})"
        )),
    })?;
    let key_bag = archive.keys.first();
    let key = key_bag.map(|bag| Zeroizing::new(bag.key.as_der().to_vec()));
    let key_id = key_bag.and_then(|bag| bag.local_key_id.as_ref());
    let leaf = archive
        .certs
        .iter()
        .position(|c| matches!((key_id, &c.local_key_id), (Some(k), Some(c)) if k.0 == *c))
        .unwrap_or(0);
    let mut chain = Vec::with_capacity(archive.certs.len());
    if let Some(bag) = archive.certs.get(leaf) {
        chain.push(CertificateDer::from(bag.cert.as_der().to_vec()));
    }
    for (i, bag) in archive.certs.iter().enumerate() {
        if i != leaf {
            chain.push(CertificateDer::from(bag.cert.as_der().to_vec()));
        }
    }
    Ok((chain, key))
}

/// Reads a whole file, or says which option names it and why it cannot be read.
fn read_file(path: &Path, option: &str) -> Result<Zeroizing<Vec<u8>>> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| Error::Credentials(format!("cannot read {option} '{}': {e}", path.display())))
}

fn looks_like_pem(data: &[u8]) -> bool {
    data.windows(11).any(|w| w == b"-----BEGIN ")
}

/// One PEM block: its label, its RFC 1421 headers and its base64 body.
struct PemBlock {
    label: String,
    headers: Vec<(String, String)>,
    body: Zeroizing<Vec<u8>>,
}

impl PemBlock {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Proc-Type: 4,ENCRYPTED`.
    fn is_encrypted(&self) -> bool {
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

    fn certificate(&self) -> Option<CertificateDer<'static>> {
        self.decode("CERTIFICATE")
            .map(|der| CertificateDer::from(der.to_vec()))
    }

    /// The body of a key block (decoded in constant time).
    fn secret_bytes(&self) -> Option<Zeroizing<Vec<u8>>> {
        self.decode("PRIVATE KEY")
    }
}

/// Splits PEM text into blocks; text outside blocks (such as the "Bag
/// Attributes" lines of `openssl pkcs12` output) is ignored.
fn pem_blocks(data: &[u8]) -> Vec<PemBlock> {
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
    use std::process::Command;
    use std::sync::OnceLock;

    /// The passphrase of every encrypted fixture; must never show in a message.
    const PASS: &str = "horse-battery-12345678";
    const WRONG: &str = "staple-wrong-87654321";

    /// Generates the credential fixtures once per test run with the `openssl`
    /// CLI; `None` (with the reason on stderr) when openssl is missing.
    fn fixtures() -> Option<&'static Path> {
        static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
        DIR.get_or_init(|| {
            if Command::new("openssl").arg("version").output().is_err() {
                eprintln!("skipped: the openssl CLI is not installed (apt-get install openssl)");
                return None;
            }
            let dir = std::env::temp_dir().join(format!(
                "apns-tls-fixtures-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let pass = format!("pass:{PASS}");
            let run = |args: &[&str]| {
                let out = Command::new("openssl")
                    .args(args)
                    .current_dir(&dir)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "openssl {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            let cat = |out: &str, parts: &[&str]| {
                let mut all = Vec::new();
                for p in parts {
                    all.extend(std::fs::read(dir.join(p)).unwrap());
                }
                std::fs::write(dir.join(out), all).unwrap();
            };
            // A CA, and client certificates it signs, for RSA and EC keys.
            run(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "30",
                "-subj",
                "/CN=apns test CA",
            ]);
            run(&["genrsa", "-traditional", "-out", "rsa.key", "2048"]);
            run(&[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "ec.key",
            ]);
            std::fs::write(
                dir.join("client.ext"),
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
            )
            .unwrap();
            for k in ["rsa", "ec"] {
                run(&[
                    "req",
                    "-new",
                    "-key",
                    &format!("{k}.key"),
                    "-subj",
                    "/CN=apns client",
                    "-out",
                    &format!("{k}.csr"),
                ]);
                run(&[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{k}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-extfile",
                    "client.ext",
                    "-days",
                    "30",
                    "-out",
                    &format!("{k}.crt"),
                ]);
            }
            run(&[
                "pkcs8", "-topk8", "-nocrypt", "-in", "rsa.key", "-out", "rsa.p8",
            ]);
            run(&[
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-in",
                "rsa.key",
                "-passout",
                &pass,
                "-out",
                "rsa_enc_aes.p8",
            ]);
            run(&[
                "pkcs8",
                "-topk8",
                "-v2",
                "des3",
                "-v2prf",
                "hmacWithSHA1",
                "-in",
                "ec.key",
                "-passout",
                &pass,
                "-out",
                "ec_enc_des3.p8",
            ]);
            run(&[
                "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", "rsa.key", "-passout", &pass,
                "-out", "rsa_enc_pbes1.p8",
            ]);
            run(&[
                "rsa",
                "-in",
                "rsa.key",
                "-aes256",
                "-traditional",
                "-passout",
                &pass,
                "-out",
                "rsa_trad_aes256.key",
            ]);
            run(&[
                "rsa",
                "-in",
                "rsa.key",
                "-des3",
                "-traditional",
                "-passout",
                &pass,
                "-out",
                "rsa_trad_des3.key",
            ]);
            run(&[
                "ec",
                "-in",
                "ec.key",
                "-aes128",
                "-passout",
                &pass,
                "-out",
                "ec_trad_aes128.key",
            ]);
            run(&[
                "ec",
                "-in",
                "ec.key",
                "-aes192",
                "-passout",
                &pass,
                "-out",
                "ec_trad_aes192.key",
            ]);
            run(&[
                "pkcs12",
                "-export",
                "-in",
                "rsa.crt",
                "-inkey",
                "rsa.key",
                "-certfile",
                "ca.pem",
                "-passout",
                &pass,
                "-out",
                "modern.p12",
            ]);
            run(&[
                "pkcs12",
                "-export",
                "-legacy",
                "-in",
                "ec.crt",
                "-inkey",
                "ec.key",
                "-passout",
                &pass,
                "-out",
                "legacy.p12",
            ]);
            // Apple-style product_ck.pem: "Bag Attributes" text, certificate, then key.
            std::fs::write(
                dir.join("bag.txt"),
                "Bag Attributes\n    friendlyName: Apple Push\nsubject=/CN=apns client\n",
            )
            .unwrap();
            cat(
                "rsa_pkcs1_combined.pem",
                &["bag.txt", "rsa.crt", "bag.txt", "rsa.key"],
            );
            cat("ec_sec1_combined.pem", &["ec.key", "ec.crt"]);
            cat("rsa_pkcs8_combined.pem", &["rsa.crt", "rsa.p8"]);
            cat("rsa_trad_combined.pem", &["rsa.crt", "rsa_trad_aes256.key"]);
            cat("rsa_enc_combined.pem", &["rsa.crt", "rsa_enc_aes.p8"]);
            std::fs::write(dir.join("garbage.pem"), "this is not a certificate\n").unwrap();
            Some(dir)
        })
        .as_deref()
    }

    fn opts(dir: &Path, cert: &str, key: Option<&str>, pass: Option<&str>) -> TlsOptions {
        TlsOptions {
            local_cert: Some(dir.join(cert)),
            local_pk: key.map(|k| dir.join(k)),
            passphrase: pass.map(|p| Zeroizing::new(p.to_string())),
            ..TlsOptions::default()
        }
    }

    fn credentials_error(o: &TlsOptions) -> String {
        match client_config(o, &[]) {
            Ok(_) => panic!("{o:?} loaded, but should not"),
            Err(Error::Credentials(m)) => m,
            Err(other) => panic!("{o:?}: not a Credentials error: {other:?}"),
        }
    }

    /// Every message and Debug output the tests produce, to check for the passphrase.
    fn assert_no_secret(text: &str) {
        assert!(
            !text.contains(PASS) && !text.contains(WRONG),
            "secret leaked: {text}"
        );
        assert!(!text.contains("MII"), "key material leaked?: {text}");
    }

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

    #[test]
    fn every_supported_credential_form_loads() {
        let Some(dir) = fixtures() else { return };
        let cases = [
            (
                "combined PEM, RSA PKCS#1 with Bag Attributes",
                opts(dir, "rsa_pkcs1_combined.pem", None, None),
            ),
            (
                "combined PEM, EC SEC1 (key first)",
                opts(dir, "ec_sec1_combined.pem", None, None),
            ),
            (
                "combined PEM, PKCS#8",
                opts(dir, "rsa_pkcs8_combined.pem", None, None),
            ),
            (
                "separate key file",
                opts(dir, "rsa.crt", Some("rsa.key"), None),
            ),
            (
                "separate PKCS#8 key file",
                opts(dir, "rsa.crt", Some("rsa.p8"), None),
            ),
            (
                "encrypted PKCS#8 (PBES2 AES-256)",
                opts(dir, "rsa.crt", Some("rsa_enc_aes.p8"), Some(PASS)),
            ),
            (
                "encrypted PKCS#8 (PBES2 3DES, SHA1)",
                opts(dir, "ec.crt", Some("ec_enc_des3.p8"), Some(PASS)),
            ),
            (
                "encrypted PKCS#8 combined",
                opts(dir, "rsa_enc_combined.pem", None, Some(PASS)),
            ),
            (
                "traditional RSA AES-256-CBC",
                opts(dir, "rsa.crt", Some("rsa_trad_aes256.key"), Some(PASS)),
            ),
            (
                "traditional RSA DES-EDE3-CBC",
                opts(dir, "rsa.crt", Some("rsa_trad_des3.key"), Some(PASS)),
            ),
            (
                "traditional EC AES-128-CBC",
                opts(dir, "ec.crt", Some("ec_trad_aes128.key"), Some(PASS)),
            ),
            (
                "traditional EC AES-192-CBC",
                opts(dir, "ec.crt", Some("ec_trad_aes192.key"), Some(PASS)),
            ),
            (
                "traditional combined",
                opts(dir, "rsa_trad_combined.pem", None, Some(PASS)),
            ),
            (
                "PKCS#12 (AES, PBKDF2)",
                opts(dir, "modern.p12", None, Some(PASS)),
            ),
            (
                "PKCS#12 -legacy (RC2, 3DES)",
                opts(dir, "legacy.p12", None, Some(PASS)),
            ),
        ];
        for (what, o) in cases {
            let config = client_config(&o, &[b"h2"]).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(config.client_auth_cert_resolver.has_certs(), "{what}");
            assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()], "{what}");
            assert_no_secret(&format!("{o:?}"));
        }
    }

    #[test]
    fn pkcs12_chain_starts_with_the_leaf() {
        let Some(dir) = fixtures() else { return };
        let o = opts(dir, "modern.p12", None, Some(PASS));
        let key = load_client_key(&o, &dir.join("modern.p12"), &provider()).unwrap();
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
        let Err(Error::Credentials(msg)) = client_key_from_bytes(
            &read("ec.crt"),
            name,
            Some((&ec_key, key_name)),
            Some(WRONG),
        ) else {
            panic!("a wrong passphrase loaded");
        };
        assert_eq!(
            msg,
            "wrong passphrase for the private key in 'in-memory.key'"
        );
        let Err(Error::Credentials(msg)) = client_key_from_bytes(b"\x30garbage", name, None, None)
        else {
            panic!("garbage loaded");
        };
        assert!(
            msg.starts_with("local_cert 'in-memory.pem' holds no certificate"),
            "{msg}"
        );
    }

    #[test]
    fn cafile_adds_trust_without_replacing_the_roots() {
        let Some(dir) = fixtures() else { return };
        let builtin = webpki_roots::TLS_SERVER_ROOTS.len();
        let roots = root_store(Some(&dir.join("ca.pem"))).unwrap();
        assert_eq!(roots.len(), builtin + 1);
        // A cafile with the CA among other blocks (a key) still works.
        let roots = root_store(Some(&dir.join("rsa_pkcs1_combined.pem"))).unwrap();
        assert_eq!(roots.len(), builtin + 1);
        assert_eq!(root_store(None).unwrap().len(), builtin);
        let o = TlsOptions {
            cafile: Some(dir.join("ca.pem")),
            ..TlsOptions::default()
        };
        let config = client_config(&o, &[]).unwrap();
        assert!(!config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn each_mistake_gets_its_own_message() {
        let Some(dir) = fixtures() else { return };
        let p = |f: &str| dir.join(f).display().to_string();
        let missing = dir.join("missing.pem");
        let cases: Vec<(TlsOptions, String)> = vec![
            (opts(dir, "missing.pem", None, None), format!("cannot read local_cert '{}': ", missing.display())),
            (opts(dir, "rsa.crt", Some("missing.pem"), None), format!("cannot read local_pk '{}': ", missing.display())),
            (opts(dir, "garbage.pem", None, None), format!("local_cert '{}' holds no certificate", p("garbage.pem"))),
            (opts(dir, "rsa.key", None, None), format!("local_cert '{}' holds no certificate", p("rsa.key"))),
            (opts(dir, "rsa.crt", None, None), format!("no private key in local_cert '{}': add it to the file or set local_pk", p("rsa.crt"))),
            (opts(dir, "rsa.crt", Some("ec.key"), None), format!("the private key in '{}' does not match the certificate", p("ec.key"))),
            (opts(dir, "rsa.crt", Some("rsa_enc_aes.p8"), None), format!("the private key in '{}' is encrypted: set the 'passphrase' option", p("rsa_enc_aes.p8"))),
            (opts(dir, "rsa.crt", Some("rsa_trad_aes256.key"), None), format!("the private key in '{}' is encrypted: set the 'passphrase' option", p("rsa_trad_aes256.key"))),
            (opts(dir, "rsa_trad_combined.pem", None, None), format!("the private key in '{}' is encrypted: set the 'passphrase' option", p("rsa_trad_combined.pem"))),
            (opts(dir, "rsa.crt", Some("rsa_enc_aes.p8"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("rsa_enc_aes.p8"))),
            (opts(dir, "ec.crt", Some("ec_enc_des3.p8"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("ec_enc_des3.p8"))),
            (opts(dir, "rsa.crt", Some("rsa_trad_aes256.key"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("rsa_trad_aes256.key"))),
            (opts(dir, "rsa.crt", Some("rsa_trad_des3.key"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("rsa_trad_des3.key"))),
            (opts(dir, "ec.crt", Some("ec_trad_aes128.key"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("ec_trad_aes128.key"))),
            (opts(dir, "rsa.crt", Some("rsa_enc_pbes1.p8"), Some(PASS)), format!("the encrypted private key in '{}' cannot be read", p("rsa_enc_pbes1.p8"))),
            (opts(dir, "modern.p12", None, Some(WRONG)), format!("wrong passphrase for the PKCS#12 file '{}'", p("modern.p12"))),
            (opts(dir, "legacy.p12", None, Some(WRONG)), format!("wrong passphrase for the PKCS#12 file '{}'", p("legacy.p12"))),
            (opts(dir, "modern.p12", None, None), format!("the PKCS#12 file '{}' is protected by a passphrase: set the 'passphrase' option", p("modern.p12"))),
            (
                TlsOptions { cafile: Some(dir.join("garbage.pem")), ..TlsOptions::default() },
                format!("cafile '{}' holds no certificate", p("garbage.pem")),
            ),
            (
                TlsOptions { cafile: Some(dir.join("rsa.key")), ..TlsOptions::default() },
                format!("cafile '{}' holds no certificate", p("rsa.key")),
            ),
            (
                TlsOptions { cafile: Some(missing.clone()), ..TlsOptions::default() },
                format!("cannot read cafile '{}': ", missing.display()),
            ),
        ];
        for (o, want) in cases {
            let msg = credentials_error(&o);
            assert!(msg.contains(&want), "{o:?}\n  got:  {msg}\n  want: {want}");
            assert_no_secret(&msg);
            assert_no_secret(&format!("{o:?}"));
        }
    }

    #[test]
    fn debug_never_shows_the_passphrase() {
        let o = TlsOptions {
            local_cert: Some(PathBuf::from("/etc/apns/ck.pem")),
            passphrase: Some(Zeroizing::new(PASS.to_string())),
            ..TlsOptions::default()
        };
        let shown = format!("{o:?} {o:#?}");
        assert!(
            shown.contains("<hidden>") && shown.contains("/etc/apns/ck.pem"),
            "{shown}"
        );
        assert_no_secret(&shown);
        let none = format!("{:?}", TlsOptions::default());
        assert!(none.contains("passphrase: none"), "{none}");
    }

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -P -md md5 -S 0102030405060708 -pass pass:secret`
        // prints key=... ; checked against the CLI when it is installed.
        let key = evp_bytes_to_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        let out = Command::new("openssl")
            .args([
                "enc",
                "-aes-256-cbc",
                "-P",
                "-md",
                "md5",
                "-S",
                "0102030405060708",
                "-pass",
                "pass:secret",
            ])
            .output();
        let Ok(out) = out else {
            eprintln!("skipped: the openssl CLI is not installed");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let want = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("key="))
            .unwrap()
            .to_ascii_lowercase();
        assert_eq!(hex::encode(key.as_slice()), want);
    }
}

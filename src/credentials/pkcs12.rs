//! PKCS#12 files (`.p12`/`.pfx`, what Keychain Access exports), read with the
//! `p12_keystore` crate: the certificate chain, leaf first, and the PKCS#8 key.
//! Modern (AES, PBKDF2) and `-legacy` (RC2, 3DES) files both open.

use std::path::Path;

use rustls::pki_types::CertificateDer;
use zeroize::Zeroizing;

use crate::error::{CredentialsProblem as Problem, Error, Result};

/// A PKCS#12 file's certificate chain (leaf first) and its PKCS#8 key.
pub(super) type Pkcs12Contents = (Vec<CertificateDer<'static>>, Option<Zeroizing<Vec<u8>>>);

/// Reads a PKCS#12 file: its certificate chain (leaf first) and its key (PKCS#8).
/// The leaf is the certificate whose `localKeyId` matches the key's (else the first).
pub(super) fn load_pkcs12(
    data: &[u8],
    path: &Path,
    passphrase: Option<&str>,
) -> Result<Pkcs12Contents> {
    use p12_keystore::error::Error as P12Error;

    let shown = path.display();
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(data, passphrase.unwrap_or(""))
        .map_err(|e| match e {
            P12Error::MacError(_) | P12Error::UnpadError | P12Error::Pkcs5Error(_) => {
                Error::credentials(
                    &shown,
                    match passphrase {
                        None => Problem::P12NeedsPassphrase,
                        Some(_) => Problem::P12WrongPassphrase,
                    },
                )
            }
            other => Error::credentials(&shown, Problem::NeitherPemNorP12(other.to_string())),
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

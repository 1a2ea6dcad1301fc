//! A private key as found in a file (a PEM block of any supported kind, or the
//! PKCS#8 key of a PKCS#12 file) turned into the DER rustls loads, decrypting
//! it with the passphrase when it is encrypted. Owns the key messages: missing
//! passphrase, wrong passphrase, unsupported encryption or key type.

use std::fmt::Display;
use std::path::Path;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};
use zeroize::Zeroizing;

use super::pem::PemBlock;
use super::pkcs8::{decrypt_pkcs8, Pkcs8Error};
use super::traditional::{decrypt_traditional, TraditionalError};
use crate::error::{CredentialsProblem as Problem, Error, Result};

/// Where the private key was found, still in its file form.
pub(super) enum KeySource {
    /// A PEM block of `local_cert` or `local_pk`.
    Pem(PemBlock),
    /// A PKCS#8 key taken out of a PKCS#12 file (already decrypted).
    Pkcs8(Zeroizing<Vec<u8>>),
}

/// The message for a key a passphrase did not decrypt (also used when the
/// decrypted bytes turn out unusable, which a wrong passphrase causes too).
pub(super) fn wrong_passphrase(shown: impl Display) -> Error {
    Error::credentials(shown, Problem::WrongKeyPassphrase)
}

/// Turns the key as found in the file into DER; the flag says whether a
/// passphrase was used (so that an unusable result means a wrong passphrase).
pub(super) fn key_der(
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
    let need_passphrase = || Error::credentials(&shown, Problem::KeyNeedsPassphrase);
    let bad_base64 = || Error::credentials(&shown, Problem::KeyNotBase64);

    let der = block.secret_bytes().ok_or_else(bad_base64)?;
    match block.label.as_str() {
        "PRIVATE KEY" => Ok((PrivatePkcs8KeyDer::from(der.to_vec()).into(), false)),
        "ENCRYPTED PRIVATE KEY" => {
            let passphrase = passphrase.ok_or_else(need_passphrase)?;
            let plain = decrypt_pkcs8(&der, passphrase).map_err(|why| match why {
                Pkcs8Error::Unreadable(e) => {
                    Error::credentials(&shown, Problem::EncryptedKeyUnreadable(e.to_string()))
                }
                Pkcs8Error::WrongPassphrase => wrong_passphrase(&shown),
                Pkcs8Error::Unsupported(other) => Error::credentials(
                    &shown,
                    Problem::Pkcs8EncryptionUnsupported(other.to_string()),
                ),
            })?;
            Ok((PrivatePkcs8KeyDer::from(plain.to_vec()).into(), true))
        }
        "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
            let (der, decrypted) = if block.is_encrypted() {
                let passphrase = passphrase.ok_or_else(need_passphrase)?;
                let dek = block
                    .header("DEK-Info")
                    .ok_or_else(|| Error::credentials(&shown, Problem::NoDekInfo))?;
                let plain = decrypt_traditional(dek, passphrase.as_bytes(), &der).map_err(
                    |why| match why {
                        TraditionalError::Unpad => wrong_passphrase(&shown),
                        TraditionalError::Unsupported(what) => Error::credentials(
                            &shown,
                            Problem::TraditionalEncryptionUnsupported(what.to_string()),
                        ),
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
        other => Err(Error::credentials(
            &shown,
            Problem::UnsupportedKeyType(other.to_string()),
        )),
    }
}

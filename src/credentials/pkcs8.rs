//! Encrypted PKCS#8 keys (`ENCRYPTED PRIVATE KEY`, what `openssl pkcs8 -topk8`
//! writes): PBES2 with PBKDF2 and AES or 3DES, decrypted by the `pkcs8` crate.
//! PBES1 (`-v1`) keys are refused with the command that converts them.

use zeroize::Zeroizing;

/// Why an encrypted PKCS#8 key could not be decrypted.
pub(super) enum Pkcs8Error {
    /// The structure cannot be read (PBES1, or not PKCS#8 at all); the detail says why.
    Unreadable(String),
    /// The decryption failed the way a wrong passphrase makes it fail.
    WrongPassphrase,
    /// A scheme the crate cannot decrypt; the detail names it.
    Unsupported(String),
}

/// Decrypts the DER of an `ENCRYPTED PRIVATE KEY` block into a PKCS#8 key.
pub(super) fn decrypt_pkcs8(
    der: &[u8],
    passphrase: &str,
) -> std::result::Result<Zeroizing<Vec<u8>>, Pkcs8Error> {
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der)
        .map_err(|e| Pkcs8Error::Unreadable(e.to_string()))?;
    let plain = info.decrypt(passphrase.as_bytes()).map_err(|e| match e {
        // pkcs5 0.7 reports a bad padding as EncryptFailed.
        pkcs8::Error::EncryptedPrivateKey(
            pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed,
        )
        | pkcs8::Error::Asn1(_) => Pkcs8Error::WrongPassphrase,
        other => Pkcs8Error::Unsupported(other.to_string()),
    })?;
    Ok(Zeroizing::new(plain.as_bytes().to_vec()))
}

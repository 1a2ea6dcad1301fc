//! Credential failures as data: the file (as shown: its path, never its
//! content) and what is wrong with it. `Display` is the exact wording users
//! have always seen; nothing is decided on these (they all mean "fix the
//! setup", code `CREDENTIALS`), but tests and callers can tell the problems apart
//! without reading the text.

use std::fmt;

/// A certificate, key or CA file cannot be read or used (code `CREDENTIALS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsError {
    /// The file as messages name it: its path (`local_cert`, `local_pk`,
    /// `cafile`); for `auth_key`, `auth_key '<path>'` or `the auth_key PEM text`.
    pub file: String,
    pub problem: CredentialsProblem,
}

/// What is wrong with the file. `String`s are the cause a library or the
/// system reported; no variant holds a passphrase or key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsProblem {
    /// Reading the file named by `option` failed.
    Unreadable { option: String, cause: String },
    /// The file named by `option` is missing, a directory, or not readable (checked
    /// when the connection is created).
    Inaccessible { option: String, cause: String },
    /// The private key is encrypted and no passphrase was given.
    KeyNeedsPassphrase,
    /// The passphrase did not decrypt the private key.
    WrongKeyPassphrase,
    /// The private key's PEM block is not base64.
    KeyNotBase64,
    /// An encrypted PKCS#8 key whose structure cannot be read.
    EncryptedKeyUnreadable(String),
    /// An encrypted PKCS#8 key in an encryption apns does not decrypt.
    Pkcs8EncryptionUnsupported(String),
    /// A traditional encrypted PEM key without its DEK-Info header.
    NoDekInfo,
    /// A traditional encrypted PEM key in a cipher apns does not decrypt.
    TraditionalEncryptionUnsupported(String),
    /// A PEM key of a type other than RSA or EC (the block's label).
    UnsupportedKeyType(String),
    /// rustls cannot load the (decrypted) key.
    KeyUnusable(String),
    /// The key does not match the certificate in `certificate`.
    KeyMismatch { certificate: String },
    /// The PKCS#12 file needs a passphrase and none was given.
    P12NeedsPassphrase,
    /// The passphrase did not open the PKCS#12 file.
    P12WrongPassphrase,
    /// `local_cert` is neither PEM nor a readable PKCS#12 file.
    NeitherPemNorP12(String),
    /// A certificate block of the file named by `option` is not base64.
    CertificateNotBase64 { option: &'static str },
    /// `local_cert` holds no certificate.
    NoCertificate,
    /// `local_pk` holds no private key.
    NoKeyInLocalPk,
    /// `local_cert` holds no private key and no `local_pk` was given.
    NoKeyInLocalCert,
    /// `cafile` holds no certificate.
    NoCaCertificate,
    /// Certificate number `number` (from 1) of `cafile` is not a usable trust anchor.
    UnusableTrustAnchor { number: usize, cause: String },
    /// `auth_key` cannot be read.
    AuthKeyUnreadable(String),
    /// `auth_key` holds no PKCS#8 key.
    NoPkcs8Key,
    /// `auth_key` is not an EC P-256 key.
    NotP256(String),
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CredentialsProblem as P;
        let file = &self.file;
        match &self.problem {
            P::Unreadable { option, cause } => write!(f, "cannot read {option} '{file}': {cause}"),
            P::Inaccessible { option, cause } => {
                write!(f, "{option} file '{file}' cannot be read: {cause}")
            }
            P::KeyNeedsPassphrase => write!(
                f,
                "the private key in '{file}' is encrypted: set the 'passphrase' option"
            ),
            P::WrongKeyPassphrase => write!(f, "wrong passphrase for the private key in '{file}'"),
            P::KeyNotBase64 => write!(f, "the private key in '{file}' is not valid base64 PEM"),
            P::EncryptedKeyUnreadable(cause) => write!(
                f,
                "the encrypted private key in '{file}' cannot be read ({cause}): apns decrypts \
                 PBES2 keys (AES or 3DES, PBKDF2); convert it with \
                 'openssl pkcs8 -topk8 -v2 aes-256-cbc'"
            ),
            P::Pkcs8EncryptionUnsupported(cause) => write!(
                f,
                "the private key in '{file}' uses an encryption apns cannot decrypt ({cause}): \
                 re-encrypt it with 'openssl pkcs8 -topk8 -v2 aes-256-cbc'"
            ),
            P::NoDekInfo => write!(
                f,
                "the encrypted private key in '{file}' has no DEK-Info header"
            ),
            P::TraditionalEncryptionUnsupported(cause) => write!(
                f,
                "the private key in '{file}' uses an encryption apns cannot decrypt \
                 ({cause}): use AES-128/192/256-CBC or DES-EDE3-CBC, or convert it with \
                 'openssl pkcs8 -topk8 -v2 aes-256-cbc'"
            ),
            P::UnsupportedKeyType(label) => write!(
                f,
                "the private key in '{file}' is of an unsupported type '{label}' \
                 (use an RSA or EC key)"
            ),
            P::KeyUnusable(cause) => {
                write!(f, "the private key in '{file}' cannot be used: {cause}")
            }
            P::KeyMismatch { certificate } => write!(
                f,
                "the private key in '{file}' does not match the certificate in '{certificate}'"
            ),
            P::P12NeedsPassphrase => write!(
                f,
                "the PKCS#12 file '{file}' is protected by a passphrase: set the 'passphrase' \
                 option"
            ),
            P::P12WrongPassphrase => write!(f, "wrong passphrase for the PKCS#12 file '{file}'"),
            P::NeitherPemNorP12(cause) => write!(
                f,
                "local_cert '{file}' holds no certificate: it is neither PEM nor a readable \
                 PKCS#12 file ({cause})"
            ),
            P::CertificateNotBase64 { option } => write!(
                f,
                "{option} '{file}' holds a certificate that is not valid base64 PEM"
            ),
            P::NoCertificate => write!(
                f,
                "local_cert '{file}' holds no certificate (expected a PEM file with a \
                 'BEGIN CERTIFICATE' block, or a PKCS#12 file)"
            ),
            P::NoKeyInLocalPk => write!(
                f,
                "local_pk '{file}' holds no private key (expected a PEM 'BEGIN ... PRIVATE KEY' \
                 block)"
            ),
            P::NoKeyInLocalCert => write!(
                f,
                "no private key in local_cert '{file}': add it to the file or set local_pk"
            ),
            P::NoCaCertificate => write!(
                f,
                "cafile '{file}' holds no certificate (expected PEM 'BEGIN CERTIFICATE' blocks)"
            ),
            P::UnusableTrustAnchor { number, cause } => write!(
                f,
                "cafile '{file}': certificate #{number} cannot be used as a trust anchor: {cause}"
            ),
            P::AuthKeyUnreadable(cause) => write!(f, "cannot read {file}: {cause}"),
            P::NoPkcs8Key => write!(
                f,
                "{file} holds no PKCS#8 key (expected an Apple .p8 file with a \
                 '-----BEGIN PRIVATE KEY-----' block)"
            ),
            P::NotP256(cause) => write!(
                f,
                "{file} is not a usable EC P-256 key for ES256 ({cause}): APNs auth keys are the \
                 .p8 files made in the Apple Developer account"
            ),
        }
    }
}

impl CredentialsError {
    /// `problem` with the file at `file` (anything that displays as the path).
    pub fn new(file: impl fmt::Display, problem: CredentialsProblem) -> CredentialsError {
        CredentialsError {
            file: file.to_string(),
            problem,
        }
    }
}

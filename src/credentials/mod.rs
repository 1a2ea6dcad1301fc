//! Client credentials: the certificate chain and private key of `local_cert` /
//! `local_pk` (with `passphrase`), and the trust anchors of `cafile`, read from
//! the forms Apple's tools and OpenSSL write. Pure parsing and decryption: no
//! sockets; the only I/O is reading the named files.
//!
//! - `pem`: PEM blocks, their RFC 1421 headers and their bodies.
//! - `traditional`: OpenSSL's traditional `Proc-Type: 4,ENCRYPTED` keys.
//! - `pkcs8`: encrypted PKCS#8 keys (`ENCRYPTED PRIVATE KEY`, PBES2).
//! - `pkcs12`: PKCS#12 files (`.p12`/`.pfx`): chain and key.
//! - `key`: a private key as found in a file, turned into DER.
//! - `client`: the chain-and-key assembly and its checks ([`client_key_from_files`],
//!   [`client_key_from_bytes`]).
//! - `cafile`: the certificates of `cafile` ([`trust_anchors`]).
//!
//! Every failure is an [`Error::Credentials`] naming the option, the path and the
//! cause. No message and no `Debug` output ever holds the passphrase or key
//! bytes, and buffers that hold key material are zeroed when dropped.
//! [`crate::transport::tls`] builds the rustls configuration from what this
//! module returns.

use std::path::Path;

use zeroize::Zeroizing;

use crate::error::{CredentialsProblem, Error, Result};

mod cafile;
mod client;
mod key;
mod pem;
mod pkcs12;
mod pkcs8;
mod traditional;

#[cfg(test)]
pub(crate) mod fixtures;

pub use cafile::trust_anchors;
pub use client::{client_key_from_bytes, client_key_from_files};

/// Reads a whole file, or says which option names it and why it cannot be read.
fn read_file(path: &Path, option: &str) -> Result<Zeroizing<Vec<u8>>> {
    std::fs::read(path).map(Zeroizing::new).map_err(|e| {
        Error::credentials(
            path.display(),
            CredentialsProblem::Unreadable {
                option: option.to_string(),
                cause: e.to_string(),
            },
        )
    })
}

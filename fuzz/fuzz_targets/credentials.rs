//! `credentials::client_key_from_bytes` (what `local_cert` / `local_pk` / `passphrase`
//! load) on arbitrary bytes: PEM, encrypted PEM (PKCS#8 PBES2 and OpenSSL's
//! traditional form) and PKCS#12 parsers. It must return a key or a
//! `Credentials` error, never panic, and never echo the passphrase.
//!
//! Input: byte 0 = flags (bit 0: give the passphrase, bit 1: separate key file);
//! with a separate key, bytes 1-2 = the certificate's length (big-endian), then
//! the certificate, then the key; otherwise bytes 1.. are the certificate.
//! The seeds in corpus/credentials were written in this layout by scripts/fuzz.
#![no_main]

use std::path::Path;

use apns::error::Error;
use apns::credentials::client_key_from_bytes;
use libfuzzer_sys::fuzz_target;

/// The passphrase of the seed files (`scripts/fuzz seeds`).
const PASSPHRASE: &str = "fuzz-passphrase-0xA9";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let passphrase = (flags & 1 == 1).then_some(PASSPHRASE);
    let (cert, key) = if flags & 2 == 2 && rest.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (cert, key) = rest[2..].split_at(n);
        (cert, Some((key, Path::new("fuzz.key"))))
    } else {
        (rest, None)
    };
    match client_key_from_bytes(cert, Path::new("fuzz.pem"), key, passphrase) {
        Ok(certified) => assert!(!certified.cert.is_empty()),
        Err(e @ Error::Credentials(_)) => {
            let message = e.to_string();
            if !data
                .windows(PASSPHRASE.len())
                .any(|w| w == PASSPHRASE.as_bytes())
            {
                assert!(!message.contains(PASSPHRASE), "{message}");
            }
        }
        Err(other) => panic!("not a Credentials error: {other:?}"),
    }
});

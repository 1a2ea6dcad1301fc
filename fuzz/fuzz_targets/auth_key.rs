//! The `.p8` provider-token key (`auth_key`): `SigningKey::from_pkcs8_der` on the
//! bytes, `SigningKey::from_p8` on their text (as PEM, or wrapped in a PKCS#8 PEM
//! block when they are not: `from_p8` reads a file when the text holds no
//! `-----BEGIN`, which is not what is fuzzed here), and, when a key loads,
//! `mint` and the token cache. It must return a key or a `Credentials` error
//! whose message names the source and never the content, never panic; a token
//! it mints must verify with the key's public half.
//!
//! Input: the key file's bytes (PEM text or DER). The seeds in corpus/auth_key
//! were made by scripts/fuzz with openssl.
#![no_main]

use apns::error::Error;
use apns::protocol::jwt::{mint, SigningKey, TokenCache};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

const KEY_ID: &str = "ABC123DEFG";
const TEAM_ID: &str = "DEF123GHIJ";

/// `from_pkcs8_der`'s and `from_p8`'s messages: the source's name and ring's
/// one-word reason, nothing of the key.
fn check_message(message: &str, shown: &str) {
    let not_usable = format!("{shown} is not a usable EC P-256 key for ES256 (");
    if let Some(rest) = message.strip_prefix(&not_usable) {
        let why = rest
            .strip_suffix("): APNs auth keys are the .p8 files made in the Apple Developer account")
            .unwrap_or_else(|| panic!("{message}"));
        assert!(
            why.len() <= 40 && why.bytes().all(|b| b.is_ascii_alphabetic() || b == b' '),
            "{message}"
        );
    } else {
        assert_eq!(
            message,
            format!(
                "{shown} holds no PKCS#8 key (expected an Apple .p8 file with a \
                 '-----BEGIN PRIVATE KEY-----' block)"
            )
        );
    }
}

fn loaded(result: Result<SigningKey, Error>, shown: &str) -> Option<SigningKey> {
    match result {
        Ok(key) => Some(key),
        Err(e @ Error::Credentials(_)) => {
            let message = e.to_string();
            check_message(&message, shown);
            None
        }
        Err(other) => panic!("not a Credentials error: {other:?}"),
    }
}

/// A PKCS#8 PEM block of `der`, as openssl writes it.
fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut text = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).unwrap());
        text.push('\n');
    }
    text.push_str("-----END PRIVATE KEY-----\n");
    text
}

/// Mints with `key`, checks the token's parts and its signature.
fn mint_and_verify(key: &SigningKey, data: &[u8]) {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.public_key());
    assert_eq!(key.fingerprint().as_slice(), digest.as_ref());
    let issued_at = data
        .iter()
        .fold(1_700_000_000u64, |a, b| a.rotate_left(5) ^ u64::from(*b));
    let jwt = mint(key, KEY_ID, TEAM_ID, issued_at).expect("minting with a loaded key");
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        panic!("{} parts", parts.len());
    };
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
    assert_eq!(header, serde_json::json!({"alg": "ES256", "kid": KEY_ID}));
    assert_eq!(
        claims,
        serde_json::json!({"iss": TEAM_ID, "iat": issued_at})
    );
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(signature.len(), 64);
    let signed = &jwt[..jwt.rfind('.').unwrap()];
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.public_key())
        .verify(signed.as_bytes(), &signature)
        .expect("the token verifies with the key's public half");

    // The cache hands the same token out until it is due.
    let cache = TokenCache::new();
    let a = cache.get(key, KEY_ID, TEAM_ID, issued_at).unwrap();
    let b = cache.get(key, KEY_ID, TEAM_ID, issued_at + 60).unwrap();
    assert_eq!(a, b);
    let c = cache
        .force_refresh(key, KEY_ID, TEAM_ID, &a.jwt, issued_at + 61)
        .unwrap();
    assert_ne!(a, c);
}

fuzz_target!(|data: &[u8]| {
    // DER.
    let from_der = loaded(SigningKey::from_pkcs8_der(data, "fuzz"), "fuzz");
    if let Some(key) = &from_der {
        mint_and_verify(key, data);
        // The same key as Apple's PEM file loads too, as the same key.
        let again = SigningKey::from_p8(&pem(data)).expect("the PEM of a loadable DER key");
        assert_eq!(again.fingerprint(), key.fingerprint());
    }

    // PEM text (never a path: see above).
    let text = String::from_utf8_lossy(data);
    let text = if text.contains("-----BEGIN") {
        text.into_owned()
    } else {
        format!("-----BEGIN PRIVATE KEY-----\n{text}\n-----END PRIVATE KEY-----\n")
    };
    if let Some(key) = loaded(SigningKey::from_p8(&text), "the auth_key PEM text") {
        mint_and_verify(&key, data);
    }
});

//! The provider-token side of the sandbox: the APNs auth key that `certs` writes
//! (`auth-key.p8`, PKCS#8 EC P-256 like Apple's, and `auth-key.pub.pem`) and the
//! check of the JWTs that clients sign with it.
//!
//! The key id and team id are fixed ([`KEY_ID`], [`TEAM_ID`]): tests and the
//! demo pass them with the `.p8` file, as users pass Apple's.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivatePkcs8KeyDer;

/// The key id of `auth-key.p8` (the JWT header's `kid`).
pub const KEY_ID: &str = "ABC123DEFG";
/// The team id the sandbox expects (the JWT claims' `iss`).
pub const TEAM_ID: &str = "DEF123GHIJ";
/// Apple refuses tokens older than an hour.
pub const MAX_AGE: u64 = 3600;
/// At most this many verified tokens are remembered (the map is emptied when full).
const MAX_CACHED: usize = 256;

/// SubjectPublicKeyInfo prefix of an uncompressed P-256 point (id-ecPublicKey, prime256v1).
const SPKI_P256_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Writes `auth-key.p8` (owner-only) and `auth-key.pub.pem` into `dir`.
pub fn write(dir: &Path) -> Result<(), String> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "cannot generate the auth key".to_string())?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|e| format!("the generated auth key is unusable: {e}"))?;
    let mut spki = SPKI_P256_PREFIX.to_vec();
    spki.extend_from_slice(pair.public_key().as_ref());
    crate::certs::write_file(
        &dir.join("auth-key.p8"),
        &pem("PRIVATE KEY", pkcs8.as_ref()),
        true,
    )?;
    crate::certs::write_file(
        &dir.join("auth-key.pub.pem"),
        &pem("PUBLIC KEY", &spki),
        false,
    )
}

fn pem(label: &str, der: &[u8]) -> String {
    let unix = ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF);
    ::pem::encode_config(&::pem::Pem::new(label, der.to_vec()), unix)
}

/// Checks provider tokens against the public key of `auth-key.p8`.
///
/// A token that passed every check is remembered (token text → `iat`), so that
/// the next request carrying it skips the base64/JSON parsing and the ECDSA
/// verification (~75 µs): clients send the same token on every request for up
/// to an hour. Its age is checked again on every use, so a remembered token
/// still becomes `ExpiredProviderToken`. Refused tokens are never remembered.
pub struct Verifier {
    public_key: Vec<u8>,
    verified: Mutex<HashMap<Box<str>, u64>>,
}

impl Verifier {
    /// Reads DIR/auth-key.p8; `None` when the directory has none (an older
    /// `certs` output): every token is then refused as invalid.
    pub fn load(dir: &Path) -> Result<Option<Verifier>, String> {
        let path = dir.join("auth-key.p8");
        if !path.exists() {
            return Ok(None);
        }
        let der = PrivatePkcs8KeyDer::from_pem_file(&path)
            .map_err(|e| format!("{}: no PKCS#8 key: {e}", path.display()))?;
        let pair = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            der.secret_pkcs8_der(),
            &SystemRandom::new(),
        )
        .map_err(|e| format!("{}: not an EC P-256 key: {e}", path.display()))?;
        Ok(Some(Verifier {
            public_key: pair.public_key().as_ref().to_vec(),
            verified: Mutex::new(HashMap::new()),
        }))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, u64>> {
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Apple's checks, in Apple's order; `Ok` is the token's `iat`, `Err` the 403 reason.
    pub fn check(&self, jwt: &str, now: u64) -> Result<u64, &'static str> {
        let cached = self.cache().get(jwt).copied();
        if let Some(iat) = cached {
            return Self::check_age(iat, now);
        }
        let iat = self.verify(jwt, now)?;
        let mut cache = self.cache();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(jwt.into(), iat);
        Ok(iat)
    }

    fn check_age(iat: u64, now: u64) -> Result<u64, &'static str> {
        if now.saturating_sub(iat) > MAX_AGE {
            return Err("ExpiredProviderToken");
        }
        Ok(iat)
    }

    /// [`Verifier::check`] without the cache.
    fn verify(&self, jwt: &str, now: u64) -> Result<u64, &'static str> {
        const INVALID: &str = "InvalidProviderToken";
        let mut parts = jwt.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(INVALID);
        };
        let json = |part: &str| -> Result<serde_json::Value, &'static str> {
            let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| INVALID)?;
            serde_json::from_slice(&bytes).map_err(|_| INVALID)
        };
        let header = json(h)?;
        let claims = json(c)?;
        if header["alg"] != "ES256" || header["kid"] != KEY_ID || claims["iss"] != TEAM_ID {
            return Err(INVALID);
        }
        let iat = claims["iat"].as_u64().ok_or(INVALID)?;
        let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| INVALID)?;
        let signed = &jwt[..h.len() + 1 + c.len()];
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.public_key)
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| INVALID)?;
        Self::check_age(iat, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apns::protocol::jwt::{mint, SigningKey};

    #[test]
    fn writes_a_key_the_client_loads_and_checks_its_tokens() {
        let dir = std::env::temp_dir().join(format!("sandbox-authkey-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write(&dir).unwrap();
        let key = SigningKey::from_p8(dir.join("auth-key.p8").to_str().unwrap()).unwrap();
        let pub_pem = std::fs::read_to_string(dir.join("auth-key.pub.pem")).unwrap();
        assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let v = Verifier::load(&dir).unwrap().unwrap();
        let now = 1_700_000_000;
        let cases = [
            (mint(&key, KEY_ID, TEAM_ID, now).unwrap(), Ok(now)),
            (
                mint(&key, KEY_ID, TEAM_ID, now - MAX_AGE).unwrap(),
                Ok(now - MAX_AGE),
            ),
            (
                mint(&key, KEY_ID, TEAM_ID, now - MAX_AGE - 1).unwrap(),
                Err("ExpiredProviderToken"),
            ),
            (
                mint(&key, "ZZZ123DEFG", TEAM_ID, now).unwrap(),
                Err("InvalidProviderToken"),
            ),
            (
                mint(&key, KEY_ID, "ZZZ123GHIJ", now).unwrap(),
                Err("InvalidProviderToken"),
            ),
            ("a.b".to_string(), Err("InvalidProviderToken")),
        ];
        for (jwt, want) in cases {
            assert_eq!(v.check(&jwt, now), want, "{jwt}");
        }
        // Another key's signature.
        let rng = SystemRandom::new();
        let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let other = SigningKey::from_pkcs8_der(der.as_ref(), "other").unwrap();
        let forged = mint(&other, KEY_ID, TEAM_ID, now).unwrap();
        assert_eq!(v.check(&forged, now), Err("InvalidProviderToken"));
        assert_eq!(v.check(&forged, now), Err("InvalidProviderToken"));

        // Remembered tokens: the same answers, and their age still counts.
        let good = mint(&key, KEY_ID, TEAM_ID, now).unwrap();
        assert_eq!(v.check(&good, now), Ok(now));
        assert!(v.cache().contains_key(good.as_str()));
        assert_eq!(v.check(&good, now + MAX_AGE), Ok(now));
        assert_eq!(
            v.check(&good, now + MAX_AGE + 1),
            Err("ExpiredProviderToken")
        );
        assert!(!v.cache().contains_key(forged.as_str()));
        // A remembered token with one signature byte changed is not taken for it.
        let mut tampered = good.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(v.check(&tampered, now), Err("InvalidProviderToken"));
        // Bounded: never more than MAX_CACHED tokens remembered.
        for i in 0..(MAX_CACHED as u64 + 10) {
            let jwt = mint(&key, KEY_ID, TEAM_ID, now - i).unwrap();
            assert_eq!(v.check(&jwt, now), Ok(now - i));
            assert!(v.cache().len() <= MAX_CACHED);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

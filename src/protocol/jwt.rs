//! Provider authentication tokens (JWT, ES256) for the HTTP/2 provider API.
//!
//! Owns the `.p8` signing key, the token format and the process-wide token cache.
//! It does not read the clock: every time is a Unix second given by the caller,
//! so the refresh rules are tested with any clock.
//!
//! Apple's rules (see `docs/protocol.md`): a token is valid for one hour;
//! it must not be refreshed more often than every 20 minutes (too-frequent
//! refreshes earn `429 TooManyProviderTokenUpdates`, a classic bug when every
//! process or connection mints its own), and must be refreshed at least every 60.
//! So [`TokenCache`] hands the *same* token to every connection of the process
//! that uses the same key, key id and team id, refreshes it once it is
//! [`REFRESH_AFTER`] old, and re-mints earlier only on `ExpiredProviderToken`
//! ([`TokenCache::force_refresh`]), at most once per [`MIN_REFRESH`].
//!
//! Secrets never appear in `Debug`, `Display` or error messages: neither the key
//! nor the token. Our copies of the `.p8` text and DER are zeroized when dropped,
//! and so are the cache's tokens once it is their last holder (the key itself
//! lives in ring's `EcdsaKeyPair`, which is not wiped: see the README's threat
//! model).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivatePkcs8KeyDer;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{CredentialsProblem, Error, Result};

/// A token is refreshed once it is this old (seconds): well inside Apple's hour.
pub const REFRESH_AFTER: u64 = 50 * 60;
/// A token is never replaced before it is this old (seconds), except once per
/// this period after `ExpiredProviderToken`.
pub const MIN_REFRESH: u64 = 20 * 60;

/// An ES256 (ECDSA P-256 / SHA-256) key from Apple's `.p8` file.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    /// SHA-256 of the public key: identifies the key in the cache.
    fingerprint: [u8; 32],
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<hidden>)")
    }
}

impl SigningKey {
    /// Loads a PKCS#8 EC P-256 key as Apple issues it (`AuthKey_XXXXXXXXXX.p8`).
    ///
    /// `input` is the PEM text itself (it contains `-----BEGIN`) or the path of
    /// the file. Errors name the path, never the content.
    pub fn from_p8(input: &str) -> Result<SigningKey> {
        let (text, shown) = if input.contains("-----BEGIN") {
            (
                Zeroizing::new(input.as_bytes().to_vec()),
                "the auth_key PEM text".to_string(),
            )
        } else {
            let path = input.trim();
            let shown = format!("auth_key '{path}'");
            let data = std::fs::read(path).map_err(|e| {
                Error::credentials(&shown, CredentialsProblem::AuthKeyUnreadable(e.to_string()))
            })?;
            (Zeroizing::new(data), shown)
        };
        let der = PrivatePkcs8KeyDer::from_pem_slice(&text)
            .map(Zeroizing::new)
            .map_err(|_| Error::credentials(&shown, CredentialsProblem::NoPkcs8Key))?;
        Self::from_pkcs8_der(der.secret_pkcs8_der(), &shown)
    }

    /// Loads a PKCS#8 DER key; `shown` names where it came from, for messages.
    pub fn from_pkcs8_der(der: &[u8], shown: &str) -> Result<SigningKey> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            .map_err(|e| Error::credentials(shown, CredentialsProblem::NotP256(e.to_string())))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, pair.public_key().as_ref());
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(digest.as_ref());
        Ok(SigningKey {
            pair,
            fingerprint,
            rng,
        })
    }

    /// SHA-256 of the public key (not secret: it identifies the key).
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// The uncompressed public point (65 bytes), for verifiers.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    fn sign(&self, message: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.pair
            .sign(&self.rng, message)
            .map(|s| Zeroizing::new(s.as_ref().to_vec()))
            .map_err(|_| Error::Internal("ES256 signing failed".into()))
    }
}

/// Checks a key id or team id: Apple's are 10 ASCII letters and digits.
pub fn check_id(value: &str, option: &str) -> Result<()> {
    if value.len() == 10 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "option '{option}' must be the 10-character identifier from the Apple Developer \
             account (letters and digits), not {value:?}"
        )))
    }
}

/// Length of an ES256 signature (r || s).
const SIGNATURE_LEN: usize = 64;

/// Mints a provider token: `{"alg":"ES256","kid":…}.{"iss":…,"iat":…}.signature`,
/// each part base64url without padding.
///
/// The token is written in place into a string of its exact size, so no partial
/// copy of it is left behind in freed memory; the caller owns the one copy.
pub fn mint(key: &SigningKey, key_id: &str, team_id: &str, issued_at: u64) -> Result<String> {
    let header = serde_json::json!({ "alg": "ES256", "kid": key_id }).to_string();
    let claims = serde_json::json!({ "iss": team_id, "iat": issued_at }).to_string();
    let b64_len = |n: usize| base64::encoded_len(n, false).unwrap_or(0);
    let mut token = String::with_capacity(
        b64_len(header.len()) + b64_len(claims.len()) + b64_len(SIGNATURE_LEN) + 2,
    );
    URL_SAFE_NO_PAD.encode_string(header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims, &mut token);
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&*signature, &mut token);
    Ok(token)
}

/// A token handed out by the cache. `Debug` hides the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// The JWT, shared by every holder.
    pub jwt: Arc<str>,
    /// Unix seconds of its `iat` claim.
    pub issued_at: u64,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("jwt", &"<hidden>")
            .field("issued_at", &self.issued_at)
            .finish()
    }
}

type CacheKey = ([u8; 32], String, String);

#[derive(Debug)]
struct Entry {
    token: Token,
    /// When a forced refresh last minted (Unix seconds).
    last_forced: Option<u64>,
}

/// Replaced tokens kept for wiping, at most (each waits for its last request in
/// flight to finish; past this many, the oldest is let go unwiped).
const MAX_RETIRED: usize = 64;

/// What the cache's lock guards.
#[derive(Default)]
struct Entries {
    current: BTreeMap<CacheKey, Entry>,
    /// Replaced tokens still held elsewhere (by a request in flight), zeroed once
    /// the cache holds the last reference.
    retired: Vec<Arc<str>>,
}

impl fmt::Debug for Entries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entries")
            .field("current", &self.current)
            .field("retired", &self.retired.len())
            .finish()
    }
}

/// Zeroes a token's text when no one else holds it; says whether it did.
fn wipe_if_last(jwt: &mut Arc<str>) -> bool {
    match Arc::get_mut(jwt) {
        Some(text) => {
            text.zeroize();
            true
        }
        None => false,
    }
}

impl Entries {
    /// Stores `entry` under `key`; the token it replaces is wiped now or later.
    fn insert(&mut self, key: CacheKey, entry: Entry) {
        if let Some(old) = self.current.insert(key, entry) {
            self.retired.push(old.token.jwt);
        }
        self.sweep();
    }

    /// Wipes the retired tokens nobody holds any more.
    fn sweep(&mut self) {
        self.retired.retain_mut(|jwt| !wipe_if_last(jwt));
        if self.retired.len() > MAX_RETIRED {
            let excess = self.retired.len() - MAX_RETIRED;
            self.retired.drain(..excess);
        }
    }
}

/// Provider tokens per (key, key id, team id), shared by every connection that
/// uses them. [`TokenCache::global`] is the process-wide one.
///
/// A token the cache replaces is zeroed as soon as the cache is its last holder
/// (the requests that carried it hold clones until they are answered); a
/// dropped cache zeroes the tokens only it still holds.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<Entries>,
}

static GLOBAL: TokenCache = TokenCache::new();

impl TokenCache {
    pub const fn new() -> TokenCache {
        TokenCache {
            entries: Mutex::new(Entries {
                current: BTreeMap::new(),
                retired: Vec::new(),
            }),
        }
    }

    /// The cache every connection of this process shares.
    pub fn global() -> &'static TokenCache {
        &GLOBAL
    }

    /// The entries, with the retired tokens nobody holds any more wiped.
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.sweep();
        entries
    }

    /// The current token, minted when there is none or when it is
    /// [`REFRESH_AFTER`] old at `now` (Unix seconds).
    pub fn get(&self, key: &SigningKey, key_id: &str, team_id: &str, now: u64) -> Result<Token> {
        let mut entries = self.lock();
        let k = (key.fingerprint(), key_id.to_string(), team_id.to_string());
        if let Some(entry) = entries.current.get(&k) {
            if now.saturating_sub(entry.token.issued_at) < REFRESH_AFTER {
                return Ok(entry.token.clone());
            }
        }
        let token = new_token(key, key_id, team_id, now)?;
        let last_forced = entries.current.get(&k).and_then(|e| e.last_forced);
        entries.insert(
            k,
            Entry {
                token: token.clone(),
                last_forced,
            },
        );
        Ok(token)
    }

    /// After APNs answered `ExpiredProviderToken` to `rejected`: returns a token
    /// to retry with. Mints a new one unless someone already replaced `rejected`,
    /// or the token is younger than [`MIN_REFRESH`] and a forced refresh already
    /// happened within the last [`MIN_REFRESH`] (then the same token comes back:
    /// minting again would only earn `TooManyProviderTokenUpdates`).
    pub fn force_refresh(
        &self,
        key: &SigningKey,
        key_id: &str,
        team_id: &str,
        rejected: &str,
        now: u64,
    ) -> Result<Token> {
        let mut entries = self.lock();
        let k = (key.fingerprint(), key_id.to_string(), team_id.to_string());
        let mut last_forced = None;
        if let Some(entry) = entries.current.get(&k) {
            if &*entry.token.jwt != rejected {
                return Ok(entry.token.clone());
            }
            let age = now.saturating_sub(entry.token.issued_at);
            let forced_recently = entry
                .last_forced
                .is_some_and(|t| now.saturating_sub(t) < MIN_REFRESH);
            if age < MIN_REFRESH && forced_recently {
                return Ok(entry.token.clone());
            }
            last_forced = Some(now);
        }
        let token = new_token(key, key_id, team_id, now)?;
        entries.insert(
            k,
            Entry {
                token: token.clone(),
                last_forced,
            },
        );
        Ok(token)
    }
}

impl Drop for TokenCache {
    fn drop(&mut self) {
        let entries = self
            .entries
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (_, mut entry) in std::mem::take(&mut entries.current) {
            wipe_if_last(&mut entry.token.jwt);
        }
        for mut jwt in std::mem::take(&mut entries.retired) {
            wipe_if_last(&mut jwt);
        }
    }
}

/// A new token; the minted text is wiped once copied into the shared `Arc`.
fn new_token(key: &SigningKey, key_id: &str, team_id: &str, now: u64) -> Result<Token> {
    let jwt = Zeroizing::new(mint(key, key_id, team_id, now)?);
    Ok(Token {
        jwt: Arc::from(jwt.as_str()),
        issued_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    fn key() -> SigningKey {
        let rng = SystemRandom::new();
        let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        SigningKey::from_pkcs8_der(der.as_ref(), "test key").unwrap()
    }

    fn pem(der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn mints_a_verifiable_es256_token() {
        let k = key();
        let jwt = mint(&k, "ABC123DEFG", "DEF123GHIJ", 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(!jwt.contains('='), "no padding: {jwt}");
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg":"ES256","kid":"ABC123DEFG"})
        );
        assert_eq!(
            claims,
            serde_json::json!({"iss":"DEF123GHIJ","iat":1_700_000_000})
        );
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64, "JWS ES256 is r||s");
        let message = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, k.public_key())
            .verify(message.as_bytes(), &sig)
            .unwrap();
    }

    #[test]
    fn minted_tokens_fill_their_allocation_exactly() {
        let k = key();
        for (kid, team) in [("ABC123DEFG", "DEF123GHIJ"), ("k", ""), ("ä\"\\\u{0}", "x")] {
            let jwt = mint(&k, kid, team, u64::MAX).unwrap();
            // Written in place: never grown, so no partial copy was freed.
            assert_eq!(jwt.capacity(), jwt.len(), "{kid:?}");
        }
    }

    #[test]
    fn replaced_tokens_are_wiped_once_the_cache_holds_the_last_copy() {
        let mut only: Arc<str> = Arc::from("a.b.c");
        let other = Arc::clone(&only);
        assert!(!wipe_if_last(&mut only), "someone else holds it");
        assert_eq!(&*only, "a.b.c");
        drop(other);
        assert!(wipe_if_last(&mut only));
        assert_eq!(&*only, "\0\0\0\0\0");

        let k = key();
        let cache = TokenCache::new();
        let (kid, team) = ("ABC123DEFG", "DEF123GHIJ");
        let in_flight = cache.get(&k, kid, team, 0).unwrap();
        let newer = cache.get(&k, kid, team, REFRESH_AFTER).unwrap();
        assert_ne!(newer, in_flight);
        // A request still carries the old token: kept (not wiped under it).
        assert_eq!(cache.lock().retired.len(), 1);
        assert_eq!(in_flight.jwt.split('.').count(), 3);
        drop(in_flight);
        // Its last holder is gone: the next use of the cache wipes and drops it.
        assert_eq!(cache.lock().retired.len(), 0);
        // Nothing is kept for a token only the cache held.
        drop(newer);
        let current = cache.get(&k, kid, team, 3 * REFRESH_AFTER).unwrap();
        assert_eq!(cache.lock().retired.len(), 0);
        assert_eq!(cache.lock().current.len(), 1);
        let shown = format!("{cache:?}");
        assert!(
            shown.contains("<hidden>") && !shown.contains(&*current.jwt),
            "{shown}"
        );
    }

    #[test]
    fn loads_p8_text_and_files_and_hides_secrets() {
        let rng = SystemRandom::new();
        let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let text = pem(der.as_ref());
        let from_text = SigningKey::from_p8(&text).unwrap();
        let dir = std::env::temp_dir().join(format!("apns-jwt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("AuthKey_ABC123DEFG.p8");
        std::fs::write(&path, &text).unwrap();
        let from_file = SigningKey::from_p8(path.to_str().unwrap()).unwrap();
        assert_eq!(from_text.fingerprint(), from_file.fingerprint());
        assert_eq!(format!("{from_file:?}"), "SigningKey(<hidden>)");
        let token = TokenCache::new()
            .get(&from_file, "ABC123DEFG", "DEF123GHIJ", 5)
            .unwrap();
        assert!(!format!("{token:?}").contains(&*token.jwt));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rejects_bad_keys_naming_the_source_not_the_content() {
        let missing = SigningKey::from_p8("/nonexistent/AuthKey.p8").unwrap_err();
        assert!(missing
            .to_string()
            .contains("cannot read auth_key '/nonexistent/AuthKey.p8'"));
        let garbage = "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----\n";
        let err = SigningKey::from_p8(garbage).unwrap_err().to_string();
        assert!(err.contains("not a usable EC P-256 key"), "{err}");
        assert!(!err.contains("QUJD"));
        let err = SigningKey::from_p8("-----BEGIN CERTIFICATE-----\n").unwrap_err();
        assert!(err.to_string().contains("holds no PKCS#8 key"));
    }

    #[test]
    fn ids_are_ten_alphanumerics() {
        for (id, ok) in [
            ("ABC123DEFG", true),
            ("abc123defg", true),
            ("ABC123DEF", false),
            ("ABC123DEFG1", false),
            ("ABC-23DEFG", false),
            ("", false),
        ] {
            assert_eq!(check_id(id, "key_id").is_ok(), ok, "{id}");
        }
        assert!(check_id("x", "team_id")
            .unwrap_err()
            .to_string()
            .contains("'team_id'"));
    }

    /// (step, seconds since start, expected: same token as before?)
    #[test]
    fn refresh_schedule() {
        let k = key();
        let cache = TokenCache::new();
        let t0 = 1_000_000;
        let first = cache.get(&k, "ABC123DEFG", "DEF123GHIJ", t0).unwrap();
        assert_eq!(first.issued_at, t0);
        let cases: &[(u64, bool)] = &[
            (0, true),
            (60, true),
            (REFRESH_AFTER - 1, true),
            (REFRESH_AFTER, false),
        ];
        let mut current = first.clone();
        for &(offset, same) in cases {
            let got = cache
                .get(&k, "ABC123DEFG", "DEF123GHIJ", t0 + offset)
                .unwrap();
            assert_eq!(got == current, same, "at +{offset}s");
            current = got;
        }
        assert_eq!(current.issued_at, t0 + REFRESH_AFTER);
    }

    #[test]
    fn shared_per_key_id_and_team() {
        let (k1, k2) = (key(), key());
        let cache = TokenCache::new();
        let a = cache.get(&k1, "ABC123DEFG", "DEF123GHIJ", 100).unwrap();
        let b = cache.get(&k1, "ABC123DEFG", "DEF123GHIJ", 200).unwrap();
        assert!(Arc::ptr_eq(&a.jwt, &b.jwt), "one token for two connections");
        let other_key = cache.get(&k2, "ABC123DEFG", "DEF123GHIJ", 200).unwrap();
        let other_kid = cache.get(&k1, "ZZZ123DEFG", "DEF123GHIJ", 200).unwrap();
        let other_team = cache.get(&k1, "ABC123DEFG", "ZZZ123GHIJ", 200).unwrap();
        for t in [&other_key, &other_kid, &other_team] {
            assert_ne!(t.jwt, a.jwt);
        }
    }

    #[test]
    fn forced_refresh_at_most_once_per_twenty_minutes() {
        let k = key();
        let cache = TokenCache::new();
        let (kid, team) = ("ABC123DEFG", "DEF123GHIJ");
        let t0 = 10_000;
        let a = cache.get(&k, kid, team, t0).unwrap();
        // Young token, first forced refresh: minted.
        let b = cache.force_refresh(&k, kid, team, &a.jwt, t0 + 60).unwrap();
        assert_ne!(a, b);
        // Someone else's stale rejection: the current token comes back.
        let same = cache.force_refresh(&k, kid, team, &a.jwt, t0 + 61).unwrap();
        assert_eq!(same, b);
        // A second forced refresh within 20 minutes: refused (same token).
        let c = cache
            .force_refresh(&k, kid, team, &b.jwt, t0 + 120)
            .unwrap();
        assert_eq!(c, b);
        // Once the token is 20 minutes old: minted.
        let d = cache
            .force_refresh(&k, kid, team, &b.jwt, t0 + 60 + MIN_REFRESH)
            .unwrap();
        assert_ne!(d, b);
        assert_eq!(d.issued_at, t0 + 60 + MIN_REFRESH);
        // And get() hands out the refreshed token.
        assert_eq!(cache.get(&k, kid, team, t0 + 61 + MIN_REFRESH).unwrap(), d);
    }
}

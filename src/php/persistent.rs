//! Persistent connections: kept open inside the PHP process between requests.
//!
//! PHP frees every object at the end of a request, so without help each request
//! of a PHP-FPM worker or `php -S` connects again, and Apple treats rapid
//! reconnects as abuse. With the `persistent` option, a connection whose object
//! goes away is handed everything it still has to write and kept here, keyed by
//! URL, credentials and the caller's id; the next `new ApnsConnection` with the
//! same key gets it back (reconnected first if it died meanwhile) as a new owner,
//! so nothing an earlier request left behind is reported to it.
//!
//! PHP runs one request at a time per process (NTS), so the lock is never
//! contended; it exists because Rust statics must be `Sync`.

use std::sync::Mutex;

use super::engine::Engine;
use super::options::ConnectOptions;

/// Connections kept per process, at most: a worker that builds many ids does not
/// hoard sockets (the oldest is closed).
const MAX_KEPT: usize = 16;

static KEPT: Mutex<Vec<(String, Engine)>> = Mutex::new(Vec::new());

/// What identifies a kept connection: the URL, the credentials (certificate or
/// token auth, with the default topic) and the id. The passphrase and the
/// `auth_key` (a path, or the key's PEM text) enter only as SHA-256 digests, so
/// the key holds no secret.
pub fn key(url: &str, o: &ConnectOptions, id: &str) -> String {
    let digest = |secret: Option<&str>| {
        secret.map_or_else(String::new, |s| {
            hex::encode(ring::digest::digest(&ring::digest::SHA256, s.as_bytes()))
        })
    };
    let passphrase = digest(o.passphrase.as_ref().map(|p| p.as_str()));
    let auth_key = digest(o.auth_key.as_ref().map(|k| k.as_str()));
    [
        url,
        o.local_cert.as_deref().unwrap_or_default(),
        o.local_pk.as_deref().unwrap_or_default(),
        o.cafile.as_deref().unwrap_or_default(),
        o.peer_name.as_deref().unwrap_or_default(),
        &passphrase,
        &auth_key,
        o.key_id.as_deref().unwrap_or_default(),
        o.team_id.as_deref().unwrap_or_default(),
        o.topic.as_deref().unwrap_or_default(),
        id,
    ]
    .join("\u{0}")
}

/// Takes the kept connection for `key`, if there is one.
pub fn take(key: &str) -> Option<Engine> {
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let at = kept.iter().position(|(k, _)| k == key)?;
    Some(kept.remove(at).1)
}

/// Keeps a connection for the next request with the same key.
pub fn keep(key: String, engine: Engine) {
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if kept.len() >= MAX_KEPT {
        // Dropping closes it (settling what it holds, bounded by its timeout).
        kept.remove(0);
    }
    kept.push((key, engine));
}

/// Closes every kept connection (module shutdown): each settles what it holds,
/// bounded by its timeout.
pub fn close_all() {
    let kept = std::mem::take(&mut *KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    for (_, mut engine) in kept {
        let _ = engine.close();
    }
}

//! What an HTTP/2 gateway answers, as the client reads it: `Response::parse` on a
//! status and a body (Apple's `{"reason":…,"timestamp":…}`, or anything else a
//! proxy or a broken server sends), its `disposition()` (what the sender does
//! next), `classify` on the reason, and `parse_apns_id` on header text
//! (checked against the uuid crate). The sender reads nothing else from a
//! response: no header (the `apns-id` of a failure is the request's own), and a
//! GOAWAY is h2's error value, shown as h2 formats it.
//!
//! Input: bytes 0-1 = the status (big-endian; h2 only ever gives 100..=999, any
//! u16 is tried); byte 2 = the length of the `apns-id` text that follows (cut to
//! what is there); the rest is the body. The seeds in corpus/http2_response were
//! written in this layout by scripts/fuzz.
#![no_main]

use apns::protocol::http2::{classify, parse_apns_id, Disposition, Response};
use libfuzzer_sys::fuzz_target;

/// The longest reason `Response::parse` takes from a body that is not JSON.
const MAX_TEXT_REASON: usize = 200;

fuzz_target!(|data: &[u8]| {
    let [hi, lo, id_len, rest @ ..] = data else {
        return;
    };
    let status = u16::from_be_bytes([*hi, *lo]);
    let (id, body) = rest.split_at(usize::from(*id_len).min(rest.len()));

    // The status and the body.
    let response = Response::parse(status, body);
    assert_eq!(response.status, status);
    assert_eq!(Response::parse(status, body), response, "deterministic");
    let disposition = response.disposition();
    assert_eq!(disposition, classify(status, &response.reason));
    assert_eq!(disposition == Disposition::Delivered, status == 200);
    if status != 200 {
        assert!(!response.reason.is_empty(), "a failure always has a reason");
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        assert_eq!(response.timestamp, None);
        assert_eq!(response.reason.is_empty(), status == 200);
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => {
            // Apple's fields, as they came.
            if let Some(reason) = json.get("reason").and_then(|r| r.as_str()) {
                if !reason.is_empty() {
                    assert_eq!(response.reason, reason);
                }
            }
            if let Some(ts) = json.get("timestamp").and_then(|t| t.as_u64()) {
                assert_eq!(response.timestamp, Some(ts));
            }
            assert!(response.reason.len() <= body.len().max(32));
        }
        Err(_) => {
            // Kept as text, bounded (each byte at most one U+FFFD).
            assert!(response.reason.len() <= MAX_TEXT_REASON * 3);
            assert_eq!(response.timestamp, None);
        }
    }

    // The reason of an ExpiredProviderToken is retried only with a 403.
    let text = String::from_utf8_lossy(body);
    let by_text = classify(status, &text);
    if by_text == Disposition::RefreshTokenAndRetry {
        assert_eq!((status, &*text), (403, "ExpiredProviderToken"));
    }

    // The apns-id text.
    let id = String::from_utf8_lossy(id);
    let uuid = uuid::Uuid::try_parse(&id).ok().filter(|_| id.len() == 36);
    match parse_apns_id(&id) {
        Ok(lower) => {
            assert_eq!(lower.len(), 36);
            assert!(lower.eq_ignore_ascii_case(&id));
            assert_eq!(lower, lower.to_ascii_lowercase());
            assert_eq!(parse_apns_id(&lower).ok().as_deref(), Some(lower.as_str()));
            let Some(uuid) = uuid else {
                panic!("{id:?} accepted, but not a hyphenated UUID");
            };
            assert_eq!(uuid.hyphenated().to_string(), lower);
        }
        Err(e) => {
            assert!(uuid.is_none(), "{id:?} refused, but a hyphenated UUID");
            assert!(e.to_string().contains("is not a UUID"), "{e}");
        }
    }
});

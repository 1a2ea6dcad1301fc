//! Notification payloads: JSON objects under a size limit.
//!
//! Apple rejects a payload that is not a JSON dictionary or is too large, and on
//! the binary protocol that rejection costs a dropped connection. Checking here,
//! before a byte is written, turns it into a clear error for the caller instead.

use crate::error::{Error, Result};

/// Largest payload of the binary protocol (iOS 8 and later, commands 1 and 2).
pub const BINARY_MAX_PAYLOAD: usize = 2048;

/// Checks that `payload` is a non-empty JSON object of at most `limit` bytes.
pub fn validate(payload: &[u8], limit: usize) -> Result<()> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::InvalidPayload("payload is empty".into()));
    }
    if payload.len() > limit {
        return Err(Error::InvalidPayload(format!(
            "payload is {} bytes, over the limit of {limit} bytes",
            payload.len()
        )));
    }
    let value: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| Error::InvalidPayload(format!("payload is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::InvalidPayload(
            "payload must be a JSON object (like {\"aps\":{\"alert\":\"Hi\"}})".into(),
        ));
    }
    Ok(())
}

/// The last payload that passed [`validate`], and the limit it passed: a batch
/// sending one payload to many devices validates its JSON once. Only valid
/// payloads are kept.
#[derive(Debug, Default)]
pub struct LastValid {
    last: Option<(bytes::Bytes, usize)>,
}

impl LastValid {
    /// Validates `payload` against `limit`, unless it is the last valid one for
    /// the same limit, and returns it as shared bytes.
    pub fn check(&mut self, payload: &[u8], limit: usize) -> Result<bytes::Bytes> {
        if let Some((last, checked)) = &self.last {
            if *checked == limit && last.as_ref() == payload {
                return Ok(last.clone());
            }
        }
        validate(payload, limit)?;
        let shared = bytes::Bytes::copy_from_slice(payload);
        self.last = Some((shared.clone(), limit));
        Ok(shared)
    }

    /// [`LastValid::check`] without handing out the bytes: a comparison, no
    /// copy, when `payload` is the last valid one (a batch's every token).
    pub fn accept(&mut self, payload: &[u8], limit: usize) -> Result<()> {
        if let Some((last, checked)) = &self.last {
            if *checked == limit && last.as_ref() == payload {
                return Ok(());
            }
        }
        self.check(payload, limit).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_objects_within_the_limit() {
        validate(br#"{"aps":{"alert":"hi","badge":1}}"#, 2048).unwrap();
        let big = format!(r#"{{"aps":{{"alert":"{}"}}}}"#, "x".repeat(2048 - 20));
        assert_eq!(big.len(), 2048);
        validate(big.as_bytes(), 2048).unwrap();
    }

    #[test]
    fn the_last_valid_payload_is_not_checked_again_but_a_new_one_is() {
        let mut last = LastValid::default();
        assert_eq!(&last.check(b"{\"a\":1}", 2048).unwrap()[..], b"{\"a\":1}");
        assert_eq!(&last.check(b"{\"a\":1}", 2048).unwrap()[..], b"{\"a\":1}");
        // An empty payload is checked, not mistaken for an empty cache.
        assert!(last.check(b"", 2048).is_err());
        // The same payload under a smaller limit is checked again.
        assert!(last.check(b"{\"a\":1}", 4).is_err());
    }

    #[test]
    fn accept_checks_like_check_without_the_bytes() {
        let mut last = LastValid::default();
        last.accept(b"{\"a\":1}", 2048).unwrap();
        last.accept(b"{\"a\":1}", 2048).unwrap();
        assert!(last.accept(b"[1]", 2048).is_err());
        // The last valid one is still remembered, and a new valid one replaces it.
        last.accept(b"{\"a\":1}", 2048).unwrap();
        last.accept(b"{\"b\":2}", 2048).unwrap();
        assert!(last.accept(b"{\"b\":2}", 4).is_err());
    }

    #[test]
    fn rejects_with_a_message_naming_the_problem() {
        let over = format!(r#"{{"a":"{}"}}"#, "x".repeat(2100));
        let cases: Vec<(&[u8], &str)> = vec![
            (b"", "payload is empty"),
            (b"  \n", "payload is empty"),
            (b"{\"aps\":", "not valid JSON"),
            (b"[1,2]", "must be a JSON object"),
            (b"\"text\"", "must be a JSON object"),
            (
                over.as_bytes(),
                "payload is 2108 bytes, over the limit of 2048 bytes",
            ),
        ];
        for (input, want) in cases {
            let err = validate(input, 2048).unwrap_err().to_string();
            assert!(err.contains(want), "{input:?}: {err}");
        }
    }
}

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

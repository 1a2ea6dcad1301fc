//! `payload::validate` on arbitrary bytes, at the binary protocol's limit and at
//! HTTP/2's: accepted payloads are JSON objects within the limit.
#![no_main]

use apns::error::Error;
use apns::protocol::payload::{validate, BINARY_MAX_PAYLOAD};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for limit in [BINARY_MAX_PAYLOAD, 4096] {
        match validate(data, limit) {
            Ok(()) => {
                assert!(data.len() <= limit);
                assert!(data.iter().any(|b| !b.is_ascii_whitespace()));
            }
            Err(e) => {
                assert!(matches!(e, Error::InvalidPayload(_)));
                let _ = e.to_string();
            }
        }
    }
});

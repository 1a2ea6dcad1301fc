//! `token::parse_hex` on arbitrary text, with and without the binary protocol's
//! 32-byte rule. A decoded token spells back (`to_hex`) as the hex digits of the
//! input, lowercased.
#![no_main]

use apns::error::Error;
use apns::protocol::token::{parse_hex, to_hex, BINARY_TOKEN_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let any = parse_hex(data, None);
    let binary = parse_hex(data, Some(BINARY_TOKEN_LEN));
    match &any {
        Ok(bytes) => {
            assert!(!bytes.is_empty());
            let digits: Vec<u8> = data
                .iter()
                .filter(|c| c.is_ascii_hexdigit())
                .map(u8::to_ascii_lowercase)
                .collect();
            assert_eq!(to_hex(bytes).as_bytes(), digits.as_slice());
            assert_eq!(
                parse_hex(to_hex(bytes).as_bytes(), None).as_ref(),
                Ok(bytes)
            );
            match &binary {
                Ok(b) => assert!(b == bytes && b.len() == BINARY_TOKEN_LEN),
                Err(e) => assert!(bytes.len() != BINARY_TOKEN_LEN, "{e}"),
            }
        }
        Err(e) => {
            assert!(matches!(e, Error::InvalidToken(_)));
            assert!(binary.is_err());
            let _ = e.to_string();
        }
    }
});

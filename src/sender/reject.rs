//! What a bad device token becomes: an error for `send()`, a failure entry of
//! its own for `sendMany()` (never the end of the batch), on both protocols.
//!
//! - Binary: Apple's status for what the gateway would have answered, with
//!   [`wire::status_reason`] and why: 2 (missing: empty), 8 (invalid: not hex,
//!   not a string), 5 (size: not 32 bytes).
//! - HTTP/2: what APNs would have answered, 400 `BadDeviceToken`, with why.
//!
//! Pure functions: the engines call them, the tests below check each case.

use super::notification::Token;
use super::Failure;
use crate::error::{Error, Result};
use crate::protocol::binary::{self as wire, status};
use crate::protocol::token::{self, BINARY_TOKEN_LEN};

/// Tokens are shown in failures up to this many characters.
const SHOWN_CHARS: usize = 200;

/// A token refused before sending: Apple's binary status, the token as the
/// caller gave it (for the failure list) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u8,
    pub shown: String,
    pub why: String,
}

impl Rejection {
    /// The binary protocol's failure entry for notification #`index` of a batch.
    pub fn binary_failure(self, identifier: Option<u32>, index: u64) -> Failure {
        let reason = format!(
            "{} (token #{index}: {})",
            wire::status_reason(self.status),
            self.why
        );
        Failure::refused(
            identifier.unwrap_or(0),
            self.shown,
            u32::from(self.status),
            reason,
        )
    }

    /// The error `send()` throws for it.
    pub fn into_error(self) -> Error {
        Error::InvalidToken(self.why)
    }
}

/// A binary-protocol token (32 bytes), parsed once: the fast path for 64 bare
/// hex digits (no allocation; inlined into `sendMany`'s loop), else what is
/// wrong with it.
#[inline]
pub fn binary_token(given: Token<'_>) -> std::result::Result<[u8; BINARY_TOKEN_LEN], Rejection> {
    if let Token::Text(text) = given {
        if let Some(token) = token::parse_hex32(text) {
            return Ok(token);
        }
    }
    binary_token_slow(given)
}

/// [`binary_token`] for everything but 64 bare hex digits: other spellings
/// (spaces, `<>`) and what is wrong with the rest. Kept out of the loop.
#[cold]
#[inline(never)]
fn binary_token_slow(given: Token<'_>) -> std::result::Result<[u8; BINARY_TOKEN_LEN], Rejection> {
    let text = match given {
        Token::Text(text) => text,
        Token::NotText(type_name) => {
            return Err(Rejection {
                status: status::INVALID_TOKEN,
                shown: String::new(),
                why: format!("expected a hex string, got {type_name}"),
            })
        }
    };
    let reject = |status, why| Rejection {
        status,
        shown: shown(text),
        why,
    };
    if text.iter().all(|c| matches!(c, b' ' | b'\t' | b'<' | b'>')) {
        return Err(reject(
            status::MISSING_DEVICE_TOKEN,
            "device token is empty".into(),
        ));
    }
    match token::parse_hex(text, None) {
        Err(e) => Err(reject(status::INVALID_TOKEN, e.to_string())),
        Ok(bytes) => bytes.try_into().map_err(|_| {
            // The length message, in the words of the token parser.
            let why = token::parse_hex(text, Some(BINARY_TOKEN_LEN))
                .err()
                .map_or_else(|| "wrong token length".to_string(), |e| e.to_string());
            reject(status::INVALID_TOKEN_SIZE, why)
        }),
    }
}

/// The token text an HTTP/2 request is built from: a value that is not a
/// string counts as an empty token (refused as such by the request builder).
pub fn http2_text(given: Token<'_>) -> &[u8] {
    match given {
        Token::Text(text) => text,
        Token::NotText(_) => b"",
    }
}

/// HTTP/2's failure entry for notification #`index` whose token the request
/// builder refused with `why`: 400 BadDeviceToken, as APNs would answer.
pub fn http2_failure(text: &[u8], why: &str, identifier: Option<u32>, index: u64) -> Failure {
    Failure::refused(
        identifier.unwrap_or(0),
        shown(text),
        400,
        format!("BadDeviceToken (token #{index}: {why})"),
    )
}

/// `send()`'s binary token: the token or the error naming what is wrong
/// (the same why as [`binary_token`]'s).
pub fn binary_token_or_error(given: Token<'_>) -> Result<[u8; BINARY_TOKEN_LEN]> {
    match given {
        Token::Text(text) => token::parse_binary(text),
        Token::NotText(_) => binary_token(given).map_err(Rejection::into_error),
    }
}

/// A token as given, for a failure entry: lossy UTF-8, at most [`SHOWN_CHARS`].
fn shown(text: &[u8]) -> String {
    String::from_utf8_lossy(text)
        .chars()
        .take(SHOWN_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    fn binary(text: &str, index: u64) -> Failure {
        binary_token(Token::Text(text.as_bytes()))
            .unwrap_err()
            .binary_failure(Some(7), index)
    }

    #[test]
    fn good_binary_tokens_in_any_spelling_parse_once() {
        let want: [u8; 32] = hex::decode(T).unwrap().try_into().unwrap();
        for text in [
            T.to_string(),
            T.to_uppercase(),
            format!("<{T}>"),
            format!(" {T} "),
        ] {
            assert_eq!(
                binary_token(Token::Text(text.as_bytes())),
                Ok(want),
                "{text}"
            );
            assert_eq!(
                binary_token_or_error(Token::Text(text.as_bytes())),
                Ok(want)
            );
        }
    }

    #[test]
    fn each_bad_binary_token_gets_apples_status_and_why() {
        let f = binary(" <> ", 3);
        assert_eq!(
            (f.identifier, f.token.as_str(), f.status, f.reason.as_str()),
            (
                7,
                " <> ",
                2,
                "Missing device token (token #3: device token is empty)"
            )
        );
        let f = binary("zz", 0);
        assert_eq!(f.status, 8);
        assert_eq!(
            f.reason,
            "Invalid token (token #0: device token is not hex: 'z' at character 1)"
        );
        let f = binary("abc", 1);
        assert_eq!(f.status, 8);
        assert!(
            f.reason.contains("odd number of hex digits (3)"),
            "{}",
            f.reason
        );
        let f = binary("abcd", 2);
        assert_eq!(
            (f.status, f.reason.as_str()),
            (
                5,
                "Invalid token size (token #2: device token is 2 bytes (4 hex digits); the binary protocol needs 32 bytes (64 hex digits))"
            )
        );
        let f = binary_token(Token::NotText("int"))
            .unwrap_err()
            .binary_failure(None, 4);
        assert_eq!(
            (f.identifier, f.token.as_str(), f.status, f.reason.as_str()),
            (
                0,
                "",
                8,
                "Invalid token (token #4: expected a hex string, got int)"
            )
        );
        assert_eq!((f.apns_id, f.timestamp), (None, None));
    }

    #[test]
    fn send_gets_the_same_why_as_an_error() {
        let err = binary_token_or_error(Token::Text(b"abcd")).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidToken(
                "device token is 2 bytes (4 hex digits); the binary protocol needs 32 bytes (64 hex digits)"
                    .into()
            )
        );
        let prefixed = format!("0x{}", &T[..62]);
        for text in ["", " <> ", "zz", "abc", "abcd", prefixed.as_str(), &T[..62]] {
            let why = binary_token(Token::Text(text.as_bytes())).unwrap_err().why;
            assert_eq!(
                binary_token_or_error(Token::Text(text.as_bytes())),
                Err(Error::InvalidToken(why)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn bad_http2_tokens_are_400_bad_device_token() {
        let f = http2_failure(
            b"xyz",
            "device token is not hex: 'x' at character 1",
            Some(9),
            5,
        );
        assert_eq!(
            (f.identifier, f.token.as_str(), f.status, f.reason.as_str()),
            (
                9,
                "xyz",
                400,
                "BadDeviceToken (token #5: device token is not hex: 'x' at character 1)"
            )
        );
        assert_eq!((f.apns_id, f.timestamp), (None, None));
        assert_eq!(http2_text(Token::NotText("array")), b"");
    }

    #[test]
    fn each_bad_http2_token_is_refused_by_the_request_builder_then_mapped() {
        use crate::protocol::http2::{build, SendOptions};
        let cases: [(Token<'_>, &str, &str); 5] = [
            (
                Token::Text(b""),
                "",
                "BadDeviceToken (token #0: device token is empty)",
            ),
            (
                Token::Text(b" <> "),
                " <> ",
                "BadDeviceToken (token #0: device token is empty)",
            ),
            (
                Token::Text(b"zz"),
                "zz",
                "BadDeviceToken (token #0: device token is not hex: 'z' at character 1)",
            ),
            (
                Token::Text(b"abc"),
                "abc",
                "BadDeviceToken (token #0: device token has an odd number of hex digits (3))",
            ),
            (
                Token::NotText("int"),
                "",
                "BadDeviceToken (token #0: device token is empty)",
            ),
        ];
        for (token, shown, reason) in cases {
            let text = http2_text(token);
            let err = build(
                text,
                b"{}",
                &SendOptions::default(),
                None,
                false,
                String::new,
            )
            .unwrap_err();
            let Error::InvalidToken(why) = err else {
                panic!("{token:?}: {err:?}");
            };
            let f = http2_failure(text, &why, None, 0);
            assert_eq!(
                (f.token.as_str(), f.status, f.reason.as_str()),
                (shown, 400, reason)
            );
        }
        // Any even number of hex digits is a token over HTTP/2.
        assert!(build(
            b"abcd",
            b"{}",
            &SendOptions::default(),
            None,
            false,
            String::new
        )
        .is_ok());
        let long = "q".repeat(500);
        assert_eq!(
            http2_failure(long.as_bytes(), "w", None, 0).token.len(),
            200
        );
    }
}

//! The pure protocol core: bytes in, values out, and back.
//!
//! Nothing here touches a socket, PHP or the clock, so every rule of Apple's
//! protocols is unit-tested on plain byte slices, partial input included.
//!
//! - [`token`]: device tokens (hex text to bytes).
//! - [`payload`]: JSON payload validation and size limits.
//! - [`binary`]: the binary provider protocol: frames (commands 0, 1, 2) and error responses.
//! - [`feedback`]: the feedback service's tuples.
//! - [`http2`]: the HTTP/2 provider API: request headers, responses, reasons.
//! - [`jwt`]: provider tokens (ES256 JWT) and the process-wide token cache.

pub mod binary;
pub mod feedback;
pub mod http2;
pub mod jwt;
pub mod payload;
pub mod token;

/// The outcome of parsing a prefix of a byte stream.
///
/// Needing more bytes is not an error: the caller keeps what it has and reads on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A whole value, and how many bytes of the input it used.
    Complete(T, usize),
    /// The input is a valid beginning but more bytes are needed.
    Partial,
}

/// The one check of a priority, on both protocols: 10 (immediately) or 5
/// (power-saving). `Err` is the message, for the caller's error kind.
pub fn check_priority(priority: i64) -> Result<u8, String> {
    match u8::try_from(priority) {
        Ok(p @ (binary::PRIORITY_IMMEDIATE | binary::PRIORITY_POWER_SAVING)) => Ok(p),
        _ => Err(format!(
            "priority must be 10 (immediately) or 5 (power-saving), got {priority}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_is_10_or_5_with_one_wording() {
        assert_eq!(check_priority(10), Ok(10));
        assert_eq!(check_priority(5), Ok(5));
        for bad in [0, 1, 7, 11, 266, -5, i64::MAX] {
            assert_eq!(
                check_priority(bad),
                Err(format!(
                    "priority must be 10 (immediately) or 5 (power-saving), got {bad}"
                ))
            );
        }
    }
}

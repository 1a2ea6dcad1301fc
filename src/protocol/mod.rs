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

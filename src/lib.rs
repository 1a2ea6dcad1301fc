//! `apns`: Apple push notifications for PHP, with a Rust core.
//!
//! The crate is both the PHP extension (`libapns.so`, feature `php`) and a plain
//! Rust library (the pure protocol core, credentials, the TLS transport and the
//! two sending engines), which the local sandbox gateway and the unit tests use
//! without PHP. It speaks Apple's binary provider protocol (`ssl://`, `tls://`)
//! and the HTTP/2 provider API (`https://`). The data flow of both, and where
//! each decision lives, is in the repository's `ARCHITECTURE.md`; Apple's rules
//! the code relies on are in `docs/protocol.md`.
//!
//! # Layout
//! - [`error`]: the one error type; every failure the PHP layer reports starts here.
//! - [`protocol`]: pure codecs, no sockets, no clock. Device tokens, payloads,
//!   the binary frames (commands 0, 1, 2), error responses and feedback tuples;
//!   HTTP/2 requests (headers, topic suffixes, limits) and responses (reasons,
//!   what each status means); provider tokens (ES256 JWT) and their cache.
//! - [`credentials`]: the client certificate and key (PEM, encrypted PEM,
//!   PKCS#12) and the `cafile` certificates, read and checked.
//! - [`transport`]: the rustls configuration for both protocols; connecting
//!   (TCP, handshake, the client certificate's verdict), the non-blocking TLS
//!   stream the binary engine drives, and the text of TLS failures.
//! - [`sender`]: the engines. Binary: the window of written notifications,
//!   resending after error responses, shutdowns and drops, probes. HTTP/2:
//!   streams in flight, retries, GOAWAY, token auth. Both: one `Engine`
//!   trait, the protocol-neutral notification, what a bad token becomes,
//!   identifiers, back-off, the failure list and the stats; and the feedback
//!   service reader.
//! - [`option_names`]: which `$options` names each PHP call takes.
//! - `php` (feature `php`): the thin binding that exposes `ApnsConnection` and
//!   `ApnsException` to PHP.

pub mod credentials;
pub mod error;
pub mod option_names;
pub mod protocol;
pub mod sender;
pub mod transport;

#[cfg(feature = "php")]
mod php;

#[cfg(test)]
mod test_support;

pub use error::{Error, Result};

/// The crate version, shown by `phpinfo()` and `stats()`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

//! `apns`: Apple push notifications for PHP, with a Rust core.
//!
//! The crate is both the PHP extension (`libapns.so`, feature `php`) and a plain
//! Rust library (the pure protocol core, the TLS transport and the sending engine),
//! which the local sandbox gateway and the unit tests use without PHP.
//!
//! # Layout
//! - [`error`]: the one error type; every failure the PHP layer reports starts here.
//! - [`protocol`]: pure codecs. Device tokens, payloads, the binary frames
//!   (commands 0, 1, 2), error responses and feedback tuples. No sockets, no clock.
//! - [`transport`]: TLS credentials and configuration (rustls), and the stream that
//!   writes whole frames and reads without blocking.
//! - [`sender`]: the reliability engine: the window of written notifications,
//!   resending after errors, shutdowns and drops, the failure list and the stats.
//! - `php` (feature `php`): the thin binding that exposes `ApnsConnection` and
//!   `ApnsException` to PHP.

pub mod credentials;
pub mod error;
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

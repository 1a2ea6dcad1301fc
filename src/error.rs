//! The one error type of the crate.
//!
//! Every variant renders a message that names the cause and the thing involved
//! (the option, the file, the token's position, the host and port), because the
//! message is what a PHP user sees in `ApnsException::getMessage()`. Messages never
//! contain secrets: no passphrase, key material or JWT is ever formatted here.

use std::fmt;

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, grouped by what the user has to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A device token is not usable: not hex, empty, or of the wrong length.
    InvalidToken(String),
    /// A payload is not usable: empty, not JSON, or over the size limit.
    InvalidPayload(String),
    /// A per-notification option (`identifier`, `expiry`, `priority`, `command`…) is out of range.
    InvalidOption(String),
    /// A raw frame given to `write()` cannot be parsed.
    InvalidFrame(String),
    /// A connection URL or connection option is wrong (unknown option, bad scheme…).
    Config(String),
    /// A certificate, key or CA file cannot be read or used (names the path, never the secret).
    Credentials(String),
    /// TCP connect failed, or nothing listens at the address.
    Connect(String),
    /// The TLS handshake failed: untrusted server, refused client certificate…
    Tls(String),
    /// An operation did not finish within the configured `timeout`.
    Timeout(String),
    /// The connection broke while reading or writing.
    Io(String),
    /// The connection was closed by `close()` and cannot be used any more.
    Closed,
    /// Notifications could not be delivered: the gateway stayed unreachable.
    Undelivered(String),
    /// A method was called again from inside one of its own callbacks.
    Reentrant(String),
    /// A bug: an internal invariant did not hold (a caught panic, for instance).
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidToken(m)
            | Error::InvalidPayload(m)
            | Error::InvalidOption(m)
            | Error::InvalidFrame(m)
            | Error::Config(m)
            | Error::Credentials(m)
            | Error::Connect(m)
            | Error::Tls(m)
            | Error::Timeout(m)
            | Error::Io(m)
            | Error::Undelivered(m)
            | Error::Reentrant(m) => f.write_str(m),
            Error::Closed => f.write_str("the connection is closed: create a new ApnsConnection"),
            Error::Internal(m) => write!(f, "internal error in apns (please report it): {m}"),
        }
    }
}

impl std::error::Error for Error {}

//! The one error type of the crate.
//!
//! Every variant renders a message that names the cause and the thing involved
//! (the option, the file, the token's position, the host and port), because the
//! message is what a PHP user sees in `ApnsException::getMessage()`. Messages never
//! contain secrets: no passphrase, key material or JWT is ever formatted here.
//!
//! The network kinds carry their detail as data (`kinds.rs`: the peer, the step
//! that failed, the seconds allowed, the cause; [`TlsFailure`]: the
//! [`TlsFailureKind`] that says whether reconnecting can help), and so do
//! credential failures (`credentials.rs`: the file and the problem), so engines
//! decide on values ([`Error::is_fatal`]) and only `Display` words them. Errors
//! about the caller's input (token, payload, option, frame) and configuration
//! stay messages: each is worded where the input is checked, is shown to the
//! caller and never decided on (its code says which kind it is).

mod credentials;
mod kinds;

use std::fmt;

pub use self::credentials::{CredentialsError, CredentialsProblem};
pub use self::kinds::{
    ConnectError, IoError, IoFailure, ProtocolError, ProtocolFailure, TimeoutError, Unfinished,
};
pub use crate::transport::failure::{TlsFailure, TlsFailureKind};

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
    Credentials(CredentialsError),
    /// TCP connect failed, or nothing listens at the address.
    Connect(ConnectError),
    /// The peer is not a usable HTTP/2 gateway: no ALPN h2, a failed HTTP/2
    /// handshake, or the connection closed before its first PING was answered.
    /// (Code `CONNECT`, as before it had a kind of its own.)
    Protocol(ProtocolError),
    /// The TLS handshake failed: untrusted server, refused client certificate…
    Tls(TlsFailure),
    /// An operation did not finish within the configured `timeout`.
    Timeout(TimeoutError),
    /// The connection broke while reading or writing.
    Io(IoError),
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
            | Error::Undelivered(m)
            | Error::Reentrant(m) => f.write_str(m),
            Error::Credentials(e) => e.fmt(f),
            Error::Connect(e) => e.fmt(f),
            Error::Protocol(e) => e.fmt(f),
            Error::Tls(e) => e.fmt(f),
            Error::Timeout(e) => e.fmt(f),
            Error::Io(e) => e.fmt(f),
            Error::Closed => f.write_str("the connection is closed: create a new ApnsConnection"),
            Error::Internal(m) => write!(f, "internal error in apns (please report it): {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// What kind of failure this is, as a stable number (the PHP exception's
    /// `getCode()`, with constants on `ApnsException`), so callers can tell bad
    /// input (fix the call) from bad configuration (fix the setup) from an outage
    /// (retry later) without parsing messages.
    pub fn code(&self) -> i32 {
        match self {
            Error::InvalidToken(_)
            | Error::InvalidPayload(_)
            | Error::InvalidOption(_)
            | Error::InvalidFrame(_) => codes::INVALID_INPUT,
            Error::Config(_) => codes::CONFIG,
            Error::Credentials(_) => codes::CREDENTIALS,
            Error::Tls(_) => codes::TLS,
            Error::Connect(_) | Error::Protocol(_) => codes::CONNECT,
            Error::Timeout(_) => codes::TIMEOUT,
            Error::Io(_) => codes::IO,
            Error::Closed => codes::CLOSED,
            Error::Undelivered(_) => codes::UNDELIVERED,
            Error::Reentrant(_) => codes::REENTRANT,
            Error::Internal(_) => codes::INTERNAL,
        }
    }

    /// A [`CredentialsError`]: `problem` with `file` (its path as shown).
    pub fn credentials(file: impl fmt::Display, problem: CredentialsProblem) -> Error {
        Error::Credentials(CredentialsError::new(file, problem))
    }

    /// True for a TLS failure that reconnecting cannot fix (a refused client
    /// certificate, an untrusted server, a TLS setup that cannot start): an
    /// engine gives up at once instead of retrying until `timeout`.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Error::Tls(f) if f.is_fatal())
    }
}

/// The numbers [`Error::code`] returns; PHP sees them as `ApnsException::NAME`.
pub mod codes {
    /// A token, payload, option or frame given to a call is not valid: nothing was sent.
    pub const INVALID_INPUT: i32 = 1;
    /// The URL or a connection option is wrong.
    pub const CONFIG: i32 = 2;
    /// A certificate, key or CA file cannot be read or used (or the passphrase is wrong).
    pub const CREDENTIALS: i32 = 3;
    /// TLS failed: the server is not trusted, or it refused the client certificate.
    pub const TLS: i32 = 4;
    /// Nothing accepts connections at the gateway's address.
    pub const CONNECT: i32 = 5;
    /// The gateway did not answer within `timeout`.
    pub const TIMEOUT: i32 = 6;
    /// The connection broke.
    pub const IO: i32 = 7;
    /// The connection was closed with `close()`.
    pub const CLOSED: i32 = 8;
    /// The gateway stayed unreachable: the notifications not confirmed are in `failures()`.
    pub const UNDELIVERED: i32 = 9;
    /// A method was called from inside `sendMany()`'s callback or iterator.
    pub const REENTRANT: i32 = 10;
    /// A bug in apns.
    pub const INTERNAL: i32 = 99;

    /// Every code with its PHP constant name.
    pub const ALL: [(&str, i32); 11] = [
        ("INVALID_INPUT", INVALID_INPUT),
        ("CONFIG", CONFIG),
        ("CREDENTIALS", CREDENTIALS),
        ("TLS", TLS),
        ("CONNECT", CONNECT),
        ("TIMEOUT", TIMEOUT),
        ("IO", IO),
        ("CLOSED", CLOSED),
        ("UNDELIVERED", UNDELIVERED),
        ("REENTRANT", REENTRANT),
        ("INTERNAL", INTERNAL),
    ];
}

#[cfg(test)]
mod tests;

//! The reliability engine: what makes `ApnsConnection` lose nothing.
//!
//! - [`binary`]: the binary protocol's window of written notifications, resending
//!   after error responses, shutdowns and dropped connections, failures and stats.

pub mod binary;

/// A notification the gateway refused, as PHP's `failures()` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The caller's identifier (the `identifier` option, or the sequence number `send` returned).
    pub identifier: u32,
    /// The device token, lowercase hex.
    pub token: String,
    /// Apple's status code (binary) or HTTP status (HTTP/2).
    pub status: u32,
    /// Human text for binary statuses; Apple's reason string for HTTP/2.
    pub reason: String,
}

/// Counters since the connection was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Notifications accepted by `send`/`write`/`sendMany` (each counted once).
    pub sent: u64,
    /// Notifications written again after an error, a shutdown or a drop.
    pub resent: u64,
    /// Notifications reported as failed.
    pub failed: u64,
    /// New connections opened after the first.
    pub reconnects: u64,
    /// Bytes handed to the TLS layer, resends included.
    pub bytes: u64,
    /// Whether a connection is open now.
    pub connected: bool,
}

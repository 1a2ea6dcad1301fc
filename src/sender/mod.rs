//! The engines: what makes `ApnsConnection` lose nothing, on either protocol.
//!
//! - [`binary`]: the binary protocol engine: resending after error responses,
//!   shutdowns and dropped connections, probes, failures and stats.
//! - [`window`]: the binary frames written and not yet settled (the resend queue).
//! - [`http2`]: the HTTP/2 engine: streams in flight, retries, GOAWAY, token auth.
//! - [`feedback`]: reading the feedback service to its end.
//!
//! Shared by both engines (one place each):
//! - [`engine`]: the one trait both implement, which `ApnsConnection` calls;
//! - [`notification`]: the protocol-neutral notification and its options,
//!   the one priority check;
//! - [`reject`]: what a bad token becomes (an error, or a failure entry in
//!   `sendMany`: Apple's binary status or HTTP/2's 400 BadDeviceToken);
//! - [`identifiers`]: the default identifier sequence, `sendMany`'s numbering;
//! - [`backoff`]: the reconnect and retry back-off;
//! - [`deadline`]: how a call's own deadline (a timed `flush`) and `timeout`
//!   bound each connection attempt and wait;
//! - [`failure`] and [`give_up`]: failure entries and the give-up message;
//! - here: [`Failure`] (one entry of PHP's `failures()`), [`Stats`] (PHP's
//!   `stats()`), and the `close()`/closed messages.
//!
//! See `ARCHITECTURE.md` for where each decision lives.

pub mod backoff;
pub mod binary;
pub mod deadline;
pub mod engine;
pub mod failure;
pub mod feedback;
pub mod give_up;
pub mod http2;
pub mod identifiers;
pub mod notification;
pub mod reject;
pub mod window;

/// The status of a notification that could not be delivered at all (the gateway
/// never answered for it within `timeout`), on both protocols: Apple's binary
/// status "None (unknown)". The failure's `reason` says why.
pub const STATUS_NOT_DELIVERED: u32 = 255;

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
    /// HTTP/2: the notification's `apns-id` (lowercase UUID). `None` for binary.
    pub apns_id: Option<String>,
    /// HTTP/2 410: when the token stopped being valid, in milliseconds since
    /// the epoch, as Apple sends it.
    pub timestamp: Option<u64>,
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
    /// Notifications sent or queued and not yet settled (a timed `flush` left them).
    pub pending: u64,
    /// Whether a connection is open now.
    pub connected: bool,
}

/// What `close()` makes of settling what was left, for both engines: `settled`
/// is what the engine's settle returned (`Ok(false)`: `timeout` passed first).
/// Whatever stayed unsettled is handed to `give_up`, which lists it in the
/// failures (status [`STATUS_NOT_DELIVERED`]) and says how many there were.
fn closing_result(
    settled: crate::error::Result<bool>,
    timeout: std::time::Duration,
    gateway: &str,
    give_up: impl FnOnce() -> usize,
) -> crate::error::Result<()> {
    match settled {
        Ok(true) => Ok(()),
        Ok(false) => {
            let count = give_up();
            Err(crate::error::Error::Undelivered(format!(
                "close() could not settle {count} notification(s) within {} s on {gateway}; \
                 they are listed in failures() with status {STATUS_NOT_DELIVERED}",
                timeout.as_secs_f64()
            )))
        }
        Err(e) => {
            give_up();
            Err(e)
        }
    }
}

/// `Err(Error::Closed)` once an engine was closed: every call after `close()`
/// says so instead of reconnecting.
fn check_open(closed: bool) -> crate::error::Result<()> {
    if closed {
        Err(crate::error::Error::Closed)
    } else {
        Ok(())
    }
}

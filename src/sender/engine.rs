//! The one interface of both engines (binary [`super::binary::Sender`],
//! HTTP/2 [`super::http2::Http2Sender`]): what `ApnsConnection` calls, with no
//! protocol `match` in the binding.
//!
//! Methods only one protocol has get a default: `write_frames` (raw binary
//! frames) refuses with a clear error, `take_error_response` has none,
//! `connection_stats` (HTTP/2's pool) is `None`. A PHP call dispatches once
//! through `dyn Engine`; a batch (`sendMany`) runs generic over the concrete
//! engine through [`Visit`], so each token costs what a direct call does.
//!
//! Tests: `binary/tests/engine.rs` drives the trait, generically and as
//! `dyn Engine`, over the scripted binary gateway.

use std::time::Duration;

use super::http2::ConnStats;
use super::notification::Notification;
use super::{Failure, Stats};
use crate::error::{Error, Result};
use crate::protocol::binary::ErrorResponse;
use crate::transport::endpoint::Protocol;

/// The tunables a new owner of a kept (persistent) connection brings; each
/// engine takes those its protocol has.
#[derive(Debug, Clone, Copy)]
pub struct Tunables {
    /// Bound of every blocking step, and of trying without progress.
    pub timeout: Duration,
    /// Binary: notifications kept for resending.
    pub window: usize,
    /// HTTP/2: our cap on streams in flight per connection.
    pub max_streams: usize,
    /// HTTP/2: connections in the pool.
    pub connections: usize,
}

/// One gateway connection, either protocol.
pub trait Engine {
    /// Which protocol it speaks.
    fn protocol(&self) -> Protocol;

    /// `'binary'` or `'http2'`, as `stats()` says.
    fn protocol_name(&self) -> &'static str {
        match self.protocol() {
            Protocol::Binary => "binary",
            Protocol::Http2 => "http2",
        }
    }

    /// Checks a batch's payload once, before any token is looked at (binary:
    /// against its limit; HTTP/2 checks it with each notification, as its limit
    /// depends on the push type). [`Engine::send_or_reject`] takes the result,
    /// so that no token pays for the check again.
    fn check_payload<'p>(&mut self, payload: &'p [u8]) -> Result<CheckedPayload<'p>>;

    /// Validates and queues one notification; returns its identifier. A bad
    /// token is an error ([`Error::InvalidToken`]).
    fn send(&mut self, n: &Notification<'_>) -> Result<u32>;

    /// `sendMany`'s step for notification #`index`: a bad token becomes a
    /// failure of its own (`Ok(Some)`, see [`super::reject`]) instead of an
    /// error; `Ok(None)`: queued. `checked` is what [`Engine::check_payload`]
    /// made of the batch's payload; a `n.payload` it does not cover is checked
    /// here.
    fn send_or_reject(
        &mut self,
        n: &Notification<'_>,
        checked: CheckedPayload<'_>,
        index: u64,
    ) -> Result<Option<Failure>>;

    /// Queues raw binary-protocol frames; returns the bytes taken.
    fn write_frames(&mut self, _bytes: &[u8]) -> Result<usize> {
        Err(Error::InvalidFrame(
            "write() takes binary-protocol frames, and this connection speaks the HTTP/2 API (https://): use send()"
                .into(),
        ))
    }

    /// Settles what was sent (bounded by `timeout` if given); returns the
    /// failures collected since the last call.
    fn flush(&mut self, timeout: Option<Duration>) -> Result<Vec<Failure>>;

    /// The failures collected so far, cleared.
    fn take_failures(&mut self) -> Vec<Failure>;

    /// The binary protocol's error-response packets; HTTP/2 has none.
    fn take_error_response(&mut self) -> Option<ErrorResponse> {
        None
    }

    /// Counters since the engine was created.
    fn stats(&self) -> Stats;

    /// HTTP/2: the counters of each connection of the pool; `None` for the
    /// binary protocol (one connection, whose counters are the totals).
    fn connection_stats(&self) -> Option<Vec<ConnStats>> {
        None
    }

    /// Whether a connection is open now.
    fn is_connected(&self) -> bool;

    /// Settles (bounded by `timeout`) and closes; later calls fail with [`Error::Closed`].
    fn close(&mut self) -> Result<Vec<Failure>>;

    /// Readies a persistent connection for keeping when its object goes away.
    fn release(&mut self) -> Result<()>;

    /// Hands a kept connection to a new owner (a later request): nothing an
    /// earlier owner left is reported to it.
    fn hand_over(&mut self, tunables: &Tunables) -> Result<()>;
}

/// A payload an engine's [`Engine::check_payload`] accepted, borrowed (so it
/// cannot change meanwhile) with the limit it was checked against (`None`:
/// not checked, HTTP/2 checks per notification).
#[derive(Debug, Clone, Copy)]
pub struct CheckedPayload<'p> {
    bytes: &'p [u8],
    limit: Option<usize>,
}

impl<'p> CheckedPayload<'p> {
    /// Made by the engines' `check_payload` only.
    pub(crate) fn new(bytes: &'p [u8], limit: Option<usize>) -> Self {
        CheckedPayload { bytes, limit }
    }

    /// The payload bytes.
    #[inline]
    pub fn bytes(self) -> &'p [u8] {
        self.bytes
    }

    /// Whether `payload` is these very bytes (same memory, same length),
    /// checked against `limit`: then it needs no second check.
    #[inline]
    pub fn covers(self, payload: &[u8], limit: usize) -> bool {
        self.limit == Some(limit) && std::ptr::eq(self.bytes, payload)
    }
}

/// Work run generic over the concrete engine (see the module doc): a holder of
/// either engine calls `visit` with the one it has.
pub trait Visit {
    type Output;
    fn visit<E: Engine>(self, engine: &mut E) -> Self::Output;
}

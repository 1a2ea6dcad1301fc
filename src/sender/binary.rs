//! Binary protocol sender (window + resend). Being written.
use std::time::Duration;

use super::{Failure, Stats};
use crate::error::Result;
use crate::protocol::binary::{Command, ErrorResponse};
use crate::transport::Connector;

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bound for connect and every blocking step.
    pub timeout: Duration,
    /// How long `flush` waits, once everything is written, for late error responses.
    pub grace: Duration,
    /// Notifications kept for resending before the engine confirms them with a probe.
    pub window: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { timeout: Duration::from_secs(10), grace: Duration::from_millis(500), window: 100_000 }
    }
}

/// One notification handed to [`Sender::send`].
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub command: Command,
    /// 32 bytes (validated by the caller).
    pub token: &'a [u8],
    /// Validated JSON.
    pub payload: &'a [u8],
    /// The caller's identifier; `None` takes the next sequence number.
    pub identifier: Option<u32>,
    pub expiry: u32,
    pub priority: u8,
}

/// The engine, generic over how it connects.
pub struct Sender<C: Connector> {
    connector: C,
    options: Options,
}

impl<C: Connector> Sender<C> {
    /// Connects now (so bad credentials fail in the constructor).
    pub fn connect(connector: C, options: Options) -> Result<Self> {
        let _ = (&connector, &options);
        todo!()
    }
    /// Queues and writes one notification; returns its identifier.
    pub fn send(&mut self, n: &Outgoing<'_>) -> Result<u32> {
        let _ = n;
        todo!()
    }
    /// Parses whole frames from `bytes` and sends them as [`Sender::send`] does; returns `bytes.len()`.
    pub fn write_frames(&mut self, bytes: &[u8]) -> Result<usize> {
        let _ = bytes;
        todo!()
    }
    /// Settles everything sent so far; returns the failures collected since the last call.
    pub fn flush(&mut self, timeout: Option<Duration>) -> Result<Vec<Failure>> {
        let _ = timeout;
        todo!()
    }
    /// Failures collected so far, cleared.
    pub fn take_failures(&mut self) -> Vec<Failure> {
        todo!()
    }
    /// The oldest error response not yet returned, without blocking.
    pub fn take_error_response(&mut self) -> Option<ErrorResponse> {
        todo!()
    }
    pub fn stats(&self) -> Stats {
        todo!()
    }
    pub fn is_connected(&self) -> bool {
        todo!()
    }
    /// Flushes (bounded by the timeout) and closes. Later sends fail with `Error::Closed`.
    pub fn close(&mut self) -> Result<Vec<Failure>> {
        todo!()
    }
}

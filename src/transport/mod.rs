//! I/O toward a gateway: where to connect, with which TLS configuration, and
//! the non-blocking byte pipe the binary engine drives.
//!
//! - [`endpoint`]: the connection URL (`ssl://`, `tls://`, `https://`).
//! - [`tls`]: the rustls client configuration (trust roots, the client
//!   certificate that [`crate::credentials`] reads, ALPN), for both protocols.
//! - [`connect`]: [`connect::TlsConnector`] and the handshake: from an endpoint
//!   to a connected [`stream::TlsStream`].
//! - [`stream`]: [`stream::TlsStream`], a TLS connection over TCP that implements [`Link`].
//! - [`failure`]: the text of TLS failures, and whether reconnecting can help.
//! - `socket`: TCP connect within a deadline, and poll(2).
//!
//! The binary engine ([`crate::sender::binary`]) and the feedback reader see only
//! the [`Link`] and [`Connector`] traits, so their logic is tested against
//! scripted links with no socket at all. The HTTP/2 engine
//! ([`crate::sender::http2`]) takes [`tls::client_config`] and gets each
//! connection's byte stream from its own seam, `sender/http2/dial.rs` (TCP and
//! tokio-rustls for real, in-memory pipes in its scripted tests).

use std::io;
use std::time::Instant;

use crate::error::Result;

pub mod connect;
pub mod endpoint;
pub mod failure;
mod socket;
pub mod stream;
#[cfg(test)]
mod test_tls;
pub mod tls;

/// What a caller of [`Link::wait`] is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    Read,
    Write,
    ReadWrite,
}

/// A connected byte pipe to a gateway, driven without blocking.
///
/// Contract shared by every implementation:
/// - `write` takes some prefix of `buf` (possibly all, possibly none with
///   `WouldBlock`); bytes taken are the link's to deliver and are never offered
///   again, so a retry after a partial write always continues with the rest.
/// - `read` returns what has arrived; `Ok(0)` is the end of the stream and
///   `WouldBlock` means nothing has arrived yet.
/// - only `wait` blocks, and never past its deadline.
pub trait Link {
    /// Hands bytes to the connection without blocking.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// Pushes bytes buffered inside the link toward the peer without blocking;
    /// `Ok(true)` when nothing is left buffered.
    fn flush(&mut self) -> io::Result<bool>;
    /// Reads what has arrived, without blocking.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Blocks until the link is ready for `interest` or `deadline` passes.
    /// `Ok(false)` means the deadline passed. It also returns when output the
    /// link still buffers can move on, whatever `interest` says: the caller then
    /// calls `flush`, so a wait to read never holds back bytes the peer needs.
    fn wait(&mut self, interest: Interest, deadline: Instant) -> io::Result<bool>;
}

/// Opens new links to one gateway: the first connection and every reconnect.
pub trait Connector {
    type Link: Link;
    /// Connects (TCP and TLS handshake) before `deadline`, or says why not.
    fn connect(&mut self, deadline: Instant) -> Result<Self::Link>;
    /// `host:port`, for messages.
    fn describe(&self) -> String;
}

//! I/O toward a gateway: where to connect, with which credentials, and the
//! non-blocking byte pipe the sending engine drives.
//!
//! - [`endpoint`]: the connection URL (`ssl://`, `tls://`, `https://`).
//! - [`tls`]: credentials (PEM, encrypted PEM, PKCS#12) and the rustls client configuration.
//! - [`stream`]: [`stream::TlsStream`], a TLS connection over TCP that implements [`Link`].
//!
//! The engine in [`crate::sender`] sees only the [`Link`] and [`Connector`] traits,
//! so its logic is tested against scripted links with no socket at all.

use std::io;
use std::time::Instant;

use crate::error::Result;

pub mod endpoint;
pub mod stream;
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

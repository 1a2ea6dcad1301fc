//! The HTTP/2 engine's transport seam: where the byte stream of each connection
//! comes from.
//!
//! The engine ([`super::Http2Sender`]) asks its [`Dial`] for one byte stream per
//! connection and does the rest itself on whatever it is given: the HTTP/2
//! handshake, the PING that proves the peer answers, and everything after
//! (`pool::open`). The real dialer, [`TlsDial`], connects over TCP and
//! TLS with ALPN `h2` ([`super::Http2Sender::connect`] builds it); the
//! engine's scripted tests (`script_tests.rs`, `script.rs`) hand in in-memory
//! pipes served by a scripted `h2` server instead, through
//! [`super::Http2Sender::with_dialer`], so that back-off, GOAWAY, refused
//! streams, stream limits and token re-mints are tested without a sandbox
//! process, certificates or sockets.
//!
//! The seam is used once per connection, never per notification: the stream is
//! boxed once, and h2 reads and writes it in whole buffers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};

use super::failure;
use crate::error::{ConnectError, Error, Result, TimeoutError, Unfinished};
use crate::transport::endpoint::Endpoint;

/// A connection's byte stream, as the HTTP/2 handshake takes it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// What a [`Dial`] gives for one connection.
pub struct Dialed {
    /// The byte stream the HTTP/2 connection runs on.
    pub io: Box<dyn Io>,
    /// The peer agreed to speak HTTP/2 (ALPN `h2` over TLS); when not, the
    /// engine reports that it does not speak HTTP/2 and uses nothing of it.
    pub h2: bool,
}

/// The future of one [`Dial::dial`].
pub type Dialing<'a> = Pin<Box<dyn Future<Output = Result<Dialed>> + Send + 'a>>;

/// Opens the byte stream of one HTTP/2 connection.
pub trait Dial: Send + Sync {
    /// One new byte stream to `peer` (`host:port`, as messages show it),
    /// established by `deadline`; `timeout` is the bound it was derived from,
    /// for messages. Errors are the engine's connect errors, as the user sees them.
    fn dial(&self, peer: &str, deadline: tokio::time::Instant, timeout: Duration) -> Dialing<'_>;
}

/// The real dialer: TCP, then TLS with ALPN `h2`.
pub struct TlsDial {
    pub(super) endpoint: Endpoint,
    pub(super) server_name: ServerName<'static>,
    pub(super) tls: Arc<ClientConfig>,
}

impl Dial for TlsDial {
    fn dial(&self, peer: &str, deadline: tokio::time::Instant, timeout: Duration) -> Dialing<'_> {
        let peer = peer.to_string();
        Box::pin(async move {
            let within = |what: Unfinished| {
                Error::Timeout(TimeoutError {
                    peer: peer.clone(),
                    after: timeout,
                    what,
                })
            };
            let addr = (self.endpoint.host.as_str(), self.endpoint.port);
            let tcp = tokio::time::timeout_at(deadline, tokio::net::TcpStream::connect(addr))
                .await
                .map_err(|_| within(Unfinished::Http2Connect))?
                .map_err(|e| {
                    Error::Connect(ConnectError::Failed {
                        peer: peer.clone(),
                        cause: e.to_string(),
                    })
                })?;
            let _ = tcp.set_nodelay(true);
            let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
            let tls =
                tokio_rustls::TlsConnector::connect(&connector, self.server_name.clone(), tcp);
            let tls = tokio::time::timeout_at(deadline, tls)
                .await
                .map_err(|_| within(Unfinished::Http2TlsHandshake))?
                .map_err(|e| failure::tls_handshake_failed(&e, &peer))?;
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            Ok(Dialed {
                io: Box::new(tls),
                h2,
            })
        })
    }
}

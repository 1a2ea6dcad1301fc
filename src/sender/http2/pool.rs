//! The connections of one HTTP/2 engine: how one is opened, what the engine
//! knows about each (its own stream count, GOAWAY, back-off, counters), and the
//! future of one stream.
//!
//! A pool is a fixed list of `Slot`s (the `connections` option): a slot holds
//! at most one live connection, is (re)connected on its own back-off, and a
//! GOAWAY or a broken connection only drains its own slot, so the others carry
//! on. Which requests go where is the engine's business
//! ([`super::Http2Sender`]); this module never touches the queue.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use h2::client::{ResponseFuture, SendRequest};
use h2::RecvStream;
use h2::{Ping, PingPong};

use super::dial::Dial;
use super::failure::{self, TlsNote, TlsWatch};
use crate::error::{Error, ProtocolError, ProtocolFailure, Result, TimeoutError, Unfinished};
use crate::transport::endpoint::Endpoint;

/// At most this much of a response body is kept.
const MAX_BODY: usize = 16 * 1024;

/// Per-connection counters, as `stats()['connections']` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// Streams opened on this slot (resends included).
    pub streams: u64,
    /// Responses of any status received on it.
    pub answered: u64,
    /// Streams open now.
    pub in_flight: u64,
    /// Connections opened for this slot after its first.
    pub reconnects: u64,
    /// GOAWAYs and broken connections seen on it.
    pub goaways: u64,
    /// Whether the slot has a usable connection now.
    pub connected: bool,
}

/// Shared between a connection's driver task and the engine.
#[derive(Default)]
pub(super) struct ConnState {
    pub(super) closed: AtomicBool,
    pub(super) cause: Mutex<String>,
    /// The kind of TLS failure the stream saw, if it saw one.
    pub(super) tls: TlsNote,
}

impl ConnState {
    /// Why the driver ended, if it said.
    pub(super) fn cause(&self) -> String {
        self.cause.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// One HTTP/2 connection.
pub(super) struct Conn {
    pub(super) send: SendRequest<Bytes>,
    pub(super) ping: Option<PingPong>,
    pub(super) state: Arc<ConnState>,
    /// Unique within the engine: tells a stream of this connection from one of
    /// the connection it replaced.
    pub(super) generation: u64,
    /// Streams started on it and not yet reported.
    pub(super) in_flight: usize,
    /// A response other than 403 came back: the token is accepted (token auth).
    pub(super) confirmed: bool,
    /// GOAWAY seen or the connection failed: nothing new starts on it.
    pub(super) draining: bool,
    pub(super) last_used: Instant,
}

impl Conn {
    pub(super) fn usable(&self) -> bool {
        !self.draining && !self.state.closed.load(Ordering::Acquire)
    }

    /// Streams this connection may still take now: the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS as it stands, capped by `cap`; one until
    /// the provider token is confirmed.
    pub(super) fn free(&self, cap: usize) -> usize {
        if !self.usable() {
            return 0;
        }
        let limit = if self.confirmed {
            self.send.current_max_send_streams().min(cap.max(1))
        } else {
            1
        };
        limit.saturating_sub(self.in_flight)
    }
}

/// One place in the pool.
#[derive(Default)]
pub(super) struct Slot {
    pub(super) conn: Option<Conn>,
    /// When the next connect may be tried (back-off after failures).
    pub(super) next_connect_at: Option<Instant>,
    pub(super) connect_failures: u32,
    /// A connection was opened for this slot once (later ones are reconnects).
    pub(super) opened: bool,
    pub(super) stats: ConnStats,
}

impl Slot {
    pub(super) fn usable(&self) -> bool {
        self.conn.as_ref().is_some_and(Conn::usable)
    }

    pub(super) fn connected(&self) -> bool {
        self.conn
            .as_ref()
            .is_some_and(|c| !c.state.closed.load(Ordering::Acquire))
    }

    /// This slot's connection is `generation`.
    pub(super) fn holds(&self, generation: u64) -> bool {
        self.conn
            .as_ref()
            .is_some_and(|c| c.generation == generation)
    }
}

/// Where to connect (the same for every slot).
pub(super) struct Target {
    pub(super) endpoint: Endpoint,
    /// Gives each connection its byte stream (TCP + TLS, or a test's pipe).
    pub(super) dial: Box<dyn Dial>,
}

/// Opens a connection: a byte stream from the target's [`Dial`] (TCP, TLS
/// with ALPN h2), the HTTP/2 handshake, and a PING answered (so a refused
/// client certificate, or a server that is not HTTP/2, is reported here, and
/// the server's SETTINGS are known). Its driver runs as a task of the current
/// runtime and records in the returned state when and why the connection ended.
/// `by` bounds the whole of it (`timeout` from now, or less within a timed
/// `flush`, see [`crate::sender::deadline`]); `timeout` is what messages name.
pub(super) async fn open(
    target: &Target,
    timeout: std::time::Duration,
    by: Instant,
    generation: u64,
    confirmed: bool,
) -> Result<Conn> {
    let peer = target.endpoint.describe();
    let deadline = tokio::time::Instant::from_std(by);
    let within = |what: Unfinished| {
        Error::Timeout(TimeoutError {
            peer: peer.clone(),
            after: timeout,
            what,
        })
    };

    let dialed = target.dial.dial(&peer, deadline, timeout).await?;
    if !dialed.h2 {
        return Err(Error::Protocol(ProtocolError {
            peer: peer.clone(),
            what: ProtocolFailure::NotHttp2,
        }));
    }
    let state = Arc::new(ConnState::default());
    let io = TlsWatch::new(dialed.io, Arc::clone(&state.tls));
    let (send, mut connection) = tokio::time::timeout_at(
        deadline,
        h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .initial_connection_window_size(1 << 22)
            .handshake::<_, Bytes>(io),
    )
    .await
    .map_err(|_| within(Unfinished::Http2Handshake))?
    .map_err(|e| {
        Error::Protocol(ProtocolError {
            peer: peer.clone(),
            what: ProtocolFailure::Handshake(e.to_string()),
        })
    })?;
    let mut ping = connection.ping_pong();
    let driver_state = Arc::clone(&state);
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            let mut cause = driver_state.cause.lock().unwrap_or_else(|p| p.into_inner());
            *cause = describe_h2(&e);
        }
        driver_state.closed.store(true, Ordering::Release);
    });
    if let Some(p) = ping.as_mut() {
        let answered = tokio::time::timeout_at(deadline, p.ping(Ping::opaque())).await;
        let failed = |why: String| {
            let cause = state.cause();
            let cause = if cause.is_empty() { why } else { cause };
            failure::closed_before_answer(&peer, cause, state.tls.get().copied())
        };
        match answered {
            Err(_) => return Err(within(Unfinished::Http2Preface)),
            Ok(Err(e)) => {
                // Let the driver record why the connection ended.
                tokio::task::yield_now().await;
                return Err(failed(describe_h2(&e)));
            }
            Ok(Ok(_pong)) => {}
        }
    }
    Ok(Conn {
        send,
        ping,
        state,
        generation,
        in_flight: 0,
        confirmed,
        draining: false,
        last_used: Instant::now(),
    })
}

/// What the stream future of one request reports.
pub(super) struct Done {
    pub(super) key: u64,
    /// The slot the stream was started on, and its connection.
    pub(super) slot: usize,
    pub(super) generation: u64,
    /// The provider token the request carried.
    pub(super) jwt: Option<Arc<str>>,
    pub(super) result: std::result::Result<(u16, Vec<u8>), h2::Error>,
}

/// Where a stream goes and what it reports with.
pub(super) struct Route {
    pub(super) key: u64,
    pub(super) slot: usize,
    pub(super) generation: u64,
    pub(super) jwt: Option<Arc<str>>,
}

/// The answer side of one stream, started by the engine (request and body
/// handed to h2 right away): waits for the response and reads its body, if it
/// has one (a 200 from APNs ends with its headers). A plain struct rather than
/// an `async` block: no box per stream, no clone of the connection handle.
pub(super) struct Exchange {
    response: Option<ResponseFuture>,
    body: Option<(u16, RecvStream, Vec<u8>)>,
    route: Option<Route>,
}

impl Exchange {
    pub(super) fn new(response: ResponseFuture, route: Route) -> Exchange {
        Exchange {
            response: Some(response),
            body: None,
            route: Some(route),
        }
    }

    fn finish(&mut self, result: std::result::Result<(u16, Vec<u8>), h2::Error>) -> Poll<Done> {
        self.response = None;
        self.body = None;
        let route = self.route.take().unwrap_or(Route {
            key: u64::MAX,
            slot: usize::MAX,
            generation: 0,
            jwt: None,
        });
        Poll::Ready(Done {
            key: route.key,
            slot: route.slot,
            generation: route.generation,
            jwt: route.jwt,
            result,
        })
    }
}

impl Future for Exchange {
    type Output = Done;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Done> {
        let this = &mut *self;
        if let Some(response) = this.response.as_mut() {
            let response = match Pin::new(response).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return this.finish(Err(e)),
                Poll::Ready(Ok(r)) => r,
            };
            this.response = None;
            let status = response.status().as_u16();
            let body = response.into_body();
            if body.is_end_stream() {
                return this.finish(Ok((status, Vec::new())));
            }
            this.body = Some((status, body, Vec::new()));
        }
        let Some((status, body, data)) = this.body.as_mut() else {
            return this.finish(Ok((0, Vec::new())));
        };
        let status = *status;
        loop {
            match body.poll_data(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return this.finish(Err(e)),
                Poll::Ready(Some(Ok(chunk))) => {
                    let _ = body.flow_control().release_capacity(chunk.len());
                    if data.len() < MAX_BODY {
                        data.extend_from_slice(&chunk);
                    }
                }
                Poll::Ready(None) => {
                    let data = std::mem::take(data);
                    return this.finish(Ok((status, data)));
                }
            }
        }
    }
}

pub(super) fn describe_h2(e: &h2::Error) -> String {
    if e.is_go_away() {
        format!("the server sent GOAWAY ({e})")
    } else if e.is_io() {
        format!("the connection failed: {e}")
    } else {
        format!("HTTP/2 error: {e}")
    }
}

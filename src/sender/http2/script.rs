//! A scripted HTTP/2 server for the engine's tests (`script_tests.rs`), on the
//! transport seam ([`super::dial`]): every connection the engine dials is an
//! in-memory pipe (`tokio::io::duplex`) whose other end is served by a real
//! `h2` server, on a thread and runtime of its own, which the test's script
//! drives request by request: answer with a status and reason, reset the
//! stream, send GOAWAY, drop the connection, or prove with a PING round trip
//! that nothing more was sent. No sandbox process, no TLS, no sockets, no sleeps:
//! the script waits on what the engine sends.
//!
//! Every request the server received is kept in a [`Log`] (connection, path,
//! headers, body), which the tests assert on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Ping, Reason, RecvStream};
use http::{HeaderMap, Request, Response};
use tokio::io::DuplexStream;
use tokio::sync::{mpsc, oneshot};

use super::dial::{Dial, Dialed, Dialing};
use crate::error::{ConnectError, Error};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    /// The connection it came on: 1 for the first the engine dialed.
    pub(super) conn: usize,
    pub(super) path: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Seen {
    /// The device token of the path `/3/device/<token>`.
    pub(super) fn token(&self) -> &str {
        self.path.strip_prefix("/3/device/").unwrap_or(&self.path)
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Every request received, in order.
pub(super) type Log = Arc<Mutex<Vec<Seen>>>;

/// The engine's dialer: each dial is a new pipe, whose other end goes to the
/// script's [`Server::accept`].
pub(super) struct PipeDial {
    to_server: mpsc::UnboundedSender<DuplexStream>,
}

impl Dial for PipeDial {
    fn dial(&self, peer: &str, _: tokio::time::Instant, _: Duration) -> Dialing<'_> {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let sent = self.to_server.send(theirs);
        let peer = peer.to_string();
        Box::pin(async move {
            sent.map_err(|_| {
                Error::Connect(ConnectError::Failed {
                    peer,
                    cause: "script over".into(),
                })
            })?;
            Ok(Dialed {
                io: Box::new(ours),
                h2: true,
            })
        })
    }
}

/// The script's side: the connections the engine dials, one by one.
pub(super) struct Server {
    pipes: mpsc::UnboundedReceiver<DuplexStream>,
    log: Log,
    conns: usize,
    /// SETTINGS_MAX_CONCURRENT_STREAMS of the connections accepted from now on.
    pub(super) max_streams: Option<u32>,
}

/// Starts `script` on a thread of its own with the server's side; returns the
/// engine's dialer, the log, and the thread (its result is the script's).
pub(super) fn serve<F, Fut, T>(script: F) -> (PipeDial, Log, JoinHandle<T>)
where
    F: FnOnce(Server) -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let (to_server, pipes) = mpsc::unbounded_channel();
    let log = Log::default();
    let server = Server {
        pipes,
        log: Arc::clone(&log),
        conns: 0,
        max_streams: None,
    };
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(script(server))
    });
    (PipeDial { to_server }, log, thread)
}

impl Server {
    /// The next connection the engine dials, HTTP/2 handshake done.
    pub(super) async fn accept(&mut self) -> Peer {
        let pipe = self
            .pipes
            .recv()
            .await
            .expect("the engine dialed no further connection");
        self.conns += 1;
        let mut builder = h2::server::Builder::new();
        if let Some(n) = self.max_streams {
            builder.max_concurrent_streams(n);
        }
        let conn = builder.handshake(pipe).await.expect("HTTP/2 handshake");
        let (requests_tx, requests) = mpsc::unbounded_channel();
        let (control, control_rx) = mpsc::unbounded_channel();
        tokio::spawn(drive(conn, requests_tx, control_rx));
        Peer {
            conn: self.conns,
            requests,
            control,
            log: Arc::clone(&self.log),
        }
    }
}

/// What the script asks a connection's driver to do.
enum Control {
    /// GOAWAY (last-stream-id: the last stream received), then close.
    GoAway,
    /// GOAWAY, a PING, GOAWAY with the last stream received; close once
    /// the streams left are answered.
    GoAwayGracefully,
    /// Close the connection at once, without a word.
    Drop,
    /// Send a PING; say when its answer is in.
    Ping(oneshot::Sender<()>),
}

type Accepted = (Request<RecvStream>, SendResponse<Bytes>);

/// Runs one server connection: hands requests to the script, obeys its controls.
async fn drive(
    mut conn: h2::server::Connection<DuplexStream, Bytes>,
    requests: mpsc::UnboundedSender<Accepted>,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let mut pings = conn.ping_pong().expect("ping_pong");
    let mut ponged: Option<oneshot::Sender<()>> = None;
    loop {
        tokio::select! {
            // Requests first: whatever arrived before a PONG is handed over
            // before the PONG is reported.
            biased;
            accepted = conn.accept() => match accepted {
                Some(Ok(request)) => {
                    let _ = requests.send(request);
                }
                _ => return,
            },
            pong = std::future::poll_fn(|cx| pings.poll_pong(cx)), if ponged.is_some() => {
                pong.expect("PONG");
                let _ = ponged.take().map(|done| done.send(()));
            }
            order = control.recv() => match order {
                Some(Control::GoAway) => conn.abrupt_shutdown(Reason::NO_ERROR),
                Some(Control::GoAwayGracefully) => conn.graceful_shutdown(),
                Some(Control::Ping(done)) => {
                    pings.send_ping(Ping::opaque()).expect("PING");
                    ponged = Some(done);
                }
                Some(Control::Drop) | None => return,
            },
        }
    }
}

/// One connection, as the script drives it.
pub(super) struct Peer {
    /// 1 for the first connection the engine dialed.
    pub(super) conn: usize,
    requests: mpsc::UnboundedReceiver<Accepted>,
    control: mpsc::UnboundedSender<Control>,
    log: Log,
}

/// A request waiting for the script's answer.
pub(super) struct Incoming {
    pub(super) seen: Seen,
    respond: SendResponse<Bytes>,
}

impl Peer {
    /// The next request, body read (logged); `None` once the connection ended.
    pub(super) async fn next(&mut self) -> Option<Incoming> {
        let (request, respond) = self.requests.recv().await?;
        let (parts, mut body) = request.into_parts();
        let mut data = Vec::new();
        while let Some(Ok(chunk)) = body.data().await {
            let _ = body.flow_control().release_capacity(chunk.len());
            data.extend_from_slice(&chunk);
        }
        let seen = Seen {
            conn: self.conn,
            path: parts.uri.path().to_string(),
            headers: parts.headers,
            body: data,
        };
        self.log.lock().unwrap().push(seen.clone());
        Some(Incoming { seen, respond })
    }

    /// The next `n` requests.
    pub(super) async fn take(&mut self, n: usize) -> Vec<Incoming> {
        let mut taken = Vec::with_capacity(n);
        for _ in 0..n {
            taken.push(self.next().await.expect("the connection ended early"));
        }
        taken
    }

    /// Answers 200 to every request until the connection ends.
    pub(super) async fn ok_until_closed(&mut self) {
        while let Some(request) = self.next().await {
            request.ok();
        }
    }

    /// A PING round trip, then: no request arrived that is not yet taken.
    /// Everything the engine wrote before it answered the PING is in by then,
    /// so `true` proves it started nothing more meanwhile.
    pub(super) async fn quiet(&mut self) -> bool {
        let (done, answered) = oneshot::channel();
        self.control.send(Control::Ping(done)).expect("driver");
        answered.await.expect("PONG");
        self.requests.is_empty()
    }

    /// GOAWAY, then the connection closes; returns when it has.
    pub(super) async fn go_away(&mut self) {
        self.control.send(Control::GoAway).expect("driver");
        self.closed().await;
    }

    /// Starts a graceful shutdown (GOAWAY): the streams received are still
    /// answered on this connection, which closes after them.
    pub(super) fn go_away_gracefully(&mut self) {
        self.control
            .send(Control::GoAwayGracefully)
            .expect("driver");
    }

    /// Closes the connection without GOAWAY; returns when it has.
    pub(super) async fn drop_connection(&mut self) {
        let _ = self.control.send(Control::Drop);
        self.closed().await;
    }

    /// Waits for the connection to end; requests not yet taken are dropped.
    pub(super) async fn closed(&mut self) {
        while self.requests.recv().await.is_some() {}
    }
}

impl Incoming {
    /// Answers `status`, with APNs's JSON `{"reason": …}` body when `reason` is given.
    pub(super) fn reply(mut self, status: u16, reason: Option<&str>) {
        let response = Response::builder()
            .status(status)
            .header("apns-id", "00000000-0000-0000-0000-000000000000")
            .body(())
            .unwrap();
        let Ok(mut body) = self.respond.send_response(response, reason.is_none()) else {
            return;
        };
        if let Some(reason) = reason {
            let json = format!(r#"{{"reason":"{reason}"}}"#);
            let _ = body.send_data(Bytes::from(json), true);
        }
    }

    pub(super) fn ok(self) {
        self.reply(200, None);
    }

    /// Resets the stream (RST_STREAM with `reason`).
    pub(super) fn reset(mut self, reason: Reason) {
        self.respond.send_reset(reason);
    }
}

//! The HTTP/2 engine: many notifications in flight on one connection, each
//! answered, retried or reported, so that nothing accepted is lost.
//!
//! Owns the connection (h2 over tokio-rustls, ALPN `h2`), the streams in flight,
//! the retry rules and the failure list. The requests themselves are built by
//! [`crate::protocol::http2`]; provider tokens come from the process-wide
//! [`TokenCache`].
//!
//! The shape mirrors the binary [`super::binary::Sender`] (`send`, `flush`,
//! `take_failures`, `stats`, `is_connected`, `close`), so the PHP layer can hold
//! either. PHP stays synchronous: the sender owns a current-thread tokio runtime
//! and every public call runs it (`block_on`) only for as long as that call needs.
//!
//! What happens when (Apple's rules, see `shared/design/protocol.md`):
//! - **`send`** validates, queues, and drives the runtime briefly so that queued
//!   requests go out; it never waits for responses (except, bounded by
//!   `timeout`, when [`Options::max_queued`] notifications are unsettled).
//! - **Concurrency**: never more streams than the server's
//!   SETTINGS_MAX_CONCURRENT_STREAMS as it changes (read from h2 before each
//!   start), capped by [`Options::max_streams`]; with token auth, one stream until
//!   a first response that is not a 403 (APNs validates the token on it).
//! - **200**: done. **Permanent reasons** (400, 403, 404, 405, 410, 413, other
//!   4xx): reported in the failures with `apns_id` and the 410 `timestamp`.
//!   **429, 5xx**: retried with exponential back-off, at most
//!   [`Options::max_retries`] times. **403 ExpiredProviderToken**: the shared
//!   token is re-minted ([`TokenCache::force_refresh`]) and the notification
//!   retried once.
//! - **GOAWAY**: streams the server still answers (id ≤ last-stream-id) finish on
//!   the old connection; the others, and everything not yet started, go to a new
//!   one. A refused stream (REFUSED_STREAM) is resent as well.
//! - **Connection errors**: what was in flight is resent on a new connection,
//!   opened with back-off. An unanswered notification after a dropped
//!   connection may have been delivered: HTTP/2 cannot tell, so it is resent.
//! - **Idle**: a connection unused for [`Options::idle_ping`] is PINGed before
//!   its next use, and replaced if the PING goes unanswered.
//! - **Time bound**: no progress (no response of any kind) for `timeout` ends in
//!   [`Error::Undelivered`], with every unsettled notification in the failures
//!   (status [`STATUS_NOT_DELIVERED`]), never dropped.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use h2::client::SendRequest;
use h2::{Ping, PingPong, Reason};
use http::{HeaderName, HeaderValue, Method};
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::runtime::Runtime;

use super::{Failure, Stats};
use crate::error::{Error, Result};
use crate::protocol::http2::{
    self as wire, Disposition, PayloadCache, Request, Response, SendOptions, DEFAULT_PRIORITY,
};
use crate::protocol::jwt::{SigningKey, TokenCache};
use crate::transport::endpoint::Endpoint;
use crate::transport::tls::{client_config, TlsOptions};

/// Status reported for notifications that got no HTTP response at all.
pub const STATUS_NOT_DELIVERED: u32 = 0;

/// `send` drives the connection once this many requests wait to start…
const PUMP_BATCH: usize = 64;
/// …or once this long has passed since it last did.
const PUMP_INTERVAL: Duration = Duration::from_millis(2);
/// A notification whose stream fails this many times (resets, dropped
/// connections, GOAWAYs) is reported as not delivered.
const MAX_TRANSPORT_ERRORS: u32 = 10;
/// Retry back-off after 429/5xx: first delay and ceiling.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Reconnect back-off: first delay and ceiling.
const BACKOFF_FIRST: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// `flush` looks at the connections at least this often while it waits.
const POLL_TICK: Duration = Duration::from_millis(50);
/// At most this much of a response body is kept.
const MAX_BODY: usize = 16 * 1024;

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bound for connect and every wait; also how long the engine keeps trying
    /// without any response before it gives up.
    pub timeout: Duration,
    /// A connection unused this long is PINGed before its next use.
    pub idle_ping: Duration,
    /// Our own cap on concurrent streams (the server's limit applies too).
    pub max_streams: usize,
    /// Retries of one notification after 429/5xx before it is reported.
    pub max_retries: u32,
    /// `send` waits (within `timeout`) while this many notifications are unsettled.
    pub max_queued: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(10),
            idle_ping: Duration::from_secs(3600),
            max_streams: 1000,
            max_retries: 8,
            max_queued: 100_000,
        }
    }
}

/// How the provider authenticates.
#[derive(Clone)]
pub enum Auth {
    /// The TLS client certificate of the [`TlsOptions`].
    Certificate,
    /// A provider token (JWT) signed with the `.p8` key, shared process-wide.
    Token {
        key: Arc<SigningKey>,
        key_id: String,
        team_id: String,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Certificate => f.write_str("Certificate"),
            Auth::Token {
                key_id, team_id, ..
            } => f
                .debug_struct("Token")
                .field("key", &"<hidden>")
                .field("key_id", key_id)
                .field("team_id", team_id)
                .finish(),
        }
    }
}

/// One notification handed to [`Http2Sender::send`].
#[derive(Debug, Clone, Copy)]
pub struct Http2Notification<'a> {
    /// The device token as hex text (any length; spaces and `<>` ignored).
    pub token: &'a [u8],
    /// The JSON payload.
    pub payload: &'a [u8],
    /// The caller's identifier; `None` takes the next sequence number.
    pub identifier: Option<u32>,
    /// Topic, push type, priority, expiration, collapse id, apns-id.
    pub options: SendOptions<'a>,
}

/// A notification not yet settled.
struct Item {
    identifier: u32,
    /// Its payload is the request body.
    request: Request,
    /// Retries after 429/5xx.
    retries: u32,
    /// Streams that ended without a response.
    transport_errors: u32,
    /// The one retry after `ExpiredProviderToken` is used.
    token_refreshed: bool,
    /// Times a stream was opened for it.
    writes: u32,
}

/// What the stream future of one request reports.
struct Done {
    key: u64,
    generation: u64,
    /// The provider token the request carried.
    jwt: Option<Arc<str>>,
    result: std::result::Result<(u16, Vec<u8>), h2::Error>,
}

/// Shared between the connection driver task and the engine.
#[derive(Default)]
struct ConnState {
    closed: AtomicBool,
    cause: Mutex<String>,
}

/// One HTTP/2 connection.
struct Conn {
    send: SendRequest<Bytes>,
    ping: Option<PingPong>,
    state: Arc<ConnState>,
    generation: u64,
    /// Streams started on it and not yet reported.
    in_flight: usize,
    /// A response other than 403 came back: the token is accepted (token auth).
    confirmed: bool,
    /// GOAWAY seen or the connection failed: nothing new starts on it.
    draining: bool,
    last_used: Instant,
}

impl Conn {
    fn usable(&self) -> bool {
        !self.draining && !self.state.closed.load(Ordering::Acquire)
    }
}

/// The HTTP/2 engine. See the module documentation for the rules it follows.
pub struct Http2Sender {
    rt: Arc<Runtime>,
    endpoint: Endpoint,
    server_name: ServerName<'static>,
    tls: Arc<ClientConfig>,
    auth: Auth,
    default_topic: Option<String>,
    options: Options,
    conn: Option<Conn>,
    generation: u64,
    items: HashMap<u64, Item>,
    /// Items waiting for a stream, in order.
    queue: VecDeque<u64>,
    /// Items waiting for their retry time.
    delayed: Vec<(Instant, u64)>,
    /// One future per open stream, all polled by the engine itself: a tokio
    /// task per stream (spawn, join set, scheduling) was a fifth of the CPU
    /// time per notification.
    streams: FuturesUnordered<Exchange>,
    next_key: u64,
    next_identifier: u32,
    failures: Vec<Failure>,
    stats: Stats,
    closed: bool,
    /// The last response of any kind (or the moment work arrived at an idle engine).
    last_progress: Instant,
    /// When the next connect may be tried (back-off after failures).
    next_connect_at: Option<Instant>,
    connect_failures: u32,
    last_cause: String,
    last_pump: Option<Instant>,
    /// The clock as of the current step (see [`Http2Sender::pump`]).
    now: Instant,
    last_apns_id: String,
    /// The last valid payload, checked once and shared by the requests carrying it.
    payloads: PayloadCache,
    /// Random bytes for `apns-id`s.
    ids: ApnsIds,
    /// Request parts that are the same on every request.
    heads: Heads,
}

impl fmt::Debug for Http2Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http2Sender")
            .field("endpoint", &self.endpoint)
            .field("auth", &self.auth)
            .field("default_topic", &self.default_topic)
            .field("unsettled", &self.items.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Http2Sender {
    /// Connects now (TCP, TLS with ALPN `h2`, HTTP/2 preface and a PING round
    /// trip), so that bad credentials and unreachable servers fail here.
    pub fn connect(
        endpoint: Endpoint,
        tls_opts: &TlsOptions,
        auth: Auth,
        default_topic: Option<String>,
        options: Options,
    ) -> Result<Self> {
        if let Auth::Token {
            key_id, team_id, ..
        } = &auth
        {
            crate::protocol::jwt::check_id(key_id, "key_id")?;
            crate::protocol::jwt::check_id(team_id, "team_id")?;
        }
        let name = match tls_opts.peer_name.as_deref().filter(|n| !n.is_empty()) {
            Some(n) => n.to_string(),
            None => endpoint.host.clone(),
        };
        let server_name = ServerName::try_from(name.clone()).map_err(|_| {
            Error::Config(format!(
                "'{name}' is not a valid TLS server name (peer_name or the URL's host)"
            ))
        })?;
        let tls = client_config(tls_opts, &[b"h2"])?;
        let authority = if endpoint.port == 443 {
            endpoint.host.clone()
        } else {
            endpoint.describe()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the I/O runtime: {e}")))?;
        let default_topic = default_topic.filter(|t| !t.trim().is_empty());
        let heads = Heads::new(&authority)?;
        let mut sender = Http2Sender {
            rt: Arc::new(rt),
            endpoint,
            server_name,
            tls,
            auth,
            default_topic,
            options,
            conn: None,
            generation: 0,
            items: HashMap::new(),
            queue: VecDeque::new(),
            delayed: Vec::new(),
            streams: FuturesUnordered::new(),
            next_key: 0,
            next_identifier: 1,
            failures: Vec::new(),
            stats: Stats::default(),
            closed: false,
            last_progress: Instant::now(),
            next_connect_at: None,
            connect_failures: 0,
            last_cause: String::new(),
            last_pump: None,
            now: Instant::now(),
            last_apns_id: String::new(),
            payloads: PayloadCache::default(),
            ids: ApnsIds::default(),
            heads,
        };
        let rt = Arc::clone(&sender.rt);
        let conn = rt.block_on(sender.open())?;
        sender.conn = Some(conn);
        Ok(sender)
    }

    /// Validates one notification (nothing is queued when it is invalid), queues
    /// it and lets queued requests go out; returns its identifier without
    /// waiting for the response.
    pub fn send(&mut self, n: &Http2Notification<'_>) -> Result<u32> {
        self.check_open()?;
        let token_auth = matches!(self.auth, Auth::Token { .. });
        let ids = &mut self.ids;
        let request = wire::build_cached(
            n.token,
            n.payload,
            &n.options,
            self.default_topic.as_deref(),
            token_auth,
            || ids.next(),
            &mut self.payloads,
        )?;
        let identifier = match n.identifier {
            Some(id) => id,
            None => {
                let id = self.next_identifier;
                self.next_identifier = self.next_identifier.wrapping_add(1);
                id
            }
        };
        if self.items.is_empty() {
            self.last_progress = Instant::now();
        }
        self.last_apns_id.clone_from(&request.apns_id);
        let key = self.next_key;
        self.next_key += 1;
        self.items.insert(
            key,
            Item {
                identifier,
                request,
                retries: 0,
                transport_errors: 0,
                token_refreshed: false,
                writes: 0,
            },
        );
        self.queue.push_back(key);
        self.stats.sent += 1;

        let busy = self.queue.len() >= PUMP_BATCH;
        if busy || self.last_pump.is_none_or(|t| t.elapsed() >= PUMP_INTERVAL) {
            let rt = Arc::clone(&self.rt);
            rt.block_on(self.pump())?;
        }
        if self.items.len() >= self.options.max_queued.max(1) {
            let rt = Arc::clone(&self.rt);
            let target = self.options.max_queued / 2;
            rt.block_on(self.settle(target, None))?;
        }
        Ok(identifier)
    }

    /// A kept connection goes to a new owner, with that owner's options (the
    /// connection and what it has queued stay as they are).
    pub fn hand_over(&mut self, options: Options) {
        self.options = options;
    }

    /// The `apns-id` of the notification last queued by [`Http2Sender::send`].
    pub fn last_apns_id(&self) -> &str {
        &self.last_apns_id
    }

    /// Waits until every notification sent so far is answered (retrying as the
    /// rules say) and returns the failures collected since the last call. With
    /// `timeout`, gives up waiting after it (the notifications stay queued and
    /// the next `flush` goes on with them); every wait is bounded by the option
    /// `timeout` anyway.
    pub fn flush(&mut self, timeout: Option<Duration>) -> Result<Vec<Failure>> {
        self.check_open()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let rt = Arc::clone(&self.rt);
        rt.block_on(self.settle(0, deadline))?;
        Ok(self.take_failures())
    }

    /// Failures collected so far, cleared.
    pub fn take_failures(&mut self) -> Vec<Failure> {
        std::mem::take(&mut self.failures)
    }

    /// Notifications sent and not yet settled.
    pub fn pending(&self) -> usize {
        self.items.len()
    }

    pub fn stats(&self) -> Stats {
        Stats {
            connected: self.is_connected(),
            pending: self.items.len() as u64,
            ..self.stats.clone()
        }
    }

    pub fn is_connected(&self) -> bool {
        !self.closed
            && self
                .conn
                .as_ref()
                .is_some_and(|c| !c.state.closed.load(Ordering::Acquire))
    }

    /// Settles what is queued (bounded by `timeout`) and closes. Later sends fail
    /// with [`Error::Closed`]. Returns the failures still unread, which stay
    /// readable through [`Http2Sender::take_failures`].
    pub fn close(&mut self) -> Result<Vec<Failure>> {
        if self.closed {
            return Ok(self.failures.clone());
        }
        let rt = Arc::clone(&self.rt);
        let deadline = Instant::now() + self.options.timeout;
        let why = "the connection was closed before they were answered";
        let result = match rt.block_on(self.settle(0, Some(deadline))) {
            Ok(true) => Ok(()),
            Ok(false) => {
                let count = self.give_up_quietly(why);
                Err(Error::Undelivered(format!(
                    "close() could not settle {count} notification(s) within {} s on {}; \
                     they are listed in failures() with status {STATUS_NOT_DELIVERED}",
                    self.options.timeout.as_secs_f64(),
                    self.endpoint.describe()
                )))
            }
            Err(e) => {
                self.give_up_quietly(why);
                Err(e)
            }
        };
        self.conn = None;
        self.streams.clear();
        self.closed = true;
        result.map(|()| self.failures.clone())
    }

    fn check_open(&self) -> Result<()> {
        super::check_open(self.closed)
    }

    // ----- inside the runtime -----

    /// Opens a connection: TCP, TLS (ALPN h2), HTTP/2 handshake, and a PING
    /// answered (so a refused client certificate, or a server that is not
    /// HTTP/2, is reported here, and the server's SETTINGS are known).
    async fn open(&mut self) -> Result<Conn> {
        let peer = self.endpoint.describe();
        let timeout = self.options.timeout;
        let secs = timeout.as_secs_f64();
        let deadline = tokio::time::Instant::now() + timeout;
        let within = |what: String| Error::Timeout(format!("{what} within {secs} s"));

        let addr = (self.endpoint.host.as_str(), self.endpoint.port);
        let tcp = tokio::time::timeout_at(deadline, tokio::net::TcpStream::connect(addr))
            .await
            .map_err(|_| within(format!("could not connect to {peer}")))?
            .map_err(|e| Error::Connect(format!("cannot connect to {peer}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls));
        let tls = tokio_rustls::TlsConnector::connect(&connector, self.server_name.clone(), tcp);
        let tls = tokio::time::timeout_at(deadline, tls)
            .await
            .map_err(|_| within(format!("TLS handshake with {peer} did not finish")))?
            .map_err(|e| Error::Tls(format!("TLS handshake with {peer} failed: {e}")))?;
        if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
            return Err(Error::Connect(format!(
                "{peer} does not speak HTTP/2 (it did not accept ALPN h2): for the binary \
                 protocol use an ssl:// URL"
            )));
        }
        let (send, mut connection) = tokio::time::timeout_at(
            deadline,
            h2::client::Builder::new()
                .initial_window_size(1 << 20)
                .initial_connection_window_size(1 << 22)
                .handshake::<_, Bytes>(tls),
        )
        .await
        .map_err(|_| within(format!("the HTTP/2 handshake with {peer} did not finish")))?
        .map_err(|e| Error::Connect(format!("HTTP/2 handshake with {peer} failed: {e}")))?;
        let ping = connection.ping_pong();
        let state = Arc::new(ConnState::default());
        let driver_state = Arc::clone(&state);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                let mut cause = driver_state.cause.lock().unwrap_or_else(|p| p.into_inner());
                *cause = describe_h2(&e);
            }
            driver_state.closed.store(true, Ordering::Release);
        });
        let mut ping = ping;
        if let Some(p) = ping.as_mut() {
            let answered = tokio::time::timeout_at(deadline, p.ping(Ping::opaque())).await;
            let failed = |why: String| {
                let cause = state.cause.lock().map(|c| c.clone()).unwrap_or_default();
                let cause = if cause.is_empty() { why } else { cause };
                if cause.contains("alert") || cause.contains("certificate") {
                    Error::Tls(format!(
                        "{peer} refused the connection after the TLS handshake: {cause} \
                         (check the client certificate)"
                    ))
                } else {
                    Error::Connect(format!("{peer} closed the HTTP/2 connection: {cause}"))
                }
            };
            match answered {
                Err(_) => {
                    return Err(within(format!(
                        "{peer} did not answer the HTTP/2 connection preface"
                    )))
                }
                Ok(Err(e)) => {
                    // Let the driver record why the connection ended.
                    tokio::task::yield_now().await;
                    return Err(failed(describe_h2(&e)));
                }
                Ok(Ok(_pong)) => {}
            }
        }
        self.generation += 1;
        Ok(Conn {
            send,
            ping,
            state,
            generation: self.generation,
            in_flight: 0,
            confirmed: matches!(self.auth, Auth::Certificate),
            draining: false,
            last_used: Instant::now(),
        })
    }

    /// One step that never waits for responses: collect what has finished,
    /// (re)connect if requests wait, start what the limits allow, and let the
    /// connection write.
    async fn pump(&mut self) -> Result<()> {
        // One clock reading serves the whole step (a busy sender pumps on every
        // `send`, and reading the clock per stream was measurable).
        let now = Instant::now();
        self.now = now;
        self.last_pump = Some(now);
        self.collect_finished();
        self.release_delayed(now);
        self.check_idle().await;
        if !self.queue.is_empty() {
            self.ensure_connection().await?;
            self.start_requests()?;
        }
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        // Streams answered meanwhile free slots, and a GOAWAY or a closed
        // connection may have sent streams back to the queue: deal with both
        // before anyone waits.
        self.collect_finished();
        self.release_delayed(now);
        if !self.queue.is_empty() {
            self.check_idle().await;
            self.ensure_connection().await?;
            self.start_requests()?;
        }
        self.check_stalled()
    }

    /// Runs until at most `target` notifications are unsettled (`Ok(true)`), or
    /// `deadline` passes (`Ok(false)`: the rest stays queued, and a timed `flush`
    /// is not an error for its own deadline).
    async fn settle(&mut self, target: usize, deadline: Option<Instant>) -> Result<bool> {
        loop {
            self.pump().await?;
            if self.items.len() <= target {
                return Ok(true);
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Ok(false);
            }
            let mut wake = self.last_progress + self.options.timeout;
            if let Some(d) = deadline {
                wake = wake.min(d);
            }
            if let Some(t) = self.next_connect_at {
                wake = wake.min(t);
            }
            if let Some(t) = self.delayed.iter().map(|(t, _)| *t).min() {
                wake = wake.min(t);
            }
            if self.streams.is_empty() && self.queue.is_empty() && self.delayed.is_empty() {
                // Nothing can change by waiting: a bug if items remain.
                let n = self.give_up_quietly("the engine lost track of them");
                return Err(Error::Internal(format!(
                    "{n} notification(s) were not tracked"
                )));
            }
            // Look again at least every POLL_TICK: a safety net, so that a
            // state change nothing wakes us for (none is known) costs at most
            // this much, never a whole `timeout`.
            let wake = tokio::time::Instant::from_std(wake.max(now).min(now + POLL_TICK));
            if self.streams.is_empty() {
                tokio::time::sleep_until(wake).await;
            } else {
                tokio::select! {
                    done = self.streams.next() => {
                        self.now = Instant::now();
                        if let Some(done) = done {
                            self.on_done(done);
                        }
                    }
                    () = tokio::time::sleep_until(wake) => {}
                }
            }
        }
    }

    /// Gives up when nothing was answered for `timeout`.
    fn check_stalled(&mut self) -> Result<()> {
        if self.items.is_empty()
            || self.now.saturating_duration_since(self.last_progress) < self.options.timeout
        {
            return Ok(());
        }
        if self.last_cause.is_empty() {
            self.last_cause = if self.streams.is_empty() {
                "no connection could be used".into()
            } else {
                format!("no response for {} s", self.options.timeout.as_secs_f64())
            };
        }
        let count = self.give_up_quietly("the server did not answer");
        Err(Error::Undelivered(format!(
            "gave up on {} after {} s without progress: {}; {count} notification(s) not \
             answered are listed in failures() with status {STATUS_NOT_DELIVERED}",
            self.endpoint.describe(),
            self.options.timeout.as_secs_f64(),
            self.last_cause
        )))
    }

    /// PINGs a connection that has been idle for `idle_ping`; drops it if the
    /// PING goes unanswered.
    async fn check_idle(&mut self) {
        let timeout = self.options.timeout;
        let idle_ping = self.options.idle_ping;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        if conn.state.closed.load(Ordering::Acquire) {
            let cause = conn
                .state
                .cause
                .lock()
                .map(|c| c.clone())
                .unwrap_or_default();
            self.last_cause = if cause.is_empty() {
                "the server closed the connection".into()
            } else {
                cause
            };
            self.conn = None;
            return;
        }
        if conn.in_flight > 0 || conn.draining || conn.last_used.elapsed() < idle_ping {
            return;
        }
        let alive = match conn.ping.as_mut() {
            Some(p) => matches!(
                tokio::time::timeout(timeout, p.ping(Ping::opaque())).await,
                Ok(Ok(_))
            ),
            None => true,
        };
        if alive {
            conn.last_used = Instant::now();
        } else {
            self.last_cause = "an idle connection did not answer a PING".into();
            self.conn = None;
        }
    }

    /// Makes sure a usable connection exists, within the back-off.
    async fn ensure_connection(&mut self) -> Result<()> {
        if self.conn.as_ref().is_some_and(Conn::usable) {
            return Ok(());
        }
        if self.next_connect_at.is_some_and(|t| Instant::now() < t) {
            return Ok(());
        }
        match self.open().await {
            Ok(conn) => {
                // A draining connection stays alive in its driver task until its
                // streams are answered; only our handle goes.
                self.conn = Some(conn);
                self.stats.reconnects += 1;
                self.next_connect_at = None;
                self.connect_failures = 0;
                Ok(())
            }
            Err(e @ Error::Tls(_)) => {
                // Refused credentials do not get better by retrying.
                self.last_cause = e.to_string();
                let count = self.give_up_quietly("the connection was refused");
                Err(Error::Undelivered(format!(
                    "{e}; {count} notification(s) not sent are listed in failures() with status {STATUS_NOT_DELIVERED}"
                )))
            }
            Err(e) => {
                self.last_cause = e.to_string();
                self.conn = None;
                let delay = BACKOFF_FIRST
                    .saturating_mul(1 << self.connect_failures.min(10))
                    .min(BACKOFF_MAX);
                self.connect_failures += 1;
                self.next_connect_at = Some(Instant::now() + delay);
                Ok(())
            }
        }
    }

    /// Opens streams for queued items while the limits allow.
    fn start_requests(&mut self) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        if !conn.usable() {
            return Ok(());
        }
        let limit = if conn.confirmed {
            conn.send
                .current_max_send_streams()
                .min(self.options.max_streams.max(1))
        } else {
            1
        };
        let jwt = match (&self.auth, self.queue.is_empty()) {
            (_, true) | (Auth::Certificate, _) => None,
            (
                Auth::Token {
                    key,
                    key_id,
                    team_id,
                },
                false,
            ) => Some(
                TokenCache::global()
                    .get(key, key_id, team_id, unix_now())?
                    .jwt,
            ),
        };
        while conn.in_flight < limit {
            let Some(key) = self.queue.pop_front() else {
                break;
            };
            let Some(item) = self.items.get_mut(&key) else {
                continue;
            };
            let request = self.heads.request(&item.request, jwt.as_deref())?;
            item.writes += 1;
            if item.writes > 1 {
                self.stats.resent += 1;
            }
            self.stats.bytes += (item.request.payload.len() + item.request.path.len() + 160) as u64;
            self.streams.push(Box::pin(exchange(
                conn.send.clone(),
                request,
                item.request.payload.clone(),
                key,
                conn.generation,
                jwt.clone(),
            )));
            conn.in_flight += 1;
            conn.last_used = self.now;
        }
        Ok(())
    }

    fn release_delayed(&mut self, now: Instant) {
        if self.delayed.is_empty() {
            return;
        }
        let mut ready: Vec<(Instant, u64)> = Vec::new();
        self.delayed.retain(|&(t, key)| {
            if t <= now {
                ready.push((t, key));
                false
            } else {
                true
            }
        });
        ready.sort();
        for (_, key) in ready.into_iter().rev() {
            self.queue.push_front(key);
        }
    }

    /// Takes the answers that are already in, without waiting.
    fn collect_finished(&mut self) {
        while let Some(Some(done)) = self.streams.next().now_or_never() {
            self.on_done(done);
        }
    }

    fn stream_ended(&mut self, generation: u64) {
        if let Some(conn) = self.conn.as_mut() {
            if conn.generation == generation {
                conn.in_flight = conn.in_flight.saturating_sub(1);
            }
        }
    }

    fn on_done(&mut self, done: Done) {
        self.stream_ended(done.generation);
        match done.result {
            Ok((status, body)) => {
                self.last_progress = self.now;
                self.last_cause.clear();
                if status != 403 {
                    if let Some(conn) = self.conn.as_mut() {
                        if conn.generation == done.generation {
                            conn.confirmed = true;
                        }
                    }
                }
                let response = Response::parse(status, &body);
                self.on_response(done.key, response, done.jwt.as_deref());
            }
            Err(e) => {
                self.last_cause = describe_h2(&e);
                let refused = e.reason() == Some(Reason::REFUSED_STREAM) && e.is_remote();
                if e.is_go_away() || e.is_io() || !e.is_reset() {
                    // GOAWAY, a broken connection, or a connection-level error:
                    // nothing new starts on this connection.
                    if let Some(conn) = self.conn.as_mut() {
                        if conn.generation == done.generation {
                            conn.draining = true;
                        }
                    }
                }
                // Beyond GOAWAY's last-stream-id, or refused: never processed.
                let unprocessed = refused || (e.is_go_away() && e.is_remote());
                self.resend(done.key, !unprocessed);
            }
        }
    }

    fn on_response(&mut self, key: u64, response: Response, jwt: Option<&str>) {
        let Some(item) = self.items.get_mut(&key) else {
            return;
        };
        match response.disposition() {
            Disposition::Delivered => {
                self.items.remove(&key);
            }
            Disposition::Permanent => self.fail(key, response),
            Disposition::Retry => {
                item.retries += 1;
                if item.retries > self.options.max_retries {
                    self.fail(key, response);
                } else {
                    let delay = RETRY_FIRST
                        .saturating_mul(1 << (item.retries - 1).min(10))
                        .min(RETRY_MAX)
                        .min(self.options.timeout / 2);
                    self.delayed.push((Instant::now() + delay, key));
                }
            }
            Disposition::RefreshTokenAndRetry => {
                let refreshable = matches!(self.auth, Auth::Token { .. }) && !item.token_refreshed;
                if !refreshable {
                    self.fail(key, response);
                    return;
                }
                item.token_refreshed = true;
                if let (
                    Auth::Token {
                        key: signing,
                        key_id,
                        team_id,
                    },
                    Some(rejected),
                ) = (&self.auth, jwt)
                {
                    if let Err(e) = TokenCache::global().force_refresh(
                        signing,
                        key_id,
                        team_id,
                        rejected,
                        unix_now(),
                    ) {
                        self.last_cause = e.to_string();
                    }
                }
                self.queue.push_front(key);
            }
        }
    }

    /// Puts an item whose stream ended without a response back in the queue;
    /// `counts`: the failure counts toward [`MAX_TRANSPORT_ERRORS`].
    fn resend(&mut self, key: u64, counts: bool) {
        let Some(item) = self.items.get_mut(&key) else {
            return;
        };
        item.transport_errors += u32::from(counts);
        if item.transport_errors >= MAX_TRANSPORT_ERRORS {
            let reason = format!("Not delivered: {}", self.last_cause);
            self.fail(
                key,
                Response {
                    status: STATUS_NOT_DELIVERED as u16,
                    reason,
                    timestamp: None,
                },
            );
        } else {
            self.queue.push_front(key);
        }
    }

    fn fail(&mut self, key: u64, response: Response) {
        let Some(item) = self.items.remove(&key) else {
            return;
        };
        self.stats.failed += 1;
        self.failures.push(Failure {
            identifier: item.identifier,
            token: item.request.token,
            status: u32::from(response.status),
            reason: response.reason,
            apns_id: Some(item.request.apns_id),
            timestamp: response.timestamp,
        });
    }

    /// Reports every unsettled notification as not delivered; returns how many.
    fn give_up_quietly(&mut self, why: &str) -> usize {
        let mut keys: Vec<u64> = self.items.keys().copied().collect();
        keys.sort_unstable();
        let count = keys.len();
        let reason = if self.last_cause.is_empty() {
            format!("Not delivered: {why}")
        } else {
            format!("Not delivered: {why} ({})", self.last_cause)
        };
        for key in keys {
            self.fail(
                key,
                Response {
                    status: STATUS_NOT_DELIVERED as u16,
                    reason: reason.clone(),
                    timestamp: None,
                },
            );
        }
        self.queue.clear();
        self.delayed.clear();
        self.streams.clear();
        self.conn = None;
        self.next_connect_at = None;
        self.connect_failures = 0;
        count
    }
}

impl Drop for Http2Sender {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// `apns-id`s: v4 UUIDs from the system's random source (as `Uuid::new_v4`),
/// read [`ApnsIds::BATCH`] bytes at a time instead of one `getrandom` call each.
#[derive(Default)]
struct ApnsIds {
    random: Vec<u8>,
    used: usize,
}

impl ApnsIds {
    /// 64 ids.
    const BATCH: usize = 1024;

    fn next(&mut self) -> String {
        if self.used + 16 > self.random.len() {
            self.random.resize(Self::BATCH, 0);
            self.used = 0;
            let rng = ring::rand::SystemRandom::new();
            if ring::rand::SecureRandom::fill(&rng, &mut self.random).is_err() {
                self.random.clear();
                return uuid::Uuid::new_v4().to_string();
            }
        }
        let mut bytes = [0u8; 16];
        if let Some(chunk) = self.random.get(self.used..self.used + 16) {
            bytes.copy_from_slice(chunk);
        }
        self.used += 16;
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .encode_lower(&mut text)
            .to_string()
    }
}

/// What every request head shares, built once: the authority, the header names,
/// and the last `authorization` and `apns-topic` values (the same on almost
/// every request), so that a request clones them instead of parsing and copying
/// them again. The headers are those of [`Request::headers`], in its order.
struct Heads {
    authority: http::uri::Authority,
    authorization: HeaderName,
    topic: HeaderName,
    push_type: HeaderName,
    priority: HeaderName,
    expiration: HeaderName,
    collapse_id: HeaderName,
    apns_id: HeaderName,
    /// The provider token and its `authorization` value.
    bearer: Option<(Box<str>, HeaderValue)>,
    /// The last topic and its value.
    last_topic: Option<(Box<str>, HeaderValue)>,
}

fn bad_request(e: &dyn fmt::Display) -> Error {
    Error::InvalidOption(format!("cannot build the request: {e}"))
}

impl Heads {
    fn new(authority: &str) -> Result<Heads> {
        Ok(Heads {
            authority: authority
                .parse()
                .map_err(|e: http::uri::InvalidUri| bad_request(&e))?,
            authorization: http::header::AUTHORIZATION,
            topic: HeaderName::from_static("apns-topic"),
            push_type: HeaderName::from_static("apns-push-type"),
            priority: HeaderName::from_static("apns-priority"),
            expiration: HeaderName::from_static("apns-expiration"),
            collapse_id: HeaderName::from_static("apns-collapse-id"),
            apns_id: HeaderName::from_static("apns-id"),
            bearer: None,
            last_topic: None,
        })
    }

    /// The request head for one attempt.
    fn request(&mut self, r: &Request, jwt: Option<&str>) -> Result<http::Request<()>> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(http::uri::Scheme::HTTPS);
        parts.authority = Some(self.authority.clone());
        parts.path_and_query =
            Some(http::uri::PathAndQuery::try_from(r.path.as_str()).map_err(|e| bad_request(&e))?);
        let uri = http::Uri::from_parts(parts).map_err(|e| bad_request(&e))?;
        let mut request = http::Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.reserve(7);
        if let Some(jwt) = jwt {
            let value = match &self.bearer {
                Some((last, value)) if **last == *jwt => value.clone(),
                _ => {
                    let value =
                        HeaderValue::from_maybe_shared(Bytes::from(format!("bearer {jwt}")))
                            .map_err(|e| bad_request(&e))?;
                    self.bearer = Some((jwt.into(), value.clone()));
                    value
                }
            };
            headers.insert(self.authorization.clone(), value);
        }
        if let Some(topic) = &r.topic {
            let value = match &self.last_topic {
                Some((last, value)) if **last == **topic => value.clone(),
                _ => {
                    let value = HeaderValue::from_maybe_shared(Bytes::from(topic.clone()))
                        .map_err(|e| bad_request(&e))?;
                    self.last_topic = Some((topic.as_str().into(), value.clone()));
                    value
                }
            };
            headers.insert(self.topic.clone(), value);
        }
        headers.insert(
            self.push_type.clone(),
            HeaderValue::from_static(r.push_type.as_str()),
        );
        if r.priority != DEFAULT_PRIORITY {
            let priority = match r.priority {
                5 => HeaderValue::from_static("5"),
                p => HeaderValue::from(u16::from(p)),
            };
            headers.insert(self.priority.clone(), priority);
        }
        if let Some(exp) = r.expiration {
            headers.insert(self.expiration.clone(), HeaderValue::from(exp));
        }
        if let Some(c) = &r.collapse_id {
            let value = HeaderValue::from_str(c).map_err(|e| bad_request(&e))?;
            headers.insert(self.collapse_id.clone(), value);
        }
        let mut id = HeaderValue::from_str(&r.apns_id).map_err(|e| bad_request(&e))?;
        // Never indexed: a new value on every request would only churn HPACK's
        // table and push out the values that repeat (topic, push type).
        id.set_sensitive(true);
        headers.insert(self.apns_id.clone(), id);
        Ok(request)
    }
}

/// One stream's future (see [`exchange`]).
type Exchange = std::pin::Pin<Box<dyn std::future::Future<Output = Done> + Send>>;

/// One stream: request, body, response, response body.
async fn exchange(
    send: SendRequest<Bytes>,
    request: http::Request<()>,
    body: Bytes,
    key: u64,
    generation: u64,
    jwt: Option<Arc<str>>,
) -> Done {
    let result = async move {
        let mut send = send.ready().await?;
        let (response, mut stream) = send.send_request(request, false)?;
        stream.send_data(body, true)?;
        let response = response.await?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut data = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
            if data.len() < MAX_BODY {
                data.extend_from_slice(&chunk);
            }
        }
        Ok((status, data))
    }
    .await;
    Done {
        key,
        generation,
        jwt,
        result,
    }
}

fn describe_h2(e: &h2::Error) -> String {
    if e.is_go_away() {
        format!("the server sent GOAWAY ({e})")
    } else if e.is_io() {
        format!("the connection failed: {e}")
    } else {
        format!("HTTP/2 error: {e}")
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_the_headers_and_the_authority() {
        let r = wire::build(
            b"00ff",
            b"{}",
            &SendOptions {
                push_type: Some("voip"),
                ..Default::default()
            },
            Some("com.example.app"),
            true,
            || "00000000-0000-4000-8000-000000000001".into(),
        )
        .unwrap();
        let req = Heads::new("api.push.apple.com")
            .unwrap()
            .request(&r, Some("a.b.c"))
            .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(
            req.uri().to_string(),
            "https://api.push.apple.com/3/device/00ff"
        );
        let h = req.headers();
        assert_eq!(h["authorization"], "bearer a.b.c");
        assert_eq!(h["apns-topic"], "com.example.app.voip");
        assert_eq!(h["apns-push-type"], "voip");
        assert_eq!(h["apns-id"], "00000000-0000-4000-8000-000000000001");
    }

    #[test]
    fn request_heads_are_the_requests_headers() {
        let mut heads = Heads::new("127.0.0.1:2197").unwrap();
        let options = [
            SendOptions::default(),
            SendOptions {
                push_type: Some("background"),
                expiration: Some(1_700_000_000),
                collapse_id: Some("group-1"),
                apns_id: Some("123E4567-E89B-12D3-A456-4266554400A0"),
                ..Default::default()
            },
            SendOptions {
                topic: Some("com.other.app"),
                push_type: Some("voip"),
                priority: Some(5),
                ..Default::default()
            },
            SendOptions::default(),
        ];
        let mut ids = ApnsIds::default();
        for (i, opts) in options.iter().enumerate() {
            for jwt in [Some("a.b.c"), Some("d.e.f"), None] {
                let r = wire::build(
                    b"<A1B2 c3d4>",
                    br#"{"aps":{}}"#,
                    opts,
                    Some("com.example.app"),
                    false,
                    || ids.next(),
                )
                .unwrap();
                let req = heads.request(&r, jwt).unwrap();
                assert_eq!(req.method(), Method::POST);
                assert_eq!(
                    req.uri().to_string(),
                    "https://127.0.0.1:2197/3/device/a1b2c3d4"
                );
                let got: Vec<(String, String)> = req
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
                    .collect();
                let want: Vec<(String, String)> = r
                    .headers(jwt)
                    .into_iter()
                    .map(|(n, v)| (n.to_string(), v))
                    .collect();
                assert_eq!(got, want, "options #{i}, {jwt:?}");
            }
        }
    }

    #[test]
    fn apns_ids_are_distinct_v4_uuids() {
        let mut ids = ApnsIds::default();
        let all: std::collections::HashSet<String> = (0..1000).map(|_| ids.next()).collect();
        assert_eq!(all.len(), 1000);
        for id in &all {
            assert_eq!(wire::parse_apns_id(id).unwrap(), *id);
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let rng = ring::rand::SystemRandom::new();
        let der = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let key = SigningKey::from_pkcs8_der(der.as_ref(), "k").unwrap();
        let auth = Auth::Token {
            key: Arc::new(key),
            key_id: "ABC123DEFG".into(),
            team_id: "DEF123GHIJ".into(),
        };
        let shown = format!("{auth:?}");
        assert!(
            shown.contains("<hidden>") && shown.contains("ABC123DEFG"),
            "{shown}"
        );
    }

    #[test]
    fn connect_failures_are_clear_and_bounded() {
        // A port nobody listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let endpoint = Endpoint::parse(&format!("https://127.0.0.1:{port}")).unwrap();
        let started = Instant::now();
        let err = Http2Sender::connect(
            endpoint,
            &TlsOptions::default(),
            Auth::Certificate,
            None,
            Options {
                timeout: Duration::from_secs(2),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }
}

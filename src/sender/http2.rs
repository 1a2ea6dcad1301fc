//! The HTTP/2 engine: many notifications in flight on one connection, each
//! answered, retried or reported, so that nothing accepted is lost.
//!
//! Owns the pool of connections (h2 over tokio-rustls, ALPN `h2`, or over
//! whatever byte streams its [`dial::Dial`] gives, the test seam; the
//! `connections` option, see [`pool`]), the streams in flight, the retry rules
//! and the failure list. The requests themselves are built by
//! [`crate::protocol::http2`]; provider tokens come from the process-wide
//! [`TokenCache`].
//!
//! The shape mirrors the binary [`super::binary::Sender`] (`send`, `flush`,
//! `take_failures`, `stats`, `is_connected`, `close`), so the PHP layer can hold
//! either. PHP stays synchronous: the sender owns a current-thread tokio runtime
//! and every public call runs it (`block_on`) only for as long as that call needs.
//!
//! What happens when (Apple's rules, see `docs/protocol.md`):
//! - **`send`** validates, queues, and drives the runtime briefly so that queued
//!   requests go out; it waits for responses (bounded by `timeout`) only when
//!   [`Options::max_queued`] notifications are unsettled, or when every stream
//!   of the pool is busy and as many requests again wait for one (more would
//!   only grow memory: the requests could not go out sooner).
//! - **Pool**: requests go to the connection with the most free streams; each
//!   connection has its own limits, GOAWAY, back-off and reconnects, and the
//!   others carry on meanwhile. The connections beyond the first open
//!   together, once the queue holds more than the open ones can take.
//! - **Concurrency**: never more streams per connection than the server's
//!   SETTINGS_MAX_CONCURRENT_STREAMS as it changes (read from h2 before each
//!   start), capped by [`Options::max_streams`]; with token auth, one stream
//!   per connection until a first response that is not a 403 (APNs validates
//!   the token on it; once accepted, for the whole pool). One provider token
//!   per key for the whole process ([`TokenCache`]), whatever the number of
//!   connections.
//! - **200**: done. **Permanent reasons** (400, 403, 404, 405, 410, 413, other
//!   4xx): reported in the failures with `apns_id` and the 410 `timestamp`.
//!   **429, 5xx**: retried with exponential back-off, at most
//!   [`Options::max_retries`] times. **403 ExpiredProviderToken**: the shared
//!   token is re-minted ([`TokenCache::force_refresh`]) and the notification
//!   retried once.
//! - **GOAWAY**: streams the server still answers (id ≤ last-stream-id) finish on
//!   the old connection; the others, and everything not yet started, go to the
//!   other connections and to a new one in its slot. A refused stream (REFUSED_STREAM) is resent as well.
//! - **Connection errors**: what was in flight is resent (on any connection);
//!   the slot reconnects with its own back-off. An unanswered notification after a dropped
//!   connection may have been delivered: HTTP/2 cannot tell, so it is resent.
//! - **Idle**: a connection unused for [`Options::idle_ping`] is PINGed before
//!   its next use, and replaced if the PING goes unanswered.
//! - **Time bound**: no progress (no response of any kind) for `timeout` ends in
//!   [`Error::Undelivered`], with every unsettled notification in the failures
//!   (status [`STATUS_NOT_DELIVERED`]), never dropped.

mod answers;
mod as_engine;
pub mod dial;
mod failure;
mod heads;
mod items;
pub mod pool;
#[cfg(test)]
mod script;
#[cfg(test)]
mod script_tests;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use h2::Ping;
use rustls::pki_types::ServerName;
use tokio::runtime::Runtime;

use self::dial::{Dial, TlsDial};
use self::heads::{ApnsIds, Heads};
use self::items::Ring;
pub use self::pool::ConnStats;
use self::pool::{Route, Slot, Target};
use super::backoff::RECONNECT;
use super::identifiers::Identifiers;
use super::{Failure, Stats};
use crate::error::{Error, Result};
use crate::protocol::http2::{self as wire, PayloadCache, Request, SendOptions};
use crate::protocol::jwt::{SigningKey, TokenCache};
use crate::transport::endpoint::Endpoint;
use crate::transport::tls::{client_config, TlsOptions};

pub use super::STATUS_NOT_DELIVERED;

/// Most connections one engine may hold (the `connections` option).
pub const MAX_CONNECTIONS: usize = 64;

/// `send` drives the connections once it has queued this many requests since
/// it last did…
const PUMP_BATCH: usize = 64;
/// …or once this long has passed since it last did.
/// Answers handled before the requests replacing them are written.
const CHUNK: usize = 64;
const PUMP_INTERVAL: Duration = Duration::from_millis(2);
/// A notification whose stream fails this many times (resets, dropped
/// connections, GOAWAYs) is reported as not delivered.
const MAX_TRANSPORT_ERRORS: u32 = 10;
/// `flush` looks at the connections at least this often while it waits.
const POLL_TICK: Duration = Duration::from_millis(50);

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bound for connect and every wait; also how long the engine keeps trying
    /// without any response before it gives up.
    pub timeout: Duration,
    /// A connection unused this long is PINGed before its next use.
    pub idle_ping: Duration,
    /// Our own cap on concurrent streams per connection (the server's limit
    /// applies too).
    pub max_streams: usize,
    /// Retries of one notification after 429/5xx before it is reported.
    pub max_retries: u32,
    /// `send` waits (within `timeout`) while this many notifications are unsettled.
    pub max_queued: usize,
    /// HTTP/2 connections in the pool, 1 to [`MAX_CONNECTIONS`].
    pub connections: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(10),
            idle_ping: Duration::from_secs(3600),
            max_streams: 1000,
            max_retries: 8,
            max_queued: 100_000,
            connections: 1,
        }
    }
}

impl Options {
    /// The pool size, within its bounds.
    fn pool_size(&self) -> usize {
        self.connections.clamp(1, MAX_CONNECTIONS)
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

/// What [`Http2Sender::settle`] waits for.
#[derive(Debug, Clone, Copy)]
enum Until {
    /// At most this many notifications unsettled.
    Unsettled(usize),
    /// At most this many requests waiting for a stream (or none in flight).
    Queued(usize),
}

/// The HTTP/2 engine. See the module documentation for the rules it follows.
pub struct Http2Sender {
    rt: Arc<Runtime>,
    target: Target,
    auth: Auth,
    default_topic: Option<String>,
    options: Options,
    /// The pool: `options.connections` slots.
    slots: Vec<Slot>,
    /// Makes every connection's generation unique.
    generation: u64,
    /// A response other than 403 came back on some connection: the provider
    /// token is accepted, and no connection needs to start with one stream.
    token_confirmed: bool,
    items: Ring<Item>,
    /// Items waiting for a stream, in order.
    queue: VecDeque<u64>,
    /// Items waiting for their retry time.
    delayed: Vec<(Instant, u64)>,
    /// One future per open stream (of every connection), all polled by the
    /// engine itself: a tokio task per stream (spawn, join set, scheduling)
    /// was a fifth of the CPU time per notification.
    streams: FuturesUnordered<pool::Exchange>,
    identifiers: Identifiers,
    failures: Vec<Failure>,
    stats: Stats,
    closed: bool,
    /// The last response of any kind (or the moment work arrived at an idle engine).
    last_progress: Instant,
    last_cause: String,
    /// The deadline of the call running now (a timed `flush`, `close`): it
    /// bounds connecting and PINGs too ([`super::deadline`]).
    call_deadline: Option<Instant>,
    last_pump: Option<Instant>,
    /// Requests `send` queued since the last pump.
    unpumped: usize,
    /// The clock as of the current step (see [`Http2Sender::pump`]).
    now: Instant,
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
            .field("endpoint", &self.target.endpoint)
            .field("auth", &self.auth)
            .field("default_topic", &self.default_topic)
            .field("connections", &self.slots.len())
            .field("unsettled", &self.items.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Http2Sender {
    /// Connects the pool's first connection now (TCP, TLS with ALPN `h2`,
    /// HTTP/2 preface and a PING round trip), so that bad credentials and
    /// unreachable servers fail here; the others open when there is work for them.
    pub fn connect(
        endpoint: Endpoint,
        tls_opts: &TlsOptions,
        auth: Auth,
        default_topic: Option<String>,
        options: Options,
    ) -> Result<Self> {
        check_settings(&auth, &options)?;
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
        let dial = TlsDial {
            endpoint: endpoint.clone(),
            server_name,
            tls,
        };
        Self::with_dialer(endpoint, Box::new(dial), auth, default_topic, options)
    }

    /// The test seam: an engine whose connections run on the byte streams
    /// `dial` gives (see [`dial`]), to `endpoint` as requests and messages
    /// name it. [`Http2Sender::connect`] is this with the real TCP + TLS
    /// dialer; the engine's scripted tests hand in in-memory pipes. Checks the
    /// options as `connect` does and opens the first connection now.
    pub fn with_dialer(
        endpoint: Endpoint,
        dial: Box<dyn Dial>,
        auth: Auth,
        default_topic: Option<String>,
        options: Options,
    ) -> Result<Self> {
        check_settings(&auth, &options)?;
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
        let slots = (0..options.pool_size()).map(|_| Slot::default()).collect();
        let mut sender = Http2Sender {
            rt: Arc::new(rt),
            target: Target { endpoint, dial },
            auth,
            default_topic,
            options,
            slots,
            generation: 0,
            token_confirmed: false,
            items: Ring::default(),
            queue: VecDeque::new(),
            delayed: Vec::new(),
            streams: FuturesUnordered::new(),
            identifiers: Identifiers::default(),
            failures: Vec::new(),
            stats: Stats::default(),
            closed: false,
            last_progress: Instant::now(),
            last_cause: String::new(),
            call_deadline: None,
            last_pump: None,
            unpumped: 0,
            now: Instant::now(),
            payloads: PayloadCache::default(),
            ids: ApnsIds::default(),
            heads,
        };
        let rt = Arc::clone(&sender.rt);
        let conn = rt.block_on(sender.open())?;
        if let Some(slot) = sender.slots.first_mut() {
            slot.conn = Some(conn);
            slot.opened = true;
        }
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
        let identifier = self.identifiers.or_next(n.identifier);
        if self.items.is_empty() {
            self.last_progress = Instant::now();
        }
        let key = self.items.push(Item {
            identifier,
            request,
            retries: 0,
            transport_errors: 0,
            token_refreshed: false,
            writes: 0,
        });
        self.queue.push_back(key);
        self.stats.sent += 1;

        // Counted since the last pump, not by the queue's length: while every
        // stream is busy the queue stays long, and pumping on each send then
        // (three scheduler turns, each an epoll_wait) was 7 % of the CPU time.
        self.unpumped += 1;
        let batch = self.unpumped >= PUMP_BATCH;
        if batch || self.last_pump.is_none_or(|t| t.elapsed() >= PUMP_INTERVAL) {
            let rt = Arc::clone(&self.rt);
            rt.block_on(self.pump(true))?;
        }
        if self.items.len() >= self.options.max_queued.max(1) {
            let rt = Arc::clone(&self.rt);
            let target = self.options.max_queued / 2;
            rt.block_on(self.settle(Until::Unsettled(target), None))?;
        } else if self.queue.len() >= self.backlog() && !self.streams.is_empty() {
            // Every usable stream is busy and as many again wait: queueing
            // more only grows memory (100,000 queued requests cost page faults
            // and cache misses on every step), so wait for answers, as a
            // sender that waits for free streams would. Not while nothing is
            // in flight (no connection, or all backing off): then `send`
            // queues as before and `flush` reports.
            let rt = Arc::clone(&self.rt);
            let target = self.backlog() / 2;
            rt.block_on(self.settle(Until::Queued(target), None))?;
        }
        Ok(identifier)
    }

    /// A kept connection goes to a new owner, with that owner's options (the
    /// connections and what they have queued stay as they are; a pool of a
    /// different size grows, or closes its last connections once what they
    /// carry is answered, which `release` already waited for).
    pub fn hand_over(&mut self, options: Options) -> Result<()> {
        check_connections(options.connections)?;
        self.slots.resize_with(options.pool_size(), Slot::default);
        self.options = options;
        Ok(())
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
        rt.block_on(self.settle(Until::Unsettled(0), deadline))?;
        Ok(self.take_failures())
    }

    /// Failures collected so far, cleared.
    pub fn take_failures(&mut self) -> Vec<Failure> {
        std::mem::take(&mut self.failures)
    }

    pub fn stats(&self) -> Stats {
        Stats {
            connected: self.is_connected(),
            pending: self.items.len() as u64,
            ..self.stats.clone()
        }
    }

    /// The counters of each connection of the pool, in slot order.
    pub fn connection_stats(&self) -> Vec<ConnStats> {
        self.slots
            .iter()
            .map(|s| ConnStats {
                in_flight: s.conn.as_ref().map_or(0, |c| c.in_flight as u64),
                connected: !self.closed && s.connected(),
                ..s.stats.clone()
            })
            .collect()
    }

    pub fn is_connected(&self) -> bool {
        !self.closed && self.slots.iter().any(Slot::connected)
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
        let settled = rt.block_on(self.settle(Until::Unsettled(0), Some(deadline)));
        let (timeout, gateway) = (self.options.timeout, self.target.endpoint.describe());
        let result = super::closing_result(settled, timeout, &gateway, || {
            self.give_up_quietly("the connection was closed before they were answered")
        });
        self.drop_connections();
        self.streams.clear();
        self.closed = true;
        result.map(|()| self.failures.clone())
    }

    fn check_open(&self) -> Result<()> {
        super::check_open(self.closed)
    }

    /// Requests waiting for a stream beyond which `send` waits for answers:
    /// what the whole pool may have in flight.
    fn backlog(&self) -> usize {
        (self.options.max_streams.max(1) * self.slots.len()).max(PUMP_BATCH * 4)
    }

    fn drop_connections(&mut self) {
        for slot in &mut self.slots {
            slot.conn = None;
            slot.next_connect_at = None;
            slot.connect_failures = 0;
        }
    }

    // ----- inside the runtime -----

    /// Opens one connection (see [`pool::open`]).
    async fn open(&mut self) -> Result<pool::Conn> {
        self.generation += 1;
        let confirmed = self.token_confirmed || matches!(self.auth, Auth::Certificate);
        let by = super::deadline::attempt_by(
            Instant::now(),
            self.options.timeout,
            None,
            self.call_deadline,
        );
        pool::open(
            &self.target,
            self.options.timeout,
            by,
            self.generation,
            confirmed,
        )
        .await
    }

    /// One step that never waits for responses: collect what has finished,
    /// (re)connect if requests wait, start what the limits allow. `yields`:
    /// then let the connections write and read before returning (`send`
    /// returns to PHP, where nothing runs them); `settle` does not need that,
    /// since it waits in the runtime right after.
    async fn pump(&mut self, yields: bool) -> Result<()> {
        // One clock reading serves the whole step (a busy sender pumps on every
        // `send`, and reading the clock per stream was measurable).
        let now = Instant::now();
        self.now = now;
        self.last_pump = Some(now);
        self.unpumped = 0;
        // Answers are taken a chunk at a time, and the requests that replace
        // them are written (the yield lets the connection tasks run) before
        // the next chunk: a round trip's worth of answers arrives at once, and
        // replacing all of them before writing any delayed every request by
        // the whole batch (at 1,000 streams, 60+ ms round trips for 50).
        while self.collect_finished(CHUNK) == CHUNK {
            self.release_delayed(now);
            if !self.queue.is_empty() {
                self.ensure_connections().await?;
                self.start_requests()?;
            }
            tokio::task::yield_now().await;
        }
        self.release_delayed(now);
        self.check_idle().await;
        if !self.queue.is_empty() {
            self.ensure_connections().await?;
            self.start_requests()?;
        }
        if yields {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            // Streams answered meanwhile free slots, and a GOAWAY or a closed
            // connection may have sent streams back to the queue: deal with
            // both before anyone waits.
            self.collect_finished(usize::MAX);
            self.release_delayed(now);
            if !self.queue.is_empty() {
                self.check_idle().await;
                self.ensure_connections().await?;
                self.start_requests()?;
            }
        }
        self.check_stalled()
    }

    /// Runs until `until` holds (`Ok(true)`), or `deadline` passes (`Ok(false)`:
    /// the rest stays queued, and a timed `flush` is not an error for its own
    /// deadline).
    async fn settle(&mut self, until: Until, deadline: Option<Instant>) -> Result<bool> {
        let outer = std::mem::replace(&mut self.call_deadline, deadline);
        let settled = self.settle_within(until, deadline).await;
        self.call_deadline = outer;
        settled
    }

    /// [`Self::settle`]'s loop, with `deadline` as the call's deadline.
    async fn settle_within(&mut self, until: Until, deadline: Option<Instant>) -> Result<bool> {
        loop {
            self.pump(false).await?;
            let reached = match until {
                Until::Unsettled(n) => self.items.len() <= n,
                Until::Queued(n) => self.queue.len() <= n || self.streams.is_empty(),
            };
            if reached {
                return Ok(true);
            }
            let now = Instant::now();
            if super::deadline::passed(deadline, now) {
                return Ok(false);
            }
            let mut wake = self.last_progress + self.options.timeout;
            if let Some(d) = deadline {
                wake = wake.min(d);
            }
            if let Some(t) = self.slots.iter().filter_map(|s| s.next_connect_at).min() {
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
        Err(super::give_up::gave_up(
            &self.target.endpoint.describe(),
            self.options.timeout,
            &self.last_cause,
            count,
            "answered",
        ))
    }

    /// Forgets connections that ended; PINGs one that has been idle for
    /// `idle_ping` and drops it if the PING goes unanswered.
    async fn check_idle(&mut self) {
        let timeout = self.options.timeout;
        let idle_ping = self.options.idle_ping;
        let call_deadline = self.call_deadline;
        for slot in &mut self.slots {
            let Some(conn) = slot.conn.as_mut() else {
                continue;
            };
            if conn.state.closed.load(std::sync::atomic::Ordering::Acquire) {
                if !conn.draining {
                    // Ended (a GOAWAY whose streams were all answered, or a
                    // close) before any stream of ours told.
                    slot.stats.goaways += 1;
                }
                let cause = conn.state.cause();
                self.last_cause = if cause.is_empty() {
                    "the server closed the connection".into()
                } else {
                    cause
                };
                slot.conn = None;
                continue;
            }
            if conn.in_flight > 0 || conn.draining || conn.last_used.elapsed() < idle_ping {
                continue;
            }
            let by = super::deadline::attempt_by(Instant::now(), timeout, None, call_deadline);
            let alive = match conn.ping.as_mut() {
                Some(p) => matches!(
                    tokio::time::timeout_at(by.into(), p.ping(Ping::opaque())).await,
                    Ok(Ok(_))
                ),
                None => true,
            };
            if !alive && super::deadline::passed(call_deadline, Instant::now()) {
                // The call's deadline cut the PING short: that says nothing
                // about the connection; the next call PINGs it again.
                continue;
            }
            if alive {
                conn.last_used = Instant::now();
            } else {
                self.last_cause = "an idle connection did not answer a PING".into();
                slot.conn = None;
            }
        }
    }

    /// Makes sure enough usable connections exist for what waits, within each
    /// slot's back-off: when none is usable, or the queue holds more than the
    /// usable ones can take now, every slot without one opens.
    async fn ensure_connections(&mut self) -> Result<()> {
        let cap = self.options.max_streams;
        let free: usize = self
            .slots
            .iter()
            .filter_map(|s| s.conn.as_ref())
            .map(|c| c.free(cap))
            .sum();
        if self.slots.iter().any(Slot::usable) && self.queue.len() <= free {
            return Ok(());
        }
        // Every slot without a usable connection and not backing off opens
        // now, all at once: a pool of 8 opened one after the other spent 8
        // handshakes before its last connection took a request.
        let now = Instant::now();
        let wanted: Vec<(usize, u64)> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.usable() && s.next_connect_at.is_none_or(|t| now >= t))
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
            .into_iter()
            .map(|i| {
                self.generation += 1;
                (i, self.generation)
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let confirmed = self.token_confirmed || matches!(self.auth, Auth::Certificate);
        let timeout = self.options.timeout;
        let by = super::deadline::attempt_by(now, timeout, None, self.call_deadline);
        let target = &self.target;
        let opened = futures_util::future::join_all(
            wanted
                .iter()
                .map(|&(_, generation)| pool::open(target, timeout, by, generation, confirmed)),
        )
        .await;
        // Attempts the call's deadline cut short say nothing about the gateway.
        let cut_short = super::deadline::passed(self.call_deadline, Instant::now());
        let mut refused = None;
        for ((index, _), opened) in wanted.into_iter().zip(opened) {
            let Some(slot) = self.slots.get_mut(index) else {
                continue;
            };
            match opened {
                Ok(conn) => {
                    // A draining connection stays alive in its driver task until
                    // its streams are answered; only our handle goes.
                    slot.conn = Some(conn);
                    if slot.opened {
                        slot.stats.reconnects += 1;
                        self.stats.reconnects += 1;
                    }
                    slot.opened = true;
                    slot.next_connect_at = None;
                    slot.connect_failures = 0;
                }
                Err(e) if e.is_fatal() => refused = Some(e),
                Err(Error::Timeout(_)) if cut_short => slot.conn = None,
                Err(e) => {
                    self.last_cause = e.to_string();
                    slot.conn = None;
                    slot.connect_failures += 1;
                    let delay = RECONNECT.delay(slot.connect_failures);
                    slot.next_connect_at = Some(Instant::now() + delay);
                }
            }
        }
        if let Some(e) = refused {
            // Refused credentials do not get better by retrying.
            self.last_cause = e.to_string();
            let count = self.give_up_quietly("the connection was refused");
            return Err(Error::Undelivered(format!(
                "{e}; {count} notification(s) not sent are listed in failures() with status {STATUS_NOT_DELIVERED}"
            )));
        }
        Ok(())
    }

    /// Opens streams for queued items while the limits allow, each batch on the
    /// connection with the most free streams (so the pool stays balanced).
    fn start_requests(&mut self) -> Result<()> {
        /// Requests given to one connection before the choice is made again.
        const BATCH: usize = 32;
        let cap = self.options.max_streams;
        let mut jwt: Option<Option<Arc<str>>> = None;
        // Connections that cannot take more in this step (bit per slot; at
        // most MAX_CONNECTIONS = 64).
        let mut held: u64 = 0;
        while !self.queue.is_empty() {
            let best = self
                .slots
                .iter()
                .enumerate()
                .filter(|&(i, _)| held & (1 << i) == 0)
                .filter_map(|(i, s)| s.conn.as_ref().map(|c| (i, c.free(cap))))
                .max_by_key(|&(i, free)| (free, std::cmp::Reverse(i)));
            let Some((index, free)) = best.filter(|&(_, free)| free > 0) else {
                break;
            };
            let jwt = match &jwt {
                Some(j) => j.clone(),
                None => {
                    let j = self.provider_token()?;
                    jwt = Some(j.clone());
                    j
                }
            };
            let Some(slot) = self.slots.get_mut(index) else {
                break;
            };
            let Some(conn) = slot.conn.as_mut() else {
                break;
            };
            let slot = &mut slot.stats;
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            for _ in 0..free.min(BATCH) {
                // A stream h2 still holds back (its count of open streams lags
                // ours by a frame) must open before the next may start: try
                // this connection again on the next step.
                match conn.send.poll_ready(&mut cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Pending => {
                        held |= 1 << index;
                        break;
                    }
                    Poll::Ready(Err(e)) => {
                        Self::conn_failed(conn, slot, &e);
                        self.last_cause = pool::describe_h2(&e);
                        held |= 1 << index;
                        break;
                    }
                }
                let Some(key) = self.queue.pop_front() else {
                    break;
                };
                let Some(item) = self.items.get_mut(key) else {
                    continue;
                };
                let request = self.heads.request(&item.request, jwt.as_deref())?;
                let (response, mut body) = match conn.send.send_request(request, false) {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Never sent: back to the front, not counted.
                        self.queue.push_front(key);
                        Self::conn_failed(conn, slot, &e);
                        self.last_cause = pool::describe_h2(&e);
                        held |= 1 << index;
                        break;
                    }
                };
                // An error here (the stream reset meanwhile) is the
                // response future's to report.
                let _ = body.send_data(item.request.payload.clone(), true);
                item.writes += 1;
                if item.writes > 1 {
                    self.stats.resent += 1;
                }
                self.stats.bytes +=
                    (item.request.payload.len() + item.request.path.len() + 160) as u64;
                self.streams.push(pool::Exchange::new(
                    response,
                    Route {
                        key,
                        slot: index,
                        generation: conn.generation,
                        jwt: jwt.clone(),
                    },
                ));
                conn.in_flight += 1;
                slot.streams += 1;
                conn.last_used = self.now;
            }
        }
        Ok(())
    }

    /// A connection refused a new stream with a connection-level error: it
    /// takes nothing more (its slot reconnects; the others go on).
    fn conn_failed(conn: &mut pool::Conn, slot_stats: &mut ConnStats, e: &h2::Error) {
        let connection_level = e.is_go_away() || e.is_io() || e.reason().is_some();
        if connection_level && !conn.draining {
            conn.draining = true;
            slot_stats.goaways += 1;
        }
    }

    /// The provider token requests carry now (token auth).
    fn provider_token(&self) -> Result<Option<Arc<str>>> {
        match &self.auth {
            Auth::Certificate => Ok(None),
            Auth::Token {
                key,
                key_id,
                team_id,
            } => Ok(Some(
                TokenCache::global()
                    .get(key, key_id, team_id, unix_now())?
                    .jwt,
            )),
        }
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
}

impl Drop for Http2Sender {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Checks what [`Http2Sender::connect`] and [`Http2Sender::with_dialer`]
/// take before anything connects: the provider token's ids, the pool size.
fn check_settings(auth: &Auth, options: &Options) -> Result<()> {
    if let Auth::Token {
        key_id, team_id, ..
    } = auth
    {
        crate::protocol::jwt::check_id(key_id, "key_id")?;
        crate::protocol::jwt::check_id(team_id, "team_id")?;
    }
    check_connections(options.connections)
}

/// Checks the `connections` option.
fn check_connections(n: usize) -> Result<()> {
    if (1..=MAX_CONNECTIONS).contains(&n) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "option 'connections' must be an int from 1 to {MAX_CONNECTIONS}, not {n}"
        )))
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

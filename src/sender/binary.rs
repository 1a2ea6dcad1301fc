//! The binary protocol engine: writes notifications, reads error responses, and
//! resends whatever the gateway discarded, so that nothing accepted is lost.
//!
//! What happens when (Apple's rules, see `docs/protocol.md`):
//! - **Error response** (status 1–8, 128, 255) for frame N: N is reported as a
//!   failure, everything before it was processed, everything after it is resent
//!   once on a new connection.
//! - **Shutdown** (status 10) naming N: N and everything before it were delivered;
//!   everything after it is resent. Nothing is reported as failed.
//! - **Silent drop** (end of stream, reset, or no progress for `timeout`): nothing
//!   says what the gateway processed, so everything not yet settled is resent, in
//!   segments each followed by a probe (see [`super::window`]) whose answer proves the
//!   segment was processed. Segments start at [`MAX_SEGMENT`] notifications, halve
//!   after every further drop and double after every confirmed one (up to
//!   [`MAX_SEGMENT`]); after `CALM_SEGMENTS` confirmed segments in a row the engine
//!   streams freely again. So a gateway that drops connections often still sees
//!   progress, and at most one segment (≤ [`MAX_SEGMENT`]) is duplicated per drop.
//! - **Settling** (`flush`, `close`): only by proof. A probe follows the last
//!   notification; its answer proves everything before it was processed, and an
//!   error response that comes first (however late: Apple answers 0.1 to 0.8 s
//!   after the fact, reading and discarding what follows meanwhile) is handled as
//!   above, the probe resent with the rest. Elapsed time never settles anything.
//!   The price on a gateway that closes after every error response, as Apple's
//!   does: the next write opens a new connection.
//! - **Window full**: a probe settles what is there; `send` waits for it rather
//!   than forget anything.
//!
//! Reconnects happen only when there is something to write, immediately after an
//! error response, and with exponential back-off after failures; a gateway that
//! makes no progress for `timeout` ends in [`Error::Undelivered`], with every
//! unsettled notification listed in the failures (status 255), never dropped.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use super::backoff::RECONNECT;
use super::failure::not_delivered;
use super::identifiers::Identifiers;
use super::window::{Outcome, Window};
use super::{Failure, Stats};
use crate::error::{Error, Result, TimeoutError, Unfinished};
use crate::protocol::binary::{self, Command, ErrorResponse, Frame, Parsed};
use crate::protocol::token;
use crate::transport::{Connector, Interest, Link};

/// `send` hands bytes to the connection once this many are waiting… (16 TLS
/// records, one `writev`: with fewer, larger writes the gateway's side is woken
/// less often, and on loopback that wake-up is charged to the sender; 16 KiB
/// chunks made `sendMany` about 20 % slower, 1 MiB no faster.)
const WRITE_CHUNK: usize = 256 * 1024;
/// …or once this long has passed since it last did, so nothing waits long.
const PUSH_INTERVAL: Duration = Duration::from_millis(2);
/// `send` blocks (within `timeout`) while more than this is waiting to be written.
const MAX_UNWRITTEN: usize = 4 << 20;
/// Memory bound of the window, whatever the `window` count says.
const MAX_WINDOW_BYTES: u64 = 64 << 20;
/// The smallest segment resent between probes after a silent drop.
const MIN_SEGMENT: usize = 16;
/// The largest segment after a silent drop: the most one drop can duplicate.
pub const MAX_SEGMENT: usize = 256;
/// Confirmed segments in a row after which the engine stops probing.
const CALM_SEGMENTS: u32 = 8;
/// Error responses kept for `take_error_response`.
const MAX_RESPONSES: usize = 1000;

pub use super::STATUS_NOT_DELIVERED;

/// Tunables of the engine.
#[derive(Debug, Clone)]
pub struct Options {
    /// Bound for connect and every blocking step; also how long the engine keeps
    /// trying without progress before it gives up.
    pub timeout: Duration,
    /// Notifications kept for resending before the engine settles them with a probe.
    pub window: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(10),
            window: 100_000,
        }
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

/// What a blocking [`Sender::drive`] waits for.
#[derive(Debug, Clone, Copy)]
enum Goal {
    /// At most this many bytes wait to be written.
    Unwritten(usize),
    /// The window has room for one more notification.
    Room,
    /// The window is empty: everything written was proven processed or rejected.
    Settled,
}

/// The engine, generic over how it connects.
pub struct Sender<C: Connector> {
    connector: C,
    options: Options,
    link: Option<C::Link>,
    window: Window,
    /// The default identifiers handed to callers.
    identifiers: Identifiers,
    /// The last payload that passed validation (see [`Engine`](super::engine::Engine)'s
    /// `send`): a batch of one payload validates its JSON once.
    payloads: crate::protocol::payload::LastValid,
    /// Bytes read from the gateway not yet parsed.
    inbox: Vec<u8>,
    failures: Vec<Failure>,
    responses: VecDeque<ErrorResponse>,
    stats: Stats,
    closed: bool,
    /// After a silent drop: notifications resent per probe-checked segment.
    segment: Option<usize>,
    /// Segments confirmed in a row since the last drop.
    calm: u32,
    /// When bytes were last handed to the connection.
    last_push: Instant,
    /// Counts connection losses and error responses: a change means "something happened".
    generation: u64,
    /// Since when connections have been failing without anything being settled.
    stalled_since: Option<Instant>,
    /// Connection failures in a row without progress, for the back-off.
    failures_in_row: u32,
    /// Why the last connection ended or could not be made, for messages.
    last_cause: String,
    /// After giving up: no new connection is tried before this instant, and
    /// `send` fails at once, so a loop over many tokens does not wait `timeout` each.
    retry_at: Option<Instant>,
}

impl<C: Connector> Sender<C> {
    /// Connects now, so that bad credentials and unreachable gateways fail here.
    pub fn connect(mut connector: C, options: Options) -> Result<Self> {
        let link = connector.connect(Instant::now() + options.timeout)?;
        Ok(Sender {
            connector,
            options,
            link: Some(link),
            window: Window::new(),
            identifiers: Identifiers::default(),
            payloads: crate::protocol::payload::LastValid::default(),
            inbox: Vec::new(),
            failures: Vec::new(),
            responses: VecDeque::new(),
            stats: Stats {
                connected: true,
                ..Stats::default()
            },
            closed: false,
            segment: None,
            calm: 0,
            last_push: Instant::now(),
            generation: 0,
            stalled_since: None,
            failures_in_row: 0,
            last_cause: String::new(),
            retry_at: None,
        })
    }

    /// Queues one notification and writes it (coalesced with its neighbours);
    /// returns its identifier.
    pub fn send(&mut self, n: &Outgoing<'_>) -> Result<u32> {
        self.check_open()?;
        let identifier = self.identifiers.or_next(n.identifier);
        let frame = Frame {
            command: n.command,
            token: Some(n.token),
            payload: Some(n.payload),
            identifier,
            expiry: n.expiry,
            priority: n.priority,
        };
        self.enqueue(&frame, identifier)?;
        Ok(identifier)
    }

    /// Parses every frame in `bytes` (one or more, whole), checks each as Apple
    /// would, then queues them all as [`Sender::send`] does. Nothing is queued
    /// unless every frame is whole and valid. Returns `bytes.len()`.
    pub fn write_frames(&mut self, bytes: &[u8]) -> Result<usize> {
        self.check_open()?;
        let frames = binary::parse_frames(bytes)?;
        for frame in &frames {
            let identifier = if frame.command == Command::Simple {
                self.identifiers.next_default()
            } else {
                frame.identifier
            };
            self.enqueue(frame, identifier)?;
        }
        Ok(bytes.len())
    }

    /// Settles everything sent so far and returns the failures collected since
    /// the last call. With `timeout`, returns when it passes with what is settled
    /// by then; the rest stays queued ([`Stats::pending`]) for the next `flush`,
    /// `close` or owner. Its own deadline is never an error; a gateway that cannot
    /// be reached is. Without, each blocking step is bounded by the option `timeout`.
    pub fn flush(&mut self, timeout: Option<Duration>) -> Result<Vec<Failure>> {
        self.check_open()?;
        self.settle(timeout.map(|t| Instant::now() + t))?;
        Ok(self.take_failures())
    }

    /// Failures collected so far, cleared.
    pub fn take_failures(&mut self) -> Vec<Failure> {
        std::mem::take(&mut self.failures)
    }

    /// The oldest error response not yet returned, without blocking. Identifiers
    /// are the caller's.
    pub fn take_error_response(&mut self) -> Option<ErrorResponse> {
        if !self.closed {
            self.read_available();
        }
        self.responses.pop_front()
    }

    pub fn stats(&self) -> Stats {
        Stats {
            connected: self.is_connected(),
            pending: self.window.len() as u64,
            ..self.stats.clone()
        }
    }

    pub fn is_connected(&self) -> bool {
        !self.closed && self.link.is_some()
    }

    /// Prepares the connection for keeping after its PHP object is gone (a
    /// persistent connection): hands everything queued to the gateway, bounded by
    /// `timeout`, without waiting for it to be settled; the next owner's calls go
    /// on settling it (resending when needed).
    pub fn release(&mut self) -> Result<()> {
        self.check_open()?;
        if !self.drive(
            Goal::Unwritten(0),
            Some(Instant::now() + self.options.timeout),
        )? {
            return Err(Error::Timeout(TimeoutError {
                peer: self.connector.describe(),
                after: self.options.timeout,
                what: Unfinished::Handing {
                    notifications: self.window.len(),
                },
            }));
        }
        Ok(())
    }

    /// Hands a kept connection to a new owner with new tunables: what earlier
    /// owners left (failures, error responses, notifications in flight) is never
    /// reported to it. Reconnects now if the connection died while kept, so the
    /// new owner gets a live one or a clear error, as from [`Sender::connect`].
    pub fn hand_over(&mut self, options: Options) -> Result<()> {
        self.check_open()?;
        self.options = options;
        self.window.owner = self.window.owner.wrapping_add(1);
        self.read_available();
        self.failures.clear();
        self.responses.clear();
        self.retry_at = None;
        if self.link.is_none() {
            self.reconnect(None)?;
        }
        Ok(())
    }

    /// Settles what is queued with a probe (about one round trip on a prompt
    /// gateway, bounded by `timeout` on a silent one) and closes. Later sends fail
    /// with [`Error::Closed`]. Returns the failures still unread, which stay
    /// readable through [`Sender::take_failures`]; what could not be settled in
    /// time is among them (status 255) and makes the result an error.
    pub fn close(&mut self) -> Result<Vec<Failure>> {
        if self.closed {
            return Ok(self.failures.clone());
        }
        let settled = self.settle(Some(Instant::now() + self.options.timeout));
        let (timeout, gateway) = (self.options.timeout, self.connector.describe());
        let result = super::closing_result(settled, timeout, &gateway, || {
            self.give_up_quietly("the connection was closed before the gateway confirmed them")
        });
        self.link = None;
        self.closed = true;
        result.map(|()| self.failures.clone())
    }

    fn check_open(&self) -> Result<()> {
        super::check_open(self.closed)
    }

    fn enqueue(&mut self, frame: &Frame<'_>, identifier: u32) -> Result<()> {
        if let Some(at) = self.retry_at.filter(|_| self.link.is_none()) {
            let wait = at.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                return Err(Error::Undelivered(format!(
                    "not sent: {} is unreachable ({}); the next attempt is in {:.1} s",
                    self.connector.describe(),
                    self.last_cause,
                    wait.as_secs_f64()
                )));
            }
        }
        self.make_room()?;
        if let Some(segment) = self.segment {
            if self.window.since_last_probe() >= segment {
                self.window.push_probe();
            }
        }
        let was_idle = self.window.all_written();
        self.window.push(frame, identifier);
        self.stats.sent += 1;
        // A lone notification goes out at once; in a burst, frames gather into
        // chunks of WRITE_CHUNK. Behind a probe (segments after a silent drop)
        // no chunk can fill up: what may be written goes at once. The clock is
        // read for the first frame after a write and every 64th, bounding how
        // long a burst waits.
        let waiting = self.window.unwritten_len();
        let due = waiting >= WRITE_CHUNK
            || (waiting > 0 && self.window.held_back())
            || ((was_idle || self.stats.sent % 64 == 0)
                && self.last_push.elapsed() >= PUSH_INTERVAL);
        if !due {
            return Ok(());
        }
        self.pump()?;
        if self.window.unwritten_len() > MAX_UNWRITTEN {
            self.drive(Goal::Unwritten(MAX_UNWRITTEN / 4), None)?;
        }
        Ok(())
    }

    /// Waits (settling with a probe) while the window is at its bound.
    fn make_room(&mut self) -> Result<()> {
        if self.has_room() {
            return Ok(());
        }
        if !self.window.ends_with_probe() {
            self.window.push_probe();
        }
        self.drive(Goal::Room, None)?;
        Ok(())
    }

    fn has_room(&self) -> bool {
        self.window.len() < self.options.window.max(1) && self.window.bytes() < MAX_WINDOW_BYTES
    }

    /// One non-blocking step: connect if needed, write what may be written, read
    /// what has arrived.
    fn pump(&mut self) -> Result<()> {
        if self.link.is_none() && self.window.unwritten_len() > 0 {
            self.reconnect(None)?;
        }
        self.write_available();
        self.read_available();
        Ok(())
    }

    /// Settles the whole window by proof: a probe after the last notification,
    /// whose answer (or an error response naming something before it) is the
    /// only thing that proves what the gateway did. Elapsed time never settles
    /// anything: Apple answers 0.1 to 0.8 s late, after reading (and discarding)
    /// whatever followed the rejected notification. `Ok(false)` when `deadline`
    /// passed first; what is not settled stays in the window.
    fn settle(&mut self, deadline: Option<Instant>) -> Result<bool> {
        while !self.window.is_empty() {
            if !self.window.ends_with_probe() {
                self.window.push_probe();
            }
            if !self.drive(Goal::Settled, deadline)? {
                return Ok(false);
            }
        }
        self.window.trim();
        Ok(true)
    }

    fn goal_reached(&self, goal: Goal) -> bool {
        match goal {
            Goal::Unwritten(max) => self.window.unwritten_len() <= max,
            Goal::Room => self.has_room(),
            Goal::Settled => self.window.is_empty(),
        }
    }

    /// Blocks until `goal` is reached (`Ok(true)`) or `deadline` passes (`Ok(false)`).
    /// Every wait is bounded by the option `timeout`; a connection on which nothing
    /// moves for that long is treated as dropped.
    fn drive(&mut self, goal: Goal, deadline: Option<Instant>) -> Result<bool> {
        loop {
            if self.goal_reached(goal) {
                return Ok(true);
            }
            let now = Instant::now();
            if super::deadline::passed(deadline, now) {
                return Ok(false);
            }
            if self.link.is_none() {
                if self.window.unwritten_len() == 0 && !matches!(goal, Goal::Settled | Goal::Room) {
                    return Ok(true);
                }
                self.reconnect(deadline)?;
                continue;
            }
            self.write_available();
            self.read_available();
            if self.goal_reached(goal) || self.link.is_none() {
                continue;
            }
            let step = now + self.options.timeout;
            let until = deadline.map_or(step, |d| d.min(step));
            let interest = if self.window.unwritten_len() == 0 {
                Interest::Read
            } else {
                Interest::ReadWrite
            };
            let Some(link) = self.link.as_mut() else {
                continue;
            };
            match link.wait(interest, until) {
                Ok(true) => {}
                Ok(false) if until == step && deadline.is_none_or(|d| step < d) => {
                    // Nothing moved for a whole `timeout`: the gateway stopped answering.
                    let secs = self.options.timeout.as_secs_f64();
                    self.lose_connection(format!("the gateway stopped answering for {secs} s"));
                }
                Ok(false) => {}
                Err(e) => self.lose_connection(describe_io(&e)),
            }
        }
    }

    /// Hands the connection what the window allows, without blocking.
    fn write_available(&mut self) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        let mut failed = None;
        loop {
            let chunk = self.window.unwritten();
            if chunk.is_empty() {
                break;
            }
            match link.write(chunk) {
                Ok(0) => {
                    break;
                }
                Ok(n) => {
                    self.window.advance(n);
                    self.stats.bytes += n as u64;
                    self.last_push = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if failed.is_none() {
            if let Err(e) = link.flush() {
                if e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::Interrupted {
                    failed = Some(e);
                }
            }
        }
        if let Some(e) = failed {
            // A write error usually means the gateway closed after an error
            // response that is already in our receive buffer: read it first.
            self.read_available();
            if self.link.is_some() {
                self.lose_connection(describe_io(&e));
            }
        }
    }

    /// Reads whatever the gateway sent, without blocking, and acts on it.
    fn read_available(&mut self) {
        let mut buf = [0u8; 512];
        loop {
            let Some(link) = self.link.as_mut() else {
                return;
            };
            match link.read(&mut buf) {
                Ok(0) => {
                    self.lose_connection(
                        "the gateway closed the connection without an error response".into(),
                    );
                    return;
                }
                Ok(n) => {
                    self.inbox
                        .extend_from_slice(buf.get(..n).unwrap_or_default());
                    match ErrorResponse::parse(&self.inbox) {
                        Ok(Parsed::Complete(response, _)) => {
                            self.inbox.clear();
                            self.on_error_response(response);
                            return;
                        }
                        Ok(Parsed::Partial) => {}
                        Err(e) => {
                            self.inbox.clear();
                            self.lose_connection(format!(
                                "the gateway sent bytes that are not an error response ({e})"
                            ));
                            return;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.lose_connection(describe_io(&e));
                    return;
                }
            }
        }
    }

    /// The gateway answered with an error response and is closing the connection.
    fn on_error_response(&mut self, response: ErrorResponse) {
        self.link = None;
        self.inbox.clear();
        self.generation += 1;
        let mut reported = response;
        match self.window.apply(response.status, response.identifier) {
            Outcome::Rejected { owner, .. } if owner != self.window.owner => {
                // An earlier owner's notification (a persistent connection's previous
                // request): counted, resent after, but reported to no one.
                self.stats.failed += 1;
                self.progress();
                self.stats.resent += self.window.rewind() as u64;
                return;
            }
            Outcome::Rejected { user_id, frame, .. } => {
                reported.identifier = user_id;
                let token = match binary::parse_frame(&frame) {
                    Ok(Parsed::Complete(f, _)) => token::to_hex(f.token.unwrap_or_default()),
                    _ => String::new(),
                };
                self.stats.failed += 1;
                self.failures.push(Failure::refused(
                    user_id,
                    token,
                    u32::from(response.status),
                    binary::status_reason(response.status).to_string(),
                ));
                self.progress();
            }
            Outcome::Delivered { user_id } => {
                reported.identifier = user_id;
                self.progress();
            }
            Outcome::ProbeConfirmed => {
                self.progress();
                if let Some(segment) = self.segment {
                    self.calm += 1;
                    self.segment =
                        (self.calm < CALM_SEGMENTS).then(|| (segment * 2).min(MAX_SEGMENT));
                }
                // A probe's answer is ours, not the caller's business.
                self.stats.resent += self.window.rewind() as u64;
                return;
            }
            Outcome::Unknown => {
                self.remember_response(reported);
                self.lose_connection(format!(
                    "the gateway rejected identifier {} (status {}), which names no notification in flight",
                    response.identifier, response.status
                ));
                return;
            }
        }
        self.remember_response(reported);
        self.stats.resent += self.window.rewind() as u64;
    }

    fn remember_response(&mut self, response: ErrorResponse) {
        if self.responses.len() == MAX_RESPONSES {
            self.responses.pop_front();
        }
        self.responses.push_back(response);
    }

    /// Something was settled: the gateway is making progress.
    fn progress(&mut self) {
        self.stalled_since = None;
        self.failures_in_row = 0;
    }

    /// The connection ended without saying what it processed.
    fn lose_connection(&mut self, cause: String) {
        self.link = None;
        self.inbox.clear();
        self.generation += 1;
        self.last_cause = cause;
        let written = self.window.written_notifications();
        if written == 0 {
            // An idle connection went away: reconnect when there is something to send.
            self.window.rewind();
            return;
        }
        self.stalled_since.get_or_insert_with(Instant::now);
        self.failures_in_row += 1;
        let segment = match self.segment {
            Some(s) => s / 2,
            None => MAX_SEGMENT,
        }
        .max(MIN_SEGMENT);
        self.calm = 0;
        self.segment = Some(segment);
        self.stats.resent += written as u64;
        self.window.rebuild_with_probes(segment);
    }

    /// Opens a new connection, with back-off after failures; gives up (reporting
    /// every unsettled notification) after `timeout` without progress.
    fn reconnect(&mut self, deadline: Option<Instant>) -> Result<()> {
        let started = self.stalled_since.unwrap_or_else(Instant::now);
        loop {
            let give_up_at = started + self.options.timeout;
            let now = Instant::now();
            if now >= give_up_at {
                return Err(self.give_up());
            }
            if self.failures_in_row > 0 {
                let delay = RECONNECT.delay(self.failures_in_row);
                let wake = (now + delay).min(give_up_at);
                let wake = deadline.map_or(wake, |d| d.min(wake));
                std::thread::sleep(wake.saturating_duration_since(now));
                if super::deadline::passed(deadline, Instant::now()) {
                    return Ok(());
                }
                if Instant::now() >= give_up_at {
                    // No time is left for another attempt: give up with the cause
                    // already known rather than a zero-second connect's timeout.
                    return Err(self.give_up());
                }
            }
            // A timed flush bounds the connect too; an attempt its deadline cut
            // short says nothing about the gateway and is not counted.
            let connect_by = super::deadline::attempt_by(
                Instant::now(),
                self.options.timeout,
                Some(give_up_at),
                deadline,
            );
            match self.connector.connect(connect_by) {
                Ok(link) => {
                    self.link = Some(link);
                    self.stats.reconnects += 1;
                    self.retry_at = None;
                    return Ok(());
                }
                Err(e) if e.is_fatal() => {
                    // Refused credentials (or an untrusted gateway) do not get
                    // better by retrying; other TLS failures are retried below.
                    self.last_cause = e.to_string();
                    return Err(self.give_up());
                }
                Err(_) if super::deadline::passed(deadline, Instant::now()) => return Ok(()),
                Err(e) => {
                    self.last_cause = e.to_string();
                    self.failures_in_row += 1;
                }
            }
        }
    }

    /// Reports every unsettled notification as a failure and says why.
    fn give_up(&mut self) -> Error {
        let count = self.give_up_quietly("the gateway could not be reached");
        self.retry_at = Some(Instant::now() + RECONNECT.max);
        super::give_up::gave_up(
            &self.connector.describe(),
            self.options.timeout,
            &self.last_cause,
            count,
            "confirmed",
        )
    }

    fn give_up_quietly(&mut self, why: &str) -> usize {
        let pending = self.window.drain_notifications();
        let count = pending.len();
        let reason = not_delivered(why, &self.last_cause);
        for (identifier, frame) in pending {
            let token = match binary::parse_frame(&frame) {
                Ok(Parsed::Complete(f, _)) => token::to_hex(f.token.unwrap_or_default()),
                _ => String::new(),
            };
            self.stats.failed += 1;
            self.failures
                .push(Failure::not_delivered(identifier, token, reason.clone()));
        }
        self.segment = None;
        self.stalled_since = None;
        self.failures_in_row = 0;
        count
    }
}

impl<C: Connector> Drop for Sender<C> {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn describe_io(e: &io::Error) -> String {
    format!("the connection failed: {e}")
}

mod as_engine;
#[cfg(test)]
mod tests;

//! `final class ApnsConnection`: PHP arguments in, core calls, PHP values out.
//!
//! Every method body runs through [`guard`], which turns core errors and panics
//! into `ApnsException`. The engine lives in a `RefCell` and methods take `&self`:
//! `sendMany()` calls PHP code (the token generator, the `progress` callable), and
//! that code may call back into the same object; the second borrow fails with a
//! clear `ApnsException` instead of aliasing the engine.

// Parameter names are PHP's, for named arguments (`send(deviceToken: …)`); the
// handlers ext-php-rs generates bind them as Rust variables of the same name.
#![allow(non_snake_case)]

use std::cell::{RefCell, RefMut};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{Iterable, ZendCallable, ZendHashTable, Zval};

use super::engine::Engine;
use super::exception::{guard, pending, php_exception_pending, to_php};
use super::iterate;
use super::json;
use super::options::{
    seconds, type_name, ConnectOptions, SendOptions, CONNECT_OPTIONS, FEEDBACK_OPTIONS,
    SEND_MANY_OPTIONS, SEND_OPTIONS,
};
use super::persistent;
use crate::protocol::binary::{self as wire, Frame};
use crate::protocol::payload::{self, BINARY_MAX_PAYLOAD};
use crate::protocol::token::{self, BINARY_TOKEN_LEN};
use crate::sender::engine::{CheckedPayload, Engine as CoreEngine, Visit};
use crate::sender::notification::{Notification, Token};
use crate::sender::{feedback, identifiers, Failure};
use crate::transport::connect::TlsConnector;
use crate::transport::endpoint::{Endpoint, Protocol};
use crate::transport::tls::TlsOptions;
use crate::{Error, VERSION};

/// `sendMany()` calls `progress` after this many notifications at the latest…
const PROGRESS_EVERY: u64 = 1000;
/// …or after this long, whichever comes first.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// A connection to an APNs gateway (binary protocol: `ssl://` or `tls://`).
///
/// `Clone` exists only so that PHP reaches `__clone`, which refuses with an
/// `ApnsException`: the clone shares the engine and is freed at once.
#[php_class]
#[php(name = "ApnsConnection")]
#[php(flags = ClassFlags::Final)]
#[derive(Clone)]
pub struct ApnsConnection {
    inner: Rc<Inner>,
}

struct Inner {
    url: String,
    /// `None` only while a persistent connection is being put away.
    engine: RefCell<Option<Engine>>,
    /// With the `persistent` option: the key it is kept under when the object goes.
    keep_as: Option<String>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let Some(mut engine) = self.engine.get_mut().take() else {
            return;
        };
        if let Some(key) = self.keep_as.take() {
            // Written out, not settled: the next owner goes on with it. A closed
            // or broken connection is not kept (dropping it closes it).
            if engine.release().is_ok() {
                persistent::keep(key, engine);
            }
        }
    }
}

#[php_impl]
impl ApnsConnection {
    pub const GATEWAY_PRODUCTION: &'static str = "ssl://gateway.push.apple.com:2195";
    pub const GATEWAY_SANDBOX: &'static str = "ssl://gateway.sandbox.push.apple.com:2195";
    pub const FEEDBACK_PRODUCTION: &'static str = "ssl://feedback.push.apple.com:2196";
    pub const FEEDBACK_SANDBOX: &'static str = "ssl://feedback.sandbox.push.apple.com:2196";
    pub const API_PRODUCTION: &'static str = "https://api.push.apple.com";
    pub const API_SANDBOX: &'static str = "https://api.sandbox.push.apple.com";

    pub const STATUS_NO_ERRORS: i64 = 0;
    pub const STATUS_PROCESSING_ERROR: i64 = 1;
    pub const STATUS_MISSING_DEVICE_TOKEN: i64 = 2;
    pub const STATUS_MISSING_TOPIC: i64 = 3;
    pub const STATUS_MISSING_PAYLOAD: i64 = 4;
    pub const STATUS_INVALID_TOKEN_SIZE: i64 = 5;
    pub const STATUS_INVALID_TOPIC_SIZE: i64 = 6;
    pub const STATUS_INVALID_PAYLOAD_SIZE: i64 = 7;
    pub const STATUS_INVALID_TOKEN: i64 = 8;
    pub const STATUS_SHUTDOWN: i64 = 10;
    pub const STATUS_PROTOCOL_ERROR: i64 = 128;
    pub const STATUS_UNKNOWN: i64 = 255;

    /// Connects (TLS handshake included) or throws `ApnsException`.
    pub fn __construct(url: String, options: Option<&ZendHashTable>) -> PhpResult<Self> {
        guard("ApnsConnection::__construct", || {
            const METHOD: &str = "ApnsConnection::__construct";
            let endpoint = Endpoint::parse(&url)?;
            let options =
                ConnectOptions::parse(options, METHOD, CONNECT_OPTIONS, endpoint.protocol)?;
            let keep_as = options
                .persistent
                .as_deref()
                .map(|id| persistent::key(&url, &options, id));
            let kept = keep_as.as_deref().and_then(persistent::take);
            let engine = match kept {
                Some(mut engine) => {
                    engine.take_over(&options)?;
                    engine
                }
                None => Engine::connect(endpoint, &options, &tls_options(&options))?,
            };
            Ok(ApnsConnection {
                inner: Rc::new(Inner {
                    url: url.clone(),
                    engine: RefCell::new(Some(engine)),
                    keep_as,
                }),
            })
        })
    }

    /// Validates and sends one notification; returns its identifier.
    pub fn send(
        &self,
        deviceToken: Binary<u8>,
        payload: &Zval,
        options: Option<&ZendHashTable>,
    ) -> PhpResult<i64> {
        guard("ApnsConnection::send", || {
            let mut engine = self.engine("send")?;
            let (options, _) = SendOptions::parse(
                options,
                "ApnsConnection::send",
                SEND_OPTIONS,
                engine.protocol(),
            )?;
            let payload = json::payload(payload)?;
            let identifier = engine.send(&Notification {
                token: Token::Text(&deviceToken),
                payload: &payload,
                identifier: options.identifier,
                options: &options,
            })?;
            Ok(i64::from(identifier))
        })
    }

    /// Sends one payload to every token of an iterable, then flushes.
    pub fn send_many(
        &self,
        deviceTokens: Iterable,
        payload: &Zval,
        options: Option<&ZendHashTable>,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        guard("ApnsConnection::sendMany", || {
            let started = Instant::now();
            let mut engine = self.engine("sendMany")?;
            let (options, progress) = SendOptions::parse(
                options,
                "ApnsConnection::sendMany",
                SEND_MANY_OPTIONS,
                engine.protocol(),
            )?;
            let payload = json::payload(payload)?;
            let checked = engine.check_payload(&payload)?;
            let resent_before = engine.stats().resent;
            let mut progress = Progress::new(progress);
            if let Iterable::Array(array) = &deviceTokens {
                progress.total = i64::try_from(array.len()).ok();
            }
            let Batch {
                rejected,
                sent,
                position,
                mut progress,
                ..
            } = engine.visit(Batch {
                tokens: Some(deviceTokens),
                options: &options,
                payload: checked,
                rejected: Vec::new(),
                sent: 0,
                position: 0,
                progress,
            })?;
            let mut failed = rejected;
            failed.extend(engine.flush(None)?);
            let resent = engine.stats().resent.saturating_sub(resent_before);
            drop(engine);
            // The closing call, unless the last tick already reported every token.
            if progress.last_done != position || position == 0 {
                progress.call(position)?;
            }

            let mut result = ZendHashTable::new();
            put(&mut result, "sent", count(sent))?;
            put(&mut result, "failed", failures(failed)?)?;
            put(&mut result, "resent", count(resent))?;
            put(&mut result, "seconds", started.elapsed().as_secs_f64())?;
            Ok(result)
        })
    }

    /// Writes whole frames (as packed by `pack()` or PHP's `pack()`); returns bytes.
    pub fn write(&self, frame: Binary<u8>) -> PhpResult<i64> {
        guard("ApnsConnection::write", || {
            let written = self.engine("write")?.write_frames(&frame)?;
            Ok(i64::try_from(written).unwrap_or(i64::MAX))
        })
    }

    /// Settles everything sent so far; returns the failures collected since the last call.
    pub fn flush(&self, timeout: Option<f64>) -> PhpResult<ZBox<ZendHashTable>> {
        guard("ApnsConnection::flush", || {
            let limit = match timeout {
                None => None,
                Some(t) => {
                    let mut z = Zval::new();
                    z.set_double(t);
                    Some(seconds("timeout", &z, true, Error::InvalidOption)?)
                }
            };
            let failed = self.engine("flush")?.flush(limit)?;
            failures(failed)
        })
    }

    /// The failures collected so far, cleared on read.
    pub fn failures(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard("ApnsConnection::failures", || {
            failures(self.engine("failures")?.take_failures())
        })
    }

    /// The latest error-response packet not yet returned, or null. Never blocks.
    pub fn read_error_response(&self) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        guard("ApnsConnection::readErrorResponse", || {
            let Some(response) = self.engine("readErrorResponse")?.take_error_response() else {
                return Ok(None);
            };
            let mut packet = ZendHashTable::new();
            put(
                &mut packet,
                "command",
                i64::from(wire::ERROR_RESPONSE_COMMAND),
            )?;
            put(&mut packet, "status", i64::from(response.status))?;
            put(&mut packet, "identifier", i64::from(response.identifier))?;
            put(&mut packet, "reason", wire::status_reason(response.status))?;
            Ok(Some(packet))
        })
    }

    /// Counters since the connection was created.
    pub fn stats(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard("ApnsConnection::stats", || {
            let engine = self.engine("stats")?;
            let stats = engine.stats();
            let mut out = ZendHashTable::new();
            put(&mut out, "sent", count(stats.sent))?;
            put(&mut out, "resent", count(stats.resent))?;
            put(&mut out, "failed", count(stats.failed))?;
            put(&mut out, "reconnects", count(stats.reconnects))?;
            put(&mut out, "bytes", count(stats.bytes))?;
            put(&mut out, "pending", count(stats.pending))?;
            put(&mut out, "protocol", engine.protocol_name())?;
            put(&mut out, "connected", stats.connected)?;
            put(&mut out, "persistent", self.inner.keep_as.is_some())?;
            put(&mut out, "version", VERSION)?;
            if let Some(pool) = engine.connection_stats() {
                put(&mut out, "connections", connection_stats(pool)?)?;
            }
            Ok(out)
        })
    }

    /// Whether a connection to the gateway is open now.
    pub fn is_connected(&self) -> PhpResult<bool> {
        guard("ApnsConnection::isConnected", || {
            Ok(self.engine("isConnected")?.is_connected())
        })
    }

    /// Settles pending notifications (bounded by `timeout`) and closes.
    pub fn close(&self) -> PhpResult<()> {
        guard("ApnsConnection::close", || {
            // Failures found while closing stay readable through failures().
            self.engine("close")?.close()?;
            Ok(())
        })
    }

    /// Builds one binary frame, byte for byte as Apple specified it.
    pub fn pack(
        deviceToken: Binary<u8>,
        payload: &Zval,
        options: Option<&ZendHashTable>,
    ) -> PhpResult<Binary<u8>> {
        guard("ApnsConnection::pack", || {
            let (options, _) = SendOptions::parse(
                options,
                "ApnsConnection::pack",
                SEND_OPTIONS,
                Protocol::Binary,
            )?;
            let token = token::parse_hex(&deviceToken, Some(BINARY_TOKEN_LEN))?;
            let payload = binary_payload(payload)?;
            let frame = Frame {
                command: options.command,
                token: Some(&token),
                payload: Some(&payload),
                identifier: options.identifier.unwrap_or(0),
                expiry: options.expiry,
                priority: options.binary_priority(),
            };
            let mut out = Vec::with_capacity(payload.len() + 64);
            wire::encode(&frame, &mut out);
            Ok(Binary::from(out))
        })
    }

    /// Reads the feedback service to its end.
    pub fn feedback(
        url: String,
        options: Option<&ZendHashTable>,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        guard("ApnsConnection::feedback", || {
            const METHOD: &str = "ApnsConnection::feedback";
            let endpoint = Endpoint::parse(&url)?;
            let options =
                ConnectOptions::parse(options, METHOD, FEEDBACK_OPTIONS, endpoint.protocol)?;
            if endpoint.protocol != Protocol::Binary {
                return Err(Error::Config(format!(
                    "the feedback service speaks the binary protocol: give {METHOD} an ssl:// URL (like ApnsConnection::FEEDBACK_SANDBOX), not '{url}'"
                )));
            }
            let mut connector =
                TlsConnector::new(endpoint, &tls_options(&options), &[], options.timeout)?;
            let tuples = feedback::read_all(&mut connector, options.timeout)?;
            let mut list =
                ZendHashTable::with_capacity(u32::try_from(tuples.len()).unwrap_or(u32::MAX));
            for tuple in tuples {
                let mut entry = ZendHashTable::new();
                put(&mut entry, "timestamp", i64::from(tuple.timestamp))?;
                put(&mut entry, "token", token::to_hex(&tuple.token))?;
                list.push(entry).map_err(convert_error)?;
            }
            Ok(list)
        })
    }

    /// Cloning would share one gateway connection between two objects: refused.
    pub fn __clone(&self) {
        to_php(&Error::Config(
            "ApnsConnection objects cannot be cloned: create a new ApnsConnection for a second connection".into(),
        ))
        .throw();
    }

    /// What var_dump() and print_r() show: no credentials.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        guard("ApnsConnection::__debugInfo", || {
            let mut out = ZendHashTable::new();
            put(&mut out, "url", self.inner.url.as_str())?;
            match self.inner.engine.try_borrow() {
                Ok(engine) => {
                    put(
                        &mut out,
                        "protocol",
                        engine.as_ref().map_or("", |e| e.protocol_name()),
                    )?;
                    put(
                        &mut out,
                        "connected",
                        engine.as_ref().is_some_and(|e| e.is_connected()),
                    )?;
                }
                // Inside sendMany(): the engine is busy.
                Err(_) => put(&mut out, "connected", Option::<bool>::None)?,
            }
            Ok(out)
        })
    }
}

impl ApnsConnection {
    /// The engine, or a clear error when a call of this object is already running.
    fn engine(&self, method: &str) -> Result<RefMut<'_, Engine>, Error> {
        let cell = self.inner.engine.try_borrow_mut().map_err(|_| {
            Error::Reentrant(format!(
                "ApnsConnection::{method}() was called while sendMany() on the same connection is running \
                 (from its progress callback or its token iterator); call it after sendMany() returns"
            ))
        })?;
        RefMut::filter_map(cell, Option::as_mut).map_err(|_| Error::Closed)
    }
}

fn tls_options(o: &ConnectOptions) -> TlsOptions {
    TlsOptions {
        local_cert: o.local_cert.as_ref().map(PathBuf::from),
        local_pk: o.local_pk.as_ref().map(PathBuf::from),
        passphrase: o.passphrase.clone(),
        cafile: o.cafile.as_ref().map(PathBuf::from),
        peer_name: o.peer_name.clone(),
    }
}

/// `$payload` as validated binary-protocol JSON.
fn binary_payload(value: &Zval) -> Result<Vec<u8>, Error> {
    let bytes = json::payload(value)?;
    payload::validate(&bytes, BINARY_MAX_PAYLOAD)?;
    Ok(bytes)
}

/// One `sendMany()` run: each token is checked, sent, and counted. Run
/// generic over the concrete engine ([`Engine::visit`]).
struct Batch<'a, 'b> {
    /// Taken when the run starts.
    tokens: Option<Iterable<'a>>,
    options: &'a SendOptions,
    /// Checked by the engine once, before the run.
    payload: CheckedPayload<'a>,
    /// Tokens refused before sending, as failures.
    rejected: Vec<Failure>,
    sent: u64,
    /// Tokens seen so far (the next token's 0-based position).
    position: u64,
    progress: Progress<'b>,
}

impl<'a, 'b> Visit for Batch<'a, 'b> {
    type Output = Result<Batch<'a, 'b>, Error>;

    fn visit<E: CoreEngine>(mut self, engine: &mut E) -> Self::Output {
        if let Some(tokens) = self.tokens.take() {
            iterate::for_each_value(tokens, |value| self.one(engine, value))?;
        }
        Ok(self)
    }
}

impl Batch<'_, '_> {
    /// Sends the token at the current position, or records why it cannot be
    /// sent (the core decides: [`crate::sender::reject`]). A bad token is a
    /// failure of its own, never the end of the batch.
    fn one<E: CoreEngine>(&mut self, engine: &mut E, value: &Zval) -> Result<(), Error> {
        let index = self.position;
        self.position += 1;
        let value = value.dereference();
        let not_text;
        let token = match value.zend_str() {
            Some(text) => Token::Text(text.as_bytes()),
            None => {
                not_text = type_name(value);
                Token::NotText(&not_text)
            }
        };
        let notification = Notification {
            token,
            payload: self.payload.bytes(),
            identifier: identifiers::nth(self.options.identifier, index),
            options: self.options,
        };
        match engine.send_or_reject(&notification, self.payload, index)? {
            None => self.sent += 1,
            Some(failure) => self.rejected.push(failure),
        }
        self.progress.tick(self.position)
    }
}

/// The `progress` callable of `sendMany()` and when to call it.
struct Progress<'a> {
    callable: Option<ZendCallable<'a>>,
    /// The number of tokens, when known (arrays).
    total: Option<i64>,
    last_done: u64,
    last_at: Instant,
}

impl<'a> Progress<'a> {
    fn new(callable: Option<ZendCallable<'a>>) -> Self {
        Progress {
            callable,
            total: None,
            last_done: 0,
            last_at: Instant::now(),
        }
    }

    fn tick(&mut self, done: u64) -> Result<(), Error> {
        if self.callable.is_none() {
            return Ok(());
        }
        if done - self.last_done >= PROGRESS_EVERY || self.last_at.elapsed() >= PROGRESS_INTERVAL {
            self.call(done)?;
        }
        Ok(())
    }

    fn call(&mut self, done: u64) -> Result<(), Error> {
        let Some(callable) = &self.callable else {
            return Ok(());
        };
        self.last_done = done;
        self.last_at = Instant::now();
        let result = callable.try_call(vec![&count(done), &self.total]);
        if php_exception_pending() {
            return Err(pending());
        }
        result.map(drop).map_err(|e| {
            Error::InvalidOption(format!("the progress callback could not be called: {e}"))
        })
    }
}

/// A count for PHP (ints are signed there).
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `stats()['connections']`: one array per connection of an HTTP/2 pool.
fn connection_stats(
    pool: Vec<crate::sender::http2::ConnStats>,
) -> Result<ZBox<ZendHashTable>, Error> {
    let mut out = ZendHashTable::new();
    for c in pool {
        let mut entry = ZendHashTable::new();
        put(&mut entry, "streams", count(c.streams))?;
        put(&mut entry, "answered", count(c.answered))?;
        put(&mut entry, "in_flight", count(c.in_flight))?;
        put(&mut entry, "reconnects", count(c.reconnects))?;
        put(&mut entry, "goaways", count(c.goaways))?;
        put(&mut entry, "connected", c.connected)?;
        out.push(entry).map_err(convert_error)?;
    }
    Ok(out)
}

/// Failures as the contract's list of arrays.
fn failures(list: Vec<Failure>) -> Result<ZBox<ZendHashTable>, Error> {
    let mut out = ZendHashTable::with_capacity(u32::try_from(list.len()).unwrap_or(u32::MAX));
    for f in list {
        let mut entry = ZendHashTable::new();
        put(&mut entry, "identifier", i64::from(f.identifier))?;
        put(&mut entry, "token", f.token)?;
        put(&mut entry, "status", i64::from(f.status))?;
        put(&mut entry, "reason", f.reason)?;
        if let Some(apns_id) = f.apns_id {
            put(&mut entry, "apns_id", apns_id)?;
        }
        if let Some(timestamp) = f.timestamp {
            put(
                &mut entry,
                "timestamp",
                i64::try_from(timestamp).unwrap_or(i64::MAX),
            )?;
        }
        out.push(entry).map_err(convert_error)?;
    }
    Ok(out)
}

fn put(table: &mut ZendHashTable, key: &str, value: impl IntoZval) -> Result<(), Error> {
    table.insert(key, value).map_err(convert_error)
}

fn convert_error(e: ext_php_rs::error::Error) -> Error {
    Error::Internal(format!("building a PHP value failed: {e}"))
}

//! The engine behind one `ApnsConnection`: the binary protocol's or HTTP/2's.
//!
//! `ApnsConnection` keeps one PHP surface for both protocols; this enum is where
//! the calls split. Everything protocol-specific beyond connecting and the
//! shared calls (`send`'s token and payload handling) stays in `connection.rs`.

use std::sync::Arc;

use super::options::ConnectOptions;
use crate::error::{Error, Result};
use crate::protocol::binary::ErrorResponse;
use crate::protocol::jwt::SigningKey;
use crate::sender::binary::{Options as BinaryOptions, Sender};
use crate::sender::http2::{Auth, ConnStats, Http2Sender, Options as Http2Options};
use crate::sender::{Failure, Stats};
use crate::transport::connect::TlsConnector;
use crate::transport::endpoint::{Endpoint, Protocol};
use crate::transport::tls::TlsOptions;

/// One gateway connection of either protocol. (One per PHP object, so the size
/// difference between the variants does not matter.)
#[allow(clippy::large_enum_variant)]
pub enum Engine {
    Binary(Sender<TlsConnector>),
    Http2(Http2Sender),
}

impl Engine {
    /// Connects (TLS handshake included) to `endpoint` with `options`.
    pub fn connect(
        endpoint: Endpoint,
        options: &ConnectOptions,
        tls: &TlsOptions,
    ) -> Result<Engine> {
        match endpoint.protocol {
            Protocol::Binary => {
                let connector = TlsConnector::new(endpoint, tls, &[], options.timeout)?;
                Ok(Engine::Binary(Sender::connect(
                    connector,
                    binary_options(options),
                )?))
            }
            Protocol::Http2 => {
                let auth = auth(options)?;
                let http2 = http2_options(options);
                Ok(Engine::Http2(Http2Sender::connect(
                    endpoint,
                    tls,
                    auth,
                    options.topic.clone(),
                    http2,
                )?))
            }
        }
    }

    /// Which protocol it speaks.
    pub fn protocol_kind(&self) -> Protocol {
        match self {
            Engine::Binary(_) => Protocol::Binary,
            Engine::Http2(_) => Protocol::Http2,
        }
    }

    /// `'binary'` or `'http2'`, as `stats()` says.
    pub fn protocol(&self) -> &'static str {
        match self {
            Engine::Binary(_) => "binary",
            Engine::Http2(_) => "http2",
        }
    }

    pub fn flush(&mut self, timeout: Option<std::time::Duration>) -> Result<Vec<Failure>> {
        match self {
            Engine::Binary(s) => s.flush(timeout),
            Engine::Http2(s) => s.flush(timeout),
        }
    }

    pub fn take_failures(&mut self) -> Vec<Failure> {
        match self {
            Engine::Binary(s) => s.take_failures(),
            Engine::Http2(s) => s.take_failures(),
        }
    }

    /// The binary protocol's error-response packets; HTTP/2 has none.
    pub fn take_error_response(&mut self) -> Option<ErrorResponse> {
        match self {
            Engine::Binary(s) => s.take_error_response(),
            Engine::Http2(_) => None,
        }
    }

    pub fn stats(&self) -> Stats {
        match self {
            Engine::Binary(s) => s.stats(),
            Engine::Http2(s) => s.stats(),
        }
    }

    /// HTTP/2: the counters of each connection of the pool; `None` for the
    /// binary protocol (one connection, whose counters are the totals).
    pub fn connection_stats(&self) -> Option<Vec<ConnStats>> {
        match self {
            Engine::Binary(_) => None,
            Engine::Http2(s) => Some(s.connection_stats()),
        }
    }

    pub fn is_connected(&self) -> bool {
        match self {
            Engine::Binary(s) => s.is_connected(),
            Engine::Http2(s) => s.is_connected(),
        }
    }

    pub fn close(&mut self) -> Result<Vec<Failure>> {
        match self {
            Engine::Binary(s) => s.close(),
            Engine::Http2(s) => s.close(),
        }
    }

    /// Readies a persistent connection for keeping when its object goes away.
    /// HTTP/2 answers every request, so its queue is simply settled.
    pub fn release(&mut self) -> Result<()> {
        match self {
            Engine::Binary(s) => s.release(),
            Engine::Http2(s) => s.flush(None).map(drop),
        }
    }

    /// Hands a kept connection to a new owner (a later request).
    pub fn hand_over(&mut self, options: &ConnectOptions) -> Result<()> {
        match self {
            Engine::Binary(s) => s.hand_over(binary_options(options)),
            Engine::Http2(s) => {
                drop(s.take_failures());
                s.hand_over(http2_options(options))
            }
        }
    }
}

fn http2_options(o: &ConnectOptions) -> Http2Options {
    Http2Options {
        timeout: o.timeout,
        max_streams: o.max_streams,
        connections: o.connections,
        ..Http2Options::default()
    }
}

fn binary_options(o: &ConnectOptions) -> BinaryOptions {
    BinaryOptions {
        timeout: o.timeout,
        window: o.window,
    }
}

/// Token auth when `auth_key` is given (with `key_id` and `team_id`), else the
/// client certificate, of which there must then be one.
fn auth(o: &ConnectOptions) -> Result<Auth> {
    match (&o.auth_key, &o.key_id, &o.team_id) {
        (Some(key), Some(key_id), Some(team_id)) => Ok(Auth::Token {
            key: Arc::new(SigningKey::from_p8(key)?),
            key_id: key_id.clone(),
            team_id: team_id.clone(),
        }),
        (None, None, None) if o.local_cert.is_some() => Ok(Auth::Certificate),
        (None, None, None) => Err(Error::Config(
            "the HTTP/2 API needs credentials: a client certificate ('local_cert') or token auth \
             ('auth_key', 'key_id' and 'team_id')"
                .into(),
        )),
        _ => {
            let missing: Vec<&str> = [
                ("auth_key", o.auth_key.is_none()),
                ("key_id", o.key_id.is_none()),
                ("team_id", o.team_id.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, absent)| absent.then_some(name))
            .collect();
            Err(Error::Config(format!(
                "token auth needs 'auth_key', 'key_id' and 'team_id'; missing: {}",
                missing.join(", ")
            )))
        }
    }
}

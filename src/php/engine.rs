//! The engine behind one `ApnsConnection`: the binary protocol's or HTTP/2's.
//!
//! Connecting is where the protocols split (which engine, which credentials);
//! after that every call goes through the core's one [`CoreEngine`] trait:
//! [`Engine`] dereferences to `dyn CoreEngine` (one dispatch per PHP call), and
//! [`Engine::visit`] runs a batch generic over the concrete engine (no dynamic
//! dispatch per token).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::options::ConnectOptions;
use crate::error::{Error, Result};
use crate::protocol::jwt::SigningKey;
use crate::sender::binary::{Options as BinaryOptions, Sender};
use crate::sender::engine::{Engine as CoreEngine, Tunables, Visit};
use crate::sender::http2::{Auth, Http2Sender, Options as Http2Options};
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

impl Deref for Engine {
    type Target = dyn CoreEngine;

    fn deref(&self) -> &Self::Target {
        match self {
            Engine::Binary(s) => s,
            Engine::Http2(s) => s,
        }
    }
}

impl DerefMut for Engine {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Engine::Binary(s) => s,
            Engine::Http2(s) => s,
        }
    }
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
                    BinaryOptions::from(&tunables(options)),
                )?))
            }
            Protocol::Http2 => {
                let auth = auth(options)?;
                let http2 = Http2Options::from(&tunables(options));
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

    /// Runs `work` with the concrete engine (statically dispatched).
    pub fn visit<V: Visit>(&mut self, work: V) -> V::Output {
        match self {
            Engine::Binary(s) => work.visit(s),
            Engine::Http2(s) => work.visit(s),
        }
    }

    /// Hands a kept connection to a new owner (a later request) with its options.
    pub fn take_over(&mut self, options: &ConnectOptions) -> Result<()> {
        self.deref_mut().hand_over(&tunables(options))
    }
}

/// What of the connection options the engines take (each its protocol's part).
fn tunables(o: &ConnectOptions) -> Tunables {
    Tunables {
        timeout: o.timeout,
        window: o.window,
        max_streams: o.max_streams,
        connections: o.connections,
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

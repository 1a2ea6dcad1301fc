//! The HTTP/2 engine behind the protocol-neutral [`Engine`]: the token goes as
//! text (the request builder checks it, any length), and a token it refuses
//! becomes 400 `BadDeviceToken` in `sendMany` ([`reject::http2_failure`]).

use super::{Http2Notification, Http2Sender, Options};
use crate::error::{Error, Result};
use crate::sender::engine::{CheckedPayload, Engine, Tunables};
use crate::sender::http2::ConnStats;
use crate::sender::notification::Notification;
use crate::sender::reject;
use crate::sender::{Failure, Stats};
use crate::transport::endpoint::Protocol;

impl Engine for Http2Sender {
    fn protocol(&self) -> Protocol {
        Protocol::Http2
    }

    fn send(&mut self, n: &Notification<'_>) -> Result<u32> {
        Http2Sender::send(
            self,
            &Http2Notification {
                token: reject::http2_text(n.token),
                payload: n.payload,
                identifier: n.identifier,
                options: n.options.http2(),
            },
        )
    }

    /// The payload is checked with each notification (its limit depends on
    /// the push type, and the request builder remembers the last valid one).
    fn check_payload<'p>(&mut self, payload: &'p [u8]) -> Result<CheckedPayload<'p>> {
        Ok(CheckedPayload::new(payload, None))
    }

    fn send_or_reject(
        &mut self,
        n: &Notification<'_>,
        _checked: CheckedPayload<'_>,
        index: u64,
    ) -> Result<Option<Failure>> {
        match Engine::send(self, n) {
            Ok(_) => Ok(None),
            Err(Error::InvalidToken(why)) => Ok(Some(reject::http2_failure(
                reject::http2_text(n.token),
                &why,
                n.identifier,
                index,
            ))),
            Err(e) => Err(e),
        }
    }

    fn flush(&mut self, timeout: Option<std::time::Duration>) -> Result<Vec<Failure>> {
        Http2Sender::flush(self, timeout)
    }

    fn take_failures(&mut self) -> Vec<Failure> {
        Http2Sender::take_failures(self)
    }

    fn stats(&self) -> Stats {
        Http2Sender::stats(self)
    }

    fn connection_stats(&self) -> Option<Vec<ConnStats>> {
        Some(Http2Sender::connection_stats(self))
    }

    fn is_connected(&self) -> bool {
        Http2Sender::is_connected(self)
    }

    fn close(&mut self) -> Result<Vec<Failure>> {
        Http2Sender::close(self)
    }

    /// HTTP/2 answers every request, so what is queued is simply settled.
    fn release(&mut self) -> Result<()> {
        Http2Sender::flush(self, None).map(drop)
    }

    fn hand_over(&mut self, t: &Tunables) -> Result<()> {
        drop(Http2Sender::take_failures(self));
        Http2Sender::hand_over(self, Options::from(t))
    }
}

/// The engine's options from the caller's tunables (the rest at their defaults):
/// the one conversion, for connecting and for a new owner alike.
impl From<&Tunables> for Options {
    fn from(t: &Tunables) -> Options {
        Options {
            timeout: t.timeout,
            max_streams: t.max_streams,
            connections: t.connections,
            ..Options::default()
        }
    }
}

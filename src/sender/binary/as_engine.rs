//! The binary engine behind the protocol-neutral [`Engine`]: the token parsed
//! once (the fast path allocates nothing), the payload checked against the
//! binary limit (once per distinct payload; once per batch in `sendMany`),
//! then [`Sender::send`].

use super::{Options, Outgoing, Sender};
use crate::error::Result;
use crate::protocol::binary::ErrorResponse;
use crate::protocol::payload::BINARY_MAX_PAYLOAD;
use crate::sender::engine::{CheckedPayload, Engine, Tunables};
use crate::sender::notification::Notification;
use crate::sender::reject;
use crate::sender::{Failure, Stats};
use crate::transport::endpoint::Protocol;
use crate::transport::Connector;

impl<C: Connector> Sender<C> {
    /// Queues `n`, whose token is parsed and whose payload is checked.
    #[inline]
    fn send_checked(&mut self, n: &Notification<'_>, token: &[u8]) -> Result<u32> {
        let o = n.options;
        Sender::send(
            self,
            &Outgoing {
                command: o.command,
                token,
                payload: n.payload,
                identifier: n.identifier,
                expiry: o.expiry,
                priority: o.binary_priority(),
            },
        )
    }
}

impl<C: Connector> Engine for Sender<C> {
    fn protocol(&self) -> Protocol {
        Protocol::Binary
    }

    fn check_payload<'p>(&mut self, payload: &'p [u8]) -> Result<CheckedPayload<'p>> {
        self.payloads.accept(payload, BINARY_MAX_PAYLOAD)?;
        Ok(CheckedPayload::new(payload, Some(BINARY_MAX_PAYLOAD)))
    }

    fn send(&mut self, n: &Notification<'_>) -> Result<u32> {
        // Token first, then payload: a bad token is what `send()` reports first.
        let token = reject::binary_token_or_error(n.token)?;
        self.payloads.accept(n.payload, BINARY_MAX_PAYLOAD)?;
        self.send_checked(n, &token)
    }

    #[inline]
    fn send_or_reject(
        &mut self,
        n: &Notification<'_>,
        checked: CheckedPayload<'_>,
        index: u64,
    ) -> Result<Option<Failure>> {
        match reject::binary_token(n.token) {
            Ok(token) => {
                if !checked.covers(n.payload, BINARY_MAX_PAYLOAD) {
                    self.payloads.accept(n.payload, BINARY_MAX_PAYLOAD)?;
                }
                self.send_checked(n, &token).map(|_| None)
            }
            Err(rejection) => Ok(Some(rejection.binary_failure(n.identifier, index))),
        }
    }

    fn write_frames(&mut self, bytes: &[u8]) -> Result<usize> {
        Sender::write_frames(self, bytes)
    }

    fn flush(&mut self, timeout: Option<std::time::Duration>) -> Result<Vec<Failure>> {
        Sender::flush(self, timeout)
    }

    fn take_failures(&mut self) -> Vec<Failure> {
        Sender::take_failures(self)
    }

    fn take_error_response(&mut self) -> Option<ErrorResponse> {
        Sender::take_error_response(self)
    }

    fn stats(&self) -> Stats {
        Sender::stats(self)
    }

    fn is_connected(&self) -> bool {
        Sender::is_connected(self)
    }

    fn close(&mut self) -> Result<Vec<Failure>> {
        Sender::close(self)
    }

    fn release(&mut self) -> Result<()> {
        Sender::release(self)
    }

    fn hand_over(&mut self, t: &Tunables) -> Result<()> {
        Sender::hand_over(self, Options::from(t))
    }
}

/// The engine's options from the caller's tunables: the one conversion, for
/// connecting and for a new owner alike.
impl From<&Tunables> for Options {
    fn from(t: &Tunables) -> Options {
        Options {
            timeout: t.timeout,
            window: t.window,
        }
    }
}

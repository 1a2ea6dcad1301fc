//! One notification as the core takes it, whichever the protocol: the token as
//! the caller gave it, the payload bytes, the identifier and the options.
//!
//! The PHP binding only converts PHP values into these types; each engine
//! checks what its protocol needs (see [`super::reject`] for what a bad token
//! becomes in `sendMany`; priorities are checked by
//! [`crate::protocol::check_priority`], one wording for both protocols).

use crate::protocol::binary::{Command, PRIORITY_IMMEDIATE};
use crate::protocol::http2;

/// The device token as the caller gave it.
#[derive(Debug, Clone, Copy)]
pub enum Token<'a> {
    /// Hex text in any accepted spelling (spaces and `<>` ignored).
    Text(&'a [u8]),
    /// Not a string at all (a `sendMany` element): the PHP type it was.
    NotText(&'a str),
}

/// One notification handed to an engine ([`super::engine::Engine::send`]).
#[derive(Debug, Clone, Copy)]
pub struct Notification<'a> {
    pub token: Token<'a>,
    /// The JSON payload, unchecked: each engine checks it against its limit.
    pub payload: &'a [u8],
    /// The caller's identifier; `None` takes the engine's next sequence number.
    pub identifier: Option<u32>,
    pub options: &'a SendOptions,
}

/// Per-notification options, both protocols' (each engine uses its own).
#[derive(Debug, Clone)]
pub struct SendOptions {
    /// Binary only: the frame's command.
    pub command: Command,
    /// The caller's identifier (`sendMany`: the first notification's).
    pub identifier: Option<u32>,
    /// Unix time until which Apple keeps trying; 0: deliver now or never.
    pub expiry: u32,
    /// `None`: the protocol's default (10; 5 for HTTP/2 `background` pushes).
    /// Always a value [`crate::protocol::check_priority`] accepted.
    pub priority: Option<u8>,
    /// HTTP/2 only: `apns-topic`, `apns-push-type`, `apns-collapse-id`, `apns-id`.
    pub topic: Option<String>,
    pub push_type: Option<String>,
    pub collapse_id: Option<String>,
    pub apns_id: Option<String>,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            command: Command::Framed,
            identifier: None,
            expiry: 0,
            priority: None,
            topic: None,
            push_type: None,
            collapse_id: None,
            apns_id: None,
        }
    }
}

impl SendOptions {
    /// The priority a binary frame carries.
    pub fn binary_priority(&self) -> u8 {
        self.priority.unwrap_or(PRIORITY_IMMEDIATE)
    }

    /// The options as the HTTP/2 request builder takes them (borrowed: no
    /// allocation per notification).
    pub fn http2(&self) -> http2::SendOptions<'_> {
        http2::SendOptions {
            topic: self.topic.as_deref(),
            push_type: self.push_type.as_deref(),
            priority: self.priority,
            expiration: (self.expiry != 0).then_some(u64::from(self.expiry)),
            collapse_id: self.collapse_id.as_deref(),
            apns_id: self.apns_id.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http2_options_borrow_the_fields() {
        let o = SendOptions {
            expiry: 0,
            priority: Some(5),
            topic: Some("com.example".into()),
            ..SendOptions::default()
        };
        let h = o.http2();
        assert_eq!(
            (h.topic, h.priority, h.expiration, h.push_type),
            (Some("com.example"), Some(5), None, None)
        );
        let later = SendOptions {
            expiry: 1_700_000_000,
            ..SendOptions::default()
        };
        assert_eq!(later.http2().expiration, Some(1_700_000_000));
        assert_eq!(later.binary_priority(), 10);
    }
}

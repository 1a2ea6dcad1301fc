//! Which `$options` names each call of `ApnsConnection` takes: every option
//! declared once, with the calls it belongs to, in the order the stub
//! documents them (the order "unknown option … (known: …)" lists them). The
//! lists the PHP binding checks against are selected from here; a test
//! compares them with `stubs/apns.stub.php`. Which protocol an option belongs
//! to is decided here too ([`check_connect_option`], [`check_send_option`]),
//! with the one message each.

use crate::error::{Error, Result};
use crate::transport::endpoint::Protocol;

/// `new ApnsConnection()`.
const NEW: u8 = 1;
/// `ApnsConnection::feedback()`.
const FEEDBACK: u8 = 1 << 1;
/// `send()` and `pack()`.
const SEND: u8 = 1 << 2;
/// `sendMany()`.
const SEND_MANY: u8 = 1 << 3;
/// Refused on the binary protocol (ssl://): the HTTP/2 API's only.
const HTTP2_ONLY: u8 = 1 << 4;

/// Connection options, then per-notification options.
const ALL: &[(&str, u8)] = &[
    ("local_cert", NEW | FEEDBACK),
    ("local_pk", NEW | FEEDBACK),
    ("passphrase", NEW | FEEDBACK),
    ("cafile", NEW | FEEDBACK),
    ("peer_name", NEW | FEEDBACK),
    ("timeout", NEW | FEEDBACK),
    ("auth_key", NEW | HTTP2_ONLY),
    ("key_id", NEW | HTTP2_ONLY),
    ("team_id", NEW | HTTP2_ONLY),
    ("topic", NEW | HTTP2_ONLY),
    ("persistent", NEW),
    ("grace", NEW),
    ("window", NEW),
    ("max_streams", NEW | HTTP2_ONLY),
    ("connections", NEW | HTTP2_ONLY),
    ("identifier", SEND | SEND_MANY),
    ("expiry", SEND | SEND_MANY),
    ("priority", SEND | SEND_MANY),
    ("command", SEND | SEND_MANY),
    ("topic", SEND | SEND_MANY | HTTP2_ONLY),
    ("push_type", SEND | SEND_MANY | HTTP2_ONLY),
    ("collapse_id", SEND | SEND_MANY | HTTP2_ONLY),
    ("apns_id", SEND | SEND_MANY | HTTP2_ONLY),
    ("progress", SEND_MANY),
];

// Both run at compile time only (they size and fill the consts below): an
// index out of bounds there is a build error, never a panic at run time.

/// How many options have every bit of `all` and any bit of `any`.
#[allow(clippy::indexing_slicing)]
const fn count(all: u8, any: u8) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < ALL.len() {
        let calls = ALL[i].1;
        if calls & all == all && calls & any != 0 {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The names of the options [`count`] counts, in declaration order.
#[allow(clippy::indexing_slicing)]
const fn select<const N: usize>(all: u8, any: u8) -> [&'static str; N] {
    let mut out = [""; N];
    let mut n = 0;
    let mut i = 0;
    while i < ALL.len() {
        let (name, calls) = ALL[i];
        if calls & all == all && calls & any != 0 {
            out[n] = name;
            n += 1;
        }
        i += 1;
    }
    out
}

/// Options of `new ApnsConnection()`.
pub const CONNECT_OPTIONS: &[&str] = &select::<{ count(NEW, NEW) }>(NEW, NEW);
/// Options of `ApnsConnection::feedback()`: TLS and `timeout`.
pub const FEEDBACK_OPTIONS: &[&str] = &select::<{ count(FEEDBACK, FEEDBACK) }>(FEEDBACK, FEEDBACK);
/// Options of `send()` and `pack()`.
pub const SEND_OPTIONS: &[&str] = &select::<{ count(SEND, SEND) }>(SEND, SEND);
/// Options of `sendMany()`.
pub const SEND_MANY_OPTIONS: &[&str] =
    &select::<{ count(SEND_MANY, SEND_MANY) }>(SEND_MANY, SEND_MANY);
/// Connection options refused with a binary gateway URL.
pub const HTTP2_CONNECT_OPTIONS: &[&str] =
    &select::<{ count(NEW | HTTP2_ONLY, NEW) }>(NEW | HTTP2_ONLY, NEW);
/// Per-notification options refused on the binary protocol.
pub const HTTP2_SEND_OPTIONS: &[&str] =
    &select::<{ count(SEND | HTTP2_ONLY, SEND) }>(SEND | HTTP2_ONLY, SEND);

/// Refuses a connection option of `method` that the URL's protocol does not
/// have: the HTTP/2 API's options with a binary gateway URL.
pub fn check_connect_option(name: &str, protocol: Protocol, method: &str) -> Result<()> {
    if protocol == Protocol::Binary && HTTP2_CONNECT_OPTIONS.contains(&name) {
        return Err(Error::Config(format!(
            "option '{name}' is for the HTTP/2 API (https://) only; {method} was given a binary gateway URL (ssl://)"
        )));
    }
    Ok(())
}

/// Refuses a per-notification option of `method` that the connection's
/// protocol does not have: the HTTP/2 API's headers on the binary protocol,
/// the binary frame's `command` over HTTP/2.
pub fn check_send_option(name: &str, protocol: Protocol, method: &str) -> Result<()> {
    if protocol == Protocol::Binary && HTTP2_SEND_OPTIONS.contains(&name) {
        return Err(Error::InvalidOption(format!(
            "option '{name}' is for the HTTP/2 API (https://) only; {method} uses the binary protocol"
        )));
    }
    if protocol == Protocol::Http2 && name == "command" {
        return Err(Error::InvalidOption(format!(
            "option 'command' is for the binary protocol (ssl://) only; {method} uses the HTTP/2 API"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_option_is_checked_against_the_protocol() {
        let new = "ApnsConnection::__construct";
        assert_eq!(
            check_connect_option("connections", Protocol::Binary, new)
                .unwrap_err()
                .to_string(),
            "option 'connections' is for the HTTP/2 API (https://) only; \
             ApnsConnection::__construct was given a binary gateway URL (ssl://)"
        );
        assert!(check_connect_option("connections", Protocol::Http2, new).is_ok());
        assert!(check_connect_option("timeout", Protocol::Binary, new).is_ok());

        let send = "ApnsConnection::send";
        let err = check_send_option("topic", Protocol::Binary, send).unwrap_err();
        assert!(matches!(err, Error::InvalidOption(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "option 'topic' is for the HTTP/2 API (https://) only; ApnsConnection::send uses \
             the binary protocol"
        );
        assert_eq!(
            check_send_option("command", Protocol::Http2, send)
                .unwrap_err()
                .to_string(),
            "option 'command' is for the binary protocol (ssl://) only; ApnsConnection::send \
             uses the HTTP/2 API"
        );
        for name in SEND_MANY_OPTIONS {
            let binary = check_send_option(name, Protocol::Binary, send).is_ok();
            let http2 = check_send_option(name, Protocol::Http2, send).is_ok();
            assert_eq!(binary, !HTTP2_SEND_OPTIONS.contains(name), "{name}");
            assert_eq!(http2, *name != "command", "{name}");
        }
    }

    const STUB: &str = include_str!("../stubs/apns.stub.php");

    /// The doc comment right before `function name(` in the stub.
    fn doc_of(name: &str) -> &'static str {
        let at = STUB
            .find(&format!("function {name}("))
            .unwrap_or_else(|| panic!("{name} is not in the stub"));
        let start = STUB[..at].rfind("/**").unwrap();
        &STUB[start..at]
    }

    /// The `code` names at the start of each "* - " item of a doc comment (up
    /// to the item's description: the first " (" or ":" after them).
    fn bullets(doc: &str) -> Vec<String> {
        let mut names = Vec::new();
        for line in doc.lines() {
            let Some(item) = line.trim_start().strip_prefix("* - ") else {
                continue;
            };
            let head = item.split(['(', ':']).next().unwrap_or_default();
            names.extend(code_names(head));
        }
        names
    }

    /// Every `name` in backticks in `text`.
    fn code_names(text: &str) -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_lists_are_what_the_stub_documents() {
        assert_eq!(list(CONNECT_OPTIONS), bullets(doc_of("__construct")));
        assert_eq!(list(SEND_OPTIONS), bullets(doc_of("send")));
        // sendMany: "those of send(), and" its own items (`identifier` again, `progress`).
        let mut many = list(SEND_OPTIONS);
        for name in bullets(doc_of("sendMany")) {
            if !many.contains(&name) {
                many.push(name);
            }
        }
        assert_eq!(list(SEND_MANY_OPTIONS), many);
        // feedback: "Options: `local_cert`, … `timeout` (as for the constructor)."
        let doc = doc_of("feedback");
        let sentence = doc
            .split("Options:")
            .nth(1)
            .unwrap()
            .split('.')
            .next()
            .unwrap();
        assert_eq!(list(FEEDBACK_OPTIONS), code_names(sentence));
    }

    #[test]
    fn the_lists_by_name() {
        assert_eq!(
            FEEDBACK_OPTIONS,
            [
                "local_cert",
                "local_pk",
                "passphrase",
                "cafile",
                "peer_name",
                "timeout"
            ]
        );
        assert_eq!(
            HTTP2_CONNECT_OPTIONS,
            [
                "auth_key",
                "key_id",
                "team_id",
                "topic",
                "max_streams",
                "connections"
            ]
        );
        assert_eq!(
            HTTP2_SEND_OPTIONS,
            ["topic", "push_type", "collapse_id", "apns_id"]
        );
        assert_eq!(SEND_MANY_OPTIONS.last(), Some(&"progress"));
        assert_eq!(SEND_OPTIONS.len() + 1, SEND_MANY_OPTIONS.len());
    }
}

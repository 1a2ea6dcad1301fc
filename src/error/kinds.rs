//! The network failures of [`Error`](super::Error) as data: who (the peer), what
//! did not work (an enum per kind), and the cause reported by the system or the
//! library, so that code decides on values and only `Display` turns them into
//! the message a PHP user reads.
//!
//! Each `Display` is the exact wording users have always seen (phpt files and
//! tests assert it byte for byte); change it only on purpose. The TLS kind is
//! [`TlsFailure`](crate::transport::failure::TlsFailure), next to the rustls
//! classification that fills it. Causes are kept as text: `io::Error` and
//! `h2::Error` are neither `Clone` nor `Eq`, and nothing is decided on them
//! once the kind is known.

use std::fmt;
use std::time::Duration;

/// Nothing accepts connections at the gateway's address (code `CONNECT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The host name did not resolve (`cause` is the resolver's answer).
    Resolve { host: String, cause: String },
    /// The gateway actively refused the TCP connection.
    Refused { peer: String },
    /// The TCP connection failed for another reason.
    Failed { peer: String, cause: String },
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Resolve { host, cause } => {
                write!(f, "cannot resolve host '{host}': {cause}")
            }
            ConnectError::Refused { peer } => write!(
                f,
                "cannot connect to {peer}: connection refused (is the gateway running?)"
            ),
            ConnectError::Failed { peer, cause } => write!(f, "cannot connect to {peer}: {cause}"),
        }
    }
}

/// The peer answered, but not as an HTTP/2 gateway should (code `CONNECT`, as
/// before this kind had a name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    pub peer: String,
    pub what: ProtocolFailure,
}

/// What was wrong with the peer's HTTP/2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolFailure {
    /// TLS worked but the server did not accept ALPN `h2`.
    NotHttp2,
    /// The HTTP/2 connection preface or SETTINGS exchange failed.
    Handshake(String),
    /// The connection ended before answering the first PING (GOAWAY, reset…):
    /// the cause as the HTTP/2 pool's `describe_h2` words it.
    Closed(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peer = &self.peer;
        match &self.what {
            ProtocolFailure::NotHttp2 => write!(
                f,
                "{peer} does not speak HTTP/2 (it did not accept ALPN h2): for the binary \
                 protocol use an ssl:// URL"
            ),
            ProtocolFailure::Handshake(cause) => {
                write!(f, "HTTP/2 handshake with {peer} failed: {cause}")
            }
            ProtocolFailure::Closed(cause) => {
                write!(f, "{peer} closed the HTTP/2 connection: {cause}")
            }
        }
    }
}

/// An operation did not finish within the `timeout` option (code `TIMEOUT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutError {
    pub peer: String,
    /// The time that was allowed.
    pub after: Duration,
    pub what: Unfinished,
}

/// What did not finish in time. The binary transport, the HTTP/2 engine and the
/// feedback reader word their timeouts (and round the seconds) each their own
/// way; the variants keep those words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfinished {
    /// Binary transport: the TCP connect.
    TcpConnect,
    /// Binary transport: the TLS handshake, once TCP was accepted.
    TlsHandshake,
    /// HTTP/2: the TCP connect.
    Http2Connect,
    /// HTTP/2: the TLS handshake.
    Http2TlsHandshake,
    /// HTTP/2: the HTTP/2 handshake (client preface and SETTINGS sent).
    Http2Handshake,
    /// HTTP/2: the answer to the first PING (the connection preface).
    Http2Preface,
    /// Binary engine (`release`): handing the queued notifications to the socket.
    Handing { notifications: usize },
    /// Feedback service: more bytes (or the end), after `received` bytes.
    FeedbackRead { received: usize },
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peer = &self.peer;
        let secs = self.after.as_secs_f64();
        let budget = tenths(self.after);
        match self.what {
            Unfinished::TcpConnect => {
                write!(f, "timed out after {budget} s connecting to {peer}")
            }
            Unfinished::TlsHandshake => write!(
                f,
                "TLS handshake with {peer} did not finish within {budget} s: the gateway \
                 accepted the TCP connection but did not answer"
            ),
            Unfinished::Http2Connect => write!(f, "could not connect to {peer} within {secs} s"),
            Unfinished::Http2TlsHandshake => {
                write!(
                    f,
                    "TLS handshake with {peer} did not finish within {secs} s"
                )
            }
            Unfinished::Http2Handshake => write!(
                f,
                "the HTTP/2 handshake with {peer} did not finish within {secs} s"
            ),
            Unfinished::Http2Preface => write!(
                f,
                "{peer} did not answer the HTTP/2 connection preface within {secs} s"
            ),
            Unfinished::Handing { notifications } => write!(
                f,
                "could not hand {notifications} notification(s) to {peer} within {secs} s"
            ),
            Unfinished::FeedbackRead { received } => write!(
                f,
                "the feedback service at {peer} sent nothing for {secs:.1} s (timeout) after \
                 {received} bytes"
            ),
        }
    }
}

/// Seconds rounded to tenths, without a trailing ".0" (how the binary transport
/// has always shown its connect budget).
pub(super) fn tenths(d: Duration) -> String {
    let tenths = (d.as_millis() + 50) / 100;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// An established (or half-established) connection broke, or a stream was
/// cut short (code `IO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoError {
    pub peer: String,
    pub what: IoFailure,
}

/// Where the connection broke; `String`s are the system's cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoFailure {
    /// Setting the socket options (non-blocking, no delay) failed.
    SocketSetup(String),
    /// During the TLS handshake.
    DuringHandshake(String),
    /// Waiting for the server's verdict on the client certificate: poll failed.
    Wait(String),
    /// Right after the TLS handshake (often a refused client certificate).
    AfterHandshake(String),
    /// Feedback: the service sent more than `limit` bytes without closing.
    FeedbackTooLong { limit: usize },
    /// Feedback: the stream ended inside a tuple.
    FeedbackCut { trailing: usize, tuples: usize },
    /// Feedback: reading failed.
    FeedbackRead(String),
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peer = &self.peer;
        match &self.what {
            IoFailure::SocketSetup(e) => write!(f, "cannot set up the socket to {peer}: {e}"),
            IoFailure::DuringHandshake(e) => write!(
                f,
                "the connection to {peer} broke during the TLS handshake: {e}"
            ),
            IoFailure::Wait(e) => write!(f, "cannot wait for the gateway {peer}: {e}"),
            IoFailure::AfterHandshake(e) => write!(
                f,
                "the connection to {peer} broke right after the TLS handshake ({e}): the \
                 gateway may have refused the client certificate"
            ),
            IoFailure::FeedbackTooLong { limit } => write!(
                f,
                "the feedback service at {peer} sent more than {limit} bytes without closing \
                 the connection"
            ),
            IoFailure::FeedbackCut { trailing, tuples } => write!(
                f,
                "the feedback service at {peer} closed the connection inside a tuple: \
                 {trailing} trailing bytes after {tuples} whole tuples"
            ),
            IoFailure::FeedbackRead(e) => {
                write!(f, "reading from the feedback service at {peer} failed: {e}")
            }
        }
    }
}

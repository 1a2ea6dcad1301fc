//! The binary gateway: Apple's binary provider protocol, one thread per connection.
//!
//! Owns the per-connection loop (read, parse in place, judge, answer) and the
//! rules for what is accepted. A connection's frames are handled strictly in the
//! order written; the first rejected one ends the connection and everything after
//! it is discarded unread, as Apple does. Parsing and Apple's content rules come
//! from the core (`apns::protocol::binary`); TLS set-up and closing from
//! [`crate::stream`]; the log and the accept count from [`crate::log`]; periodic
//! faults and throttling from [`crate::faults`].

use std::collections::HashSet;
use std::io::{self, Read};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use apns::protocol::binary::{check, parse_frame, status, Command, ErrorResponse, Frame};
use apns::protocol::token::{parse_hex, BINARY_TOKEN_LEN};
use apns::protocol::Parsed;
use rustls::ServerConfig;

use crate::faults::{After, Faults, Throttle};
use crate::hostile::{self, Mode};
use crate::log::Log;
use crate::stream::{self, Ending, Tls};

/// Bytes asked of the TLS stream per read.
const READ_CHUNK: usize = 64 * 1024;
/// The largest frame the protocol can express: command 1 with a 65535-byte token
/// and a 65535-byte payload. A partial frame never needs more room than this.
const MAX_FRAME: usize = 1 + 4 + 4 + 2 + u16::MAX as usize + 2 + u16::MAX as usize;

/// Everything the gateway's connections share.
pub struct Gateway {
    tls: Arc<ServerConfig>,
    rules: Rules,
    /// `--slow-read`: bytes per second per connection.
    slow_read: Option<u64>,
    /// `--hostile MODE`: misbehave instead of serving (see [`crate::hostile`]).
    hostile: Option<Mode>,
    /// `--error-delay`: how late error responses are sent.
    error_delay: Option<Duration>,
    connections: AtomicU64,
}

/// What the gateway accepts, and what it does after accepting.
pub struct Rules {
    pub log: Log,
    pub faults: Faults,
    /// Tokens answered with status 8, besides the all-zero one.
    pub invalid_tokens: HashSet<Vec<u8>>,
    /// Parse and count only: no validation, no log (periodic faults still apply).
    pub sink: bool,
}

/// What happens to the connection after one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Accepted; read on.
    Next,
    /// Answer this error response, then close.
    Reply(ErrorResponse),
    /// Close with no reply (unparsable input, or a bad command-0 frame).
    Close,
    /// Close silently without `close_notify` (`--drop-every`).
    Drop,
}

impl Gateway {
    pub fn new(tls: Arc<ServerConfig>, rules: Rules, slow_read: Option<u64>) -> Gateway {
        Gateway {
            tls,
            rules,
            slow_read,
            hostile: None,
            error_delay: None,
            connections: AtomicU64::new(0),
        }
    }

    /// Answers error responses `delay` late, as Apple does (0.1 to 0.8 s), reading
    /// and discarding whatever the client writes meanwhile (`--error-delay`).
    pub fn with_error_delay(mut self, delay: Option<Duration>) -> Gateway {
        self.error_delay = delay;
        self
    }

    /// Makes every connection misbehave as `mode` says (`--hostile`).
    pub fn with_hostile(mut self, mode: Option<Mode>) -> Gateway {
        self.hostile = mode;
        self
    }

    /// The shared log and accept count.
    pub fn log(&self) -> &Log {
        &self.rules.log
    }

    /// Accepts connections forever, each on its own thread.
    pub fn serve(self: Arc<Self>, listener: TcpListener) {
        if self.hostile == Some(Mode::StallHandshake) {
            return hostile::serve_stalled(listener);
        }
        let gateway = Arc::clone(&self);
        stream::serve_each(
            listener,
            "binary",
            &self.connections,
            &self.tls,
            move |conn, tls| gateway.connection(conn, tls),
        );
    }

    /// One client, from handshake to close.
    fn connection(&self, conn: u64, mut tls: stream::Tls) {
        if let Some(mode) = self.hostile {
            return hostile::connection(mode, tls);
        }
        match self.frames(conn, &mut tls) {
            Ok(Verdict::Reply(response)) => {
                if let Some(delay) = self.error_delay {
                    // Apple's gateway keeps reading and discarding after a rejection;
                    // its answer arrives later.
                    stream::discard(&mut tls.sock, delay, delay);
                }
                stream::close(tls, &response.encode(), Ending::Orderly)
            }
            Ok(Verdict::Drop) => stream::close(tls, &[], Ending::Abrupt),
            Ok(Verdict::Close | Verdict::Next) => stream::close(tls, &[], Ending::Orderly),
            Err(e) => {
                if !stream::is_hang_up(&e) {
                    eprintln!("apns-sandbox: binary connection {conn}: {e}");
                }
            }
        }
    }

    /// Reads and handles frames until one ends the connection, or the client closes
    /// its side (`Ok(Verdict::Close)`). The log is flushed before every read or wait, and
    /// before the verdict is acted on, so the client's view and the file agree.
    fn frames(&self, conn: u64, tls: &mut Tls) -> io::Result<Verdict> {
        let mut buf = vec![0u8; READ_CHUNK + MAX_FRAME];
        let (mut start, mut end) = (0usize, 0usize);
        let mut throttle = self.slow_read.map(Throttle::new);
        loop {
            while start < end {
                let frame = match parse_frame(&buf[start..end]) {
                    Ok(Parsed::Complete(frame, used)) => {
                        start += used;
                        frame
                    }
                    Ok(Parsed::Partial) => break,
                    Err(_) => {
                        self.rules.log.flush();
                        return Ok(Verdict::Close);
                    }
                };
                let verdict = self.rules.judge(conn, &frame);
                if verdict != Verdict::Next {
                    self.rules.log.flush();
                    return Ok(verdict);
                }
            }
            if start == end {
                (start, end) = (0, 0);
            } else if buf.len() - end < READ_CHUNK {
                buf.copy_within(start..end, 0);
                (start, end) = (0, end - start);
            }
            self.rules.log.flush();
            let mut want = READ_CHUNK.min(buf.len() - end);
            if let Some(t) = throttle.as_mut() {
                want = t.allow(want, thread::sleep);
            }
            let n = tls.read(&mut buf[end..end + want])?;
            if n == 0 {
                return Ok(Verdict::Close);
            }
            if let Some(t) = throttle.as_mut() {
                t.took(n);
            }
            end += n;
        }
    }
}

impl Rules {
    /// Apple's answer to one parsed frame; an accepted frame is counted and logged.
    fn judge(&self, conn: u64, frame: &Frame<'_>) -> Verdict {
        let reply = |status| {
            Verdict::Reply(ErrorResponse {
                status,
                identifier: frame.identifier,
            })
        };
        let seq = if self.sink {
            // Even the sink answers the all-zero token: clients use it as a probe
            // to learn that everything before it was processed.
            if frame.token.is_some_and(|t| t.iter().all(|&b| b == 0)) {
                return reply(status::INVALID_TOKEN);
            }
            self.log.count()
        } else {
            if let Some(code) = check(frame) {
                // The simple format has no identifier to report: Apple just closes.
                return if frame.command == Command::Simple {
                    Verdict::Close
                } else {
                    reply(code)
                };
            }
            if frame.token.is_some_and(|t| self.is_invalid(t)) {
                return reply(status::INVALID_TOKEN);
            }
            self.log.accept(conn, frame)
        };
        match self.faults.after(seq) {
            After::Continue => Verdict::Next,
            After::Shutdown => reply(status::SHUTDOWN),
            After::Drop => Verdict::Drop,
        }
    }

    /// The all-zero token, or one listed in `--invalid-tokens`.
    fn is_invalid(&self, token: &[u8]) -> bool {
        token.iter().all(|&b| b == 0) || self.invalid_tokens.contains(token)
    }
}

/// Reads `--invalid-tokens`: one hex token per line (spaces, tabs and `<>`
/// ignored); blank lines and lines starting with `#` are skipped.
pub fn load_invalid_tokens(path: &Path) -> Result<HashSet<Vec<u8>>, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut tokens = HashSet::new();
    for (number, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        let token = parse_hex(line, Some(BINARY_TOKEN_LEN))
            .map_err(|e| format!("{} line {}: {e}", path.display(), number + 1))?;
        tokens.insert(token);
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use apns::protocol::binary::PRIORITY_IMMEDIATE;

    fn rules(invalid: &[[u8; 32]], faults: Faults, sink: bool) -> Rules {
        Rules {
            log: Log::open(None).unwrap(),
            faults,
            invalid_tokens: invalid.iter().map(|t| t.to_vec()).collect(),
            sink,
        }
    }

    fn frame<'a>(command: Command, token: &'a [u8], payload: &'a [u8]) -> Frame<'a> {
        Frame {
            command,
            token: Some(token),
            payload: Some(payload),
            identifier: 42,
            expiry: 0,
            priority: PRIORITY_IMMEDIATE,
        }
    }

    #[test]
    fn judges_as_apple_does() {
        let listed = [0x11u8; 32];
        let r = rules(&[listed], Faults::default(), false);
        let good = [0xabu8; 32];
        let p: &[u8] = br#"{"aps":{}}"#;
        let reply = |status| {
            Verdict::Reply(ErrorResponse {
                status,
                identifier: 42,
            })
        };
        let cases: Vec<(Frame<'_>, Verdict)> = vec![
            (frame(Command::Enhanced, &good, p), Verdict::Next),
            (frame(Command::Framed, &good, p), Verdict::Next),
            (frame(Command::Simple, &good, p), Verdict::Next),
            (frame(Command::Enhanced, &[0; 32], p), reply(8)),
            (frame(Command::Framed, &listed, p), reply(8)),
            (frame(Command::Enhanced, &good[..31], p), reply(5)),
            (frame(Command::Framed, &good, b""), reply(4)),
            (frame(Command::Simple, &good[..31], p), Verdict::Close),
            (
                Frame {
                    priority: 7,
                    ..frame(Command::Framed, &good, p)
                },
                reply(1),
            ),
            (
                Frame {
                    token: None,
                    ..frame(Command::Framed, &good, p)
                },
                reply(2),
            ),
            (
                Frame {
                    payload: Some(&[b'x'; 2049]),
                    ..frame(Command::Framed, &good, p)
                },
                reply(7),
            ),
        ];
        for (f, want) in cases {
            assert_eq!(r.judge(1, &f), want, "{f:?}");
        }
        assert_eq!(r.log.accepted(), 3);
    }

    #[test]
    fn sink_counts_without_checking_but_faults_still_apply() {
        let faults = Faults {
            shutdown_every: Some(2),
            drop_every: None,
        };
        let r = rules(&[], faults, true);
        let f = frame(Command::Enhanced, &[7; 3], b"");
        assert_eq!(r.judge(1, &f), Verdict::Next);
        let shutdown = ErrorResponse {
            status: status::SHUTDOWN,
            identifier: 42,
        };
        assert_eq!(r.judge(1, &f), Verdict::Reply(shutdown));
        assert_eq!(r.log.accepted(), 2);
        // Clients' probes (the all-zero token) are answered even by the sink.
        let probe = frame(Command::Enhanced, &[0; 32], b"{}");
        let rejected = ErrorResponse {
            status: status::INVALID_TOKEN,
            identifier: 42,
        };
        assert_eq!(r.judge(1, &probe), Verdict::Reply(rejected));
        assert_eq!(r.log.accepted(), 2);
    }

    #[test]
    fn invalid_token_list_format() {
        let dir = std::env::temp_dir().join(format!("apns-sandbox-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("invalid.txt");
        let t = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
        let spaced = t.replace("a1", "A1 ");
        std::fs::write(&path, format!("# comment\n\n{t}\r\n  <{spaced}>\n")).unwrap();
        let set = load_invalid_tokens(&path).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.contains(&hex::decode(t).unwrap()));
        std::fs::write(&path, "abcd\n").unwrap();
        let err = load_invalid_tokens(&path).unwrap_err();
        assert!(err.contains("line 1"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

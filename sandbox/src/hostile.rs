//! `--hostile MODE`: a binary gateway that misbehaves on purpose, to test that a
//! client stays within its memory bound and its `timeout` and says what went wrong.
//!
//! Owns the five misbehaviours (see [`Mode`] and docs/sandbox-cli.md). Every
//! connection gets the same treatment; nothing is ever accepted or logged, so a
//! client must report every notification as undelivered. TLS set-up and the
//! orderly close come from [`crate::stream`]; frame parsing from the core.
//! A hostile connection holds its thread at most [`HOLD`] (the client going away
//! ends it sooner).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use apns::protocol::binary::{parse_frame, status, ErrorResponse};
use apns::protocol::Parsed;

use crate::stream::{self, Ending, Tls};

/// What `garbage` answers to the first frame: plainly not the binary protocol.
pub const GARBAGE: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\r\n";
/// The identifier `unknown-id` names: far beyond anything a test sends.
pub const UNKNOWN_ID: u32 = 0x7fff_ffff;
/// What `stall-record` writes raw to the socket: the first 3 of a TLS record
/// header's 5 bytes (application data, TLS 1.2), then nothing.
pub const PARTIAL_RECORD: [u8; 3] = [0x17, 0x03, 0x03];
/// `endless` sends this many bytes per [`ENDLESS_TICK`] (4 MiB/s).
const ENDLESS_CHUNK: usize = 64 * 1024;
const ENDLESS_TICK: Duration = Duration::from_millis(16);
/// The longest a hostile connection keeps its thread.
const HOLD: Duration = Duration::from_secs(120);
/// A client that stops reading the endless stream is given up on after this.
const WRITE_STALL: Duration = Duration::from_secs(5);

/// The misbehaviour of `--hostile MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers the first frame with [`GARBAGE`] and keeps the connection open.
    Garbage,
    /// After the first frame, streams pseudo-random bytes (never starting with
    /// an error response's 8) at 4 MiB/s until the client goes away.
    Endless,
    /// Answers the first frame with status 8 for [`UNKNOWN_ID`], then closes.
    UnknownId,
    /// Accepts TCP, reads the ClientHello, never answers.
    StallHandshake,
    /// Completes the handshake, reads one frame, writes [`PARTIAL_RECORD`] and goes silent.
    StallRecord,
}

impl Mode {
    pub const NAMES: &'static str = "garbage, endless, unknown-id, stall-handshake, stall-record";

    pub fn parse(text: &str) -> Result<Mode, String> {
        Ok(match text {
            "garbage" => Mode::Garbage,
            "endless" => Mode::Endless,
            "unknown-id" => Mode::UnknownId,
            "stall-handshake" => Mode::StallHandshake,
            "stall-record" => Mode::StallRecord,
            other => {
                return Err(format!(
                    "--hostile wants one of {}, not {other:?}",
                    Mode::NAMES
                ))
            }
        })
    }
}

/// `stall-handshake`: accepts forever; each connection's ClientHello is read and
/// never answered, and the socket is held until the client closes.
pub fn serve_stalled(listener: TcpListener) {
    for sock in listener.incoming() {
        let Ok(sock) = sock else {
            thread::sleep(Duration::from_millis(50));
            continue;
        };
        let spawned = thread::Builder::new()
            .name("hostile-stall".into())
            .spawn(move || hold(sock));
        if let Err(e) = spawned {
            eprintln!("apns-sandbox: hostile: cannot start a thread: {e}");
        }
    }
}

/// One handshaken connection in `mode` (not `stall-handshake`, which never gets here).
pub fn connection(mode: Mode, tls: Tls) {
    let mut tls = tls;
    match first_frame(&mut tls) {
        Ok(true) => {}
        Ok(false) => return stream::close(tls, &[], Ending::Orderly),
        Err(_) => return,
    }
    match mode {
        Mode::Garbage => {
            if tls.write_all(GARBAGE).and_then(|()| tls.flush()).is_ok() {
                hold(tls.sock);
            }
        }
        Mode::Endless => endless(&mut tls),
        Mode::UnknownId => {
            let response = ErrorResponse {
                status: status::INVALID_TOKEN,
                identifier: UNKNOWN_ID,
            };
            stream::close(tls, &response.encode(), Ending::Orderly);
        }
        Mode::StallRecord => {
            if tls.sock.write_all(&PARTIAL_RECORD).is_ok() {
                hold(tls.sock);
            }
        }
        Mode::StallHandshake => {}
    }
}

/// Reads until one whole frame has arrived (`true`), or the input cannot be a
/// frame or the client closes (`false`). Bytes after the frame are ignored.
fn first_frame(tls: &mut Tls) -> io::Result<bool> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    tls.sock.set_read_timeout(Some(HOLD))?;
    loop {
        match parse_frame(&buf) {
            Ok(Parsed::Complete(..)) => return Ok(true),
            Ok(Parsed::Partial) => {}
            Err(_) => return Ok(false),
        }
        let n = tls.read(&mut chunk)?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Pseudo-random bytes at 4 MiB/s until a write fails (the client closed, or
/// stopped reading for [`WRITE_STALL`]) or [`HOLD`] passes.
fn endless(tls: &mut Tls) {
    if tls.sock.set_write_timeout(Some(WRITE_STALL)).is_err() {
        return;
    }
    let mut chunk = vec![0u8; ENDLESS_CHUNK];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let started = Instant::now();
    while started.elapsed() < HOLD {
        for byte in chunk.iter_mut() {
            // xorshift64: cheap, and enough to be "not the protocol".
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = (state >> 56) as u8;
        }
        if let Some(first) = chunk.first_mut() {
            if *first == 8 {
                *first = 0xff;
            }
        }
        if tls.write_all(&chunk).and_then(|()| tls.flush()).is_err() {
            return;
        }
        thread::sleep(ENDLESS_TICK);
    }
    let _ = tls.sock.shutdown(Shutdown::Both);
}

/// Reads and discards raw bytes, never answering, until the client closes or
/// [`HOLD`] passes.
fn hold(mut sock: TcpStream) {
    stream::discard(&mut sock, HOLD, HOLD);
    let _ = sock.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_mode_and_refuses_others() {
        for (name, mode) in [
            ("garbage", Mode::Garbage),
            ("endless", Mode::Endless),
            ("unknown-id", Mode::UnknownId),
            ("stall-handshake", Mode::StallHandshake),
            ("stall-record", Mode::StallRecord),
        ] {
            assert_eq!(Mode::parse(name), Ok(mode));
        }
        let err = Mode::parse("nice").unwrap_err();
        assert!(err.contains("garbage") && err.contains("\"nice\""), "{err}");
    }

    #[test]
    fn the_canned_answers_are_not_the_protocol() {
        // An error response starts with 8; neither canned answer does.
        assert_ne!(GARBAGE[0], 8);
        assert_eq!(
            PARTIAL_RECORD.len(),
            3,
            "less than a record header (5 bytes)"
        );
        let response = ErrorResponse {
            status: status::INVALID_TOKEN,
            identifier: UNKNOWN_ID,
        };
        assert_eq!(response.encode(), [8, 8, 0x7f, 0xff, 0xff, 0xff]);
    }
}

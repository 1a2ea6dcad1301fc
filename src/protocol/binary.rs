//! The binary provider protocol: notification frames and error responses.
//!
//! Three frame layouts exist (all integers big-endian):
//!
//! | command | layout |
//! | --- | --- |
//! | 0 simple | `0`, token len u16, token, payload len u16, payload |
//! | 1 enhanced | `1`, identifier u32, expiry u32, token len u16, token, payload len u16, payload |
//! | 2 framed | `2`, frame len u32, items: id u8, len u16, data |
//!
//! Command 2 items: 1 token, 2 payload, 3 identifier (4 bytes), 4 expiry (4), 5 priority (1).
//! The gateway answers only errors, with a 6-byte packet: `8`, status u8, identifier u32.
//!
//! Parsing is structural ([`parse_frame`]): it splits bytes into fields and says
//! [`Parsed::Partial`] when more are needed. Apple's content rules (token size,
//! payload size, missing items) are a separate step ([`check`]) so that the
//! sandbox can answer exactly as Apple does, with the matching status.

pub use super::Parsed;
use super::{payload::BINARY_MAX_PAYLOAD, token::BINARY_TOKEN_LEN};

/// The frame layouts of the binary protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Command 0: token and payload only; errors are not reported, the gateway just closes.
    Simple = 0,
    /// Command 1: adds an identifier (echoed in error responses) and an expiry.
    Enhanced = 1,
    /// Command 2: a list of items, adding the priority.
    Framed = 2,
}

impl Command {
    /// The command for a byte, if it is one of the three.
    pub fn from_byte(b: u8) -> Option<Command> {
        match b {
            0 => Some(Command::Simple),
            1 => Some(Command::Enhanced),
            2 => Some(Command::Framed),
            _ => None,
        }
    }
}

/// Priority 10: deliver now (assumed for commands 0 and 1).
pub const PRIORITY_IMMEDIATE: u8 = 10;
/// Priority 5: deliver at a time that saves power.
pub const PRIORITY_POWER_SAVING: u8 = 5;

/// The command byte of an error response.
pub const ERROR_RESPONSE_COMMAND: u8 = 8;
/// The size of an error response.
pub const ERROR_RESPONSE_LEN: usize = 6;

/// The largest command-2 frame body accepted: every item at its largest, with room
/// to spare. Anything larger is not a frame Apple would take, and refusing it bounds
/// the memory a bad length field can make us wait for.
pub const MAX_FRAME_BODY: u32 = 8192;

/// Status codes of error responses, as Apple numbers them.
pub mod status {
    pub const NO_ERRORS: u8 = 0;
    pub const PROCESSING_ERROR: u8 = 1;
    pub const MISSING_DEVICE_TOKEN: u8 = 2;
    pub const MISSING_TOPIC: u8 = 3;
    pub const MISSING_PAYLOAD: u8 = 4;
    pub const INVALID_TOKEN_SIZE: u8 = 5;
    pub const INVALID_TOPIC_SIZE: u8 = 6;
    pub const INVALID_PAYLOAD_SIZE: u8 = 7;
    pub const INVALID_TOKEN: u8 = 8;
    pub const SHUTDOWN: u8 = 10;
    pub const PROTOCOL_ERROR: u8 = 128;
    pub const UNKNOWN: u8 = 255;
}

/// Apple's wording for a status code; unknown codes are kept as numbers by the
/// caller, and read "Unknown status" here.
pub fn status_reason(code: u8) -> &'static str {
    match code {
        status::NO_ERRORS => "No errors encountered",
        status::PROCESSING_ERROR => "Processing error",
        status::MISSING_DEVICE_TOKEN => "Missing device token",
        status::MISSING_TOPIC => "Missing topic",
        status::MISSING_PAYLOAD => "Missing payload",
        status::INVALID_TOKEN_SIZE => "Invalid token size",
        status::INVALID_TOPIC_SIZE => "Invalid topic size",
        status::INVALID_PAYLOAD_SIZE => "Invalid payload size",
        status::INVALID_TOKEN => "Invalid token",
        status::SHUTDOWN => "Shutdown",
        status::PROTOCOL_ERROR => "Protocol error",
        status::UNKNOWN => "None (unknown)",
        _ => "Unknown status",
    }
}

/// One notification as it stands in a frame, borrowing from the frame's bytes.
///
/// `token` and `payload` are `None` only when a command-2 frame lacks the item;
/// commands 0 and 1 always carry both (possibly empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub command: Command,
    pub token: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
    /// 0 for command 0, which has none, and for a command-2 frame without item 3.
    pub identifier: u32,
    /// Unix seconds; 0 means "do not store". 0 for command 0.
    pub expiry: u32,
    /// 10 unless a command-2 frame says otherwise.
    pub priority: u8,
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The first byte is not 0, 1 or 2. Apple closes the connection without a reply.
    UnknownCommand(u8),
    /// The lengths do not add up, or an item has the wrong size.
    Malformed(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::UnknownCommand(b) => {
                write!(f, "unknown command byte {b} (frames start with 0, 1 or 2)")
            }
            FrameError::Malformed(m) => f.write_str(m),
        }
    }
}

/// A big-endian cursor over a byte slice; `None` means "not enough bytes yet".
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        self.array().map(|[b]: [u8; 1]| b)
    }
    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }
}

/// Parses one frame from the start of `buf`.
pub fn parse_frame(buf: &[u8]) -> Result<Parsed<Frame<'_>>, FrameError> {
    let Some(&first) = buf.first() else {
        return Ok(Parsed::Partial);
    };
    let command = Command::from_byte(first).ok_or(FrameError::UnknownCommand(first))?;
    let mut c = Cursor { buf, pos: 1 };
    let parsed = match command {
        Command::Simple | Command::Enhanced => parse_flat(command, &mut c),
        Command::Framed => return parse_framed(&mut c),
    };
    Ok(match parsed {
        Some(frame) => Parsed::Complete(frame, c.pos),
        None => Parsed::Partial,
    })
}

fn parse_flat<'a>(command: Command, c: &mut Cursor<'a>) -> Option<Frame<'a>> {
    let (identifier, expiry) = if command == Command::Enhanced {
        (c.u32()?, c.u32()?)
    } else {
        (0, 0)
    };
    let token_len = c.u16()?;
    let token = c.take(usize::from(token_len))?;
    let payload_len = c.u16()?;
    let payload = c.take(usize::from(payload_len))?;
    Some(Frame {
        command,
        token: Some(token),
        payload: Some(payload),
        identifier,
        expiry,
        priority: PRIORITY_IMMEDIATE,
    })
}

fn parse_framed<'a>(c: &mut Cursor<'a>) -> Result<Parsed<Frame<'a>>, FrameError> {
    let Some(body_len) = c.u32() else {
        return Ok(Parsed::Partial);
    };
    if body_len > MAX_FRAME_BODY {
        return Err(FrameError::Malformed(format!(
            "command 2 frame length {body_len} is over the {MAX_FRAME_BODY}-byte maximum"
        )));
    }
    let Some(body) = c.take(body_len as usize) else {
        return Ok(Parsed::Partial);
    };
    let mut frame = Frame {
        command: Command::Framed,
        token: None,
        payload: None,
        identifier: 0,
        expiry: 0,
        priority: PRIORITY_IMMEDIATE,
    };
    let mut items = Cursor { buf: body, pos: 0 };
    while items.pos < body.len() {
        let (Some(id), Some(len)) = (items.u8(), items.u16()) else {
            return Err(FrameError::Malformed(
                "command 2 frame ends inside an item header".into(),
            ));
        };
        let Some(data) = items.take(usize::from(len)) else {
            return Err(FrameError::Malformed(format!(
                "command 2 item {id} claims {len} bytes, more than the frame holds"
            )));
        };
        // Items 3, 4 and 5 have fixed sizes.
        let fixed = |want: usize| -> FrameError {
            FrameError::Malformed(format!(
                "command 2 item {id} is {} bytes, it must be {want}",
                data.len()
            ))
        };
        match id {
            1 => frame.token = Some(data),
            2 => frame.payload = Some(data),
            3 => {
                frame.identifier = u32::from_be_bytes(data.try_into().map_err(|_| fixed(4))?);
            }
            4 => {
                frame.expiry = u32::from_be_bytes(data.try_into().map_err(|_| fixed(4))?);
            }
            5 => {
                let [priority]: [u8; 1] = data.try_into().map_err(|_| fixed(1))?;
                frame.priority = priority;
            }
            other => {
                return Err(FrameError::Malformed(format!(
                    "command 2 item id {other} is not one of 1 to 5"
                )))
            }
        }
    }
    Ok(Parsed::Complete(frame, c.pos))
}

/// Apple's content rules for a parsed frame: the status the gateway would answer,
/// or `None` when it would accept the notification.
pub fn check(frame: &Frame<'_>) -> Option<u8> {
    let Some(token) = frame.token.filter(|t| !t.is_empty()) else {
        return Some(status::MISSING_DEVICE_TOKEN);
    };
    if token.len() != BINARY_TOKEN_LEN {
        return Some(status::INVALID_TOKEN_SIZE);
    }
    let Some(payload) = frame.payload.filter(|p| !p.is_empty()) else {
        return Some(status::MISSING_PAYLOAD);
    };
    if payload.len() > BINARY_MAX_PAYLOAD {
        return Some(status::INVALID_PAYLOAD_SIZE);
    }
    if frame.priority != PRIORITY_IMMEDIATE && frame.priority != PRIORITY_POWER_SAVING {
        return Some(status::PROCESSING_ERROR);
    }
    None
}

/// Appends the frame's bytes to `out`, in the layout of `frame.command`.
///
/// Tokens and payloads must fit their u16 length fields (callers validate first;
/// the payload limit is far below). Command 2 writes items 1 to 5 in order.
pub fn encode(frame: &Frame<'_>, out: &mut Vec<u8>) {
    let token = frame.token.unwrap_or_default();
    let payload = frame.payload.unwrap_or_default();
    let token_len = u16::try_from(token.len()).unwrap_or(u16::MAX);
    let payload_len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    out.push(frame.command as u8);
    match frame.command {
        Command::Simple | Command::Enhanced => {
            if frame.command == Command::Enhanced {
                out.extend_from_slice(&frame.identifier.to_be_bytes());
                out.extend_from_slice(&frame.expiry.to_be_bytes());
            }
            out.extend_from_slice(&token_len.to_be_bytes());
            out.extend_from_slice(token.get(..usize::from(token_len)).unwrap_or(token));
            out.extend_from_slice(&payload_len.to_be_bytes());
            out.extend_from_slice(payload.get(..usize::from(payload_len)).unwrap_or(payload));
        }
        Command::Framed => {
            // Five copies with the fixed parts assembled on the stack, one
            // reservation: the hot path of `sendMany` (an item at a time, each
            // with its own small copies, was a tenth of its time).
            let token = token.get(..usize::from(token_len)).unwrap_or(token);
            let payload = payload.get(..usize::from(payload_len)).unwrap_or(payload);
            let body = 3 + token.len() + 3 + payload.len() + 7 + 7 + 4;
            out.reserve(4 + body);
            let [b0, b1, b2, b3] = (body as u32).to_be_bytes();
            let [t0, t1] = token_len.to_be_bytes();
            out.extend_from_slice(&[b0, b1, b2, b3, 1, t0, t1]);
            out.extend_from_slice(token);
            let [p0, p1] = payload_len.to_be_bytes();
            out.extend_from_slice(&[2, p0, p1]);
            out.extend_from_slice(payload);
            let [i0, i1, i2, i3] = frame.identifier.to_be_bytes();
            let [e0, e1, e2, e3] = frame.expiry.to_be_bytes();
            out.extend_from_slice(&[
                3,
                0,
                4,
                i0,
                i1,
                i2,
                i3,
                4,
                0,
                4,
                e0,
                e1,
                e2,
                e3,
                5,
                0,
                1,
                frame.priority,
            ]);
        }
    }
}

/// Splits `bytes` into whole frames and checks each as the gateway would: the
/// path of `write()`, which takes all the frames or none.
pub fn parse_frames(bytes: &[u8]) -> crate::Result<Vec<Frame<'_>>> {
    let mut frames = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let number = frames.len() + 1;
        let offset = bytes.len() - rest.len();
        match parse_frame(rest) {
            Ok(Parsed::Complete(frame, used)) => {
                if let Some(code) = check(&frame) {
                    return Err(crate::Error::InvalidFrame(format!(
                        "frame {number} (at byte {offset}) would be rejected by the gateway: {} (status {code}); nothing was written",
                        status_reason(code)
                    )));
                }
                frames.push(frame);
                rest = rest.get(used..).unwrap_or_default();
            }
            Ok(Parsed::Partial) => {
                return Err(crate::Error::InvalidFrame(format!(
                    "frame {number} (at byte {offset}) is incomplete: {} byte(s) of a frame; write() takes whole frames; nothing was written",
                    rest.len()
                )))
            }
            Err(e) => {
                return Err(crate::Error::InvalidFrame(format!(
                    "frame {number} (at byte {offset}) is not a notification frame: {e}; nothing was written"
                )))
            }
        }
    }
    if frames.is_empty() {
        return Err(crate::Error::InvalidFrame(
            "write() was given an empty string".into(),
        ));
    }
    Ok(frames)
}

/// The gateway's answer to a rejected notification (command 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorResponse {
    pub status: u8,
    pub identifier: u32,
}

impl ErrorResponse {
    /// The six bytes on the wire.
    pub fn encode(&self) -> [u8; ERROR_RESPONSE_LEN] {
        let id = self.identifier.to_be_bytes();
        [
            ERROR_RESPONSE_COMMAND,
            self.status,
            id[0],
            id[1],
            id[2],
            id[3],
        ]
    }

    /// Parses one error response from the start of `buf`. A first byte other than 8
    /// means the peer is not speaking the protocol.
    pub fn parse(buf: &[u8]) -> Result<Parsed<ErrorResponse>, FrameError> {
        match buf {
            [] => Ok(Parsed::Partial),
            [ERROR_RESPONSE_COMMAND, status, a, b, c, d, ..] => Ok(Parsed::Complete(
                ErrorResponse {
                    status: *status,
                    identifier: u32::from_be_bytes([*a, *b, *c, *d]),
                },
                ERROR_RESPONSE_LEN,
            )),
            [ERROR_RESPONSE_COMMAND, ..] => Ok(Parsed::Partial),
            [other, ..] => Err(FrameError::Malformed(format!(
                "the gateway sent byte {other}, not an error response (command 8)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: [u8; 32] = [0xab; 32];
    const PAYLOAD: &[u8] = br#"{"aps":{"alert":"hi"}}"#;

    fn frame(command: Command) -> Frame<'static> {
        Frame {
            command,
            token: Some(&TOKEN),
            payload: Some(PAYLOAD),
            identifier: 0x01020304,
            expiry: 0x0a0b0c0d,
            priority: 5,
        }
    }

    /// The bytes the seed code builds with PHP's pack(), spelled out by hand.
    fn seed_enhanced() -> Vec<u8> {
        let mut v = vec![1, 1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0, 32];
        v.extend_from_slice(&TOKEN);
        v.extend_from_slice(&[0, PAYLOAD.len() as u8]);
        v.extend_from_slice(PAYLOAD);
        v
    }

    #[test]
    fn encodes_each_command_byte_for_byte() {
        let mut simple = vec![0, 0, 32];
        simple.extend_from_slice(&TOKEN);
        simple.extend_from_slice(&[0, PAYLOAD.len() as u8]);
        simple.extend_from_slice(PAYLOAD);

        let mut framed = vec![2];
        let body_len = 3 + 32 + 3 + PAYLOAD.len() + 7 + 7 + 4;
        framed.extend_from_slice(&(body_len as u32).to_be_bytes());
        framed.extend_from_slice(&[1, 0, 32]);
        framed.extend_from_slice(&TOKEN);
        framed.extend_from_slice(&[2, 0, PAYLOAD.len() as u8]);
        framed.extend_from_slice(PAYLOAD);
        framed.extend_from_slice(&[
            3, 0, 4, 1, 2, 3, 4, 4, 0, 4, 0x0a, 0x0b, 0x0c, 0x0d, 5, 0, 1, 5,
        ]);

        for (command, want) in [
            (Command::Simple, simple),
            (Command::Enhanced, seed_enhanced()),
            (Command::Framed, framed),
        ] {
            let mut out = Vec::new();
            encode(&frame(command), &mut out);
            assert_eq!(out, want, "{command:?}");
        }
    }

    #[test]
    fn parse_reverses_encode_and_reports_length() {
        for command in [Command::Simple, Command::Enhanced, Command::Framed] {
            let mut out = Vec::new();
            encode(&frame(command), &mut out);
            out.extend_from_slice(b"next");
            let Ok(Parsed::Complete(parsed, used)) = parse_frame(&out) else {
                panic!("{command:?} did not parse");
            };
            assert_eq!(used, out.len() - 4);
            let mut expected = frame(command);
            if command == Command::Simple {
                expected.identifier = 0;
                expected.expiry = 0;
            }
            if command != Command::Framed {
                expected.priority = PRIORITY_IMMEDIATE;
            }
            assert_eq!(parsed, expected);
        }
    }

    #[test]
    fn every_proper_prefix_is_partial() {
        for command in [Command::Simple, Command::Enhanced, Command::Framed] {
            let mut out = Vec::new();
            encode(&frame(command), &mut out);
            for cut in 0..out.len() {
                assert_eq!(
                    parse_frame(&out[..cut]),
                    Ok(Parsed::Partial),
                    "{command:?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn malformed_frames_are_refused_with_a_reason() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![7, 0, 0], "unknown command byte 7"),
            (vec![2, 0, 1, 0, 0], "over the 8192-byte maximum"),
            (vec![2, 0, 0, 0, 2, 1, 0], "ends inside an item header"),
            (vec![2, 0, 0, 0, 4, 1, 0, 9, 0], "claims 9 bytes"),
            (
                vec![2, 0, 0, 0, 5, 3, 0, 2, 0, 0],
                "item 3 is 2 bytes, it must be 4",
            ),
            (vec![2, 0, 0, 0, 4, 9, 0, 1, 0], "item id 9"),
        ];
        for (bytes, want) in cases {
            let err = parse_frame(&bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{bytes:?}: {err}");
        }
    }

    #[test]
    fn framed_items_in_any_order_and_missing_ones() {
        let body = [5u8, 0, 1, 10, 3, 0, 4, 0, 0, 0, 9];
        let mut bytes = vec![2, 0, 0, 0, body.len() as u8];
        bytes.extend_from_slice(&body);
        let Ok(Parsed::Complete(f, _)) = parse_frame(&bytes) else {
            panic!("not parsed")
        };
        assert_eq!(
            (f.identifier, f.priority, f.token, f.payload),
            (9, 10, None, None)
        );
        assert_eq!(check(&f), Some(status::MISSING_DEVICE_TOKEN));
    }

    #[test]
    fn check_applies_apples_rules() {
        let short = [1u8; 31];
        let big = vec![b'x'; BINARY_MAX_PAYLOAD + 1];
        let cases: Vec<(Frame<'_>, Option<u8>)> = vec![
            (frame(Command::Framed), None),
            (
                Frame {
                    token: Some(&short),
                    ..frame(Command::Enhanced)
                },
                Some(status::INVALID_TOKEN_SIZE),
            ),
            (
                Frame {
                    token: Some(&[]),
                    ..frame(Command::Enhanced)
                },
                Some(status::MISSING_DEVICE_TOKEN),
            ),
            (
                Frame {
                    payload: None,
                    ..frame(Command::Framed)
                },
                Some(status::MISSING_PAYLOAD),
            ),
            (
                Frame {
                    payload: Some(&big),
                    ..frame(Command::Framed)
                },
                Some(status::INVALID_PAYLOAD_SIZE),
            ),
            (
                Frame {
                    priority: 7,
                    ..frame(Command::Framed)
                },
                Some(status::PROCESSING_ERROR),
            ),
        ];
        for (f, want) in cases {
            assert_eq!(check(&f), want, "{f:?}");
        }
    }

    #[test]
    fn error_responses_round_trip_and_partial() {
        let r = ErrorResponse {
            status: status::INVALID_TOKEN,
            identifier: 0xdeadbeef,
        };
        let bytes = r.encode();
        assert_eq!(bytes, [8, 8, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(ErrorResponse::parse(&bytes), Ok(Parsed::Complete(r, 6)));
        for cut in 0..6 {
            assert_eq!(ErrorResponse::parse(&bytes[..cut]), Ok(Parsed::Partial));
        }
        assert!(ErrorResponse::parse(b"HTTP/1.1").is_err());
    }

    #[test]
    fn reasons_for_every_status() {
        assert_eq!(status_reason(8), "Invalid token");
        assert_eq!(status_reason(10), "Shutdown");
        assert_eq!(status_reason(128), "Protocol error");
        assert_eq!(status_reason(255), "None (unknown)");
        assert_eq!(status_reason(42), "Unknown status");
    }
}

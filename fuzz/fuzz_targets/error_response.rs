//! What the gateway sends back: `ErrorResponse::parse` on arbitrary bytes, then the
//! same bytes fed in chunks as `Sender::read_available` does (append to the inbox,
//! parse, clear on a response or on garbage), and every response applied to a
//! resend window holding notifications, as `Sender::on_error_response` does:
//! identifiers never sent, shutdowns, probes and garbage included.
//!
//! Input: byte 0 shapes the window and the chunk sizes, the rest is the stream.
#![no_main]

use apns::protocol::binary::{
    self, ErrorResponse, Frame, Parsed, ERROR_RESPONSE_COMMAND, ERROR_RESPONSE_LEN,
};
use apns::sender::window::{Outcome, Window};
use libfuzzer_sys::fuzz_target;

const TOKEN: [u8; 32] = [0x5a; 32];
const PAYLOAD: &[u8] = br#"{"aps":{"alert":"fuzz"}}"#;

/// What the stream did, chunk by chunk.
enum Event {
    Response(ErrorResponse),
    Garbage,
}

/// The inbox logic of `Sender::read_available`, over `stream` cut in chunks.
fn feed(stream: &[u8], mut seed: u32) -> Vec<Event> {
    let mut events = Vec::new();
    let mut inbox: Vec<u8> = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        // xorshift: chunk sizes 1..=512 (the sender reads 512 bytes at most).
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed as usize % 512 + 1).min(rest.len());
        let (chunk, after) = rest.split_at(n);
        rest = after;
        inbox.extend_from_slice(chunk);
        match ErrorResponse::parse(&inbox) {
            Ok(Parsed::Complete(response, used)) => {
                assert_eq!(used, ERROR_RESPONSE_LEN);
                assert_eq!(&response.encode()[..], &inbox[..ERROR_RESPONSE_LEN]);
                inbox.clear();
                events.push(Event::Response(response));
            }
            Ok(Parsed::Partial) => {
                // The inbox never grows past one error response.
                assert!(
                    inbox.len() < ERROR_RESPONSE_LEN,
                    "inbox {} bytes",
                    inbox.len()
                );
                assert_eq!(inbox[0], ERROR_RESPONSE_COMMAND);
            }
            Err(e) => {
                let _ = e.to_string();
                inbox.clear();
                events.push(Event::Garbage);
            }
        }
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, stream)) = data.split_first() else {
        return;
    };

    // One shot.
    let whole = ErrorResponse::parse(stream);
    match &whole {
        Ok(Parsed::Complete(r, 6)) => {
            assert_eq!(&r.encode()[..], &stream[..6]);
        }
        Ok(Parsed::Complete(_, used)) => panic!("an error response of {used} bytes"),
        Ok(Parsed::Partial) => {
            assert!(stream.is_empty() || (stream[0] == 8 && stream.len() < 6));
        }
        Err(_) => assert_ne!(stream[0], ERROR_RESPONSE_COMMAND),
    }

    // In chunks: the first event agrees with the one-shot parse.
    let events = feed(stream, u32::from(ctl).wrapping_mul(2_654_435_761) | 1);
    match (events.first(), &whole) {
        (Some(Event::Response(r)), Ok(Parsed::Complete(w, _))) => assert_eq!(r, w),
        (Some(Event::Garbage), Err(_)) | (None, Ok(Parsed::Partial)) => {}
        _ => panic!("chunked and one-shot parsing disagree"),
    }

    // The window: `ctl % 64` notifications, a probe after every `ctl / 64 + 1`,
    // written up to a point; each response applied as the sender does.
    let mut window = Window::new();
    let count = usize::from(ctl % 64);
    let every = usize::from(ctl / 64) + 1;
    for i in 0..count {
        let frame = Frame {
            command: binary::Command::Framed,
            token: Some(&TOKEN),
            payload: Some(PAYLOAD),
            identifier: i as u32,
            expiry: 0,
            priority: binary::PRIORITY_IMMEDIATE,
        };
        window.push(&frame, 1000 + i as u32);
        if (i + 1) % every == 0 {
            window.push_probe();
        }
    }
    let unwritten = window.unwritten().len();
    window.advance(unwritten / 2 + usize::from(ctl));
    for event in &events {
        let (len, bytes) = (window.len(), window.bytes());
        match event {
            Event::Response(r) => match window.apply(r.status, r.identifier) {
                Outcome::Unknown => {
                    assert_eq!((window.len(), window.bytes()), (len, bytes));
                }
                Outcome::Rejected { user_id, frame, .. } => {
                    assert!(window.len() < len);
                    assert!((1000..1064).contains(&user_id));
                    let Ok(Parsed::Complete(f, used)) = binary::parse_frame(&frame) else {
                        panic!("a rejected notification's bytes are not a frame");
                    };
                    assert_eq!(used, frame.len());
                    assert_eq!(f.identifier, r.identifier, "the frame the response named");
                    assert_eq!(binary::check(&f), None);
                }
                Outcome::Delivered { user_id } => {
                    assert!(window.len() < len || user_id == 0);
                }
                Outcome::ProbeConfirmed => assert!(window.len() <= len),
            },
            // Garbage: the connection is dropped, resent in probe-checked segments.
            Event::Garbage => {
                window.rebuild_with_probes(usize::from(ctl % 7));
                assert_eq!(window.len(), len);
            }
        }
        window.rewind();
        let unwritten = window.unwritten().len();
        window.advance(unwritten);
    }
    let left = window.len();
    let drained = window.drain_notifications();
    assert_eq!(drained.len(), left);
    for (_, frame) in drained {
        assert!(
            matches!(binary::parse_frame(&frame), Ok(Parsed::Complete(_, n)) if n == frame.len())
        );
    }
    assert!(window.is_empty() && window.bytes() == 0);
});

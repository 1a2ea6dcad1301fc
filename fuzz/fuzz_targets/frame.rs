//! `binary::parse_frame` on arbitrary bytes, then `check`, then the round trip:
//! whatever parses re-encodes (`binary::encode`) to a frame that parses to the
//! same fields, and commands 0 and 1 re-encode byte for byte.
#![no_main]

use apns::protocol::binary::{self, Command, Frame, Parsed, MAX_FRAME_BODY};
use libfuzzer_sys::fuzz_target;

/// The fields `encode` writes: a missing command-2 item is written empty.
fn fields<'a>(f: &Frame<'a>) -> (Command, &'a [u8], &'a [u8], u32, u32, u8) {
    (
        f.command,
        f.token.unwrap_or_default(),
        f.payload.unwrap_or_default(),
        f.identifier,
        f.expiry,
        f.priority,
    )
}

fuzz_target!(|data: &[u8]| {
    match binary::parse_frame(data) {
        Ok(Parsed::Complete(frame, used)) => {
            assert!(
                used > 0 && used <= data.len(),
                "used {used} of {}",
                data.len()
            );
            // The frame is the prefix: parsing just those bytes gives the same.
            assert_eq!(
                binary::parse_frame(&data[..used]),
                Ok(Parsed::Complete(frame, used))
            );
            // One byte less is not a frame yet.
            assert_eq!(binary::parse_frame(&data[..used - 1]), Ok(Parsed::Partial));
            if frame.command == Command::Simple {
                assert_eq!((frame.identifier, frame.expiry), (0, 0));
            }
            if frame.command != Command::Framed {
                assert_eq!(frame.priority, binary::PRIORITY_IMMEDIATE);
                assert!(frame.token.is_some() && frame.payload.is_some());
            }
            let verdict = binary::check(&frame);

            let mut out = Vec::new();
            binary::encode(&frame, &mut out);
            let Ok(Parsed::Complete(again, again_used)) = binary::parse_frame(&out) else {
                panic!("encode gave bytes that do not parse: {out:02x?}");
            };
            assert_eq!(again_used, out.len());
            assert_eq!(fields(&again), fields(&frame));
            assert_eq!(binary::check(&again), verdict);
            if frame.command != Command::Framed {
                assert_eq!(out.as_slice(), &data[..used]);
            }
        }
        Ok(Parsed::Partial) => {
            // Waiting for more is bounded: a command-2 frame never asks for more
            // than its maximum, commands 0 and 1 for more than two u16 lengths.
            let bound = match data.first().copied().and_then(Command::from_byte) {
                // Only the empty input waits without a command byte.
                None => 1,
                Some(Command::Framed) => 5 + MAX_FRAME_BODY as usize,
                Some(Command::Enhanced) => 1 + 8 + 2 * (2 + usize::from(u16::MAX)),
                Some(Command::Simple) => 1 + 2 * (2 + usize::from(u16::MAX)),
            };
            assert!(data.len() < bound, "Partial with {} bytes", data.len());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

//! The path of `ApnsConnection::write()`: `binary::parse_frames` (whole frames,
//! each checked as Apple would, nothing accepted unless all are), then the
//! accepted frames queued in the resend window as `Sender::enqueue` does.
#![no_main]

use apns::protocol::binary::{self, Command, Parsed};
use apns::sender::window::Window;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let frames = match binary::parse_frames(data) {
        Ok(frames) => frames,
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains("nothing was written") || data.is_empty());
            return;
        }
    };
    // Every accepted frame is whole and valid: each takes at least a header,
    // a 32-byte token and a payload byte.
    assert!(frames.len() * (1 + 2 + 32 + 2 + 1) <= data.len());
    let mut window = Window::new();
    let mut next_default = 1u32;
    for frame in &frames {
        assert_eq!(binary::check(frame), None);
        let identifier = if frame.command == Command::Simple {
            next_default = next_default.wrapping_add(1);
            next_default
        } else {
            frame.identifier
        };
        window.push(frame, identifier);
    }
    assert_eq!(window.len(), frames.len());
    // The window holds every frame re-encoded with its wire identifier (command 0
    // as command 1): it parses back into the same notifications.
    let mut queued = window.unwritten();
    let mut count = 0;
    while !queued.is_empty() {
        let Ok(Parsed::Complete(wire, used)) = binary::parse_frame(queued) else {
            panic!("the window holds bytes that are not a frame");
        };
        let original = &frames[count];
        assert_eq!(binary::check(&wire), None);
        assert_eq!(
            (wire.token, wire.payload),
            (original.token, original.payload)
        );
        assert_eq!(
            wire.identifier as usize,
            count + 1,
            "wire identifiers are sequence numbers"
        );
        queued = &queued[used..];
        count += 1;
    }
    assert_eq!(count, frames.len());
    assert_eq!(window.bytes() as usize, window.unwritten().len());
});

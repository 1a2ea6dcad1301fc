//! The window: every notification written to the gateway and not yet known to be
//! settled, kept as the exact bytes to resend.
//!
//! The binary gateway never acknowledges success. It answers only a rejection,
//! then closes the connection and discards everything written after the rejected
//! notification. So the sender keeps each frame until the protocol lets it
//! conclude what happened to it, and the window is both the resend queue and the
//! write buffer: frames are appended to one byte buffer, `written` marks how much
//! of it the current connection has taken, and a resend is just `written = start`.
//!
//! Every frame carries a wire identifier of our own (its sequence number), distinct
//! from the caller's identifier, so a rejection always names exactly one frame
//! even when callers repeat identifiers. Sequence numbers are consecutive across
//! the window, which makes finding the frame an error response names O(1).
//!
//! A *probe* is a deliberately invalid notification (the all-zero device token).
//! The gateway rejects it with status 8 once it has processed everything before
//! it, which proves those notifications were processed: the only such proof the
//! protocol offers. Probes are entries like any other, flagged `probe`.

use std::collections::VecDeque;

use crate::protocol::binary::{self, Command, Frame, Parsed};

/// The payload of a probe: any valid JSON, the token is what gets it rejected.
const PROBE_PAYLOAD: &[u8] = br#"{"aps":{}}"#;
/// The device token of a probe: no device has it, the gateway rejects it (status 8).
const PROBE_TOKEN: [u8; 32] = [0; 32];

/// One frame in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Our sequence number; its low 32 bits are the identifier on the wire.
    pub seq: u64,
    /// The caller's identifier, reported back in failures.
    pub user_id: u32,
    /// Absolute offset just past this frame's last byte.
    pub end: u64,
    /// A confirmation probe rather than a caller's notification.
    pub probe: bool,
    /// Which owner of the connection sent it (see [`Window::owner`]).
    pub owner: u32,
}

/// What an error response meant for the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A caller's notification was rejected: report it. Everything before it was
    /// processed; everything after it must be resent.
    Rejected {
        user_id: u32,
        owner: u32,
        frame: Vec<u8>,
    },
    /// A probe came back: everything before it was processed.
    ProbeConfirmed,
    /// Shutdown (status 10): everything up to the named one was delivered.
    Delivered { user_id: u32 },
    /// The identifier names no frame in the window (already settled, or never sent).
    Unknown,
}

/// Frames in flight, in write order.
#[derive(Debug, Default)]
pub struct Window {
    /// Frame bytes; `buf[0]` is at absolute offset `base`.
    buf: Vec<u8>,
    base: u64,
    /// Absolute offset of the first live byte (the first entry's start).
    start: u64,
    /// Absolute offset up to which the current connection has taken bytes.
    written: u64,
    entries: VecDeque<Entry>,
    /// Sequence numbers of the probes among `entries`, ascending.
    probes: VecDeque<u64>,
    next_seq: u64,
    /// Live caller notifications (entries that are not probes).
    notifications: usize,
    /// Caller notifications pushed since the last probe.
    since_probe: usize,
    /// The current owner: a persistent connection handed to a new PHP request
    /// gets a new owner, so failures of an earlier request's notifications are
    /// never reported to a later one (they are still resent when needed).
    pub owner: u32,
}

impl Window {
    pub fn new() -> Window {
        Window {
            next_seq: 1,
            ..Window::default()
        }
    }

    /// Caller notifications in the window.
    pub fn len(&self) -> usize {
        self.notifications
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes held for resending.
    pub fn bytes(&self) -> u64 {
        self.end() - self.start
    }

    fn end(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Appends a caller's notification, written with our sequence number as its
    /// wire identifier (command 0 goes out as command 1: it has no identifier,
    /// so the gateway could not say which notification failed).
    pub fn push(&mut self, frame: &Frame<'_>, user_id: u32) {
        self.push_entry(frame, user_id, false, self.owner);
        self.notifications += 1;
        self.since_probe += 1;
    }

    /// Appends a probe.
    pub fn push_probe(&mut self) {
        let frame = Frame {
            command: Command::Framed,
            token: Some(&PROBE_TOKEN),
            payload: Some(PROBE_PAYLOAD),
            identifier: 0,
            expiry: 0,
            priority: binary::PRIORITY_IMMEDIATE,
        };
        let seq = self.next_seq;
        self.push_entry(&frame, 0, true, self.owner);
        self.probes.push_back(seq);
        self.since_probe = 0;
    }

    fn push_entry(&mut self, frame: &Frame<'_>, user_id: u32, probe: bool, owner: u32) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let command = match frame.command {
            Command::Simple => Command::Enhanced,
            other => other,
        };
        let wire = Frame {
            command,
            identifier: seq as u32,
            ..*frame
        };
        binary::encode(&wire, &mut self.buf);
        let end = self.end();
        self.entries.push_back(Entry {
            seq,
            user_id,
            end,
            probe,
            owner,
        });
    }

    /// Whether the last entry is a probe (nothing was pushed after the last checkpoint).
    pub fn ends_with_probe(&self) -> bool {
        self.entries.back().is_some_and(|e| e.probe)
    }

    /// Caller notifications pushed after the last probe (an upper bound once
    /// entries after it have been settled).
    pub fn since_last_probe(&self) -> usize {
        self.since_probe
    }

    /// The bytes the connection may take next: up to the end, or up to and
    /// including the first probe not yet written (nothing goes past an unresolved
    /// probe: the gateway will discard it anyway when it rejects the probe).
    pub fn unwritten(&self) -> &[u8] {
        let limit = self.write_limit();
        let from = (self.written - self.base) as usize;
        let to = (limit - self.base) as usize;
        self.buf.get(from..to).unwrap_or_default()
    }

    /// Whether frames wait behind an unanswered probe (they may not be written yet).
    pub fn held_back(&self) -> bool {
        self.write_limit() < self.end()
    }

    /// `unwritten().len()`, without making the slice.
    pub fn unwritten_len(&self) -> usize {
        usize::try_from(self.write_limit().saturating_sub(self.written)).unwrap_or(usize::MAX)
    }

    fn write_limit(&self) -> u64 {
        if self.probes.is_empty() {
            return self.end();
        }
        for &p in &self.probes {
            if let Some(e) = self.index_of_seq(p).and_then(|i| self.entries.get(i)) {
                if e.end > self.written {
                    return e.end;
                }
                // A written, unresolved probe: hold everything after it.
                return self.written;
            }
        }
        self.end()
    }

    /// Records that the connection took `n` more bytes.
    pub fn advance(&mut self, n: usize) {
        self.written = (self.written + n as u64).min(self.end());
    }

    /// Whether every byte the window allows has been taken by the connection.
    pub fn all_written(&self) -> bool {
        self.written == self.write_limit()
    }

    /// Caller notifications whose bytes were (at least partly) handed to the connection.
    pub fn written_notifications(&self) -> usize {
        let mut begin = self.start;
        let mut count = 0;
        for e in &self.entries {
            if begin >= self.written {
                break;
            }
            count += usize::from(!e.probe);
            begin = e.end;
        }
        count
    }

    /// The connection is gone: everything left must be written again on the next one.
    /// Returns how many caller notifications will be written again.
    pub fn rewind(&mut self) -> usize {
        let again = self.written_notifications();
        self.written = self.start;
        // A probe with nothing unsettled before it would prove nothing: it is not
        // worth a connection of its own.
        while self.entries.front().is_some_and(|e| e.probe) {
            self.settle_front(1);
        }
        again
    }

    fn index_of_seq(&self, seq: u64) -> Option<usize> {
        let front = self.entries.front()?.seq;
        let i = usize::try_from(seq.checked_sub(front)?).ok()?;
        (i < self.entries.len()).then_some(i)
    }

    /// The entry an error response's identifier names, by position.
    fn index_of_wire(&self, wire: u32) -> Option<usize> {
        let front = self.entries.front()?.seq;
        let i = wire.wrapping_sub(front as u32) as usize;
        (i < self.entries.len()).then_some(i)
    }

    /// Drops the first `count` entries (settled).
    fn settle_front(&mut self, count: usize) {
        for e in self.entries.drain(..count) {
            self.start = e.end;
            if e.probe {
                self.probes.pop_front();
            } else {
                self.notifications -= 1;
            }
        }
        self.written = self.written.max(self.start);
        self.compact();
    }

    /// Everything in the window is settled (the flush grace period passed quietly).
    pub fn settle_all(&mut self) {
        self.settle_front(self.entries.len());
    }

    /// Reuses the memory of settled frames, once it is worth a copy. The buffer
    /// keeps its capacity: a large batch settles its window many times, and
    /// giving the pages back each time cost a page fault every 4 KiB on refill
    /// (about a tenth of `sendMany`'s time). [`Window::trim`] gives them back.
    fn compact(&mut self) {
        let dead = (self.start - self.base) as usize;
        if self.entries.is_empty() {
            self.buf.clear();
            self.base = self.start;
        } else if dead > 1 << 16 && dead * 2 > self.buf.len() {
            self.buf.drain(..dead);
            self.base = self.start;
        }
    }

    /// Returns the memory a large batch left behind, once everything is settled,
    /// so an idle connection (a worker between batches, a kept persistent one)
    /// holds little.
    pub fn trim(&mut self) {
        if self.entries.is_empty() {
            if self.buf.capacity() > 1 << 20 {
                self.buf = Vec::with_capacity(1 << 16);
            }
            if self.entries.capacity() > 1 << 12 {
                self.entries = VecDeque::new();
            }
        }
    }

    /// Applies an error response to the window. The connection it came on is over;
    /// the caller rewinds.
    pub fn apply(&mut self, status: u8, wire_id: u32) -> Outcome {
        let Some(i) = self.index_of_wire(wire_id) else {
            return Outcome::Unknown;
        };
        let Some(&entry) = self.entries.get(i) else {
            return Outcome::Unknown;
        };
        if entry.end > self.written {
            // The gateway names a frame it cannot have read yet: a hostile or
            // confused peer. Settling anything on its word could lose notifications.
            return Outcome::Unknown;
        }
        if status == binary::status::SHUTDOWN {
            // The named notification is the last one delivered.
            self.settle_front(i + 1);
            return Outcome::Delivered {
                user_id: entry.user_id,
            };
        }
        let frame = self.frame_bytes(i).to_vec();
        self.settle_front(i + 1);
        if entry.probe {
            Outcome::ProbeConfirmed
        } else {
            Outcome::Rejected {
                user_id: entry.user_id,
                owner: entry.owner,
                frame,
            }
        }
    }

    fn frame_bytes(&self, i: usize) -> &[u8] {
        let begin = if i == 0 {
            self.start
        } else {
            self.entries.get(i - 1).map_or(self.start, |e| e.end)
        };
        let end = self.entries.get(i).map_or(begin, |e| e.end);
        self.buf
            .get((begin - self.base) as usize..(end - self.base) as usize)
            .unwrap_or_default()
    }

    /// Rebuilds the window with a probe after every `segment` caller notifications,
    /// renumbering every frame (the next connection starts a fresh identifier space).
    /// Used after a silent drop, when nothing tells what the gateway processed.
    pub fn rebuild_with_probes(&mut self, segment: usize) {
        let old = std::mem::replace(
            self,
            Window {
                next_seq: self.next_seq,
                ..Window::default()
            },
        );
        self.base = old.end();
        self.start = self.base;
        self.written = self.base;
        let mut in_segment = 0;
        for i in 0..old.entries.len() {
            let Some(&entry) = old.entries.get(i) else {
                break;
            };
            if entry.probe {
                continue;
            }
            if in_segment == segment.max(1) {
                self.push_probe();
                in_segment = 0;
            }
            if let Ok(Parsed::Complete(frame, _)) = binary::parse_frame(old.frame_bytes(i)) {
                self.push_entry(&frame, entry.user_id, false, entry.owner);
                self.notifications += 1;
                self.since_probe += 1;
                in_segment += 1;
            }
        }
        if in_segment > 0 {
            self.push_probe();
        }
    }

    /// Takes every caller notification of the current owner out of the window
    /// (the sender gave up), as (user id, frame bytes); earlier owners' go unreported.
    pub fn drain_notifications(&mut self) -> Vec<(u32, Vec<u8>)> {
        let out = (0..self.entries.len())
            .filter_map(|i| {
                let e = self.entries.get(i)?;
                (!e.probe && e.owner == self.owner)
                    .then(|| (e.user_id, self.frame_bytes(i).to_vec()))
            })
            .collect();
        self.settle_all();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(token: &[u8; 32]) -> Frame<'_> {
        Frame {
            command: Command::Framed,
            token: Some(token),
            payload: Some(br#"{"a":1}"#),
            identifier: 99,
            expiry: 0,
            priority: 10,
        }
    }

    fn ids(bytes: &[u8]) -> Vec<(u32, u8)> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while let Ok(Parsed::Complete(f, used)) = binary::parse_frame(rest) {
            out.push((f.identifier, f.token.unwrap()[0]));
            rest = &rest[used..];
        }
        out
    }

    #[test]
    fn wire_identifiers_are_ours_and_rejection_names_one_frame() {
        let mut w = Window::new();
        for t in 1..=5u8 {
            // The caller repeats identifier 7 for every notification.
            w.push(&frame(&[t; 32]), 7);
        }
        assert_eq!(
            ids(w.unwritten()),
            vec![(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]
        );
        let n = w.unwritten().len();
        w.advance(n);
        match w.apply(8, 3) {
            Outcome::Rejected {
                user_id: 7,
                owner: 0,
                frame,
            } => assert_eq!(ids(&frame), vec![(3, 3)]),
            other => panic!("{other:?}"),
        }
        assert_eq!(w.rewind(), 2);
        assert_eq!(ids(w.unwritten()), vec![(4, 4), (5, 5)]);
    }

    #[test]
    fn shutdown_settles_the_named_one_and_resends_the_rest() {
        let mut w = Window::new();
        for t in 1..=4u8 {
            w.push(&frame(&[t; 32]), u32::from(t));
        }
        w.advance(w.unwritten().len());
        assert_eq!(w.apply(10, 2), Outcome::Delivered { user_id: 2 });
        w.rewind();
        assert_eq!(ids(w.unwritten()), vec![(3, 3), (4, 4)]);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn nothing_is_written_past_an_unresolved_probe() {
        let mut w = Window::new();
        w.push(&frame(&[1; 32]), 1);
        w.push_probe();
        w.push(&frame(&[2; 32]), 2);
        assert_eq!(ids(w.unwritten()), vec![(1, 1), (2, 0)]);
        w.advance(w.unwritten().len());
        // The probe is written and unanswered: frame 2 waits behind it.
        assert!(w.unwritten().is_empty() && w.held_back());
        assert_eq!(w.apply(8, 2), Outcome::ProbeConfirmed);
        w.rewind();
        assert_eq!(ids(w.unwritten()), vec![(3, 2)]);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn partial_writes_continue_with_the_same_bytes() {
        let mut w = Window::new();
        w.push(&frame(&[1; 32]), 1);
        let all = w.unwritten().to_vec();
        w.advance(10);
        assert_eq!(w.unwritten(), &all[10..]);
        assert_eq!(w.written_notifications(), 1);
        assert_eq!(w.rewind(), 1);
        assert_eq!(w.unwritten(), &all[..]);
    }

    #[test]
    fn rebuild_inserts_probes_and_renumbers() {
        let mut w = Window::new();
        for t in 1..=5u8 {
            w.push(&frame(&[t; 32]), u32::from(t));
        }
        w.rebuild_with_probes(2);
        // Written up to the first probe only.
        assert_eq!(ids(w.unwritten()), vec![(6, 1), (7, 2), (8, 0)]);
        assert_eq!(w.len(), 5);
        w.advance(w.unwritten().len());
        assert_eq!(w.apply(8, 8), Outcome::ProbeConfirmed);
        w.rewind();
        assert_eq!(ids(w.unwritten()), vec![(9, 3), (10, 4), (11, 0)]);
    }

    #[test]
    fn an_error_response_naming_an_unwritten_frame_is_unknown() {
        let mut w = Window::new();
        for t in 1..=3u8 {
            w.push(&frame(&[t; 32]), 100 + u32::from(t));
        }
        let one = w.unwritten().len() / 3;
        w.advance(one); // only wire identifier 1 was written
        assert_eq!(w.apply(binary::status::SHUTDOWN, 3), Outcome::Unknown);
        assert_eq!(w.apply(binary::status::INVALID_TOKEN, 2), Outcome::Unknown);
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn unknown_identifiers_change_nothing() {
        let mut w = Window::new();
        w.push(&frame(&[1; 32]), 1);
        w.advance(w.unwritten().len());
        assert_eq!(w.apply(8, 1000), Outcome::Unknown);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn memory_is_returned_after_settling() {
        let mut w = Window::new();
        for i in 0..20_000u32 {
            w.push(&frame(&[1; 32]), i);
        }
        w.advance(w.unwritten().len());
        w.settle_all();
        assert!(w.is_empty());
        assert_eq!(w.bytes(), 0);
        // Kept while a batch goes on (refilling it costs no page faults)…
        assert!(w.buf.capacity() > 1 << 20);
        // …and given back once the batch is over.
        w.trim();
        assert!(w.buf.capacity() <= 1 << 20);
        assert!(w.entries.capacity() <= 1 << 12);
    }

    #[test]
    fn trim_keeps_what_is_unsettled() {
        let mut w = Window::new();
        for i in 0..20_000u32 {
            w.push(&frame(&[1; 32]), i);
        }
        let held = w.bytes();
        w.trim();
        assert_eq!(w.len(), 20_000);
        assert_eq!(w.bytes(), held);
        assert_eq!(w.unwritten().len() as u64, held);
    }
}

//! The engine against a scripted in-memory gateway: Apple's rules (reject, close,
//! discard what follows; shutdown; silent drops) and a socket that takes a few
//! bytes at a time or says would-block. No sockets, no TLS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use super::*;
use crate::protocol::binary::check;
use crate::transport::failure::classify;

mod engine;

/// What the scripted gateway does.
#[derive(Default, Clone)]
struct Script {
    /// Tokens (by first byte) answered with status 8.
    invalid: HashSet<u8>,
    shutdown_every: Option<u64>,
    drop_every: Option<u64>,
    /// Bytes taken per write call (0: all).
    take: usize,
    /// Every other write call says would-block.
    stutter: bool,
    /// Connections after this many are refused.
    refuse_after: Option<u32>,
    /// Error responses (probes' answers included) are sent this late, as Apple's
    /// are; meanwhile the gateway reads and discards whatever follows.
    error_delay: Duration,
    /// The gateway never answers anything (error responses are swallowed).
    mute: bool,
    /// Connect attempts after the first connection fail, in turn, with the TLS
    /// alerts these rustls errors are (then connects succeed again).
    tls_failures: Vec<rustls::Error>,
}

#[derive(Default)]
struct Gateway {
    script: Script,
    /// Accepted notifications in order: (connection, token, payload, wire id).
    log: Vec<(u32, Vec<u8>, Vec<u8>, u32)>,
    /// Raw bytes received, per connection.
    received: Vec<Vec<u8>>,
    accepted: u64,
    connections: u32,
    /// Connect attempts, failed ones included.
    attempts: u32,
}

type Shared = Rc<RefCell<Gateway>>;

struct FakeLink {
    gw: Shared,
    conn: u32,
    inbuf: Vec<u8>,
    out: VecDeque<u8>,
    /// The gateway is done with this connection (rejected, shut down or dropped):
    /// it discards what it reads until `answer_at`, then closes; after `out`
    /// drains, reads see the end of the stream.
    closed: bool,
    /// When `out` becomes readable (the error delay), and the connection ends.
    answer_at: Option<Instant>,
    calls: u64,
}

impl FakeLink {
    fn process(&mut self) {
        let script = self.gw.borrow().script.clone();
        let gw_rc = self.gw.clone();
        let mut gw = gw_rc.borrow_mut();
        let mut used_total = 0;
        while !self.closed {
            let rest = &self.inbuf[used_total..];
            let Ok(Parsed::Complete(frame, used)) = binary::parse_frame(rest) else {
                break;
            };
            used_total += used;
            let token = frame.token.unwrap();
            let rejected = check(&frame).or_else(|| {
                (token.iter().all(|&b| b == 0) || script.invalid.contains(&token[0])).then_some(8)
            });
            if let Some(status) = rejected {
                self.answer(&script, status, frame.identifier);
                break;
            }
            gw.log.push((
                self.conn,
                token.to_vec(),
                frame.payload.unwrap().to_vec(),
                frame.identifier,
            ));
            gw.accepted += 1;
            let n = gw.accepted;
            if script.shutdown_every.is_some_and(|e| n % e == 0) {
                self.answer(&script, 10, frame.identifier);
            } else if script.drop_every.is_some_and(|e| n % e == 0) {
                self.closed = true;
            }
        }
        self.inbuf.drain(..used_total);
        if self.closed {
            // Read and discarded, as Apple does after a rejection.
            self.inbuf.clear();
        }
    }

    /// Ends the connection with an error response, `script.error_delay` late.
    fn answer(&mut self, script: &Script, status: u8, identifier: u32) {
        if !script.mute {
            self.out
                .extend(ErrorResponse { status, identifier }.encode());
        }
        self.answer_at = Some(Instant::now() + script.error_delay);
        self.closed = true;
    }

    /// Still reading (and discarding) before a late answer.
    fn answer_pending(&self) -> bool {
        self.answer_at.is_some_and(|t| Instant::now() < t)
    }
}

impl Link for FakeLink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.closed && !self.answer_pending() {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "broken pipe"));
        }
        let script = self.gw.borrow().script.clone();
        if script.stutter && self.calls % 2 == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = if script.take == 0 {
            buf.len()
        } else {
            buf.len().min(script.take)
        };
        self.inbuf.extend_from_slice(&buf[..n]);
        self.gw.borrow_mut().received[self.conn as usize - 1].extend_from_slice(&buf[..n]);
        self.process();
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<bool> {
        Ok(true)
    }
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.answer_pending() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.out.is_empty() {
            return if self.closed {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(self.out.len());
        for b in buf.iter_mut().take(n) {
            *b = self.out.pop_front().unwrap();
        }
        Ok(n)
    }
    fn wait(&mut self, interest: Interest, deadline: Instant) -> io::Result<bool> {
        if let Some(at) = self.answer_at.filter(|_| self.answer_pending()) {
            if interest == Interest::Read {
                std::thread::sleep(at.min(deadline).saturating_duration_since(Instant::now()));
                return Ok(Instant::now() >= at || Instant::now() < deadline);
            }
            return Ok(true);
        }
        if !self.out.is_empty() || self.closed || interest != Interest::Read {
            return Ok(true);
        }
        let now = Instant::now();
        std::thread::sleep(
            deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(1)),
        );
        Ok(Instant::now() < deadline)
    }
}

struct FakeConnector(Shared);

impl Connector for FakeConnector {
    type Link = FakeLink;
    fn connect(&mut self, _deadline: Instant) -> Result<FakeLink> {
        let mut gw = self.0.borrow_mut();
        gw.attempts += 1;
        let failed = (gw.attempts - gw.connections - 1) as usize;
        if gw.connections > 0 {
            if let Some(tls) = gw.script.tls_failures.get(failed) {
                let failure = classify(tls, "fake:2195", "fake", true);
                return Err(failure.into());
            }
        }
        if gw.script.refuse_after.is_some_and(|n| gw.connections >= n) {
            return Err(Error::Connect(crate::error::ConnectError::Failed {
                peer: "fake:2195".into(),
                cause: "connection refused".into(),
            }));
        }
        gw.connections += 1;
        gw.received.push(Vec::new());
        Ok(FakeLink {
            gw: self.0.clone(),
            conn: gw.connections,
            inbuf: Vec::new(),
            out: VecDeque::new(),
            closed: false,
            answer_at: None,
            calls: 0,
        })
    }
    fn describe(&self) -> String {
        "fake:2195".into()
    }
}

fn options() -> Options {
    Options {
        timeout: Duration::from_millis(500),
        window: 100_000,
    }
}

/// A sender to a gateway that rejects tokens starting with a byte of `invalid`.
fn rejecting(invalid: &HashSet<u8>) -> (Sender<FakeConnector>, Shared) {
    sender(
        Script {
            invalid: invalid.clone(),
            ..Script::default()
        },
        options(),
    )
}

fn sender(script: Script, options: Options) -> (Sender<FakeConnector>, Shared) {
    let gw = Rc::new(RefCell::new(Gateway {
        script,
        ..Gateway::default()
    }));
    (
        Sender::connect(FakeConnector(gw.clone()), options).unwrap(),
        gw,
    )
}

/// Token `i`: first byte is the "invalid" marker class, the rest spell `i`.
fn token(class: u8, i: u32) -> [u8; 32] {
    let mut t = [class; 32];
    t[28..].copy_from_slice(&i.to_be_bytes());
    t
}

const PAYLOAD: &[u8] = br#"{"aps":{"alert":"hello"}}"#;

/// A command-2 notification of `PAYLOAD` to `token`, numbered by the engine.
fn framed(token: &[u8; 32]) -> Outgoing<'_> {
    Outgoing {
        command: Command::Framed,
        token,
        payload: PAYLOAD,
        identifier: None,
        expiry: 0,
        priority: 10,
    }
}

fn send_all(s: &mut Sender<FakeConnector>, tokens: &[[u8; 32]]) {
    for t in tokens {
        s.send(&framed(t)).unwrap();
    }
}

/// (missing valid tokens, duplicates) in the gateway's log.
fn audit(gw: &Shared, tokens: &[[u8; 32]], invalid: &HashSet<u8>) -> (usize, usize) {
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    for (_, t, p, _) in &gw.borrow().log {
        assert_eq!(p, PAYLOAD);
        *seen.entry(t.clone()).or_default() += 1;
    }
    let valid: Vec<_> = tokens.iter().filter(|t| !invalid.contains(&t[0])).collect();
    let missing = valid.iter().filter(|t| !seen.contains_key(&t[..])).count();
    let duplicates = seen.values().map(|c| c - 1).sum();
    assert!(
        seen.keys().all(|t| !invalid.contains(&t[0])),
        "an invalid token was logged"
    );
    (missing, duplicates)
}

fn batch(n: u32, invalid_every: Option<u32>) -> Vec<[u8; 32]> {
    (0..n)
        .map(|i| match invalid_every {
            Some(k) if i % k == k / 2 => token(0xbb, i),
            _ => token(0xaa, i),
        })
        .collect()
}

#[test]
fn partial_writes_and_would_block_deliver_every_byte_once_in_order() {
    let script = Script {
        take: 7,
        stutter: true,
        ..Script::default()
    };
    let (mut s, gw) = sender(script, options());
    let tokens = batch(300, None);
    send_all(&mut s, &tokens);
    assert_eq!(s.flush(None).unwrap(), vec![]);
    let g = gw.borrow();
    assert_eq!(g.connections, 1);
    let logged: Vec<_> = g.log.iter().map(|(_, t, _, _)| t.clone()).collect();
    assert_eq!(
        logged,
        tokens.iter().map(|t| t.to_vec()).collect::<Vec<_>>()
    );
    // The bytes on the wire are exactly the frames, wire identifiers 1..=300.
    let mut want = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let f = Frame {
            command: Command::Framed,
            token: Some(t),
            payload: Some(PAYLOAD),
            identifier: i as u32 + 1,
            expiry: 0,
            priority: 10,
        };
        binary::encode(&f, &mut want);
    }
    // Written against back-pressure, the batch is settled by a probe: the all-zero token.
    let probe = Frame {
        token: Some(&[0; 32]),
        payload: Some(br#"{"aps":{}}"#),
        identifier: 301,
        ..Frame {
            command: Command::Framed,
            token: None,
            payload: None,
            identifier: 0,
            expiry: 0,
            priority: 10,
        }
    };
    binary::encode(&probe, &mut want);
    assert!(
        g.received[0] == want,
        "the bytes on the wire differ from the frames"
    );
    assert_eq!(s.stats().bytes, want.len() as u64);
}

#[test]
fn invalid_tokens_are_reported_and_everything_after_them_resent_once() {
    let invalid: HashSet<u8> = [0xbb].into();
    let script = Script {
        invalid: invalid.clone(),
        take: 1000,
        ..Script::default()
    };
    let (mut s, gw) = sender(script, options());
    let mut tokens = batch(5000, None);
    for i in [17usize, 2500, 4999] {
        tokens[i] = token(0xbb, i as u32);
    }
    send_all(&mut s, &tokens);
    let failures = s.flush(None).unwrap();
    let got: Vec<_> = failures
        .iter()
        .map(|f| (f.identifier, f.token.clone(), f.status, f.reason.as_str()))
        .collect();
    let want: Vec<_> = [17u32, 2500, 4999]
        .iter()
        .map(|&i| (i + 1, token::to_hex(&token(0xbb, i)), 8, "Invalid token"))
        .collect();
    assert_eq!(got, want);
    assert_eq!(audit(&gw, &tokens, &invalid), (0, 0));
    let stats = s.stats();
    assert_eq!((stats.sent, stats.failed), (5000, 3));
    assert!(stats.resent > 0 && stats.reconnects >= 2, "{stats:?}");
    let r = s.take_error_response().unwrap();
    assert_eq!((r.status, r.identifier), (8, 18));
}

#[test]
fn repeated_caller_identifiers_are_not_confused() {
    let invalid: HashSet<u8> = [0xbb].into();
    let (mut s, gw) = rejecting(&invalid);
    let tokens = batch(50, Some(10));
    for t in &tokens {
        let id = s
            .send(&Outgoing {
                command: Command::Enhanced,
                token: t,
                payload: PAYLOAD,
                identifier: Some(7),
                expiry: 0,
                priority: 10,
            })
            .unwrap();
        assert_eq!(id, 7);
    }
    let failures = s.flush(None).unwrap();
    let bad: Vec<_> = tokens
        .iter()
        .filter(|t| t[0] == 0xbb)
        .map(|t| token::to_hex(t))
        .collect();
    assert_eq!(
        failures.iter().map(|f| f.token.clone()).collect::<Vec<_>>(),
        bad
    );
    assert!(failures.iter().all(|f| f.identifier == 7));
    assert_eq!(audit(&gw, &tokens, &invalid), (0, 0));
}

#[test]
fn shutdowns_resend_after_the_named_notification_without_duplicates() {
    let (mut s, gw) = sender(
        Script {
            shutdown_every: Some(70),
            ..Script::default()
        },
        options(),
    );
    let tokens = batch(2000, None);
    send_all(&mut s, &tokens);
    assert_eq!(s.flush(None).unwrap(), vec![]);
    assert_eq!(audit(&gw, &tokens, &HashSet::new()), (0, 0));
    assert!(s.stats().reconnects >= 2000 / 70 - 1);
    assert_eq!(s.stats().failed, 0);
}

#[test]
fn silent_drops_lose_nothing_and_duplicates_stay_bounded() {
    let (mut s, gw) = sender(
        Script {
            drop_every: Some(90),
            ..Script::default()
        },
        options(),
    );
    let tokens = batch(3000, None);
    send_all(&mut s, &tokens);
    assert_eq!(s.flush(None).unwrap(), vec![]);
    let (missing, duplicates) = audit(&gw, &tokens, &HashSet::new());
    assert_eq!(missing, 0);
    let drops = gw.borrow().accepted / 90;
    // At most one segment per drop is delivered twice: never more than the drop interval.
    assert!(
        duplicates as u64 <= drops * 90,
        "duplicates {duplicates} for {drops} drops"
    );
    eprintln!(
        "drop every 90: {drops} drops, {duplicates} duplicates, {} reconnects",
        s.stats().reconnects
    );
}

#[test]
fn everything_combined() {
    let invalid: HashSet<u8> = [0xbb].into();
    let script = Script {
        invalid: invalid.clone(),
        shutdown_every: Some(70),
        drop_every: Some(90),
        take: 333,
        stutter: true,
        refuse_after: None,
        error_delay: Duration::ZERO,
        mute: false,
        tls_failures: Vec::new(),
    };
    let (mut s, gw) = sender(script, options());
    let tokens = batch(4000, Some(100));
    send_all(&mut s, &tokens);
    let failures = s.flush(None).unwrap();
    assert_eq!(failures.len(), 40);
    assert!(failures
        .iter()
        .all(|f| f.status == 8 && f.token.starts_with("bbbb")));
    let (missing, _) = audit(&gw, &tokens, &invalid);
    assert_eq!(missing, 0);
}

#[test]
fn window_bound_settles_with_probes_and_loses_nothing() {
    let (mut s, gw) = sender(
        Script::default(),
        Options {
            window: 50,
            ..options()
        },
    );
    let tokens = batch(500, None);
    send_all(&mut s, &tokens);
    s.flush(None).unwrap();
    assert_eq!(audit(&gw, &tokens, &HashSet::new()), (0, 0));
    // Each probe costs one connection: about one per 50 notifications, not more.
    let connections = gw.borrow().connections;
    assert!((9..=12).contains(&connections), "{connections}");
}

#[test]
fn a_gateway_that_goes_away_ends_in_a_clear_error_and_a_failure_list() {
    let script = Script {
        drop_every: Some(100),
        refuse_after: Some(1),
        ..Script::default()
    };
    let (mut s, gw) = sender(script, options());
    // Several write chunks, so the loss is seen while the loop still sends.
    let tokens = batch(20_000, None);
    let mut errors = Vec::new();
    let mut refused = HashSet::new();
    for (i, t) in tokens.iter().enumerate() {
        if let Err(e) = s.send(&framed(t)) {
            // Once given up, sends fail at once and are not taken: they are the caller's to retry.
            if e.to_string()
                .starts_with("not sent: fake:2195 is unreachable")
            {
                refused.insert(i);
            }
            errors.push(e.to_string());
        }
    }
    assert!(
        !refused.is_empty(),
        "{} errors, first {:?}",
        errors.len(),
        errors.first()
    );
    let (message, mut failures) = match s.flush(None) {
        Ok(failures) => (errors.first().cloned().unwrap(), failures),
        Err(e) => (e.to_string(), Vec::new()),
    };
    assert!(
        message.contains("gave up on fake:2195") && message.contains("connection refused"),
        "{message}"
    );
    failures.extend(s.take_failures());
    let logged = gw.borrow().log.len();
    // Every notification is either in the gateway's log or in the failure list.
    assert_eq!(logged, 100);
    assert!(failures
        .iter()
        .all(|f| f.status == 255 && f.reason.starts_with("Not delivered")));
    let reported: HashSet<_> = failures.iter().map(|f| f.token.clone()).collect();
    let missing: Vec<usize> = (100..tokens.len())
        .filter(|i| !refused.contains(i) && !reported.contains(&token::to_hex(&tokens[*i])))
        .collect();
    assert!(
        missing.is_empty(),
        "not reported: {missing:?}; {} failures, errors {}",
        failures.len(),
        errors.len()
    );
}

#[test]
fn write_frames_takes_whole_valid_frames_only() {
    let (mut s, gw) = sender(Script::default(), options());
    let mut bytes = Vec::new();
    for (i, command) in [Command::Simple, Command::Enhanced, Command::Framed]
        .into_iter()
        .enumerate()
    {
        let t = token(0xaa, i as u32);
        binary::encode(
            &Frame {
                command,
                token: Some(&t),
                payload: Some(PAYLOAD),
                identifier: 40 + i as u32,
                expiry: 9,
                priority: 10,
            },
            &mut bytes,
        );
    }
    for (bad, want) in [
        (&bytes[..bytes.len() - 1], "frame 3 (at byte"),
        (
            &b"\x07garbage"[..],
            "not a notification frame: unknown command byte 7",
        ),
        (&b""[..], "empty string"),
    ] {
        let err = s.write_frames(bad).unwrap_err().to_string();
        assert!(
            err.contains(want) && err.contains("nothing was written") || want == "empty string",
            "{err}"
        );
    }
    assert_eq!(s.write_frames(&bytes).unwrap(), bytes.len());
    s.flush(None).unwrap();
    let g = gw.borrow();
    assert_eq!(g.log.len(), 3);
    // Command 0 went out as command 1 (it has no identifier for errors to name).
    assert_eq!(g.received[0][0], 1);
}

#[test]
fn closed_senders_refuse_work() {
    let (mut s, _gw) = sender(Script::default(), options());
    s.close().unwrap();
    assert!(!s.is_connected());
    let t = token(0xaa, 1);
    assert_eq!(s.send(&framed(&t)), Err(Error::Closed));
}

#[test]
fn a_kept_connection_reports_nothing_of_its_previous_owner() {
    let invalid: HashSet<u8> = [0xbb].into();
    let (mut s, gw) = rejecting(&invalid);
    // The first request sends a bad token and five good ones, and ends without flush().
    let first = [
        token(0xbb, 0),
        token(0xaa, 1),
        token(0xaa, 2),
        token(0xaa, 3),
        token(0xaa, 4),
        token(0xaa, 5),
    ];
    send_all(&mut s, &first);
    s.release().unwrap();
    // The next request gets the connection: the earlier rejection is not its business…
    s.hand_over(options()).unwrap();
    let second = [token(0xaa, 6), token(0xaa, 7)];
    send_all(&mut s, &second);
    assert_eq!(s.flush(None).unwrap(), vec![]);
    assert_eq!(s.take_error_response(), None);
    // …but what the rejection discarded was still resent: nothing is lost.
    let all: Vec<_> = first.iter().chain(&second).copied().collect();
    assert_eq!(audit(&gw, &all, &invalid), (0, 0));
    assert_eq!(s.stats().failed, 1);
}

/// A gateway that answers every error response `delay` late and rejects tokens
/// of class 0xbb.
fn late(delay: Duration) -> (Sender<FakeConnector>, Shared, HashSet<u8>) {
    let invalid: HashSet<u8> = [0xbb].into();
    let (s, gw) = sender(
        Script {
            invalid: invalid.clone(),
            error_delay: delay,
            ..Script::default()
        },
        options(),
    );
    (s, gw, invalid)
}

/// Whether the last frame a connection received is a probe (the all-zero token).
fn ends_with_probe(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    let mut last = None;
    while let Ok(Parsed::Complete(f, used)) = binary::parse_frame(rest) {
        last = f.token.map(|t| t.iter().all(|&b| b == 0));
        rest = &rest[used..];
    }
    last == Some(true)
}

#[test]
fn late_error_responses_lose_nothing_and_report_each_rejection_once() {
    // Apple answers 0.1 to 0.8 s late; 200 ms against a 500 ms timeout here.
    for (n, bad) in [
        (1usize, vec![0usize]),
        (20, vec![3]),
        (5000, vec![17, 2500, 4999]),
    ] {
        let (mut s, gw, invalid) = late(Duration::from_millis(200));
        let mut tokens = batch(n as u32, None);
        for &i in &bad {
            tokens[i] = token(0xbb, i as u32);
        }
        send_all(&mut s, &tokens);
        let failures = s.flush(None).unwrap();
        let reported: Vec<_> = failures.iter().map(|f| f.token.clone()).collect();
        let want: Vec<_> = bad.iter().map(|&i| token::to_hex(&tokens[i])).collect();
        assert_eq!(reported, want, "{n} notifications");
        assert!(failures.iter().all(|f| f.status == 8));
        assert_eq!(audit(&gw, &tokens, &invalid), (0, 0), "{n} notifications");
        assert_eq!(s.stats().pending, 0);
        assert_eq!(s.take_failures(), vec![], "reported twice");
        // One connection per rejection, and one more for the final probe unless
        // the last notification was the rejected one (a lone probe proves nothing).
        let last_rejected = bad.last() == Some(&(n - 1));
        let want = bad.len() + usize::from(!last_rejected);
        assert_eq!(gw.borrow().connections as usize, want, "{n} notifications");
    }
}

#[test]
fn close_settles_with_a_probe_and_keeps_late_failures_readable() {
    let (mut s, gw, invalid) = late(Duration::from_millis(100));
    let tokens = [
        token(0xaa, 1),
        token(0xaa, 2),
        token(0xbb, 3),
        token(0xaa, 4),
        token(0xaa, 5),
    ];
    send_all(&mut s, &tokens);
    let failures = s.close().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].token, token::to_hex(&tokens[2]));
    assert_eq!(
        s.take_failures(),
        failures,
        "failures found while closing stay readable"
    );
    assert_eq!(audit(&gw, &tokens, &invalid), (0, 0));
    // The second connection carried the resent two and then the probe that proved them.
    let g = gw.borrow();
    assert_eq!(g.connections, 2);
    assert!(ends_with_probe(&g.received[1]));
}

#[test]
fn close_on_a_prompt_gateway_is_one_probe_on_the_same_connection() {
    let (mut s, gw) = sender(Script::default(), options());
    let tokens = batch(5, None);
    send_all(&mut s, &tokens);
    assert_eq!(s.close().unwrap(), vec![]);
    let g = gw.borrow();
    assert_eq!(g.connections, 1);
    assert!(ends_with_probe(&g.received[0]));
    assert_eq!(g.log.len(), 5);
}

#[test]
fn a_timed_flush_returns_what_is_settled_and_keeps_the_rest() {
    let (mut s, gw, invalid) = late(Duration::from_millis(300));
    let mut tokens = batch(20, None);
    tokens[3] = token(0xbb, 3);
    send_all(&mut s, &tokens);
    // Its own deadline is no error: nothing is proven yet, everything stays queued.
    assert_eq!(s.flush(Some(Duration::from_millis(20))).unwrap(), vec![]);
    assert_eq!(s.stats().pending, 20);
    // Sends go on behind the unanswered probe; the next flush settles it all.
    let more = [token(0xaa, 100), token(0xaa, 101)];
    send_all(&mut s, &more);
    assert_eq!(s.stats().pending, 22);
    let failures = s.flush(None).unwrap();
    assert_eq!(
        failures.iter().map(|f| f.token.clone()).collect::<Vec<_>>(),
        vec![token::to_hex(&tokens[3])]
    );
    assert_eq!(s.stats().pending, 0);
    let all: Vec<_> = tokens.iter().chain(&more).copied().collect();
    assert_eq!(audit(&gw, &all, &invalid), (0, 0));
}

#[test]
fn close_on_a_gateway_that_never_answers_reports_everything_unconfirmed() {
    let (mut s, gw) = sender(
        Script {
            mute: true,
            error_delay: Duration::from_secs(60),
            ..Script::default()
        },
        options(),
    );
    let tokens = batch(3, None);
    send_all(&mut s, &tokens);
    let err = s.close().unwrap_err().to_string();
    assert!(
        err.contains("could not settle 3 notification(s)") && err.contains("status 255"),
        "{err}"
    );
    let failures = s.take_failures();
    assert_eq!(
        failures.iter().map(|f| f.token.clone()).collect::<Vec<_>>(),
        tokens.iter().map(|t| token::to_hex(t)).collect::<Vec<_>>()
    );
    assert!(failures.iter().all(|f| f.status == 255));
    // They may have been delivered (the gateway logged them): unconfirmed, not lost silently.
    assert_eq!(gw.borrow().log.len(), 3);
}

/// A gateway that shuts the connection down after 100 notifications, then fails the
/// next connect attempts with `tls_failures`: what the sends and the flush
/// said, and the failure list.
fn reconnect_through(tls_failures: Vec<rustls::Error>) -> (Shared, Vec<String>, Vec<Failure>) {
    let script = Script {
        shutdown_every: Some(100),
        tls_failures,
        ..Script::default()
    };
    let (mut s, gw) = sender(script, options());
    let mut errors = Vec::new();
    for t in &batch(300, None) {
        if let Err(e) = s.send(&framed(t)) {
            errors.push(e.to_string());
        }
    }
    let mut failures = match s.flush(None) {
        Ok(failures) => failures,
        Err(e) => {
            errors.push(e.to_string());
            Vec::new()
        }
    };
    failures.extend(s.take_failures());
    (gw, errors, failures)
}

#[test]
fn a_tls_protocol_failure_at_reconnect_is_retried() {
    use rustls::AlertDescription as A;
    // Not about the client certificate: reconnecting may work, and does.
    let (gw, errors, failures) = reconnect_through(vec![
        rustls::Error::AlertReceived(A::DecodeError),
        rustls::Error::AlertReceived(A::InternalError),
    ]);
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(failures.len(), 0);
    assert_eq!(audit(&gw, &batch(300, None), &HashSet::new()), (0, 0));
    let gw = gw.borrow();
    assert_eq!(gw.attempts, gw.connections + 2, "both failures retried");
}

#[test]
fn a_refused_client_certificate_at_reconnect_gives_up_at_once() {
    let (gw, errors, failures) = reconnect_through(vec![
        rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA
        );
        50
    ]);
    let first = errors.first().cloned().unwrap_or_default();
    assert!(
        first.starts_with(
            "gave up on fake:2195 after 0.5 s without progress: the gateway fake:2195 refused \
             the client certificate (TLS alert unknown_ca); "
        ),
        "{errors:?}"
    );
    let gw = gw.borrow();
    assert_eq!(gw.connections, 1);
    assert_eq!(gw.attempts, 2, "no retry after the refusal");
    // Nothing lost: the first 100 reached the gateway, every other one is reported
    // (or was refused to the caller by send()).
    assert_eq!(gw.log.len(), 100);
    assert!(failures.iter().all(|f| f.status == STATUS_NOT_DELIVERED));
    let refused = errors
        .iter()
        .filter(|e| e.starts_with("not sent: "))
        .count();
    assert_eq!(failures.len() + refused, 200, "{errors:?}");
}

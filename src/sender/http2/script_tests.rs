//! The HTTP/2 engine against a scripted server on the transport seam
//! ([`super::script`]): Apple's answers (429/5xx back-off, GOAWAY, refused
//! streams, the stream limit, provider tokens, dropped connections, silence),
//! each asserted on what the user sees (the failure list, `stats()`, the
//! per-connection counters) and on what the server received. In-process and
//! quick; `tests/http2.rs` is the same engine end to end against the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use h2::Reason;

use super::dial::Dial;
use super::script::{serve, Log, PipeDial, Seen};
use super::*;

const TOPIC: &str = "com.example.app";
const PAYLOAD: &[u8] = br#"{"aps":{"alert":"hi"}}"#;

/// Device token number `i` (64 hex digits).
fn token(i: usize) -> String {
    format!("{:064x}", 0xa000 + i)
}

fn engine(dial: PipeDial, auth: Auth, options: Options) -> Http2Sender {
    let endpoint = Endpoint::parse("https://api.push.test").unwrap();
    Http2Sender::with_dialer(endpoint, Box::new(dial), auth, Some(TOPIC.into()), options).unwrap()
}

/// Sends tokens `0..n`.
fn send_all(sender: &mut Http2Sender, n: usize) {
    send_range(sender, 0..n);
}

/// Sends the tokens of `range`, token `i` with identifier `i + 1`.
fn send_range(sender: &mut Http2Sender, range: std::ops::Range<usize>) {
    for i in range {
        let token = token(i);
        let n = Http2Notification {
            token: token.as_bytes(),
            payload: PAYLOAD,
            identifier: Some(i as u32 + 1),
            options: SendOptions::default(),
        };
        sender.send(&n).unwrap();
    }
}

fn seen(log: &Log) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

/// How many times each token was received.
fn counts(seen: &[Seen]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for s in seen {
        *counts.entry(s.token().to_string()).or_insert(0) += 1;
    }
    counts
}

/// The tokens each connection received, sorted.
fn tokens_on(seen: &[Seen], conn: usize) -> Vec<String> {
    let mut tokens: Vec<String> = seen
        .iter()
        .filter(|s| s.conn == conn)
        .map(|s| s.token().to_string())
        .collect();
    tokens.sort();
    tokens
}

fn token_auth() -> Auth {
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    Auth::Token {
        key: Arc::new(SigningKey::from_pkcs8_der(der.as_ref(), "test key").unwrap()),
        key_id: "ABC123DEFG".into(),
        team_id: "DEF123GHIJ".into(),
    }
}

#[test]
fn retries_429_and_5xx_with_back_off_then_reports_after_max_retries() {
    // Token 0: 429, 503, then 200. Token 1: 500 every time.
    let (dial, log, script) = serve(|mut server| async move {
        let mut peer = server.accept().await;
        let mut tries = HashMap::<String, usize>::new();
        while let Some(request) = peer.next().await {
            let token = request.seen.token().to_string();
            let n = tries.entry(token.clone()).or_insert(0);
            *n += 1;
            match (token == self::token(0), *n) {
                (true, 1) => request.reply(429, Some("TooManyRequests")),
                (true, 2) => request.reply(503, Some("ServiceUnavailable")),
                (true, _) => request.ok(),
                (false, _) => request.reply(500, Some("InternalServerError")),
            }
        }
    });
    let options = Options {
        max_retries: 2,
        ..Options::default()
    };
    let mut sender = engine(dial, Auth::Certificate, options);
    send_all(&mut sender, 2);
    let failures = sender.flush(None).unwrap();

    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = &failures[0];
    assert_eq!(
        (failure.identifier, failure.token.as_str(), failure.status),
        (2, token(1).as_str(), 500)
    );
    assert_eq!(failure.reason, "InternalServerError");
    let stats = sender.stats();
    assert_eq!((stats.sent, stats.failed, stats.pending), (2, 1, 0));
    // Each retry is a resend: two for each token.
    assert_eq!(stats.resent, 4);
    assert_eq!(stats.reconnects, 0);
    drop(sender);
    script.join().unwrap();
    let seen = seen(&log);
    // The first try and max_retries (2) retries each; nothing more, nothing lost.
    assert_eq!(counts(&seen), HashMap::from([(token(0), 3), (token(1), 3)]));
    assert!(seen.iter().all(|s| s.conn == 1 && s.body == PAYLOAD));
}

#[test]
fn goaway_resends_the_unanswered_on_a_new_connection() {
    let (dial, log, script) = serve(|mut server| async move {
        let mut first = server.accept().await;
        // The first 4 are answered; then 6 more arrive and the server goes away
        // without answering them.
        for request in first.take(4).await {
            request.ok();
        }
        let unanswered = first.take(6).await;
        first.go_away().await;
        drop(unanswered);
        let mut second = server.accept().await;
        second.ok_until_closed().await;
    });
    let mut sender = engine(dial, Auth::Certificate, Options::default());
    send_all(&mut sender, 4);
    assert!(sender.flush(None).unwrap().is_empty());
    send_range(&mut sender, 4..10);
    let failures = sender.flush(None).unwrap();

    assert!(failures.is_empty(), "{failures:?}");
    let stats = sender.stats();
    assert_eq!((stats.sent, stats.failed, stats.pending), (10, 0, 0));
    assert_eq!((stats.resent, stats.reconnects), (6, 1));
    let conns = sender.connection_stats();
    assert_eq!((conns[0].goaways, conns[0].reconnects), (1, 1));
    assert_eq!((conns[0].streams, conns[0].answered), (16, 10));
    drop(sender);
    script.join().unwrap();
    let seen = seen(&log);
    // The second connection got exactly the six left unanswered: no duplicates
    // of what the first answered.
    assert_eq!(tokens_on(&seen, 1), (0..10).map(token).collect::<Vec<_>>());
    assert_eq!(tokens_on(&seen, 2), (4..10).map(token).collect::<Vec<_>>());
}

#[test]
fn after_a_graceful_goaway_the_old_connection_finishes_and_new_work_goes_to_a_new_one() {
    let (dial, log, script) = serve(|mut server| async move {
        let mut first = server.accept().await;
        let received = first.take(3).await;
        first.go_away_gracefully();
        // The engine has seen the GOAWAY once it answers a later PING.
        assert!(first.quiet().await, "a stream started after GOAWAY");
        received.into_iter().for_each(|r| r.ok());
        first.closed().await;
        let mut second = server.accept().await;
        second.ok_until_closed().await;
    });
    let mut sender = engine(dial, Auth::Certificate, Options::default());
    send_all(&mut sender, 3);
    assert!(sender.flush(None).unwrap().is_empty());
    send_range(&mut sender, 3..6);
    let failures = sender.flush(None).unwrap();

    assert!(failures.is_empty(), "{failures:?}");
    let stats = sender.stats();
    assert_eq!(
        (stats.sent, stats.failed, stats.resent, stats.reconnects),
        (6, 0, 0, 1)
    );
    let conns = sender.connection_stats();
    assert_eq!(
        (conns[0].goaways, conns[0].streams, conns[0].answered),
        (1, 6, 6)
    );
    drop(sender);
    script.join().unwrap();
    let seen = seen(&log);
    assert_eq!(tokens_on(&seen, 1), (0..3).map(token).collect::<Vec<_>>());
    assert_eq!(tokens_on(&seen, 2), (3..6).map(token).collect::<Vec<_>>());
}

#[test]
fn refused_streams_are_resent_on_the_same_connection() {
    let (dial, log, script) = serve(|mut server| async move {
        let mut peer = server.accept().await;
        let mut refused = std::collections::HashSet::new();
        while let Some(request) = peer.next().await {
            if refused.insert(request.seen.token().to_string()) {
                request.reset(Reason::REFUSED_STREAM);
            } else {
                request.ok();
            }
        }
    });
    let mut sender = engine(dial, Auth::Certificate, Options::default());
    send_all(&mut sender, 5);
    let failures = sender.flush(None).unwrap();

    assert!(failures.is_empty(), "{failures:?}");
    let stats = sender.stats();
    assert_eq!((stats.failed, stats.resent, stats.reconnects), (0, 5, 0));
    // A refused stream is the stream's business: the connection goes on.
    assert_eq!(sender.connection_stats()[0].goaways, 0);
    drop(sender);
    script.join().unwrap();
    let seen = seen(&log);
    assert_eq!(counts(&seen), (0..5).map(|i| (token(i), 2)).collect());
    assert!(seen.iter().all(|s| s.conn == 1));
}

#[test]
fn the_server_stream_limit_is_respected() {
    const LIMIT: usize = 3;
    const N: usize = 10;
    let (dial, log, script) = serve(|mut server| async move {
        server.max_streams = Some(LIMIT as u32);
        let mut peer = server.accept().await;
        // Requests are held until LIMIT are open (or all came): the most held
        // at once is the engine's concurrency.
        let (mut held, mut received, mut most) = (Vec::new(), 0, 0);
        while let Some(request) = peer.next().await {
            held.push(request);
            received += 1;
            most = most.max(held.len());
            if held.len() == LIMIT || received == N {
                held.drain(..).for_each(|r| r.ok());
            }
        }
        most
    });
    let mut sender = engine(dial, Auth::Certificate, Options::default());
    send_all(&mut sender, N);
    let failures = sender.flush(None).unwrap();

    assert!(failures.is_empty(), "{failures:?}");
    // A stream beyond the limit would have been refused by the server, and resent.
    assert_eq!((sender.stats().resent, sender.stats().failed), (0, 0));
    drop(sender);
    assert_eq!(script.join().unwrap(), LIMIT);
    assert_eq!(counts(&seen(&log)), (0..N).map(|i| (token(i), 1)).collect());
}

#[test]
fn token_auth_starts_with_one_stream_and_remints_an_expired_token() {
    const N: usize = 4;
    let (dial, log, script) = serve(|mut server| async move {
        let mut peer = server.accept().await;
        // Until a response other than 403, one stream at a time.
        let first = peer.next().await.unwrap();
        assert!(
            peer.quiet().await,
            "a second stream before the token was accepted"
        );
        first.reply(403, Some("ExpiredProviderToken"));
        let retried = peer.next().await.unwrap();
        assert!(
            peer.quiet().await,
            "a second stream before the token was accepted"
        );
        retried.ok();
        peer.ok_until_closed().await;
    });
    let mut sender = engine(dial, token_auth(), Options::default());
    send_all(&mut sender, N);
    let failures = sender.flush(None).unwrap();

    assert!(failures.is_empty(), "{failures:?}");
    let stats = sender.stats();
    assert_eq!((stats.failed, stats.resent), (0, 1));
    drop(sender);
    script.join().unwrap();
    let seen = seen(&log);
    assert_eq!(seen.len(), N + 1);
    let bearer = |s: &Seen| s.header("authorization").unwrap().to_string();
    // The retry is the same notification with a re-minted token, and every
    // later request carries the new one.
    assert_eq!(seen[0].token(), seen[1].token());
    assert!(
        bearer(&seen[0]).starts_with("bearer ey"),
        "{}",
        bearer(&seen[0])
    );
    assert_ne!(bearer(&seen[0]), bearer(&seen[1]));
    assert!(seen[1..].iter().all(|s| bearer(s) == bearer(&seen[1])));
    assert!(seen.iter().all(|s| s.header("apns-topic") == Some(TOPIC)));
    assert_eq!(counts(&seen[1..]), (0..N).map(|i| (token(i), 1)).collect());
}

#[test]
fn a_dropped_connection_resends_what_was_in_flight() {
    const N: usize = 5;
    let (dial, log, script) = serve(|mut server| async move {
        let mut first = server.accept().await;
        let in_flight = first.take(N).await;
        first.drop_connection().await;
        drop(in_flight);
        let mut second = server.accept().await;
        second.ok_until_closed().await;
    });
    let mut sender = engine(dial, Auth::Certificate, Options::default());
    send_all(&mut sender, N);
    let failures = sender.flush(None).unwrap();

    assert!(failures.is_empty(), "{failures:?}");
    let stats = sender.stats();
    assert_eq!(
        (stats.failed, stats.resent, stats.reconnects),
        (0, N as u64, 1)
    );
    assert_eq!(sender.connection_stats()[0].goaways, 1);
    drop(sender);
    script.join().unwrap();
    let seen = seen(&log);
    assert_eq!(counts(&seen), (0..N).map(|i| (token(i), 2)).collect());
    assert_eq!(seen.iter().filter(|s| s.conn == 2).count(), N);
}

#[test]
fn silence_ends_in_status_255_after_the_timeout() {
    const N: usize = 3;
    let (dial, log, script) = serve(|mut server| async move {
        let mut peer = server.accept().await;
        // Taken, never answered; held until the engine gives up and closes.
        let unanswered = peer.take(N).await;
        peer.closed().await;
        drop(unanswered);
    });
    let options = Options {
        timeout: Duration::from_millis(300),
        ..Options::default()
    };
    let mut sender = engine(dial, Auth::Certificate, options);
    send_all(&mut sender, N);
    let err = sender.flush(None).unwrap_err();

    assert!(matches!(err, Error::Undelivered(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("gave up on api.push.test:443 after 0.3 s without progress")
            && message.contains(
                "3 notification(s) not answered are listed in failures() with status 255"
            ),
        "{message}"
    );
    let failures = sender.take_failures();
    assert_eq!(failures.len(), N);
    assert!(failures.iter().all(|f| f.status == 255), "{failures:?}");
    let mut ids: Vec<u32> = failures.iter().map(|f| f.identifier).collect();
    ids.sort();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(sender.stats().failed, N as u64);
    drop(sender);
    script.join().unwrap();
    assert_eq!(seen(&log).len(), N);
}

#[test]
fn an_expired_token_is_reminted_once_then_reported() {
    let (dial, log, script) = serve(|mut server| async move {
        let mut peer = server.accept().await;
        while let Some(request) = peer.next().await {
            request.reply(403, Some("ExpiredProviderToken"));
        }
    });
    let mut sender = engine(dial, token_auth(), Options::default());
    send_all(&mut sender, 1);
    let failures = sender.flush(None).unwrap();

    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        (
            failures[0].status,
            failures[0].reason.as_str(),
            failures[0].identifier
        ),
        (403, "ExpiredProviderToken", 1)
    );
    drop(sender);
    script.join().unwrap();
    let seen = seen(&log);
    assert_eq!(seen.len(), 2);
    assert_ne!(
        seen[0].header("authorization"),
        seen[1].header("authorization")
    );
}

/// A dialer whose every dial ends as `result` says.
struct FixedDial(fn() -> Result<dial::Dialed>);

impl Dial for FixedDial {
    fn dial(&self, _: &str, _: tokio::time::Instant, _: Duration) -> dial::Dialing<'_> {
        Box::pin(std::future::ready((self.0)()))
    }
}

#[test]
fn the_dialers_verdict_reaches_the_caller() {
    let endpoint = Endpoint::parse("https://api.push.test:8443").unwrap();
    let connect = |dial: FixedDial| {
        Http2Sender::with_dialer(
            endpoint.clone(),
            Box::new(dial),
            Auth::Certificate,
            None,
            Options::default(),
        )
        .unwrap_err()
        .to_string()
    };
    // A peer that did not agree to HTTP/2: nothing of the stream is used.
    let no_h2 = connect(FixedDial(|| {
        Ok(dial::Dialed {
            io: Box::new(tokio::io::empty()),
            h2: false,
        })
    }));
    assert_eq!(
        no_h2,
        "api.push.test:8443 does not speak HTTP/2 (it did not accept ALPN h2): for the \
         binary protocol use an ssl:// URL"
    );
    // The dialer's own error, as it said it.
    let refused = connect(FixedDial(|| {
        Err(Error::Connect(crate::error::ConnectError::Failed {
            peer: "api.push.test:8443".into(),
            cause: "refused".into(),
        }))
    }));
    assert!(
        refused.ends_with("cannot connect to api.push.test:8443: refused"),
        "{refused}"
    );
}

#[test]
fn an_outage_ends_in_status_255_with_the_connect_error_after_the_timeout() {
    const N: usize = 3;
    let (dial, log, script) = serve(|mut server| async move {
        let mut peer = server.accept().await;
        let in_flight = peer.take(N).await;
        // No connection is accepted any more; then this one drops.
        drop(server);
        peer.drop_connection().await;
        drop(in_flight);
    });
    let options = Options {
        // Long enough that the drop is seen well before it.
        timeout: Duration::from_secs(1),
        ..Options::default()
    };
    let mut sender = engine(dial, Auth::Certificate, options);
    send_all(&mut sender, N);
    let err = sender.flush(None).unwrap_err().to_string();

    assert_eq!(
        err,
        "gave up on api.push.test:443 after 1 s without progress: cannot connect to \
         api.push.test:443: script over; 3 notification(s) not answered are listed in \
         failures() with status 255"
    );
    let failures = sender.take_failures();
    assert_eq!(failures.len(), N, "{failures:?}");
    for failure in &failures {
        assert_eq!(failure.status, 255);
        assert_eq!(
            failure.reason,
            "Not delivered: the server did not answer (cannot connect to api.push.test:443: \
             script over)"
        );
    }
    let stats = sender.stats();
    assert_eq!(
        (stats.failed, stats.pending, stats.connected),
        (3, 0, false)
    );
    drop(sender);
    script.join().unwrap();
    assert_eq!(seen(&log).len(), N);
}

/// The outage test's dialer: the first dial is the script's pipe; later ones
/// fail (as a gateway that does not answer) at the deadline they are given,
/// noting it, until `online`; then the script's pipes again.
struct OutageDial {
    pipe: PipeDial,
    dials: std::sync::atomic::AtomicUsize,
    state: Arc<OutageState>,
}

#[derive(Default)]
struct OutageState {
    online: std::sync::atomic::AtomicBool,
    deadlines: std::sync::Mutex<Vec<Instant>>,
}

impl Dial for OutageDial {
    fn dial(
        &self,
        peer: &str,
        deadline: tokio::time::Instant,
        timeout: Duration,
    ) -> dial::Dialing<'_> {
        use std::sync::atomic::Ordering;
        let first = self.dials.fetch_add(1, Ordering::SeqCst) == 0;
        if first || self.state.online.load(Ordering::SeqCst) {
            return self.pipe.dial(peer, deadline, timeout);
        }
        self.state
            .deadlines
            .lock()
            .unwrap()
            .push(deadline.into_std());
        let peer = peer.to_string();
        Box::pin(async move {
            // Never past a few seconds, so that a dial given the whole
            // `timeout` fails the assertion below instead of hanging the test.
            let cap = tokio::time::Instant::now() + Duration::from_secs(3);
            tokio::time::sleep_until(deadline.min(cap)).await;
            Err(Error::Timeout(crate::error::TimeoutError {
                peer,
                after: timeout,
                what: crate::error::Unfinished::Http2Connect,
            }))
        })
    }
}

#[test]
fn a_timed_flush_bounds_reconnecting_and_loses_nothing() {
    const N: usize = 3;
    let (drop_now, dropped) = tokio::sync::oneshot::channel::<()>();
    let (pipe, log, script) = serve(move |mut server| async move {
        let mut first = server.accept().await;
        dropped.await.unwrap();
        let unanswered = first.take(N).await;
        first.drop_connection().await;
        drop(unanswered);
        let mut second = server.accept().await;
        second.ok_until_closed().await;
    });
    let state = Arc::new(OutageState::default());
    let dial = OutageDial {
        pipe,
        dials: Default::default(),
        state: Arc::clone(&state),
    };
    let endpoint = Endpoint::parse("https://api.push.test").unwrap();
    let options = Options {
        timeout: Duration::from_secs(30),
        ..Options::default()
    };
    let mut sender = Http2Sender::with_dialer(
        endpoint,
        Box::new(dial),
        Auth::Certificate,
        Some(TOPIC.into()),
        options,
    )
    .unwrap();
    send_all(&mut sender, N);
    drop_now.send(()).unwrap();

    // The gateway is gone: the timed flush returns at its own deadline with
    // nothing reported, everything still queued.
    let failures = sender.flush(Some(Duration::from_millis(200))).unwrap();
    let returned_at = Instant::now();
    assert_eq!(failures, []);
    let stats = sender.stats();
    assert_eq!(
        (stats.pending, stats.failed, stats.connected),
        (N as u64, 0, false)
    );
    // Every reconnect inside it was bounded by the flush's deadline, not by
    // the 30 s `timeout`.
    let deadlines = state.deadlines.lock().unwrap().clone();
    assert!(!deadlines.is_empty(), "no reconnect was tried");
    assert!(
        deadlines.iter().all(|&d| d <= returned_at),
        "{deadlines:?} vs {returned_at:?}"
    );

    // The gateway is back: the next flush delivers each notification once more.
    state
        .online
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(sender.flush(None).unwrap(), []);
    let stats = sender.stats();
    assert_eq!((stats.pending, stats.failed, stats.reconnects), (0, 0, 1));
    drop(sender);
    script.join().unwrap();
    let seen = seen(&log);
    let all: Vec<String> = (0..N).map(token).collect();
    assert_eq!(tokens_on(&seen, 1), all);
    assert_eq!(tokens_on(&seen, 2), all);
}

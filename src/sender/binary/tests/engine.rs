//! The [`Engine`] trait over the scripted binary gateway: a batch run generic
//! over the engine (as `sendMany` runs it), and single calls through
//! `dyn Engine` (as every other PHP call goes), with what the user sees: the
//! gateway's log, the failure list, the error messages.

use super::*;
use crate::sender::engine::{Engine, Tunables};
use crate::sender::notification::{Notification, SendOptions, Token};
use crate::sender::{identifiers, reject};

/// `sendMany`'s loop, generic over the engine: (queued, refused before sending).
fn run_batch<E: Engine>(
    engine: &mut E,
    tokens: &[Token<'_>],
    options: &SendOptions,
) -> (u64, Vec<Failure>) {
    let checked = engine.check_payload(PAYLOAD).unwrap();
    let mut sent = 0;
    let mut rejected = Vec::new();
    for (index, &token) in tokens.iter().enumerate() {
        let index = index as u64;
        let n = Notification {
            token,
            payload: PAYLOAD,
            identifier: identifiers::nth(options.identifier, index),
            options,
        };
        match engine.send_or_reject(&n, checked, index).unwrap() {
            None => sent += 1,
            Some(f) => rejected.push(f),
        }
    }
    (sent, rejected)
}

#[test]
fn a_batch_with_bad_tokens_sends_the_good_and_lists_the_bad() {
    let invalid: HashSet<u8> = [0xbb].into();
    let (mut s, gw) = rejecting(&invalid);
    let good = token::to_hex(&token(0xaa, 1));
    let spaced = format!("<{} {}>", &good[..32], &good[32..]);
    let refused_by_gateway = token::to_hex(&token(0xbb, 2));
    let texts = [
        good.as_str(),
        "   ",
        "zz",
        "abcd",
        spaced.as_str(),
        refused_by_gateway.as_str(),
    ];
    let mut tokens: Vec<Token<'_>> = texts.iter().map(|t| Token::Text(t.as_bytes())).collect();
    tokens.insert(3, Token::NotText("int"));
    let options = SendOptions {
        identifier: Some(100),
        ..SendOptions::default()
    };
    let (sent, rejected) = run_batch(&mut s, &tokens, &options);
    assert_eq!(sent, 3);
    let rows: Vec<(u32, &str, u32, &str)> = rejected
        .iter()
        .map(|f| (f.identifier, f.token.as_str(), f.status, f.reason.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (101, "   ", 2, "Missing device token (token #1: device token is empty)"),
            (
                102,
                "zz",
                8,
                "Invalid token (token #2: device token is not hex: 'z' at character 1)"
            ),
            (103, "", 8, "Invalid token (token #3: expected a hex string, got int)"),
            (
                104,
                "abcd",
                5,
                "Invalid token size (token #4: device token is 2 bytes (4 hex digits); the binary protocol needs 32 bytes (64 hex digits))"
            ),
        ]
    );
    // The gateway saw the good ones, with the batch's identifiers; the one it
    // refused is in the failures under the caller's identifier.
    let failures = Engine::flush(&mut s, None).unwrap();
    assert_eq!(
        failures
            .iter()
            .map(|f| (f.identifier, f.token.clone(), f.status))
            .collect::<Vec<_>>(),
        [(106, refused_by_gateway.clone(), 8)]
    );
    let logged: Vec<(String, u32)> = gw
        .borrow()
        .log
        .iter()
        .map(|(_, t, _, _)| token::to_hex(t))
        .zip([100, 105])
        .collect();
    assert_eq!(logged, [(good.clone(), 100), (good, 105)]);
    assert_eq!(Engine::stats(&s).sent, 3);
}

#[test]
fn single_calls_through_dyn_engine() {
    let invalid: HashSet<u8> = [0xbb].into();
    let (mut s, gw) = rejecting(&invalid);
    let engine: &mut dyn Engine = &mut s;
    assert_eq!(
        (engine.protocol_name(), engine.is_connected()),
        ("binary", true)
    );
    assert!(engine.connection_stats().is_none());
    let options = SendOptions::default();
    let good = token::to_hex(&token(0xaa, 1));
    let send = |engine: &mut dyn Engine, token: &str, payload: &[u8]| {
        engine.send(&Notification {
            token: Token::Text(token.as_bytes()),
            payload,
            identifier: None,
            options: &options,
        })
    };
    // The default identifiers count from 1; refused input takes none.
    assert_eq!(send(engine, &good, PAYLOAD), Ok(1));
    assert_eq!(
        send(engine, "abcd", PAYLOAD).unwrap_err(),
        reject::binary_token_or_error(Token::Text(b"abcd")).unwrap_err()
    );
    assert_eq!(
        send(engine, &good, b"[1]").unwrap_err().to_string(),
        "payload must be a JSON object (like {\"aps\":{\"alert\":\"Hi\"}})"
    );
    assert!(engine.check_payload(b"").is_err());
    assert_eq!(send(engine, &good, PAYLOAD), Ok(2));
    // Raw frames go through the same engine.
    let mut frame = Vec::new();
    binary::encode(
        &Frame {
            command: Command::Enhanced,
            token: Some(&token(0xbb, 3)),
            payload: Some(PAYLOAD),
            identifier: 42,
            expiry: 0,
            priority: 10,
        },
        &mut frame,
    );
    assert_eq!(engine.write_frames(&frame), Ok(frame.len()));
    let failures = engine.flush(None).unwrap();
    assert_eq!(
        failures
            .iter()
            .map(|f| (f.identifier, f.status))
            .collect::<Vec<_>>(),
        [(42, 8)]
    );
    assert_eq!(engine.take_error_response().map(|r| r.identifier), Some(42));
    assert_eq!(gw.borrow().log.len(), 2);
    engine
        .hand_over(&Tunables {
            timeout: Duration::from_millis(500),
            window: 10,
            max_streams: 1,
            connections: 1,
        })
        .unwrap();
    assert_eq!(engine.close(), Ok(Vec::new()));
    assert_eq!(send(engine, &good, PAYLOAD), Err(Error::Closed));
}

#[test]
fn a_payload_the_batch_check_does_not_cover_is_checked_per_notification() {
    let (mut s, gw) = rejecting(&HashSet::new());
    let checked = Engine::check_payload(&mut s, PAYLOAD).unwrap();
    assert!(checked.covers(PAYLOAD, crate::protocol::payload::BINARY_MAX_PAYLOAD));
    let other_copy = PAYLOAD.to_vec();
    assert!(!checked.covers(&other_copy, crate::protocol::payload::BINARY_MAX_PAYLOAD));
    let good = token::to_hex(&token(0xaa, 1));
    let options = SendOptions::default();
    let n = |payload| Notification {
        token: Token::Text(good.as_bytes()),
        payload,
        identifier: None,
        options: &options,
    };
    assert_eq!(
        s.send_or_reject(&n(b"[1]"), checked, 0)
            .unwrap_err()
            .to_string(),
        "payload must be a JSON object (like {\"aps\":{\"alert\":\"Hi\"}})"
    );
    assert_eq!(s.send_or_reject(&n(&other_copy), checked, 1), Ok(None));
    assert_eq!(Engine::flush(&mut s, None), Ok(Vec::new()));
    assert_eq!(gw.borrow().log.len(), 1);
}

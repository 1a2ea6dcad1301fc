//! The binary gateway as a client sees it: the built `apns-sandbox serve`,
//! a rustls client, the bytes that come back and the JSONL log.

mod common;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use apns::protocol::binary::{encode, Command, Frame};
use common::*;

#[test]
fn three_commands_are_logged_with_their_fields() {
    let sandbox = Sandbox::start(&[]);
    let mut client = sandbox.connect("client.pem");
    let mut bytes = frame(Command::Simple, 0, &token(0xa0), br#"{"n":0}"#);
    let mut framed = Vec::new();
    encode(
        &Frame {
            command: Command::Framed,
            token: Some(&token(0xa2)),
            payload: Some(br#"{"aps":{"alert":"a \"b\""}}"#),
            identifier: 7,
            expiry: 1_900_000_000,
            priority: 5,
        },
        &mut framed,
    );
    let mut enhanced_with_expiry = Vec::new();
    encode(
        &Frame {
            command: Command::Enhanced,
            token: Some(&token(0xa1)),
            payload: Some(br#"{"n":1}"#),
            identifier: 0x01020304,
            expiry: 42,
            priority: 10,
        },
        &mut enhanced_with_expiry,
    );
    bytes.extend(enhanced_with_expiry);
    bytes.extend(framed);
    bytes.extend(sentinel(99));
    send(&mut client, &bytes);
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(8, 99));

    let lines = sandbox.log_lines();
    let want = [
        (0, 0u64, "a0", r#"{"n":0}"#, 0u64, 10),
        (1, 0x01020304, "a1", r#"{"n":1}"#, 42, 10),
        (
            2,
            7,
            "a2",
            r#"{"aps":{"alert":"a \"b\""}}"#,
            1_900_000_000,
            5,
        ),
    ];
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (i, (line, (command, id, tok, payload, expiry, priority))) in
        lines.iter().zip(want).enumerate()
    {
        assert_eq!(line["conn"], 1);
        assert_eq!(line["seq"], i as u64 + 1);
        assert_eq!(line["command"], command);
        assert_eq!(line["identifier"], id);
        assert_eq!(line["token"], tok.repeat(32));
        assert_eq!(line["payload"], payload);
        assert_eq!(line["expiry"], expiry);
        assert_eq!(line["priority"], priority);
    }
}

#[test]
fn a_listed_token_gets_status_8_and_what_follows_is_discarded() {
    let dir = temp_dir("invalid");
    let list = dir.join("invalid.txt");
    std::fs::write(&list, format!("{}\n", hex::encode(token(0xbb)))).unwrap();
    let sandbox = Sandbox::start(&["--invalid-tokens", list.to_str().unwrap()]);
    let mut client = sandbox.connect("client.pem");
    let mut bytes = enhanced(1, &token(0xaa));
    bytes.extend(frame(Command::Framed, 0x0808, &token(0xbb), PAYLOAD));
    bytes.extend(enhanced(3, &token(0xcc)));
    send(&mut client, &bytes);
    assert_eq!(read_to_end(&mut client).unwrap(), [8, 8, 0, 0, 8, 8]);
    let ids = sandbox.logged_identifiers();
    assert_eq!(ids, [1]);
}

#[test]
fn content_errors_get_apples_status_and_bad_bytes_get_silence() {
    let sandbox = Sandbox::start(&[]);
    // Token of 31 bytes: status 5 with the identifier.
    let mut client = sandbox.connect("client.pem");
    send(&mut client, &frame(Command::Framed, 5, &[1; 31], PAYLOAD));
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(5, 5));
    // Payload over 2048 bytes: status 7.
    let mut client = sandbox.connect("client.pem");
    send(
        &mut client,
        &frame(Command::Enhanced, 6, &token(1), &[b'x'; 2049]),
    );
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(7, 6));
    // Unknown command byte: close, no reply.
    let mut client = sandbox.connect("client.pem");
    let mut bytes = enhanced(1, &token(2));
    bytes.extend([9, 0, 0, 0]);
    send(&mut client, &bytes);
    assert_eq!(read_to_end(&mut client).unwrap(), b"");
    // A bad command-0 frame has no identifier to report: close, no reply.
    let mut client = sandbox.connect("client.pem");
    send(&mut client, &frame(Command::Simple, 0, &[1; 31], PAYLOAD));
    assert_eq!(read_to_end(&mut client).unwrap(), b"");
    assert_eq!(sandbox.log_lines().len(), 1);
}

#[test]
fn shutdown_every_2_answers_10_with_the_second_identifier() {
    let sandbox = Sandbox::start(&["--shutdown-every", "2"]);
    let mut client = sandbox.connect("client.pem");
    let mut bytes = Vec::new();
    for id in [11, 12, 13] {
        bytes.extend(enhanced(id, &token(id as u8)));
    }
    send(&mut client, &bytes);
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(10, 12));
    let ids = sandbox.logged_identifiers();
    assert_eq!(ids, [11, 12]);

    // The count is global: the next connection's 2nd notification is the 4th.
    let mut client = sandbox.connect("client.pem");
    send(
        &mut client,
        &[enhanced(21, &token(1)), enhanced(22, &token(2))].concat(),
    );
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(10, 22));
    assert_eq!(sandbox.log_lines()[3]["conn"], 2);
}

#[test]
fn drop_every_closes_without_a_word() {
    let sandbox = Sandbox::start(&["--drop-every", "2"]);
    let mut client = sandbox.connect("client.pem");
    let bytes = [
        enhanced(1, &token(1)),
        enhanced(2, &token(2)),
        enhanced(3, &token(3)),
    ]
    .concat();
    send(&mut client, &bytes);
    // No bytes; the end comes without close_notify, like a lost connection.
    match read_to_end(&mut client) {
        Ok(got) => assert_eq!(got, b""),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
    }
    let ids = sandbox.logged_identifiers();
    assert_eq!(ids, [1, 2]);
}

#[test]
fn a_client_certificate_from_another_ca_is_refused() {
    let sandbox = Sandbox::start(&[]);
    let refused = match try_connect(sandbox.binary, config("other-client.pem", "ca.pem", false)) {
        // TLS 1.3: the client finishes its side first; the refusal shows on the next read.
        Ok(mut client) => {
            let _ = std::io::Write::write_all(&mut client, &enhanced(1, &token(1)));
            let _ = std::io::Write::flush(&mut client);
            read_to_end(&mut client).is_err()
        }
        Err(_) => true,
    };
    assert!(refused, "the gateway accepted a certificate from other-ca");
    // Not logged, and the server is still serving.
    let mut client = sandbox.connect("client.pem");
    send(&mut client, &sentinel(5));
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(8, 5));
    assert!(sandbox.log_lines().is_empty());
}

#[test]
fn rsa_and_tls12_clients_are_served() {
    let sandbox = Sandbox::start(&[]);
    for (pem, tls12) in [
        ("rsa-client.pem", false),
        ("client.pem", true),
        ("rsa-client.pem", true),
    ] {
        let mut client = try_connect(sandbox.binary, config(pem, "ca.pem", tls12)).unwrap();
        send(&mut client, &[enhanced(1, &token(1)), sentinel(2)].concat());
        assert_eq!(
            read_to_end(&mut client).unwrap(),
            error_response(8, 2),
            "{pem} tls12={tls12}"
        );
    }
    assert_eq!(sandbox.log_lines().len(), 3);
}

#[test]
fn a_server_certificate_from_another_ca_is_not_trusted() {
    let sandbox = Sandbox::start(&["--server-cert", "other-server"]);
    let err = try_connect(sandbox.binary, config("client.pem", "ca.pem", false)).err();
    assert!(err.is_some(), "the client trusted other-server.pem");
    // Trusting other-ca.pem, the same server is fine.
    let mut client =
        try_connect(sandbox.binary, config("client.pem", "other-ca.pem", false)).unwrap();
    send(&mut client, &sentinel(1));
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(8, 1));
}

#[test]
fn frames_split_across_writes_and_many_frames_in_order() {
    let sandbox = Sandbox::start(&[]);
    let mut client = sandbox.connect("client.pem");
    let mut bytes = Vec::new();
    for id in 1..=2000u32 {
        bytes.extend(enhanced(id, &token((id % 250) as u8 + 1)));
    }
    bytes.extend(sentinel(9999));
    for piece in bytes.chunks(777) {
        send(&mut client, piece);
    }
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(8, 9999));
    let lines = sandbox.log_lines();
    assert_eq!(lines.len(), 2000);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["identifier"], i as u64 + 1);
        assert_eq!(line["seq"], i as u64 + 1);
    }
}

#[test]
fn the_log_is_flushed_before_the_server_waits() {
    let sandbox = Sandbox::start(&[]);
    let mut client = sandbox.connect("client.pem");
    send(&mut client, &enhanced(1, &token(1)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while sandbox.log_lines().is_empty() {
        assert!(Instant::now() < deadline, "the line never reached the file");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(sandbox.log_lines()[0]["identifier"], 1);
}

#[test]
fn slow_read_limits_the_rate() {
    let sandbox = Sandbox::start(&["--slow-read", "2000"]);
    let mut client = sandbox.connect("client.pem");
    let one = enhanced(1, &token(1));
    let count = 3000 / one.len() + 1;
    let mut bytes = one.repeat(count);
    bytes.extend(sentinel(2));
    let started = Instant::now();
    send(&mut client, &bytes);
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(8, 2));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1200),
        "{} bytes in {took:?}",
        bytes.len()
    );
    assert_eq!(sandbox.log_lines().len(), count);
}

#[test]
fn sink_counts_and_sigterm_prints_the_total() {
    let sandbox = Sandbox::start(&["--sink"]);
    let mut client = sandbox.connect("client.pem");
    // No validation and no log, but clients' probes (the all-zero token) are
    // still answered, and nothing after one is counted.
    send(
        &mut client,
        &[
            enhanced(1, &token(1)),
            enhanced(2, &token(2)),
            sentinel(3),
            enhanced(4, &token(4)),
        ]
        .concat(),
    );
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(8, 3));
    std::thread::sleep(Duration::from_millis(300));
    assert!(sandbox.log_lines().is_empty());
    let (out, status) = sandbox.terminate();
    assert!(status.success(), "{status:?}");
    assert_eq!(out, "accepted 2\n");
}

#[test]
fn sigterm_flushes_the_log_and_exits_0() {
    let sandbox = Sandbox::start(&[]);
    let mut client = sandbox.connect("client.pem");
    send(&mut client, &[enhanced(1, &token(1)), sentinel(2)].concat());
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(8, 2));
    let log = sandbox.log.clone();
    let (out, status) = sandbox.terminate();
    assert!(status.success(), "{status:?}");
    assert_eq!(out, "accepted 1\n");
    assert_eq!(std::fs::read_to_string(log).unwrap().lines().count(), 1);
}

#[test]
fn ports_file_and_exit_after() {
    let dir = temp_dir("ports");
    let ports = dir.join("ports");
    let out = std::process::Command::new(BIN)
        .arg("serve")
        .arg("--certs")
        .arg(certs())
        .arg("--ports-file")
        .arg(&ports)
        .args(["--exit-after", "0.3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    let binary = lines[0].strip_prefix("binary ").unwrap();
    let feedback = lines[1].strip_prefix("feedback ").unwrap();
    let http2 = lines[2].strip_prefix("http2 ").unwrap();
    assert_eq!(&lines[3..], ["ready", "accepted 0"]);
    assert_eq!(
        std::fs::read_to_string(&ports).unwrap(),
        format!("binary={binary}\nfeedback={feedback}\nhttp2={http2}\n")
    );
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    for args in [
        vec!["serve"],
        vec!["serve", "--certs", "/nonexistent"],
        vec!["bogus"],
    ] {
        let out = std::process::Command::new(BIN)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("apns-sandbox: "), "{args:?}: {err}");
    }
}

#[test]
fn error_delay_answers_late_and_discards_what_follows_meanwhile() {
    let sandbox = Sandbox::start(&["--error-delay", "0.5"]);
    let mut client = sandbox.connect("client.pem");
    let mut bytes = enhanced(1, &token(0xaa));
    bytes.extend(sentinel(2));
    bytes.extend(enhanced(3, &token(0xcc)));
    send(&mut client, &bytes);
    // No answer yet (it is at least half a second late)…
    client
        .sock
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut chunk = [0u8; 16];
    let early = client.read(&mut chunk);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{early:?}"
    );
    // …and the gateway still reads what the client writes meanwhile, then discards it.
    send(&mut client, &enhanced(4, &token(0xdd)));
    client.sock.set_read_timeout(None).unwrap();
    assert_eq!(read_to_end(&mut client).unwrap(), error_response(8, 2));
    let ids = sandbox.logged_identifiers();
    assert_eq!(ids, [1]);
}

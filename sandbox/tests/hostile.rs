//! `serve --hostile MODE`: what bytes a client sees in each mode, and the
//! expired / other-host server certificates.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

/// Connects, sends one valid frame and returns the client.
fn one_frame(sandbox: &Sandbox) -> Client {
    let mut client = sandbox.connect("client.pem");
    send(&mut client, &enhanced(1, &token(1)));
    client
}

/// Reads what arrives within `wait`: the bytes, and whether the stream ended.
fn read_for(
    client: &mut Client,
    wait: Duration,
    at_most: usize,
) -> (Vec<u8>, Option<std::io::Error>) {
    client.sock.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    while got.len() < at_most {
        match client.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) => return (got, Some(e)),
        }
    }
    (got, None)
}

fn is_timeout(e: &Option<std::io::Error>) -> bool {
    matches!(e, Some(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut))
}

#[test]
fn garbage_answers_http_text_and_keeps_the_connection() {
    let sandbox = Sandbox::start(&["--hostile", "garbage"]);
    let mut client = one_frame(&sandbox);
    let (got, err) = read_for(&mut client, Duration::from_millis(700), 1 << 20);
    assert_eq!(got, b"HTTP/1.1 400 Bad Request\r\n\r\n");
    assert!(is_timeout(&err), "the connection should stay open: {err:?}");
    assert!(sandbox.log_lines().is_empty());
}

#[test]
fn endless_streams_at_a_bounded_rate_until_the_client_leaves() {
    let sandbox = Sandbox::start(&["--hostile", "endless"]);
    let mut client = one_frame(&sandbox);
    let start = Instant::now();
    let (got, err) = read_for(&mut client, Duration::from_secs(2), 6 << 20);
    let secs = start.elapsed().as_secs_f64();
    assert!(err.is_none(), "{err:?}");
    assert!(got.len() >= 6 << 20, "{} bytes", got.len());
    assert_ne!(got[0], 8, "must not start like an error response");
    // 4 MiB/s: 6 MiB take more than a second.
    assert!(
        secs > 1.0,
        "{} bytes in {secs:.2} s: not rate-limited",
        got.len()
    );
    drop(client);
    // The client went away; the sandbox keeps serving others.
    let mut again = one_frame(&sandbox);
    let (got, _) = read_for(&mut again, Duration::from_secs(2), 1000);
    assert!(got.len() >= 1000);
    assert!(sandbox.log_lines().is_empty());
}

#[test]
fn unknown_id_names_an_identifier_never_sent_then_closes() {
    let sandbox = Sandbox::start(&["--hostile", "unknown-id"]);
    let mut client = one_frame(&sandbox);
    assert_eq!(
        read_to_end(&mut client).unwrap(),
        error_response(8, 0x7fff_ffff)
    );
    assert!(sandbox.log_lines().is_empty());
}

#[test]
fn stall_handshake_reads_the_client_hello_and_never_answers() {
    let sandbox = Sandbox::start(&["--hostile", "stall-handshake"]);
    let mut sock = TcpStream::connect(("127.0.0.1", sandbox.binary)).unwrap();
    // The start of a TLS ClientHello record (handshake, TLS 1.0 record version).
    sock.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0, 0, 1, 0])
        .unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut buf = [0u8; 64];
    let err = sock.read(&mut buf).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    // A real TLS client gets no further either.
    let cfg = config("client.pem", "ca.pem", false);
    let t = std::thread::spawn(move || {
        let sock = TcpStream::connect(("127.0.0.1", sandbox.binary)).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        let conn = rustls::ClientConnection::new(cfg, "localhost".try_into().unwrap()).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, sock);
        let mut r = Ok((0, 0));
        while tls.conn.is_handshaking() && r.is_ok() {
            r = tls.conn.complete_io(&mut tls.sock);
        }
        (r.map(drop), sandbox)
    });
    let (r, _sandbox) = t.join().unwrap();
    let err = r.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
}

#[test]
fn stall_record_sends_three_bytes_of_a_record_header_and_goes_silent() {
    let sandbox = Sandbox::start(&["--hostile", "stall-record"]);
    let mut client = one_frame(&sandbox);
    // Raw socket view: after the handshake (and any TLS 1.3 session tickets,
    // which rustls has already consumed or which arrive as whole records), the
    // last bytes are 17 03 03 and then nothing.
    client
        .sock
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match client.sock.read(&mut chunk) {
            Ok(0) => panic!("closed; got {raw:02x?}"),
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    assert!(raw.ends_with(&[0x17, 0x03, 0x03]), "{raw:02x?}");
    // Fed to TLS, those bytes are an incomplete record: no data, no error, no end.
    client.conn.read_tls(&mut &raw[..]).unwrap();
    client.conn.process_new_packets().unwrap();
    let mut plain = [0u8; 16];
    let r = client.conn.reader().read(&mut plain);
    assert_eq!(r.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    assert!(sandbox.log_lines().is_empty());
}

#[test]
fn expired_and_otherhost_server_certificates_are_refused() {
    for (name, want) in [
        ("expired-server", "Expired"),
        ("otherhost-server", "NotValidForName"),
    ] {
        let sandbox = Sandbox::start(&["--server-cert", name]);
        let err = try_connect(sandbox.binary, config("client.pem", "ca.pem", false))
            .err()
            .unwrap_or_else(|| panic!("the client trusted {name}.pem"));
        assert!(format!("{err:?}").contains(want), "{name}: {err:?}");
    }
}

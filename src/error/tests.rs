//! The messages users read (`ApnsException::getMessage()`), kind by kind, and
//! the codes they come with. The texts are literal on purpose: a changed
//! wording must show up here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use super::*;

const PEER: &str = "gateway.example:2195";

fn timeout(after_ms: u64, what: Unfinished) -> Error {
    Error::Timeout(TimeoutError {
        peer: PEER.into(),
        after: Duration::from_millis(after_ms),
        what,
    })
}

fn io(what: IoFailure) -> Error {
    Error::Io(IoError {
        peer: PEER.into(),
        what,
    })
}

/// Each error reads as its message, with `code`, and is worth a retry.
fn assert_retryable(cases: impl IntoIterator<Item = (Error, &'static str)>, code: i32) {
    for (e, want) in cases {
        assert_eq!(e.to_string(), want);
        assert_eq!(e.code(), code, "{want}");
        assert!(!e.is_fatal(), "{want}");
    }
}

fn protocol(what: ProtocolFailure) -> Error {
    Error::Protocol(ProtocolError {
        peer: PEER.into(),
        what,
    })
}

#[test]
fn connect_errors_name_the_host_or_the_peer() {
    let cases = [
        (
            ConnectError::Resolve {
                host: "nowhere.invalid".into(),
                cause: "no address found".into(),
            },
            "cannot resolve host 'nowhere.invalid': no address found",
        ),
        (
            ConnectError::Refused { peer: PEER.into() },
            "cannot connect to gateway.example:2195: connection refused (is the gateway running?)",
        ),
        (
            ConnectError::Failed {
                peer: PEER.into(),
                cause: "Network is unreachable (os error 101)".into(),
            },
            "cannot connect to gateway.example:2195: Network is unreachable (os error 101)",
        ),
    ];
    assert_retryable(
        cases.map(|(e, want)| (Error::Connect(e), want)),
        codes::CONNECT,
    );
}

#[test]
fn protocol_errors_keep_the_connect_code() {
    let cases = [
        (
            ProtocolFailure::NotHttp2,
            "gateway.example:2195 does not speak HTTP/2 (it did not accept ALPN h2): for the \
             binary protocol use an ssl:// URL",
        ),
        (
            ProtocolFailure::Handshake("connection reset".into()),
            "HTTP/2 handshake with gateway.example:2195 failed: connection reset",
        ),
        (
            ProtocolFailure::Closed("the server sent GOAWAY (connection error)".into()),
            "gateway.example:2195 closed the HTTP/2 connection: the server sent GOAWAY \
             (connection error)",
        ),
    ];
    assert_retryable(
        cases.map(|(what, want)| (protocol(what), want)),
        codes::CONNECT,
    );
}

#[test]
fn timeouts_say_what_did_not_finish_and_the_seconds_allowed() {
    let cases = [
        (
            timeout(2500, Unfinished::TcpConnect),
            "timed out after 2.5 s connecting to gateway.example:2195",
        ),
        (
            timeout(999, Unfinished::TlsHandshake),
            "TLS handshake with gateway.example:2195 did not finish within 1 s: the gateway \
             accepted the TCP connection but did not answer",
        ),
        (
            timeout(1500, Unfinished::Http2Connect),
            "could not connect to gateway.example:2195 within 1.5 s",
        ),
        (
            timeout(2000, Unfinished::Http2TlsHandshake),
            "TLS handshake with gateway.example:2195 did not finish within 2 s",
        ),
        (
            timeout(2000, Unfinished::Http2Handshake),
            "the HTTP/2 handshake with gateway.example:2195 did not finish within 2 s",
        ),
        (
            timeout(250, Unfinished::Http2Preface),
            "gateway.example:2195 did not answer the HTTP/2 connection preface within 0.25 s",
        ),
        (
            timeout(500, Unfinished::Handing { notifications: 7 }),
            "could not hand 7 notification(s) to gateway.example:2195 within 0.5 s",
        ),
        (
            timeout(2000, Unfinished::FeedbackRead { received: 76 }),
            "the feedback service at gateway.example:2195 sent nothing for 2.0 s (timeout) \
             after 76 bytes",
        ),
    ];
    assert_retryable(cases, codes::TIMEOUT);
}

#[test]
fn binary_transport_seconds_are_rounded_to_tenths() {
    assert_eq!(kinds::tenths(Duration::from_millis(999)), "1");
    assert_eq!(kinds::tenths(Duration::from_millis(2500)), "2.5");
    assert_eq!(kinds::tenths(Duration::from_millis(2449)), "2.4");
}

#[test]
fn io_errors_say_where_the_connection_broke() {
    let cases = [
        (
            IoFailure::SocketSetup("Bad file descriptor".into()),
            "cannot set up the socket to gateway.example:2195: Bad file descriptor",
        ),
        (
            IoFailure::DuringHandshake("Connection reset by peer (os error 104)".into()),
            "the connection to gateway.example:2195 broke during the TLS handshake: \
             Connection reset by peer (os error 104)",
        ),
        (
            IoFailure::Wait("Interrupted".into()),
            "cannot wait for the gateway gateway.example:2195: Interrupted",
        ),
        (
            IoFailure::AfterHandshake("Connection reset by peer (os error 104)".into()),
            "the connection to gateway.example:2195 broke right after the TLS handshake \
             (Connection reset by peer (os error 104)): the gateway may have refused the \
             client certificate",
        ),
        (
            IoFailure::FeedbackTooLong { limit: 1024 },
            "the feedback service at gateway.example:2195 sent more than 1024 bytes without \
             closing the connection",
        ),
        (
            IoFailure::FeedbackCut {
                trailing: 3,
                tuples: 2,
            },
            "the feedback service at gateway.example:2195 closed the connection inside a \
             tuple: 3 trailing bytes after 2 whole tuples",
        ),
        (
            IoFailure::FeedbackRead("broken pipe".into()),
            "reading from the feedback service at gateway.example:2195 failed: broken pipe",
        ),
    ];
    assert_retryable(cases.map(|(what, want)| (io(what), want)), codes::IO);
}

#[test]
fn tls_errors_keep_their_kind_and_only_refusals_are_fatal() {
    use TlsFailureKind as K;
    for (kind, fatal) in [
        (K::ClientCertRefused, true),
        (K::ServerNotTrusted, true),
        (K::Setup, true),
        (K::Protocol, false),
    ] {
        let message = format!("the gateway {PEER} said no");
        let e = Error::Tls(TlsFailure::new(kind, PEER, message.clone()));
        assert_eq!(e.to_string(), message);
        assert_eq!(e.code(), codes::TLS);
        assert_eq!(e.is_fatal(), fatal, "{kind:?}");
        let Error::Tls(f) = &e else { panic!() };
        assert_eq!((f.kind(), f.peer()), (kind, PEER));
    }
}

#[test]
fn credentials_errors_name_the_file_and_the_problem() {
    use CredentialsProblem as P;
    let cases = [
        (
            P::Unreadable {
                option: "local_cert".into(),
                cause: "No such file or directory (os error 2)".into(),
            },
            "cannot read local_cert '/etc/apns/ck.pem': No such file or directory (os error 2)",
        ),
        (
            P::WrongKeyPassphrase,
            "wrong passphrase for the private key in '/etc/apns/ck.pem'",
        ),
        (
            P::KeyMismatch {
                certificate: "/etc/apns/cert.pem".into(),
            },
            "the private key in '/etc/apns/ck.pem' does not match the certificate in \
             '/etc/apns/cert.pem'",
        ),
        (
            P::CertificateNotBase64 { option: "cafile" },
            "cafile '/etc/apns/ck.pem' holds a certificate that is not valid base64 PEM",
        ),
        (
            P::UnusableTrustAnchor {
                number: 2,
                cause: "bad encoding".into(),
            },
            "cafile '/etc/apns/ck.pem': certificate #2 cannot be used as a trust anchor: bad \
             encoding",
        ),
    ];
    for (problem, want) in cases {
        let e = Error::credentials("/etc/apns/ck.pem", problem.clone());
        assert_eq!(e.to_string(), want);
        assert_eq!(e.code(), codes::CREDENTIALS);
        let Error::Credentials(c) = &e else { panic!() };
        assert_eq!(
            (c.file.as_str(), &c.problem),
            ("/etc/apns/ck.pem", &problem)
        );
    }
}

//! Test helpers for the TLS stream and its connecting: a test PKI made with
//! rcgen, one-connection rustls servers on 127.0.0.1, and loops that drive a
//! [`Link`] the way the engine does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    ClientConfig, RootCertStore, ServerConfig, ServerConnection, StreamOwned,
    SupportedProtocolVersion,
};

use crate::test_support::fresh_temp_dir;

use super::endpoint::{Endpoint, Protocol};
use super::stream::TlsStream;
use super::tls::{client_config, TlsOptions};
use super::{Interest, Link};
use crate::error::{Error, Result};

/// A test PKI, written once per run into a temp dir:
/// `ca.pem` signs the server (`localhost`, `127.0.0.1`) and `client.pem`;
/// `other-ca.pem` signs `stranger.pem`, a client the server does not trust.
pub(super) struct Pki {
    pub(super) dir: PathBuf,
    pub(super) ca: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

pub(super) fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

pub(super) fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &CertifiedIssuer<'static, KeyPair>,
) -> (rcgen::Certificate, KeyPair) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "apns test");
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert, key)
}

pub(super) fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = fresh_temp_dir("apns-stream-pki");
        let good = ca("apns test CA");
        let other = ca("some other CA");
        let (server, server_key) = leaf(
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &good,
        );
        let (client, client_key) = leaf(&[], ExtendedKeyUsagePurpose::ClientAuth, &good);
        let (stranger, stranger_key) = leaf(&[], ExtendedKeyUsagePurpose::ClientAuth, &other);
        std::fs::write(dir.join("ca.pem"), good.pem()).unwrap();
        std::fs::write(dir.join("other-ca.pem"), other.pem()).unwrap();
        std::fs::write(
            dir.join("client.pem"),
            client.pem() + &client_key.serialize_pem(),
        )
        .unwrap();
        std::fs::write(
            dir.join("stranger.pem"),
            stranger.pem() + &stranger_key.serialize_pem(),
        )
        .unwrap();
        Pki {
            dir,
            ca: good.der().clone(),
            server_chain: vec![server.der().clone(), good.der().clone()],
            server_key: server_key.serialize_der(),
        }
    })
}

pub(super) fn server_config(
    version: &'static SupportedProtocolVersion,
    require_client_cert: bool,
) -> Arc<ServerConfig> {
    let pki = pki();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[version])
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = RootCertStore::empty();
        roots.add(pki.ca.clone()).unwrap();
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone()));
    Arc::new(
        builder
            .with_single_cert(pki.server_chain.clone(), key)
            .unwrap(),
    )
}

/// Accepts one connection on `listener` as a rustls server (reads time out after 20 s).
pub(super) fn accept_tls(
    listener: &TcpListener,
    config: Arc<ServerConfig>,
) -> StreamOwned<ServerConnection, TcpStream> {
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    StreamOwned::new(ServerConnection::new(config).unwrap(), tcp)
}

/// A one-connection rustls server on 127.0.0.1: echoes (or just collects)
/// what it reads until the end of the stream or an error; returns what it read.
pub(super) fn serve(config: Arc<ServerConfig>, echo: bool) -> (u16, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let mut tls = accept_tls(&listener, config);
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match tls.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if echo && tls.write_all(&buf[..n]).and_then(|()| tls.flush()).is_err() {
                        break;
                    }
                }
            }
        }
        got
    });
    (port, handle)
}

pub(super) fn local(port: u16) -> Endpoint {
    Endpoint {
        protocol: Protocol::Binary,
        host: "127.0.0.1".into(),
        port,
    }
}

pub(super) fn client(cert: Option<&str>, cafile: &str) -> Arc<ClientConfig> {
    let dir = &pki().dir;
    let opts = TlsOptions {
        local_cert: cert.map(|c| dir.join(c)),
        cafile: Some(dir.join(cafile)),
        ..TlsOptions::default()
    };
    client_config(&opts, &[]).unwrap()
}

/// A stream to the test server on `port`, with the client certificate.
pub(super) fn connect_with_cert(port: u16) -> TlsStream {
    TlsStream::connect(
        &local(port),
        "localhost",
        client(Some("client.pem"), "ca.pem"),
        soon(),
    )
    .unwrap()
}

pub(super) fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

pub(super) fn tls_error(r: Result<TlsStream>) -> String {
    match r {
        Err(Error::Tls(f)) => f.message().to_string(),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

/// Hands all of `data` to the link, waiting for `interest` whenever it takes
/// nothing more.
pub(super) fn hand_over(
    link: &mut impl Link,
    mut data: &[u8],
    deadline: Instant,
    interest: Interest,
) {
    while !data.is_empty() {
        match link.write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(link.wait(interest, deadline).unwrap(), "write timed out");
            }
            Err(e) => panic!("write: {e}"),
        }
    }
}

pub(super) fn write_all(link: &mut impl Link, data: &[u8], deadline: Instant) {
    hand_over(link, data, deadline, Interest::Write);
    while !link.flush().unwrap() {
        assert!(
            link.wait(Interest::Write, deadline).unwrap(),
            "flush timed out"
        );
    }
}

/// Reads `n` bytes, moving on any output the link still buffers meanwhile
/// (as the engine does between waits).
pub(super) fn read_n(link: &mut impl Link, n: usize, deadline: Instant) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < n {
        link.flush().unwrap();
        match link.read(&mut buf) {
            Ok(0) => panic!("end of stream after {} bytes", got.len()),
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                assert!(
                    link.wait(Interest::Read, deadline).unwrap(),
                    "read timed out"
                );
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    got
}

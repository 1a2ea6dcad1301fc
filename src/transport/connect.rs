//! Connecting: from an endpoint and the TLS options to a [`TlsStream`] whose
//! handshake is done.
//!
//! [`TlsConnector`] implements [`Connector`]: it builds the rustls configuration
//! once (credentials are read and checked then) and opens a new stream for the
//! first connection and every reconnect, each bounded by the `timeout` option.
//! [`TlsStream::connect`] does one connection: TCP (`socket`), the
//! handshake, and under TLS 1.3 a short wait for the server's verdict on the
//! client certificate, so that a refused certificate is reported by `connect`
//! (as [`Error::Tls`], worded by [`super::failure`]) rather than by a later read.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::ResolvesClientCert;
use rustls::pki_types::ServerName;
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ClientConnection, ProtocolVersion, SignatureScheme};

use super::endpoint::Endpoint;
use super::failure::{TlsFailure, TlsFailureKind};
use super::socket::{poll_socket, tcp_connect};
use super::stream::TlsStream;
use super::tls::{client_config, TlsOptions};
use super::Connector;
use crate::error::{Error, IoError, IoFailure, Result, TimeoutError, Unfinished};

/// How long, at most, `connect` waits after a TLS 1.3 handshake for the server's
/// verdict on the client certificate (a session ticket, or an alert).
const CLIENT_CERT_VERDICT_WAIT: Duration = Duration::from_millis(300);

impl TlsStream {
    /// Resolves `endpoint`, connects over TCP, and completes the TLS handshake
    /// (verifying the server as `server_name`) before `deadline`.
    ///
    /// When the server asked for a client certificate over TLS 1.3, also waits up
    /// to 300 ms (within the deadline) for the server's first post-handshake
    /// record, so that a refused (or missing) certificate is reported here rather
    /// than on the first read.
    pub fn connect(
        endpoint: &Endpoint,
        server_name: &str,
        config: Arc<ClientConfig>,
        deadline: Instant,
    ) -> Result<TlsStream> {
        let budget = deadline.saturating_duration_since(Instant::now());
        let peer = endpoint.describe();
        let name = server_name_of(server_name, "peer_name")?;
        let client_auth = config.client_auth_cert_resolver.has_certs();

        let sock = tcp_connect(endpoint, &peer, deadline, budget)?;
        let setup = |e: io::Error| {
            Error::Io(IoError {
                peer: peer.clone(),
                what: IoFailure::SocketSetup(e.to_string()),
            })
        };
        sock.set_nodelay(true).map_err(setup)?;
        sock.set_nonblocking(true).map_err(setup)?;
        // Per connection, note whether the server asks for a client certificate.
        let cert_requested = Arc::new(AtomicBool::new(false));
        let mut config = (*config).clone();
        config.client_auth_cert_resolver = Arc::new(NoticeCertRequest {
            inner: Arc::clone(&config.client_auth_cert_resolver),
            asked: Arc::clone(&cert_requested),
        });
        let conn = ClientConnection::new(Arc::new(config), name).map_err(|e| {
            let message = format!("cannot start TLS with {peer}: {e}");
            Error::Tls(TlsFailure::new(TlsFailureKind::Setup, &peer, message))
        })?;

        let mut stream = TlsStream::new(conn, sock, peer, server_name, client_auth);
        stream.handshake(deadline, budget, &cert_requested)?;
        Ok(stream)
    }

    fn handshake(
        &mut self,
        deadline: Instant,
        budget: Duration,
        cert_requested: &AtomicBool,
    ) -> Result<()> {
        let peer = self.peer.clone();
        let timed_out = || {
            Error::Timeout(TimeoutError {
                peer: peer.clone(),
                after: budget,
                what: Unfinished::TlsHandshake,
            })
        };
        let broke = |e: &io::Error| {
            Error::Io(IoError {
                peer: peer.clone(),
                what: IoFailure::DuringHandshake(e.to_string()),
            })
        };

        while self.conn.is_handshaking() {
            if let Err(e) = self.push_tls() {
                // The server may have sent an alert before closing: prefer it.
                return Err(self.alert_after_break().unwrap_or_else(|| broke(&e)));
            }
            let mut progressed = false;
            if self.conn.wants_read() {
                match self.conn.read_tls(&mut self.sock) {
                    Ok(0) => {
                        self.eof = true;
                        self.process().map_err(Error::from)?;
                        // Whatever the reason, nothing says a new attempt fails too.
                        let message = format!(
                            "the gateway {peer} closed the connection during the TLS handshake"
                        );
                        return Err(Error::Tls(TlsFailure::new(
                            TlsFailureKind::Protocol,
                            &peer,
                            message,
                        )));
                    }
                    Ok(_) => {
                        self.process().map_err(Error::from)?;
                        progressed = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progressed = true,
                    Err(e) => return Err(broke(&e)),
                }
            }
            if progressed {
                continue;
            }
            let write = self.conn.wants_write();
            if !poll_socket(&self.sock, true, write, deadline).map_err(|e| broke(&e))? {
                return Err(timed_out());
            }
        }

        // Handshake done on our side: deliver our last flight (Finished, and the
        // client certificate under TLS 1.3).
        loop {
            match self.flush_tls() {
                Ok(true) => break,
                Ok(false) => {
                    if !poll_socket(&self.sock, false, true, deadline).map_err(|e| broke(&e))? {
                        return Err(timed_out());
                    }
                }
                Err(e) => return Err(self.alert_after_break().unwrap_or_else(|| broke(&e))),
            }
        }

        // TLS 1.3: the server judges our certificate (or its absence) after our
        // Finished; wait briefly for its verdict when it asked for one.
        if cert_requested.load(Ordering::Relaxed)
            && self.conn.protocol_version() == Some(ProtocolVersion::TLSv1_3)
        {
            let verdict_deadline = Instant::now()
                .checked_add(CLIENT_CERT_VERDICT_WAIT)
                .map_or(deadline, |t| t.min(deadline));
            self.await_client_cert_verdict(verdict_deadline)?;
        }
        Ok(())
    }

    /// TLS 1.3: the server judges the client certificate after the client's
    /// Finished, so a refusal arrives as an alert after the handshake. Waits for
    /// the first post-handshake record until `until`; silence is acceptance.
    /// Whatever plaintext arrives stays in rustls for `read`.
    fn await_client_cert_verdict(&mut self, until: Instant) -> Result<()> {
        let peer = self.peer.clone();
        loop {
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) => {
                    self.eof = true;
                    self.process().map_err(Error::from)?;
                    let message = format!(
                        "the gateway {peer} closed the connection right after the TLS \
                         handshake: it may have refused the client certificate"
                    );
                    return Err(Error::Tls(TlsFailure::new(
                        TlsFailureKind::ClientCertRefused,
                        &peer,
                        message,
                    )));
                }
                Ok(_) => {
                    self.process().map_err(Error::from)?;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let ready = poll_socket(&self.sock, true, false, until).map_err(|e| {
                        Error::Io(IoError {
                            peer: peer.clone(),
                            what: IoFailure::Wait(e.to_string()),
                        })
                    })?;
                    if !ready {
                        return Ok(());
                    }
                }
                Err(e) => {
                    return Err(Error::Io(IoError {
                        peer,
                        what: IoFailure::AfterHandshake(e.to_string()),
                    }))
                }
            }
        }
    }

    /// After a write failed during connect: reads what already arrived, in case
    /// it holds an alert explaining why the server closed.
    fn alert_after_break(&mut self) -> Option<Error> {
        for _ in 0..16 {
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Err(f) = self.process() {
                        return Some(Error::from(f));
                    }
                }
            }
        }
        match self.process() {
            Err(f) => Some(Error::from(f)),
            Ok(_) => None,
        }
    }
}

/// Opens [`TlsStream`]s to one gateway with one configuration.
pub struct TlsConnector {
    endpoint: Endpoint,
    server_name: String,
    config: Arc<ClientConfig>,
    timeout: Duration,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("endpoint", &self.endpoint)
            .field("server_name", &self.server_name)
            .field(
                "client_auth",
                &self.config.client_auth_cert_resolver.has_certs(),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TlsConnector {
    /// Builds the TLS configuration once (credentials are read and checked here).
    /// The server name verified is `opts.peer_name`, or the endpoint's host.
    /// Every connect is bounded by `timeout` (and by the deadline it is given).
    pub fn new(
        endpoint: Endpoint,
        opts: &TlsOptions,
        alpn: &[&[u8]],
        timeout: Duration,
    ) -> Result<Self> {
        let (server_name, what) = match opts.peer_name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => (name.to_string(), "peer_name"),
            None => (endpoint.host.clone(), "the gateway URL's host"),
        };
        server_name_of(&server_name, what)?;
        let config = client_config(opts, alpn)?;
        Ok(TlsConnector {
            endpoint,
            server_name,
            config,
            timeout,
        })
    }

    pub fn server_name(&self) -> &str {
        &self.server_name
    }
}

impl Connector for TlsConnector {
    type Link = TlsStream;

    fn connect(&mut self, deadline: Instant) -> Result<TlsStream> {
        let deadline = Instant::now()
            .checked_add(self.timeout)
            .map_or(deadline, |t| t.min(deadline));
        TlsStream::connect(
            &self.endpoint,
            &self.server_name,
            Arc::clone(&self.config),
            deadline,
        )
    }

    fn describe(&self) -> String {
        self.endpoint.describe()
    }
}

/// Passes the client certificate through, noting that the server asked for one.
#[derive(Debug)]
struct NoticeCertRequest {
    inner: Arc<dyn ResolvesClientCert>,
    asked: Arc<AtomicBool>,
}

impl ResolvesClientCert for NoticeCertRequest {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.inner.resolve(root_hint_subjects, sigschemes)
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

fn server_name_of(name: &str, what: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(name.to_string()).map_err(|e| {
        Error::Config(format!(
            "{what} '{name}' is not a valid TLS server name (a DNS name or an IP address): {e}"
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::transport::test_tls::*;
    use std::net::TcpListener;

    #[test]
    fn connector_uses_peer_name_and_the_timeout() {
        let (port, server) = serve(server_config(&rustls::version::TLS13, false), true);
        let dir = &pki().dir;
        let opts = TlsOptions {
            cafile: Some(dir.join("ca.pem")),
            peer_name: Some("localhost".into()),
            ..TlsOptions::default()
        };
        let mut c = TlsConnector::new(local(port), &opts, &[], Duration::from_secs(5)).unwrap();
        assert_eq!(c.describe(), format!("127.0.0.1:{port}"));
        assert_eq!(c.server_name(), "localhost");
        let far = Instant::now() + Duration::from_secs(3600);
        let mut s = c.connect(far).unwrap();
        write_all(&mut s, b"ping", soon());
        assert_eq!(read_n(&mut s, 4, soon()), b"ping");
        drop(s);
        assert_eq!(server.join().unwrap(), b"ping");

        let bad = TlsOptions {
            peer_name: Some("not a name!".into()),
            ..TlsOptions::default()
        };
        let err = TlsConnector::new(local(port), &bad, &[], Duration::from_secs(1)).unwrap_err();
        assert!(err.to_string().contains("peer_name 'not a name!'"), "{err}");
    }

    #[test]
    fn untrusted_server_is_named_with_the_fix() {
        let (port, server) = serve(server_config(&rustls::version::TLS13, false), true);
        let msg = tls_error(TlsStream::connect(
            &local(port),
            "localhost",
            client(None, "other-ca.pem"),
            soon(),
        ));
        assert!(
            msg.starts_with(&format!(
                "the server certificate of 127.0.0.1:{port} is not trusted ("
            )) && msg.ends_with("add its CA with the 'cafile' option"),
            "{msg}"
        );
        server.join().unwrap();
    }

    #[test]
    fn wrong_server_name_points_at_peer_name() {
        let (port, server) = serve(server_config(&rustls::version::TLS13, false), true);
        let msg = tls_error(TlsStream::connect(
            &local(port),
            "gateway.example.com",
            client(None, "ca.pem"),
            soon(),
        ));
        assert!(
            msg.contains(&format!(
                "the server certificate of 127.0.0.1:{port} is not trusted"
            )) && msg.contains("'gateway.example.com'")
                && msg.contains("'peer_name'"),
            "{msg}"
        );
        server.join().unwrap();
    }

    #[test]
    fn refused_client_certificate_is_reported_by_connect_tls13_and_tls12() {
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            let (port, server) = serve(server_config(version, true), true);
            let started = Instant::now();
            let msg = tls_error(TlsStream::connect(
                &local(port),
                "localhost",
                client(Some("stranger.pem"), "ca.pem"),
                soon(),
            ));
            assert_eq!(
                msg,
                format!("the gateway 127.0.0.1:{port} refused the client certificate (TLS alert unknown_ca)"),
                "{version:?}"
            );
            assert!(started.elapsed() < Duration::from_secs(2));
            server.join().unwrap();
        }
    }

    #[test]
    fn missing_client_certificate_points_at_local_cert() {
        for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
            let (port, server) = serve(server_config(version, true), true);
            let msg = tls_error(TlsStream::connect(
                &local(port),
                "localhost",
                client(None, "ca.pem"),
                soon(),
            ));
            assert!(
                msg.starts_with(&format!(
                    "the gateway 127.0.0.1:{port} refused the TLS connection (TLS alert "
                )) && msg.ends_with("set the 'local_cert' option"),
                "{version:?}: {msg}"
            );
            server.join().unwrap();
        }
    }

    #[test]
    fn nothing_listening_is_connection_refused() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        match TlsStream::connect(&local(port), "localhost", client(None, "ca.pem"), soon()) {
            Err(e @ Error::Connect(_)) => assert_eq!(
                e.to_string(),
                format!("cannot connect to 127.0.0.1:{port}: connection refused (is the gateway running?)")
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn silent_gateway_times_out_within_the_timeout() {
        // The kernel completes the TCP handshake (backlog); nobody ever answers.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = Instant::now();
        let r = TlsStream::connect(
            &local(port),
            "localhost",
            client(None, "ca.pem"),
            Instant::now() + Duration::from_secs(1),
        );
        let took = started.elapsed();
        match r {
            Err(e @ Error::Timeout(_)) => assert_eq!(
                e.to_string(),
                format!(
                    "TLS handshake with 127.0.0.1:{port} did not finish within 1 s: the gateway \
                     accepted the TCP connection but did not answer"
                )
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            took >= Duration::from_millis(950) && took < Duration::from_millis(1500),
            "{took:?}"
        );
        drop(listener);

        // Same through the connector, whose own timeout bounds a later deadline.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let opts = TlsOptions {
            cafile: Some(pki().dir.join("ca.pem")),
            ..TlsOptions::default()
        };
        let mut c = TlsConnector::new(local(port), &opts, &[], Duration::from_secs(1)).unwrap();
        let started = Instant::now();
        let err = c
            .connect(Instant::now() + Duration::from_secs(60))
            .unwrap_err();
        assert!(matches!(err, Error::Timeout(_)), "{err:?}");
        assert!(started.elapsed() < Duration::from_millis(1500));
    }
}

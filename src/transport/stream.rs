//! The TLS stream: rustls over a non-blocking TCP socket, driven with poll(2).
//!
//! [`TlsStream`] implements [`Link`]: `write` hands bytes to rustls (which keeps
//! them in its own bounded buffer and never gives them back), `flush` pushes the
//! TLS records toward the socket, `read` returns the plaintext that has arrived,
//! and only `wait` blocks, never past its deadline.
//!
//! [`TlsConnector`] implements [`Connector`]: it builds the rustls configuration
//! once and opens a new [`TlsStream`] for the first connection and every reconnect.
//!
//! TLS failures are turned into messages a user can act on ("the server
//! certificate of host:port is not trusted…", "the gateway host:port refused the
//! client certificate…"). From `connect` they are [`Error::Tls`]; from `read` and
//! `write` they are `io::Error`s carrying a [`TlsFailure`], which
//! [`is_fatal_tls`] tells apart from a dropped connection.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustls::client::ResolvesClientCert;
use rustls::pki_types::ServerName;
use rustls::sign::CertifiedKey;
use rustls::{
    AlertDescription, CertificateError, ClientConfig, ClientConnection, ProtocolVersion,
    SignatureScheme,
};

use super::endpoint::Endpoint;
use super::tls::{client_config, TlsOptions};
use super::{Connector, Interest, Link};
use crate::error::{Error, Result};

/// How long, at most, `connect` waits after a TLS 1.3 handshake for the server's
/// verdict on the client certificate (a session ticket, or an alert).
const CLIENT_CERT_VERDICT_WAIT: Duration = Duration::from_millis(300);

/// What kind of TLS failure ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailureKind {
    /// The gateway refused (or required) the client certificate. Retrying cannot help.
    ClientCertRefused,
    /// The server certificate did not verify. Retrying cannot help.
    ServerNotTrusted,
    /// Any other TLS protocol failure (a corrupted record, an unexpected alert…).
    Protocol,
}

/// A TLS failure with the message the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFailure {
    kind: TlsFailureKind,
    message: String,
}

impl TlsFailure {
    pub fn kind(&self) -> TlsFailureKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when reconnecting cannot help: a refused client certificate or an
    /// untrusted server.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.kind,
            TlsFailureKind::ClientCertRefused | TlsFailureKind::ServerNotTrusted
        )
    }

    /// As the `io::Error` that `read`/`write`/`flush` return: kind `Other` for a
    /// fatal failure, `ConnectionAborted` for the others.
    pub fn into_io(self) -> io::Error {
        let kind = if self.is_fatal() {
            io::ErrorKind::Other
        } else {
            io::ErrorKind::ConnectionAborted
        };
        io::Error::new(kind, self)
    }
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlsFailure {}

impl From<TlsFailure> for Error {
    fn from(f: TlsFailure) -> Error {
        Error::Tls(f.message)
    }
}

/// The TLS failure inside an `io::Error` returned by a [`TlsStream`], if any.
pub fn tls_failure(e: &io::Error) -> Option<&TlsFailure> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsFailure>())
}

/// True when `e` (from a [`TlsStream`]) is a TLS failure that reconnecting cannot
/// fix (refused client certificate, untrusted server); false for a dropped
/// connection and everything else worth a retry.
pub fn is_fatal_tls(e: &io::Error) -> bool {
    tls_failure(e).is_some_and(TlsFailure::is_fatal)
}

/// A TLS connection to a gateway over a non-blocking TCP socket.
pub struct TlsStream {
    conn: ClientConnection,
    sock: TcpStream,
    /// `host:port`, for messages.
    peer: String,
    /// The name the server certificate was verified against.
    server_name: String,
    /// Whether a client certificate is configured.
    client_auth: bool,
    /// TCP end of stream seen.
    eof: bool,
    /// A TLS failure already reported: every later call reports it again.
    failure: Option<TlsFailure>,
    /// A socket error met after `write` had already taken bytes; reported next call.
    pending_error: Option<io::Error>,
}

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("peer", &self.peer)
            .field("server_name", &self.server_name)
            .field("protocol_version", &self.conn.protocol_version())
            .field(
                "alpn",
                &self.conn.alpn_protocol().map(String::from_utf8_lossy),
            )
            .field("eof", &self.eof)
            .field("failure", &self.failure)
            .finish()
    }
}

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
        let budget = seconds(deadline.saturating_duration_since(Instant::now()));
        let peer = endpoint.describe();
        let name = server_name_of(server_name, "peer_name")?;
        let client_auth = config.client_auth_cert_resolver.has_certs();

        let sock = tcp_connect(endpoint, &peer, deadline, &budget)?;
        let setup = |e: io::Error| Error::Io(format!("cannot set up the socket to {peer}: {e}"));
        sock.set_nodelay(true).map_err(setup)?;
        sock.set_nonblocking(true).map_err(setup)?;
        // Per connection, note whether the server asks for a client certificate.
        let cert_requested = Arc::new(AtomicBool::new(false));
        let mut config = (*config).clone();
        config.client_auth_cert_resolver = Arc::new(NoticeCertRequest {
            inner: Arc::clone(&config.client_auth_cert_resolver),
            asked: Arc::clone(&cert_requested),
        });
        let conn = ClientConnection::new(Arc::new(config), name)
            .map_err(|e| Error::Tls(format!("cannot start TLS with {peer}: {e}")))?;

        let mut stream = TlsStream {
            conn,
            sock,
            peer,
            server_name: server_name.to_string(),
            client_auth,
            eof: false,
            failure: None,
            pending_error: None,
        };
        stream.handshake(deadline, &budget, &cert_requested)?;
        Ok(stream)
    }

    /// `host:port` of the gateway.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The negotiated TLS version.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.conn.protocol_version()
    }

    /// The ALPN protocol the server chose (`b"h2"` for HTTP/2), if any.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Queues a TLS close_notify and pushes what the socket takes without blocking.
    pub fn close_notify(&mut self) {
        self.conn.send_close_notify();
        let _ = self.push_tls();
    }

    fn handshake(
        &mut self,
        deadline: Instant,
        budget: &str,
        cert_requested: &AtomicBool,
    ) -> Result<()> {
        let peer = self.peer.clone();
        let timed_out = || {
            Error::Timeout(format!(
                "TLS handshake with {peer} did not finish within {budget} s: the gateway \
                 accepted the TCP connection but did not answer"
            ))
        };
        let broke = |e: &io::Error| {
            Error::Io(format!(
                "the connection to {peer} broke during the TLS handshake: {e}"
            ))
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
                        self.process().map_err(|f| Error::Tls(f.message))?;
                        return Err(Error::Tls(format!(
                            "the gateway {peer} closed the connection during the TLS handshake"
                        )));
                    }
                    Ok(_) => {
                        self.process().map_err(|f| Error::Tls(f.message))?;
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
                    self.process().map_err(|f| Error::Tls(f.message))?;
                    return Err(Error::Tls(format!(
                        "the gateway {peer} closed the connection right after the TLS \
                         handshake: it may have refused the client certificate"
                    )));
                }
                Ok(_) => {
                    self.process().map_err(|f| Error::Tls(f.message))?;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let ready = poll_socket(&self.sock, true, false, until).map_err(|e| {
                        Error::Io(format!("cannot wait for the gateway {peer}: {e}"))
                    })?;
                    if !ready {
                        return Ok(());
                    }
                }
                Err(e) => {
                    return Err(Error::Io(format!(
                        "the connection to {peer} broke right after the TLS handshake ({e}): \
                         the gateway may have refused the client certificate"
                    )))
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
                        return Some(Error::Tls(f.message));
                    }
                }
            }
        }
        match self.process() {
            Err(f) => Some(Error::Tls(f.message)),
            Ok(_) => None,
        }
    }

    /// `process_new_packets`, recording a failure (and sending rustls's alert).
    fn process(&mut self) -> std::result::Result<rustls::IoState, TlsFailure> {
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        match self.conn.process_new_packets() {
            Ok(state) => Ok(state),
            Err(e) => {
                let failure = classify(&e, &self.peer, &self.server_name, self.client_auth);
                self.failure = Some(failure.clone());
                // Tell the server why, if the socket takes it.
                let _ = self.push_tls();
                Err(failure)
            }
        }
    }

    /// Writes pending TLS records until none is left or the socket would block.
    fn push_tls(&mut self) -> io::Result<()> {
        self.flush_tls().map(|_| ())
    }

    /// Like [`push_tls`](Self::push_tls); `Ok(true)` when nothing is left.
    fn flush_tls(&mut self) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.sock) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        format!("the connection to {} accepts no more bytes", self.peer),
                    ))
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn failed(&self) -> Option<io::Error> {
        self.failure.clone().map(TlsFailure::into_io)
    }
}

impl Link for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        if let Some(e) = self.failed() {
            return Err(e);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Make room in rustls's buffer first.
        self.push_tls()?;
        let taken = self.conn.writer().write(buf)?;
        if taken == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        // The bytes are rustls's now: a socket error is reported on the next call.
        if let Err(e) = self.push_tls() {
            self.pending_error = Some(e);
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<bool> {
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        if let Some(e) = self.failed() {
            return Err(e);
        }
        self.flush_tls()
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            // Plaintext rustls already holds comes first, even after a failure.
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(self.failed().unwrap_or(e)),
            }
            if let Some(e) = self.failed() {
                return Err(e);
            }
            if self.eof {
                return Ok(0);
            }
            match self.conn.read_tls(&mut self.sock) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            self.process().map_err(TlsFailure::into_io)?;
            // Answers rustls owes the server (a key update…), best effort.
            let _ = self.push_tls();
        }
    }

    fn wait(&mut self, interest: Interest, deadline: Instant) -> io::Result<bool> {
        if self.failure.is_some() || self.pending_error.is_some() {
            return Ok(true); // the next call reports it
        }
        let want_read = matches!(interest, Interest::Read | Interest::ReadWrite);
        let want_write = matches!(interest, Interest::Write | Interest::ReadWrite);
        if want_read {
            if self.eof {
                return Ok(true);
            }
            match self.process() {
                Ok(state) if state.plaintext_bytes_to_read() > 0 || state.peer_has_closed() => {
                    return Ok(true)
                }
                Ok(_) => {}
                Err(_) => return Ok(true),
            }
        }
        // With no TLS output pending, rustls takes plaintext at once.
        let pending = self.conn.wants_write();
        if want_write && !pending {
            return Ok(true);
        }
        // Pending TLS output is waited on whatever the caller asked for: once rustls
        // holds the caller's last bytes, the caller only waits to read, and the
        // answer it waits for may depend on those bytes reaching the peer (a probe
        // held back by a full socket buffer stalled a batch for the whole timeout).
        poll_socket(&self.sock, want_read, pending, deadline)
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

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
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

/// Resolves and connects over TCP, trying each address with the time left.
fn tcp_connect(
    endpoint: &Endpoint,
    peer: &str,
    deadline: Instant,
    budget: &str,
) -> Result<TcpStream> {
    let host = endpoint.host.as_str();
    let addrs: Vec<SocketAddr> = (host, endpoint.port)
        .to_socket_addrs()
        .map_err(|e| Error::Connect(format!("cannot resolve host '{host}': {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::Connect(format!(
            "cannot resolve host '{host}': no address found"
        )));
    }
    let (mut refused, mut timed_out, mut other) = (false, false, None);
    for addr in addrs {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            timed_out = true;
            break;
        }
        match TcpStream::connect_timeout(&addr, remaining) {
            Ok(sock) => return Ok(sock),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => refused = true,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                timed_out = true
            }
            Err(e) => other = Some(e),
        }
    }
    if refused {
        Err(Error::Connect(format!(
            "cannot connect to {peer}: connection refused (is the gateway running?)"
        )))
    } else if timed_out {
        Err(Error::Timeout(format!(
            "timed out after {budget} s connecting to {peer}"
        )))
    } else {
        let why = other.map_or_else(|| "no usable address".to_string(), |e| e.to_string());
        Err(Error::Connect(format!("cannot connect to {peer}: {why}")))
    }
}

/// poll(2) on one socket until it is readable/writable or `deadline` passes.
fn poll_socket(sock: &TcpStream, read: bool, write: bool, deadline: Instant) -> io::Result<bool> {
    let mut flags = PollFlags::empty();
    if read {
        flags |= PollFlags::IN;
    }
    if write {
        flags |= PollFlags::OUT;
    }
    if flags.is_empty() {
        return Ok(true);
    }
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        // A deadline too far to express is clamped; the loop comes back.
        let timeout = Timespec::try_from(remaining.min(Duration::from_secs(86_400)))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "timeout out of range"))?;
        let mut fds = [PollFd::new(sock, flags)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => {
                if Instant::now() >= deadline {
                    return Ok(false);
                }
            }
            // Readiness, or an error/hang-up that the next read or write reports.
            Ok(_) => return Ok(true),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// `1`, `2.5`: seconds as messages show them.
fn seconds(d: Duration) -> String {
    let tenths = (d.as_millis() + 50) / 100;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// The TLS alert's name as the RFCs spell it.
fn alert_name(alert: AlertDescription) -> String {
    use AlertDescription as A;
    let name = match alert {
        A::CloseNotify => "close_notify",
        A::UnexpectedMessage => "unexpected_message",
        A::BadRecordMac => "bad_record_mac",
        A::RecordOverflow => "record_overflow",
        A::HandshakeFailure => "handshake_failure",
        A::BadCertificate => "bad_certificate",
        A::UnsupportedCertificate => "unsupported_certificate",
        A::CertificateRevoked => "certificate_revoked",
        A::CertificateExpired => "certificate_expired",
        A::CertificateUnknown => "certificate_unknown",
        A::IllegalParameter => "illegal_parameter",
        A::UnknownCA => "unknown_ca",
        A::AccessDenied => "access_denied",
        A::DecodeError => "decode_error",
        A::DecryptError => "decrypt_error",
        A::ProtocolVersion => "protocol_version",
        A::InsufficientSecurity => "insufficient_security",
        A::InternalError => "internal_error",
        A::UserCanceled => "user_canceled",
        A::MissingExtension => "missing_extension",
        A::UnsupportedExtension => "unsupported_extension",
        A::UnrecognisedName => "unrecognized_name",
        A::CertificateRequired => "certificate_required",
        A::NoApplicationProtocol => "no_application_protocol",
        other => return format!("{other:?}"),
    };
    name.to_string()
}

/// Turns a rustls error into the message a user can act on.
fn classify(err: &rustls::Error, peer: &str, server_name: &str, client_auth: bool) -> TlsFailure {
    use TlsFailureKind as K;
    let (kind, message) = match err {
        rustls::Error::InvalidCertificate(cause) => {
            let hint = match cause {
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    format!(
                        "it is not valid for the name '{server_name}': set the 'peer_name' \
                         option to a name the certificate holds"
                    )
                }
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => {
                    "check the gateway's certificate and this machine's clock".to_string()
                }
                _ => "add its CA with the 'cafile' option".to_string(),
            };
            (
                K::ServerNotTrusted,
                format!("the server certificate of {peer} is not trusted ({err}): {hint}"),
            )
        }
        rustls::Error::AlertReceived(alert) => {
            let name = alert_name(*alert);
            let about_client_cert = matches!(
                alert,
                AlertDescription::BadCertificate
                    | AlertDescription::UnsupportedCertificate
                    | AlertDescription::CertificateRevoked
                    | AlertDescription::CertificateExpired
                    | AlertDescription::CertificateUnknown
                    | AlertDescription::UnknownCA
                    | AlertDescription::AccessDenied
                    | AlertDescription::CertificateRequired
                    | AlertDescription::HandshakeFailure
            );
            if about_client_cert && client_auth {
                (
                    K::ClientCertRefused,
                    format!("the gateway {peer} refused the client certificate (TLS alert {name})"),
                )
            } else if about_client_cert {
                (
                    K::ClientCertRefused,
                    format!(
                        "the gateway {peer} refused the TLS connection (TLS alert {name}): it \
                         probably requires a client certificate: set the 'local_cert' option"
                    ),
                )
            } else {
                (
                    K::Protocol,
                    format!("the gateway {peer} ended the TLS connection (TLS alert {name})"),
                )
            }
        }
        rustls::Error::PeerIncompatible(why) => (
            K::Protocol,
            format!("the gateway {peer} and this client share no usable TLS version or cipher ({why:?})"),
        ),
        other => (K::Protocol, format!("TLS error with {peer}: {other}")),
    };
    TlsFailure { kind, message }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::transport::endpoint::Protocol;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, KeyUsagePurpose,
    };
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::server::WebPkiClientVerifier;
    use rustls::{
        RootCertStore, ServerConfig, ServerConnection, StreamOwned, SupportedProtocolVersion,
    };
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::sync::OnceLock;
    use std::thread::{self, JoinHandle};

    /// A test PKI, written once per run into a temp dir:
    /// `ca.pem` signs the server (`localhost`, `127.0.0.1`) and `client.pem`;
    /// `other-ca.pem` signs `stranger.pem`, a client the server does not trust.
    struct Pki {
        dir: PathBuf,
        ca: CertificateDer<'static>,
        server_chain: Vec<CertificateDer<'static>>,
        server_key: Vec<u8>,
    }

    fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    fn leaf(
        names: &[&str],
        usage: ExtendedKeyUsagePurpose,
        issuer: &CertifiedIssuer<'static, KeyPair>,
    ) -> (rcgen::Certificate, KeyPair) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "apns test");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, issuer).unwrap();
        (cert, key)
    }

    fn pki() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(|| {
            let dir = std::env::temp_dir().join(format!(
                "apns-stream-pki-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            ));
            std::fs::create_dir_all(&dir).unwrap();
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

    fn server_config(
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

    /// A one-connection rustls server on 127.0.0.1: echoes (or just collects)
    /// what it reads until the end of the stream or an error; returns what it read.
    fn serve(config: Arc<ServerConfig>, echo: bool) -> (u16, JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
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

    fn local(port: u16) -> Endpoint {
        Endpoint {
            protocol: Protocol::Binary,
            host: "127.0.0.1".into(),
            port,
        }
    }

    fn client(cert: Option<&str>, cafile: &str) -> Arc<ClientConfig> {
        let dir = &pki().dir;
        let opts = TlsOptions {
            local_cert: cert.map(|c| dir.join(c)),
            cafile: Some(dir.join(cafile)),
            ..TlsOptions::default()
        };
        client_config(&opts, &[]).unwrap()
    }

    /// A stream to the test server on `port`, with the client certificate.
    fn connect_with_cert(port: u16) -> TlsStream {
        TlsStream::connect(
            &local(port),
            "localhost",
            client(Some("client.pem"), "ca.pem"),
            soon(),
        )
        .unwrap()
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    fn tls_error(r: Result<TlsStream>) -> String {
        match r {
            Err(Error::Tls(m)) => m,
            other => panic!("expected a TLS error, got {other:?}"),
        }
    }

    /// Hands all of `data` to the link, waiting for `interest` whenever it takes
    /// nothing more.
    fn hand_over(link: &mut impl Link, mut data: &[u8], deadline: Instant, interest: Interest) {
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

    fn write_all(link: &mut impl Link, data: &[u8], deadline: Instant) {
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
    fn read_n(link: &mut impl Link, n: usize, deadline: Instant) -> Vec<u8> {
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

    #[test]
    fn connects_with_a_client_certificate_and_echoes_tls13_and_tls12() {
        for (version, want) in [
            (&rustls::version::TLS13, ProtocolVersion::TLSv1_3),
            (&rustls::version::TLS12, ProtocolVersion::TLSv1_2),
        ] {
            let (port, server) = serve(server_config(version, true), true);
            let mut s = connect_with_cert(port);
            assert_eq!(s.protocol_version(), Some(want));
            assert_eq!(s.peer(), format!("127.0.0.1:{port}"));
            write_all(&mut s, b"hello, gateway", soon());
            assert_eq!(read_n(&mut s, 14, soon()), b"hello, gateway");
            s.close_notify();
            // The server saw the close_notify: our read now ends cleanly.
            let mut buf = [0u8; 16];
            let deadline = soon();
            loop {
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => panic!("unexpected {n} bytes"),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        assert!(s.wait(Interest::Read, deadline).unwrap());
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            assert_eq!(server.join().unwrap(), b"hello, gateway");
        }
    }

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
            Err(Error::Connect(m)) => assert_eq!(
                m,
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
            Err(Error::Timeout(m)) => assert_eq!(
                m,
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

    #[test]
    fn megabytes_arrive_intact_through_would_block() {
        let (port, server) = serve(server_config(&rustls::version::TLS13, true), false);
        let mut s = connect_with_cert(port);
        let data: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut rest = &data[..];
        let mut would_block = 0;
        while !rest.is_empty() {
            match s.write(&rest[..rest.len().min(100_000)]) {
                Ok(n) => {
                    assert!(n > 0);
                    rest = &rest[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    would_block += 1;
                    assert!(s.wait(Interest::Write, deadline).unwrap());
                }
                Err(e) => panic!("{e}"),
            }
        }
        while !s.flush().unwrap() {
            assert!(s.wait(Interest::Write, deadline).unwrap());
        }
        s.close_notify();
        drop(s);
        let got = server.join().unwrap();
        assert_eq!(got.len(), data.len());
        assert!(got == data, "the stream was corrupted");
        eprintln!("write returned WouldBlock {would_block} times");
    }

    /// The engine, once rustls holds all its bytes, only waits to read the
    /// gateway's answer. The answer depends on those bytes arriving, so a wait to
    /// read must also wake when buffered TLS output can move on (it did not: a
    /// batch stalled for the whole timeout, then was resent).
    #[test]
    fn waiting_to_read_keeps_buffered_output_moving() {
        const N: usize = 8 * 1024 * 1024;
        let config = server_config(&rustls::version::TLS13, true);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut tls = StreamOwned::new(ServerConnection::new(config).unwrap(), tcp);
            // Read nothing at first: the socket buffers fill up and rustls is
            // left holding output when the client starts waiting to read.
            thread::sleep(Duration::from_millis(300));
            let mut got = vec![0u8; N];
            tls.read_exact(&mut got).unwrap();
            tls.write_all(b"done").unwrap();
            tls.flush().unwrap();
            let mut rest = Vec::new();
            let _ = tls.read_to_end(&mut rest);
        });
        let mut s = connect_with_cert(port);
        let deadline = Instant::now() + Duration::from_secs(5);
        // Like the engine: when the link takes nothing more, wait to read.
        hand_over(&mut s, &vec![7u8; N], deadline, Interest::Read);
        // Times out ("read timed out") if the last bytes stay in rustls.
        assert_eq!(read_n(&mut s, 4, deadline), b"done");
        s.close_notify();
        drop(s);
        server.join().unwrap();
    }

    #[test]
    fn tls_failure_after_connect_surfaces_from_read_as_retryable() {
        let (port, server) = serve(server_config(&rustls::version::TLS13, false), true);
        let mut s =
            TlsStream::connect(&local(port), "localhost", client(None, "ca.pem"), soon()).unwrap();
        // A forged application-data record: the server cannot decrypt it and alerts.
        (&s.sock)
            .write_all(&[
                23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                20,
            ])
            .unwrap();
        let deadline = soon();
        let mut buf = [0u8; 64];
        let err = loop {
            match s.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    assert!(s.wait(Interest::Read, deadline).unwrap());
                }
                Err(e) => break e,
                Ok(n) => panic!("read {n}"),
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted);
        assert_eq!(
            err.to_string(),
            format!(
                "the gateway 127.0.0.1:{port} ended the TLS connection (TLS alert bad_record_mac)"
            )
        );
        assert!(!is_fatal_tls(&err));
        assert_eq!(tls_failure(&err).unwrap().kind(), TlsFailureKind::Protocol);
        // Sticky: writing now reports the same failure.
        let again = s.write(b"x").unwrap_err();
        assert_eq!(again.to_string(), err.to_string());
        server.join().unwrap();
    }

    #[test]
    fn refused_certificate_errors_are_fatal_for_the_engine() {
        let peer = "gateway.example:2195";
        for alert in [
            AlertDescription::BadCertificate,
            AlertDescription::UnknownCA,
            AlertDescription::CertificateRequired,
            AlertDescription::AccessDenied,
            AlertDescription::HandshakeFailure,
            AlertDescription::CertificateExpired,
        ] {
            let f = classify(
                &rustls::Error::AlertReceived(alert),
                peer,
                "gateway.example",
                true,
            );
            let name = alert_name(alert);
            assert_eq!(
                f.message(),
                format!("the gateway {peer} refused the client certificate (TLS alert {name})")
            );
            let e = f.clone().into_io();
            assert!(is_fatal_tls(&e), "{alert:?}");
            assert_eq!(e.kind(), io::ErrorKind::Other);
            assert_eq!(e.to_string(), f.message());
            assert_eq!(Error::from(f.clone()), Error::Tls(f.message().to_string()));
        }
        let untrusted = classify(
            &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            peer,
            "gateway.example",
            true,
        );
        assert!(untrusted.is_fatal());
        let dropped = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(!is_fatal_tls(&dropped));
        assert_eq!(seconds(Duration::from_millis(999)), "1");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5");
    }
}

//! The TLS stream: rustls over a non-blocking TCP socket, driven with poll(2).
//!
//! [`TlsStream`] implements [`Link`]: `write` hands bytes to rustls (which keeps
//! them in its own bounded buffer and never gives them back), `flush` pushes the
//! TLS records toward the socket, `read` returns the plaintext that has arrived,
//! and only `wait` blocks, never past its deadline. A TLS failure met on the way
//! is sticky: every later call reports it again, as an `io::Error` carrying a
//! [`TlsFailure`] (its text is in [`super::failure`]).
//!
//! Opening one (TCP connect, handshake, the client certificate's verdict) is in
//! [`super::connect`].

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use rustls::{ClientConnection, ProtocolVersion};

use super::failure::{classify, TlsFailure};
use super::socket::poll_socket;
use super::{Interest, Link};

/// A TLS connection to a gateway over a non-blocking TCP socket.
pub struct TlsStream {
    pub(super) conn: ClientConnection,
    pub(super) sock: TcpStream,
    /// `host:port`, for messages.
    pub(super) peer: String,
    /// The name the server certificate was verified against.
    server_name: String,
    /// Whether a client certificate is configured.
    client_auth: bool,
    /// TCP end of stream seen.
    pub(super) eof: bool,
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
    /// A stream over `sock`, before its handshake (see [`TlsStream::connect`]).
    pub(super) fn new(
        conn: ClientConnection,
        sock: TcpStream,
        peer: String,
        server_name: &str,
        client_auth: bool,
    ) -> TlsStream {
        TlsStream {
            conn,
            sock,
            peer,
            server_name: server_name.to_string(),
            client_auth,
            eof: false,
            failure: None,
            pending_error: None,
        }
    }

    /// `host:port` of the gateway.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The negotiated TLS version.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.conn.protocol_version()
    }

    /// Queues a TLS close_notify and pushes what the socket takes without blocking.
    pub fn close_notify(&mut self) {
        self.conn.send_close_notify();
        let _ = self.push_tls();
    }

    /// `process_new_packets`, recording a failure (and sending rustls's alert).
    pub(super) fn process(&mut self) -> std::result::Result<rustls::IoState, TlsFailure> {
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
    pub(super) fn push_tls(&mut self) -> io::Result<()> {
        self.flush_tls().map(|_| ())
    }

    /// Like [`push_tls`](Self::push_tls); `Ok(true)` when nothing is left.
    pub(super) fn flush_tls(&mut self) -> io::Result<bool> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::transport::failure::{is_fatal_tls, tls_failure, TlsFailureKind};
    use crate::transport::test_tls::*;
    use std::net::TcpListener;
    use std::thread;
    use std::time::Duration;

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
            let mut tls = accept_tls(&listener, config);
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
}

//! Why opening an HTTP/2 connection failed, as an [`Error`] of the right kind,
//! decided on the error values, never on their text.
//!
//! A TLS failure during the handshake comes from tokio-rustls as an `io::Error`
//! holding the `rustls::Error`. A TLS failure after it (TLS 1.3: the gateway's
//! verdict on the client certificate arrives as an alert after our Finished)
//! reaches the engine through h2, which keeps only the text of the io error's
//! cause. So the TLS stream is wrapped in a [`TlsWatch`] that notes the kind of
//! the first rustls error it passes on ([`transport::failure::kind_of`]), before
//! h2 flattens it; [`closed_before_answer`] then decides TLS-or-HTTP/2 from that
//! note.
//!
//! [`transport::failure::kind_of`]: crate::transport::failure::kind_of

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::{Error, ProtocolError, ProtocolFailure};
use crate::transport::failure::{kind_of, rustls_error, TlsFailure, TlsFailureKind};

/// The kind of the first TLS failure a [`TlsWatch`] saw, shared with whoever
/// words the error.
pub(super) type TlsNote = Arc<OnceLock<TlsFailureKind>>;

/// A TLS stream that notes the kind of the first rustls error it returns. It
/// adds one test of the poll result per call: no allocation, no dispatch.
pub(super) struct TlsWatch<S> {
    inner: S,
    note: TlsNote,
}

impl<S> TlsWatch<S> {
    pub(super) fn new(inner: S, note: TlsNote) -> TlsWatch<S> {
        TlsWatch { inner, note }
    }

    fn watch<T>(&self, polled: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(e)) = &polled {
            if let Some(tls) = rustls_error(e) {
                let _ = self.note.set(kind_of(tls));
            }
        }
        polled
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TlsWatch<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.watch(polled)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TlsWatch<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(polled)
    }
}

/// The TLS handshake failed (`e` as tokio-rustls returns it): the kind is the
/// rustls error's; a failure without one (the peer closed, a reset) may not
/// happen again and is not fatal.
pub(super) fn tls_handshake_failed(e: &io::Error, peer: &str) -> Error {
    let kind = rustls_error(e).map_or(TlsFailureKind::Protocol, kind_of);
    let message = format!("TLS handshake with {peer} failed: {e}");
    Error::Tls(TlsFailure::new(kind, peer, message))
}

/// The connection ended before its first PING was answered, for `cause` (as
/// `describe_h2` words it): a TLS failure if the stream saw one (`tls`), else
/// the peer's HTTP/2 ended it.
pub(super) fn closed_before_answer(
    peer: &str,
    cause: String,
    tls: Option<TlsFailureKind>,
) -> Error {
    match tls {
        Some(kind) => {
            let message = format!(
                "{peer} refused the connection after the TLS handshake: {cause} \
                 (check the client certificate)"
            );
            Error::Tls(TlsFailure::new(kind, peer, message))
        }
        None => Error::Protocol(ProtocolError {
            peer: peer.to_string(),
            what: ProtocolFailure::Closed(cause),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use rustls::{AlertDescription, CertificateError};

    use super::super::pool::describe_h2;
    use super::*;

    const PEER: &str = "gateway.example:443";

    /// A "TLS stream" that takes every write and fails its first read with `error`,
    /// as tokio-rustls does when the gateway's alert arrives.
    struct Failing(Option<io::Error>);

    impl AsyncRead for Failing {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            _buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            match self.0.take() {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Ready(Ok(())),
            }
        }
    }

    impl AsyncWrite for Failing {
        fn poll_write(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn tls_io(e: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    /// What `pool::open` reports when the stream fails with `error` before the
    /// first PING is answered: an HTTP/2 client over a [`TlsWatch`], as there.
    fn open_over(error: io::Error) -> Error {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let note = TlsNote::default();
            let stream = TlsWatch::new(Failing(Some(error)), Arc::clone(&note));
            let (_send, mut connection) = h2::client::handshake(stream).await.unwrap();
            let mut ping = connection.ping_pong().unwrap();
            let driven = tokio::spawn(connection);
            ping.ping(h2::Ping::opaque()).await.unwrap_err();
            // The driver's error is the cause `open` prefers.
            let ended = driven.await.unwrap().unwrap_err();
            // h2 keeps only the text of the rustls error: the note has the kind.
            let inner = ended.get_io().and_then(|io| io.get_ref());
            assert!(inner.is_none_or(|e| e.downcast_ref::<rustls::Error>().is_none()));
            closed_before_answer(PEER, describe_h2(&ended), note.get().copied())
        })
    }

    #[test]
    fn an_alert_after_the_handshake_is_a_tls_failure_of_its_kind_through_h2() {
        let refused = tls_io(rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired,
        ));
        let cause = format!("the connection failed: {}", refused.get_ref().unwrap());
        let e = open_over(refused);
        assert_eq!(
            e.to_string(),
            format!(
                "{PEER} refused the connection after the TLS handshake: {cause} (check the \
                 client certificate)"
            )
        );
        let Error::Tls(f) = &e else { panic!("{e:?}") };
        assert_eq!(f.kind(), TlsFailureKind::ClientCertRefused);
        assert!(e.is_fatal());

        // Another alert: still TLS, but worth a retry.
        let e = open_over(tls_io(rustls::Error::AlertReceived(
            AlertDescription::DecodeError,
        )));
        let Error::Tls(f) = &e else { panic!("{e:?}") };
        assert_eq!(f.kind(), TlsFailureKind::Protocol);
        assert!(!e.is_fatal());
    }

    #[test]
    fn a_plain_io_failure_is_the_http2_connection_closing_whatever_its_words() {
        // Text that once made it a TLS failure ("certificate"), without a rustls error.
        let e = open_over(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "reset while sending the certificate",
        ));
        assert_eq!(
            e,
            Error::Protocol(ProtocolError {
                peer: PEER.into(),
                what: ProtocolFailure::Closed(
                    "the connection failed: reset while sending the certificate".into()
                ),
            })
        );
        assert_eq!(
            e.to_string(),
            format!(
                "{PEER} closed the HTTP/2 connection: the connection failed: reset while \
                 sending the certificate"
            )
        );
        assert_eq!(e.code(), crate::error::codes::CONNECT);
    }

    #[test]
    fn a_failed_handshake_takes_the_kind_of_its_rustls_error() {
        let cases = [
            (
                tls_io(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownIssuer,
                )),
                TlsFailureKind::ServerNotTrusted,
            ),
            (
                tls_io(rustls::Error::AlertReceived(AlertDescription::UnknownCA)),
                TlsFailureKind::ClientCertRefused,
            ),
            (
                tls_io(rustls::Error::AlertReceived(AlertDescription::DecodeError)),
                TlsFailureKind::Protocol,
            ),
            // tokio-rustls's words when the peer closes mid-handshake: no rustls error.
            (
                io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof"),
                TlsFailureKind::Protocol,
            ),
        ];
        for (io_error, kind) in cases {
            let want = format!("TLS handshake with {PEER} failed: {io_error}");
            let e = tls_handshake_failed(&io_error, PEER);
            assert_eq!(e.to_string(), want);
            let Error::Tls(f) = &e else { panic!("{e:?}") };
            assert_eq!((f.kind(), f.peer()), (kind, PEER), "{want}");
            assert_eq!(e.is_fatal(), kind != TlsFailureKind::Protocol);
        }
    }
}

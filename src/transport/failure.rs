//! TLS failures as data: their [`TlsFailureKind`] (whether reconnecting can
//! help), the peer, and the message a user reads.
//!
//! `classify` turns a rustls error into a [`TlsFailure`] whose message says
//! what to fix ("the server certificate of host:port is not trusted…: add its CA
//! with the 'cafile' option", "the gateway host:port refused the client
//! certificate (TLS alert unknown_ca)"). From `connect` it becomes an
//! [`Error::Tls`] (which keeps it whole: engines decide on
//! [`TlsFailure::is_fatal`], never on the text); from `read` and `write` an
//! `io::Error` carrying it, which [`is_fatal_tls`] tells apart from a dropped
//! connection. [`rustls_error`] finds the rustls error inside an `io::Error`
//! (how tokio-rustls and h2 pass it on) and [`kind_of`] says what kind it is,
//! so the HTTP/2 engine classifies its failures from the same values.

use std::fmt;
use std::io;

use rustls::{AlertDescription, CertificateError};

use crate::error::Error;

/// What kind of TLS failure ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailureKind {
    /// The gateway refused (or required) the client certificate. Retrying cannot help.
    ClientCertRefused,
    /// The server certificate did not verify. Retrying cannot help.
    ServerNotTrusted,
    /// Any other TLS protocol failure (a corrupted record, an unexpected alert,
    /// a connection closed during the handshake…): a reconnect may work.
    Protocol,
    /// This client could not start TLS at all (its own configuration). Retrying
    /// cannot help.
    Setup,
}

/// A TLS failure with the message the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFailure {
    kind: TlsFailureKind,
    /// The gateway as `host:port`.
    peer: String,
    /// The whole message (it names the peer): the wordings differ too much
    /// between rustls causes and connect steps to be one template.
    message: String,
}

impl TlsFailure {
    pub fn new(kind: TlsFailureKind, peer: &str, message: String) -> TlsFailure {
        TlsFailure {
            kind,
            peer: peer.to_string(),
            message,
        }
    }

    pub fn peer(&self) -> &str {
        &self.peer
    }

    pub fn kind(&self) -> TlsFailureKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when reconnecting cannot help: a refused client certificate, an
    /// untrusted server, or a TLS setup that cannot start.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self.kind,
            TlsFailureKind::ClientCertRefused
                | TlsFailureKind::ServerNotTrusted
                | TlsFailureKind::Setup
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
        Error::Tls(f)
    }
}

/// The rustls error an `io::Error` carries (as tokio-rustls reports a failed
/// handshake or record), if any.
pub fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// The TLS failure inside an `io::Error` returned by a [`TlsStream`](super::stream::TlsStream), if any.
pub fn tls_failure(e: &io::Error) -> Option<&TlsFailure> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsFailure>())
}

/// True when `e` (from a [`TlsStream`](super::stream::TlsStream)) is a TLS failure that reconnecting cannot
/// fix (refused client certificate, untrusted server); false for a dropped
/// connection and everything else worth a retry.
pub fn is_fatal_tls(e: &io::Error) -> bool {
    tls_failure(e).is_some_and(TlsFailure::is_fatal)
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

/// The alerts by which a gateway refuses (or asks for) the client certificate.
fn about_client_cert(alert: AlertDescription) -> bool {
    matches!(
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
    )
}

/// What kind of failure a rustls error is: an untrusted server certificate, a
/// refused client certificate, or any other TLS failure.
pub fn kind_of(err: &rustls::Error) -> TlsFailureKind {
    match err {
        rustls::Error::InvalidCertificate(_) => TlsFailureKind::ServerNotTrusted,
        rustls::Error::AlertReceived(alert) if about_client_cert(*alert) => {
            TlsFailureKind::ClientCertRefused
        }
        _ => TlsFailureKind::Protocol,
    }
}

/// Turns a rustls error into a failure of its [`kind_of`] with the message a
/// user can act on.
pub fn classify(
    err: &rustls::Error,
    peer: &str,
    server_name: &str,
    client_auth: bool,
) -> TlsFailure {
    let message = match err {
        rustls::Error::InvalidCertificate(cause) => {
            let hint = match cause {
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
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
            format!("the server certificate of {peer} is not trusted ({err}): {hint}")
        }
        rustls::Error::AlertReceived(alert) => {
            let name = alert_name(*alert);
            if about_client_cert(*alert) && client_auth {
                format!("the gateway {peer} refused the client certificate (TLS alert {name})")
            } else if about_client_cert(*alert) {
                format!(
                    "the gateway {peer} refused the TLS connection (TLS alert {name}): it \
                     probably requires a client certificate: set the 'local_cert' option"
                )
            } else {
                format!("the gateway {peer} ended the TLS connection (TLS alert {name})")
            }
        }
        rustls::Error::PeerIncompatible(why) => format!(
            "the gateway {peer} and this client share no usable TLS version or cipher ({why:?})"
        ),
        other => format!("TLS error with {peer}: {other}"),
    };
    TlsFailure {
        kind: kind_of(err),
        peer: peer.to_string(),
        message,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

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
            assert_eq!(Error::from(f.clone()), Error::Tls(f.clone()));
            assert_eq!(Error::from(f.clone()).to_string(), f.message());
            assert_eq!(f.peer(), peer);
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
    }
}

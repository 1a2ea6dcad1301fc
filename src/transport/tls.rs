//! The rustls client configuration of every connection (binary and HTTP/2).
//!
//! [`client_config`] turns the connection options (`local_cert`, `local_pk`,
//! `passphrase`, `cafile`) into a [`rustls::ClientConfig`]:
//!
//! - trust: the built-in webpki roots, plus the certificates of `cafile` (which
//!   adds trust and never replaces it). Peer verification is always on.
//! - client authentication, when `local_cert` is set: the chain and key that
//!   [`crate::credentials`] reads (PEM, encrypted PEM, PKCS#12).
//! - TLS 1.3 and 1.2 with *ring*, and the ALPN protocols the caller offers.
//!
//! Every failure is an [`Error::Credentials`] naming the option, the path and the
//! cause. No message and no `Debug` output ever holds the passphrase or key bytes.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::SingleCertAndKey;
use rustls::{ClientConfig, RootCertStore};
use zeroize::Zeroizing;

use crate::credentials::{client_key_from_files, trust_anchors};
use crate::error::{CredentialsProblem, Error, Result};

/// The TLS-related connection options, as the PHP layer parsed them.
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// PEM (certificate chain, usually with the key) or PKCS#12 file.
    pub local_cert: Option<PathBuf>,
    /// PEM key file, when the key is not inside `local_cert`.
    pub local_pk: Option<PathBuf>,
    /// For an encrypted key or a PKCS#12 file. Never printed.
    pub passphrase: Option<Zeroizing<String>>,
    /// PEM trust anchors added to the built-in roots.
    pub cafile: Option<PathBuf>,
    /// The TLS server name to verify; default the URL's host.
    pub peer_name: Option<String>,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Hidden(bool);
        impl fmt::Debug for Hidden {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(if self.0 { "<hidden>" } else { "none" })
            }
        }
        f.debug_struct("TlsOptions")
            .field("local_cert", &self.local_cert)
            .field("local_pk", &self.local_pk)
            .field("passphrase", &Hidden(self.passphrase.is_some()))
            .field("cafile", &self.cafile)
            .field("peer_name", &self.peer_name)
            .finish()
    }
}

/// The crypto provider of every connection: rustls with *ring*.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the client configuration: TLS 1.3 and 1.2, the webpki roots plus
/// `cafile`, client authentication with `local_cert` (and `local_pk`), and the
/// ALPN protocols to offer (`[b"h2"]` for HTTP/2, none for the binary protocol).
pub fn client_config(opts: &TlsOptions, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let roots = root_store(opts.cafile.as_deref())?;
    let client_key = match &opts.local_cert {
        Some(cert_path) => Some(client_key_from_files(
            cert_path,
            opts.local_pk.as_deref(),
            opts.passphrase.as_deref().map(String::as_str),
            &provider,
        )?),
        None => None,
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Internal(format!("the TLS provider rejects TLS 1.2/1.3: {e}")))?
        .with_root_certificates(roots);
    let mut config = match client_key {
        Some(key) => builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(key))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The webpki roots plus the certificates of `cafile`.
fn root_store(cafile: Option<&Path>) -> Result<RootCertStore> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let Some(path) = cafile else {
        return Ok(roots);
    };
    let shown = path.display();
    let certs = trust_anchors(path)?;
    for (i, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|e| {
            Error::credentials(
                &shown,
                CredentialsProblem::UnusableTrustAnchor {
                    number: i + 1,
                    cause: e.to_string(),
                },
            )
        })?;
    }
    Ok(roots)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::credentials::fixtures::{assert_no_secret, fixtures, PASS, WRONG};

    fn opts(dir: &Path, cert: &str, key: Option<&str>, pass: Option<&str>) -> TlsOptions {
        TlsOptions {
            local_cert: Some(dir.join(cert)),
            local_pk: key.map(|k| dir.join(k)),
            passphrase: pass.map(|p| Zeroizing::new(p.to_string())),
            ..TlsOptions::default()
        }
    }

    fn credentials_error(o: &TlsOptions) -> String {
        match client_config(o, &[]) {
            Ok(_) => panic!("{o:?} loaded, but should not"),
            Err(e @ Error::Credentials(_)) => e.to_string(),
            Err(other) => panic!("{o:?}: not a Credentials error: {other:?}"),
        }
    }

    #[test]
    fn every_supported_credential_form_loads() {
        let Some(dir) = fixtures() else { return };
        let cases = [
            (
                "combined PEM, RSA PKCS#1 with Bag Attributes",
                opts(dir, "rsa_pkcs1_combined.pem", None, None),
            ),
            (
                "combined PEM, EC SEC1 (key first)",
                opts(dir, "ec_sec1_combined.pem", None, None),
            ),
            (
                "combined PEM, PKCS#8",
                opts(dir, "rsa_pkcs8_combined.pem", None, None),
            ),
            (
                "separate key file",
                opts(dir, "rsa.crt", Some("rsa.key"), None),
            ),
            (
                "separate PKCS#8 key file",
                opts(dir, "rsa.crt", Some("rsa.p8"), None),
            ),
            (
                "encrypted PKCS#8 (PBES2 AES-256)",
                opts(dir, "rsa.crt", Some("rsa_enc_aes.p8"), Some(PASS)),
            ),
            (
                "encrypted PKCS#8 (PBES2 3DES, SHA1)",
                opts(dir, "ec.crt", Some("ec_enc_des3.p8"), Some(PASS)),
            ),
            (
                "encrypted PKCS#8 combined",
                opts(dir, "rsa_enc_combined.pem", None, Some(PASS)),
            ),
            (
                "traditional RSA AES-256-CBC",
                opts(dir, "rsa.crt", Some("rsa_trad_aes256.key"), Some(PASS)),
            ),
            (
                "traditional RSA DES-EDE3-CBC",
                opts(dir, "rsa.crt", Some("rsa_trad_des3.key"), Some(PASS)),
            ),
            (
                "traditional EC AES-128-CBC",
                opts(dir, "ec.crt", Some("ec_trad_aes128.key"), Some(PASS)),
            ),
            (
                "traditional EC AES-192-CBC",
                opts(dir, "ec.crt", Some("ec_trad_aes192.key"), Some(PASS)),
            ),
            (
                "traditional combined",
                opts(dir, "rsa_trad_combined.pem", None, Some(PASS)),
            ),
            (
                "PKCS#12 (AES, PBKDF2)",
                opts(dir, "modern.p12", None, Some(PASS)),
            ),
            (
                "PKCS#12 -legacy (RC2, 3DES)",
                opts(dir, "legacy.p12", None, Some(PASS)),
            ),
        ];
        for (what, o) in cases {
            let config = client_config(&o, &[b"h2"]).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(config.client_auth_cert_resolver.has_certs(), "{what}");
            assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()], "{what}");
            assert_no_secret(&format!("{o:?}"));
        }
    }

    #[test]
    fn cafile_adds_trust_without_replacing_the_roots() {
        let Some(dir) = fixtures() else { return };
        let builtin = webpki_roots::TLS_SERVER_ROOTS.len();
        let roots = root_store(Some(&dir.join("ca.pem"))).unwrap();
        assert_eq!(roots.len(), builtin + 1);
        // A cafile with the CA among other blocks (a key) still works.
        let roots = root_store(Some(&dir.join("rsa_pkcs1_combined.pem"))).unwrap();
        assert_eq!(roots.len(), builtin + 1);
        assert_eq!(root_store(None).unwrap().len(), builtin);
        let o = TlsOptions {
            cafile: Some(dir.join("ca.pem")),
            ..TlsOptions::default()
        };
        let config = client_config(&o, &[]).unwrap();
        assert!(!config.client_auth_cert_resolver.has_certs());
    }

    #[test]
    fn each_mistake_gets_its_own_message() {
        let Some(dir) = fixtures() else { return };
        let p = |f: &str| dir.join(f).display().to_string();
        let missing = dir.join("missing.pem");
        let cases: Vec<(TlsOptions, String)> = vec![
            (opts(dir, "missing.pem", None, None), format!("cannot read local_cert '{}': ", missing.display())),
            (opts(dir, "rsa.crt", Some("missing.pem"), None), format!("cannot read local_pk '{}': ", missing.display())),
            (opts(dir, "garbage.pem", None, None), format!("local_cert '{}' holds no certificate", p("garbage.pem"))),
            (opts(dir, "rsa.key", None, None), format!("local_cert '{}' holds no certificate", p("rsa.key"))),
            (opts(dir, "rsa.crt", None, None), format!("no private key in local_cert '{}': add it to the file or set local_pk", p("rsa.crt"))),
            (opts(dir, "rsa.crt", Some("ec.key"), None), format!("the private key in '{}' does not match the certificate", p("ec.key"))),
            (opts(dir, "rsa.crt", Some("rsa_enc_aes.p8"), None), format!("the private key in '{}' is encrypted: set the 'passphrase' option", p("rsa_enc_aes.p8"))),
            (opts(dir, "rsa.crt", Some("rsa_trad_aes256.key"), None), format!("the private key in '{}' is encrypted: set the 'passphrase' option", p("rsa_trad_aes256.key"))),
            (opts(dir, "rsa_trad_combined.pem", None, None), format!("the private key in '{}' is encrypted: set the 'passphrase' option", p("rsa_trad_combined.pem"))),
            (opts(dir, "rsa.crt", Some("rsa_enc_aes.p8"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("rsa_enc_aes.p8"))),
            (opts(dir, "ec.crt", Some("ec_enc_des3.p8"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("ec_enc_des3.p8"))),
            (opts(dir, "rsa.crt", Some("rsa_trad_aes256.key"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("rsa_trad_aes256.key"))),
            (opts(dir, "rsa.crt", Some("rsa_trad_des3.key"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("rsa_trad_des3.key"))),
            (opts(dir, "ec.crt", Some("ec_trad_aes128.key"), Some(WRONG)), format!("wrong passphrase for the private key in '{}'", p("ec_trad_aes128.key"))),
            (opts(dir, "rsa.crt", Some("rsa_enc_pbes1.p8"), Some(PASS)), format!("the encrypted private key in '{}' cannot be read", p("rsa_enc_pbes1.p8"))),
            (opts(dir, "modern.p12", None, Some(WRONG)), format!("wrong passphrase for the PKCS#12 file '{}'", p("modern.p12"))),
            (opts(dir, "legacy.p12", None, Some(WRONG)), format!("wrong passphrase for the PKCS#12 file '{}'", p("legacy.p12"))),
            (opts(dir, "modern.p12", None, None), format!("the PKCS#12 file '{}' is protected by a passphrase: set the 'passphrase' option", p("modern.p12"))),
            (
                TlsOptions { cafile: Some(dir.join("garbage.pem")), ..TlsOptions::default() },
                format!("cafile '{}' holds no certificate", p("garbage.pem")),
            ),
            (
                TlsOptions { cafile: Some(dir.join("rsa.key")), ..TlsOptions::default() },
                format!("cafile '{}' holds no certificate", p("rsa.key")),
            ),
            (
                TlsOptions { cafile: Some(missing.clone()), ..TlsOptions::default() },
                format!("cannot read cafile '{}': ", missing.display()),
            ),
        ];
        for (o, want) in cases {
            let msg = credentials_error(&o);
            assert!(msg.contains(&want), "{o:?}\n  got:  {msg}\n  want: {want}");
            assert_no_secret(&msg);
            assert_no_secret(&format!("{o:?}"));
        }
    }

    #[test]
    fn debug_never_shows_the_passphrase() {
        let o = TlsOptions {
            local_cert: Some(PathBuf::from("/etc/apns/ck.pem")),
            passphrase: Some(Zeroizing::new(PASS.to_string())),
            ..TlsOptions::default()
        };
        let shown = format!("{o:?} {o:#?}");
        assert!(
            shown.contains("<hidden>") && shown.contains("/etc/apns/ck.pem"),
            "{shown}"
        );
        assert_no_secret(&shown);
        let none = format!("{:?}", TlsOptions::default());
        assert!(none.contains("passphrase: none"), "{none}");
    }
}

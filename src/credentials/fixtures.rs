//! Test fixtures for the credential parsers and the TLS configuration: client
//! certificates and keys in every supported form, written once per test run
//! with the `openssl` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::test_support::fresh_temp_dir;

/// The passphrase of every encrypted fixture; must never show in a message.
pub(crate) const PASS: &str = "horse-battery-12345678";
pub(crate) const WRONG: &str = "staple-wrong-87654321";

/// Generates the credential fixtures once per test run with the `openssl`
/// CLI; `None` (with the reason on stderr) when openssl is missing.
pub(crate) fn fixtures() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("skipped: the openssl CLI is not installed (apt-get install openssl)");
            return None;
        }
        let dir = fresh_temp_dir("apns-tls-fixtures");
        let pass = format!("pass:{PASS}");
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let cat = |out: &str, parts: &[&str]| {
            let mut all = Vec::new();
            for p in parts {
                all.extend(std::fs::read(dir.join(p)).unwrap());
            }
            std::fs::write(dir.join(out), all).unwrap();
        };
        // A CA, and client certificates it signs, for RSA and EC keys.
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=apns test CA",
        ]);
        run(&["genrsa", "-traditional", "-out", "rsa.key", "2048"]);
        run(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec.key",
        ]);
        std::fs::write(
            dir.join("client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        for k in ["rsa", "ec"] {
            run(&[
                "req",
                "-new",
                "-key",
                &format!("{k}.key"),
                "-subj",
                "/CN=apns client",
                "-out",
                &format!("{k}.csr"),
            ]);
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{k}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-extfile",
                "client.ext",
                "-days",
                "30",
                "-out",
                &format!("{k}.crt"),
            ]);
        }
        run(&[
            "pkcs8", "-topk8", "-nocrypt", "-in", "rsa.key", "-out", "rsa.p8",
        ]);
        run(&[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "rsa.key",
            "-passout",
            &pass,
            "-out",
            "rsa_enc_aes.p8",
        ]);
        run(&[
            "pkcs8",
            "-topk8",
            "-v2",
            "des3",
            "-v2prf",
            "hmacWithSHA1",
            "-in",
            "ec.key",
            "-passout",
            &pass,
            "-out",
            "ec_enc_des3.p8",
        ]);
        run(&[
            "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", "rsa.key", "-passout", &pass,
            "-out", "rsa_enc_pbes1.p8",
        ]);
        run(&[
            "rsa",
            "-in",
            "rsa.key",
            "-aes256",
            "-traditional",
            "-passout",
            &pass,
            "-out",
            "rsa_trad_aes256.key",
        ]);
        run(&[
            "rsa",
            "-in",
            "rsa.key",
            "-des3",
            "-traditional",
            "-passout",
            &pass,
            "-out",
            "rsa_trad_des3.key",
        ]);
        run(&[
            "ec",
            "-in",
            "ec.key",
            "-aes128",
            "-passout",
            &pass,
            "-out",
            "ec_trad_aes128.key",
        ]);
        run(&[
            "ec",
            "-in",
            "ec.key",
            "-aes192",
            "-passout",
            &pass,
            "-out",
            "ec_trad_aes192.key",
        ]);
        run(&[
            "pkcs12",
            "-export",
            "-in",
            "rsa.crt",
            "-inkey",
            "rsa.key",
            "-certfile",
            "ca.pem",
            "-passout",
            &pass,
            "-out",
            "modern.p12",
        ]);
        run(&[
            "pkcs12",
            "-export",
            "-legacy",
            "-in",
            "ec.crt",
            "-inkey",
            "ec.key",
            "-passout",
            &pass,
            "-out",
            "legacy.p12",
        ]);
        // Apple-style product_ck.pem: "Bag Attributes" text, certificate, then key.
        std::fs::write(
            dir.join("bag.txt"),
            "Bag Attributes\n    friendlyName: Apple Push\nsubject=/CN=apns client\n",
        )
        .unwrap();
        cat(
            "rsa_pkcs1_combined.pem",
            &["bag.txt", "rsa.crt", "bag.txt", "rsa.key"],
        );
        cat("ec_sec1_combined.pem", &["ec.key", "ec.crt"]);
        cat("rsa_pkcs8_combined.pem", &["rsa.crt", "rsa.p8"]);
        cat("rsa_trad_combined.pem", &["rsa.crt", "rsa_trad_aes256.key"]);
        cat("rsa_enc_combined.pem", &["rsa.crt", "rsa_enc_aes.p8"]);
        std::fs::write(dir.join("garbage.pem"), "this is not a certificate\n").unwrap();
        Some(dir)
    })
    .as_deref()
}

/// Every message and Debug output the tests produce, to check for the passphrase.
pub(crate) fn assert_no_secret(text: &str) {
    assert!(
        !text.contains(PASS) && !text.contains(WRONG),
        "secret leaked: {text}"
    );
    assert!(!text.contains("MII"), "key material leaked?: {text}");
}

//! `apns-sandbox certs`: every file of the contract, and each one parses.

mod common;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use common::*;

#[test]
fn certs_writes_every_listed_file_and_the_pem_parses() {
    let dir = temp_dir("certs-check");
    let out = std::process::Command::new(BIN)
        .args(["certs", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // (file, certificates in it, has a key)
    let files = [
        ("ca.pem", 1, false),
        ("ca-key.pem", 0, true),
        ("server.pem", 1, false),
        ("server-key.pem", 0, true),
        ("client.pem", 1, true),
        ("client-cert.pem", 1, false),
        ("client-key.pem", 0, true),
        ("rsa-client.pem", 1, true),
        ("other-ca.pem", 1, false),
        ("other-client.pem", 1, true),
        ("other-server.pem", 1, false),
        ("other-server-key.pem", 0, true),
        ("expired-server.pem", 1, false),
        ("expired-server-key.pem", 0, true),
        ("otherhost-server.pem", 1, false),
        ("otherhost-server-key.pem", 0, true),
        ("auth-key.p8", 0, true),
        ("auth-key.pub.pem", 0, false),
    ];
    for (name, certs, key) in files {
        let path = dir.join(name);
        let found: Vec<_> = CertificateDer::pem_file_iter(&path)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(found.len(), certs, "{name}");
        let parsed = PrivateKeyDer::from_pem_file(&path);
        assert_eq!(parsed.is_ok(), key, "{name}: key {parsed:?}");
        if let Ok(k) = parsed {
            assert!(matches!(k, PrivateKeyDer::Pkcs8(_)), "{name}: not PKCS#8");
        }
    }
    let text = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    // client.pem is exactly client-cert.pem followed by client-key.pem.
    assert_eq!(
        text("client.pem"),
        text("client-cert.pem") + &text("client-key.pem")
    );
    // The RSA key is RSA-2048: its PKCS#8 DER is about 1.2 KB (an EC key is about 140 bytes).
    let rsa = PrivateKeyDer::from_pem_file(dir.join("rsa-client.pem")).unwrap();
    assert!(
        rsa.secret_der().len() > 1100,
        "{} bytes",
        rsa.secret_der().len()
    );
}

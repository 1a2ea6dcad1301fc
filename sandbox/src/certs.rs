//! `apns-sandbox certs`: the throwaway PKI that the sandbox, the tests and the
//! demo use, generated with rcgen.
//!
//! Owns which files exist and what is in each (see docs/sandbox-cli.md); it does
//! not load them back (that is [`crate::tls`]). Everything is EC P-256 except
//! `rsa-client.pem`, valid from yesterday (clock skew) for ten years.

/// A fixed RSA-2048 key for `rsa-client.pem`: ring (our only crypto provider)
/// signs with RSA but cannot generate RSA keys, and a sandbox PKI needs no secrecy.
/// Every other key is generated afresh.
const RSA_CLIENT_KEY: &str = include_str!("rsa-client-key.pem");

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256,
};
use time::{Duration, OffsetDateTime};

/// The names the server certificates are valid for.
const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// The only name `otherhost-server.pem` is valid for.
const OTHER_HOST: &str = "gateway.example.net";

/// Whether a leaf's validity ended yesterday (`expired-server.pem`).
#[derive(Clone, Copy, PartialEq)]
enum Expired {
    Yes,
    No,
}

/// A certificate authority: the parameters it signs with and its key.
struct Authority {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    key_pem: String,
}

/// A leaf certificate and its private key (PKCS#8), both as PEM.
struct Leaf {
    cert_pem: String,
    key_pem: String,
}

/// Writes every file of the sandbox PKI into `dir`, creating it if needed.
pub fn write_all(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;

    let ca = authority("APNs sandbox CA")?;
    let other_ca = authority("APNs sandbox unrelated CA")?;
    let server = leaf(&ca, "localhost", Role::Server, KeyPair::generate())?;
    let client = leaf(
        &ca,
        "Apple Development IOS Push Services: com.example.sandbox",
        Role::Client,
        KeyPair::generate(),
    )?;
    let rsa_client = leaf(
        &ca,
        "Apple Development IOS Push Services: com.example.sandbox (RSA)",
        Role::Client,
        KeyPair::from_pem(RSA_CLIENT_KEY),
    )?;
    let other_client = leaf(
        &other_ca,
        "Apple Development IOS Push Services: com.example.other",
        Role::Client,
        KeyPair::generate(),
    )?;
    let other_server = leaf(&other_ca, "localhost", Role::Server, KeyPair::generate())?;
    // For the hostile-gateway tests: trusted CA, but expired / for another name.
    let expired = leaf_with(
        &ca,
        "localhost (expired)",
        Role::Server,
        KeyPair::generate(),
        &SERVER_NAMES,
        Expired::Yes,
    )?;
    let otherhost = leaf_with(
        &ca,
        OTHER_HOST,
        Role::Server,
        KeyPair::generate(),
        &[OTHER_HOST],
        Expired::No,
    )?;

    let files: [(&str, String, bool); 16] = [
        ("ca.pem", ca.cert_pem.clone(), false),
        ("ca-key.pem", ca.key_pem.clone(), true),
        ("server.pem", server.cert_pem.clone(), false),
        ("server-key.pem", server.key_pem.clone(), true),
        ("client.pem", combined(&client), true),
        ("client-cert.pem", client.cert_pem.clone(), false),
        ("client-key.pem", client.key_pem.clone(), true),
        ("rsa-client.pem", combined(&rsa_client), true),
        ("other-ca.pem", other_ca.cert_pem.clone(), false),
        ("other-client.pem", combined(&other_client), true),
        ("other-server.pem", other_server.cert_pem.clone(), false),
        ("other-server-key.pem", other_server.key_pem.clone(), true),
        ("expired-server.pem", expired.cert_pem.clone(), false),
        ("expired-server-key.pem", expired.key_pem.clone(), true),
        ("otherhost-server.pem", otherhost.cert_pem.clone(), false),
        ("otherhost-server-key.pem", otherhost.key_pem.clone(), true),
    ];
    for (name, text, secret) in files {
        write_file(&dir.join(name), &text, secret)?;
    }
    // HTTP/2 token auth: auth-key.p8 and auth-key.pub.pem.
    crate::authkey::write(dir)
}

/// What a leaf certificate is for (its extended key usage).
#[derive(Clone, Copy)]
enum Role {
    Server,
    Client,
}

/// Certificate then key in one file, like Apple's `product_ck.pem`.
fn combined(leaf: &Leaf) -> String {
    format!("{}{}", leaf.cert_pem, leaf.key_pem)
}

/// Ten years from yesterday.
fn validity(params: &mut CertificateParams) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3653);
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "apns-sandbox");
    dn
}

fn authority(common_name: &str) -> Result<Authority, String> {
    let key = KeyPair::generate().map_err(|e| format!("cannot generate a CA key: {e}"))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params);
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("cannot sign the CA certificate {common_name:?}: {e}"))?;
    Ok(Authority {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        issuer: Issuer::new(params, key),
    })
}

fn leaf(
    ca: &Authority,
    common_name: &str,
    role: Role,
    key: Result<KeyPair, rcgen::Error>,
) -> Result<Leaf, String> {
    let names: &[&str] = match role {
        Role::Server => &SERVER_NAMES,
        Role::Client => &[],
    };
    leaf_with(ca, common_name, role, key, names, Expired::No)
}

fn leaf_with(
    ca: &Authority,
    common_name: &str,
    role: Role,
    key: Result<KeyPair, rcgen::Error>,
    names: &[&str],
    expired: Expired,
) -> Result<Leaf, String> {
    let key = key.map_err(|e| format!("cannot generate the key for {common_name:?}: {e}"))?;
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names)
        .map_err(|e| format!("bad certificate names for {common_name:?}: {e}"))?;
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if matches!(role, Role::Server) || key.algorithm() == &PKCS_RSA_SHA256 {
        // RSA key exchange (TLS 1.2 RSA suites) and RSA servers want it; harmless otherwise.
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = vec![match role {
        Role::Server => ExtendedKeyUsagePurpose::ServerAuth,
        Role::Client => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    validity(&mut params);
    if expired == Expired::Yes {
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(30);
        params.not_after = now - Duration::days(1);
    }
    let cert: Certificate = params
        .signed_by(&key, &ca.issuer)
        .map_err(|e| format!("cannot sign the certificate {common_name:?}: {e}"))?;
    Ok(Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Writes `text` to `path`; files holding a private key are readable by the owner only.
pub(crate) fn write_file(path: &Path, text: &str, secret: bool) -> Result<(), String> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

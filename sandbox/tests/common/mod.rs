//! Shared helpers for the process-level tests: one generated PKI per test
//! binary, a running `apns-sandbox serve` child, a rustls client with a chosen
//! client certificate, and frame builders (the core's encoder).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use apns::protocol::binary::{self, Command as Cmd, Frame};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

pub const BIN: &str = env!("CARGO_BIN_EXE_apns-sandbox");

pub type Client = StreamOwned<ClientConnection, TcpStream>;

/// A fresh directory under the target's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("sandbox-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The PKI written by `apns-sandbox certs`, once per test binary.
pub fn certs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = temp_dir("certs");
        let out = Command::new(BIN)
            .args(["certs", "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "certs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

/// A running `apns-sandbox serve`, killed when dropped.
pub struct Sandbox {
    child: Child,
    stdout: BufReader<ChildStdout>,
    pub binary: u16,
    pub feedback: u16,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Sandbox {
    /// Starts `serve --certs <certs> --log <dir>/log.jsonl --exit-after 60 <extra>`
    /// and waits for "ready".
    pub fn start(extra: &[&str]) -> Sandbox {
        let dir = temp_dir("serve");
        let log = dir.join("log.jsonl");
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--certs")
            .arg(certs())
            .arg("--log")
            .arg(&log)
            .args(["--exit-after", "60"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "sandbox ended early: {lines:?}"
            );
            let line = line.trim_end().to_string();
            if line == "ready" {
                break;
            }
            lines.push(line);
        }
        let port = |name: &str| -> u16 {
            let prefix = format!("{name} ");
            let line = lines.iter().find(|l| l.starts_with(&prefix)).unwrap();
            line[prefix.len()..].parse().unwrap()
        };
        Sandbox {
            binary: port("binary"),
            feedback: port("feedback"),
            child,
            stdout,
            dir,
            log,
        }
    }

    /// Connects to the binary gateway with DIR/`client_pem` as the client certificate.
    pub fn connect(&self, client_pem: &str) -> Client {
        connect(self.binary, client_pem, config(client_pem, "ca.pem", false))
    }

    pub fn connect_feedback(&self, client_pem: &str) -> Client {
        connect(
            self.feedback,
            client_pem,
            config(client_pem, "ca.pem", false),
        )
    }

    /// The log's lines, parsed.
    /// The `identifier` of every accepted notification in the log, in order.
    pub fn logged_identifiers(&self) -> Vec<serde_json::Value> {
        self.log_lines()
            .iter()
            .map(|l| l["identifier"].clone())
            .collect()
    }

    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Sends SIGTERM and returns what the sandbox printed afterwards and its status.
    pub fn terminate(mut self) -> (String, ExitStatus) {
        let killed = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        assert!(killed.unwrap().success());
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        (rest, status)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client configuration trusting DIR/`ca`, authenticating with DIR/`client_pem`.
pub fn config(client_pem: &str, ca: &str, tls12_only: bool) -> Arc<ClientConfig> {
    let dir = certs();
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(dir.join(ca)).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let pem = dir.join(client_pem);
    let chain: Vec<_> = CertificateDer::pem_file_iter(&pem)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(&pem).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider);
    let builder = if tls12_only {
        builder
            .with_protocol_versions(&[&rustls::version::TLS12])
            .unwrap()
    } else {
        builder.with_safe_default_protocol_versions().unwrap()
    };
    Arc::new(
        builder
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap(),
    )
}

/// Connects and completes the client side of the handshake (errors are the caller's).
pub fn try_connect(port: u16, config: Arc<ClientConfig>) -> std::io::Result<Client> {
    let sock = TcpStream::connect(("127.0.0.1", port))?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    sock.set_write_timeout(Some(Duration::from_secs(10)))?;
    let conn = ClientConnection::new(config, ServerName::try_from("localhost").unwrap())
        .map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

fn connect(port: u16, what: &str, config: Arc<ClientConfig>) -> Client {
    try_connect(port, config).unwrap_or_else(|e| panic!("connecting with {what}: {e}"))
}

/// Writes all of `bytes` in one go and flushes.
pub fn send(client: &mut Client, bytes: &[u8]) {
    client.write_all(bytes).unwrap();
    client.flush().unwrap();
}

/// Reads until the server closes. A clean close (close_notify) gives `Ok`.
pub fn read_to_end(client: &mut Client) -> std::io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match client.read(&mut chunk) {
            Ok(0) => return Ok(got),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) if got.is_empty() => return Err(e),
            Err(e) => panic!("error after {got:?}: {e}"),
        }
    }
}

pub const PAYLOAD: &[u8] = br#"{"aps":{"alert":"hello"}}"#;

pub fn token(byte: u8) -> [u8; 32] {
    [byte; 32]
}

/// One frame in the given layout, through the core's encoder.
pub fn frame(command: Cmd, identifier: u32, token: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    binary::encode(
        &Frame {
            command,
            token: Some(token),
            payload: Some(payload),
            identifier,
            expiry: 0,
            priority: 10,
        },
        &mut out,
    );
    out
}

/// A command-1 frame.
pub fn enhanced(identifier: u32, token: &[u8]) -> Vec<u8> {
    frame(Cmd::Enhanced, identifier, token, PAYLOAD)
}

/// The all-zero-token sentinel: the gateway answers [8, 8, id] once everything
/// before it is processed.
pub fn sentinel(identifier: u32) -> Vec<u8> {
    enhanced(identifier, &[0; 32])
}

/// The six bytes of an error response.
pub fn error_response(status: u8, identifier: u32) -> Vec<u8> {
    let mut v = vec![8, status];
    v.extend_from_slice(&identifier.to_be_bytes());
    v
}

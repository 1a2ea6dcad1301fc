//! The feedback service: on connect, send every pending (time, token) tuple and
//! close. Like Apple's, the list is handed out once: the first client to finish
//! the TLS handshake gets it all, later clients get an empty stream.
//!
//! Owns the `--feedback FILE` format and the pending list. The tuple encoding is
//! the core's (`apns::protocol::feedback::Tuple`).

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use apns::protocol::feedback::Tuple;
use apns::protocol::token::parse_hex;
use rustls::ServerConfig;

use crate::stream::{self, Ending};

/// The feedback service's state.
pub struct Feedback {
    tls: Arc<ServerConfig>,
    pending: Mutex<Vec<Tuple>>,
    connections: AtomicU64,
}

impl Feedback {
    pub fn new(tls: Arc<ServerConfig>, pending: Vec<Tuple>) -> Feedback {
        Feedback {
            tls,
            pending: Mutex::new(pending),
            connections: AtomicU64::new(0),
        }
    }

    /// Accepts connections forever, each on its own thread.
    pub fn serve(self: Arc<Self>, listener: TcpListener) {
        let service = Arc::clone(&self);
        stream::serve_each(
            listener,
            "feedback",
            &self.connections,
            &self.tls,
            move |conn, tls| service.connection(conn, tls),
        );
    }

    fn connection(&self, conn: u64, mut tls: stream::Tls) {
        let tuples = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let mut bytes = Vec::with_capacity(tuples.iter().map(|t| 6 + t.token.len()).sum());
        for t in &tuples {
            t.encode(&mut bytes);
        }
        if let Err(e) = tls.write_all(&bytes).and_then(|()| tls.flush()) {
            if !stream::is_hang_up(&e) {
                eprintln!("apns-sandbox: feedback connection {conn}: {e}");
            }
            return;
        }
        stream::close(tls, &[], Ending::Orderly);
    }
}

/// Reads `--feedback FILE`: lines `UNIX_TIME HEX_TOKEN`; blank lines and lines
/// starting with `#` are skipped. Tokens may be of any length up to 65535 bytes.
pub fn load(path: &Path) -> Result<Vec<Tuple>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut tuples = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{} line {}", path.display(), number + 1);
        let Some((time, token)) = line.split_once(char::is_whitespace) else {
            return Err(format!("{}: expected \"UNIX_TIME HEX_TOKEN\"", at()));
        };
        let timestamp: u32 = time
            .parse()
            .map_err(|_| format!("{}: {time:?} is not a unix time (0 to 4294967295)", at()))?;
        let token =
            parse_hex(token.trim().as_bytes(), None).map_err(|e| format!("{}: {e}", at()))?;
        if token.len() > usize::from(u16::MAX) {
            return Err(format!("{}: the token is longer than 65535 bytes", at()));
        }
        tuples.push(Tuple { timestamp, token });
    }
    Ok(tuples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_time_and_token_lines() {
        let dir = std::env::temp_dir().join(format!("apns-sandbox-fb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("feedback.txt");
        std::fs::write(&path, "# gone\n1700000000 aabb\n\n5\t<01 02 03>\n").unwrap();
        let got = load(&path).unwrap();
        assert_eq!(
            got,
            vec![
                Tuple {
                    timestamp: 1_700_000_000,
                    token: vec![0xaa, 0xbb]
                },
                Tuple {
                    timestamp: 5,
                    token: vec![1, 2, 3]
                },
            ]
        );
        std::fs::write(&path, "yesterday aabb\n").unwrap();
        assert!(load(&path).unwrap_err().contains("line 1"));
        std::fs::write(&path, "12\n").unwrap();
        assert!(load(&path).unwrap_err().contains("UNIX_TIME HEX_TOKEN"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

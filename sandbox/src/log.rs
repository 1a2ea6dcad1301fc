//! The JSONL log of accepted notifications (`--log FILE`), one line each:
//!
//! ```text
//! {"conn":1,"seq":1,"command":2,"identifier":7,"token":"<hex>","payload":"<json text>","expiry":0,"priority":10}
//! ```
//!
//! Owns the file, the line format and the global accept sequence (`seq` is taken
//! under the same lock as the write, so lines appear in `seq` order). One
//! `BufWriter` is shared behind a mutex; connections flush it before they block,
//! so a client that has flushed its writes finds its lines in the file.
//! Without `--log` it only counts.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use apns::protocol::binary::Frame;

/// The accept counter and the optional log file.
pub struct Log {
    accepted: AtomicU64,
    file: Mutex<Option<BufWriter<File>>>,
    path: Option<PathBuf>,
}

impl Log {
    /// Creates (truncates) the log file, if one is wanted.
    pub fn open(path: Option<&Path>) -> Result<Log, String> {
        let file = match path {
            Some(p) => Some(BufWriter::with_capacity(
                64 * 1024,
                File::create(p)
                    .map_err(|e| format!("cannot create the log {}: {e}", p.display()))?,
            )),
            None => None,
        };
        Ok(Log {
            accepted: AtomicU64::new(0),
            file: Mutex::new(file),
            path: path.map(Path::to_path_buf),
        })
    }

    /// How many notifications were accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Counts one accepted notification without logging it (`--sink`); returns its `seq`.
    pub fn count(&self) -> u64 {
        self.accepted.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Counts and logs one accepted notification; returns its `seq`.
    pub fn accept(&self, conn: u64, frame: &Frame<'_>) -> u64 {
        let mut file = self.lock();
        let seq = self.count();
        if let Some(w) = file.as_mut() {
            if let Err(e) = write_line(w, conn, seq, frame) {
                self.fail(&e);
            }
        }
        seq
    }

    /// Counts and logs one accepted notification whose line `write` produces
    /// (the HTTP/2 service's format, see [`crate::http2`]); returns its `seq`.
    pub fn accept_line(&self, write: impl FnOnce(&mut dyn Write, u64) -> io::Result<()>) -> u64 {
        let mut file = self.lock();
        let seq = self.count();
        if let Some(w) = file.as_mut() {
            if let Err(e) = write(w, seq) {
                self.fail(&e);
            }
        }
        seq
    }

    /// Pushes buffered lines to the file.
    pub fn flush(&self) {
        if self.path.is_none() {
            return;
        }
        if let Some(w) = self.lock().as_mut() {
            if let Err(e) = w.flush() {
                self.fail(&e);
            }
        }
    }

    /// Flushes and returns the final count, holding the lock so that no line or
    /// count is added afterwards (the process exits right after).
    pub fn finish(&self) -> (MutexGuard<'_, Option<BufWriter<File>>>, u64) {
        let mut file = self.lock();
        if let Some(w) = file.as_mut() {
            if let Err(e) = w.flush() {
                eprintln!("apns-sandbox: {}", self.describe(&e));
            }
        }
        let n = self.accepted();
        (file, n)
    }

    fn lock(&self) -> MutexGuard<'_, Option<BufWriter<File>>> {
        // A panic while holding the lock leaves the writer usable: take it anyway.
        self.file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn describe(&self, e: &io::Error) -> String {
        match &self.path {
            Some(p) => format!("cannot write the log {}: {e}", p.display()),
            None => format!("cannot write the log: {e}"),
        }
    }

    /// A log that cannot be written makes every later check meaningless: stop.
    fn fail(&self, e: &io::Error) -> ! {
        eprintln!("apns-sandbox: {}", self.describe(e));
        std::process::exit(2)
    }
}

/// One JSON line, written straight into the buffer (no allocation for valid UTF-8 payloads).
fn write_line(w: &mut impl Write, conn: u64, seq: u64, frame: &Frame<'_>) -> io::Result<()> {
    write!(
        w,
        r#"{{"conn":{conn},"seq":{seq},"command":{},"identifier":{},"token":""#,
        frame.command as u8, frame.identifier
    )?;
    write_hex(w, frame.token.unwrap_or_default())?;
    w.write_all(br#"","payload":"#)?;
    let payload = frame.payload.unwrap_or_default();
    match std::str::from_utf8(payload) {
        Ok(text) => serde_json::to_writer(&mut *w, text),
        Err(_) => serde_json::to_writer(&mut *w, &String::from_utf8_lossy(payload)),
    }
    .map_err(io::Error::other)?;
    writeln!(
        w,
        r#","expiry":{},"priority":{}}}"#,
        frame.expiry, frame.priority
    )
}

fn write_hex(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut chunk = [0u8; 128];
    for part in bytes.chunks(chunk.len() / 2) {
        for (i, b) in part.iter().enumerate() {
            chunk[2 * i] = DIGITS[usize::from(b >> 4)];
            chunk[2 * i + 1] = DIGITS[usize::from(b & 15)];
        }
        w.write_all(&chunk[..2 * part.len()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use apns::protocol::binary::Command;

    #[test]
    fn a_line_has_every_field_and_escapes_the_payload() {
        let token = [0xa1u8; 32];
        let frame = Frame {
            command: Command::Framed,
            token: Some(&token),
            payload: Some(br#"{"aps":{"alert":"a \"quote\"\n"}}"#),
            identifier: 7,
            expiry: 1_700_000_000,
            priority: 5,
        };
        let mut out = Vec::new();
        write_line(&mut out, 3, 9, &frame).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["conn"], 3);
        assert_eq!(v["seq"], 9);
        assert_eq!(v["command"], 2);
        assert_eq!(v["identifier"], 7);
        assert_eq!(v["token"], "a1".repeat(32));
        assert_eq!(v["payload"], r#"{"aps":{"alert":"a \"quote\"\n"}}"#);
        assert_eq!(v["expiry"], 1_700_000_000);
        assert_eq!(v["priority"], 5);
    }
}

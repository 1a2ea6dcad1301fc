//! One accepted TLS connection, blocking: the handshake and the orderly close.
//!
//! Owns how a connection starts (handshake under a timeout, so a silent client
//! cannot hold a thread forever) and how it ends so that the client really sees
//! the end: the last bytes, `close_notify` when wanted, a TCP FIN, then a short
//! "lingering close" that reads and discards what the client still sends. Closing
//! a socket with unread bytes in it makes the kernel send a reset, which can
//! destroy the error response before the client reads it; draining first avoids that.
//! It knows nothing of APNs frames.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// The blocking TLS stream of one client.
pub type Tls = StreamOwned<ServerConnection, TcpStream>;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection keeps reading (and discarding) what the client sends.
const LINGER: Duration = Duration::from_secs(2);
/// A closing connection gives up on a client that is silent this long without closing.
const LINGER_IDLE: Duration = Duration::from_millis(500);

/// Runs the TLS handshake, client certificate check included.
pub fn handshake(config: Arc<ServerConfig>, sock: TcpStream) -> io::Result<Tls> {
    let _ = sock.set_nodelay(true);
    sock.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    sock.set_write_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        let (read, written) = tls.conn.complete_io(&mut tls.sock)?;
        if read == 0 && written == 0 && tls.conn.is_handshaking() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    tls.sock.set_read_timeout(None)?;
    tls.sock.set_write_timeout(None)?;
    Ok(tls)
}

/// How the server ends a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// A protocol close: `close_notify`, then FIN. The client reads a clean end of stream.
    Orderly,
    /// A simulated network drop: FIN without `close_notify`, so a TLS client sees an
    /// unexpected end of file, as when a connection is lost.
    Abrupt,
}

/// Sends `last` (may be empty), ends the connection as `ending` says, and discards
/// whatever the client still writes until it closes or [`LINGER`] passes.
pub fn close(mut tls: Tls, last: &[u8], ending: Ending) {
    let _ = tls.sock.set_write_timeout(Some(LINGER));
    if !last.is_empty() && tls.conn.writer().write_all(last).is_err() {
        return;
    }
    if ending == Ending::Orderly {
        tls.conn.send_close_notify();
    }
    while tls.conn.wants_write() {
        match tls.conn.write_tls(&mut tls.sock) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
    let _ = tls.sock.flush();
    let _ = tls.sock.shutdown(Shutdown::Write);
    drain(&mut tls.sock);
    let _ = tls.sock.shutdown(Shutdown::Both);
}

/// Reads and throws away what the peer sends until it closes, goes quiet or
/// [`LINGER`] passes.
fn drain(sock: &mut TcpStream) {
    discard(sock, LINGER, LINGER_IDLE);
}

/// Reads and throws away what the peer sends, never answering, until it
/// closes, sends nothing for `idle`, or `total` passes.
pub fn discard(sock: &mut TcpStream, total: Duration, idle: Duration) {
    let deadline = Instant::now() + total;
    let mut scratch = [0u8; 16 * 1024];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if sock
            .set_read_timeout(Some(
                left.clamp(Duration::from_millis(1), idle.max(Duration::from_millis(1))),
            ))
            .is_err()
        {
            return;
        }
        match sock.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Whether an error is just the client going away (not worth a line on stderr).
pub fn is_hang_up(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// Accepts connections forever, numbering them from 1 with `connections` and
/// serving each on its own thread named `{service}-{n}` with `tls` already
/// handshaken. A failed handshake ends only that connection (and is reported
/// unless the client simply hung up).
pub fn serve_each<F>(
    listener: TcpListener,
    service: &'static str,
    connections: &AtomicU64,
    tls: &Arc<ServerConfig>,
    handle: F,
) where
    F: Fn(u64, Tls) + Send + Clone + 'static,
{
    for sock in listener.incoming() {
        match sock {
            Ok(sock) => {
                let conn = connections.fetch_add(1, Ordering::SeqCst) + 1;
                let (tls, handle) = (Arc::clone(tls), handle.clone());
                let spawned = thread::Builder::new()
                    .name(format!("{service}-{conn}"))
                    .spawn(move || match handshake(tls, sock) {
                        Ok(stream) => handle(conn, stream),
                        Err(e) if is_hang_up(&e) => {}
                        Err(e) => eprintln!(
                            "apns-sandbox: {service} connection {conn}: TLS handshake failed: {e}"
                        ),
                    });
                if let Err(e) = spawned {
                    eprintln!(
                        "apns-sandbox: {service} connection {conn}: cannot start a thread: {e}"
                    );
                }
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                eprintln!("apns-sandbox: {service}: accept failed: {e}");
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

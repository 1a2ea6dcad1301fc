//! The TCP side of a gateway connection: resolving and connecting within a
//! deadline, and poll(2) on the non-blocking socket (the only place the
//! transport blocks).

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use super::endpoint::Endpoint;
use crate::error::{ConnectError, Error, Result, TimeoutError, Unfinished};

/// Resolves and connects over TCP, trying each address with the time left.
pub(super) fn tcp_connect(
    endpoint: &Endpoint,
    peer: &str,
    deadline: Instant,
    budget: Duration,
) -> Result<TcpStream> {
    let host = endpoint.host.as_str();
    let addrs: Vec<SocketAddr> = (host, endpoint.port)
        .to_socket_addrs()
        .map_err(|e| {
            Error::Connect(ConnectError::Resolve {
                host: host.to_string(),
                cause: e.to_string(),
            })
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Error::Connect(ConnectError::Resolve {
            host: host.to_string(),
            cause: "no address found".to_string(),
        }));
    }
    let (mut refused, mut timed_out, mut other) = (false, false, None);
    for addr in addrs {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            timed_out = true;
            break;
        }
        match TcpStream::connect_timeout(&addr, remaining) {
            Ok(sock) => return Ok(sock),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => refused = true,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                timed_out = true
            }
            Err(e) => other = Some(e),
        }
    }
    let peer = peer.to_string();
    if refused {
        Err(Error::Connect(ConnectError::Refused { peer }))
    } else if timed_out {
        Err(Error::Timeout(TimeoutError {
            peer,
            after: budget,
            what: Unfinished::TcpConnect,
        }))
    } else {
        let cause = other.map_or_else(|| "no usable address".to_string(), |e| e.to_string());
        Err(Error::Connect(ConnectError::Failed { peer, cause }))
    }
}

/// poll(2) on one socket until it is readable/writable or `deadline` passes.
pub(super) fn poll_socket(
    sock: &TcpStream,
    read: bool,
    write: bool,
    deadline: Instant,
) -> io::Result<bool> {
    let mut flags = PollFlags::empty();
    if read {
        flags |= PollFlags::IN;
    }
    if write {
        flags |= PollFlags::OUT;
    }
    if flags.is_empty() {
        return Ok(true);
    }
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        // A deadline too far to express is clamped; the loop comes back.
        let timeout = Timespec::try_from(remaining.min(Duration::from_secs(86_400)))
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "timeout out of range"))?;
        let mut fds = [PollFd::new(sock, flags)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => {
                if Instant::now() >= deadline {
                    return Ok(false);
                }
            }
            // Readiness, or an error/hang-up that the next read or write reports.
            Ok(_) => return Ok(true),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

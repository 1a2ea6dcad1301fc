//! `apns-sandbox serve`: loads everything, binds both services on 127.0.0.1,
//! announces the ports, runs until SIGTERM/SIGINT or `--exit-after`, and exits
//! with the log flushed and "accepted N" printed.
//!
//! Owns start-up order and shutdown; the protocol work is in [`crate::gateway`]
//! and [`crate::feedback`].

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::faults::Faults;
use crate::feedback::{self, Feedback};
use crate::gateway::{self, Gateway, Rules};
use crate::http2;
use crate::log::Log;
use crate::tls;

/// The options of `serve`, as docs/sandbox-cli.md lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub certs: PathBuf,
    pub port: u16,
    pub feedback_port: u16,
    pub ports_file: Option<PathBuf>,
    pub log: Option<PathBuf>,
    pub invalid_tokens: Option<PathBuf>,
    pub feedback: Option<PathBuf>,
    pub faults: Faults,
    pub slow_read: Option<u64>,
    /// `--error-delay`: error responses are sent this late (Apple: 0.1 to 0.8 s).
    pub error_delay: Option<Duration>,
    pub server_cert: String,
    pub sink: bool,
    pub exit_after: Option<Duration>,
    /// `--hostile MODE` (binary gateway only).
    pub hostile: Option<crate::hostile::Mode>,
    /// The HTTP/2 provider API's options (boxed: `Options` travels in an enum).
    pub http2: Box<http2::Flags>,
}

/// Starts both services; returns only on a start-up error (the process exits on
/// a signal or at `--exit-after`).
pub fn run(options: Options) -> Result<(), String> {
    let config = tls::server_config(
        &options.certs,
        &options.server_cert,
        tls::ClientAuth::Required,
        &[],
    )?;
    let invalid_tokens = match &options.invalid_tokens {
        Some(path) => gateway::load_invalid_tokens(path)?,
        None => Default::default(),
    };
    let pending = match &options.feedback {
        Some(path) => feedback::load(path)?,
        None => Vec::new(),
    };
    let h2_config = http2::server_config(&options.certs, &options.server_cert)?;
    let h2_rules = http2::Rules {
        invalid_tokens: invalid_tokens.clone(),
        unregistered: match &options.http2.unregistered {
            Some(path) => http2::load_unregistered(path, http2::now_ms())?,
            None => Default::default(),
        },
        verifier: crate::authkey::Verifier::load(&options.certs)?,
        sink: options.sink,
        flags: (*options.http2).clone(),
    };
    let log = Log::open(options.log.as_deref())?;

    let binary = bind(options.port, "binary gateway")?;
    let feedback = bind(options.feedback_port, "feedback service")?;
    let h2_listener = http2::bind(options.http2.port)?;
    let binary_port = port(&binary)?;
    let feedback_port = port(&feedback)?;
    let http2_port = port(&h2_listener)?;
    if let Some(path) = &options.ports_file {
        write_ports_file(path, binary_port, feedback_port, http2_port)?;
    }

    let rules = Rules {
        log,
        faults: options.faults,
        invalid_tokens,
        sink: options.sink,
    };
    let gateway = Arc::new(
        Gateway::new(Arc::clone(&config), rules, options.slow_read)
            .with_error_delay(options.error_delay)
            .with_hostile(options.hostile),
    );
    let service = Arc::new(Feedback::new(config, pending));

    let mut signals = Signals::new([SIGTERM, SIGINT])
        .map_err(|e| format!("cannot handle SIGTERM/SIGINT: {e}"))?;
    let on_signal = Arc::clone(&gateway);
    spawn("signals", move || {
        if signals.forever().next().is_some() {
            finish(&on_signal);
        }
    })?;
    if let Some(after) = options.exit_after {
        let on_timer = Arc::clone(&gateway);
        spawn("exit-after", move || {
            thread::sleep(after);
            finish(&on_timer);
        })?;
    }
    spawn("feedback", move || service.serve(feedback))?;
    http2::spawn(h2_listener, h2_config, h2_rules, Arc::clone(&gateway))?;

    say(&format!(
        "binary {binary_port}\nfeedback {feedback_port}\nhttp2 {http2_port}\nready\n"
    ));
    gateway.serve(binary);
    Ok(())
}

/// Flushes the log, prints "accepted N" and exits 0. The log stays locked, so
/// nothing is accepted between the count and the exit.
fn finish(gateway: &Gateway) -> ! {
    let (_locked, accepted) = gateway.log().finish();
    say(&format!("accepted {accepted}\n"));
    std::process::exit(0)
}

/// Writes to stdout and flushes; a closed stdout is not worth dying for.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn bind(port: u16, what: &str) -> Result<TcpListener, String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr} for the {what}: {e}"))
}

fn port(listener: &TcpListener) -> Result<u16, String> {
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read the bound port: {e}"))
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), String> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(drop)
        .map_err(|e| format!("cannot start the {name} thread: {e}"))
}

/// "binary=PORT\nfeedback=PORT\nhttp2=PORT\n", written to a temporary file beside
/// `path` and renamed over it, so a reader never sees half a file.
fn write_ports_file(path: &Path, binary: u16, feedback: u16, http2: u16) -> Result<(), String> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(
        &tmp,
        format!("binary={binary}\nfeedback={feedback}\nhttp2={http2}\n"),
    )
    .and_then(|()| std::fs::rename(&tmp, path))
    .map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write the ports file {}: {e}", path.display())
    })
}

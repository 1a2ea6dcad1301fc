//! The HTTP/2 provider API of the sandbox (`serve` prints `http2 PORT`).
//!
//! Checks what APNs checks, in APNs's order: method and path, authentication
//! (a client certificate chained to DIR/ca.pem, or a provider token signed with
//! DIR/auth-key.p8, see [`crate::authkey`]), the `apns-*` headers, the payload,
//! then the device token (listed invalid ones, `--unregistered` ones). Accepted
//! notifications go to the same JSONL log as the binary gateway's, with
//! `"protocol":"http2"`; every answer echoes (or assigns) `apns-id`.
//!
//! Faults: `--h2-status-every N:CODE` answers CODE to every N-th otherwise
//! accepted request, `--goaway-every N` starts a graceful GOAWAY after N streams
//! on a connection, `--goaway-conn K:N` does so on the K-th connection only,
//! `--max-streams N[,M...]` advertises SETTINGS_MAX_CONCURRENT_STREAMS
//! (each new connection the next value),
//! `--h2-delay-ms N` delays every answer.
//!
//! Each log line carries `"concurrent"`: the streams open on its connection when
//! it arrived (itself included), so tests can check the client's concurrency.
//!
//! Runs on its own thread with a single-threaded tokio runtime, one task per
//! connection (its streams are handled inside it); owns nothing of the binary
//! gateway but the log. (Two worker threads made it slower, not faster: on a
//! small machine they competed with the client being measured.)

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apns::protocol::http2::{parse_apns_id, PushType, MAX_COLLAPSE_ID};
use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use h2::server::SendResponse;
use h2::RecvStream;
use http::{HeaderMap, Method, StatusCode};
use rustls::ServerConfig;

use crate::authkey::Verifier;
use crate::gateway::Gateway;

/// The HTTP/2 options of `serve`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    /// `--http2-port N` (0: the OS chooses).
    pub port: u16,
    /// `--unregistered FILE`.
    pub unregistered: Option<std::path::PathBuf>,
    /// `--h2-status-every N:CODE`.
    pub status_every: Option<(u64, u16)>,
    /// `--goaway-every N`.
    pub goaway_every: Option<u64>,
    /// `--goaway-conn K:N`: only the K-th connection (counted from 1 in
    /// accept order) starts a graceful GOAWAY, after N streams (a fault on one
    /// connection of a client's pool while the others carry on).
    pub goaway_conn: Option<(u64, u64)>,
    /// `--max-streams N[,M...]`: the limit of each new connection in turn
    /// (empty: none). h2 cannot change SETTINGS during a connection, so a
    /// changing limit is shown across connections (with `--goaway-every`).
    pub max_streams: Vec<u32>,
    /// `--h2-delay-ms N`.
    pub delay_ms: Option<u64>,
}

impl Flags {
    /// Parses the value of `--h2-status-every`: `N:CODE`, CODE one of the
    /// statuses APNs answers with.
    pub fn parse_status_every(text: &str) -> Result<(u64, u16), String> {
        let bad = || {
            format!("--h2-status-every wants N:CODE (e.g. 50:429; CODE 403, 429, 500 or 503), not {text:?}")
        };
        let (n, code) = text.split_once(':').ok_or_else(bad)?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        let code: u16 = code.trim().parse().map_err(|_| bad())?;
        if n == 0 || reason_for(code).is_none() {
            return Err(bad());
        }
        Ok((n, code))
    }
}

/// The reason sent with an injected status.
fn reason_for(code: u16) -> Option<&'static str> {
    match code {
        403 => Some("ExpiredProviderToken"),
        429 => Some("TooManyRequests"),
        500 => Some("InternalServerError"),
        503 => Some("ServiceUnavailable"),
        _ => None,
    }
}

/// Everything a request is checked against.
pub struct Rules {
    pub invalid_tokens: HashSet<Vec<u8>>,
    /// Token → the 410 timestamp (ms).
    pub unregistered: HashMap<Vec<u8>, u64>,
    pub verifier: Option<Verifier>,
    pub sink: bool,
    pub flags: Flags,
}

struct Shared {
    rules: Rules,
    gateway: Arc<Gateway>,
    /// Requests that passed every check (for `--h2-status-every`).
    passed: AtomicU64,
    connections: AtomicU64,
}

/// Binds the HTTP/2 port on 127.0.0.1.
pub fn bind(port: u16) -> Result<TcpListener, String> {
    let addr = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port));
    TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr} for HTTP/2: {e}"))
}

/// The TLS configuration: DIR/NAME.pem, ALPN h2, client certificates optional
/// (token auth has none) but, when given, chained to DIR/ca.pem.
pub fn server_config(dir: &Path, server_cert: &str) -> Result<Arc<ServerConfig>, String> {
    crate::tls::server_config(dir, server_cert, crate::tls::ClientAuth::Optional, &[b"h2"])
}

/// Reads `--unregistered FILE`: lines `HEX` or `TIMESTAMP_MS HEX` (spaces inside
/// the hex are not allowed here; `#` starts a comment). A line without a
/// timestamp gets `now_ms`.
pub fn load_unregistered(path: &Path, now_ms: u64) -> Result<HashMap<Vec<u8>, u64>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read --unregistered {}: {e}", path.display()))?;
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "{} line {}: expected HEX or TIMESTAMP_MS HEX",
                path.display(),
                i + 1
            )
        };
        let (ts, hex_text) = match line.split_once(char::is_whitespace) {
            Some((ts, rest)) => (ts.parse::<u64>().map_err(|_| bad())?, rest.trim()),
            None => (now_ms, line),
        };
        let token = hex::decode(hex_text).map_err(|_| bad())?;
        out.insert(token, ts);
    }
    Ok(out)
}

/// Serves HTTP/2 on `listener` from a new thread.
pub fn spawn(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    rules: Rules,
    gateway: Arc<Gateway>,
) -> Result<(), String> {
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot set up the HTTP/2 listener: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the HTTP/2 runtime: {e}"))?;
    let shared = Arc::new(Shared {
        rules,
        gateway,
        passed: AtomicU64::new(0),
        connections: AtomicU64::new(0),
    });
    std::thread::Builder::new()
        .name("http2-accept".into())
        .spawn(move || runtime.block_on(accept_loop(listener, config, shared)))
        .map(drop)
        .map_err(|e| format!("cannot start the HTTP/2 thread: {e}"))
}

async fn accept_loop(listener: TcpListener, config: Arc<ServerConfig>, shared: Arc<Shared>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("apns-sandbox: HTTP/2 listener: {e}");
            return;
        }
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(pair) => pair,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            // A client that fails the handshake or breaks the connection is its own problem.
            let _ = connection(shared, acceptor, tcp).await;
        });
    }
}

/// Streams open on one connection.
#[derive(Default)]
struct Open(AtomicUsize);

async fn connection(
    shared: Arc<Shared>,
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let tls = acceptor.accept(tcp).await?;
    let client_cert = tls
        .get_ref()
        .1
        .peer_certificates()
        .is_some_and(|c| !c.is_empty());
    let conn_no = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
    let mut builder = h2::server::Builder::new();
    let limits = &shared.rules.flags.max_streams;
    let turn = usize::try_from(conn_no - 1).unwrap_or(0) % limits.len().max(1);
    if let Some(&n) = limits.get(turn) {
        builder.max_concurrent_streams(n);
    }
    let mut conn = builder.handshake::<_, Bytes>(tls).await?;
    let open = Open::default();
    let mut streams = 0u64;
    let mut going_away = false;
    // Every stream of the connection is handled by this one task, polled next to
    // the connection itself: a task per stream, spread over the runtime's two
    // threads, contended for h2's connection lock and made the sandbox slower
    // than the clients it measures.
    let mut handlers = FuturesUnordered::new();
    // `--h2-delay-ms`: answers wait here, due in arrival order (the delay is the
    // same for all), under one timer for the connection instead of one each
    // (the per-request timers were a tenth of the sandbox's time under load).
    let delay = shared.rules.flags.delay_ms.map(Duration::from_millis);
    let mut delayed: VecDeque<(tokio::time::Instant, Reply)> = VecDeque::new();
    let timer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(timer);
    loop {
        tokio::select! {
            next = conn.accept() => {
                let Some(next) = next else { break };
                let (request, respond) = next?;
                streams += 1;
                let concurrent = open.0.fetch_add(1, Ordering::SeqCst) + 1;
                let at = Arrival {
                    conn: conn_no,
                    stream: u32::from(respond.stream_id()),
                    concurrent,
                    client_cert,
                };
                handlers.push(handle(&shared, &open, at, request, respond));
                let flags = &shared.rules.flags;
                let goaway = flags.goaway_every.is_some_and(|n| streams >= n)
                    || flags.goaway_conn.is_some_and(|(k, n)| k == conn_no && streams >= n);
                if goaway && !going_away {
                    going_away = true;
                    conn.graceful_shutdown();
                }
            }
            Some(reply) = handlers.next(), if !handlers.is_empty() => {
                // Every answer ready now, before the connection is polled
                // again (a turn of this loop per answer polled it per answer).
                let mut next = Some(reply);
                while let Some(reply) = next {
                    if let Some(reply) = reply {
                        match delay {
                            Some(d) => {
                                let due = tokio::time::Instant::now() + d;
                                if delayed.is_empty() {
                                    timer.as_mut().reset(due);
                                }
                                delayed.push_back((due, reply));
                            }
                            None => reply.send(&shared, &open),
                        }
                    }
                    next = handlers.next().now_or_never().flatten();
                }
            }
            () = &mut timer, if !delayed.is_empty() => {
                let now = tokio::time::Instant::now();
                while delayed.front().is_some_and(|(due, _)| *due <= now) {
                    if let Some((_, reply)) = delayed.pop_front() {
                        reply.send(&shared, &open);
                    }
                }
                if let Some((due, _)) = delayed.front() {
                    timer.as_mut().reset(*due);
                }
            }
        }
    }
    Ok(())
}

/// An answer ready to go: sent by [`Reply::send`] when its delay is over.
struct Reply {
    respond: SendResponse<Bytes>,
    response: http::Response<()>,
    body: Option<Bytes>,
}

impl Reply {
    fn send(mut self, shared: &Shared, open: &Open) {
        // Closed before the answer leaves: the client cannot open a stream in its
        // place earlier. The last open stream of a connection flushes the log
        // first, so a client that has every answer finds every line.
        if open.0.fetch_sub(1, Ordering::SeqCst) == 1 {
            shared.gateway.log().flush();
        }
        match self.body {
            None => {
                let _ = self.respond.send_response(self.response, true);
            }
            Some(bytes) => {
                if let Ok(mut stream) = self.respond.send_response(self.response, false) {
                    let _ = stream.send_data(bytes, true);
                }
            }
        }
    }
}

struct Arrival {
    conn: u64,
    stream: u32,
    concurrent: usize,
    client_cert: bool,
}

/// An answer: status, reason (for the JSON body), 410 timestamp.
struct Answer {
    status: u16,
    reason: Option<&'static str>,
    timestamp: Option<u64>,
}

impl Answer {
    fn reject(status: u16, reason: &'static str) -> Answer {
        Answer {
            status,
            reason: Some(reason),
            timestamp: None,
        }
    }
}

/// What an accepted request logs.
struct Accepted<'a> {
    token: Vec<u8>,
    topic: Option<&'a str>,
    push_type: PushType,
    priority: u8,
    expiration: Option<u64>,
    collapse_id: Option<&'a str>,
    auth: &'static str,
    /// Token auth: the `iat` of the provider token (not the token itself).
    iat: Option<u64>,
}

/// Reads one request and decides its answer; `None` when the stream broke.
async fn handle(
    shared: &Shared,
    open: &Open,
    at: Arrival,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) -> Option<Reply> {
    let (parts, mut body) = request.into_parts();
    let sink = shared.rules.sink;
    let mut payload = Vec::new();
    let mut over = false;
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else {
            open.0.fetch_sub(1, Ordering::SeqCst);
            return None;
        };
        let _ = body.flow_control().release_capacity(chunk.len());
        if sink {
            // Answered without a look at the payload.
        } else if payload.len() + chunk.len() > 64 * 1024 {
            over = true;
        } else {
            payload.extend_from_slice(&chunk);
        }
    }
    let apns_id_header = parts.headers.get(&APNS_ID);
    if sink {
        shared.gateway.log().count();
        // The sink echoes the client's apns-id as it came (no parsing, no copy).
        let echo = match apns_id_header {
            Some(v) => v.clone(),
            None => new_apns_id(),
        };
        return Some(reply(respond, 200, None, None, echo));
    }
    let apns_id = match apns_id_header {
        Some(v) => {
            let id = v.to_str().unwrap_or("\u{fffd}");
            parse_apns_id(id).unwrap_or_else(|_| id.to_string())
        }
        None => uuid::Uuid::new_v4().to_string(),
    };
    let answer = match check(&shared.rules, &parts, &payload, over, at.client_cert) {
        Err(answer) => answer,
        Ok(accepted) => {
            let n = shared.passed.fetch_add(1, Ordering::SeqCst) + 1;
            match shared.rules.flags.status_every {
                Some((every, code)) if n % every == 0 => Answer {
                    status: code,
                    reason: reason_for(code),
                    timestamp: None,
                },
                _ => {
                    let log = shared.gateway.log();
                    log.accept_line(|w, seq| {
                        write_line(w, seq, &at, &accepted, &apns_id, &payload)
                    });
                    Answer {
                        status: 200,
                        reason: None,
                        timestamp: None,
                    }
                }
            }
        }
    };
    let echo = http::HeaderValue::from_str(&apns_id).unwrap_or_else(|_| new_apns_id());
    Some(reply(
        respond,
        answer.status,
        answer.reason,
        answer.timestamp,
        echo,
    ))
}

/// `apns-id`.
static APNS_ID: http::HeaderName = http::HeaderName::from_static("apns-id");

/// An `apns-id` the server assigns.
fn new_apns_id() -> http::HeaderValue {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
    http::HeaderValue::from_str(id).unwrap_or(http::HeaderValue::from_static(""))
}

/// The answer to send: status, the JSON body of a rejection, the echoed id.
fn reply(
    respond: SendResponse<Bytes>,
    status: u16,
    reason: Option<&'static str>,
    timestamp: Option<u64>,
    apns_id: http::HeaderValue,
) -> Reply {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = http::Response::new(());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(APNS_ID.clone(), apns_id);
    let body = reason.map(|reason| {
        let mut v = serde_json::json!({ "reason": reason });
        if let Some(ts) = timestamp {
            v["timestamp"] = ts.into();
        }
        Bytes::from(v.to_string())
    });
    if body.is_some() {
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
    }
    Reply {
        respond,
        response,
        body,
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

/// APNs's checks, in its order. `Err` is the answer.
fn check<'a>(
    rules: &Rules,
    parts: &'a http::request::Parts,
    payload: &[u8],
    over: bool,
    client_cert: bool,
) -> Result<Accepted<'a>, Answer> {
    if parts.method != Method::POST {
        return Err(Answer::reject(405, "MethodNotAllowed"));
    }
    let Some(token_text) = parts.uri.path().strip_prefix("/3/device/") else {
        return Err(Answer::reject(404, "BadPath"));
    };
    if token_text.is_empty() {
        return Err(Answer::reject(400, "MissingDeviceToken"));
    }
    let token = hex::decode(token_text).map_err(|_| Answer::reject(400, "BadDeviceToken"))?;
    let h = &parts.headers;
    for name in [
        "apns-topic",
        "apns-push-type",
        "apns-priority",
        "apns-expiration",
        "apns-collapse-id",
        "apns-id",
        "authorization",
    ] {
        if h.get_all(name).iter().count() > 1 {
            return Err(Answer::reject(400, "DuplicateHeaders"));
        }
    }
    let mut iat = None;
    let auth = if client_cert {
        "certificate"
    } else {
        let Some(value) = header(h, "authorization") else {
            return Err(Answer::reject(403, "MissingProviderToken"));
        };
        let jwt = value
            .strip_prefix("bearer ")
            .or_else(|| value.strip_prefix("Bearer "))
            .ok_or(Answer::reject(403, "InvalidProviderToken"))?;
        let verifier = rules
            .verifier
            .as_ref()
            .ok_or(Answer::reject(403, "InvalidProviderToken"))?;
        iat = Some(
            verifier
                .check(jwt.trim(), unix_now())
                .map_err(|reason| Answer::reject(403, reason))?,
        );
        "token"
    };
    let topic = header(h, "apns-topic");
    if topic.is_none() && !client_cert {
        return Err(Answer::reject(400, "MissingTopic"));
    }
    let push_type = match header(h, "apns-push-type") {
        Some(t) => PushType::parse(t).map_err(|_| Answer::reject(400, "InvalidPushType"))?,
        None => PushType::Alert,
    };
    if let (Some(topic), Some(suffix)) = (topic, push_type.topic_suffix()) {
        if !topic.ends_with(suffix) {
            return Err(Answer::reject(400, "BadTopic"));
        }
    }
    let priority = match header(h, "apns-priority") {
        None if push_type == PushType::Background => 5,
        None => 10,
        Some("5") => 5,
        Some("10") if push_type != PushType::Background => 10,
        Some(_) => return Err(Answer::reject(400, "BadPriority")),
    };
    let expiration = match header(h, "apns-expiration") {
        None => None,
        Some(e) => Some(
            e.parse::<u64>()
                .map_err(|_| Answer::reject(400, "BadExpirationDate"))?,
        ),
    };
    let collapse_id = header(h, "apns-collapse-id");
    if collapse_id.is_some_and(|c| c.len() > MAX_COLLAPSE_ID) {
        return Err(Answer::reject(400, "BadCollapseId"));
    }
    if let Some(id) = header(h, "apns-id") {
        parse_apns_id(id).map_err(|_| Answer::reject(400, "BadMessageId"))?;
    }
    if payload.iter().all(u8::is_ascii_whitespace) && !over {
        return Err(Answer::reject(400, "PayloadEmpty"));
    }
    if over || payload.len() > push_type.max_payload() {
        return Err(Answer::reject(413, "PayloadTooLarge"));
    }
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(v) if v.is_object() => {}
        _ => return Err(Answer::reject(400, "BadPayload")),
    }
    if token.iter().all(|b| *b == 0) || rules.invalid_tokens.contains(&token) {
        return Err(Answer::reject(400, "BadDeviceToken"));
    }
    if let Some(&ts) = rules.unregistered.get(&token) {
        return Err(Answer {
            status: 410,
            reason: Some("Unregistered"),
            timestamp: Some(ts),
        });
    }
    Ok(Accepted {
        token,
        topic,
        push_type,
        priority,
        expiration,
        collapse_id,
        auth,
        iat,
    })
}

/// One JSONL line of an accepted HTTP/2 notification.
fn write_line(
    w: &mut dyn Write,
    seq: u64,
    at: &Arrival,
    a: &Accepted<'_>,
    apns_id: &str,
    payload: &[u8],
) -> io::Result<()> {
    let line = LogLine {
        apns_id,
        auth: a.auth,
        collapse_id: a.collapse_id,
        concurrent: at.concurrent,
        conn: at.conn,
        expiration: a.expiration,
        iat: a.iat,
        payload: &String::from_utf8_lossy(payload),
        priority: a.priority,
        protocol: "http2",
        push_type: a.push_type.as_str(),
        seq,
        stream: at.stream,
        token: &hex::encode(&a.token),
        topic: a.topic,
    };
    serde_json::to_writer(&mut *w, &line).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

/// One JSONL line of an accepted HTTP/2 notification. Fields in alphabetical
/// order, as the line read when it was built as a `serde_json::Value` (a map per
/// line was a tenth of the sandbox's time per request).
#[derive(serde::Serialize)]
struct LogLine<'a> {
    apns_id: &'a str,
    auth: &'a str,
    collapse_id: Option<&'a str>,
    concurrent: usize,
    conn: u64,
    expiration: Option<u64>,
    iat: Option<u64>,
    payload: &'a str,
    priority: u8,
    protocol: &'a str,
    push_type: &'a str,
    seq: u64,
    stream: u32,
    token: &'a str,
    topic: Option<&'a str>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Milliseconds since the epoch, for `--unregistered` lines without a timestamp.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_every_values() {
        assert_eq!(Flags::parse_status_every("50:429"), Ok((50, 429)));
        assert_eq!(Flags::parse_status_every("7:503"), Ok((7, 503)));
        for bad in ["50", "0:429", "50:404", "x:429", "50:"] {
            assert!(Flags::parse_status_every(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unregistered_file() {
        let path = std::env::temp_dir().join(format!("sandbox-unreg-{}", std::process::id()));
        std::fs::write(&path, "# comment\naabb\n1700000000123 ccdd\n\n").unwrap();
        let got = load_unregistered(&path, 42).unwrap();
        assert_eq!(got.get(&vec![0xaa, 0xbb]), Some(&42));
        assert_eq!(got.get(&vec![0xcc, 0xdd]), Some(&1_700_000_000_123));
        std::fs::write(&path, "zz\n").unwrap();
        assert!(load_unregistered(&path, 0).unwrap_err().contains("line 1"));
        std::fs::remove_file(&path).unwrap();
    }

    fn parts(method: &str, path: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(path);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn apples_checks_in_order() {
        let rules = Rules {
            invalid_tokens: [vec![0xbb; 32]].into_iter().collect(),
            unregistered: [(vec![0xcc; 32], 99)].into_iter().collect(),
            verifier: None,
            sink: false,
            flags: Flags::default(),
        };
        let good = "a1".repeat(32);
        let path = format!("/3/device/{good}");
        let topic = ("apns-topic", "com.example.app");
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(4100));
        type Case<'a> = (
            &'a str,
            String,
            Vec<(&'a str, &'a str)>,
            &'a [u8],
            bool,
            u16,
            &'a str,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                "GET",
                path.clone(),
                vec![topic],
                b"{}",
                true,
                405,
                "MethodNotAllowed",
            ),
            (
                "POST",
                "/3/other".into(),
                vec![topic],
                b"{}",
                true,
                404,
                "BadPath",
            ),
            (
                "POST",
                "/3/device/".into(),
                vec![topic],
                b"{}",
                true,
                400,
                "MissingDeviceToken",
            ),
            (
                "POST",
                path.clone(),
                vec![topic],
                b"{}",
                false,
                403,
                "MissingProviderToken",
            ),
            (
                "POST",
                path.clone(),
                vec![topic, ("authorization", "bearer x.y.z")],
                b"{}",
                false,
                403,
                "InvalidProviderToken",
            ),
            (
                "POST",
                path.clone(),
                vec![],
                b"{}",
                false,
                403,
                "MissingProviderToken",
            ),
            (
                "POST",
                path.clone(),
                vec![topic, ("apns-push-type", "fax")],
                b"{}",
                true,
                400,
                "InvalidPushType",
            ),
            (
                "POST",
                path.clone(),
                vec![topic, ("apns-push-type", "voip")],
                b"{}",
                true,
                400,
                "BadTopic",
            ),
            (
                "POST",
                path.clone(),
                vec![topic, ("apns-priority", "7")],
                b"{}",
                true,
                400,
                "BadPriority",
            ),
            (
                "POST",
                path.clone(),
                vec![
                    topic,
                    ("apns-push-type", "background"),
                    ("apns-priority", "10"),
                ],
                b"{}",
                true,
                400,
                "BadPriority",
            ),
            (
                "POST",
                path.clone(),
                vec![topic, ("apns-expiration", "soon")],
                b"{}",
                true,
                400,
                "BadExpirationDate",
            ),
            (
                "POST",
                path.clone(),
                vec![topic, ("apns-id", "nope")],
                b"{}",
                true,
                400,
                "BadMessageId",
            ),
            (
                "POST",
                path.clone(),
                vec![topic, topic],
                b"{}",
                true,
                400,
                "DuplicateHeaders",
            ),
            (
                "POST",
                path.clone(),
                vec![topic],
                b"",
                true,
                400,
                "PayloadEmpty",
            ),
            (
                "POST",
                path.clone(),
                vec![topic],
                big.as_bytes(),
                true,
                413,
                "PayloadTooLarge",
            ),
            (
                "POST",
                path.clone(),
                vec![topic],
                b"[]",
                true,
                400,
                "BadPayload",
            ),
            (
                "POST",
                format!("/3/device/{}", "00".repeat(32)),
                vec![topic],
                b"{}",
                true,
                400,
                "BadDeviceToken",
            ),
            (
                "POST",
                format!("/3/device/{}", "bb".repeat(32)),
                vec![topic],
                b"{}",
                true,
                400,
                "BadDeviceToken",
            ),
            (
                "POST",
                format!("/3/device/{}", "cc".repeat(32)),
                vec![topic],
                b"{}",
                true,
                410,
                "Unregistered",
            ),
        ];
        for (method, path, headers, payload, cert, status, reason) in cases {
            let p = parts(method, &path, &headers);
            match check(&rules, &p, payload, false, cert) {
                Err(a) => assert_eq!((a.status, a.reason), (status, Some(reason)), "{reason}"),
                Ok(_) => panic!("{reason}: accepted"),
            }
        }
        let p = parts("POST", &path, &[]);
        let ok = check(&rules, &p, b"{}", false, true).ok().unwrap();
        assert_eq!((ok.topic, ok.priority, ok.auth), (None, 10, "certificate"));
    }
}

//! The HTTP/2 engine against the real sandbox (`apns-sandbox serve`, built here
//! with `cargo build -p apns-sandbox` if needed): both authentications, Apple's
//! failures, injected 429/503/403, GOAWAY, max concurrent streams, the first
//! stream alone with token auth, and the process-wide token cache; a pool of
//! connections (the `connections` option) under the same faults, including a
//! GOAWAY on one connection while the others carry on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use apns::protocol::http2::SendOptions;
use apns::protocol::jwt::SigningKey;
use apns::sender::http2::{Auth, Http2Notification, Http2Sender, Options};
use apns::sender::Failure;
use apns::transport::endpoint::Endpoint;
use apns::transport::tls::TlsOptions;

const TOPIC: &str = "com.example.sandbox";
const KEY_ID: &str = "ABC123DEFG";
const TEAM_ID: &str = "DEF123GHIJ";

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap()
}

/// The sandbox binary: `APNS_SANDBOX` if set, else built now.
fn sandbox_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("APNS_SANDBOX") {
            return PathBuf::from(path);
        }
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "apns-sandbox"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "cargo build -p apns-sandbox failed");
        target_dir().join("debug").join("apns-sandbox")
    })
}

fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("http2-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn certs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = temp_dir("certs");
        let out = Command::new(sandbox_bin())
            .args(["certs", "--out"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        dir
    })
}

/// A running sandbox, killed when dropped.
struct Sandbox {
    child: Child,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
}

impl Sandbox {
    fn start(extra: &[&str]) -> Sandbox {
        let dir = temp_dir("serve");
        let log = dir.join("log.jsonl");
        let mut child = Command::new(sandbox_bin())
            .arg("serve")
            .arg("--certs")
            .arg(certs())
            .arg("--log")
            .arg(&log)
            .args(["--exit-after", "120"])
            .args(extra)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut port = None;
        loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "sandbox ended early");
            let line = line.trim();
            if line == "ready" {
                break;
            }
            if let Some(p) = line.strip_prefix("http2 ") {
                port = Some(p.parse().unwrap());
            }
        }
        Sandbox {
            child,
            port: port.expect("no 'http2 PORT' line"),
            dir,
            log,
        }
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v["protocol"] == "http2")
            .collect()
    }

    fn sender(&self, auth: Auth) -> Http2Sender {
        self.sender_with(auth, Options::default())
    }

    fn sender_with(&self, auth: Auth, options: Options) -> Http2Sender {
        let endpoint = Endpoint::parse(&format!("https://127.0.0.1:{}", self.port)).unwrap();
        let mut tls = TlsOptions {
            cafile: Some(certs().join("ca.pem")),
            ..Default::default()
        };
        if matches!(auth, Auth::Certificate) {
            tls.local_cert = Some(certs().join("client.pem"));
        }
        Http2Sender::connect(endpoint, &tls, auth, Some(TOPIC.into()), options).unwrap()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn key() -> Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| {
        let path = certs().join("auth-key.p8");
        Arc::new(SigningKey::from_p8(path.to_str().unwrap()).unwrap())
    })
    .clone()
}

fn token_auth() -> Auth {
    Auth::Token {
        key: key(),
        key_id: KEY_ID.into(),
        team_id: TEAM_ID.into(),
    }
}

fn token_hex(i: usize) -> String {
    format!("{:064x}", i + 1)
}

/// Sends `n` notifications to distinct tokens; returns the time taken to flush.
fn send_many(sender: &mut Http2Sender, n: usize) -> (Vec<Failure>, Duration) {
    let started = Instant::now();
    for i in 0..n {
        let token = token_hex(i);
        let payload = format!(r#"{{"aps":{{"alert":"n{i}"}}}}"#);
        sender
            .send(&Http2Notification {
                token: token.as_bytes(),
                payload: payload.as_bytes(),
                identifier: None,
                options: SendOptions::default(),
            })
            .unwrap();
    }
    let failures = sender.flush(None).unwrap();
    (failures, started.elapsed())
}

/// Every token 1..=n logged exactly once.
fn assert_all_logged_once(lines: &[serde_json::Value], n: usize) {
    let tokens: Vec<&str> = lines.iter().map(|l| l["token"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = tokens.iter().copied().collect();
    assert_eq!(unique.len(), tokens.len(), "duplicates in the log");
    let want: HashSet<String> = (0..n).map(token_hex).collect();
    let got: HashSet<String> = unique.iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want, "lost notifications");
}

#[test]
fn certificate_auth_200_all_logged_once() {
    let sandbox = Sandbox::start(&[]);
    let mut sender = sandbox.sender(Auth::Certificate);
    let (failures, _) = send_many(&mut sender, 200);
    assert_eq!(failures, vec![]);
    let lines = sandbox.lines();
    assert_all_logged_once(&lines, 200);
    let l = &lines[0];
    assert_eq!(l["auth"], "certificate");
    assert_eq!(l["topic"], TOPIC);
    assert_eq!(l["push_type"], "alert");
    assert_eq!(l["priority"], 10);
    assert_eq!(l["apns_id"].as_str().unwrap().len(), 36);
    let stats = sender.stats();
    assert_eq!((stats.sent, stats.failed, stats.resent), (200, 0, 0));
    assert!(stats.connected);
    sender.close().unwrap();
    assert!(!sender.is_connected());
}

#[test]
fn token_auth_200_all_logged_once_first_request_alone() {
    let sandbox = Sandbox::start(&["--h2-delay-ms", "20"]);
    let mut sender = sandbox.sender(token_auth());
    let (failures, _) = send_many(&mut sender, 200);
    assert_eq!(failures, vec![]);
    let lines = sandbox.lines();
    assert_all_logged_once(&lines, 200);
    assert!(lines.iter().all(|l| l["auth"] == "token"));
    // Stream 3 arrived only after stream 1 was answered: alone on the connection.
    for stream in [1, 3] {
        let l = lines.iter().find(|l| l["stream"] == stream).unwrap();
        assert_eq!(l["concurrent"], 1, "stream {stream}: {l}");
    }
    let max = lines
        .iter()
        .map(|l| l["concurrent"].as_u64().unwrap())
        .max();
    println!("token auth: max concurrent streams seen by the sandbox: {max:?}");
    assert!(max > Some(1), "no concurrency after the first success");
}

#[test]
fn failures_carry_status_reason_apns_id_and_timestamp() {
    let dir = temp_dir("lists");
    let bad = "bb".repeat(32);
    let gone = "cc".repeat(32);
    std::fs::write(dir.join("invalid"), format!("{bad}\n")).unwrap();
    std::fs::write(dir.join("unregistered"), format!("1700000000123 {gone}\n")).unwrap();
    let invalid = dir.join("invalid");
    let unregistered = dir.join("unregistered");
    let sandbox = Sandbox::start(&[
        "--invalid-tokens",
        invalid.to_str().unwrap(),
        "--unregistered",
        unregistered.to_str().unwrap(),
    ]);
    for auth in [Auth::Certificate, token_auth()] {
        let mut sender = sandbox.sender(auth);
        let ids = [
            "11111111-1111-4111-8111-111111111111",
            "22222222-2222-4222-8222-222222222222",
        ];
        for (i, (token, id)) in [(&bad, ids[0]), (&gone, ids[1])].into_iter().enumerate() {
            sender
                .send(&Http2Notification {
                    token: token.as_bytes(),
                    payload: br#"{"aps":{}}"#,
                    identifier: Some(100 + i as u32),
                    options: SendOptions {
                        apns_id: Some(id),
                        ..Default::default()
                    },
                })
                .unwrap();
        }
        let (mut failures, _) = send_many(&mut sender, 20);
        failures.sort_by_key(|f| f.identifier);
        assert_eq!(
            failures,
            vec![
                Failure {
                    identifier: 100,
                    token: bad.clone(),
                    status: 400,
                    reason: "BadDeviceToken".into(),
                    apns_id: Some(ids[0].into()),
                    timestamp: None,
                },
                Failure {
                    identifier: 101,
                    token: gone.clone(),
                    status: 410,
                    reason: "Unregistered".into(),
                    apns_id: Some(ids[1].into()),
                    timestamp: Some(1_700_000_000_123),
                },
            ]
        );
        assert_eq!(sender.stats().failed, 2);
    }
    assert_eq!(sandbox.lines().len(), 40);
}

#[test]
fn injected_429_and_503_are_retried_nothing_lost() {
    for code in ["50:429", "50:503"] {
        let sandbox = Sandbox::start(&["--h2-status-every", code]);
        let mut sender = sandbox.sender(Auth::Certificate);
        let (failures, took) = send_many(&mut sender, 200);
        assert_eq!(failures, vec![], "{code}");
        assert_all_logged_once(&sandbox.lines(), 200);
        let stats = sender.stats();
        assert!(stats.resent >= 4, "{code}: {stats:?}");
        println!("{code}: 200 in {took:?}, {} resent", stats.resent);
    }
}

#[test]
fn expired_provider_token_is_retried_once() {
    // With at most 4 streams in flight, a retried notification cannot be the
    // sandbox's next 30th request too.
    let sandbox = Sandbox::start(&["--h2-status-every", "30:403"]);
    let mut sender = sandbox.sender_with(
        token_auth(),
        Options {
            max_streams: 4,
            ..Default::default()
        },
    );
    let (failures, _) = send_many(&mut sender, 100);
    assert_eq!(failures, vec![]);
    assert_eq!(sender.stats().resent, 3);
    assert_all_logged_once(&sandbox.lines(), 100);
}

#[test]
fn goaway_every_100_streams_nothing_lost_no_duplicates() {
    // --max-streams 10: otherwise all 1000 streams arrive before the GOAWAY and
    // the server rightly answers them all on the first connection.
    let sandbox = Sandbox::start(&["--goaway-every", "100", "--max-streams", "10"]);
    for auth in [Auth::Certificate, token_auth()] {
        let mut sender = sandbox.sender(auth);
        let (failures, took) = send_many(&mut sender, 1000);
        assert_eq!(failures, vec![]);
        let stats = sender.stats();
        assert!(stats.reconnects >= 5, "{stats:?}");
        println!(
            "GOAWAY every 100: 1000 in {took:?}, {} reconnects, {} resent",
            stats.reconnects, stats.resent
        );
        sender.close().unwrap();
    }
    let lines = sandbox.lines();
    let (cert, token): (Vec<_>, Vec<_>) =
        lines.into_iter().partition(|l| l["auth"] == "certificate");
    assert_all_logged_once(&cert, 1000);
    assert_all_logged_once(&token, 1000);
}

#[test]
fn max_concurrent_streams_respected() {
    let sandbox = Sandbox::start(&["--max-streams", "5", "--h2-delay-ms", "10"]);
    for auth in [Auth::Certificate, token_auth()] {
        let mut sender = sandbox.sender(auth);
        let (failures, _) = send_many(&mut sender, 200);
        assert_eq!(failures, vec![]);
    }
    let lines = sandbox.lines();
    assert_eq!(lines.len(), 400);
    let max = lines
        .iter()
        .map(|l| l["concurrent"].as_u64().unwrap())
        .max()
        .unwrap();
    println!("--max-streams 5: the sandbox saw at most {max} concurrent streams");
    assert!(max <= 5, "{max}");
    assert!(max >= 2, "no concurrency at all: {max}");
}

/// A kept (persistent) connection handed to a new owner takes that owner's
/// options: its own `max_streams` cap applies from then on.
#[test]
fn hand_over_applies_the_new_owners_options() {
    let sandbox = Sandbox::start(&["--h2-delay-ms", "5"]);
    let capped = |max_streams| Options {
        max_streams,
        ..Options::default()
    };
    let mut sender = sandbox.sender_with(Auth::Certificate, capped(2));
    assert_eq!(send_many(&mut sender, 100).0, vec![]);
    sender.hand_over(capped(6)).unwrap();
    assert_eq!(send_many(&mut sender, 100).0, vec![]);
    let lines = sandbox.lines();
    assert_eq!(lines.len(), 200);
    let max = |part: &[serde_json::Value]| {
        part.iter()
            .map(|l| l["concurrent"].as_u64().unwrap())
            .max()
            .unwrap()
    };
    let (first, second) = lines.split_at(100);
    assert_eq!(max(first), 2, "the first owner's cap");
    assert_eq!(max(second), 6, "the second owner's cap");
    assert!(
        lines.iter().all(|l| l["conn"] == 1),
        "one connection throughout"
    );
}

#[test]
fn one_token_for_two_senders() {
    let sandbox = Sandbox::start(&[]);
    let mut first = sandbox.sender(token_auth());
    send_many(&mut first, 1);
    // A sender that minted its own token a second later would show a later iat.
    std::thread::sleep(Duration::from_millis(1100));
    let mut second = sandbox.sender(token_auth());
    send_many(&mut second, 1);
    let lines = sandbox.lines();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["iat"].is_u64());
    assert_eq!(lines[0]["iat"], lines[1]["iat"]);
}

#[test]
fn wrong_key_id_is_a_permanent_403() {
    let sandbox = Sandbox::start(&[]);
    let mut sender = sandbox.sender(Auth::Token {
        key: key(),
        key_id: "ZZZ123DEFG".into(),
        team_id: TEAM_ID.into(),
    });
    let (failures, _) = send_many(&mut sender, 3);
    assert_eq!(failures.len(), 3);
    assert!(failures
        .iter()
        .all(|f| f.status == 403 && f.reason == "InvalidProviderToken"));
    assert!(sandbox.lines().is_empty());
}

#[test]
fn throughput_one_connection() {
    let sandbox = Sandbox::start(&[]);
    let mut sender = sandbox.sender(Auth::Certificate);
    let n = std::env::var("APNS_H2_THROUGHPUT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let (failures, took) = send_many(&mut sender, n);
    assert_eq!(failures, vec![]);
    assert_eq!(sandbox.lines().len(), n);
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "throughput: {n} notifications over one HTTP/2 connection in {:.3} s = {:.0}/s \
         ({build} test build, sandbox logging every line)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
}

#[test]
fn sandbox_down_gives_a_bounded_clear_error() {
    let sandbox = Sandbox::start(&[]);
    let port = sandbox.port;
    let mut sender = sandbox.sender_with(
        Auth::Certificate,
        Options {
            timeout: Duration::from_secs(2),
            ..Default::default()
        },
    );
    drop(sandbox);
    let started = Instant::now();
    let token = token_hex(0);
    let sent = sender.send(&Http2Notification {
        token: token.as_bytes(),
        payload: b"{}",
        identifier: Some(7),
        options: SendOptions::default(),
    });
    let result = sent.and_then(|_| sender.flush(None));
    let err = result.unwrap_err().to_string();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    let failures = sender.take_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!((failures[0].identifier, failures[0].status), (7, 255));
}

#[test]
fn idle_connection_is_pinged_then_reused() {
    let sandbox = Sandbox::start(&[]);
    let mut sender = sandbox.sender_with(
        Auth::Certificate,
        Options {
            idle_ping: Duration::from_millis(50),
            ..Default::default()
        },
    );
    send_many(&mut sender, 5);
    std::thread::sleep(Duration::from_millis(120));
    let (failures, _) = send_many(&mut sender, 5);
    assert_eq!(failures, vec![]);
    assert_eq!(sender.stats().reconnects, 0, "the PING kept the connection");
    assert_eq!(sandbox.lines().len(), 10);
}

fn pooled(connections: usize, max_streams: usize) -> Options {
    Options {
        connections,
        max_streams,
        ..Default::default()
    }
}

/// Per sandbox connection number: (log rows, highest `concurrent`).
fn per_connection(lines: &[serde_json::Value]) -> BTreeMap<u64, (usize, u64)> {
    let mut per = BTreeMap::new();
    for l in lines {
        let e = per.entry(l["conn"].as_u64().unwrap()).or_insert((0, 0));
        e.0 += 1;
        e.1 = e.1.max(l["concurrent"].as_u64().unwrap());
    }
    per
}

#[test]
fn pool_spreads_requests_each_connection_within_its_limit_one_token() {
    let sandbox = Sandbox::start(&["--max-streams", "10", "--h2-delay-ms", "5"]);
    let mut sender = sandbox.sender_with(token_auth(), pooled(4, 1000));
    let (failures, _) = send_many(&mut sender, 2000);
    assert_eq!(failures, vec![]);
    let lines = sandbox.lines();
    assert_all_logged_once(&lines, 2000);
    let per = per_connection(&lines);
    assert_eq!(per.len(), 4, "{per:?}");
    for (conn, (rows, max)) in &per {
        assert!(
            *max <= 10,
            "connection {conn} over the server's limit: {per:?}"
        );
        assert!(*rows >= 100, "connection {conn} hardly used: {per:?}");
    }
    assert!(per.values().any(|(_, max)| *max == 10), "{per:?}");
    let iats: HashSet<u64> = lines.iter().map(|l| l["iat"].as_u64().unwrap()).collect();
    assert_eq!(iats.len(), 1, "one provider token for the whole pool");
    let stats = sender.connection_stats();
    assert_eq!(stats.len(), 4);
    assert_eq!(stats.iter().map(|c| c.streams).sum::<u64>(), 2000);
    assert_eq!(stats.iter().map(|c| c.answered).sum::<u64>(), 2000);
    assert!(
        stats
            .iter()
            .all(|c| c.connected && c.in_flight == 0 && c.goaways == 0 && c.reconnects == 0),
        "{stats:?}"
    );
    assert_eq!(sender.stats().reconnects, 0);
}

#[test]
fn goaway_on_one_connection_while_the_others_carry_on() {
    let sandbox = Sandbox::start(&[
        "--goaway-conn",
        "2:50",
        "--max-streams",
        "10",
        "--h2-delay-ms",
        "5",
    ]);
    let mut sender = sandbox.sender_with(token_auth(), pooled(4, 1000));
    let (failures, took) = send_many(&mut sender, 2000);
    println!("GOAWAY on conn 2 of 4: 2000 in {took:?}");
    assert_eq!(failures, vec![]);
    let lines = sandbox.lines();
    assert_all_logged_once(&lines, 2000);
    let per = per_connection(&lines);
    assert_eq!(
        per.len(),
        5,
        "4 connections and the one that replaced conn 2: {per:?}"
    );
    // A graceful GOAWAY announces the last stream id one PING later: streams
    // already under way (at most the limit, 10) may still be answered.
    assert!(
        (50..=60).contains(&per[&2].0),
        "conn 2: GOAWAY after 50 streams: {per:?}"
    );
    // The others went on meanwhile: rows of every other first connection after
    // conn 2's last one.
    let last_of_2 = lines.iter().rposition(|l| l["conn"] == 2).unwrap();
    let after: HashSet<u64> = lines[last_of_2..]
        .iter()
        .map(|l| l["conn"].as_u64().unwrap())
        .collect();
    for conn in [1, 3, 4] {
        assert!(after.contains(&conn), "conn {conn} stalled: {per:?}");
    }
    let stats = sender.connection_stats();
    let hit: Vec<_> = stats.iter().filter(|c| c.goaways > 0).collect();
    assert_eq!(hit.len(), 1, "{stats:?}");
    assert_eq!((hit[0].goaways, hit[0].reconnects), (1, 1), "{stats:?}");
    assert!(
        stats
            .iter()
            .filter(|c| c.goaways == 0)
            .all(|c| c.reconnects == 0 && c.connected),
        "{stats:?}"
    );
    assert_eq!(sender.stats().reconnects, 1);
}

#[test]
fn pool_retries_429_and_503_nothing_lost() {
    for code in ["50:429", "40:503"] {
        let sandbox = Sandbox::start(&["--h2-status-every", code, "--max-streams", "20"]);
        let mut sender = sandbox.sender_with(Auth::Certificate, pooled(4, 1000));
        let (failures, _) = send_many(&mut sender, 1000);
        assert_eq!(failures, vec![], "{code}");
        let lines = sandbox.lines();
        assert_all_logged_once(&lines, 1000);
        assert!(
            per_connection(&lines).len() >= 2,
            "{code}: one connection only"
        );
        assert!(sender.stats().resent >= 10, "{code}: {:?}", sender.stats());
    }
}

#[test]
fn pool_remints_an_expired_provider_token_once() {
    // At most 3 x 4 streams in flight: a retried notification cannot be the
    // sandbox's next 30th request too.
    let sandbox = Sandbox::start(&["--h2-status-every", "30:403"]);
    let mut sender = sandbox.sender_with(token_auth(), pooled(3, 4));
    let (failures, _) = send_many(&mut sender, 300);
    assert_eq!(failures, vec![]);
    assert_eq!(sender.stats().resent, 10);
    let lines = sandbox.lines();
    assert_all_logged_once(&lines, 300);
    assert_eq!(per_connection(&lines).len(), 3);
}

#[test]
fn bad_connections_values_are_refused_naming_the_option() {
    for n in [0, 65, 1000] {
        let endpoint = Endpoint::parse("https://127.0.0.1:1").unwrap();
        let err = Http2Sender::connect(
            endpoint,
            &TlsOptions::default(),
            Auth::Certificate,
            None,
            pooled(n, 10),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("option 'connections' must be an int from 1 to 64, not {n}"),
        );
    }
}

/// A kept pool handed to an owner asking for another size grows (or shrinks)
/// to it; a bad size is refused and changes nothing.
#[test]
fn hand_over_resizes_the_pool() {
    let sandbox = Sandbox::start(&["--max-streams", "5", "--h2-delay-ms", "5"]);
    let mut sender = sandbox.sender_with(Auth::Certificate, pooled(1, 1000));
    assert_eq!(send_many(&mut sender, 100).0, vec![]);
    let err = sender.hand_over(pooled(0, 1000)).unwrap_err();
    assert!(err.to_string().contains("'connections'"), "{err}");
    assert_eq!(sender.connection_stats().len(), 1);
    sender.hand_over(pooled(3, 1000)).unwrap();
    assert_eq!(send_many(&mut sender, 300).0, vec![]);
    let lines = sandbox.lines();
    assert_eq!(lines.len(), 400);
    let (first, second) = lines.split_at(100);
    assert!(first.iter().all(|l| l["conn"] == 1));
    let conns: HashSet<u64> = second.iter().map(|l| l["conn"].as_u64().unwrap()).collect();
    assert_eq!(
        conns,
        HashSet::from([1, 2, 3]),
        "the kept connection and two new ones"
    );
    let stats = sender.connection_stats();
    assert_eq!(stats.len(), 3);
    assert_eq!(stats.iter().map(|c| c.streams).sum::<u64>(), 400);
    sender.hand_over(pooled(2, 1000)).unwrap();
    assert_eq!(sender.connection_stats().len(), 2);
}

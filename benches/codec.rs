//! Micro-benchmarks of the pure codec (issue #4): frame encoding (commands 1 and 2),
//! frame parsing (what `write()` does to every frame), error-response parsing, and
//! the other per-notification steps of `send()`/`sendMany()`: hex token decoding,
//! payload validation and the window push. No dependencies: `std::time::Instant`
//! loops and `std::hint::black_box`.
//!
//!     cargo bench --no-default-features --bench codec            # all
//!     cargo bench --no-default-features --bench codec -- token   # names containing "token"
//!
//! Each benchmark runs for about `CODEC_BENCH_MS` milliseconds (default 300) after a
//! warm-up, in rounds; the best round is reported (least disturbed by the machine).
//!
//! The token benchmarks decode 1,000 distinct random tokens in turn, as a batch
//! does: one token decoded over and over lets a branchy decoder predict every
//! digit and hides its real cost.
// A benchmark, not shipped code: plain indexing keeps its loops readable.
#![allow(clippy::indexing_slicing)]
// A benchmark binary, not library code: the crate's deny-unwrap lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use apns::protocol::binary::{self, Command, ErrorResponse, Frame, Parsed};
use apns::protocol::{payload, token};
use apns::sender::window::Window;

const TOKEN_HEX: &str = "5e1f3b0c9a7d4e2f8b6a1c3d5e7f9a0b2c4d6e8f1a3b5c7d9e0f2a4b6c8d0e1f";
const PAYLOAD: &[u8] =
    br#"{"aps":{"alert":"Your order #12345 has shipped and will arrive tomorrow","badge":1,"sound":"default"}}"#;

struct Bench {
    filter: Vec<String>,
    budget: Duration,
}

impl Bench {
    /// Runs `batch` (which performs `per_batch` operations) repeatedly and prints
    /// the best round's rate.
    fn run(&self, name: &str, per_batch: u64, mut batch: impl FnMut()) {
        if !self.filter.is_empty() && !self.filter.iter().any(|f| name.contains(f.as_str())) {
            return;
        }
        // Warm-up, and a batch count that makes a round about 10 ms.
        let t = Instant::now();
        let mut warm = 0u64;
        while t.elapsed() < Duration::from_millis(50) {
            batch();
            warm += 1;
        }
        let per_round = (warm / 5).max(1);
        let started = Instant::now();
        let mut best = f64::INFINITY;
        let mut total_ops = 0u64;
        while started.elapsed() < self.budget {
            let t = Instant::now();
            for _ in 0..per_round {
                batch();
            }
            let ns = t.elapsed().as_nanos() as f64 / (per_round * per_batch) as f64;
            best = best.min(ns);
            total_ops += per_round * per_batch;
        }
        println!(
            "{name:<34} {:>9.1} ns/op {:>14} ops/s   ({} ops)",
            best,
            group(1e9 / best),
            total_ops
        );
    }
}

fn group(x: f64) -> String {
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn frame(command: Command, token: &[u8], identifier: u32) -> Frame<'_> {
    Frame {
        command,
        token: Some(token),
        payload: Some(PAYLOAD),
        identifier,
        expiry: 1_700_000_000,
        priority: binary::PRIORITY_IMMEDIATE,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let ms = std::env::var("CODEC_BENCH_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let b = Bench {
        filter: args,
        budget: Duration::from_millis(ms),
    };
    let token_bytes = token::parse_hex(TOKEN_HEX.as_bytes(), Some(32)).unwrap();
    assert_eq!(
        token::parse_hex32(TOKEN_HEX.as_bytes()).unwrap().as_slice(),
        token_bytes.as_slice()
    );

    println!(
        "codec micro-benchmarks: {}-byte payload, best round of ~{ms} ms each",
        PAYLOAD.len()
    );
    println!();

    // --- Encoding: 1,000 frames into a reused buffer, as the window does.
    const BATCH: u64 = 1000;
    for (name, command) in [
        ("encode/command1", Command::Enhanced),
        ("encode/command2", Command::Framed),
    ] {
        let mut buf = Vec::with_capacity(200 * BATCH as usize);
        let mut id = 0u32;
        b.run(name, BATCH, || {
            buf.clear();
            for _ in 0..BATCH {
                id = id.wrapping_add(1);
                binary::encode(&frame(command, black_box(&token_bytes), id), &mut buf);
            }
            black_box(&buf);
        });
    }

    // --- Parsing frames (write() parses every frame it is given, then checks it).
    for (name, command) in [
        ("parse_frame/command1", Command::Enhanced),
        ("parse_frame/command2", Command::Framed),
    ] {
        let mut stream = Vec::new();
        for i in 0..BATCH as u32 {
            binary::encode(&frame(command, &token_bytes, i), &mut stream);
        }
        b.run(name, BATCH, || {
            let mut rest = black_box(stream.as_slice());
            let mut n = 0u32;
            while let Ok(Parsed::Complete(f, used)) = binary::parse_frame(rest) {
                n = n.wrapping_add(u32::from(binary::check(&f).is_none()));
                rest = &rest[used..];
            }
            black_box(n);
        });
    }

    // --- Error responses: parsing 6-byte packets.
    {
        let mut stream = Vec::new();
        for i in 0..BATCH as u32 {
            stream.extend_from_slice(
                &ErrorResponse {
                    status: 8,
                    identifier: i,
                }
                .encode(),
            );
        }
        b.run("error_response/parse", BATCH, || {
            let mut rest = black_box(stream.as_slice());
            let mut sum = 0u32;
            while let Ok(Parsed::Complete(r, used)) = ErrorResponse::parse(rest) {
                sum = sum.wrapping_add(r.identifier) ^ u32::from(r.status);
                rest = &rest[used..];
            }
            black_box(sum);
        });
    }

    // --- The other per-notification steps of send()/sendMany().
    let pool: Vec<String> = (0..1000u64)
        .map(|i| {
            // A small xorshift: distinct, random-looking digits without a dependency.
            let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            (0..4)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    format!("{x:016x}")
                })
                .collect()
        })
        .collect();
    let mut next = 0usize;
    b.run("token/parse_hex (general path)", 1, || {
        next = (next + 1) % pool.len();
        black_box(token::parse_hex(black_box(pool[next].as_bytes()), Some(32)).unwrap());
    });
    b.run("token/parse_hex32 (fast path)", 1, || {
        next = (next + 1) % pool.len();
        black_box(token::parse_hex32(black_box(pool[next].as_bytes())).unwrap());
    });
    b.run("payload/validate (serde_json)", 1, || {
        payload::validate(black_box(PAYLOAD), 2048).unwrap();
    });
    b.run("payload/to_vec (copy per call)", 1, || {
        black_box(black_box(PAYLOAD).to_vec());
    });
    {
        // What the engine does per notification besides I/O: encode into the window
        // (with our sequence number), then settle in bulk.
        let mut w = Window::new();
        b.run("window/push+settle (command2)", BATCH, || {
            for i in 0..BATCH as u32 {
                w.push(&frame(Command::Framed, black_box(&token_bytes), 0), i);
            }
            let n = w.unwritten().len();
            w.advance(n);
            w.settle_all();
        });
    }
    b.run("instant/elapsed (per send)", 1, || {
        black_box(black_box(Instant::now()).elapsed());
    });
}

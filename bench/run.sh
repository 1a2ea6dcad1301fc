#!/usr/bin/env bash
# The throughput benchmark of issue #4 (`make bench` -> scripts/run bench -> here).
#
# Builds the release artifacts, writes throwaway certificates, then measures in one
# run, on this machine, the same ~100-byte JSON payload sent BENCH_N times by:
#   (a) bare_fwrite  the second seed's loop: blocking ssl:// stream, command-0 frames
#                    from chr()/pack(), one fwrite each, no error handling at all
#   (b) seed_loop    the first seed's style: command-1 frames from a pack() chain,
#                    non-blocking stream, fread(6) after every fwrite, reconnect every 100
#   (c) send_loop    foreach over $c->send($token, $payload), then flush()
#   (d) write_pack   $c->write(ApnsConnection::pack($token, $payload, ['command'=>2])), flush()
#   (e) send_many    $c->sendMany($generator, $payload)
#   (e2) send_many_array  $c->sendMany($array, $payload), the array built before the clock
# each BENCH_REPEAT times (median reported), every run a fresh `php -n` process
# against its own fresh sandbox (so its "accepted N" on exit proves what arrived),
# then (f) 1,000,000 notifications via sendMany from a generator for peak RSS,
# plus PHP's baseline RSS (a client that only starts).
# Then the HTTP/2 rows of issues #5 and #15, against the sandbox's http2 port (token
# auth, topic com.example.app, every token distinct as in a real send), for each
# sandbox answer delay in BENCH_H2_DELAYS (0 and 50 ms: Apple's round trip), each
# BENCH_REPEAT times against a fresh `--sink --max-streams BENCH_H2_MAX_STREAMS` sandbox:
#   (g) h2_send_many   $c->sendMany($generator, $payload) over https://, with 1 and with
#                      8 connections (BENCH_H2_CONNECTIONS, the `connections` option)
#   (h) h2_send_loop   foreach over $c->send() over https://, then flush() (1 connection)
#   (i) h2_curl_multi  PHP's curl_multi, CURL_HTTP_VERSION_2_0, CURLPIPE_MULTIPLEX, one
#                      connection, 20 and 100 requests in flight (BENCH_H2_CURL_STREAMS;
#                      how PHP HTTP/2 libraries send); needs php8.2-curl (scripts/deps-bench)
#
# Environment:
#   BENCH_N         notifications per client run (default 200000)
#   BENCH_REPEAT    runs per client, median reported (default 3)
#   BENCH_MEM_N     notifications of the memory run (f) (default 1000000; 0 skips it)
#   BENCH_CLIENTS   which clients (default "bare_fwrite seed_loop send_loop write_pack send_many send_many_array";
#                   "none": no binary rows, e.g. BENCH_CLIENTS=none BENCH_MEM_N=0 for HTTP/2 only)
#   BENCH_SINK      auto (default): --sink if it answers probes, else the validating
#                   sandbox without a log; 1: always --sink; 0: never
#   BENCH_BUILD     0 skips `cargo build --release --workspace`
#   BENCH_OUT       directory for the raw results (default: a fresh temp dir, kept)
#   BENCH_H2        0 skips the HTTP/2 rows (default 1)
#   BENCH_H2_N      notifications per HTTP/2 run of the extension (default 100000)
#   BENCH_H2_CURL_N notifications per curl_multi run (default: 20000 without delay,
#                   4000 with one: at 50 ms, 20 in flight carry 400/s)
#   BENCH_H2_DELAYS sandbox answer delays in ms (default "0 50")
#   BENCH_H2_CONNECTIONS  pool sizes of the sendMany rows (default "1 8")
#   BENCH_H2_MAX_STREAMS  the sandbox's SETTINGS_MAX_CONCURRENT_STREAMS and the
#                   extension's max_streams (default 1000, as Apple)
#   BENCH_H2_CURL_STREAMS  requests in flight for curl_multi (default "20 100")
#   BENCH_H2_CLIENTS  default "h2_send_many h2_send_loop h2_curl_multi"
#   BENCH_H2_SANDBOX_ARGS  the HTTP/2 runs' sandbox options (default "--sink": it answers
#                   200 without checks or log, so the rows measure the clients, as the
#                   binary rows do; "--log /dev/null": every check, every log line
#                   formatted and written to nowhere, and the sandbox is the limit)
#   APNS_EXTENSION, APNS_SANDBOX  the artifacts (default target/release/...)
#
# Prints a table; the raw JSONL is in $BENCH_OUT/results.jsonl. Exits non-zero only
# when a client failed or the sandbox did not receive exactly what was sent;
# never because of speed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

N="${BENCH_N:-200000}"
REPEAT="${BENCH_REPEAT:-3}"
MEM_N="${BENCH_MEM_N:-1000000}"
CLIENTS="${BENCH_CLIENTS:-bare_fwrite seed_loop send_loop write_pack send_many send_many_array}"
SINK="${BENCH_SINK:-auto}"
[ "$CLIENTS" = none ] && CLIENTS=""
H2="${BENCH_H2:-1}"
H2_N="${BENCH_H2_N:-100000}"
H2_CURL_N="${BENCH_H2_CURL_N:-}"
H2_DELAYS="${BENCH_H2_DELAYS:-0 50}"
H2_CONNECTIONS="${BENCH_H2_CONNECTIONS:-1 8}"
H2_MAX_STREAMS="${BENCH_H2_MAX_STREAMS:-1000}"
H2_CURL_STREAMS="${BENCH_H2_CURL_STREAMS:-20 100}"
# The row being run: its sandbox options, requests in flight and pool size.
h2_row_args=""
H2_STREAMS=""
h2_row_connections=1
H2_CLIENTS="${BENCH_H2_CLIENTS:-h2_send_many h2_send_loop h2_curl_multi}"
H2_SANDBOX_ARGS="${BENCH_H2_SANDBOX_ARGS:---sink}"
ext_src="${APNS_EXTENSION:-$root/target/release/libapns.so}"
sandbox_src="${APNS_SANDBOX:-$root/target/release/apns-sandbox}"
clients="$root/bench/clients"

say() { echo "bench: $*" >&2; }

if [ "${BENCH_BUILD:-1}" != 0 ]; then
    say "cargo build --release --workspace"
    cargo build --release --workspace >&2
fi
for f in "$ext_src" "$sandbox_src"; do
    [ -f "$f" ] || { say "$f does not exist (build first)"; exit 1; }
done
command -v php >/dev/null || { say "php not found"; exit 1; }

out="${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/apns-bench.XXXXXX")}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
# Snapshot the artifacts: others may rebuild target/ while the benchmark runs.
cp "$ext_src" "$out/libapns.so"
cp "$sandbox_src" "$out/apns-sandbox"
ext="$out/libapns.so"
sandbox="$out/apns-sandbox"
"$sandbox" certs --out "$out/certs" >/dev/null
say "results and logs in $out"

clk_tck="$(getconf CLK_TCK)"
sb_pid=""
sb_port=""
sb_h2_port=""
sb_threads=""

cleanup() {
    if [ -n "$sb_pid" ] && kill -0 "$sb_pid" 2>/dev/null; then
        kill -TERM "$sb_pid" 2>/dev/null || true
        wait "$sb_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

threads_of() { awk '/^Threads:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# utime+stime of a process (all its threads), in clock ticks.
ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# start_sandbox MODE: MODE "sink" adds --sink; "plain" validates, without a log;
# "h2" adds $H2_SANDBOX_ARGS (the HTTP/2 rows).
start_sandbox() {
    local mode="$1" args=()
    [ "$mode" = sink ] && args+=(--sink)
    # shellcheck disable=SC2206
    [ "$mode" = h2 ] && args+=($H2_SANDBOX_ARGS $h2_row_args)
    : > "$out/sandbox.out"
    "$sandbox" serve --certs "$out/certs" "${args[@]}" --exit-after 3600 \
        > "$out/sandbox.out" 2>> "$out/sandbox.err" &
    sb_pid=$!
    local i
    for i in $(seq 1 200); do
        if grep -q '^ready$' "$out/sandbox.out" 2>/dev/null; then
            sb_port="$(awk '$1 == "binary" {print $2}' "$out/sandbox.out")"
            sb_h2_port="$(awk '$1 == "http2" {print $2}' "$out/sandbox.out")"
            # Threads when idle (main + listeners): connection threads come on top.
            sb_threads="$(threads_of "$sb_pid")"
            return 0
        fi
        kill -0 "$sb_pid" 2>/dev/null || break
        sleep 0.05
    done
    say "the sandbox did not start:"; cat "$out/sandbox.err" >&2
    exit 1
}

# stop_sandbox: waits (up to 10 s) until every connection thread has ended, i.e.
# the sandbox has read and counted everything, stops it, and sets sb_accepted
# (its "accepted N" line; -1 if missing) and sb_cpu (its user+sys CPU seconds).
stop_sandbox() {
    local i
    for i in $(seq 1 200); do
        [ "$(threads_of "$sb_pid")" -le "$sb_threads" ] && break
        sleep 0.05
    done
    local ticks
    ticks="$(ticks_of "$sb_pid")"
    kill -TERM "$sb_pid" 2>/dev/null || true
    wait "$sb_pid" 2>/dev/null || true
    sb_pid=""
    sb_accepted="$(awk '$1 == "accepted" {print $2}' "$out/sandbox.out")"
    sb_accepted="${sb_accepted:--1}"
    sb_cpu="$(awk -v t="$ticks" -v hz="$clk_tck" 'BEGIN {printf "%.3f", t / hz}')"
}

php_client() { # NAME N [env...]
    local name="$1" n="$2"; shift 2
    local extra=()
    # PHP's curl extension for the curl_multi client (i) (php -n loads nothing).
    [ "$name" = h2_curl_multi ] && extra+=(-d extension=curl)
    env BENCH_PORT="$sb_port" BENCH_H2_PORT="$sb_h2_port" BENCH_H2_STREAMS="${H2_STREAMS:-100}" \
        BENCH_H2_CONNECTIONS="$h2_row_connections" \
        BENCH_CERTS="$out/certs" BENCH_N="$n" "$@" \
        php -n "${extra[@]}" -d "extension=$ext" -d memory_limit=-1 "$clients/$name.php"
}

# run_client LABEL CLIENT N RUN MODE [env...]: one client run against a fresh sandbox;
# appends a JSON line (the client's, plus the sandbox's count and CPU) to $results.
run_client() {
    local label="$1" name="$2" n="$3" run="$4" mode="$5"; shift 5
    start_sandbox "$mode"
    local json rc=0
    json="$(php_client "$name" "$n" "$@" 2> "$out/$label.$run.err" | tail -n 1)" || rc=$?
    stop_sandbox
    if [ "$rc" -ne 0 ] || [ "${json:0:1}" != "{" ]; then
        say "$label run $run FAILED (exit $rc):"; sed 's/^/    /' "$out/$label.$run.err" >&2
        json='{}'
    fi
    local extra="\"label\":\"$label\",\"run\":$run,\"expected\":$n,\"rc\":$rc,\"accepted\":$sb_accepted,\"sandbox_cpu\":$sb_cpu,\"mode\":\"$mode\""
    if [ "$json" = '{}' ]; then
        echo "{$extra}" >> "$results"
    else
        echo "${json%\}},$extra}" >> "$results"
    fi
    say "$(printf '%-12s run %s: %s' "$label" "$run" "$(tail -n 1 "$results" | cut -c1-150)")"
}

# Which sandbox mode: the sink, unless it cannot answer the engine's probes.
mode=plain
if [ "$SINK" != 0 ]; then
    start_sandbox sink
    verdict="$(php_client probe_check 1500 2>&1 | tail -n 1)"
    stop_sandbox
    if [ "$verdict" = ok ] || [ "$SINK" = 1 ]; then
        mode=sink
    else
        say "WARNING: the --sink sandbox does not answer probes ($verdict)."
        say "WARNING: measuring against the validating sandbox without a log instead (BENCH_SINK=1 forces --sink)."
        echo "{\"label\":\"note\",\"sink_probe\":$(php -n -r 'echo json_encode($argv[1]);' "$verdict")}" >> "$results"
    fi
fi
say "sandbox mode: $mode; N=$N, repeat=$REPEAT, clients: $CLIENTS"

# PHP's own baseline (same binary, same extension loaded, nothing sent).
for run in $(seq 1 "$REPEAT"); do
    json="$(php -n -d "extension=$ext" "$clients/baseline.php")"
    echo "${json%\}},\"label\":\"baseline\",\"run\":$run,\"expected\":0,\"rc\":0,\"accepted\":0,\"sandbox_cpu\":0}" >> "$results"
done

# Interleaved: run 1 of every client, then run 2…, so drift hits all alike.
for run in $(seq 1 "$REPEAT"); do
    for c in $CLIENTS; do
        run_client "$c" "$c" "$N" "$run" "$mode"
    done
done

if [ "$MEM_N" -gt 0 ] 2>/dev/null; then
    run_client mem_1m send_many "$MEM_N" 1 "$mode" BENCH_CLIENT_NAME=mem_1m
fi

# HTTP/2 rows (issue #5), after the binary ones.
if [ "$H2" != 0 ]; then
    # curl_multi needs PHP's curl extension with HTTP/2 (libcurl built with nghttp2).
    curl_verdict="$(php -n -d extension=curl -r '
        if (!function_exists("curl_version")) { echo "no curl extension (scripts/deps-bench installs php8.2-curl)"; exit; }
        $v = curl_version();
        echo ($v["features"] & CURL_VERSION_HTTP2) ? "ok" : "libcurl {$v["version"]} has no HTTP/2 (CURL_VERSION_HTTP2 not set)";' 2>/dev/null || echo "no curl extension")"
    curl_desc="$(php -n -d extension=curl -r 'if (function_exists("curl_version")) { $v = curl_version(); echo "libcurl {$v["version"]}, {$v["ssl_version"]}"; }' 2>/dev/null || true)"
    echo "{\"label\":\"h2_note\",\"curl\":$(php -n -r 'echo json_encode($argv[1]);' -- "$curl_verdict"),\"curl_desc\":$(php -n -r 'echo json_encode($argv[1]);' -- "$curl_desc"),\"sandbox_args\":$(php -n -r 'echo json_encode($argv[1]);' -- "$H2_SANDBOX_ARGS --max-streams $H2_MAX_STREAMS"),\"max_streams\":$H2_MAX_STREAMS,\"n\":$H2_N}" >> "$results"
    h2_clients=""
    for c in $H2_CLIENTS; do
        if [ "$c" = h2_curl_multi ] && [ "$curl_verdict" != ok ]; then
            say "WARNING: skipping (i) curl_multi: $curl_verdict"
            continue
        fi
        h2_clients="$h2_clients $c"
    done
    say "HTTP/2 rows: N=$H2_N, delays $H2_DELAYS ms, repeat=$REPEAT, sandbox $H2_SANDBOX_ARGS --max-streams $H2_MAX_STREAMS, connections $H2_CONNECTIONS, curl in flight $H2_CURL_STREAMS, clients:$h2_clients"
    # Each row's label carries its client, pool size (cN) or requests in flight
    # (sN) and delay (dMS) for the report; h2_row_args, H2_STREAMS and
    # h2_row_connections set up its sandbox and client.
    for delay in $H2_DELAYS; do
        h2_row_args="--max-streams $H2_MAX_STREAMS"
        [ "$delay" -gt 0 ] && h2_row_args="$h2_row_args --h2-delay-ms $delay"
        curl_n="${H2_CURL_N:-$([ "$delay" -gt 0 ] && echo 4000 || echo 20000)}"
        for run in $(seq 1 "$REPEAT"); do
            for c in $h2_clients; do
                case "$c" in
                    h2_send_many)
                        for conns in $H2_CONNECTIONS; do
                            H2_STREAMS="$H2_MAX_STREAMS" h2_row_connections="$conns"
                            run_client "h2_send_many.c$conns.d$delay" "$c" "$H2_N" "$run" h2
                        done ;;
                    h2_send_loop)
                        H2_STREAMS="$H2_MAX_STREAMS" h2_row_connections=1
                        run_client "h2_send_loop.c1.d$delay" "$c" "$H2_N" "$run" h2 ;;
                    h2_curl_multi)
                        for streams in $H2_CURL_STREAMS; do
                            H2_STREAMS="$streams" h2_row_connections=1
                            run_client "h2_curl_multi.s$streams.d$delay" "$c" "$curl_n" "$run" h2
                        done ;;
                esac
            done
        done
    done
    h2_row_connections=1
fi

php -n "$root/bench/report.php" "$results" "$N" "$mode"

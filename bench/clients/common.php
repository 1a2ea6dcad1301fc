<?php
/**
 * Shared by every benchmark client (bench/run.sh runs each client as its own
 * `php -n [-d extension=…] bench/clients/X.php` process).
 *
 * Environment (set by bench/run.sh):
 *   BENCH_PORT   the sandbox's binary gateway port (127.0.0.1)
 *   BENCH_CERTS  the directory written by `apns-sandbox certs`
 *   BENCH_N      how many notifications to send
 *
 * Every client sends the same ~100-byte JSON payload to tokens drawn in turn
 * from the same pool of 1,000 distinct tokens, and prints one JSON line:
 *   {"client":…,"notifications":…,"wall":…,"cpu":…,"user":…,"sys":…,
 *    "rss_kib":…,"vmhwm_kib":…,"php_peak":…, …extra}
 * `wall` and `cpu` cover the sending only (connect, loop, flush/close), not PHP
 * start-up and not building the token pool.
 */

declare(strict_types=1);

const BENCH_PAYLOAD = '{"aps":{"alert":"Your order #12345 has shipped and will arrive tomorrow","badge":1,"sound":"default"}}';
const BENCH_POOL = 1000;

function bench_env(string $name, ?string $default = null): string
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        if ($default === null) {
            fwrite(STDERR, "bench client: environment variable $name is not set\n");
            exit(2);
        }
        return $default;
    }
    return $v;
}

function bench_n(): int
{
    return max(1, (int) bench_env('BENCH_N', '200000'));
}

function bench_url(): string
{
    return 'ssl://127.0.0.1:' . bench_env('BENCH_PORT');
}

function bench_certs(): string
{
    return bench_env('BENCH_CERTS');
}

/** 1,000 distinct 64-hex-digit tokens (never the all-zero one). */
function bench_tokens(): array
{
    $tokens = [];
    for ($i = 0; $i < BENCH_POOL; $i++) {
        $tokens[] = hash('sha256', "bench-token-$i");
    }
    return $tokens;
}

/**
 * The token of the $i-th notification of an HTTP/2 run: every one distinct (a
 * real send never repeats a device), 64 hex digits, made on the fly (a fixed
 * prefix and the counter) so that no array of N tokens inflates the client's RSS.
 * BENCH_H2_TOKENS=pool draws from the 1,000-token pool instead.
 */
function bench_h2_token(array $pool, int $i): string
{
    static $distinct = null;
    $distinct ??= bench_env('BENCH_H2_TOKENS', 'distinct') !== 'pool';
    return $distinct
        ? 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718' . sprintf('%016x', $i)
        : $pool[$i % BENCH_POOL];
}

/** The stream context of the PHP-stream clients (a) and (b). */
function bench_stream_context()
{
    $certs = bench_certs();
    return stream_context_create(['ssl' => [
        'local_cert' => "$certs/client.pem",
        'cafile' => "$certs/ca.pem",
        'peer_name' => 'localhost',
        'verify_peer' => true,
        'verify_peer_name' => true,
    ]]);
}

/** The ApnsConnection options of clients (c), (d), (e) and (f). */
function bench_apns_options(): array
{
    $certs = bench_certs();
    return [
        'local_cert' => "$certs/client.pem",
        'cafile' => "$certs/ca.pem",
        'peer_name' => 'localhost',
    ];
}

/** CPU seconds (user, sys) of this process so far. */
function bench_cpu(): array
{
    $r = getrusage();
    return [
        $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6,
        $r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6,
    ];
}

/** VmHWM (peak resident set) of this process in KiB, from /proc/self/status. */
function bench_vmhwm_kib(): int
{
    $status = @file_get_contents('/proc/self/status');
    if ($status !== false && preg_match('/^VmHWM:\s+(\d+)\s+kB/m', $status, $m)) {
        return (int) $m[1];
    }
    return 0;
}

/** Starts the clock: returns the state bench_report() needs. */
function bench_start(): array
{
    [$u, $s] = bench_cpu();
    return ['t' => hrtime(true), 'u' => $u, 's' => $s];
}

/** Prints the client's JSON line. */
function bench_report(string $client, array $start, int $notifications, array $extra = []): void
{
    $wall = (hrtime(true) - $start['t']) / 1e9;
    [$u, $s] = bench_cpu();
    $r = getrusage();
    $out = [
        'client' => $client,
        'notifications' => $notifications,
        'wall' => round($wall, 6),
        'user' => round($u - $start['u'], 6),
        'sys' => round($s - $start['s'], 6),
        'cpu' => round(($u - $start['u']) + ($s - $start['s']), 6),
        'rss_kib' => (int) $r['ru_maxrss'],
        'vmhwm_kib' => bench_vmhwm_kib(),
        'php_peak' => memory_get_peak_usage(true),
    ] + $extra;
    echo json_encode($out, JSON_UNESCAPED_SLASHES), "\n";
}

/* ---- HTTP/2 rows (g), (h), (i) of issue #5 ---- */

const BENCH_TOPIC = 'com.example.app';
const BENCH_KEY_ID = 'ABC123DEFG';
const BENCH_TEAM_ID = 'DEF123GHIJ';

/** The sandbox's HTTP/2 provider API (bench/run.sh sets BENCH_H2_PORT). */
function bench_h2_url(): string
{
    return 'https://127.0.0.1:' . bench_env('BENCH_H2_PORT');
}

/** How many requests in flight for the curl_multi client (i). */
function bench_h2_streams(): int
{
    return max(1, (int) bench_env('BENCH_H2_STREAMS', '100'));
}

/**
 * The ApnsConnection options of clients (g) and (h): token auth, like most users,
 * BENCH_H2_STREAMS streams per connection (the curl_multi client (i) keeps the
 * same number in flight), BENCH_H2_CONNECTIONS connections (default 1).
 */
function bench_h2_options(): array
{
    $certs = bench_certs();
    return [
        'auth_key' => "$certs/auth-key.p8",
        'key_id' => BENCH_KEY_ID,
        'team_id' => BENCH_TEAM_ID,
        'topic' => BENCH_TOPIC,
        'cafile' => "$certs/ca.pem",
        'peer_name' => 'localhost',
        'max_streams' => bench_h2_streams(),
        'connections' => max(1, (int) bench_env('BENCH_H2_CONNECTIONS', '1')),
    ];
}

<?php
/**
 * (e) and (f): sendMany() from a generator yielding tokens (never an array of
 * all of them), one call for the whole batch; it flushes before it returns.
 * With BENCH_PROTOCOL=h2 (clients/h2_send_many.php), (g): the same over https://.
 * With BENCH_SOURCE=array (clients/send_many_array.php), (e2): an array of all
 * the tokens, built before the clock starts.
 */
require __DIR__ . '/common.php';

function bench_token_stream(array $tokens, int $n, bool $h2): Generator
{
    for ($i = 0; $i < $n; $i++) {
        yield $h2 ? bench_h2_token($tokens, $i) : $tokens[$i % BENCH_POOL];
    }
}

$h2 = getenv('BENCH_PROTOCOL') === 'h2';
$n = bench_n();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;

$array = getenv('BENCH_SOURCE') === 'array';
$source = $array ? array_map(fn ($i) => $tokens[$i % BENCH_POOL], range(0, $n - 1)) : bench_token_stream($tokens, $n, $h2);

$start = bench_start();
$c = $h2 ? new ApnsConnection(bench_h2_url(), bench_h2_options()) : new ApnsConnection(bench_url(), bench_apns_options());
$report = $c->sendMany($source, $payload);
$stats = $c->stats();
$c->close();
bench_report(getenv('BENCH_CLIENT_NAME') ?: ($h2 ? 'h2_send_many' : ($array ? 'send_many_array' : 'send_many')), $start, $n, [
    'sent' => $report['sent'], 'failed' => count($report['failed']), 'resent' => $report['resent'],
    'reconnects' => $stats['reconnects'], 'engine_seconds' => $report['seconds'],
    'protocol' => $stats['protocol'],
]);

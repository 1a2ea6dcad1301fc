<?php
/**
 * (g) sendMany() over https:// (HTTP/2, token auth) from a generator yielding
 * tokens; one call for the whole batch, which flushes before it returns.
 */
require __DIR__ . '/common.php';

function bench_token_stream(array $tokens, int $n): Generator
{
    for ($i = 0; $i < $n; $i++) {
        yield $tokens[$i % BENCH_POOL];
    }
}

$n = bench_n();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;

$start = bench_start();
$c = new ApnsConnection(bench_h2_url(), bench_h2_options());
$report = $c->sendMany(bench_token_stream($tokens, $n), $payload);
$stats = $c->stats();
$c->close();
bench_report('h2_send_many', $start, $n, [
    'sent' => $report['sent'], 'failed' => count($report['failed']), 'resent' => $report['resent'],
    'reconnects' => $stats['reconnects'], 'engine_seconds' => $report['seconds'],
    'protocol' => $stats['protocol'] ?? '?',
]);

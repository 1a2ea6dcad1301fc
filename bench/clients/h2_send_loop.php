<?php
/** (h) A foreach over ApnsConnection::send() over https:// (HTTP/2, token auth), then flush(). */
require __DIR__ . '/common.php';

$n = bench_n();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;

$start = bench_start();
$c = new ApnsConnection(bench_h2_url(), bench_h2_options());
for ($i = 0; $i < $n; $i++) {
    $c->send($tokens[$i % BENCH_POOL], $payload);
}
$failures = $c->flush();
$stats = $c->stats();
$c->close();
bench_report('h2_send_loop', $start, $n, [
    'sent' => $stats['sent'], 'failed' => count($failures), 'stats_failed' => (int) $stats['failed'],
    'resent' => $stats['resent'], 'reconnects' => $stats['reconnects'],
    'protocol' => $stats['protocol'] ?? '?',
]);

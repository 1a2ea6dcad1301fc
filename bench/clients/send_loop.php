<?php
/**
 * (c) A foreach over ApnsConnection::send(), then flush(): full error handling.
 * With BENCH_PROTOCOL=h2 (clients/h2_send_loop.php), (h): the same over https://.
 */
require __DIR__ . '/common.php';

$h2 = getenv('BENCH_PROTOCOL') === 'h2';
$n = bench_n();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;

$start = bench_start();
$c = $h2 ? new ApnsConnection(bench_h2_url(), bench_h2_options()) : new ApnsConnection(bench_url(), bench_apns_options());
for ($i = 0; $i < $n; $i++) {
    $c->send($h2 ? bench_h2_token($tokens, $i) : $tokens[$i % BENCH_POOL], $payload);
}
$failures = $c->flush();
$stats = $c->stats();
$c->close();
bench_report($h2 ? 'h2_send_loop' : 'send_loop', $start, $n, [
    'sent' => $stats['sent'], 'failed' => count($failures), 'stats_failed' => (int) $stats['failed'],
    'resent' => $stats['resent'], 'reconnects' => $stats['reconnects'], 'protocol' => $stats['protocol'],
]);

<?php
/** (d) $c->write(ApnsConnection::pack(...)) per notification, then flush(). */
require __DIR__ . '/common.php';

$n = bench_n();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;

$start = bench_start();
$c = new ApnsConnection(bench_url(), bench_apns_options());
for ($i = 0; $i < $n; $i++) {
    $c->write(ApnsConnection::pack($tokens[$i % BENCH_POOL], $payload, ['command' => 2]));
}
$failures = $c->flush();
$stats = $c->stats();
$c->close();
bench_report('write_pack', $start, $n, [
    'failed' => count($failures), 'resent' => $stats['resent'], 'reconnects' => $stats['reconnects'],
]);

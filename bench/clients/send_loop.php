<?php
/** (c) A foreach over ApnsConnection::send(), then flush(): full error handling. */
require __DIR__ . '/common.php';

$n = bench_n();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;

$start = bench_start();
$c = new ApnsConnection(bench_url(), bench_apns_options());
for ($i = 0; $i < $n; $i++) {
    $c->send($tokens[$i % BENCH_POOL], $payload);
}
$failures = $c->flush();
$stats = $c->stats();
$c->close();
bench_report('send_loop', $start, $n, [
    'failed' => count($failures), 'resent' => $stats['resent'], 'reconnects' => $stats['reconnects'],
]);

<?php
/**
 * Does the sandbox answer the engine's probes? ApnsConnection settles a batch of
 * more than 1,000 notifications with a probe (a notification with the all-zero
 * token, which the gateway must reject with status 8). A sandbox that counts
 * without answering it makes every large flush() wait for `timeout`, then resend.
 * Prints "ok" or "no: <why>"; always exits 0.
 */
require __DIR__ . '/common.php';

$tokens = bench_tokens();
try {
    $c = new ApnsConnection(bench_url(), bench_apns_options() + ['timeout' => 2]);
    for ($i = 0; $i < 1500; $i++) {
        $c->send($tokens[$i % BENCH_POOL], BENCH_PAYLOAD);
    }
    $failures = $c->flush();
    $stats = $c->stats();
    $c->close();
    if ($failures !== [] || $stats['resent'] !== 0) {
        echo 'no: ', count($failures), ' failure(s), ', $stats['resent'], " resent\n";
    } else {
        echo "ok\n";
    }
} catch (Throwable $e) {
    echo 'no: ', get_class($e), ': ', $e->getMessage(), "\n";
}

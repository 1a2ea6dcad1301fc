--TEST--
Push worker on PostgreSQL (throwaway cluster on 127.0.0.1): two workers at once on the same queue claim with FOR UPDATE SKIP LOCKED; no notification sent by both, nothing missing
--EXTENSIONS--
pdo
pdo_pgsql
--SKIPIF--
<?php
if (!extension_loaded('apns')) die('skip apns not loaded');
require __DIR__ . '/../examples/worker/tests-support.php';
if (($why = worker_pg_unavailable()) !== null) die("skip $why");
?>
--FILE--
<?php
require __DIR__ . '/apns.inc';
require __DIR__ . '/../examples/worker/tests-support.php';

use Apns\Worker\Queue;

$pg = worker_pg_start();
$invalid = [apns_token(9), apns_token(99)];
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($invalid), '--shutdown-every', '800']);
$queue = Queue::open($pg['dsn'], $pg['user']);
$pdo = $queue->pdo();
worker_seed($queue, 2000, 300, $invalid);
$expected = worker_expected_targets($pdo);

// Two workers at once, small batches so that they interleave.
$dir = apns_temp_dir('worker-pg');
putenv('APNS_DB_USER=' . $pg['user']);
$procs = [];
foreach (['a', 'b'] as $name) {
    $procs[$name] = worker_start(array_merge(worker_sandbox_args($sb),
        ['--db', $pg['dsn'], '--once', '--batch', '50', '--worker-id', "worker-$name"]), "$dir/$name.txt");
}
$t = microtime(true);
foreach ($procs as $name => $proc) {
    $code = worker_wait($proc, 60);
    apns_check("worker $name: exit code 0", $code === 0, "exit $code: " . file_get_contents("$dir/$name.txt"));
}
$seconds = microtime(true) - $t;

$states = $pdo->query('SELECT state, COUNT(*) FROM notifications GROUP BY state')->fetchAll(PDO::FETCH_KEY_PAIR);
apns_check('every notification ended sent or failed', array_diff(array_keys($states), ['sent', 'failed']) === [], json_encode($states));
// claimed_by is cleared when a notification ends: who ended how many is in each worker's summary line.
$batches = [];
foreach (['a', 'b'] as $name) {
    $out = (string) file_get_contents("$dir/$name.txt");
    $batches[$name] = preg_match('/queue empty: (\d+) notification\(s\) sent, (\d+) failed/', $out, $m) ? (int) $m[1] + (int) $m[2] : 0;
}
apns_check('both workers sent some', $batches['a'] > 0 && $batches['b'] > 0, json_encode($batches));
apns_check('together they ended each notification once', $batches['a'] + $batches['b'] === 2000, json_encode($batches));

$log = worker_log_pairs($sb);
$missing = 0;
foreach ($expected as $n => $tokens) {
    foreach ($tokens as $token) {
        $missing += !in_array($token, $invalid, true) && !isset($log["$n $token"]) ? 1 : 0;
    }
}
$twice = array_filter($log, fn($c) => $c > 1);
apns_check('no (notification, token) pair sent twice: no notification sent by both', $twice === [], count($twice) . ' pairs, e.g. ' . array_key_first($twice));
apns_check('nothing missing', $missing === 0, "$missing missing");
$inactive = $pdo->query('SELECT token FROM device_tokens WHERE active = 0 ORDER BY token')->fetchAll(PDO::FETCH_COLUMN);
sort($invalid);
apns_check('the invalid tokens were deactivated', $inactive === $invalid, json_encode($inactive));
printf("figures: notifications=2000 worker a=%d b=%d pairs=%d seconds=%.1f\n", $batches['a'], $batches['b'], count($log), $seconds);
?>
--EXPECTF--
worker a: exit code 0: ok
worker b: exit code 0: ok
every notification ended sent or failed: ok
both workers sent some: ok
together they ended each notification once: ok
no (notification, token) pair sent twice: no notification sent by both: ok
nothing missing: ok
the invalid tokens were deactivated: ok
figures: notifications=2000 worker a=%d b=%d pairs=%d seconds=%f

--TEST--
Push worker through a gateway outage: the gateway dies mid-batch and comes back on the same port; the worker reports the outage, reconnects with back-off and finishes: every notification sent or failed, nothing lost, nothing marked sent that the gateway did not accept
--EXTENSIONS--
pdo
pdo_sqlite
--SKIPIF--
<?php
if (!extension_loaded('apns')) die('skip apns not loaded');
if (!extension_loaded('pdo_sqlite')) die('skip pdo_sqlite not available (apt-get install php8.2-sqlite3, or scripts/deps-examples)');
?>
--FILE--
<?php
require __DIR__ . '/apns.inc';
require __DIR__ . '/../examples/worker/tests-support.php';

use Apns\Worker\Queue;

$port = apns_free_port();
// A slow reader (100 kB/s) so that the outage hits a batch in flight.
$first = apns_sandbox_start(['--port', (string) $port, '--slow-read', '100000']);
$dir = apns_temp_dir('worker-outage');
$db = "sqlite:$dir/queue.sqlite";
$queue = Queue::open($db);
$pdo = $queue->pdo();
worker_seed($queue, 1500, 200);
$expected = worker_expected_targets($pdo);
$args = array_merge(worker_sandbox_args($first), ['--feedback', 'none', '--db', $db, '--once', '--batch', '300', '--timeout', '2']);

$proc = worker_start($args, "$dir/out.txt");
$deadline = microtime(true) + 20;
do {
    usleep(50000);
    clearstatcache();
    $lines = is_file($first['log']) ? count(file($first['log'])) : 0;
} while ($lines < 200 && microtime(true) < $deadline);
$firstLog = worker_log_pairs($first);
apns_sandbox_stop($first);                 // the gateway goes away mid-batch…
sleep(3);
$second = apns_sandbox_start(['--port', (string) $port]);   // …and comes back
$code = worker_wait($proc, 90);
$output = (string) file_get_contents("$dir/out.txt");

apns_check('exit code 0', $code === 0, "exit $code: $output");
apns_check('the worker reported the outage and reconnected', str_contains($output, 'reconnected'), $output);
$states = $pdo->query('SELECT state, COUNT(*) FROM notifications GROUP BY state')->fetchAll(PDO::FETCH_KEY_PAIR);
apns_check('every notification ended sent or failed', !isset($states['queued']) && !isset($states['claimed']), json_encode($states));
$log = $firstLog;
foreach (worker_log_pairs($second) as $pair => $count) {
    $log[$pair] = ($log[$pair] ?? 0) + $count;
}
$missing = 0;
foreach ($expected as $n => $tokens) {
    foreach ($tokens as $token) {
        $missing += !isset($log["$n $token"]) ? 1 : 0;
    }
}
$notLogged = 0;
foreach (worker_delivery_pairs($pdo) as $pair => $status) {
    $notLogged += $status === 'accepted' && !isset($log[$pair]) ? 1 : 0;
}
apns_check('nothing lost: every (notification, token) pair in a gateway log', $missing === 0, "$missing missing");
apns_check('nothing recorded accepted that no gateway logged', $notLogged === 0, "$notLogged");
$pairs = array_sum(array_map('count', $expected));
$duplicates = array_sum($log) - count($log);
// The outage is a silent drop: what the dead gateway took but could not confirm
// may be sent again, never more than one batch.
apns_check('duplicates bounded by the batch in flight', $duplicates <= 300 * 5, "$duplicates");
printf("pairs=%d duplicates=%d sent=%d failed=%d\n", $pairs, $duplicates, $states['sent'] ?? 0, $states['failed'] ?? 0);
?>
--EXPECTF--
exit code 0: ok
the worker reported the outage and reconnected: ok
every notification ended sent or failed: ok
nothing lost: every (notification, token) pair in a gateway log: ok
nothing recorded accepted that no gateway logged: ok
duplicates bounded by the batch in flight: ok
pairs=%d duplicates=%d sent=%d failed=%d

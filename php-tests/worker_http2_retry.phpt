--TEST--
Push worker over HTTP/2 when APNs answers 503 to every request: after the extension's own retries the notification goes back to the queue with an attempt counted and a retry time, is tried again after its back-off, and ends failed with the reason after --max-attempts; nothing recorded, no token deactivated
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

use Apns\Worker\{Queue, Worker};

$sb = apns_sandbox_start(['--h2-status-every', '1:503']);
$dir = apns_temp_dir('worker-http2-retry');
$queue = Queue::open("sqlite:$dir/queue.sqlite");
$pdo = $queue->pdo();
$tokens = [$queue->addToken(apns_token(1)), $queue->addToken(apns_token(2))];
$first = $queue->enqueue(['aps' => ['alert' => 'one']], $tokens);
$second = $queue->enqueue(['aps' => ['alert' => 'two']], [$tokens[0]]);

$lines = [];
// timeout 1: the extension's own back-off between its 503 retries stays short (at most timeout / 2).
$worker = new Worker($queue, fn() => new ApnsConnection($sb['http2'], ['timeout' => 1] + worker_http2_options($sb)), null,
    function (string $level, string $message) use (&$lines) { $lines[] = "$level $message"; },
    ['once' => true, 'max_attempts' => 2]);
$totals = $worker->run();

foreach ($pdo->query('SELECT id, state, attempts, retry_at IS NOT NULL AS had_retry_time, last_error FROM notifications ORDER BY id') as $r) {
    echo json_encode($r), "\n";
}
echo "retried={$totals['retried']} failed={$totals['failed']} sent={$totals['sent']}\n";
echo 'deliveries: ', $pdo->query('SELECT COUNT(*) FROM deliveries')->fetchColumn(), '; inactive tokens: ',
    $pdo->query('SELECT COUNT(*) FROM device_tokens WHERE active = 0')->fetchColumn(), '; sandbox log: ', count(apns_log($sb)), "\n";
echo implode("\n", preg_grep('/failed after/', $lines)), "\n";
?>
--EXPECT--
{"id":1,"state":"failed","attempts":1,"had_retry_time":1,"last_error":"gave up after 2 attempts: ServiceUnavailable (status 503)"}
{"id":2,"state":"failed","attempts":1,"had_retry_time":1,"last_error":"gave up after 2 attempts: ServiceUnavailable (status 503)"}
retried=2 failed=2 sent=0
deliveries: 0; inactive tokens: 0; sandbox log: 0
warning notification 1 failed after 2 attempts: ServiceUnavailable (status 503)
warning notification 2 failed after 2 attempts: ServiceUnavailable (status 503)

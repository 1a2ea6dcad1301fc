--TEST--
Push worker over HTTP/2 with token auth from the environment (the key's PEM text in APNS_AUTH_KEY) through an outage: the API dies mid-batch and comes back on the same port; what was not answered is reported undelivered and retried, the worker reconnects and finishes: nothing lost, nothing recorded accepted that the API did not log, the key's text never printed
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
// Slow answers (at most 5 streams, 5 ms each: ~1,000 a second) so that the outage hits a batch in flight.
$first = apns_sandbox_start(['--http2-port', (string) $port, '--max-streams', '5', '--h2-delay-ms', '5']);
$dir = apns_temp_dir('worker-h2-outage');
$db = "sqlite:$dir/queue.sqlite";
$queue = Queue::open($db);
$pdo = $queue->pdo();
worker_seed($queue, 1500, 200);
$expected = worker_expected_targets($pdo);

$key = (string) file_get_contents($first['certs'] . '/auth-key.p8');
putenv('APNS_GATEWAY=https://127.0.0.1:' . $port);
putenv("APNS_AUTH_KEY=$key");
putenv('APNS_KEY_ID=ABC123DEFG');
putenv('APNS_TEAM_ID=DEF123GHIJ');
putenv('APNS_TOPIC=com.example.app');
$args = ['--cafile', $first['certs'] . '/ca.pem', '--db', $db, '--once', '--batch', '300', '--timeout', '2'];

$proc = worker_start($args, "$dir/out.txt");
$deadline = microtime(true) + 20;
do {
    usleep(50000);
    clearstatcache();
    $lines = is_file($first['log']) ? count(file($first['log'])) : 0;
} while ($lines < 300 && microtime(true) < $deadline);
apns_sandbox_stop($first);                 // the API goes away mid-batch…
$firstLog = worker_log_pairs($first);
sleep(4);
$second = apns_sandbox_start(['--http2-port', (string) $port]);   // …and comes back
$code = worker_wait($proc, 90);
$output = (string) file_get_contents("$dir/out.txt");

apns_check('exit code 0', $code === 0, "exit $code: $output");
apns_check('the worker reported the outage and reconnected', str_contains($output, 'reconnected'), $output);
$retried = preg_match('/queue empty: .* (\d+) retried;/', $output, $m) ? (int) $m[1] : -1;
apns_check('undelivered notifications went back to the queue and were retried', $retried > 0, $output);
apns_check('what the API did not answer was reported as not delivered (status 255)', str_contains($output, 'status 255'), $output);
$keyBody = trim(explode("\n", trim($key))[1] ?? 'missing');
apns_check("the key's text is not in the output", strlen($keyBody) > 20 && !str_contains($output, $keyBody));

$states = $pdo->query('SELECT state, COUNT(*) FROM notifications GROUP BY state')->fetchAll(PDO::FETCH_KEY_PAIR);
apns_check('every notification ended sent', array_keys($states) === ['sent'], json_encode($states));
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
$deliveries = worker_delivery_pairs($pdo);
$notLogged = count(array_filter(array_keys($deliveries), fn($pair) => !isset($log[$pair])));
apns_check('nothing lost: every (notification, token) pair in an API log', $missing === 0, "$missing missing");
apns_check('every pair recorded accepted once, and only pairs an API logged',
    $notLogged === 0 && count($deliveries) === count($log) && !in_array('failed', $deliveries, true), "$notLogged not logged");
$duplicates = array_sum($log) - count($log);
// The outage leaves unknown what the dead API processed without answering: that may be
// sent again, never more than the requests in flight (5 streams here).
apns_check('duplicates bounded by the streams in flight', $duplicates <= 5, "$duplicates");
printf("pairs=%d duplicates=%d retried=%d\n", count($log), $duplicates, $retried);
?>
--EXPECTF--
exit code 0: ok
the worker reported the outage and reconnected: ok
undelivered notifications went back to the queue and were retried: ok
what the API did not answer was reported as not delivered (status 255): ok
the key's text is not in the output: ok
every notification ended sent: ok
nothing lost: every (notification, token) pair in an API log: ok
every pair recorded accepted once, and only pairs an API logged: ok
duplicates bounded by the streams in flight: ok
pairs=%d duplicates=%d retried=%d

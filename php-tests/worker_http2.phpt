--TEST--
Push worker over HTTP/2 with token auth, the sandbox answering 503 every 40 requests, GOAWAY every 150 streams, BadDeviceToken and 410 Unregistered tokens: nothing lost, every accepted delivery recorded once with its apns-id, dead tokens deactivated (a token registered again after Apple's 410 timestamp stays), each notification's push type, priority, expiration, collapse id and topic on the wire
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

$bad = [apns_token(7), apns_token(77)];                 // 400 BadDeviceToken
$unregistered = [apns_token(20), apns_token(21)];       // 410, Apple's timestamp after their registration
$registeredAgain = apns_token(22);                      // 410, Apple's timestamp before its registration
$dir = apns_temp_dir('worker-http2');
file_put_contents("$dir/unregistered.txt", implode('', array_map(fn($t) => (time() + 60) * 1000 . " $t\n", $unregistered))
    . "1700000000000 $registeredAgain\n");
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($bad), '--unregistered', "$dir/unregistered.txt",
    '--h2-status-every', '40:503', '--goaway-every', '150']);

$queue = Queue::open("sqlite:$dir/queue.sqlite");
$pdo = $queue->pdo();
$ids = worker_seed($queue, 600, 200, array_merge($bad, $unregistered, [$registeredAgain]));

// Notifications with their own HTTP/2 fields; each payload names its id ("n").
function queue_with(Queue $queue, array $tokenIds, array $fields, array $aps = ['alert' => 'fields']): int
{
    $id = $queue->enqueue(['aps' => $aps], $tokenIds, [], $fields);
    $queue->pdo()->prepare('UPDATE notifications SET payload = ? WHERE id = ?')
        ->execute([json_encode(['aps' => $aps, 'n' => $id]), $id]);
    return $id;
}
$t1 = $ids[apns_token(1)];
$t2 = $ids[apns_token(2)];
$background = queue_with($queue, [$t1, $t2], ['push_type' => 'background'], ['content-available' => 1]);
$custom = queue_with($queue, [$t1], ['priority' => 5, 'expiration' => 1900000000, 'collapse_id' => 'news',
    'topic' => 'com.example.other']);
$plain = queue_with($queue, [$t2], []);
// Over the binary limit (2048) but within HTTP/2's (4096): sent.
$big = queue_with($queue, [$t1], [], ['alert' => str_repeat('x', 3000)]);
// A row an application wrote by hand with a collapse id APNs refuses: failed, never sent.
$invalid = queue_with($queue, [$t1, $t2], []);
$pdo->exec("UPDATE notifications SET collapse_id = '" . str_repeat('c', 65) . "' WHERE id = $invalid");
$expected = worker_expected_targets($pdo);

$lines = [];
$worker = new Worker(
    $queue,
    fn() => new ApnsConnection($sb['http2'], worker_http2_options($sb)),
    null,
    function (string $level, string $message) use (&$lines) { $lines[] = "$level $message"; },
    ['batch' => 100, 'once' => true, 'worker' => 'test'],
);
$t = microtime(true);
$totals = $worker->run();
$seconds = microtime(true) - $t;

$states = $pdo->query('SELECT state, COUNT(*) FROM notifications GROUP BY state')->fetchAll(PDO::FETCH_KEY_PAIR);
apns_check('every notification ended sent or failed', array_diff(array_keys($states), ['sent', 'failed']) === [], json_encode($states));

// Nothing lost: every (notification, deliverable token) pair is in the sandbox's log.
$rows = apns_log($sb);
$log = [];
$logIds = [];
foreach ($rows as $row) {
    $pair = json_decode($row['payload'], true)['n'] . ' ' . $row['token'];
    $log[$pair] = ($log[$pair] ?? 0) + 1;
    $logIds[$pair] = $row['apns_id'];
}
$dead = array_merge($bad, $unregistered, [$registeredAgain]);
$missing = 0;
foreach ($expected as $n => $tokens) {
    foreach ($tokens as $token) {
        $missing += $n !== $invalid && !in_array($token, $dead, true) && !isset($log["$n $token"]) ? 1 : 0;
    }
}
apns_check('nothing lost: every (notification, deliverable token) pair in the sandbox log', $missing === 0, "$missing missing");
apns_check('nothing sent twice', array_sum($log) === count($log), (array_sum($log) - count($log)) . ' duplicates');

// Every accepted delivery recorded once, with the apns-id the sandbox saw.
$accepted = $pdo->query("SELECT notification_id || ' ' || token, apns_id FROM deliveries WHERE status = 'accepted'")
    ->fetchAll(PDO::FETCH_KEY_PAIR);
ksort($accepted);
ksort($log);
apns_check('the accepted deliveries are exactly the pairs in the sandbox log', array_keys($accepted) === array_keys($log),
    count($accepted) . ' recorded, ' . count($log) . ' logged');
$idsDiffer = count(array_filter(array_keys($accepted), fn($p) => ($logIds[$p] ?? null) !== $accepted[$p]));
apns_check("each accepted delivery's apns_id is the request's", $idsDiffer === 0, "$idsDiffer differ");

// Rejections and deactivations.
$failed = $pdo->query("SELECT token, apns_status, reason, apns_id FROM deliveries WHERE status = 'failed'")->fetchAll();
$wrong = array_filter($failed, fn($f) => !(in_array($f['token'], $bad, true) && (int) $f['apns_status'] === 400 && $f['reason'] === 'BadDeviceToken'
    || in_array($f['token'], [...$unregistered, $registeredAgain], true) && (int) $f['apns_status'] === 410 && $f['reason'] === 'Unregistered')
    || !preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/', (string) $f['apns_id']));
apns_check('rejected deliveries: 400 BadDeviceToken and 410 Unregistered for those tokens only, each with its apns_id',
    $failed !== [] && $wrong === [], json_encode(array_slice(array_values($wrong), 0, 2)));
$inactive = $pdo->query('SELECT token, deactivated_reason FROM device_tokens WHERE active = 0')->fetchAll(PDO::FETCH_KEY_PAIR);
ksort($inactive);
$want = array_fill_keys($bad, 'BadDeviceToken') + array_fill_keys($unregistered, 'Unregistered');
ksort($want);
apns_check('BadDeviceToken and Unregistered tokens deactivated, no other', $inactive === $want, json_encode($inactive));
apns_check("the token registered again after Apple's timestamp stays active", !isset($inactive[$registeredAgain]));

// Retries inside the connection: the 503s and the GOAWAYs happened.
apns_check('503 answers retried and GOAWAYs followed (resent, reconnects)', $totals['resent'] >= 10 && $totals['reconnects'] >= 3,
    json_encode($totals));

// The HTTP/2 fields on the wire.
$byN = [];
foreach ($rows as $row) {
    $byN[json_decode($row['payload'], true)['n']][] = $row;
}
$show = fn(int $n) => implode(' ', array_map(fn($k) => "$k=" . (array_key_exists($k, $byN[$n][0] ?? []) ? json_encode($byN[$n][0][$k]) : '?'),
    ['topic', 'push_type', 'priority', 'expiration', 'collapse_id']));
echo 'background: ', $show($background), ' (', count($byN[$background] ?? []), " tokens)\n";
echo 'custom:     ', $show($custom), "\n";
echo 'plain:      ', $show($plain), "\n";
apns_check('3000-byte payload sent (HTTP/2 allows 4096)', isset($byN[$big]));
$row = $pdo->query("SELECT state, last_error FROM notifications WHERE id = $invalid")->fetch();
echo "invalid collapse id: {$row['state']}, {$row['last_error']}; in the log: ", isset($byN[$invalid]) ? 'yes' : 'no', "\n";
printf("figures: notifications=%d sent=%d failed=%d pairs=%d resent=%d reconnects=%d seconds=%.1f\n", count($expected) + 1,
    $states['sent'] ?? 0, $states['failed'] ?? 0, count($log), $totals['resent'], $totals['reconnects'], $seconds);
?>
--EXPECTF--
every notification ended sent or failed: ok
nothing lost: every (notification, deliverable token) pair in the sandbox log: ok
nothing sent twice: ok
the accepted deliveries are exactly the pairs in the sandbox log: ok
each accepted delivery's apns_id is the request's: ok
rejected deliveries: 400 BadDeviceToken and 410 Unregistered for those tokens only, each with its apns_id: ok
BadDeviceToken and Unregistered tokens deactivated, no other: ok
the token registered again after Apple's timestamp stays active: ok
503 answers retried and GOAWAYs followed (resent, reconnects): ok
background: topic="com.example.app" push_type="background" priority=5 expiration=null collapse_id=null (2 tokens)
custom:     topic="com.example.other" push_type="alert" priority=5 expiration=1900000000 collapse_id="news"
plain:      topic="com.example.app" push_type="alert" priority=10 expiration=null collapse_id=null
3000-byte payload sent (HTTP/2 allows 4096): ok
invalid collapse id: failed, invalid notification: collapse_id is 65 bytes, over the limit of 64 bytes; in the log: no
figures: notifications=%d sent=%d failed=%d pairs=%d resent=%d reconnects=%d seconds=%f

--TEST--
Push worker over the binary protocol with notifications queued with HTTP/2 fields: expiration and priority are sent (priority 5 for background pushes), push type, collapse id and topic are ignored and the log says so once
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

$sb = apns_sandbox_start();
$dir = apns_temp_dir('worker-binary-fields');
$queue = Queue::open("sqlite:$dir/queue.sqlite");
$token = $queue->addToken(apns_token(1));
$queued = [
    'plain' => [],
    'background' => ['push_type' => 'background', 'collapse_id' => 'sync'],
    'expiring, priority 5' => ['expiration' => 1900000000, 'priority' => 5, 'topic' => 'com.example.other'],
    'voip' => ['push_type' => 'voip'],
];
foreach ($queued as $label => $fields) {
    $queue->enqueue(['aps' => ['alert' => $label]], [$token], [], $fields);
}
$lines = [];
$worker = new Worker($queue, fn() => new ApnsConnection($sb['binary'], apns_options($sb)), null,
    function (string $level, string $message) use (&$lines) { $lines[] = "$level $message"; }, ['once' => true]);
$totals = $worker->run();
foreach (apns_log($sb) as $row) {
    printf("%-22s command=%d expiry=%d priority=%d\n", json_decode($row['payload'], true)['aps']['alert'], $row['command'],
        $row['expiry'], $row['priority']);
}
$said = preg_grep('/binary protocol/', $lines);
echo count($said), ' x ', implode("\n", $said), "\n";
echo "sent={$totals['sent']} failed={$totals['failed']}\n";
?>
--EXPECT--
plain                  command=2 expiry=0 priority=10
background             command=2 expiry=0 priority=5
expiring, priority 5   command=2 expiry=1900000000 priority=5
voip                   command=2 expiry=0 priority=10
1 x warning the binary protocol has no push type, collapse id or topic: the queue's push_type, collapse_id and topic are ignored (first seen: push_type, collapse_id of notification 2; an https:// gateway sends them)
sent=4 failed=0

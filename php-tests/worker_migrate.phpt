--TEST--
Push worker on a SQLite queue made by the worker before the HTTP/2 fields: migrated in place on start (columns added, nothing lost), the old rows keep working: the queued ones go out over HTTP/2 with the defaults, the ended ones stay as they were; a second start changes nothing
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

$dir = apns_temp_dir('worker-migrate');
$file = "$dir/queue.sqlite";

// The queue as the worker of before issue 17 created it, with rows in every state.
$old = new PDO("sqlite:$file");
$old->exec(<<<'SQL'
    CREATE TABLE notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL CHECK (json_valid(payload)),
        created_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'claimed', 'sent', 'failed')),
        claimed_by TEXT, claimed_at INTEGER, sent_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
    CREATE INDEX notifications_state ON notifications (state, id);
    CREATE TABLE device_tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL UNIQUE, active INTEGER NOT NULL DEFAULT 1,
        deactivated_reason TEXT, deactivated_at INTEGER, registered_at INTEGER);
    CREATE TABLE token_groups (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
    CREATE TABLE token_group_members (group_id INTEGER NOT NULL REFERENCES token_groups (id) ON DELETE CASCADE,
        token_id INTEGER NOT NULL REFERENCES device_tokens (id) ON DELETE CASCADE, PRIMARY KEY (group_id, token_id));
    CREATE TABLE notification_targets (notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
        token_id INTEGER REFERENCES device_tokens (id) ON DELETE CASCADE, group_id INTEGER REFERENCES token_groups (id) ON DELETE CASCADE,
        CHECK ((token_id IS NULL) <> (group_id IS NULL)));
    CREATE TABLE deliveries (notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE, token TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'failed')), apns_status INTEGER, reason TEXT, sent_at INTEGER NOT NULL,
        PRIMARY KEY (notification_id, token));
    SQL);
$now = time() - 100;
for ($i = 1; $i <= 3; $i++) {
    $old->prepare('INSERT INTO device_tokens (token, registered_at) VALUES (?, ?)')->execute([apns_token($i), $now]);
}
$rows = [[1, 'sent', 0], [2, 'queued', 0], [3, 'queued', 2], [4, 'failed', 5]];
foreach ($rows as [$n, $state, $attempts]) {
    $old->prepare('INSERT INTO notifications (id, payload, created_at, state, attempts, last_error) VALUES (?, ?, ?, ?, ?, ?)')
        ->execute([$n, json_encode(['aps' => ['alert' => "old $n"], 'n' => $n]), $now, $state, $attempts,
            $state === 'failed' ? 'gave up after 5 attempts: Processing error (status 1)' : null]);
    foreach ([1, 2, 3] as $t) {
        $old->prepare('INSERT INTO notification_targets (notification_id, token_id) VALUES (?, ?)')->execute([$n, $t]);
    }
}
$old->prepare("INSERT INTO deliveries VALUES (1, ?, 'accepted', NULL, NULL, ?)")->execute([apns_token(1), $now]);
$before = $old->query('SELECT * FROM deliveries')->fetchAll(PDO::FETCH_ASSOC);
$old = null;

$sb = apns_sandbox_start();
$args = array_merge(worker_http2_args($sb), ['--db', "sqlite:$file", '--once']);
$code = worker_wait(worker_start($args, "$dir/run1.txt"), 60);
apns_check('first start on the old queue: exit 0', $code === 0, (string) file_get_contents("$dir/run1.txt"));

$pdo = new PDO("sqlite:$file");
$columns = fn(string $table) => array_column($pdo->query("PRAGMA table_info($table)")->fetchAll(PDO::FETCH_ASSOC), 'name');
echo 'notifications: ', implode(', ', $columns('notifications')), "\n";
echo 'deliveries: ', implode(', ', $columns('deliveries')), "\n";
foreach ($pdo->query('SELECT id, state, attempts, last_error, push_type, priority, expiration, collapse_id, topic FROM notifications ORDER BY id')
    ->fetchAll(PDO::FETCH_ASSOC) as $r) {
    echo json_encode($r), "\n";
}
$first = $pdo->query('SELECT * FROM deliveries WHERE notification_id = 1')->fetchAll(PDO::FETCH_ASSOC);
apns_check("the old delivery row is as it was (apns_id null)", $first === [$before[0] + ['apns_id' => null]], json_encode($first));
$log = apns_log($sb);
$pairs = array_map(fn($r) => json_decode($r['payload'], true)['n'] . ' ' . $r['token'] . " {$r['push_type']} {$r['priority']} {$r['topic']}", $log);
sort($pairs);
$want = [];
foreach ([2, 3] as $n) {
    foreach ([1, 2, 3] as $t) {
        $want[] = "$n " . apns_token($t) . ' alert 10 com.example.app';
    }
}
sort($want);
apns_check('the queued old rows went out with the defaults (alert, 10, --topic), nothing else', $pairs === $want, json_encode($pairs));
$ids = $pdo->query("SELECT COUNT(*) FROM deliveries WHERE notification_id IN (2, 3) AND status = 'accepted' AND apns_id IS NOT NULL")->fetchColumn();
apns_check('their deliveries recorded with an apns_id', (int) $ids === 6, "$ids");

// A second start: nothing to migrate, nothing to send.
$schema = $pdo->query("SELECT group_concat(sql, ';') FROM sqlite_master")->fetchColumn();
$pdo = null;
$code = worker_wait(worker_start($args, "$dir/run2.txt"), 60);
$pdo = new PDO("sqlite:$file");
apns_check('second start: exit 0, schema unchanged, nothing more sent', $code === 0
    && $pdo->query("SELECT group_concat(sql, ';') FROM sqlite_master")->fetchColumn() === $schema && count(apns_log($sb)) === 6);

// enqueue() takes the fields on the migrated queue.
$queue = Queue::open("sqlite:$file");
$id = $queue->enqueue(['aps' => ['content-available' => 1]], [1], [], ['push_type' => 'background', 'collapse_id' => 'c1']);
echo json_encode($queue->pdo()->query("SELECT push_type, priority, collapse_id FROM notifications WHERE id = $id")->fetch(PDO::FETCH_ASSOC)), "\n";
foreach ([['priority' => 7], ['push_type' => 'background', 'priority' => 10], ['colapse_id' => 'x'], ['expiration' => -1],
    ['collapse_id' => str_repeat('x', 65)], ['topic' => 'com.example app']] as $fields) {
    try {
        $queue->enqueue(['aps' => ['alert' => 'x']], [1], [], $fields);
        echo "accepted ", json_encode($fields), "\n";
    } catch (InvalidArgumentException $e) {
        echo $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
first start on the old queue: exit 0: ok
notifications: id, payload, created_at, state, claimed_by, claimed_at, sent_at, attempts, last_error, push_type, priority, expiration, collapse_id, topic, retry_at
deliveries: notification_id, token, status, apns_status, reason, sent_at, apns_id
{"id":1,"state":"sent","attempts":0,"last_error":null,"push_type":null,"priority":null,"expiration":null,"collapse_id":null,"topic":null}
{"id":2,"state":"sent","attempts":0,"last_error":null,"push_type":null,"priority":null,"expiration":null,"collapse_id":null,"topic":null}
{"id":3,"state":"sent","attempts":2,"last_error":null,"push_type":null,"priority":null,"expiration":null,"collapse_id":null,"topic":null}
{"id":4,"state":"failed","attempts":5,"last_error":"gave up after 5 attempts: Processing error (status 1)","push_type":null,"priority":null,"expiration":null,"collapse_id":null,"topic":null}
the old delivery row is as it was (apns_id null): ok
the queued old rows went out with the defaults (alert, 10, --topic), nothing else: ok
their deliveries recorded with an apns_id: ok
second start: exit 0, schema unchanged, nothing more sent: ok
{"push_type":"background","priority":null,"collapse_id":"c1"}
enqueue(): priority must be 10 (immediately) or 5 (power-saving), not 7
enqueue(): priority 10 is not allowed with push_type background (APNs requires 5)
enqueue(): unknown field 'colapse_id' (known: push_type, priority, expiration, collapse_id, topic)
enqueue(): expiration must be a unix time (int >= 0; 0: do not store), not -1
enqueue(): collapse_id must be a string of at most 64 bytes
enqueue(): topic must be a bundle id like com.example.app, not "com.example app"

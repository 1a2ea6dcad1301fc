--TEST--
Push worker on a PostgreSQL queue made by the worker before the HTTP/2 fields: migrated in place on start (columns added under the advisory lock, rows kept), the queued old rows go out over HTTP/2, the ended ones stay as they were
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

$pg = worker_pg_start();
$old = new PDO($pg['dsn'], $pg['user']);
// The schema of the worker before issue 17 (PgQueue), with a sent and a queued notification.
$old->exec(<<<'SQL'
    CREATE TABLE notifications (id BIGSERIAL PRIMARY KEY, payload JSON NOT NULL, created_at BIGINT NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'claimed', 'sent', 'failed')),
        claimed_by TEXT, claimed_at BIGINT, sent_at BIGINT, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
    CREATE INDEX notifications_queued ON notifications (id) WHERE state = 'queued';
    CREATE TABLE device_tokens (id BIGSERIAL PRIMARY KEY, token TEXT NOT NULL UNIQUE, active SMALLINT NOT NULL DEFAULT 1,
        deactivated_reason TEXT, deactivated_at BIGINT, registered_at BIGINT);
    CREATE TABLE token_groups (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE token_group_members (group_id BIGINT NOT NULL REFERENCES token_groups (id) ON DELETE CASCADE,
        token_id BIGINT NOT NULL REFERENCES device_tokens (id) ON DELETE CASCADE, PRIMARY KEY (group_id, token_id));
    CREATE TABLE notification_targets (notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
        token_id BIGINT REFERENCES device_tokens (id) ON DELETE CASCADE, group_id BIGINT REFERENCES token_groups (id) ON DELETE CASCADE,
        CHECK ((token_id IS NULL) <> (group_id IS NULL)));
    CREATE TABLE deliveries (notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE, token TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'failed')), apns_status INTEGER, reason TEXT, sent_at BIGINT NOT NULL,
        PRIMARY KEY (notification_id, token));
    SQL);
$old->prepare('INSERT INTO device_tokens (token, registered_at) VALUES (?, 1), (?, 1)')->execute([apns_token(1), apns_token(2)]);
$old->exec(<<<'SQL'
    INSERT INTO notifications (payload, created_at, state) VALUES ('{"aps":{"alert":"old sent"},"n":1}', 1, 'sent'),
        ('{"aps":{"alert":"old queued"},"n":2}', 1, 'queued');
    INSERT INTO notification_targets (notification_id, token_id) VALUES (1, 1), (2, 1), (2, 2);
    SQL);
$old->prepare("INSERT INTO deliveries VALUES (1, ?, 'accepted', NULL, NULL, 1)")->execute([apns_token(1)]);

$sb = apns_sandbox_start();
$dir = apns_temp_dir('worker-migrate-pg');
putenv('APNS_DB_USER=' . $pg['user']);
$code = worker_wait(worker_start(array_merge(worker_http2_args($sb), ['--db', $pg['dsn'], '--once']), "$dir/out.txt"), 60);
apns_check('exit code 0', $code === 0, (string) file_get_contents("$dir/out.txt"));

$columns = fn(string $table) => implode(', ', $old->query("SELECT column_name FROM information_schema.columns
    WHERE table_name = '$table' ORDER BY ordinal_position")->fetchAll(PDO::FETCH_COLUMN));
echo 'notifications: ', $columns('notifications'), "\n";
echo 'deliveries: ', $columns('deliveries'), "\n";
echo json_encode($old->query('SELECT id, state, push_type, topic FROM notifications ORDER BY id')->fetchAll(PDO::FETCH_ASSOC)), "\n";
echo json_encode($old->query('SELECT notification_id, status, apns_id IS NOT NULL AS has_apns_id FROM deliveries
    ORDER BY notification_id, token')->fetchAll(PDO::FETCH_ASSOC)), "\n";
echo implode("\n", array_map(fn($r) => "{$r['payload']} {$r['push_type']} {$r['priority']} {$r['topic']}", apns_log($sb))), "\n";
?>
--EXPECTF--
exit code 0: ok
notifications: id, payload, created_at, state, claimed_by, claimed_at, sent_at, attempts, last_error, push_type, priority, expiration, collapse_id, topic, retry_at
deliveries: notification_id, token, status, apns_status, reason, sent_at, apns_id
[{"id":1,"state":"sent","push_type":null,"topic":null},{"id":2,"state":"sent","push_type":null,"topic":null}]
[{"notification_id":1,"status":"accepted","has_apns_id":false},{"notification_id":2,"status":"accepted","has_apns_id":true},{"notification_id":2,"status":"accepted","has_apns_id":true}]
{"aps":{"alert":"old queued"},"n":2} alert 10 com.example.app
{"aps":{"alert":"old queued"},"n":2} alert 10 com.example.app

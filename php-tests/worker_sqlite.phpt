--TEST--
Push worker, SQLite end to end against the sandbox with invalid tokens, feedback entries, shutdowns and drops: every notification ends sent or failed with its reason, nothing missing, no duplicates without drops
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

function scenario(string $label, array $faults, bool $duplicatesAllowed): void
{
    echo "== $label\n";
    $invalid = [apns_token(7), apns_token(77), apns_token(150)];
    $feedback = [apns_token(20), apns_token(21)];
    $dir = apns_temp_dir('worker');
    file_put_contents("$dir/feedback.txt", implode('', array_map(fn($t) => (time() + 60) . " $t\n", $feedback)));
    $sb = apns_sandbox_start(array_merge(['--invalid-tokens', apns_invalid_tokens_file($invalid),
        '--feedback', "$dir/feedback.txt"], $faults));

    $queue = Queue::open("sqlite:$dir/queue.sqlite");
    $pdo = $queue->pdo();
    worker_seed($queue, 600, 200, $invalid);
    $bigPayload = $queue->enqueue(['aps' => ['alert' => str_repeat('x', 3000)]], [1]);
    $noTargets = $queue->enqueue(['aps' => ['alert' => 'to nobody']]);
    $expected = worker_expected_targets($pdo);

    $lines = [];
    $worker = new Worker(
        $queue,
        fn() => new ApnsConnection($sb['binary'], apns_options($sb)),
        fn() => ApnsConnection::feedback($sb['feedback'], apns_options($sb)),
        function (string $level, string $message) use (&$lines) { $lines[] = "$level $message"; },
        ['batch' => 100, 'once' => true, 'worker' => 'test'],
    );
    $t = microtime(true);
    $totals = $worker->run();
    $seconds = microtime(true) - $t;

    // Every notification ended, failed ones with a reason.
    $states = $pdo->query('SELECT state, COUNT(*) FROM notifications GROUP BY state')->fetchAll(PDO::FETCH_KEY_PAIR);
    apns_check('every notification ended sent or failed', array_keys($states) == ['failed', 'sent'] || array_keys($states) == ['sent', 'failed'], json_encode($states));
    $reasons = [];
    foreach ($pdo->query("SELECT id, last_error FROM notifications WHERE state = 'failed'") as $r) {
        $kind = preg_replace('/[:(].*$/s', '', (string) $r['last_error']);
        $reasons[trim($kind)][] = (int) $r['id'];
    }
    $big = $pdo->query("SELECT state, last_error FROM notifications WHERE id = $bigPayload")->fetch();
    apns_check('payload over the limit: failed, reason names the size', $big['state'] === 'failed'
        && str_starts_with($big['last_error'], 'invalid payload:') && str_contains($big['last_error'], '2048'), json_encode($big));
    $none = $pdo->query("SELECT state, last_error FROM notifications WHERE id = $noTargets")->fetch();
    apns_check('no targets: failed, no active device token', $none == ['state' => 'failed', 'last_error' => 'no active device token'], json_encode($none));
    apns_check('the 3 notifications to one invalid token each: failed, every token rejected',
        array_intersect([1, 2, 3], $reasons['every token rejected'] ?? []) === [1, 2, 3], json_encode($reasons));
    apns_check('failure reasons are only these kinds', array_diff(array_keys($reasons),
        ['invalid payload', 'no active device token', 'every token rejected']) === [], implode(', ', array_keys($reasons)));

    // Deliveries against the gateway's log.
    $log = worker_log_pairs($sb);
    $deliveries = worker_delivery_pairs($pdo);
    $dead = array_merge($invalid, $feedback);
    $missing = $unrecorded = $notLogged = 0;
    foreach ($expected as $n => $tokens) {
        foreach ($tokens as $token) {
            if ($n === $bigPayload || in_array($token, $dead, true)) {
                continue;
            }
            $missing += isset($log["$n $token"]) ? 0 : 1;
            $unrecorded += ($deliveries["$n $token"] ?? null) === 'accepted' ? 0 : 1;
        }
    }
    foreach ($deliveries as $pair => $status) {
        if ($status === 'accepted' && !isset($log[$pair])) {
            $notLogged++;
        }
    }
    $duplicates = array_sum($log) - count($log);
    $deadLogged = count(array_filter(array_keys($log), fn($p) => in_array(substr($p, strpos($p, ' ') + 1), $dead, true)));
    apns_check('nothing missing: every (notification, valid token) pair is in the gateway log', $missing === 0, "$missing missing");
    apns_check('every pair recorded accepted', $unrecorded === 0, "$unrecorded not recorded");
    apns_check('nothing recorded accepted that the gateway did not accept', $notLogged === 0, "$notLogged");
    apns_check('no invalid or feedback token in the gateway log', $deadLogged === 0, "$deadLogged");
    if ($duplicatesAllowed) {
        // A silent drop leaves unknown what the gateway processed: the extension resends
        // what was not settled, at most the batch in flight (about 460 pairs here).
        apns_check('duplicates only from silent drops, bounded (< 50% of the pairs)', $duplicates < 0.5 * count($log), "$duplicates");
    } else {
        apns_check('no duplicates', $duplicates === 0, "$duplicates duplicates");
    }
    $failed = $pdo->query("SELECT token, apns_status, reason FROM deliveries WHERE status = 'failed'")->fetchAll();
    apns_check('rejected deliveries: only the invalid tokens, status 8, Invalid token', $failed !== [] && array_filter($failed,
        fn($f) => !in_array($f['token'], $invalid, true) || $f['apns_status'] !== 8 && $f['apns_status'] !== '8' || $f['reason'] !== 'Invalid token') === [],
        json_encode(array_slice($failed, 0, 3)));

    // Tokens deactivated, and only those.
    $inactive = $pdo->query('SELECT token, deactivated_reason FROM device_tokens WHERE active = 0 ORDER BY token')->fetchAll(PDO::FETCH_KEY_PAIR);
    $want = array_fill_keys($invalid, 'Invalid token') + array_fill_keys($feedback, 'feedback service');
    ksort($want);
    apns_check('invalid tokens deactivated (Invalid token), feedback tokens (feedback service), no other', $inactive === $want, json_encode($inactive));
    apns_check('worker totals agree', $totals['sent'] + $totals['failed'] === 602 && $totals['retried'] === 0, json_encode($totals));
    apns_check('memory in the last log line', (bool) preg_grep('/^info queue empty: .* memory [0-9.]+ MB/', $lines), end($lines));
    printf("figures: notifications=602 sent=%d failed=%d pairs=%d duplicates=%d resent=%d reconnects=%d seconds=%.1f\n",
        $states['sent'] ?? 0, $states['failed'] ?? 0, count($log), $duplicates,
        $totals['resent'], $totals['reconnects'], $seconds);
}

scenario('shutdowns (status 10 every 250)', ['--shutdown-every', '250'], false);
scenario('silent drops every 900 and shutdowns every 700', ['--drop-every', '900', '--shutdown-every', '700'], true);
?>
--EXPECTF--
== shutdowns (status 10 every 250)
every notification ended sent or failed: ok
payload over the limit: failed, reason names the size: ok
no targets: failed, no active device token: ok
the 3 notifications to one invalid token each: failed, every token rejected: ok
failure reasons are only these kinds: ok
nothing missing: every (notification, valid token) pair is in the gateway log: ok
every pair recorded accepted: ok
nothing recorded accepted that the gateway did not accept: ok
no invalid or feedback token in the gateway log: ok
no duplicates: ok
rejected deliveries: only the invalid tokens, status 8, Invalid token: ok
invalid tokens deactivated (Invalid token), feedback tokens (feedback service), no other: ok
worker totals agree: ok
memory in the last log line: ok
figures: notifications=602 sent=%d failed=%d pairs=%d duplicates=0 resent=%d reconnects=%d seconds=%f
== silent drops every 900 and shutdowns every 700
every notification ended sent or failed: ok
payload over the limit: failed, reason names the size: ok
no targets: failed, no active device token: ok
the 3 notifications to one invalid token each: failed, every token rejected: ok
failure reasons are only these kinds: ok
nothing missing: every (notification, valid token) pair is in the gateway log: ok
every pair recorded accepted: ok
nothing recorded accepted that the gateway did not accept: ok
no invalid or feedback token in the gateway log: ok
duplicates only from silent drops, bounded (< 50% of the pairs): ok
rejected deliveries: only the invalid tokens, status 8, Invalid token: ok
invalid tokens deactivated (Invalid token), feedback tokens (feedback service), no other: ok
worker totals agree: ok
memory in the last log line: ok
figures: notifications=602 sent=%d failed=%d pairs=%d duplicates=%d resent=%d reconnects=%d seconds=%f

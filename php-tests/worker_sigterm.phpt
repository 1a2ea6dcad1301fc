--TEST--
Push worker stopped by SIGTERM in the middle of a batch, over the binary protocol and over HTTP/2 with token auth: exit 0, no row left claimed, nothing marked sent that the gateway did not accept; a second run sends the rest, nothing lost, nothing twice
--EXTENSIONS--
pdo
pdo_sqlite
--SKIPIF--
<?php
if (!extension_loaded('apns')) die('skip apns not loaded');
if (!extension_loaded('pdo_sqlite')) die('skip pdo_sqlite not available (apt-get install php8.2-sqlite3, or scripts/deps-examples)');
if (!function_exists('pcntl_async_signals')) die('skip pcntl not available');
?>
--FILE--
<?php
require __DIR__ . '/apns.inc';
require __DIR__ . '/../examples/worker/tests-support.php';

use Apns\Worker\Queue;

function scenario(string $protocol): void
{
    echo "== $protocol\n";
    $invalid = [apns_token(5), apns_token(55)];
    // A slow gateway, so that a batch of 500 notifications (~2,300 to send) takes 2-3 s: the binary
    // one reads 100 kB/s; the HTTP/2 one answers after 5 ms, at most 5 streams at once.
    $slow = $protocol === 'binary' ? ['--slow-read', '100000'] : ['--max-streams', '5', '--h2-delay-ms', '5'];
    $sb = apns_sandbox_start(array_merge(['--invalid-tokens', apns_invalid_tokens_file($invalid)], $slow));
    $dir = apns_temp_dir('worker-sigterm');
    $db = "sqlite:$dir/queue.sqlite";
    $queue = Queue::open($db);
    $pdo = $queue->pdo();
    worker_seed($queue, 3000, 300, $invalid);
    $expected = worker_expected_targets($pdo);
    $args = array_merge($protocol === 'binary' ? worker_sandbox_args($sb) : worker_http2_args($sb),
        ['--db', $db, '--once', '--batch', '500', '--stats-interval', '1']);

    // Run 1: SIGTERM once the gateway has logged part of the first batch.
    $proc = worker_start($args, "$dir/run1.txt");
    $deadline = microtime(true) + 20;
    do {
        usleep(50000);
        clearstatcache();
        $lines = is_file($sb['log']) ? count(file($sb['log'])) : 0;
    } while ($lines < 300 && microtime(true) < $deadline);
    $midBatch = $pdo->query("SELECT COUNT(*) FROM notifications WHERE state = 'claimed'")->fetchColumn() > 0;
    proc_terminate($proc, 15);
    $t = microtime(true);
    $code = worker_wait($proc, 30);
    $output = (string) file_get_contents("$dir/run1.txt");
    apns_check('SIGTERM arrived while a batch was claimed and in flight', $midBatch && $lines >= 300, "log lines $lines");
    apns_check('exit code 0', $code === 0, "exit $code: $output");
    apns_check('the worker said it stops after the batch in flight', str_contains($output, 'SIGTERM: stopping after the batch in flight'), $output);
    apns_check('it logged its summary with memory', (bool) preg_match('/stopped: .* memory [0-9.]+ MB/', $output), $output);

    $states = $pdo->query('SELECT state, COUNT(*) FROM notifications GROUP BY state')->fetchAll(PDO::FETCH_KEY_PAIR);
    apns_check('no row left claimed', !isset($states['claimed']), json_encode($states));
    apns_check('part sent, the rest queued', ($states['sent'] ?? 0) > 0 && ($states['queued'] ?? 0) > 0, json_encode($states));
    $log = worker_log_pairs($sb);
    $notLogged = 0;
    foreach (worker_delivery_pairs($pdo) as $pair => $status) {
        $notLogged += $status === 'accepted' && !isset($log[$pair]) ? 1 : 0;
    }
    apns_check('nothing recorded accepted that is not in the gateway log', $notLogged === 0, "$notLogged");
    $sentIncomplete = 0;
    foreach ($pdo->query("SELECT id FROM notifications WHERE state = 'sent'")->fetchAll(PDO::FETCH_COLUMN) as $n) {
        foreach ($expected[(int) $n] as $token) {
            $sentIncomplete += !in_array($token, $invalid, true) && !isset($log["$n $token"]) ? 1 : 0;
        }
    }
    apns_check('every notification marked sent is in the gateway log for each of its tokens', $sentIncomplete === 0, "$sentIncomplete");
    printf("run 1: stopped %.1f s after SIGTERM; sent=%d queued=%d failed=%d\n", microtime(true) - $t,
        $states['sent'] ?? 0, $states['queued'] ?? 0, $states['failed'] ?? 0);

    // Run 2 sends the rest.
    $code = worker_wait(worker_start($args, "$dir/run2.txt"), 60);
    apns_check('second run: exit code 0', $code === 0, "exit $code: " . file_get_contents("$dir/run2.txt"));
    $states = $pdo->query('SELECT state, COUNT(*) FROM notifications GROUP BY state')->fetchAll(PDO::FETCH_KEY_PAIR);
    apns_check('every notification ended sent or failed', !isset($states['queued']) && !isset($states['claimed']), json_encode($states));
    $log = worker_log_pairs($sb);
    $missing = 0;
    foreach ($expected as $n => $tokens) {
        foreach ($tokens as $token) {
            $missing += !in_array($token, $invalid, true) && !isset($log["$n $token"]) ? 1 : 0;
        }
    }
    apns_check('nothing lost: every (notification, valid token) pair in the gateway log', $missing === 0, "$missing missing");
    apns_check('nothing sent twice', array_sum($log) === count($log), (array_sum($log) - count($log)) . ' duplicates');
    $inactive = $pdo->query('SELECT token FROM device_tokens WHERE active = 0 ORDER BY token')->fetchAll(PDO::FETCH_COLUMN);
    sort($invalid);
    apns_check('the invalid tokens were deactivated', $inactive === $invalid, json_encode($inactive));
    printf("run 2: sent=%d failed=%d; gateway log %d pairs\n", $states['sent'] ?? 0, $states['failed'] ?? 0, count($log));
}

scenario('binary');
scenario('http2');
?>
--EXPECTF--
== binary
SIGTERM arrived while a batch was claimed and in flight: ok
exit code 0: ok
the worker said it stops after the batch in flight: ok
it logged its summary with memory: ok
no row left claimed: ok
part sent, the rest queued: ok
nothing recorded accepted that is not in the gateway log: ok
every notification marked sent is in the gateway log for each of its tokens: ok
run 1: stopped %f s after SIGTERM; sent=%d queued=%d failed=%d
second run: exit code 0: ok
every notification ended sent or failed: ok
nothing lost: every (notification, valid token) pair in the gateway log: ok
nothing sent twice: ok
the invalid tokens were deactivated: ok
run 2: sent=%d failed=%d; gateway log %d pairs
== http2
SIGTERM arrived while a batch was claimed and in flight: ok
exit code 0: ok
the worker said it stops after the batch in flight: ok
it logged its summary with memory: ok
no row left claimed: ok
part sent, the rest queued: ok
nothing recorded accepted that is not in the gateway log: ok
every notification marked sent is in the gateway log for each of its tokens: ok
run 1: stopped %f s after SIGTERM; sent=%d queued=%d failed=%d
second run: exit code 0: ok
every notification ended sent or failed: ok
nothing lost: every (notification, valid token) pair in the gateway log: ok
nothing sent twice: ok
the invalid tokens were deactivated: ok
run 2: sent=%d failed=%d; gateway log %d pairs

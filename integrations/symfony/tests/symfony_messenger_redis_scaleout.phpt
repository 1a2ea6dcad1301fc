--TEST--
Symfony Messenger scale-out on a real broker: 10,000 SendPush messages on the Redis transport (a redis-server started here), two messenger:consume workers with SendPushHandler, one SIGKILLed mid-run: nothing lost, duplicates only among what the killed worker had in flight (counted and reported)
--EXTENSIONS--
ctype
mbstring
intl
igbinary
redis
pcntl
posix
--SKIPIF--
<?php
require __DIR__ . '/symfony.inc';
if (!extension_loaded('apns')) die('skip apns not loaded');
if ($reason = symfony_load('Messenger', 'Redis', 'EventDispatcher', 'Console')) die("skip $reason");
if (!property_exists(Symfony\Component\Messenger\Bridge\Redis\Transport\Connection::class, 'inflightIds')) {
    die('skip needs the Redis transport of Symfony 6.4 (Debian 13): the installed ' . symfony_version()
        . ' hands a consumer its own unacknowledged messages again after claiming an abandoned one, which a batch handler holding messages cannot survive');
}
if (!extension_loaded('redis')) die('skip the redis extension is not available (Debian: apt-get install php-redis)');
if (!is_executable('/usr/bin/redis-server')) die('skip redis-server not installed (Debian: apt-get install redis-server)');
?>
--FILE--
<?php
require __DIR__ . '/symfony.inc';
symfony_load('Messenger', 'Redis', 'EventDispatcher', 'Console');
require __DIR__ . '/messenger.inc';

use Apns\Symfony\Messenger\SendPush;
use Symfony\Component\Messenger\Bridge\Redis\Transport\RedisTransportFactory;
use Symfony\Component\Messenger\Envelope;
use Symfony\Component\Messenger\Transport\Serialization\PhpSerializer;

const MESSAGES = 10000;
$deadline = microtime(true) + 240;   // the whole test, whatever happens

// A throwaway redis-server on a free port, no persistence.
$dir = apns_temp_dir('redis');
$port = apns_free_port();
$redisProc = proc_open(['/usr/bin/redis-server', '--port', (string) $port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', $dir], [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$dir/redis.log", 'w'], 2 => ['file', "$dir/redis.log", 'a']], $pipes);
register_shutdown_function(function () use ($redisProc) {
    proc_terminate($redisProc, 9);
    proc_close($redisProc);
});
$redis = new Redis();
for ($i = 0; ; $i++) {
    try {
        if (@$redis->connect('127.0.0.1', $port, 1.0) && $redis->ping()) {
            break;
        }
    } catch (RedisException $e) {
    }
    if ($i > 100) {
        die('redis-server did not start: ' . file_get_contents("$dir/redis.log"));
    }
    usleep(50000);
}

$sb = apns_sandbox_start();
$apnsDsn = sprintf('apns://ABC123DEFG:DEF123GHIJ@127.0.0.1:%d?topic=com.example.app&auth_key=%s&cafile=%s&timeout=5',
    apns_port($sb['http2']), urlencode($sb['certs'] . '/auth-key.p8'), urlencode($sb['certs'] . '/ca.pem'));
// redeliver_timeout (s): how long a message may stay unacknowledged before another
// consumer claims it; claim_interval (ms): how often a consumer looks for such messages.
$redisDsn = fn(string $consumer) => "redis://127.0.0.1:$port/apns?group=workers&consumer=$consumer&redeliver_timeout=3&claim_interval=50";

// 10,000 messages, one token each.
$producer = (new RedisTransportFactory())->createTransport($redisDsn('producer'), [], new PhpSerializer());
for ($n = 1; $n <= MESSAGES; $n++) {
    $producer->send(new Envelope(new SendPush([apns_token($n)], ['aps' => ['alert' => "message $n"], 'n' => $n])));
}
echo 'stream length: ', $redis->xLen('apns'), "\n";

$workers = [];
foreach (['w1', 'w2'] as $name) {
    $command = [...php_child_command(['ctype', 'mbstring', 'intl', 'igbinary', 'redis', 'pcntl', 'posix']), __DIR__ . '/fixtures/messenger-worker.php',
        'messenger:consume', 'apns', '--time-limit=200', '--sleep=0.05'];
    $env = ['REDIS_DSN' => $redisDsn($name), 'APNS_DSN' => $apnsDsn, 'BATCH_SIZE' => '50', 'PATH' => getenv('PATH')];
    $workers[$name] = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$dir/$name.out", 'w'], 2 => ['file', "$dir/$name.err", 'w']],
        $pipes, null, $env);
}

/** Times each message number appears in the sandbox's log. */
function delivered(array $sb): array
{
    $count = [];
    foreach (apns_log($sb) as $row) {
        $n = json_decode($row['payload'], true)['n'];
        $count[$n] = ($count[$n] ?? 0) + 1;
    }
    return $count;
}

// Kill w1 once about a third has gone out.
/** Stops the test when a worker that should run has exited: its output says why. */
function alive($proc, string $name, string $dir): void
{
    if (!proc_get_status($proc)['running']) {
        die("worker $name exited early:\n" . file_get_contents("$dir/$name.out") . file_get_contents("$dir/$name.err"));
    }
}

/** Lines in the sandbox's log right now (apns_log() waits for the file to settle). */
function rows_now(array $sb): int
{
    return is_file($sb['log']) ? substr_count((string) file_get_contents($sb['log']), "\n") : 0;
}

while (rows_now($sb) < MESSAGES / 3 && microtime(true) < $deadline) {
    alive($workers['w1'], 'w1', $dir);
    alive($workers['w2'], 'w2', $dir);
    usleep(5000);
}
proc_terminate($workers['w1'], 9);
$before = rows_now($sb);
// What w1 had in flight: delivered to it and never acknowledged (its pending entries).
$pending = $redis->xPending('apns', 'workers', '-', '+', MESSAGES, 'w1') ?: [];
$inFlight = [];
$serializer = new PhpSerializer();
foreach ($pending as [$id]) {
    foreach ($redis->xRange('apns', $id, $id) as $fields) {
        // 6.4's transport stores the field PHP-serialized (its redis serializer option), 5.4's as it is.
        $raw = $fields['message'];
        $encoded = json_decode($raw, true) ?? json_decode((string) @unserialize($raw), true);
        $inFlight[$serializer->decode(['body' => $encoded['body'], 'headers' => $encoded['headers'] ?? []])->getMessage()->getPayload()['n']] = true;
    }
}
usleep(100000);
$w1 = proc_get_status($workers['w1']);
printf("w1 killed (signal %d) after about %d of %d notifications\n", $w1['termsig'] ?? 0, intdiv($before, 1000) * 1000, MESSAGES);

// Until everything is delivered and acknowledged: w2 claims w1's pending messages.
do {
    usleep(200000);
    alive($workers['w2'], 'w2', $dir);
    $count = delivered($sb);
    $summary = $redis->xPending('apns', 'workers');
} while ((count($count) < MESSAGES || ($summary[0] ?? 1) > 0) && microtime(true) < $deadline);

proc_terminate($workers['w2'], 15);
for ($i = 0; $i < 100 && proc_get_status($workers['w2'])['running']; $i++) {
    usleep(100000);
}
$w2out = (string) file_get_contents("$dir/w2.out");

$lost = array_diff(range(1, MESSAGES), array_keys($count));
$duplicates = array_filter($count, fn($c) => $c > 1);
$outside = array_diff_key($duplicates, $inFlight);
apns_check('nothing lost: every message delivered at least once', $lost === [], count($lost) . ' lost, first ' . implode(',', array_slice($lost, 0, 5)));
apns_check('w1 had messages in flight when killed', count($inFlight) > 0);
apns_check('duplicates only among what w1 had in flight', $outside === [], count($outside) . ' outside: ' . implode(',', array_slice(array_keys($outside), 0, 10)));
apns_check('the stream is fully acknowledged', ($redis->xPending('apns', 'workers')[0] ?? -1) === 0, json_encode($redis->xPending('apns', 'workers')));
apns_check('w2 stopped cleanly on SIGTERM', (bool) preg_match('/^handled (\d+)$/m', $w2out, $m), $w2out . file_get_contents("$dir/w2.err"));
printf("figures: %d messages, w1 killed with %d in flight, %d delivered twice (all among those), %d lost, w2 handled %d, %d rows in the gateway log\n",
    MESSAGES, count($inFlight), count($duplicates), count($lost), $m[1] ?? -1, array_sum($count));
?>
--EXPECTF--
stream length: 10000
w1 killed (signal 9) after about %d of 10000 notifications
nothing lost: every message delivered at least once: ok
w1 had messages in flight when killed: ok
duplicates only among what w1 had in flight: ok
the stream is fully acknowledged: ok
w2 stopped cleanly on SIGTERM: ok
figures: 10000 messages, w1 killed with %d in flight, %d delivered twice (all among those), 0 lost, w2 handled %d, %d rows in the gateway log

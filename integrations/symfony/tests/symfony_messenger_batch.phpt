--TEST--
Symfony Messenger: SendPushHandler as a batch handler in a real Messenger Worker: batches through one HTTP/2 connection, acknowledged once settled, TokenRejected per refused token, an oversized payload rejected without retry, and while APNs is down the messages retried by Messenger until it is back, nothing lost or sent twice
--EXTENSIONS--
ctype
--SKIPIF--
<?php
require __DIR__ . '/symfony.inc';
if (!extension_loaded('apns')) die('skip apns not loaded');
if ($reason = symfony_load('Messenger', 'EventDispatcher')) die("skip $reason");
if (!interface_exists(Symfony\Component\Messenger\Handler\BatchHandlerInterface::class)) die('skip Messenger batch handlers need Symfony 5.4 or later (installed: ' . symfony_version() . ')');
?>
--FILE--
<?php
require __DIR__ . '/symfony.inc';
symfony_load('Messenger', 'EventDispatcher');
require __DIR__ . '/messenger.inc';

use Apns\Symfony\ApnsDsn;
use Apns\Symfony\Messenger\SendPush;
use Symfony\Component\Messenger\Envelope;

function dsn(array $sb, int $port): ApnsDsn
{
    return ApnsDsn::fromString(sprintf('apns://ABC123DEFG:DEF123GHIJ@127.0.0.1:%d?topic=com.example.app&auth_key=%s&cafile=%s&timeout=2&persistent=0',
        $port, urlencode($sb['certs'] . '/auth-key.p8'), urlencode($sb['certs'] . '/ca.pem')));
}

/** [n, token] => times in the log */
function pairs(array $rows): array
{
    $pairs = [];
    foreach ($rows as $row) {
        $key = json_decode($row['payload'], true)['n'] . ' ' . $row['token'];
        $pairs[$key] = ($pairs[$key] ?? 0) + 1;
    }
    return $pairs;
}

// 1. 40 messages of 5 tokens (every 5th message's last token refused), one with a
// malformed token, one with an oversized payload; batches of 10.
$invalid = [];
$expected = [];
$transport = new TestQueueTransport();
for ($n = 1; $n <= 40; $n++) {
    $tokens = [];
    for ($k = 0; $k < 5; $k++) {
        $tokens[] = $t = apns_token($n * 10 + $k);
        if ($n % 5 === 0 && $k === 4) {
            $invalid[] = $t;
        } else {
            $expected["$n $t"] = 1;
        }
    }
    $transport->send(new Envelope(new SendPush($tokens, ['aps' => ['alert' => "message $n"], 'n' => $n])));
}
$transport->send(new Envelope(new SendPush(['xyz', $t = apns_token(1000)], ['aps' => ['alert' => 'malformed'], 'n' => 41])));
$expected["41 $t"] = 1;
$transport->send(new Envelope(new SendPush([apns_token(1001)], ['aps' => ['alert' => str_repeat('x', 5000)], 'n' => 42])));

$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($invalid)]);
$wiring = messenger_wiring(['apns' => $transport], [dsn($sb, apns_port($sb['http2'])), 'connect'], 10);
$failures = messenger_run_until_idle($wiring, ['apns' => $transport]);
$rows = apns_log($sb);
$pairs = pairs($rows);
printf("acknowledged %d, rejected %d (%s), in flight %d, retries sent %d, failures %d\n", count($transport->acked), count($transport->rejected),
    implode(',', array_map(fn($m) => json_decode(json_encode($m->getPayload()), true)['n'], $transport->rejected)), $transport->inFlight, $transport->sent - 42, $failures);
apns_check('every (message, valid token) on the wire exactly once', array_diff_key($expected, $pairs) === [] && array_sum($pairs) === count($expected)
    && count($pairs) === count($expected), sprintf('%d expected, %d pairs, %d rows', count($expected), count($pairs), array_sum($pairs)));
apns_check('one connection, pipelined', count(array_unique(array_column($rows, 'conn'))) === 1 && max(array_column($rows, 'concurrent')) > 1,
    'conns ' . json_encode(array_unique(array_column($rows, 'conn'))) . ' max concurrent ' . max(array_column($rows, 'concurrent')));
$rejectedTokens = array_map(fn($e) => $e->token, $wiring['rejected']->getArrayCopy());
echo count($rejectedTokens), " TokenRejected events\n";
apns_check('TokenRejected: the 8 refused tokens and the malformed one', array_diff([...$invalid, 'xyz'], $rejectedTokens) === []
    && count($rejectedTokens) === 9);
foreach ($wiring['rejected'] as $e) {
    if ($e->token === $invalid[0] || $e->token === 'xyz') {
        printf("  %s: %d %s (message %d)\n", $e->token === 'xyz' ? 'xyz' : 'refused', $e->status, $e->reason, $e->message->getPayload()['n']);
    }
}

// 2. APNs down: the handler cannot connect; Messenger retries (here without delay) and
// the worker is stopped after the first 5 failures, then APNs comes back on the same port.
$port = apns_free_port();
$down = new TestQueueTransport();
$wanted = [];
for ($n = 101; $n <= 105; $n++) {
    $down->send(new Envelope(new SendPush([$a = apns_token($n * 10), $b = apns_token($n * 10 + 1)], ['aps' => ['alert' => "retry $n"], 'n' => $n])));
    $wanted["$n $a"] = $wanted["$n $b"] = 1;
}
$wiring = messenger_wiring(['apns' => $down], [dsn($sb, $port), 'connect'], 10, retries: 3);
$failures = messenger_run_until_idle($wiring, ['apns' => $down], stopAfterFailures: 5);
// Symfony 5.4 rejects the failed original once its retry copy is queued, 6.4 acknowledges it: either way it leaves the queue.
printf("APNs down: %d failures, originals off the queue %d, queued again for retry %d, sent %d\n", $failures,
    count($down->rejected) + count($down->acked), count($down->ready), count(apns_log($sb)) - count($rows));
$offBefore = count($down->acked);
$retried = $down->ready[0] ?? null;
$envelope = $retried ? (new Symfony\Component\Messenger\Transport\Serialization\PhpSerializer())->decode($retried) : null;
printf("retried message: %d token(s), redelivery stamp: %s\n", $envelope ? count($envelope->getMessage()->getTokens()) : -1,
    $envelope && $envelope->last(Symfony\Component\Messenger\Stamp\RedeliveryStamp::class) ? 'yes' : 'no');

$back = apns_sandbox_start(['--http2-port', $port]);
$failures = messenger_run_until_idle($wiring, ['apns' => $down]);
$pairs = pairs(apns_log($back));
printf("APNs back: acknowledged %d, failures %d, left %d\n", count($down->acked) - $offBefore, $failures, count($down->ready) + $down->inFlight);
apns_check('every token of the retried messages delivered exactly once', $pairs == $wanted, json_encode($pairs));

// 3. APNs goes away in the middle of a message: 200 tokens, one stream at a time, 20 ms
// each, and the gateway stopped after about a second. The message handed back to
// Messenger holds only the tokens not delivered; the retry delivers those.
$port = apns_free_port();
$first = apns_sandbox_start(['--http2-port', $port, '--max-streams', 1, '--h2-delay-ms', 20]);
$queue = new TestQueueTransport();
$tokens = array_map(fn($i) => apns_token(5000 + $i), range(1, 200));
$queue->send(new Envelope(new SendPush($tokens, ['aps' => ['alert' => 'partial'], 'n' => 200])));
$wiring = messenger_wiring(['apns' => $queue], [dsn($first, $port), 'connect'], 10, retries: 3);
exec(sprintf('(sleep 1; kill -TERM %d) > /dev/null 2>&1 &', proc_get_status($first['proc'])['pid']));
$failures = messenger_run_until_idle($wiring, ['apns' => $queue], stopAfterFailures: 1);
$firstRun = array_column(apns_log($first), 'token');
$retry = $queue->ready ? (new Symfony\Component\Messenger\Transport\Serialization\PhpSerializer())->decode($queue->ready[0])->getMessage()->getTokens() : [];
printf("partial: delivered before the outage: %s, retried message holds the rest: %s, overlap %d\n",
    count($firstRun) > 0 && count($firstRun) < 200 ? 'some' : count($firstRun), count($retry) === 200 - count($firstRun) + count(array_intersect($retry, $firstRun)) ? 'yes' : 'no (' . count($retry) . ')',
    count(array_intersect($retry, $firstRun)));
$second = apns_sandbox_start(['--http2-port', $port]);
messenger_run_until_idle($wiring, ['apns' => $queue]);
$all = array_merge($firstRun, array_column(apns_log($second), 'token'));
apns_check('after the retry every token delivered, duplicates only among the one in flight at the outage', array_diff($tokens, $all) === []
    && count($all) - count(array_unique($all)) <= 1, sprintf('%d missing, %d duplicates', count(array_diff($tokens, $all)), count($all) - count(array_unique($all))));
?>
--EXPECTF--
acknowledged 41, rejected 1 (42), in flight 0, retries sent 0, failures 1
every (message, valid token) on the wire exactly once: ok
one connection, pipelined: ok
9 TokenRejected events
TokenRejected: the 8 refused tokens and the malformed one: ok
  refused: 400 BadDeviceToken (message 5)
  xyz: 400 BadDeviceToken (device token is not hex: %s) (message 41)
APNs down: 5 failures, originals off the queue 5, queued again for retry 5, sent 0
retried message: 2 token(s), redelivery stamp: yes
APNs back: acknowledged 5, failures 0, left 0
every token of the retried messages delivered exactly once: ok
partial: delivered before the outage: some, retried message holds the rest: yes, overlap %d
after the retry every token delivered, duplicates only among the one in flight at the outage: ok

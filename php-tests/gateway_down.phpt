--TEST--
Gateway down: connecting to a closed port, and a gateway killed mid-batch, give clear ApnsExceptions; nothing is claimed sent that the gateway did not log
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$sb = apns_sandbox_start();
$where = apns_hostport($sb['binary']);

// Nothing listening: the constructor says so, naming host and port, within the timeout.
$port = apns_free_port();
$start = microtime(true);
apns_expect_exception('constructor, nothing listening', fn() => new ApnsConnection("ssl://127.0.0.1:$port", apns_options($sb, ['timeout' => 2])),
    ["127.0.0.1:$port"]);
apns_check('within the timeout', microtime(true) - $start < 3);

// A gateway that dies in the middle of a batch.
$c = new ApnsConnection($sb['binary'], apns_options($sb, ['timeout' => 2]));
for ($i = 1; $i <= 300; $i++) {
    $c->send(apns_token($i), ['aps' => ['alert' => "n$i"]]);
}
echo "first flush: ", json_encode($c->flush()), "\n";
for ($i = 301; $i <= 600; $i++) {
    $c->send(apns_token($i), ['aps' => ['alert' => "n$i"]]);
}
$accepted = apns_sandbox_stop($sb);     // SIGTERM: the sandbox flushes its log and exits
echo "sandbox stopped\n";

$message = null;
try {
    for ($i = 601; $i <= 700; $i++) {
        $c->send(apns_token($i), ['aps' => ['alert' => "n$i"]]);
    }
    $c->flush();
} catch (ApnsException $e) {
    $message = $e->getMessage();
} catch (Throwable $e) {
    $message = get_class($e) . ': ' . $e->getMessage();
}
apns_check('send()/flush() threw an ApnsException naming the gateway', $message !== null && str_contains($message, $where)
    && !str_starts_with($message, 'Error'), (string) $message);
var_dump($c->isConnected());
try {
    $c->close();
    echo "close(): returned\n";
} catch (ApnsException $e) {
    echo "close(): ApnsException\n";
}

$stats = $c->stats();
$failures = $c->failures();
$rows = apns_log($sb);
$sentTokens = array_flip(array_map('apns_token', range(1, 700)));
$logged = array_count_values(array_column($rows, 'token'));
apns_check('the log holds only tokens we sent', array_diff_key($logged, $sentTokens) === []);
apns_check('the 300 flushed before the crash are logged once each',
    count(array_filter(range(1, 300), fn($i) => ($logged[apns_token($i)] ?? 0) === 1)) === 300);
apns_check('the sandbox\'s own count matches its log', $accepted === null || $accepted === count($rows), "accepted=$accepted rows=" . count($rows));
apns_check('stats sent counts each notification once (<= 700)', $stats['sent'] <= 700 && $stats['sent'] >= 600, "sent={$stats['sent']}");
apns_check('not more logged than sent', count($logged) <= $stats['sent']);
apns_check('failures are notifications we sent', array_diff(array_column($failures, 'token'), array_keys($sentTokens)) === []);
// What the connection does not list as failed, it claims delivered: that must be in the log.
$failedSet = array_flip(array_column($failures, 'token'));
$claimedNotLogged = 0;
for ($i = 1; $i <= $stats['sent']; $i++) {
    $t = apns_token($i);
    $claimedNotLogged += !isset($failedSet[$t]) && !isset($logged[$t]);
}
apns_check('every notification not in failures() is in the log', $claimedNotLogged === 0, "$claimedNotLogged missing");
$undelivered = array_filter($failures, fn($f) => $f['status'] !== 255);
apns_check('the undelivered are listed with status 255 (STATUS_UNKNOWN)', $undelivered === [], json_encode(array_slice($undelivered, 0, 2)));
printf("logged=%d sent=%d failures=%d resent=%d\n", count($logged), $stats['sent'], count($failures), $stats['resent']);
?>
--EXPECTF--
constructor, nothing listening: ApnsException
within the timeout: ok
first flush: []
sandbox stopped
send()/flush() threw an ApnsException naming the gateway: ok
bool(false)
close(): %s
the log holds only tokens we sent: ok
the 300 flushed before the crash are logged once each: ok
the sandbox's own count matches its log: ok
stats sent counts each notification once (<= 700): ok
not more logged than sent: ok
failures are notifications we sent: ok
every notification not in failures() is in the log: ok
the undelivered are listed with status 255 (STATUS_UNKNOWN): ok
logged=%d sent=%d failures=%d resent=%d

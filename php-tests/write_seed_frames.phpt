--TEST--
write(): frames packed by the seeds' own pack() chains (commands 1 and 0) and by ApnsConnection::pack() are sent; bad frames throw and write nothing
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$payload = json_encode(['aps' => ['alert' => 'apns test~', 'sound' => 'default', 'badge' => 1]]);
$expiry = 1900000000;
$spaced = fn(int $i) => implode(' ', str_split(apns_token($i), 8)); // tokens as the seeds' databases hold them

// The CodeIgniter seed's enhanced frame (command 1), verbatim.
$enhanced = fn(int $i, string $devicetoken) => pack("C", 1) . pack("N", $i) . pack("N", $expiry) . pack("n", 32)
    . pack('H*', str_replace(' ', '', $devicetoken)) . pack("n", strlen($payload)) . $payload;
// The Symfony seed's simple frame (command 0), verbatim.
$simple = fn(string $paramToken) => chr(0) . chr(0) . chr(32) . pack('H*', str_replace(' ', '', $paramToken))
    . chr(0) . chr(strlen($payload)) . $payload;
// Command 2, item by item as Apple documented it (items 1 to 5 in order).
$framed = function (string $token, int $id, int $priority) use ($payload, $expiry) {
    $items = pack('Cn', 1, 32) . hex2bin($token) . pack('Cn', 2, strlen($payload)) . $payload
        . pack('CnN', 3, 4, $id) . pack('CnN', 4, 4, $expiry) . pack('CnC', 5, 1, $priority);
    return pack('CN', 2, strlen($items)) . $items;
};

// pack() gives the seeds' bytes, byte for byte.
$t = apns_token(100);
apns_check('pack command 1 == seed chain', ApnsConnection::pack($t, $payload, ['command' => 1, 'identifier' => 9, 'expiry' => $expiry]) === $enhanced(9, $t));
apns_check('pack command 0 == seed chain', ApnsConnection::pack($t, $payload, ['command' => 0]) === $simple($t));
apns_check('pack command 2 == Apple layout', ApnsConnection::pack($t, $payload, ['identifier' => 9, 'expiry' => $expiry, 'priority' => 5]) === $framed($t, 9, 5));

$sb = apns_sandbox_start();
$c = new ApnsConnection($sb['binary'], apns_options($sb));

$f1 = $enhanced(1, $spaced(1));
$f2 = $simple($spaced(2));
$f3 = ApnsConnection::pack(apns_token(3), $payload, ['identifier' => 3, 'expiry' => $expiry]);
$batch = $enhanced(4, $spaced(4)) . $simple($spaced(5)) . $framed(apns_token(6), 6, 10);
foreach (['seed command 1' => $f1, 'seed command 0' => $f2, 'pack() command 2' => $f3, 'three frames in one write' => $batch] as $label => $frame) {
    $n = $c->write($frame);
    apns_check("write($label) returns the byte count", $n === strlen($frame), "$n vs " . strlen($frame));
}
echo "flush: ", json_encode($c->flush()), "\n";

$rows = apns_log($sb);
foreach ($rows as $row) {
    $i = array_search($row['token'], array_map('apns_token', range(0, 10)), true);
    printf("token #%s command=%d expiry=%d priority=%d payload %s\n", $i === false ? '?' : $i, $row['command'],
        $row['expiry'], $row['priority'], $row['payload'] === $payload ? 'same' : "DIFFERENT: {$row['payload']}");
}

// Bad input: nothing is written, the connection stays usable.
$half = substr($enhanced(7, apns_token(7)), 0, 20);
apns_expect_exception('half a frame', fn() => $c->write($half));
apns_expect_exception('garbage', fn() => $c->write("hello world\n"));
apns_expect_exception('command 2 with an absurd length', fn() => $c->write(pack('CN', 2, 1000000) . 'xxxx'));
apns_expect_exception('a whole frame followed by half a frame', fn() => $c->write($enhanced(8, apns_token(8)) . $half));
$c->flush();
echo "rows after the bad writes: ", count(apns_log($sb)), "\n";

$n = $c->write($enhanced(10, apns_token(10)));
echo "flush: ", json_encode($c->flush()), "\n";
$rows = apns_log($sb);
echo "rows: ", count($rows), ", last is #", array_search(end($rows)['token'], array_map('apns_token', range(0, 10)), true), "\n";
apns_check('token #8 (before the half frame) was not sent', !in_array(apns_token(8), array_column($rows, 'token'), true));
// Usable is not "connected": the gateway closed after answering flush()'s probe,
// as Apple's does, and the next write reconnects.
echo "stats sent=", $c->stats()['sent'], " connected=", var_export($c->isConnected(), true), "\n";
$c->close();
?>
--EXPECT--
pack command 1 == seed chain: ok
pack command 0 == seed chain: ok
pack command 2 == Apple layout: ok
write(seed command 1) returns the byte count: ok
write(seed command 0) returns the byte count: ok
write(pack() command 2) returns the byte count: ok
write(three frames in one write) returns the byte count: ok
flush: []
token #1 command=1 expiry=1900000000 priority=10 payload same
token #2 command=1 expiry=0 priority=10 payload same
token #3 command=2 expiry=1900000000 priority=10 payload same
token #4 command=1 expiry=1900000000 priority=10 payload same
token #5 command=1 expiry=0 priority=10 payload same
token #6 command=2 expiry=1900000000 priority=10 payload same
half a frame: ApnsException
garbage: ApnsException
command 2 with an absurd length: ApnsException
a whole frame followed by half a frame: ApnsException
rows after the bad writes: 6
flush: []
rows: 7, last is #10
token #8 (before the half frame) was not sent: ok
stats sent=7 connected=false

--TEST--
send(): commands 0, 1 and 2 reach the gateway with their token, payload, priority and expiry
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$sb = apns_sandbox_start();
$c = new ApnsConnection($sb['binary'], apns_options($sb));
var_dump($c->isConnected());

$payload = '{"aps":{"alert":"Hello","badge":1}}';
$ids = [
    $c->send(apns_token(1), $payload, ['command' => 0]),
    $c->send(apns_token(2), $payload, ['command' => 1, 'expiry' => 1900000000]),
    $c->send(apns_token(3), $payload, ['command' => 2, 'expiry' => 1900000001, 'priority' => 5, 'identifier' => 4242]),
];
apns_check('send() returns int identifiers', array_map('is_int', $ids) === [true, true, true]);
apns_check('default identifiers increase', $ids[1] > $ids[0], json_encode($ids));
apns_check('the identifier option is returned', $ids[2] === 4242, json_encode($ids));

echo "flush: ", json_encode($c->flush()), "\n";

// Command 0 has no identifier, so Apple could not report its errors: the engine
// sends it as command 1. The log shows what went on the wire.
foreach (apns_log($sb) as $row) {
    $token = array_search($row['token'], [1 => apns_token(1), apns_token(2), apns_token(3)], true);
    printf("conn=%d command=%d token=%s payload=%s expiry=%d priority=%d identifier=%d\n",
        $row['conn'], $row['command'], $token === false ? $row['token'] : "#$token",
        $row['payload'], $row['expiry'], $row['priority'], $row['identifier']);
}

// flush() settled the three with a probe; the gateway closed the connection
// after answering it (as Apple's does), and the next send would reconnect.
$stats = $c->stats();
printf("sent=%d resent=%d failed=%d reconnects=%d protocol=%s connected=%s\n", $stats['sent'], $stats['resent'],
    $stats['failed'], $stats['reconnects'], $stats['protocol'], var_export($stats['connected'], true));
apns_check('stats bytes counts what was written', is_int($stats['bytes']) && $stats['bytes'] > 3 * 32, (string) $stats['bytes']);
var_dump($c->isConnected());
$c->close();
var_dump($c->isConnected());
?>
--EXPECTF--
bool(true)
send() returns int identifiers: ok
default identifiers increase: ok
the identifier option is returned: ok
flush: []
conn=1 command=1 token=#1 payload={"aps":{"alert":"Hello","badge":1}} expiry=0 priority=10 identifier=%d
conn=1 command=1 token=#2 payload={"aps":{"alert":"Hello","badge":1}} expiry=1900000000 priority=10 identifier=%d
conn=1 command=2 token=#3 payload={"aps":{"alert":"Hello","badge":1}} expiry=1900000001 priority=5 identifier=%d
sent=3 resent=0 failed=0 reconnects=0 protocol=binary connected=false
stats bytes counts what was written: ok
bool(false)
bool(false)

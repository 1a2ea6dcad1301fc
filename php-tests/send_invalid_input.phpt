--TEST--
send(): invalid input throws ApnsException naming the problem, writes nothing, and the connection stays usable
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$sb = apns_sandbox_start();
$c = new ApnsConnection($sb['binary'], apns_options($sb));
$t = apns_token(1);
$p = '{"aps":{"alert":"Hi"}}';
$badHex = substr_replace($t, 'g', 9, 1);                    // the 10th character is a 'g'
$big = '{"aps":{"alert":"' . str_repeat('x', 2049 - 20) . '"}}';
echo "big payload: ", strlen($big), " bytes\n";

$cases = [
    'bad hex'              => [fn() => $c->send($badHex, $p), ['hex', ['character 10', 'position 10']]],
    '31-byte token'        => [fn() => $c->send(substr($t, 0, 62), $p), ['token', '32']],
    'empty token'          => [fn() => $c->send('', $p), ['token', 'empty']],
    'payload not JSON'     => [fn() => $c->send($t, '{"aps":'), ['payload', 'JSON']],
    'empty payload'        => [fn() => $c->send($t, ''), ['payload', 'empty']],
    '2049-byte payload'    => [fn() => $c->send($t, $big), ['payload', '2049', '2048']],
    'priority 7'           => [fn() => $c->send($t, $p, ['priority' => 7]), ['priority', '7']],
    'unknown send option'  => [fn() => $c->send($t, $p, ['colour' => 'red']), ['colour']],
    'negative expiry'      => [fn() => $c->send($t, $p, ['expiry' => -1]), ['expiry']],
    'command 3'            => [fn() => $c->send($t, $p, ['command' => 3]), ['command']],
    'identifier over u32'  => [fn() => $c->send($t, $p, ['identifier' => 4294967296]), ['identifier']],
];
foreach ($cases as $label => [$fn, $keywords]) {
    apns_expect_exception($label, $fn, $keywords);
}
$c->flush();
$rows = apns_log($sb);
echo "rows after invalid input: ", count($rows), "\n";
var_dump($c->isConnected());

$id = $c->send($t, $p);
echo "flush: ", json_encode($c->flush()), "\n";
$rows = apns_log($sb);
echo "rows: ", count($rows), "\n";
apns_check('the valid send is logged', end($rows)['token'] === $t);

// sendMany() does not abort a batch for one bad token from the database: the bad
// ones are failures of their own (with the reason), the others are sent.
$r = $c->sendMany(['zz', apns_token(2), substr(apns_token(3), 0, 62), ''], $p);
printf("sendMany: sent=%d failed=%d\n", $r['sent'], count($r['failed']));
foreach ($r['failed'] as $f) {
    printf("  token '%s' status=%d reason=%s\n", $f['token'] === substr(apns_token(3), 0, 62) ? '(62 digits)' : $f['token'],
        $f['status'], $f['reason']);
}
$rows = apns_log($sb);
apns_check('sendMany sent the valid one', count($rows) === 2 && end($rows)['token'] === apns_token(2), (string) count($rows));
// Invalid input never costs a connection: the one reconnect is the flush's
// (the gateway closes after answering its probe, as Apple's does).
$stats = $c->stats();
printf("sent=%d reconnects=%d\n", $stats['sent'], $stats['reconnects']);
$c->close();
?>
--EXPECTF--
big payload: 2049 bytes
bad hex: ApnsException
31-byte token: ApnsException
empty token: ApnsException
payload not JSON: ApnsException
empty payload: ApnsException
2049-byte payload: ApnsException
priority 7: ApnsException
unknown send option: ApnsException
negative expiry: ApnsException
command 3: ApnsException
identifier over u32: ApnsException
rows after invalid input: 0
bool(true)
flush: []
rows: 1
the valid send is logged: ok
sendMany: sent=1 failed=3
  token 'zz' status=8 reason=Invalid token %s
  token '(62 digits)' status=5 reason=Invalid token size %s
  token '' status=2 reason=Missing device token %s
sendMany sent the valid one: ok
sent=2 reconnects=1

--TEST--
send(): an array payload is sent as JSON; tokens in any spelling (<...>, spaces, upper case) are the same device
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$sb = apns_sandbox_start();
$c = new ApnsConnection($sb['binary'], apns_options($sb));

$payload = ['aps' => ['alert' => 'Héllo wörld, 1/2 ✓', 'badge' => 2, 'sound' => 'default'], 'custom' => ['id' => 7, 'tags' => ['a', 'b']]];
$c->send(apns_token(1), $payload);

$t = apns_token(2);
$spellings = [
    'lower case'             => $t,
    'upper case'             => strtoupper($t),
    '<8-digit groups>'       => '<' . implode(' ', str_split($t, 8)) . '>',
    'upper case with spaces' => implode(' ', str_split(strtoupper($t), 4)),
];
foreach ($spellings as $label => $spelling) {
    $c->send($spelling, '{"aps":{"alert":"' . $label . '"}}');
}
$many = $c->sendMany([apns_token(3), apns_token(4)], ['aps' => ['alert' => 'many']]);
echo "sendMany sent: {$many['sent']}, failed: ", count($many['failed']), "\n";
$c->flush();

$rows = apns_log($sb);
echo "rows: ", count($rows), "\n";
$first = array_shift($rows);
apns_check('array payload logged as the same JSON value', json_decode($first['payload'], true) === $payload, $first['payload']);
apns_check('array payload is a JSON object', str_starts_with($first['payload'], '{'), $first['payload']);
foreach ($spellings as $label => $spelling) {
    $row = array_shift($rows);
    apns_check("token spelled $label", $row['token'] === $t && json_decode($row['payload'], true)['aps']['alert'] === $label,
        $row['token']);
}
foreach ([3, 4] as $i) {
    $row = array_shift($rows);
    apns_check("sendMany token $i with array payload", $row['token'] === apns_token($i) && $row['payload'] === '{"aps":{"alert":"many"}}',
        json_encode($row));
}

// pack() takes the same payloads: an array gives the same frame as its JSON text.
apns_check('pack(array) === pack(json)',
    ApnsConnection::pack($t, ['aps' => ['alert' => 'Hi', 'badge' => 1]]) === ApnsConnection::pack($t, '{"aps":{"alert":"Hi","badge":1}}'));

// A list is not a JSON object: Apple wants a dictionary.
apns_expect_exception('list payload', fn() => $c->send($t, [1, 2, 3]), ['payload']);
$c->close();
echo "rows after close: ", count(apns_log($sb)), "\n";
?>
--EXPECT--
sendMany sent: 2, failed: 0
rows: 7
array payload logged as the same JSON value: ok
array payload is a JSON object: ok
token spelled lower case: ok
token spelled upper case: ok
token spelled <8-digit groups>: ok
token spelled upper case with spaces: ok
sendMany token 3 with array payload: ok
sendMany token 4 with array payload: ok
pack(array) === pack(json): ok
list payload: ApnsException
rows after close: 7

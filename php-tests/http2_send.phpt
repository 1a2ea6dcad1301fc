--TEST--
HTTP/2 (https://): the same ApnsConnection calls work with a client certificate and with token auth; headers from send options; failures carry Apple's reason, apns_id and the 410 timestamp
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$bad = apns_token(900);
$gone = apns_token(901);
$unregistered = apns_temp_dir('h2') . '/unregistered.txt';
file_put_contents($unregistered, "1700000000123 $gone\n");
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file([$bad]), '--unregistered', $unregistered]);

$auths = [
    'certificate' => ['local_cert' => $sb['certs'] . '/client.pem', 'cafile' => $sb['certs'] . '/ca.pem', 'topic' => 'com.example.app'],
    'token' => ['auth_key' => $sb['certs'] . '/auth-key.p8', 'key_id' => 'ABC123DEFG', 'team_id' => 'DEF123GHIJ',
                'cafile' => $sb['certs'] . '/ca.pem', 'topic' => 'com.example.app'],
];
$n = 0;
foreach ($auths as $name => $options) {
    echo "== $name auth\n";
    $c = new ApnsConnection($sb['http2'], $options);
    $s = $c->stats();
    echo "protocol={$s['protocol']} connected=", var_export($s['connected'], true), "\n";
    $tokens = [];
    for ($i = 0; $i < 50; $i++) {
        $tokens[] = $t = apns_token(++$n);
        $c->send($t, ['aps' => ['alert' => "hello $n"]]);
    }
    $apnsId = '8f2c4d5e-1a2b-4c3d-9e8f-0a1b2c3d4e5f';
    $c->send(apns_token(++$n), '{"aps":{"content-available":1}}',
        ['push_type' => 'background', 'collapse_id' => 'news', 'apns_id' => $apnsId, 'expiry' => 1900000000]);
    $c->send(apns_token(++$n), '{"aps":{"alert":"ring"}}', ['push_type' => 'voip', 'priority' => 10]);
    $c->send($bad, '{"aps":{"alert":"x"}}', ['identifier' => 4242]);
    $c->send($gone, '{"aps":{"alert":"x"}}', ['identifier' => 4343]);
    $failures = $c->flush();
    usort($failures, fn ($a, $b) => $a['identifier'] <=> $b['identifier']);
    foreach ($failures as $f) {
        printf("failure identifier=%d status=%d reason=%s token_ok=%s apns_id=%s timestamp=%s\n",
            $f['identifier'], $f['status'], $f['reason'],
            $f['token'] === ($f['identifier'] === 4242 ? $bad : $gone) ? 'yes' : 'no',
            preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/', $f['apns_id']) ? 'uuid' : $f['apns_id'],
            $f['timestamp'] ?? '-');
    }
    $rows = array_values(array_filter(apns_log($sb), fn ($r) => ($r['auth'] ?? '') === ($name === 'token' ? 'token' : 'certificate')));
    $logged = array_column($rows, 'token');
    apns_check("all 50 alerts logged once", count(array_intersect($tokens, $logged)) === 50 && count($logged) === count(array_unique($logged)));
    $bg = array_values(array_filter($rows, fn ($r) => $r['push_type'] === 'background'))[0] ?? [];
    printf("background: topic=%s priority=%d collapse_id=%s apns_id=%s expiration=%s\n",
        $bg['topic'] ?? '?', $bg['priority'] ?? 0, $bg['collapse_id'] ?? '?', ($bg['apns_id'] ?? '') === $apnsId ? 'ours' : '?', $bg['expiration'] ?? '?');
    $voip = array_values(array_filter($rows, fn ($r) => $r['push_type'] === 'voip'))[0] ?? [];
    printf("voip: topic=%s\n", $voip['topic'] ?? '?');
    $c->close();
}

echo "== bad input throws before anything is sent\n";
$c = new ApnsConnection($sb['http2'], $auths['token']);
$before = count(apns_log($sb));
foreach ([
    ['zz', '{"aps":{}}', []],
    [apns_token(1), '{"aps":{}}', ['push_type' => 'telepathy']],
    [apns_token(1), '{"aps":{}}', ['push_type' => 'background', 'priority' => 10]],
    [apns_token(1), '{"aps":{}}', ['collapse_id' => str_repeat('c', 65)]],
    [apns_token(1), '{"aps":{}}', ['apns_id' => 'not-a-uuid']],
    [apns_token(1), '{"aps":{"alert":"' . str_repeat('x', 4100) . '"}}', []],
    [apns_token(1), 'not json', []],
    [apns_token(1), '{"aps":{}}', ['command' => 1]],
] as [$token, $payload, $options]) {
    try {
        $c->send($token, $payload, $options);
        echo "no exception\n";
    } catch (ApnsException $e) {
        echo "ApnsException(", $e->getCode(), "): ", $e->getMessage(), "\n";
    }
}
$c->flush();
apns_check('nothing reached the gateway', count(apns_log($sb)) === $before);
try {
    $c->write(ApnsConnection::pack(apns_token(1), '{"aps":{}}'));
} catch (ApnsException $e) {
    echo $e->getMessage(), "\n";
}
try {
    new ApnsConnection($sb['http2'], ['auth_key' => $sb['certs'] . '/auth-key.p8', 'cafile' => $sb['certs'] . '/ca.pem']);
} catch (ApnsException $e) {
    echo $e->getMessage(), "\n";
}
?>
--EXPECTF--
== certificate auth
protocol=http2 connected=true
failure identifier=4242 status=400 reason=BadDeviceToken token_ok=yes apns_id=uuid timestamp=-
failure identifier=4343 status=410 reason=Unregistered token_ok=yes apns_id=uuid timestamp=1700000000123
all 50 alerts logged once: ok
background: topic=com.example.app priority=5 collapse_id=news apns_id=ours expiration=1900000000
voip: topic=com.example.app.voip
== token auth
protocol=http2 connected=true
failure identifier=4242 status=400 reason=BadDeviceToken token_ok=yes apns_id=uuid timestamp=-
failure identifier=4343 status=410 reason=Unregistered token_ok=yes apns_id=uuid timestamp=1700000000123
all 50 alerts logged once: ok
background: topic=com.example.app priority=5 collapse_id=news apns_id=ours expiration=1900000000
voip: topic=com.example.app.voip
== bad input throws before anything is sent
ApnsException(1): device token is not hex: 'z' at character 1
ApnsException(1): unknown push_type "telepathy" (expected one of: alert, background, voip, complication, fileprovider, mdm, location, liveactivity, pushtotalk)
ApnsException(1): priority 10 is not allowed with push_type background (APNs requires 5)
ApnsException(1): collapse_id is 65 bytes, over the limit of 64 bytes
ApnsException(1): apns_id "not-a-uuid" is not a UUID (like %s)
ApnsException(1): payload is 4120 bytes, over the limit of 4096 bytes
ApnsException(1): payload is not valid JSON: %s
ApnsException(1): option 'command' is for the binary protocol (ssl://) only; ApnsConnection::send uses the HTTP/2 API
nothing reached the gateway: ok
write() takes binary-protocol frames, and this connection speaks the HTTP/2 API (https://): use send()
token auth needs 'auth_key', 'key_id' and 'team_id'; missing: key_id, team_id

--TEST--
Settled by proof over HTTP/2: a timed flush() returns at its deadline with what is answered, keeps the rest in stats()['pending'] and never throws for its own deadline; close() waits for the answers
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$bad = apns_token(3);
// Every answer comes 700 ms late: nothing can be answered within 0.2 s.
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file([$bad]), '--h2-delay-ms', 700]);
$options = ['auth_key' => $sb['certs'] . '/auth-key.p8', 'key_id' => 'ABC123DEFG', 'team_id' => 'DEF123GHIJ',
            'cafile' => $sb['certs'] . '/ca.pem', 'topic' => 'com.example.app', 'timeout' => 5];
$c = new ApnsConnection($sb['http2'], $options);
$tokens = array_map('apns_token', range(1, 5));
foreach ($tokens as $t) {
    $c->send($t, ['aps' => ['alert' => 'h2 settle']]);
}
apns_check('flush(0.2) returns without throwing', $c->flush(0.2) === []);
apns_check('flush(0.2) leaves the 5 pending', $c->stats()['pending'] === 5, 'pending=' . $c->stats()['pending']);
$failures = $c->flush();
apns_check('flush() then reports the bad token once', array_column($failures, 'token') === [$bad]
    && $failures[0]['reason'] === 'BadDeviceToken', json_encode($failures));
apns_check('and leaves nothing pending', $c->stats()['pending'] === 0);

// close() right after sending waits for the answers (bounded by timeout).
$more = array_map('apns_token', range(11, 14));
foreach ($more as $t) {
    $c->send($t, ['aps' => ['alert' => 'h2 close']]);
}
$c->close();
apns_check('close() settled everything', $c->failures() === [] && $c->stats()['pending'] === 0);
$tally = apns_tally($sb, array_values(array_diff(array_merge($tokens, $more), [$bad])), [$bad]);
apns_check('every valid notification in the log once', $tally['lost'] === [] && $tally['duplicates'] === 0);
?>
--EXPECT--
flush(0.2) returns without throwing: ok
flush(0.2) leaves the 5 pending: ok
flush() then reports the bad token once: ok
and leaves nothing pending: ok
close() settled everything: ok
every valid notification in the log once: ok

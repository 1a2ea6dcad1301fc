--TEST--
HTTP/2 token auth: every connection of the process uses one provider token per key (no TooManyProviderTokenUpdates), ExpiredProviderToken answers are retried with the token re-checked, a wrong key id is a permanent failure (also when a persistent connection with the right one is kept), and the first request goes alone
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$sb = apns_sandbox_start(['--h2-status-every', '30:403', '--h2-delay-ms', '5']);
$options = [
    'auth_key' => $sb['certs'] . '/auth-key.p8', 'key_id' => 'ABC123DEFG', 'team_id' => 'DEF123GHIJ',
    'cafile' => $sb['certs'] . '/ca.pem', 'topic' => 'com.example.app',
];
$a = new ApnsConnection($sb['http2'], $options);
$b = new ApnsConnection($sb['http2'], $options);
$tokens = array_map('apns_token', range(1, 100));
$ra = $a->sendMany(array_slice($tokens, 0, 50), ['aps' => ['alert' => 'a']]);
$rb = $b->sendMany(array_slice($tokens, 50), ['aps' => ['alert' => 'b']]);
printf("a: sent=%d failed=%d; b: sent=%d failed=%d\n", $ra['sent'], count($ra['failed']), $rb['sent'], count($rb['failed']));
$rows = apns_log($sb);
$tally = apns_tally($sb, $tokens);
printf("logged=%d lost=%d duplicates=%d\n", count($rows), count($tally['lost']), $tally['duplicates']);
$iats = array_unique(array_column($rows, 'iat'));
$connections = array_unique(array_column($rows, 'conn'));
apns_check('two connections', count($connections) === 2, json_encode($connections));
// One token for the process, re-minted at most once for the ExpiredProviderToken
// answers (the same second when the machine is fast, so one iat; under valgrind,
// two). The second connection starts with a token the first one already used.
$iatsOf = fn (int $conn) => array_values(array_unique(array_column(
    array_filter($rows, fn ($r) => $r['conn'] === $conn), 'iat')));
$ofB = array_values(array_filter($rows, fn ($r) => $r['conn'] === 2));
usort($ofB, fn ($x, $y) => $x['seq'] <=> $y['seq']);
apns_check('one provider token for both connections (re-minted at most once)', count($iats) <= 2
    && $ofB !== [] && in_array($ofB[0]['iat'], $iatsOf(1), true), json_encode([$iatsOf(1), $iatsOf(2)]));
$first = array_values(array_filter($rows, fn ($r) => $r['stream'] === 1));
apns_check('the first request of each connection went alone', count($first) === 2 && max(array_column($first, 'concurrent')) === 1,
    json_encode($first));
apns_check('the 403 ExpiredProviderToken answers were retried', ($a->stats()['resent'] + $b->stats()['resent']) >= 3,
    json_encode([$a->stats()['resent'], $b->stats()['resent']]));

$wrong = new ApnsConnection($sb['http2'], ['key_id' => 'ZZZ123DEFG'] + $options);
$wrong->send(apns_token(1000), ['aps' => ['alert' => 'x']]);
foreach ($wrong->flush() as $f) {
    printf("wrong key id: status=%d reason=%s\n", $f['status'], $f['reason']);
}

// A kept (persistent) connection goes only to the same credentials: another key id
// gets a connection of its own, with its own token, and its rejection.
$kept = new ApnsConnection($sb['http2'], ['persistent' => 'p'] + $options);
unset($kept);
$other = new ApnsConnection($sb['http2'], ['persistent' => 'p', 'key_id' => 'ZZZ123DEFG'] + $options);
$other->send(apns_token(1001), ['aps' => ['alert' => 'x']]);
foreach ($other->flush() as $f) {
    printf("persistent, wrong key id: status=%d reason=%s\n", $f['status'], $f['reason']);
}
?>
--EXPECT--
a: sent=50 failed=0; b: sent=50 failed=0
logged=100 lost=0 duplicates=0
two connections: ok
one provider token for both connections (re-minted at most once): ok
the first request of each connection went alone: ok
the 403 ExpiredProviderToken answers were retried: ok
wrong key id: status=403 reason=InvalidProviderToken
persistent, wrong key id: status=403 reason=InvalidProviderToken

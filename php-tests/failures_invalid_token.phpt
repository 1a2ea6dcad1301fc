--TEST--
failures(), flush() and readErrorResponse(): 3 invalid tokens among 20 are reported with status 8; every valid one is delivered once
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$badFirst = [4, 11, 17];     // batch 1: tokens 1..20
$badSecond = [24, 31, 37];   // batch 2: tokens 21..40
$invalid = array_map('apns_token', array_merge($badFirst, $badSecond));
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($invalid)]);
$payload = '{"aps":{"alert":"Hi"}}';

function show(array $failures, array $ids): void
{
    foreach (apns_sorted_failures($failures) as $f) {
        $i = array_search($f['token'], array_map('apns_token', range(0, 40)), true);
        printf("  token #%s identifier %s status=%d reason=%s keys=%s\n", $i === false ? $f['token'] : $i,
            ($ids[$i] ?? null) === $f['identifier'] ? 'matches send()' : "DIFFERS ({$f['identifier']})",
            $f['status'], $f['reason'], implode(',', array_keys($f)));
    }
}

// Batch 1: flush() settles and returns the failures.
$c = new ApnsConnection($sb['binary'], apns_options($sb));
$ids = [];
for ($i = 1; $i <= 20; $i++) {
    $ids[$i] = $c->send(apns_token($i), $payload);
}
$failures = $c->flush();
echo "flush() returned ", count($failures), " failures:\n";
show($failures, $ids);
echo "failures() after flush(): ", json_encode($c->failures()), "\n";

// readErrorResponse(): the raw error responses, informational, never blocking.
$responses = [];
while (($r = $c->readErrorResponse()) !== null && count($responses) < 10) {
    $responses[] = $r;
}
$badIds = array_map(fn($i) => $ids[$i], $badFirst);
$shapeOk = $responses !== [];
foreach ($responses as $r) {
    $shapeOk = $shapeOk && array_keys($r) == ['command', 'status', 'identifier', 'reason'] && $r['command'] === 8
        && $r['status'] === 8 && $r['reason'] === 'Invalid token' && in_array($r['identifier'], $badIds, true);
}
apns_check('readErrorResponse() gives command 8, status 8, Invalid token, an invalid one\'s identifier', $shapeOk, json_encode($responses));
var_dump($c->readErrorResponse());
$stats = $c->stats();
printf("stats: sent=%d failed=%d\n", $stats['sent'], $stats['failed']);

// Batch 2: close() settles too, and failures() lists what it found.
for ($i = 21; $i <= 40; $i++) {
    $ids[$i] = $c->send(apns_token($i), $payload);
}
$c->close();
$failures = $c->failures();
echo "failures() after close() lists ", count($failures), ":\n";
show($failures, $ids);
echo "failures() again: ", json_encode($c->failures()), "\n";

$valid = array_values(array_diff(array_map('apns_token', range(1, 40)), $invalid));
$tally = apns_tally($sb, $valid, $invalid);
printf("log: rows=%d delivered=%d lost=%d duplicates=%d invalid=%d\n", $tally['rows'], $tally['delivered'],
    count($tally['lost']), $tally['duplicates'], $tally['invalid_logged']);
?>
--EXPECT--
flush() returned 3 failures:
  token #4 identifier matches send() status=8 reason=Invalid token keys=identifier,token,status,reason
  token #11 identifier matches send() status=8 reason=Invalid token keys=identifier,token,status,reason
  token #17 identifier matches send() status=8 reason=Invalid token keys=identifier,token,status,reason
failures() after flush(): []
readErrorResponse() gives command 8, status 8, Invalid token, an invalid one's identifier: ok
NULL
stats: sent=20 failed=3
failures() after close() lists 3:
  token #24 identifier matches send() status=8 reason=Invalid token keys=identifier,token,status,reason
  token #31 identifier matches send() status=8 reason=Invalid token keys=identifier,token,status,reason
  token #37 identifier matches send() status=8 reason=Invalid token keys=identifier,token,status,reason
failures() again: []
log: rows=34 delivered=34 lost=0 duplicates=0 invalid=0

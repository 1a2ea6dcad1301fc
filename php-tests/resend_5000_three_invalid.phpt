--TEST--
Resend: 5,000 notifications with 3 invalid tokens scattered; everything after each rejected one is resent, nothing is lost or duplicated
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$n = 5000;
$bad = [1000, 2500, 4000];
$invalid = array_map('apns_token', $bad);
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($invalid)]);
$c = new ApnsConnection($sb['binary'], apns_options($sb));

$ids = [];
for ($i = 1; $i <= $n; $i++) {
    $ids[$i] = $c->send(apns_token($i), ['aps' => ['alert' => "n$i"]]);
}
$failures = apns_sorted_failures($c->flush());
$stats = $c->stats();
$c->close();

echo "failures: ", count($failures), "\n";
foreach ($failures as $f) {
    $i = array_search($f['token'], $invalid, true);
    printf("  token #%s status=%d reason=%s identifier %s\n", $i === false ? $f['token'] : $bad[$i], $f['status'],
        $f['reason'], $i !== false && $f['identifier'] === $ids[$bad[$i]] ? 'matches' : 'DIFFERS');
}
$valid = array_values(array_diff(array_map('apns_token', range(1, $n)), $invalid));
$tally = apns_tally($sb, $valid, $invalid);
printf("log: delivered=%d lost=%d duplicates=%d invalid=%d unknown=%d\n", $tally['delivered'], count($tally['lost']),
    $tally['duplicates'], $tally['invalid_logged'], $tally['unknown']);

// Each row's payload names its notification: the resent ones carry their own payload.
$mismatch = 0;
$tokens = array_flip(array_map('apns_token', range(0, $n)));
foreach (apns_log($sb) as $row) {
    $mismatch += $row['payload'] !== json_encode(['aps' => ['alert' => 'n' . $tokens[$row['token']]]]);
}
apns_check('every logged payload belongs to its token', $mismatch === 0, "$mismatch mismatches");
printf("stats: sent=%d failed=%d\n", $stats['sent'], $stats['failed']);
apns_check('stats resent > 0', $stats['resent'] > 0, "resent={$stats['resent']}");
apns_check('reconnected after each rejection', $stats['reconnects'] >= 3, "reconnects={$stats['reconnects']}");
?>
--EXPECT--
failures: 3
  token #1000 status=8 reason=Invalid token identifier matches
  token #2500 status=8 reason=Invalid token identifier matches
  token #4000 status=8 reason=Invalid token identifier matches
log: delivered=4997 lost=0 duplicates=0 invalid=0 unknown=0
every logged payload belongs to its token: ok
stats: sent=5000 failed=3
stats resent > 0: ok
reconnected after each rejection: ok

--TEST--
persistent: when the PHP process ends, a kept connection settles what it holds: notifications the gateway discarded after a rejection are resent, not lost with the process
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$bad = apns_token(500);
// A slow reader: the rejection comes back after the "request" has ended.
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file([$bad]), '--slow-read', '20000']);
$ext = getenv('APNS_EXTENSION') ?: __DIR__ . '/../target/release/libapns.so';
$tokens = array_map('apns_token', range(1, 50));
$script = apns_temp_dir('shutdown') . '/request.php';
// One "request": 25 good tokens, a bad one, 25 good ones, no flush(); the object
// goes away at the end of the script and the connection is kept, then the
// process ends.
file_put_contents($script, sprintf(<<<'PHP'
<?php
$c = new ApnsConnection(%s, ['local_cert' => %s, 'cafile' => %s, 'persistent' => true]);
foreach (%s as $i => $t) {
    if ($i === 25) { $c->send(%s, '{"aps":{"alert":"bad"}}'); }
    $c->send($t, '{"aps":{"alert":"good"}}');
}
echo "request done\n";
PHP, var_export($sb['binary'], true), var_export($sb['certs'] . '/client.pem', true),
    var_export($sb['certs'] . '/ca.pem', true), var_export($tokens, true), var_export($bad, true)));
passthru(escapeshellarg(PHP_BINARY) . ' -n -d extension=' . escapeshellarg($ext) . ' ' . escapeshellarg($script), $code);
echo "exit $code\n";
$tally = apns_tally($sb, $tokens, [$bad]);
printf("lost=%d duplicates=%d\n", count($tally['lost']), $tally['duplicates']);
?>
--EXPECT--
request done
exit 0
lost=0 duplicates=0

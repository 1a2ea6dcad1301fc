<?php
/**
 * The main job, end to end against the local sandbox gateway:
 *
 *   1. start apns-sandbox (a stand-in for Apple's binary gateway, with mutual TLS),
 *   2. queue COUNT notifications through ApnsConnection::sendMany(), about 0.2 % of
 *      them to device tokens the gateway rejects (status 8, Invalid token),
 *   3. flush, then count what the gateway really accepted, from its log.
 *
 * Usage (from the repository root):
 *
 *   ./scripts/run demo
 *   php -d extension=$PWD/target/release/libapns.so examples/demo.php [COUNT] [SANDBOX FLAGS...]
 *
 *   e.g. examples/demo.php 20000 --shutdown-every 700 --drop-every 900
 *
 * Sandbox flags (docs/sandbox-cli.md) inject Apple's failure modes: status 10
 * shutdowns, silent drops, a slow reader. Exits 1 if any valid notification is
 * missing from the gateway's log, or the failures are not exactly the invalid tokens.
 */

declare(strict_types=1);

require __DIR__ . '/sandbox.php';

if (!extension_loaded('apns')) {
    fwrite(STDERR, "The apns extension is not loaded. Run `./scripts/run demo`, or\n"
        . "  php -d extension=\$PWD/target/release/libapns.so examples/demo.php\n");
    exit(2);
}

$args = array_slice($argv, 1);
$count = 5000;
if ($args !== [] && preg_match('/^\d+$/', $args[0])) {
    $count = (int) array_shift($args);
}
$flags = $args;   // passed to `apns-sandbox serve` as they are

// The device tokens: every 500th is one the gateway rejects (0.2 %).
$tokens = [];
$invalid = [];
for ($i = 1; $i <= $count; $i++) {
    $tokens[] = $token = apns_token($i);
    if ($i % 500 === 250) {
        $invalid[] = $token;
    }
}
$valid = array_values(array_diff($tokens, $invalid));

$sb = apns_sandbox_start(array_merge(['--invalid-tokens', apns_invalid_tokens_file($invalid)], $flags));
printf("apns demo: %d notifications, %d to invalid tokens, to the sandbox gateway at %s%s\n",
    $count, count($invalid), $sb['binary'], $flags ? ' (' . implode(' ', $flags) . ')' : '');

$connection = new ApnsConnection($sb['binary'], [
    'local_cert' => $sb['certs'] . '/client.pem',   // certificate + key, like Apple's product_ck.pem
    'cafile' => $sb['certs'] . '/ca.pem',           // trust the sandbox's CA
    'timeout' => 10,
]);

// sendMany() calls this every thousand tokens or so, and once more when all is settled.
$tty = stream_isatty(STDOUT);
$shown = ['done' => -1, 'quarter' => 0];
$progress = function (int $done, ?int $total) use ($tty, &$shown): void {
    if ($done === $shown['done']) {
        return;
    }
    $percent = $total ? intdiv($done * 100, $total) : 0;
    if ($tty) {
        printf("\r  sending %d/%s (%d%%)", $done, $total ?? '?', $percent);
    } elseif (intdiv($percent, 25) > $shown['quarter']) {
        printf("  sending %d/%s (%d%%)\n", $done, $total ?? '?', $percent);
        $shown['quarter'] = intdiv($percent, 25);
    } else {
        return;
    }
    $shown['done'] = $done;
};

$payload = ['aps' => ['alert' => 'Your order has shipped', 'sound' => 'default', 'badge' => 1]];
$result = $connection->sendMany($tokens, $payload, ['progress' => $progress]);
if ($tty) {
    echo "\n";
}
$stats = $connection->stats();
$connection->close();

$tally = apns_tally($sb, $valid, $invalid);
$accepted = apns_sandbox_stop($sb);

$failedTokens = array_column($result['failed'], 'token');
sort($failedTokens);
$expectedFailed = $invalid;
sort($expectedFailed);

printf("\n  sent        %d\n", $result['sent']);
printf("  delivered   %d of %d valid  (distinct tokens in the gateway's log; %d rows%s)\n", $tally['delivered'],
    count($valid), $tally['rows'], $accepted !== null ? ", the gateway says it accepted $accepted" : '');
printf("  failed      %d\n", count($result['failed']));
foreach ($result['failed'] as $failure) {
    printf("                %s  status %d  %s  (identifier %d)\n", $failure['token'], $failure['status'],
        $failure['reason'], $failure['identifier']);
}
printf("  resent      %d  (written again after the gateway dropped them)\n", $result['resent']);
printf("  duplicates  %d  (only possible after a silent drop)\n", $tally['duplicates']);
printf("  reconnects  %d\n", $stats['reconnects']);
printf("  seconds     %.2f  (%s notifications/s)\n", $result['seconds'],
    $result['seconds'] > 0 ? number_format($count / $result['seconds']) : '-');

$ok = true;
if ($tally['lost'] !== []) {
    printf("\nFAILED: %d valid notifications are missing from the gateway's log, e.g. %s\n",
        count($tally['lost']), implode(', ', array_slice($tally['lost'], 0, 3)));
    $ok = false;
}
if ($failedTokens !== $expectedFailed) {
    printf("\nFAILED: the failures are not exactly the %d invalid tokens\n", count($invalid));
    $ok = false;
}
if ($tally['invalid_logged'] + $tally['unknown'] > 0) {
    printf("\nFAILED: the gateway logged %d notifications it should not have\n", $tally['invalid_logged'] + $tally['unknown']);
    $ok = false;
}
if ($ok) {
    echo "\nOK: every valid notification is in the gateway's log, and every invalid token is reported.\n";
}
exit($ok ? 0 : 1);

--TEST--
Settled by proof: close() settles with a probe on the same connection (late failures stay readable); a timed flush() returns what is settled by its deadline, keeps the rest in stats()['pending'] and never throws for its own deadline
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$payload = ['aps' => ['alert' => 'settle']];

// close() after five send()s on a prompt gateway: one connection, five rows, no failure.
$sb = apns_sandbox_start();
$tokens = array_map('apns_token', range(1, 5));
$c = new ApnsConnection($sb['binary'], apns_options($sb));
foreach ($tokens as $t) {
    $c->send($t, $payload);
}
$c->close();
$tally = apns_tally($sb, $tokens);
apns_check('close(): the five are in the log once each', $tally['lost'] === [] && $tally['duplicates'] === 0);
apns_check('close(): on the connection they were sent on', array_unique(array_column(apns_log($sb), 'conn')) === [1]);
apns_check('close(): no failure', $c->failures() === []);
apns_check('close(): stats after close', $c->stats()['pending'] === 0 && $c->stats()['connected'] === false);
apns_expect_exception('send() after close()', fn() => $c->send($tokens[0], $payload), ['closed']);
apns_expect_exception('flush(0.2) after close()', fn() => $c->flush(0.2), ['closed']);
apns_sandbox_stop($sb);

// close() on a gateway that answers 0.7 s late, the third of five invalid: reported after close().
$bad = apns_token(3);
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file([$bad]), '--error-delay', '0.7']);
$c = new ApnsConnection($sb['binary'], apns_options($sb));
foreach ($tokens as $t) {
    $c->send($t, $payload);
}
$c->close();
$failures = $c->failures();
apns_check('late close(): the rejection is readable with failures()',
    array_column($failures, 'token') === [$bad] && $failures[0]['status'] === 8, json_encode($failures));
$tally = apns_tally($sb, array_values(array_diff($tokens, [$bad])), [$bad]);
apns_check('late close(): the four valid ones in the log once each', $tally['lost'] === [] && $tally['duplicates'] === 0);

// A timed flush on the same slow gateway: the answer cannot come within 0.2 s.
$c = new ApnsConnection($sb['binary'], apns_options($sb));
$more = array_map('apns_token', range(11, 30));
$more[5] = $bad;
foreach ($more as $t) {
    $c->send($t, $payload);
}
$early = $c->flush(0.2);
apns_check('flush(0.2) returns without throwing', $early === []);
apns_check('flush(0.2) leaves the 20 pending', $c->stats()['pending'] === 20, 'pending=' . $c->stats()['pending']);
$c->send(apns_token(31), $payload);
apns_check('send() after a timed flush queues one more', $c->stats()['pending'] === 21);
$later = $c->flush();
apns_check('the next flush() reports the rejection once', array_column($later, 'token') === [$bad]);
apns_check('and leaves nothing pending', $c->stats()['pending'] === 0);
$c->close();
$valid = array_values(array_diff(array_merge($tokens, $more, [apns_token(31)]), [$bad]));
$tally = apns_tally($sb, $valid, [$bad]);
apns_check('nothing lost, nothing twice', $tally['lost'] === [] && $tally['duplicates'] === 0 && $tally['invalid_logged'] === 0);
apns_sandbox_stop($sb);

// A timed flush on a prompt gateway.
$sb = apns_sandbox_start();
$c = new ApnsConnection($sb['binary'], apns_options($sb));
$c->send(apns_token(40), $payload);
apns_check('flush(0.2) on a prompt gateway returns a list', $c->flush(0.2) === []);
$c->flush();
apns_check('then nothing is pending', $c->stats()['pending'] === 0);
apns_check('and the notification is in the log', apns_tally($sb, [apns_token(40)])['lost'] === []);
$c->close();

// An unreachable gateway is still an exception: timed flushes return while the
// engine is still retrying, and throw once it gives up (after `timeout`).
$sb2 = apns_sandbox_start();
$c = new ApnsConnection($sb2['binary'], apns_options($sb2, ['timeout' => 1]));
apns_sandbox_stop($sb2);
$c->send(apns_token(41), $payload);
$message = null;
$failures = [];
for ($i = 0; $i < 50 && $message === null; $i++) {
    try {
        $failures = array_merge($failures, $c->flush(0.2));
    } catch (ApnsException $e) {
        $message = $e->getMessage();
    }
}
apns_check('timed flushes to a gateway that went away end in an ApnsException',
    $message !== null && str_contains($message, 'gave up on 127.0.0.1:' . apns_port($sb2['binary'])), (string) $message);
$failures = array_merge($failures, $c->failures());
apns_check('the notification is in failures() with status 255',
    array_column($failures, 'token') === [apns_token(41)] && $failures[0]['status'] === 255, json_encode($failures));
?>
--EXPECT--
close(): the five are in the log once each: ok
close(): on the connection they were sent on: ok
close(): no failure: ok
close(): stats after close: ok
send() after close(): ApnsException
flush(0.2) after close(): ApnsException
late close(): the rejection is readable with failures(): ok
late close(): the four valid ones in the log once each: ok
flush(0.2) returns without throwing: ok
flush(0.2) leaves the 20 pending: ok
send() after a timed flush queues one more: ok
the next flush() reports the rejection once: ok
and leaves nothing pending: ok
nothing lost, nothing twice: ok
flush(0.2) on a prompt gateway returns a list: ok
then nothing is pending: ok
and the notification is in the log: ok
timed flushes to a gateway that went away end in an ApnsException: ok
the notification is in failures() with status 255: ok

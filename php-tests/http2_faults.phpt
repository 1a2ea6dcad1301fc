--TEST--
HTTP/2 under faults: 429 and 503 answers are retried, GOAWAY streams are resent on a new connection, the server's stream limit (also as it changes from one connection to the next) and our own max_streams are respected; nothing lost, nothing twice, nothing failed
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$scenarios = [
    '429 every 50' => ['--h2-status-every', '50:429'],
    '503 every 40' => ['--h2-status-every', '40:503'],
    'GOAWAY every 100 streams, at most 10 streams' => ['--goaway-every', '100', '--max-streams', '10'],
    'at most 5 streams, slow answers' => ['--max-streams', '5', '--h2-delay-ms', '2'],
    'our max_streams 4, slow answers' => ['--h2-delay-ms', '2'],
    'server limit 3, then 12, then 3 (GOAWAY every 200)' => ['--goaway-every', '200', '--max-streams', '3,12', '--h2-delay-ms', '2'],
];
foreach ($scenarios as $name => $flags) {
    $sb = apns_sandbox_start($flags);
    $ours = str_starts_with($name, 'our max_streams') ? ['max_streams' => 4] : [];
    $c = new ApnsConnection($sb['http2'], [
        'auth_key' => $sb['certs'] . '/auth-key.p8', 'key_id' => 'ABC123DEFG', 'team_id' => 'DEF123GHIJ',
        'cafile' => $sb['certs'] . '/ca.pem', 'topic' => 'com.example.app',
    ] + $ours);
    $tokens = [];
    for ($i = 0; $i < 1000; $i++) {
        $tokens[] = apns_token($i);
    }
    $result = $c->sendMany($tokens, ['aps' => ['alert' => 'storm']]);
    $tally = apns_tally($sb, $tokens);
    $rows = apns_log($sb);
    $maxConcurrent = max(array_column($rows, 'concurrent'));
    $s = $c->stats();
    printf("%s: sent=%d failed=%d lost=%d duplicates=%d\n", $name, $result['sent'], count($result['failed']),
        count($tally['lost']), $tally['duplicates']);
    printf("  resent=%d reconnects=%d max concurrent=%d\n", $s['resent'], $s['reconnects'], $maxConcurrent);
    if (str_starts_with($name, 'server limit')) {
        // The limit changes with each connection: odd ones allow 3 streams, even ones 12.
        $per = [];
        foreach ($rows as $r) {
            $per[$r['conn']] = max($per[$r['conn']] ?? 0, $r['concurrent']);
        }
        $over = array_filter($per, fn ($max, $conn) => $max > ($conn % 2 ? 3 : 12), ARRAY_FILTER_USE_BOTH);
        $raised = array_filter($per, fn ($max, $conn) => $conn % 2 === 0 && $max > 3, ARRAY_FILTER_USE_BOTH);
        apns_check('each connection within its own limit', $over === [], json_encode($per));
        apns_check('the raised limit was used', $raised !== [], json_encode($per));
        apns_check('several connections', count($per) >= 3, json_encode($per));
    } elseif (in_array('--max-streams', $flags, true)) {
        $limit = (int) $flags[array_search('--max-streams', $flags) + 1];
        apns_check("never more than $limit streams at once", $maxConcurrent <= $limit, "saw $maxConcurrent");
    }
    if ($ours) {
        apns_check('never more than 4 streams at once, and 4 used', $maxConcurrent === 4, "saw $maxConcurrent");
    }
    if (str_starts_with($name, 'GOAWAY')) {
        apns_check('reconnected after GOAWAY', $s['reconnects'] >= 5, "reconnects {$s['reconnects']}");
    } elseif (!str_starts_with($name, 'at most') && !$ours && !str_starts_with($name, 'server limit')) {
        apns_check('the refused requests were resent', $s['resent'] >= 10, "resent {$s['resent']}");
    }
    if ($ours) {
        foreach ([['max_streams' => 0], ['max_streams' => 'many']] as $bad) {
            try {
                new ApnsConnection($sb['http2'], $bad + ['cafile' => $sb['certs'] . '/ca.pem']);
                echo "accepted a bad max_streams\n";
            } catch (ApnsException $e) {
                echo $e->getMessage(), "\n";
            }
        }
        try {
            new ApnsConnection($sb['binary'], ['max_streams' => 4]);
            echo "accepted max_streams for ssl://\n";
        } catch (ApnsException $e) {
            echo $e->getMessage(), "\n";
        }
    }
    $c->close();
    apns_sandbox_stop($sb);
}
?>
--EXPECTF--
429 every 50: sent=1000 failed=0 lost=0 duplicates=0
  resent=%d reconnects=%d max concurrent=%d
the refused requests were resent: ok
503 every 40: sent=1000 failed=0 lost=0 duplicates=0
  resent=%d reconnects=%d max concurrent=%d
the refused requests were resent: ok
GOAWAY every 100 streams, at most 10 streams: sent=1000 failed=0 lost=0 duplicates=0
  resent=%d reconnects=%d max concurrent=%d
never more than 10 streams at once: ok
reconnected after GOAWAY: ok
at most 5 streams, slow answers: sent=1000 failed=0 lost=0 duplicates=0
  resent=%d reconnects=%d max concurrent=%d
never more than 5 streams at once: ok
our max_streams 4, slow answers: sent=1000 failed=0 lost=0 duplicates=0
  resent=%d reconnects=%d max concurrent=%d
never more than 4 streams at once, and 4 used: ok
%s'max_streams'%s1 to 10000%s
%s'max_streams'%s
option 'max_streams' is for the HTTP/2 API (https://) only; %s
server limit 3, then 12, then 3 (GOAWAY every 200): sent=1000 failed=0 lost=0 duplicates=0
  resent=%d reconnects=%d max concurrent=%d
each connection within its own limit: ok
the raised limit was used: ok
several connections: ok

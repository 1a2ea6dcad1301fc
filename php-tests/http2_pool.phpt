--TEST--
HTTP/2 pool ('connections'): requests spread over the connections, each within its own stream limit, one provider token; a GOAWAY on one connection while the others carry on; 429/503 and ExpiredProviderToken with a pool; nothing lost, nothing twice; stats()['connections']; persistent keeps the whole pool; bad values and ssl:// refused naming the option
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

function pool_options(array $sb, array $extra = []): array
{
    return $extra + [
        'auth_key' => $sb['certs'] . '/auth-key.p8', 'key_id' => 'ABC123DEFG', 'team_id' => 'DEF123GHIJ',
        'cafile' => $sb['certs'] . '/ca.pem', 'topic' => 'com.example.app',
    ];
}

/** Per sandbox connection: [rows, highest 'concurrent']. */
function per_connection(array $rows): array
{
    $per = [];
    foreach ($rows as $r) {
        $per[$r['conn']][0] = ($per[$r['conn']][0] ?? 0) + 1;
        $per[$r['conn']][1] = max($per[$r['conn']][1] ?? 0, $r['concurrent']);
    }
    ksort($per);
    return $per;
}

$tokens = array_map('apns_token', range(1, 2000));

// 1. Spread: 4 connections, the server allows 10 streams on each.
$sb = apns_sandbox_start(['--max-streams', '10', '--h2-delay-ms', '5']);
$c = new ApnsConnection($sb['http2'], pool_options($sb, ['connections' => 4]));
$r = $c->sendMany($tokens, ['aps' => ['alert' => 'pool']]);
$tally = apns_tally($sb, $tokens);
$rows = apns_log($sb);
$per = per_connection($rows);
$pool = $c->stats()['connections'];
printf("spread: sent=%d failed=%d lost=%d duplicates=%d connections=%d\n", $r['sent'], count($r['failed']),
    count($tally['lost']), $tally['duplicates'], count($per));
apns_check('each connection within its limit of 10', max(array_column($per, 1)) <= 10, json_encode($per));
apns_check('each connection carried a share', min(array_column($per, 0)) >= 100, json_encode($per));
apns_check('one provider token for all', count(array_unique(array_column($rows, 'iat'))) === 1);
apns_check('stats: 4 entries, 2000 streams, 2000 answered, all connected',
    count($pool) === 4 && array_sum(array_column($pool, 'streams')) === 2000
    && array_sum(array_column($pool, 'answered')) === 2000
    && array_column($pool, 'connected') === [true, true, true, true], json_encode($pool));
echo implode(',', array_keys($pool[0])), "\n";
$c->close();
apns_sandbox_stop($sb);

// 2. GOAWAY on the second connection after 50 streams; the others carry on.
$sb = apns_sandbox_start(['--goaway-conn', '2:50', '--max-streams', '10', '--h2-delay-ms', '5']);
$c = new ApnsConnection($sb['http2'], pool_options($sb, ['connections' => 4]));
$r = $c->sendMany($tokens, ['aps' => ['alert' => 'goaway']]);
$tally = apns_tally($sb, $tokens);
$rows = apns_log($sb);
$per = per_connection($rows);
$pool = $c->stats()['connections'];
printf("goaway on one: sent=%d failed=%d lost=%d duplicates=%d connections=%d\n", $r['sent'], count($r['failed']),
    count($tally['lost']), $tally['duplicates'], count($per));
$lastOf2 = max(array_keys(array_filter(array_column($rows, 'conn'), fn ($n) => $n === 2)));
$after = array_unique(array_column(array_slice($rows, $lastOf2), 'conn'));
apns_check('connections 1, 3 and 4 went on after conn 2 ended', array_diff([1, 3, 4], $after) === [], json_encode($per));
$hit = array_values(array_filter($pool, fn ($p) => $p['goaways'] > 0));
apns_check('one connection saw the GOAWAY and reconnected, the others did not',
    count($hit) === 1 && $hit[0]['goaways'] === 1 && $hit[0]['reconnects'] === 1
    && array_sum(array_column($pool, 'reconnects')) === 1, json_encode($pool));
$c->close();
apns_sandbox_stop($sb);

// 3. 429 and 503 answers with a pool: retried, nothing lost.
foreach (['50:429', '40:503'] as $every) {
    $sb = apns_sandbox_start(['--h2-status-every', $every, '--max-streams', '20']);
    $c = new ApnsConnection($sb['http2'], pool_options($sb, ['connections' => 4]));
    $some = array_slice($tokens, 0, 1000);
    $r = $c->sendMany($some, ['aps' => ['alert' => 'retry']]);
    $tally = apns_tally($sb, $some);
    printf("%s: sent=%d failed=%d lost=%d duplicates=%d several connections=%s resent>=10: %s\n", $every,
        $r['sent'], count($r['failed']), count($tally['lost']), $tally['duplicates'],
        count(per_connection(apns_log($sb))) >= 2 ? 'yes' : 'no', $r['resent'] >= 10 ? 'yes' : "no ({$r['resent']})");
    $c->close();
    apns_sandbox_stop($sb);
}

// 4. ExpiredProviderToken on every 30th request: the token is re-minted and
// each rejected notification retried once (3 x 4 streams: a retried one is
// never the next 30th).
$sb = apns_sandbox_start(['--h2-status-every', '30:403']);
$c = new ApnsConnection($sb['http2'], pool_options($sb, ['connections' => 3, 'max_streams' => 4]));
$some = array_slice($tokens, 0, 300);
$r = $c->sendMany($some, ['aps' => ['alert' => 'expired']]);
$tally = apns_tally($sb, $some);
printf("expired token: sent=%d failed=%d resent=%d lost=%d duplicates=%d connections=%d\n", $r['sent'],
    count($r['failed']), $r['resent'], count($tally['lost']), $tally['duplicates'], count(per_connection(apns_log($sb))));
$c->close();
apns_sandbox_stop($sb);

// 5. persistent keeps the whole pool: a second object with the same options
// gets the same 3 connections, and the sandbox sees no new one.
$sb = apns_sandbox_start(['--max-streams', '10', '--h2-delay-ms', '5']);
$opts = pool_options($sb, ['connections' => 3, 'persistent' => 'pool-test']);
$c = new ApnsConnection($sb['http2'], $opts);
$c->sendMany(array_slice($tokens, 0, 500), ['aps' => ['alert' => 'first']]);
unset($c);
$c = new ApnsConnection($sb['http2'], $opts);
$r = $c->sendMany(array_slice($tokens, 500, 500), ['aps' => ['alert' => 'second']]);
$s = $c->stats();
$tally = apns_tally($sb, array_slice($tokens, 0, 1000));
$per = per_connection(apns_log($sb));
printf("persistent: persistent=%s failed=%d lost=%d duplicates=%d sandbox connections=%s pool=%d\n",
    var_export($s['persistent'], true), count($r['failed']), count($tally['lost']), $tally['duplicates'],
    implode(',', array_keys($per)), count($s['connections']));
$c->close();
apns_sandbox_stop($sb);

// 6. Bad values, and the option with an ssl:// URL.
$sb = apns_sandbox_start();
foreach ([0, 65, -1, 'many', 2.5, true] as $bad) {
    try {
        new ApnsConnection($sb['http2'], pool_options($sb, ['connections' => $bad]));
        echo "accepted connections ", var_export($bad, true), "\n";
    } catch (ApnsException $e) {
        echo $e->getMessage(), "\n";
    }
}
try {
    new ApnsConnection($sb['binary'], apns_options($sb, ['connections' => 2]));
    echo "accepted connections for ssl://\n";
} catch (ApnsException $e) {
    echo $e->getMessage(), "\n";
}
apns_sandbox_stop($sb);
?>
--EXPECT--
spread: sent=2000 failed=0 lost=0 duplicates=0 connections=4
each connection within its limit of 10: ok
each connection carried a share: ok
one provider token for all: ok
stats: 4 entries, 2000 streams, 2000 answered, all connected: ok
streams,answered,in_flight,reconnects,goaways,connected
goaway on one: sent=2000 failed=0 lost=0 duplicates=0 connections=5
connections 1, 3 and 4 went on after conn 2 ended: ok
one connection saw the GOAWAY and reconnected, the others did not: ok
50:429: sent=1000 failed=0 lost=0 duplicates=0 several connections=yes resent>=10: yes
40:503: sent=1000 failed=0 lost=0 duplicates=0 several connections=yes resent>=10: yes
expired token: sent=300 failed=0 resent=10 lost=0 duplicates=0 connections=3
persistent: persistent=true failed=0 lost=0 duplicates=0 sandbox connections=1,2,3 pool=3
option 'connections' must be an int from 1 to 64, got 0
option 'connections' must be an int from 1 to 64, got 65
option 'connections' must be an int from 1 to 64, got -1
option 'connections' must be an int from 1 to 64, got string
option 'connections' must be an int from 1 to 64, got float
option 'connections' must be an int from 1 to 64, got bool
option 'connections' is for the HTTP/2 API (https://) only; ApnsConnection::__construct was given a binary gateway URL (ssl://)

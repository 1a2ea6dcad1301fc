--TEST--
Lifecycle: stats() keys, close(), clone/serialize refused, no secret in var_dump/print_r/var_export, destruction flushes
--SKIPIF--
<?php
if (!extension_loaded('apns')) die('skip apns not loaded');
exec('openssl version 2>&1', $out, $rc);
if ($rc !== 0) die('skip the openssl command line is needed to make an encrypted key');
?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$sb = apns_sandbox_start();
$v = apns_credential_variants($sb);
$c = new ApnsConnection($sb['binary'], apns_options($sb, ['local_cert' => $v['p8_combined'], 'passphrase' => '12345678']));
$c->send(apns_token(1), '{"aps":{"alert":"one"}}');

$stats = $c->stats();
foreach (['sent', 'resent', 'failed', 'reconnects', 'bytes', 'protocol', 'connected'] as $key) {
    apns_check("stats() has '$key'", array_key_exists($key, $stats), implode(',', array_keys($stats)));
}
printf("protocol=%s connected=%s sent=%d\n", $stats['protocol'], var_export($stats['connected'], true), $stats['sent']);

// Nothing secret in any dump of the object.
ob_start();
var_dump($c);
print_r($c);
echo "\n";
var_export($c);
echo "\n", json_encode($c), "\n";
var_dump((array) $c, get_object_vars($c));
$dump = ob_get_clean();
apns_check('dumps show no passphrase', !str_contains($dump, '12345678'));
apns_check("dumps show no 'PRIVATE KEY'", stripos($dump, 'PRIVATE KEY') === false && !str_contains($dump, 'BEGIN'));
apns_check('var_dump names the class', str_contains($dump, 'ApnsConnection'));

function refused(string $label, callable $fn): void
{
    try {
        $result = $fn();
        echo "$label: FAILED (allowed: ", get_debug_type($result), ")\n";
    } catch (Throwable $e) {
        echo "$label: refused\n";
    }
}
refused('clone', fn() => clone $c);
refused('serialize', fn() => serialize($c));
refused('unserialize', fn() => unserialize('O:14:"ApnsConnection":0:{}'));
refused('instance without constructor', fn() => (new ReflectionClass('ApnsConnection'))->newInstanceWithoutConstructor()->send(apns_token(9), '{}'));

$c->close();
var_dump($c->isConnected());
var_dump($c->stats()['connected']);
apns_expect_exception('send() after close()', fn() => $c->send(apns_token(2), '{"aps":{"alert":"two"}}'), ['closed']);
apns_check('the notification sent before close() is logged', in_array(apns_token(1), array_column(apns_log($sb), 'token'), true));
apns_check('the one after close() is not', !in_array(apns_token(2), array_column(apns_log($sb), 'token'), true));

// Destruction closes, and closing flushes: notifications sent just before unset() arrive.
$d = new ApnsConnection($sb['binary'], apns_options($sb));
for ($i = 10; $i < 60; $i++) {
    $d->send(apns_token($i), '{"aps":{"alert":"bye"}}');
}
unset($d);
$logged = array_flip(array_column(apns_log($sb), 'token'));
$missing = count(array_filter(range(10, 59), fn($i) => !isset($logged[apns_token($i)])));
apns_check('unset() flushed all 50 notifications', $missing === 0, "$missing missing");

// The same when the object just goes out of scope.
(function () use ($sb) {
    $e = new ApnsConnection($sb['binary'], apns_options($sb));
    $e->send(apns_token(70), '{"aps":{"alert":"scope"}}');
})();
apns_check('going out of scope flushed too', in_array(apns_token(70), array_column(apns_log($sb), 'token'), true));
?>
--EXPECT--
stats() has 'sent': ok
stats() has 'resent': ok
stats() has 'failed': ok
stats() has 'reconnects': ok
stats() has 'bytes': ok
stats() has 'protocol': ok
stats() has 'connected': ok
protocol=binary connected=true sent=1
dumps show no passphrase: ok
dumps show no 'PRIVATE KEY': ok
var_dump names the class: ok
clone: refused
serialize: refused
unserialize: refused
instance without constructor: refused
bool(false)
bool(false)
send() after close(): ApnsException
the notification sent before close() is logged: ok
the one after close() is not: ok
unset() flushed all 50 notifications: ok
going out of scope flushed too: ok

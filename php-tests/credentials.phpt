--TEST--
Credentials: PEM (combined, split, RSA), encrypted PEM (PKCS#8 and traditional), PKCS#12 (modern and legacy) connect; every TLS failure has its own clear message
--SKIPIF--
<?php
if (!extension_loaded('apns')) die('skip apns not loaded');
exec('openssl version 2>&1', $out, $rc);
if ($rc !== 0) die('skip the openssl command line is needed to make the credential variants');
?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$sb = apns_sandbox_start();
$certs = $sb['certs'];
$v = apns_credential_variants($sb);
$pass = '12345678';

$good = [
    'client.pem (certificate and key in one file)' => ['local_cert' => "$certs/client.pem"],
    'client-cert.pem + local_pk client-key.pem'    => ['local_cert' => "$certs/client-cert.pem", 'local_pk' => "$certs/client-key.pem"],
    'rsa-client.pem'                               => ['local_cert' => "$certs/rsa-client.pem"],
    'certificate + encrypted PKCS#8 in one file'   => ['local_cert' => $v['p8_combined'], 'passphrase' => $pass],
    'certificate + local_pk encrypted PKCS#8'      => ['local_cert' => "$certs/client-cert.pem", 'local_pk' => $v['p8_key'], 'passphrase' => $pass],
    'certificate + traditional encrypted EC key'   => ['local_cert' => $v['trad_combined'], 'passphrase' => $pass],
    'certificate + local_pk traditional EC key'    => ['local_cert' => "$certs/client-cert.pem", 'local_pk' => $v['trad_key'], 'passphrase' => $pass],
    'RSA certificate + traditional DES-EDE3 key'   => ['local_cert' => $v['rsa_trad_combined'], 'passphrase' => $pass],
    'PKCS#12'                                      => ['local_cert' => $v['p12'], 'passphrase' => $pass],
    'PKCS#12 -legacy'                              => ['local_cert' => $v['p12_legacy'], 'passphrase' => $pass],
];
$i = 0;
foreach ($good as $label => $options) {
    $i++;
    try {
        $c = new ApnsConnection($sb['binary'], apns_options($sb, $options));
        $c->send(apns_token($i), '{"aps":{"alert":"credentials"}}');
        $failures = $c->flush();
        $c->close();
        $logged = in_array(apns_token($i), array_column(apns_log($sb), 'token'), true);
        apns_check("$label: connects and sends", $failures === [] && $logged, json_encode($failures));
    } catch (Throwable $e) {
        echo "$label: FAILED (", get_class($e), ': ', $e->getMessage(), ")\n";
    }
}

echo "-- errors\n";
$connect = fn(array $options, ?string $url = null) => fn() => new ApnsConnection($url ?? $sb['binary'], apns_options($sb, $options));
$missing = "$certs/no-such-dir/product_ck.pem";
apns_expect_exception('missing local_cert', $connect(['local_cert' => $missing]), [$missing]);
apns_expect_exception('missing local_pk', $connect(['local_cert' => "$certs/client-cert.pem", 'local_pk' => "$certs/nope-key.pem"]), ["$certs/nope-key.pem"]);
apns_expect_exception('missing cafile', $connect(['cafile' => "$certs/nope-ca.pem"]), ["$certs/nope-ca.pem"]);
apns_expect_exception('certificate without its key', $connect(['local_cert' => "$certs/client-cert.pem"]), [['key']]);

$wrong = 'Wr0ng-Pass!';
$wrongWords = ['passphrase', ['wrong', 'incorrect', 'bad', 'invalid', 'does not']];
apns_expect_exception('wrong passphrase, PKCS#8', $connect(['local_cert' => $v['p8_combined'], 'passphrase' => $wrong]), $wrongWords, [$wrong, $pass]);
apns_expect_exception('wrong passphrase, traditional', $connect(['local_cert' => $v['trad_combined'], 'passphrase' => $wrong]), $wrongWords, [$wrong, $pass]);
apns_expect_exception('wrong passphrase, PKCS#12', $connect(['local_cert' => $v['p12'], 'passphrase' => $wrong]), $wrongWords, [$wrong, $pass]);
apns_expect_exception('missing passphrase, PKCS#8', $connect(['local_cert' => $v['p8_combined']]), ['passphrase']);
apns_expect_exception('missing passphrase, traditional', $connect(['local_cert' => $v['trad_combined']]), ['passphrase']);
apns_expect_exception('missing passphrase, PKCS#12', $connect(['local_cert' => $v['p12']]), ['passphrase']);

// The gateway refuses a certificate from another CA. With TLS 1.3 the refusal
// arrives after the client's handshake, but the constructor still reports it.
apns_expect_exception('other-client.pem', $connect(['local_cert' => "$certs/other-client.pem"]),
    [['refused', 'rejected'], 'certificate']);

// A server whose certificate does not chain to a trusted CA.
$other = apns_sandbox_start(['--server-cert', 'other-server']);
apns_expect_exception('server certificate from another CA', $connect([], $other['binary']), [['not trusted', 'untrusted']]);
// The sandbox's own CA is not among the built-in roots: without cafile it is untrusted too.
apns_expect_exception('no cafile', $connect(['cafile' => null]), [['not trusted', 'untrusted'], 'cafile']);

// Nothing listening.
$port = apns_free_port();
apns_expect_exception('nothing listening', $connect([], "ssl://127.0.0.1:$port"), ['refused', "127.0.0.1:$port"]);

// A TCP server that never answers the TLS handshake: the timeout bounds the wait.
[$silent, $silentPort] = apns_silent_server();
$start = microtime(true);
apns_expect_exception('silent server, timeout 1', $connect(['timeout' => 1], "ssl://127.0.0.1:$silentPort"),
    [['timed out', 'timeout', 'time out', 'within 1 s'], "127.0.0.1:$silentPort"]);
$elapsed = microtime(true) - $start;
apns_check('gave up within the timeout (< 3 s)', $elapsed < 3, sprintf('%.1f s', $elapsed));
fclose($silent);
?>
--EXPECT--
client.pem (certificate and key in one file): connects and sends: ok
client-cert.pem + local_pk client-key.pem: connects and sends: ok
rsa-client.pem: connects and sends: ok
certificate + encrypted PKCS#8 in one file: connects and sends: ok
certificate + local_pk encrypted PKCS#8: connects and sends: ok
certificate + traditional encrypted EC key: connects and sends: ok
certificate + local_pk traditional EC key: connects and sends: ok
RSA certificate + traditional DES-EDE3 key: connects and sends: ok
PKCS#12: connects and sends: ok
PKCS#12 -legacy: connects and sends: ok
-- errors
missing local_cert: ApnsException
missing local_pk: ApnsException
missing cafile: ApnsException
certificate without its key: ApnsException
wrong passphrase, PKCS#8: ApnsException
wrong passphrase, traditional: ApnsException
wrong passphrase, PKCS#12: ApnsException
missing passphrase, PKCS#8: ApnsException
missing passphrase, traditional: ApnsException
missing passphrase, PKCS#12: ApnsException
other-client.pem: ApnsException
server certificate from another CA: ApnsException
no cafile: ApnsException
nothing listening: ApnsException
silent server, timeout 1: ApnsException
gave up within the timeout (< 3 s): ok

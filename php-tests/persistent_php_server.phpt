--TEST--
persistent: 100 HTTP requests to a real PHP web server (php -S), each sending one notification, share one gateway connection; an earlier request's failure is never reported to a later one
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$bad = apns_token(999);
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file([$bad])]);
$ext = getenv('APNS_EXTENSION') ?: __DIR__ . '/../target/release/libapns.so';

// The web application: one notification per request, through a persistent connection.
$docroot = apns_temp_dir('docroot');
file_put_contents("$docroot/push.php", <<<'PHP'
<?php
$c = new ApnsConnection(getenv('APNS_URL'), [
    'local_cert' => getenv('APNS_CERT'), 'cafile' => getenv('APNS_CA'), 'persistent' => true,
]);
$c->send($_GET['token'], ['aps' => ['alert' => 'request ' . $_GET['n']]]);
if (isset($_GET['flush'])) {
    echo json_encode(['failures' => $c->flush(), 'error' => $c->readErrorResponse()]), "\n";
}
$s = $c->stats();
echo json_encode(['persistent' => $s['persistent'], 'connected' => $s['connected']]), "\n";
PHP);

$port = apns_free_port();
$env = ['APNS_URL' => $sb['binary'], 'APNS_CERT' => $sb['certs'] . '/client.pem', 'APNS_CA' => $sb['certs'] . '/ca.pem'];
$server = proc_open(
    [PHP_BINARY, '-n', '-d', "extension=$ext", '-S', "127.0.0.1:$port", '-t', $docroot],
    [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
    $pipes, null, $env + getenv()
);
$get = function (string $query) use ($port): string|false {
    for ($try = 0; $try < 50; $try++) {
        $body = @file_get_contents("http://127.0.0.1:$port/push.php?$query");
        if ($body !== false) {
            return $body;
        }
        usleep(100000);
    }
    return false;
};

$tokens = [];
$answers = [];
for ($n = 1; $n <= 100; $n++) {
    $tokens[] = apns_token($n);
    $answers[] = $get('n=' . $n . '&token=' . apns_token($n));
}
apns_check('every request answered', !in_array(false, $answers, true));
apns_check('every request used a persistent, connected ApnsConnection',
    count(array_unique($answers)) === 1 && trim($answers[0]) === '{"persistent":true,"connected":true}', $answers[0]);

// Request 101 sends an invalid token and ends without flush(); request 102 flushes.
$get('n=101&token=' . $bad);
$tokens[] = apns_token(102);
$last = $get('n=102&flush=1&token=' . apns_token(102));
echo "request 102 sees: ", strtok($last, "\n"), "\n";

usleep(300000);
$rows = apns_log($sb);
$connections = array_unique(array_column($rows, 'conn'));
$tally = apns_tally($sb, $tokens, [$bad]);
printf("logged=%d connections before the rejection=%d lost=%d duplicates=%d\n",
    count($rows), count(array_unique(array_column(array_slice($rows, 0, 100), 'conn'))), count($tally['lost']), $tally['duplicates']);

proc_terminate($server);
proc_close($server);
?>
--EXPECT--
every request answered: ok
every request used a persistent, connected ApnsConnection: ok
request 102 sees: {"failures":[],"error":null}
logged=101 connections before the rejection=1 lost=0 duplicates=0

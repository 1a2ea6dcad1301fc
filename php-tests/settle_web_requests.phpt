--TEST--
Settled by proof, the web request case: php -S, a persistent connection and flush(0.2) per request; on a prompt gateway each request gets its own failures (the bad token of request 50 is reported to request 50 only); on a gateway 0.7 s late nothing is lost and no request is told of another's rejection
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$ext = getenv('APNS_EXTENSION') ?: __DIR__ . '/../target/release/libapns.so';
$docroot = apns_temp_dir('docroot');
file_put_contents("$docroot/push.php", <<<'PHP'
<?php
$c = new ApnsConnection(getenv('APNS_URL'), [
    'local_cert' => getenv('APNS_CERT'), 'cafile' => getenv('APNS_CA'), 'persistent' => true,
]);
$c->send($_GET['token'], ['aps' => ['alert' => 'request ' . $_GET['n']]]);
$failures = isset($_GET['settle']) ? $c->flush() : $c->flush(0.2);
echo json_encode(['failures' => array_column($failures, 'token'), 'pending' => $c->stats()['pending']]);
PHP);

/** Starts php -S for one sandbox; returns a function that makes request $n. */
function web_app(array $sb, string $ext, string $docroot): array
{
    $port = apns_free_port();
    $env = ['APNS_URL' => $sb['binary'], 'APNS_CERT' => $sb['certs'] . '/client.pem', 'APNS_CA' => $sb['certs'] . '/ca.pem'];
    $server = proc_open(
        [PHP_BINARY, '-n', '-d', "extension=$ext", '-S', "127.0.0.1:$port", '-t', $docroot],
        [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
        $pipes, null, $env + getenv()
    );
    $get = function (string $query) use ($port): ?array {
        for ($try = 0; $try < 50; $try++) {
            $body = @file_get_contents("http://127.0.0.1:$port/push.php?$query");
            if ($body !== false) {
                return json_decode($body, true);
            }
            usleep(100000);
        }
        return null;
    };
    return [$server, $get];
}

foreach ([null, 0.7] as $delay) {
    $bad = apns_token($delay === null ? 1050 : 2010);
    $count = $delay === null ? 100 : 20;
    $badAt = $delay === null ? 50 : 10;
    $flags = ['--invalid-tokens', apns_invalid_tokens_file([$bad])];
    if ($delay !== null) {
        array_push($flags, '--error-delay', $delay);
    }
    $sb = apns_sandbox_start($flags);
    [$server, $get] = web_app($sb, $ext, $docroot);
    $tokens = [];
    $told = [];
    for ($n = 1; $n <= $count; $n++) {
        $token = $n === $badAt ? $bad : apns_token(($delay === null ? 1000 : 2000) + $n);
        $tokens[] = $token;
        $answer = $get("n=$n&token=$token");
        if ($answer === null) {
            $told["request $n"] = 'no answer';
        } elseif ($answer['failures'] !== []) {
            $told["request $n"] = $answer['failures'];
        }
    }
    // One last request settles everything without a deadline.
    $tokens[] = $last = apns_token(($delay === null ? 1000 : 2000) + 999);
    $final = $get("n=last&settle=1&token=$last");
    $valid = array_values(array_diff($tokens, [$bad]));
    $tally = apns_tally($sb, $valid, [$bad]);
    proc_terminate($server);
    proc_close($server);
    apns_sandbox_stop($sb);

    if ($delay === null) {
        apns_check("prompt gateway: only request $badAt was told of a failure, its own",
            $told === ["request $badAt" => [$bad]], json_encode($told));
    } else {
        // Request 10's rejection comes 0.7 s late, after its flush(0.2) returned:
        // it is counted by the kept connection and reported to no request.
        apns_check('0.7 s late: no request was told of a failure', $told === [], json_encode($told));
    }
    $label = $delay === null ? 'prompt gateway' : '0.7 s late';
    apns_check("$label: the last request leaves nothing pending", $final !== null && $final['pending'] === 0, json_encode($final));
    apns_check("$label: every valid notification in the log exactly once, the bad one never",
        $tally['lost'] === [] && $tally['duplicates'] === 0 && $tally['invalid_logged'] === 0,
        count($tally['lost']) . " lost, {$tally['duplicates']} duplicates");
}
?>
--EXPECT--
prompt gateway: only request 50 was told of a failure, its own: ok
prompt gateway: the last request leaves nothing pending: ok
prompt gateway: every valid notification in the log exactly once, the bad one never: ok
0.7 s late: no request was told of a failure: ok
0.7 s late: the last request leaves nothing pending: ok
0.7 s late: every valid notification in the log exactly once, the bad one never: ok

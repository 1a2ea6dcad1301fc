--TEST--
Push worker options for HTTP/2 token auth: missing or inconsistent options exit 1 with a message naming the option (command line or environment); a key APNs refuses (403) stops the worker with exit 1 and leaves every notification queued, no attempt counted; the key's text is never printed
--EXTENSIONS--
pdo
pdo_sqlite
--SKIPIF--
<?php
if (!extension_loaded('apns')) die('skip apns not loaded');
if (!extension_loaded('pdo_sqlite')) die('skip pdo_sqlite not available (apt-get install php8.2-sqlite3, or scripts/deps-examples)');
?>
--FILE--
<?php
require __DIR__ . '/apns.inc';
require __DIR__ . '/../examples/worker/tests-support.php';

use Apns\Worker\Queue;

$sb = apns_sandbox_start();
$dir = apns_temp_dir('worker-options');
$key = $sb['certs'] . '/auth-key.p8';
$keyText = (string) file_get_contents($key);
$keyBody = trim(explode("\n", trim($keyText))[1]);
// A file that is not a key, holding a "secret" that must not be echoed either.
file_put_contents("$dir/not-a-key.p8", "SECRET-NOT-A-KEY-0123456789\n");
// A PEM block of the right kind whose contents are not a key.
$badPem = "-----BEGIN PRIVATE KEY-----\nU0VDUkVULUdBUkJBR0UtS0VZLUJPRFk=\n-----END PRIVATE KEY-----\n";

/** Runs worker.php with these arguments and only these APNS_* variables; returns [exit code, output]. */
function run_worker(array $args, array $env = []): array
{
    $cmd = array_merge(worker_php_command(), [__DIR__ . '/../examples/worker/worker.php'], $args);
    $env += ['PATH' => (string) getenv('PATH'), 'APNS_SANDBOX' => apns_sandbox_binary()];
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]], $pipes, null, $env);
    $output = (string) stream_get_contents($pipes[1]);
    fclose($pipes[1]);
    return [proc_close($proc), $output];
}

$api = ['--gateway', 'https://api.push.apple.com', '--db', "sqlite:$dir/unused.sqlite"];
$ids = ['--key-id', 'ABC123DEFG', '--team-id', 'DEF123GHIJ', '--topic', 'com.example.app'];
$cases = [
    'https:// without credentials' => [$api, []],
    'no --key-id' => [[...$api, '--auth-key', $key, '--team-id', 'DEF123GHIJ', '--topic', 'com.example.app'], []],
    'no --team-id' => [[...$api, '--auth-key', $key, '--key-id', 'ABC123DEFG', '--topic', 'com.example.app'], []],
    'no --topic' => [[...$api, '--auth-key', $key, '--key-id', 'ABC123DEFG', '--team-id', 'DEF123GHIJ'], []],
    'key id of 4 characters' => [[...$api, '--auth-key', $key, ...$ids, '--key-id=ABCD'], []],
    'team id from the environment, with a space' => [[...$api, '--auth-key', $key, '--key-id', 'ABC123DEFG', '--topic', 'x.y'],
        ['APNS_TEAM_ID' => 'DEF 23GHIJ']],
    'missing key file' => [[...$api, '--auth-key', "$dir/AuthKey_NOPE.p8", ...$ids], []],
    'file that is not a key' => [[...$api, '--auth-key', "$dir/not-a-key.p8", ...$ids], []],
    'key with a binary gateway' => [['--gateway', 'ssl://gateway.push.apple.com:2195', '--cert', $key, '--auth-key', $key, ...$ids], []],
    'topic with a binary gateway' => [['--gateway', 'ssl://gateway.push.apple.com:2195', '--cert', $key], ['APNS_TOPIC' => 'com.example.app']],
    'key and certificate' => [[...$api, '--auth-key', $key, ...$ids, '--cert', $key], []],
    'key id without a key' => [[...$api, '--cert', $key, '--key-id', 'ABC123DEFG'], []],
    'unknown push type' => [[...$api, '--auth-key', $key, ...$ids, '--push-type', 'loud'], []],
    'feedback with token auth' => [[...$api, '--auth-key', $key, ...$ids, '--feedback', 'ssl://feedback.push.apple.com:2196'], []],
    'credentials without --gateway' => [['--auth-key', $key, ...$ids, '--db', "sqlite:$dir/unused.sqlite"], []],
    'protocol of the sandbox with a gateway' => [[...$api, '--auth-key', $key, ...$ids, '--sandbox-protocol', 'http2'], []],
    'key text without its PEM lines, from the environment' => [[...$api, ...$ids], ['APNS_AUTH_KEY' => str_repeat($keyBody, 2)]],
    // The extension reads the key when connecting: not a key inside.
    'PEM text that is not a key, from the environment' => [['--gateway', $sb['http2'], '--cafile', $sb['certs'] . '/ca.pem',
        '--db', "sqlite:$dir/unused.sqlite", '--once', ...$ids], ['APNS_AUTH_KEY' => $badPem]],
];
foreach ($cases as $label => [$args, $env]) {
    [$code, $output] = run_worker($args, $env);
    $secret = str_contains($output, $keyBody) || str_contains($output, 'SECRET') || str_contains($output, 'U0VDUkVU');
    printf("%s: exit %d%s\n  %s\n", $label, $code, $secret ? ' KEY TEXT PRINTED' : '',
        preg_replace('/^.*? (error|warning) +/', '', trim(preg_grep('/worker: |error /', explode("\n", $output))
            ? implode("\n", preg_grep('/worker: |error /', explode("\n", $output))) : $output)));
}

// APNs refuses the provider token (a key id it does not know): 403 InvalidProviderToken.
$queue = Queue::open("sqlite:$dir/queue.sqlite");
worker_seed($queue, 50, 20);
$args = array_merge(worker_http2_args($sb), ['--db', "sqlite:$dir/queue.sqlite", '--once']);
$args[array_search('--key-id', $args) + 1] = 'ZZZ999ZZZZ';
[$code, $output] = run_worker($args);
printf("refused key id: exit %d\n  %s\n", $code, implode("\n  ", array_map(fn($l) => preg_replace('/^\S+ \S+ /', '', $l),
    preg_grep('/ error /', explode("\n", $output)))));
$states = $queue->pdo()->query('SELECT state, SUM(attempts) AS attempts, COUNT(*) AS n FROM notifications GROUP BY state')->fetchAll();
echo 'queue: ', json_encode($states), "\n";
$deliveries = (int) $queue->pdo()->query('SELECT COUNT(*) FROM deliveries')->fetchColumn();
apns_check('nothing recorded, no token deactivated', $deliveries === 0
    && (int) $queue->pdo()->query('SELECT COUNT(*) FROM device_tokens WHERE active = 0')->fetchColumn() === 0);

// The same queue with the right key id: everything goes.
[$code, $output] = run_worker(array_merge(worker_http2_args($sb), ['--db', "sqlite:$dir/queue.sqlite", '--once']));
$states = $queue->pdo()->query('SELECT state, COUNT(*) FROM notifications GROUP BY state')->fetchAll(PDO::FETCH_KEY_PAIR);
printf("right key id: exit %d, %s\n", $code, json_encode($states));
?>
--EXPECTF--
https:// without credentials: exit 1
  worker: --auth-key is needed with --gateway https://api.push.apple.com: the .p8 key of your Apple Developer account, with --key-id, --team-id and --topic (or --cert for certificate auth)
no --key-id: exit 1
  worker: --key-id is needed with --auth-key: the 10-character Key ID of the .p8 key, from your Apple Developer account
no --team-id: exit 1
  worker: --team-id is needed with --auth-key: your 10-character Team ID, from your Apple Developer account
no --topic: exit 1
  worker: --topic is needed with --auth-key: your app's bundle id, e.g. com.example.app, sent as apns-topic
key id of 4 characters: exit 1
  worker: --key-id must be 10 letters or digits, not 'ABCD'
team id from the environment, with a space: exit 1
  worker: --team-id (APNS_TEAM_ID) must be 10 letters or digits, not 'DEF 23GHIJ'
missing key file: exit 1
  worker: --auth-key: cannot read '%s/AuthKey_NOPE.p8'
file that is not a key: exit 1
  worker: --auth-key '%s/not-a-key.p8' is not an APNs auth key (expected the '-----BEGIN PRIVATE KEY-----' block of an AuthKey_KEYID.p8 file)
key with a binary gateway: exit 1
  worker: --auth-key is for the HTTP/2 API (--gateway https://api.push.apple.com); ssl://gateway.push.apple.com:2195 speaks the binary protocol
topic with a binary gateway: exit 1
  worker: --topic (APNS_TOPIC) is for the HTTP/2 API (--gateway https://api.push.apple.com); ssl://gateway.push.apple.com:2195 speaks the binary protocol
key and certificate: exit 1
  worker: --auth-key and --cert: choose token auth or certificate auth, not both
key id without a key: exit 1
  worker: --key-id is only used with --auth-key (token auth)
unknown push type: exit 1
  worker: --push-type must be one of alert, background, voip, complication, fileprovider, mdm, location, liveactivity, pushtotalk, not 'loud'
feedback with token auth: exit 1
  worker: --feedback needs --cert: the feedback service only takes certificate auth (the HTTP/2 API reports dead tokens as 410 Unregistered instead)
credentials without --gateway: exit 1
  worker: --auth-key needs --gateway: without it the worker starts the local sandbox gateway and uses its throwaway credentials
protocol of the sandbox with a gateway: exit 1
  worker: --sandbox-protocol is for the local sandbox (no --gateway); the gateway's URL says the protocol (ssl:// binary, https:// HTTP/2)
key text without its PEM lines, from the environment: exit 1
  worker: --auth-key (APNS_AUTH_KEY): cannot read it: the value is not a file's path and looks like key text without its '-----BEGIN PRIVATE KEY-----' line (not shown)
PEM text that is not a key, from the environment: exit 1
  cannot connect: the --auth-key PEM text is not a usable %s
refused key id: exit 1
  error   APNs refused the credentials (InvalidProviderToken, HTTP 403): check the key, key id, team id and topic (or the certificate); the notifications stay queued
queue: [{"state":"queued","attempts":0,"n":50}]
nothing recorded, no token deactivated: ok
right key id: exit 0, {"sent":50}

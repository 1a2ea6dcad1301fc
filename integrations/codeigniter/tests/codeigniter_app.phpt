--TEST--
CodeIgniter 3.1.13 (Debian's php-codeigniter-framework): the Push controller, served by php -S through CodeIgniter's own front controller, sends to every token of a collection with the Apns_push library and reports the invalid ones
--SKIPIF--
<?php
if (!extension_loaded('apns')) die('skip apns not loaded');
if (!is_file((getenv('APNS_CODEIGNITER_DIR') ?: '/usr/share/php-codeigniter-framework') . '/system/core/CodeIgniter.php')) {
    die('skip php-codeigniter-framework is not installed (Debian 13 packages CodeIgniter 3.1.13, Debian 12 does not: scripts/run test-debian13 runs this test)');
}
?>
--FILE--
<?php
require __DIR__ . '/../../../php-tests/apns.inc';

/*
 * A CodeIgniter application as a user makes one from Debian's package: the
 * package's application/ skeleton and index.php (its front controller, pointing
 * at /usr/share/php-codeigniter-framework/system), plus this integration's three
 * files, plus the application's own model (here: the seed's init_mongo, over a
 * JSON file instead of MongoDB). Served by `php -S`, called over HTTP.
 */
// APNS_CODEIGNITER_DIR: the package unpacked elsewhere (dpkg -x), to run this by hand.
define('CI_PACKAGE', getenv('APNS_CODEIGNITER_DIR') ?: '/usr/share/php-codeigniter-framework');

function copy_tree(string $from, string $to): void
{
    @mkdir($to, 0777, true);
    foreach (new RecursiveIteratorIterator(new RecursiveDirectoryIterator($from, FilesystemIterator::SKIP_DOTS),
        RecursiveIteratorIterator::SELF_FIRST) as $item) {
        $target = $to . '/' . substr($item->getPathname(), strlen($from) + 1);
        $item->isDir() ? @mkdir($target, 0777, true) : copy($item->getPathname(), $target);
    }
}

function make_app(): string
{
    $app = sys_get_temp_dir() . '/apns-ci-app-' . getmypid() . '-' . bin2hex(random_bytes(4));
    copy_tree(CI_PACKAGE . '/application', "$app/application");
    copy_tree(dirname(__DIR__) . '/application', "$app/application");
    $index = file_get_contents(CI_PACKAGE . '/index.php');
    // Debian's index.php names its system/ and application/ by absolute paths.
    $set = function (string $variable, string $value) use (&$index): void {
        $index = preg_replace_callback('/^(\s*)\$' . $variable . " = '[^']*';/m",
            fn($m) => $m[1] . '$' . $variable . ' = ' . var_export($value, true) . ';', $index, 1, $count);
        if ($count !== 1) {
            throw new RuntimeException("index.php: no \$$variable to set");
        }
    };
    $set('system_path', CI_PACKAGE . '/system');
    $set('application_folder', "$app/application");
    file_put_contents("$app/index.php", $index);
    // Errors and informational messages (log_message('info', …)) to the app's own logs/
    // (Debian's CI_Log writes one file there, log.php or log-DATE.php).
    $config = file_get_contents("$app/application/config/config.php");
    $config = preg_replace("/^\\\$config\\['log_threshold'\\] = .*$/m", "\$config['log_threshold'] = array(1, 3);", $config);
    $config = preg_replace("/^\\\$config\\['log_path'\\] = .*$/m", "\$config['log_path'] = '$app/logs/';", $config);
    file_put_contents("$app/application/config/config.php", $config);
    mkdir("$app/logs");
    // The application's model: the seed's init_mongo, reading the tokens from a file.
    file_put_contents("$app/application/models/Init_mongo.php", <<<'PHP'
<?php
defined('BASEPATH') OR exit('No direct script access allowed');
/** The seed's init_mongo model over a JSON list: $db->devicetoken->find() yields ['_id' => token]. */
class Init_mongo extends CI_Model
{
    public function get_resouce($name)
    {
        $tokens = json_decode(file_get_contents(getenv('APNS_TEST_TOKENS')), true);
        $collection = new class($tokens) {
            private $tokens;
            public function __construct($tokens) { $this->tokens = $tokens; }
            public function find() { foreach ($this->tokens as $t) { yield array('_id' => $t); } }
        };
        return (object) array('devicetoken' => $collection);
    }
}
PHP);
    return $app;
}

/** `php -S` on a free port serving $app through its index.php, with $env; returns [process, port]. */
function serve(string $app, array $env): array
{
    $port = apns_free_port();
    $cmd = [PHP_BINARY, '-n', '-d', 'extension=' . getenv('APNS_EXTENSION'), '-d', 'display_errors=1',
        '-d', 'error_reporting=' . E_ALL, '-S', "127.0.0.1:$port", '-t', $app, "$app/index.php"];
    $process = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['file', "$app/server.out", 'a'], 2 => ['file', "$app/server.out", 'a']],
        $pipes, $app, $env + ['PATH' => getenv('PATH'), 'CI_ENV' => 'development']);
    for ($i = 0; $i < 100; $i++) {
        $s = @fsockopen('127.0.0.1', $port, $errno, $errstr, 0.1);
        if ($s) {
            fclose($s);
            return [$process, $port];
        }
        usleep(50000);
    }
    throw new RuntimeException("php -S did not listen on $port: " . file_get_contents("$app/server.out"));
}

function get(int $port, string $path): array
{
    $context = stream_context_create(['http' => ['timeout' => 60, 'ignore_errors' => true]]);
    $body = file_get_contents("http://127.0.0.1:$port$path", false, $context);
    return [$http_response_header[0] ?? '', (string) $body];
}

// 30 tokens in the collection (the seed's spaces in some), 3 of them invalid.
$invalid = [apns_token(4), apns_token(15), apns_token(26)];
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($invalid)]);
$tokens = [];
for ($i = 1; $i <= 30; $i++) {
    $tokens[] = $i % 10 === 1 ? trim(chunk_split(apns_token($i), 8, ' ')) : apns_token($i);
}
$app = make_app();
file_put_contents("$app/tokens.json", json_encode($tokens));
$env = ['APNS_TEST_TOKENS' => "$app/tokens.json", 'APNS_GATEWAY' => $sb['binary'],
    'APNS_CERT' => "{$sb['certs']}/client.pem", 'APNS_CAFILE' => "{$sb['certs']}/ca.pem"];
[$server, $port] = serve($app, $env);

[$status, $page] = get($port, '/index.php/push/send');
echo "HTTP: $status\n";
$lines = explode('<br/>', $page);
echo preg_replace('/in [0-9.]+ s/', 'in N s', $lines[0]), "\n";
$failedLines = preg_grep('/^Failed: /', $lines);
sort($failedLines);
$want = array_map(fn($t) => "Failed: $t: 8-Invalid token", $invalid);
sort($want);
apns_check('the page lists exactly the 3 invalid tokens, status 8', $failedLines === $want, $page);
echo end($lines), "\n";

$rows = apns_log($sb);
$valid = array_values(array_diff(array_map('apns_token', range(1, 30)), $invalid));
$tally = apns_tally($sb, $valid, $invalid);
printf("gateway log: rows=%d delivered=%d lost=%d duplicates=%d invalid=%d\n", $tally['rows'], $tally['delivered'],
    count($tally['lost']), $tally['duplicates'], $tally['invalid_logged']);
echo 'payload: ', $rows[0]['payload'], "\n";
apns_check('expiry is a day ahead, as in the old code', abs($rows[0]['expiry'] - (time() + 86400)) < 60, (string) $rows[0]['expiry']);

// CodeIgniter's own log (log_message('info', …) in the controller).
$log = implode('', array_map('file_get_contents', glob("$app/logs/*") ?: []));
apns_check("CodeIgniter's log has one INFO line per rejected token", preg_match_all('/^INFO - .* --> APNs rejected [0-9a-f]{64}: 8-Invalid token$/m', $log) === 3, $log);
apns_check("CodeIgniter's log has no ERROR line", !str_contains($log, 'ERROR - '), $log);

// A second request to the same server process ('persistent' => true in
// config/apns.php) gets the connection the first request left (its counters
// go on from 30); the gateway closed the TLS connection after answering the
// first request's settling probe, so the engine reconnected for it.
[$status, $page] = get($port, '/index.php/push/send');
$secondLines = explode('<br/>', $page);
echo 'second request: ', preg_replace('/in [0-9.]+ s/', 'in N s', $secondLines[0]), "\n";
$second = array_slice(apns_log($sb), count($rows));
printf("second request: rows=%d\n", count($second));
$connectionLine = array_values(preg_grep('/^Connection: /', $secondLines))[0] ?? '';
apns_check('second request: the persistent connection is reused', $connectionLine === 'Connection: 60 sent since it was opened (persistent)',
    $connectionLine);
proc_terminate($server);
proc_close($server);

// A gateway that is down: the page says so, naming host and port; nothing escapes.
$env['APNS_GATEWAY'] = 'ssl://127.0.0.1:' . apns_free_port();
[$server, $port] = serve($app, $env);
[$status, $page] = get($port, '/index.php/push/send');
echo "gateway down: HTTP: $status\n";
apns_check('gateway down: the page says so, naming host and port', str_starts_with($page, 'Push failed: ') && str_contains($page, '127.0.0.1'), $page);
$log = implode('', array_map('file_get_contents', glob("$app/logs/*") ?: []));
apns_check("gateway down: CodeIgniter's log has the ERROR line", preg_match('/^ERROR - .* --> APNs: .*127\.0\.0\.1/m', $log) === 1, $log);
proc_terminate($server);
proc_close($server);
apns_sandbox_stop($sb);
if (!getenv("APNS_KEEP")) exec("rm -rf " . escapeshellarg($app));
?>
--EXPECT--
HTTP: HTTP/1.1 200 OK
Sent 30 notifications in N s
the page lists exactly the 3 invalid tokens, status 8: ok
Completed
gateway log: rows=27 delivered=27 lost=0 duplicates=0 invalid=0
payload: {"aps":{"alert":"apns test~","sound":"default","badge":1}}
expiry is a day ahead, as in the old code: ok
CodeIgniter's log has one INFO line per rejected token: ok
CodeIgniter's log has no ERROR line: ok
second request: Sent 30 notifications in N s
second request: rows=27
second request: the persistent connection is reused: ok
gateway down: HTTP: HTTP/1.1 200 OK
gateway down: the page says so, naming host and port: ok
gateway down: CodeIgniter's log has the ERROR line: ok

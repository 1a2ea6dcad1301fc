--TEST--
Hostile gateway (apns-sandbox --hostile MODE, expired / other-host certificates): the client stays within its timeout and memory, names the cause, and claims nothing delivered that the gateway did not log
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

/** VmRSS of this process in bytes (0 where /proc is missing). */
function rss(): int
{
    $status = @file_get_contents('/proc/self/status');
    return preg_match('/^VmRSS:\s+(\d+) kB/m', (string) $status, $m) ? (int) $m[1] * 1024 : 0;
}

/**
 * Runs one hostile case: connect with $timeout, send $n notifications, flush().
 * Prints the checks common to every case and returns
 * ['message' => exception message or null, 'elapsed' => s, 'mem' => bytes, 'rss' => bytes].
 */
function hostile_case(string $label, array $flags, int $n, float $timeout, array $extra = []): array
{
    $sb = apns_sandbox_start($flags);
    $tokens = array_map('apns_token', range(1, $n));
    gc_collect_cycles();
    $mem0 = memory_get_usage();
    $rss0 = rss();
    $start = microtime(true);
    $message = null;
    $failures = [];
    $c = null;
    $sent = [];    // the tokens send() took: only those can be claimed delivered
    try {
        $c = new ApnsConnection($sb['binary'], apns_options($sb, $extra + ['timeout' => $timeout]));
        foreach ($tokens as $i => $token) {
            $c->send($token, ['aps' => ['alert' => "n$i"]]);
            $sent[] = $token;
        }
        $failures = $c->flush();
    } catch (ApnsException $e) {
        $message = $e->getMessage();
    } catch (Throwable $e) {
        $message = get_class($e) . ' (not ApnsException): ' . $e->getMessage();
    }
    $elapsed = microtime(true) - $start;
    if ($c !== null) {
        $failures = array_merge($failures, $c->failures());
    }
    $mem = memory_get_usage() - $mem0;
    $rss = rss() - $rss0;
    if (getenv('APNS_SHOW_MESSAGES') === '1') {
        fwrite(STDERR, sprintf("[%s] %.2f s, mem %+d B, rss %+d kB: %s\n", $label, $elapsed, $mem, $rss >> 10, $message ?? '(no exception)'));
    }
    apns_check("$label: within 3 x timeout", $elapsed < 3 * $timeout, sprintf('%.2f s', $elapsed));
    apns_check("$label: ApnsException, not another error", $message === null || !str_contains($message, 'not ApnsException'), (string) $message);

    // Accounting: what is not listed as failed is claimed delivered, so it must be in the log.
    $logged = array_count_values(array_column(apns_log($sb), 'token'));
    $failed = [];
    foreach ($failures as $f) {
        $failed[$f['token']] = $f['status'];
    }
    $claimedNotLogged = array_filter($sent, fn($t) => !isset($failed[$t]) && !isset($logged[$t]));
    apns_check("$label: no notification claimed delivered that the gateway did not log", $claimedNotLogged === [],
        count($claimedNotLogged) . ' of ' . count($sent) . ' claimed but not logged');
    apns_check("$label: every failure is status 255 and a token we sent",
        array_diff(array_unique(array_values($failed)), [255]) === [] && array_diff(array_keys($failed), $tokens) === [],
        json_encode(array_slice($failures, 0, 1)));
    apns_check("$label: the log holds only tokens we sent", array_diff(array_keys($logged), $tokens) === []);
    if ($c !== null) {
        try {
            $c->close();
        } catch (ApnsException $e) {
        }
    }
    apns_sandbox_stop($sb);
    return ['message' => $message, 'elapsed' => $elapsed, 'mem' => $mem, 'rss' => $rss];
}

/** Prints whether $message names the cause (each keyword: a string or a list of alternatives). */
function names_cause(string $label, ?string $message, array $keywords): void
{
    $missing = [];
    foreach ($keywords as $keyword) {
        $hit = false;
        foreach ((array) $keyword as $alt) {
            $hit = $hit || ($message !== null && stripos($message, $alt) !== false);
        }
        if (!$hit) {
            $missing[] = implode('|', (array) $keyword);
        }
    }
    apns_check("$label: the message names the cause", $message !== null && $missing === [],
        'lacks ' . implode(', ', $missing) . ': ' . ($message ?? '(no exception)'));
}

$t = 1.0;

// garbage: "HTTP/1.1 400 Bad Request" where an error response belongs.
// (Once failed: the cause was replaced by a zero-second connect's timeout.)
$r = hostile_case('garbage', ['--hostile', 'garbage'], 5, $t);
names_cause('garbage', $r['message'], [['not an error response']]);

// endless: 4 MiB/s of noise after the first frame. Memory must stay bounded.
$r = hostile_case('endless', ['--hostile', 'endless'], 5, $t);
names_cause('endless', $r['message'], [['not an error response']]);
apns_check('endless: PHP memory grew < 2 MB', $r['mem'] < 2 << 20, "{$r['mem']} B");
apns_check('endless: RSS grew < 8 MB', $r['rss'] < 8 << 20, ($r['rss'] >> 10) . ' kB');
// A longer life against the same gateway: ~1500 notifications, a probe instead of the grace period.
$r = hostile_case('endless, 1500', ['--hostile', 'endless'], 1500, $t);
apns_check('endless, 1500: RSS grew < 8 MB', $r['rss'] < 8 << 20, ($r['rss'] >> 10) . ' kB');

// unknown-id: status 8 for identifier 0x7fffffff, never sent: treated as a drop, never misattributed.
$r = hostile_case('unknown-id', ['--hostile', 'unknown-id'], 5, $t);
names_cause('unknown-id', $r['message'], [['2147483647', 'no notification in flight']]);

// stall-handshake: the ClientHello is never answered; the constructor says so.
$r = hostile_case('stall-handshake', ['--hostile', 'stall-handshake'], 5, $t);
names_cause('stall-handshake', $r['message'], [['handshake'], ['did not finish', 'did not answer']]);

// stall-record, a small batch: the grace period must not take half a TLS record
// for silence (once failed: flush() claimed the 5 unlogged ones delivered).
$r = hostile_case('stall-record', ['--hostile', 'stall-record'], 5, $t);
names_cause('stall-record', $r['message'], [['stopped answering', 'did not answer', 'timed out']]);

// stall-record, a large batch: settled by a probe that is never answered.
$r = hostile_case('stall-record, 1500', ['--hostile', 'stall-record'], 1500, $t);
names_cause('stall-record, 1500', $r['message'], [['stopped answering', 'did not answer', 'timed out']]);

// Certificates signed by the trusted CA, but expired / for another name.
$sb = apns_sandbox_start(['--server-cert', 'expired-server']);
$start = microtime(true);
apns_expect_exception('expired certificate', fn() => new ApnsConnection($sb['binary'], apns_options($sb, ['timeout' => $t])),
    ['not trusted', 'expired']);
apns_check('expired certificate: within the timeout', microtime(true) - $start < 3 * $t);

$sb = apns_sandbox_start(['--server-cert', 'otherhost-server']);
$start = microtime(true);
apns_expect_exception('other-host certificate', fn() => new ApnsConnection($sb['binary'], apns_options($sb, ['timeout' => $t])),
    ['not trusted', ['gateway.example.net', 'peer_name'], '127.0.0.1']);
apns_check('other-host certificate: within the timeout', microtime(true) - $start < 3 * $t);
// With peer_name naming the certificate's host, the same gateway is fine.
$c = new ApnsConnection($sb['binary'], apns_options($sb, ['timeout' => 2, 'peer_name' => 'gateway.example.net']));
$c->send(apns_token(1), ['aps' => ['alert' => 'hi']]);
echo 'peer_name gateway.example.net: flush ', json_encode($c->flush()), ', logged ', count(apns_log($sb)), "\n";
$c->close();
?>
--EXPECT--
garbage: within 3 x timeout: ok
garbage: ApnsException, not another error: ok
garbage: no notification claimed delivered that the gateway did not log: ok
garbage: every failure is status 255 and a token we sent: ok
garbage: the log holds only tokens we sent: ok
garbage: the message names the cause: ok
endless: within 3 x timeout: ok
endless: ApnsException, not another error: ok
endless: no notification claimed delivered that the gateway did not log: ok
endless: every failure is status 255 and a token we sent: ok
endless: the log holds only tokens we sent: ok
endless: the message names the cause: ok
endless: PHP memory grew < 2 MB: ok
endless: RSS grew < 8 MB: ok
endless, 1500: within 3 x timeout: ok
endless, 1500: ApnsException, not another error: ok
endless, 1500: no notification claimed delivered that the gateway did not log: ok
endless, 1500: every failure is status 255 and a token we sent: ok
endless, 1500: the log holds only tokens we sent: ok
endless, 1500: RSS grew < 8 MB: ok
unknown-id: within 3 x timeout: ok
unknown-id: ApnsException, not another error: ok
unknown-id: no notification claimed delivered that the gateway did not log: ok
unknown-id: every failure is status 255 and a token we sent: ok
unknown-id: the log holds only tokens we sent: ok
unknown-id: the message names the cause: ok
stall-handshake: within 3 x timeout: ok
stall-handshake: ApnsException, not another error: ok
stall-handshake: no notification claimed delivered that the gateway did not log: ok
stall-handshake: every failure is status 255 and a token we sent: ok
stall-handshake: the log holds only tokens we sent: ok
stall-handshake: the message names the cause: ok
stall-record: within 3 x timeout: ok
stall-record: ApnsException, not another error: ok
stall-record: no notification claimed delivered that the gateway did not log: ok
stall-record: every failure is status 255 and a token we sent: ok
stall-record: the log holds only tokens we sent: ok
stall-record: the message names the cause: ok
stall-record, 1500: within 3 x timeout: ok
stall-record, 1500: ApnsException, not another error: ok
stall-record, 1500: no notification claimed delivered that the gateway did not log: ok
stall-record, 1500: every failure is status 255 and a token we sent: ok
stall-record, 1500: the log holds only tokens we sent: ok
stall-record, 1500: the message names the cause: ok
expired certificate: ApnsException
expired certificate: within the timeout: ok
other-host certificate: ApnsException
other-host certificate: within the timeout: ok
peer_name gateway.example.net: flush [], logged 1

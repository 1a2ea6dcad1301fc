<?php
/**
 * Long-run memory check of the extension (run by scripts/memcheck):
 *
 *   (a) N connections created and closed (new ApnsConnection + close()),
 *   (b) M notifications through one sendMany() call fed by a generator,
 *   (c) M notifications again, one in 10,000 to an invalid token, against a
 *       checking sandbox: every rejection makes the engine resend what the
 *       gateway discarded, and its window must still not grow,
 *
 * against a local sandbox in sink mode (`apns-sandbox serve --sink`, started
 * through examples/sandbox.php). Prints the process's RSS (VmRSS of
 * /proc/self/status) at every 10 %, and fails (exit 1) when RSS grows by more
 * than the allowed growth after the first 10 % of a phase: what a long-lived
 * worker would leak.
 *
 *   APNS_SANDBOX=target/release/apns-sandbox \
 *     php -n -d extension=target/release/libapns.so scripts/memcheck-rss.php
 *
 * Environment (optional): APNS_RSS_CONNECTIONS (default 100000),
 * APNS_RSS_NOTIFICATIONS (default 1000000), APNS_RSS_GROWTH_KB (default 10240).
 */

declare(strict_types=1);

require_once __DIR__ . '/../examples/sandbox.php';

if (!extension_loaded('apns')) {
    fwrite(STDERR, "memcheck-rss: the apns extension is not loaded (php -d extension=.../libapns.so)\n");
    exit(2);
}
if (!is_readable('/proc/self/status')) {
    fwrite(STDERR, "memcheck-rss: /proc/self/status is needed (Linux)\n");
    exit(2);
}

$connections = (int) (getenv('APNS_RSS_CONNECTIONS') ?: 100000);
$notifications = (int) (getenv('APNS_RSS_NOTIFICATIONS') ?: 1000000);
$allowedKb = (int) (getenv('APNS_RSS_GROWTH_KB') ?: 10240);

function rss_kb(): int
{
    $status = (string) file_get_contents('/proc/self/status');
    return preg_match('/^VmRSS:\s+(\d+)\s+kB/m', $status, $m) ? (int) $m[1] : -1;
}

/**
 * Tracks one phase: call sample($done) at every 10 %; verdict() compares the
 * samples after the first 10 % with it.
 */
final class RssPhase
{
    /** @var array<int, int> percent => RSS kB */
    public array $samples = [];
    private float $started;
    private int $nextPercent = 10;

    public function __construct(public readonly string $name, public readonly int $total)
    {
        $this->started = microtime(true);
        printf("%s: %d, RSS at start %d kB\n", $name, $total, rss_kb());
    }

    public function sample(int $done): void
    {
        while ($this->total > 0 && $done * 100 >= $this->nextPercent * $this->total && $this->nextPercent <= 100) {
            $rss = rss_kb();
            $this->samples[$this->nextPercent] = $rss;
            printf("  %3d %% %9d done  RSS %7d kB  %6.1f s\n", $this->nextPercent, $done, $rss,
                microtime(true) - $this->started);
            $this->nextPercent += 10;
        }
    }

    /**
     * Growth after the first $from % (the warm-up: the resend window filling to
     * its working size), in kB; prints the verdict line.
     */
    public function verdict(int $allowedKb, int $from = 10): bool
    {
        $seconds = microtime(true) - $this->started;
        $base = $this->samples[$from] ?? null;
        if ($base === null || count($this->samples) < 10) {
            printf("%s: FAILED (only %d samples)\n", $this->name, count($this->samples));
            return false;
        }
        $peak = max(array_filter($this->samples, fn ($p) => $p >= $from, ARRAY_FILTER_USE_KEY));
        $growth = $peak - $base;
        $ok = $growth <= $allowedKb;
        printf("%s: %s: RSS %d kB at %d %%, %d kB at 100 %%, peak %d kB, growth after %d %% %+d kB (limit %d kB); %.1f s, %.0f per second\n",
            $this->name, $ok ? 'ok' : 'FAILED', $base, $from, $this->samples[100], $peak, $from, $growth, $allowedKb,
            $seconds, $this->total / max($seconds, 1e-9));
        return $ok;
    }
}

/** Tokens 1..$n for sendMany(), sampling RSS as they are taken (nothing is held in PHP). */
function tokens(int $n, RssPhase $phase): Generator
{
    for ($i = 1; $i <= $n; $i++) {
        yield sprintf('%064x', $i);
        // Back here when sendMany() asks for the next token: $i are sent.
        if ($i % 1000 === 0) {
            $phase->sample($i);
        }
    }
}

$sb = apns_sandbox_start(['sink' => true]);
$options = apns_options($sb, ['timeout' => 30]);
$ok = true;

// (a) connections: each one a TCP connect, a TLS handshake with the client
// certificate, then close().
$phase = new RssPhase('connections (new ApnsConnection + close)', $connections);
for ($i = 1; $i <= $connections; $i++) {
    $c = new ApnsConnection($sb['binary'], $options);
    $c->close();
    unset($c);
    $phase->sample($i);
}
$ok = $phase->verdict($allowedKb) && $ok;

// (b) notifications: one sendMany() over a generator (nothing is held in PHP);
// the generator samples RSS as it goes, while the engine's window is in use.
$phase = new RssPhase('notifications (sendMany from a generator)', $notifications);
$tokens = tokens($notifications, $phase);
$c = new ApnsConnection($sb['binary'], $options);
$result = $c->sendMany($tokens, ['aps' => ['alert' => 'memcheck', 'badge' => 1]]);
$phase->sample($notifications);
$c->close();
printf("  sendMany: sent %d, failed %d, resent %d, %.1f s\n", $result['sent'], count($result['failed']),
    $result['resent'], $result['seconds']);
if ($result['sent'] !== $notifications || count($result['failed']) !== 0) {
    echo "notifications: FAILED (not every notification was sent)\n";
    $ok = false;
}
$ok = $phase->verdict($allowedKb) && $ok;

$accepted = apns_sandbox_stop($sb);
printf("sandbox accepted %s notifications\n", $accepted === null ? '?' : (string) $accepted);

// (c) the same with errors in between: a checking sandbox that rejects one
// token in 10,000 (status 8), so the engine reconnects and resends all along.
$invalid = [];
for ($i = 5000; $i <= $notifications; $i += 10000) {
    $invalid[] = sprintf('%064x', $i);
}
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($invalid)]);
$options = apns_options($sb, ['timeout' => 30]);
$phase = new RssPhase('notifications with 1 in 10,000 rejected', $notifications);
$tokens = tokens($notifications, $phase);
$c = new ApnsConnection($sb['binary'], $options);
$result = $c->sendMany($tokens, ['aps' => ['alert' => 'memcheck', 'badge' => 1]]);
$phase->sample($notifications);
$stats = $c->stats();
$c->close();
printf("  sendMany: sent %d, failed %d (expected %d), resent %d, reconnects %d, %.1f s\n", $result['sent'],
    count($result['failed']), count($invalid), $result['resent'], $stats['reconnects'], $result['seconds']);
if (count($result['failed']) !== count($invalid)) {
    echo "errors: FAILED (the failures are not exactly the invalid tokens)\n";
    $ok = false;
}
// With rejections the window takes longer to reach its working size.
$ok = $phase->verdict($allowedKb, 50) && $ok;
$accepted = apns_sandbox_stop($sb);
printf("sandbox accepted %s notifications (of %d valid)\n", $accepted === null ? '?' : (string) $accepted,
    $notifications - count($invalid));
printf("RSS at the end %d kB\n", rss_kb());
echo $ok ? "memcheck-rss: ok\n" : "memcheck-rss: FAILED\n";
exit($ok ? 0 : 1);

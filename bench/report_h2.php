<?php
/**
 * The HTTP/2 part of bench/report.php (included by it): one table of the rows
 * per sandbox delay, and the targets of issues #5 and #15.
 * Uses $h2Stats (label => stats + parsed label), $h2Note and $problems.
 */

if ($h2Stats === []) {
    return;
}
$maxStreams = (int) ($h2Note['max_streams'] ?? 1000);
echo "\nHTTP/2 rows (issues #5 and #15): https://, token auth, every token distinct; sandbox "
    . ($h2Note['sandbox_args'] ?? '?') . " (no checks, no log) plus --h2-delay-ms DELAY;\n";
echo "curl: " . (($h2Note['curl'] ?? '') === 'ok' ? ($h2Note['curl_desc'] ?? 'ok') . ', HTTP/2 available' : ($h2Note['curl'] ?? '?')) . "\n\n";

/** What the row can carry at most: streams in flight per round trip. */
$bound = function (array $s) use ($maxStreams): ?float {
    if ($s['delay'] === 0) {
        return null;
    }
    $inFlight = $s['kind'] === 'c' ? $s['k'] * $maxStreams : $s['k'];
    return $inFlight * 1000 / $s['delay'];
};
$refAt = function (int $delay) use ($h2Stats): ?float {
    return $h2Stats["h2_curl_multi.s100.d$delay"]['rate'] ?? null;
};

$fmt = "%-40s %5s %5s %10s %8s %8s %8s %9s %9s %7s %s\n";
printf($fmt, 'client', 'delay', 'N', 'notif/s', 'of bound', 'vs curl', 'wall s', 'client', 'sandbox', 'RSS MB', 'arrived');
printf($fmt, '', 'ms', '', '', '', '100', '', 'us/notif', 'us/notif', '', '');
printf($fmt, str_repeat('-', 40), '-----', '-----', '----------', '--------', '--------', '--------', '---------', '---------', '-------', '-------');
$lastDelay = null;
foreach ($h2Stats as $label => $s) {
    if ($lastDelay !== null && $lastDelay !== $s['delay']) {
        echo "\n";
    }
    $lastDelay = $s['delay'];
    $b = $bound($s);
    $r0 = $refAt($s['delay']);
    printf(
        "%-40s %5d %5s %10s %8s %8s %8.3f %9.1f %9.1f %7.1f %s\n",
        $s['text'],
        $s['delay'],
        ($s['n'] / 1000) . 'k',
        number_format($s['rate'], 0, '.', ','),
        $b ? sprintf('%.0f%%', 100 * $s['rate'] / $b) : '-',
        $r0 ? sprintf('%.2fx', $s['rate'] / $r0) : '-',
        $s['wall'],
        $s['us'],
        $s['sb_us'],
        $s['rss'],
        $s['accepted'],
    );
}
echo "\n";
echo "of bound = notif/s / (streams in flight x 1000 / delay): connections x max_streams ($maxStreams) for\n";
echo "           the extension, the requests in flight for curl; vs curl 100 = ratio to curl_multi with\n";
echo "           100 in flight at the same delay\n";
echo "us/notif = CPU microseconds per notification (client: getrusage user+sys; sandbox: /proc/PID/stat)\n";
echo "arrived  = the sandbox's 'accepted N' equals N, no failure, and (extension) nothing sent twice:\n";
echo "           with distinct tokens, every notification accepted exactly once\n";

echo "\ntargets (issue #15, HTTP/2 at a 50 ms round trip, sandbox on the same cores):\n";
$one = $h2Stats['h2_send_many.c1.d50'] ?? null;
$eight = $h2Stats['h2_send_many.c8.d50'] ?? null;
if ($one === null) {
    echo "  not measured (needs BENCH_H2_DELAYS with 50 and BENCH_H2_CONNECTIONS with 1)\n";
} else {
    $b = $bound($one);
    $share = $one['rate'] / $b;
    printf("  one connection: %s notif/s = %.0f%% of its %s/s bound, target >= 85%%: %s\n",
        number_format($one['rate'], 0, '.', ','), 100 * $share, number_format($b, 0, '.', ','), $share >= 0.85 ? 'met' : 'NOT met');
    printf("  one connection: client CPU %.1f us/notif, target <= 12: %s\n", $one['us'], $one['us'] <= 12 ? 'met' : 'NOT met');
    if ($eight !== null) {
        $x = $eight['rate'] / $one['rate'];
        printf("  8 connections: %s notif/s = %.2fx one connection, target >= 3x: %s\n",
            number_format($eight['rate'], 0, '.', ','), $x, $x >= 3 ? 'met' : 'NOT met');
        printf("  8 connections: client CPU %.1f us/notif (informational; target <= 12: %s)\n", $eight['us'], $eight['us'] <= 12 ? 'met' : 'NOT met');
    }
    $bad = array_filter($problems, fn ($p) => str_starts_with($p, 'h2_send_many.c'));
    printf("  nothing lost, each accepted exactly once: %s\n", $bad === [] ? 'met' : 'NOT met (see FAILED)');
}
$g0 = $h2Stats['h2_send_many.c1.d0'] ?? null;
if ($g0 !== null) {
    echo "targets (issue #5, no delay, one connection):\n";
    $r0 = $refAt(0);
    if ($r0) {
        $x = $g0['rate'] / $r0;
        printf("  sendMany vs curl_multi (100 in flight): %.2fx, target >= 5x: %s\n", $x, $x >= 5 ? 'met' : 'NOT met');
    }
    printf("  sendMany: %s notif/s, target >= 50,000/s: %s\n", number_format($g0['rate'], 0, '.', ','), $g0['rate'] >= 50000 ? 'met' : 'NOT met');
}

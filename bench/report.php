<?php
/**
 * Summarises bench/run.sh's results.jsonl: the table of issue #4 (binary rows
 * (a)-(f), ratio to (a)), the HTTP/2 rows of issues #5 and #15 (g)-(i) per
 * sandbox delay (ratio to curl_multi with 100 in flight at the same delay; CPU
 * per notification of the client and of the sandbox), and the checks.
 * Usage: php -n bench/report.php RESULTS.jsonl N MODE
 * Exits 1 if a client failed or the sandbox's count differs from what was sent.
 */

declare(strict_types=1);

[$_, $file, $n, $mode] = $argv + [null, null, '200000', '?'];
$rows = [];
foreach (file($file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
    $row = json_decode($line, true);
    if (is_array($row)) {
        $rows[] = $row;
    }
}

function median(array $xs): float
{
    sort($xs);
    $c = count($xs);
    if ($c === 0) {
        return NAN;
    }
    return $c % 2 ? (float) $xs[intdiv($c, 2)] : ($xs[$c / 2 - 1] + $xs[$c / 2]) / 2;
}

$labels = [
    'bare_fwrite' => '(a) bare fwrite loop',
    'seed_loop' => '(b) seed loop (fread(6), reconnect/100)',
    'send_loop' => '(c) foreach send() + flush()',
    'write_pack' => '(d) write(pack()) + flush()',
    'send_many' => '(e) sendMany(generator)',
    'send_many_array' => '(e2) sendMany(array)',
    'mem_1m' => '(f) sendMany 1M, generator',
];
/** HTTP/2 row labels: CLIENT.cCONNECTIONS.dDELAY or CLIENT.sIN_FLIGHT.dDELAY. */
function h2_parse(string $label): ?array
{
    if (!preg_match('/^(h2_\w+)\.([cs])(\d+)\.d(\d+)$/', $label, $m)) {
        return null;
    }
    $names = [
        'h2_send_many' => '(g) sendMany(generator)',
        'h2_send_loop' => '(h) foreach send() + flush()',
        'h2_curl_multi' => '(i) PHP curl_multi',
    ];
    $what = $m[2] === 'c' ? ((int) $m[3] === 1 ? '1 connection' : "$m[3] connections") : "$m[3] in flight";
    return ['client' => $m[1], 'kind' => $m[2], 'k' => (int) $m[3], 'delay' => (int) $m[4],
        'text' => ($names[$m[1]] ?? $m[1]) . ", $what"];
}

$by = [];
$problems = [];
$note = null;
$h2Note = null;
foreach ($rows as $r) {
    $label = $r['label'] ?? '?';
    if ($label === 'note') {
        $note = $r['sink_probe'] ?? null;
        continue;
    }
    if ($label === 'h2_note') {
        $h2Note = $r;
        continue;
    }
    $by[$label][] = $r;
    if ($label === 'baseline') {
        continue;
    }
    if (($r['rc'] ?? 1) !== 0 || !isset($r['notifications'])) {
        $problems[] = "$label run {$r['run']}: the client failed (exit {$r['rc']})";
    } elseif (($r['accepted'] ?? -1) !== $r['expected']) {
        $problems[] = "$label run {$r['run']}: the sandbox accepted {$r['accepted']} of {$r['expected']}";
    }
    if (isset($r['failed']) && $r['failed'] !== 0) {
        $problems[] = "$label run {$r['run']}: {$r['failed']} failure(s) reported by the client";
    }
    if (isset($r['ok_200']) && $r['ok_200'] !== $r['expected']) {
        $problems[] = "$label run {$r['run']}: {$r['ok_200']} responses 200 of {$r['expected']} (" . json_encode($r['statuses'] ?? []) . ')';
    }
    if (!empty($r['not_h2'])) {
        $problems[] = "$label run {$r['run']}: {$r['not_h2']} response(s) not over HTTP/2";
    }
    if (isset($r['sent']) && isset($r['protocol']) && $r['sent'] !== $r['expected']) {
        $problems[] = "$label run {$r['run']}: stats()/sendMany report {$r['sent']} sent of {$r['expected']}";
    }
    if (h2_parse($label) !== null && ($r['resent'] ?? 0) !== 0) {
        // Distinct tokens, accepted == N and nothing sent twice: each exactly once.
        $problems[] = "$label run {$r['run']}: {$r['resent']} notification(s) sent twice";
    }
}

$baseline = median(array_map(fn ($r) => $r['vmhwm_kib'], $by['baseline'] ?? [])) / 1024;

$mb = fn (float $kib) => $kib / 1024;
$stat = function (array $runs) use ($mb) {
    $ok = array_values(array_filter($runs, fn ($r) => isset($r['wall']) && $r['wall'] > 0));
    if ($ok === []) {
        return null;
    }
    return [
        'runs' => count($ok),
        'rate' => median(array_map(fn ($r) => $r['notifications'] / $r['wall'], $ok)),
        'wall' => median(array_map(fn ($r) => $r['wall'], $ok)),
        'cpu' => median(array_map(fn ($r) => $r['cpu'], $ok)),
        'user' => median(array_map(fn ($r) => $r['user'], $ok)),
        'sys' => median(array_map(fn ($r) => $r['sys'], $ok)),
        'rss' => $mb(max(array_map(fn ($r) => max($r['vmhwm_kib'], $r['rss_kib']), $ok))),
        'sb_cpu' => median(array_map(fn ($r) => $r['sandbox_cpu'], $ok)),
        'accepted' => implode('/', array_map(fn ($r) => $r['accepted'] === $r['expected'] ? 'ok' : 'MISMATCH', $runs)),
        'n' => $ok[0]['notifications'],
        'conns' => implode('/', array_map(fn ($r) => (string) ($r['connections'] ?? (1 + ($r['reconnects'] ?? 0))), $ok)),
        'us' => median(array_map(fn ($r) => 1e6 * $r['cpu'] / $r['notifications'], $ok)),
        'sb_us' => median(array_map(fn ($r) => 1e6 * $r['sandbox_cpu'] / $r['notifications'], $ok)),
    ];
};

$stats = [];
foreach (array_keys($labels) as $label) {
    if (isset($by[$label]) && ($s = $stat($by[$label])) !== null) {
        $stats[$label] = $s;
    }
}
$h2Stats = [];
foreach ($by as $label => $runs) {
    if (($p = h2_parse($label)) !== null && ($s = $stat($runs)) !== null) {
        $h2Stats[$label] = $s + $p;
    }
}
uksort($h2Stats, fn ($a, $b) => [$h2Stats[$a]['delay'], $a] <=> [$h2Stats[$b]['delay'], $b]);
$ref = $stats['bare_fwrite']['rate'] ?? null;
$refOf = fn (string $label) => $ref;

$uname = php_uname('s') . ' ' . php_uname('r') . ' ' . php_uname('m');
$cpuModel = '?';
if (is_readable('/proc/cpuinfo') && preg_match('/^model name\s*:\s*(.+)$/m', (string) file_get_contents('/proc/cpuinfo'), $m)) {
    $cpuModel = trim($m[1]);
}
$cores = (int) trim((string) @shell_exec('nproc 2>/dev/null')) ?: '?';

echo "\n";
echo "APNs throughput, binary protocol: $n notifications per run" . ($h2Note ? ", HTTP/2: {$h2Note['n']}" : '') . "; median of the runs\n";
echo "machine: $cpuModel, $cores core(s), $uname; PHP " . PHP_VERSION . "; sandbox mode: $mode\n";
if ($note !== null) {
    echo "note: the --sink sandbox does not answer probes ($note);\n";
    echo "      measured against the validating sandbox without a log instead\n";
}
printf("PHP baseline peak RSS (php -n + extension, nothing sent): %.1f MB\n\n", $baseline);

if ($stats !== []) {
    $fmt = "%-42s %6s %12s %8s %8s %8s %8s %9s %9s %s\n";
    printf($fmt, 'client', 'N', 'notif/s', 'vs ref', 'wall s', 'CPU s', 'sbx CPU', 'RSS MB', 'RSS-base', 'arrived');
    printf($fmt, str_repeat('-', 42), '------', '------------', '--------', '--------', '--------', '--------', '---------', '---------', '-------');
    foreach ($stats as $label => $s) {
        $r0 = $refOf($label);
        printf(
            "%-42s %6s %12s %8s %8.3f %8.3f %8.3f %9.1f %9.1f %s\n",
            $labels[$label],
            $s['n'] >= 1000000 ? ($s['n'] / 1e6) . 'M' : ($s['n'] / 1000) . 'k',
            number_format($s['rate'], 0, '.', ','),
            $r0 ? sprintf('%.2fx', $s['rate'] / $r0) : '-',
            $s['wall'],
            $s['cpu'],
            $s['sb_cpu'],
            $s['rss'],
            $s['rss'] - $baseline,
            $s['accepted'],
        );
    }
    echo "\n";
    echo "notif/s = N / client wall time (connect + loop + flush/close; not PHP start-up)\n";
    echo "CPU s = client user+sys (getrusage); sbx CPU = the sandbox process's user+sys for that run\n";
    echo "RSS MB = peak resident set (VmHWM, ru_maxrss); RSS-base = minus PHP's baseline\n";
    echo "arrived = the sandbox's own 'accepted N' on exit equals N, per run (HTTP/2 rows also: every\n";
    echo "          response 200 for curl, sent = N and no failures in stats()/flush()/sendMany for the extension)\n";
    echo "vs ref = ratio to (a)\n";
}

// What limits the top number: the sandbox's CPU per notification.
$ceil = [];
foreach ($stats as $label => $s) {
    if ($s['sb_cpu'] > 0) {
        $ceil[$label] = $s['n'] / $s['sb_cpu'];
    }
}
if ($ceil !== []) {
    echo "\nsandbox ceiling (N / sandbox CPU s: what the sandbox could take if it never waited; binary: one connection thread, HTTP/2: its one runtime thread, per CPU-second):\n";
    foreach ($ceil as $label => $c) {
        $s = $stats[$label];
        printf(
            "  %-42s %12s notif/s; sandbox busy %3.0f%% of the client's wall time\n",
            $labels[$label],
            number_format($c, 0, '.', ','),
            100 * $s['sb_cpu'] / $s['wall'],
        );
    }
}

echo "\ntargets (issue #4, binary):\n";
$target = function (string $label, float $want) use ($stats, $ref, $labels) {
    if (!isset($stats[$label]) || !$ref) {
        return;
    }
    $x = $stats[$label]['rate'] / $ref;
    printf("  %-42s %.2fx (a), target >= %.1fx: %s\n", $labels[$label], $x, $want, $x >= $want ? 'met' : 'NOT met');
};
$target('send_many', 10.0);
$target('send_many_array', 10.0);
$target('send_loop', 1.0);
if (isset($stats['mem_1m'])) {
    $over = $stats['mem_1m']['rss'] - $baseline;
    printf("  %-42s %.1f MB over baseline, target <= 30 MB: %s\n", $labels['mem_1m'], $over, $over <= 30 ? 'met' : 'NOT met');
}

require __DIR__ . '/report_h2.php';

if ($problems !== []) {
    echo "\nFAILED:\n";
    foreach ($problems as $p) {
        echo "  $p\n";
    }
    exit(1);
}
echo "\nall runs: every client finished and every notification arrived\n";

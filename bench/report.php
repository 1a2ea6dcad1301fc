<?php
/**
 * Summarises bench/run.sh's results.jsonl: the table of issue #4 and the checks.
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
    'mem_1m' => '(f) sendMany 1M, generator',
];

$by = [];
$problems = [];
$note = null;
foreach ($rows as $r) {
    $label = $r['label'] ?? '?';
    if ($label === 'note') {
        $note = $r['sink_probe'] ?? null;
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
    ];
};

$stats = [];
foreach (array_keys($labels) as $label) {
    if (isset($by[$label]) && ($s = $stat($by[$label])) !== null) {
        $stats[$label] = $s;
    }
}
$ref = $stats['bare_fwrite']['rate'] ?? null;

$uname = php_uname('s') . ' ' . php_uname('r') . ' ' . php_uname('m');
$cpuModel = '?';
if (is_readable('/proc/cpuinfo') && preg_match('/^model name\s*:\s*(.+)$/m', (string) file_get_contents('/proc/cpuinfo'), $m)) {
    $cpuModel = trim($m[1]);
}
$cores = (int) trim((string) @shell_exec('nproc 2>/dev/null')) ?: '?';

echo "\n";
echo "APNs binary-protocol throughput, $n notifications per run, median of the runs\n";
echo "machine: $cpuModel, $cores core(s), $uname; PHP " . PHP_VERSION . "; sandbox mode: $mode\n";
if ($note !== null) {
    echo "note: the --sink sandbox does not answer probes ($note);\n";
    echo "      measured against the validating sandbox without a log instead\n";
}
printf("PHP baseline peak RSS (php -n + extension, nothing sent): %.1f MB\n\n", $baseline);

$fmt = "%-42s %6s %12s %8s %8s %8s %8s %9s %9s %s\n";
printf($fmt, 'client', 'N', 'notif/s', 'vs (a)', 'wall s', 'CPU s', 'sbx CPU', 'RSS MB', 'RSS-base', 'arrived');
printf($fmt, str_repeat('-', 42), '------', '------------', '--------', '--------', '--------', '--------', '---------', '---------', '-------');
foreach ($stats as $label => $s) {
    printf(
        "%-42s %6s %12s %8s %8.3f %8.3f %8.3f %9.1f %9.1f %s\n",
        $labels[$label],
        $s['n'] >= 1000000 ? ($s['n'] / 1e6) . 'M' : ($s['n'] / 1000) . 'k',
        number_format($s['rate'], 0, '.', ','),
        $ref ? sprintf('%.2fx', $s['rate'] / $ref) : '-',
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
echo "arrived = the sandbox's own 'accepted N' on exit equals N, per run\n";

// What limits the top number: the sandbox's CPU per notification.
$ceil = [];
foreach ($stats as $label => $s) {
    if ($s['sb_cpu'] > 0) {
        $ceil[$label] = $s['n'] / $s['sb_cpu'];
    }
}
if ($ceil !== []) {
    echo "\nsandbox ceiling (N / sandbox CPU s: what one sandbox connection thread could take if it never waited):\n";
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

echo "\ntargets (issue #4):\n";
$target = function (string $label, float $want) use ($stats, $ref, $labels) {
    if (!isset($stats[$label]) || !$ref) {
        return;
    }
    $x = $stats[$label]['rate'] / $ref;
    printf("  %-42s %.2fx (a), target >= %.1fx: %s\n", $labels[$label], $x, $want, $x >= $want ? 'met' : 'NOT met');
};
$target('send_many', 10.0);
$target('send_loop', 1.0);
if (isset($stats['mem_1m'])) {
    $over = $stats['mem_1m']['rss'] - $baseline;
    printf("  %-42s %.1f MB over baseline, target <= 30 MB: %s\n", $labels['mem_1m'], $over, $over <= 30 ? 'met' : 'NOT met');
}

if ($problems !== []) {
    echo "\nFAILED:\n";
    foreach ($problems as $p) {
        echo "  $p\n";
    }
    exit(1);
}
echo "\nall runs: every client finished and every notification arrived\n";

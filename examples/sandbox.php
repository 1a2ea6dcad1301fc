<?php
/**
 * Starting the local sandbox gateway (apns-sandbox) from PHP.
 *
 * Shared by examples/demo.php and the phpt tests (php-tests/apns.inc requires
 * this file), so that there is one way to start, read and stop the sandbox.
 * Plain functions, no dependencies beyond PHP's standard extensions (it works
 * under `php -n`).
 *
 *     $sb = apns_sandbox_start(['--invalid-tokens', $file]);
 *     $c  = new ApnsConnection($sb['binary'], apns_options($sb));
 *     ...
 *     $rows = apns_log($sb);          // one row per notification the gateway accepted
 *
 * The sandbox binary is getenv('APNS_SANDBOX'), or target/release/apns-sandbox
 * (build it with `cargo build --release --workspace`). Everything it writes (the
 * certificates, the JSONL log) goes to a fresh temporary directory that is removed
 * when the script ends, unless APNS_KEEP=1 is set (handy when a test fails).
 * The command line is described in docs/sandbox-cli.md.
 */

declare(strict_types=1);

/** Path of the apns-sandbox executable. */
function apns_sandbox_binary(): string
{
    $bin = getenv('APNS_SANDBOX');
    if ($bin === false || $bin === '') {
        $bin = dirname(__DIR__) . '/target/release/apns-sandbox';
    }
    if (!is_file($bin) || !is_executable($bin)) {
        throw new RuntimeException(
            "apns-sandbox not found at $bin: run `cargo build --release --workspace`"
            . " or set APNS_SANDBOX to its path"
        );
    }
    return $bin;
}

/** A fresh directory under the system temp dir, removed at the end of the script. */
function apns_temp_dir(string $what): string
{
    $dir = sys_get_temp_dir() . '/apns-' . $what . '-' . getmypid() . '-' . bin2hex(random_bytes(4));
    if (!mkdir($dir, 0700, true)) {
        throw new RuntimeException("cannot create temporary directory $dir");
    }
    apns_cleanup('dir', $dir);
    return $dir;
}

/**
 * What the end of the script cleans up: first every sandbox still running is
 * stopped, then the temporary directories are removed. One shutdown function,
 * registered on first use, so that the order holds.
 */
function apns_cleanup(string $op, mixed $item = null): void
{
    static $sandboxes = [];
    static $dirs = [];
    static $registered = false;
    if (!$registered) {
        $registered = true;
        register_shutdown_function('apns_cleanup', 'run');
    }
    if ($op === 'sandbox') {
        $sandboxes[] = $item;
    } elseif ($op === 'dir') {
        $dirs[] = $item;
    } elseif ($op === 'run') {
        foreach ($sandboxes as $sb) {
            apns_sandbox_stop($sb);
        }
        foreach (array_reverse($dirs) as $dir) {
            apns_remove_tree($dir);
        }
        $sandboxes = $dirs = [];
    }
}

/** Removes a temporary tree (kept when APNS_KEEP=1, to look at after a failure). */
function apns_remove_tree(string $path): void
{
    if (getenv('APNS_KEEP') === '1' || !file_exists($path)) {
        return;
    }
    if (is_dir($path) && !is_link($path)) {
        foreach (scandir($path) ?: [] as $entry) {
            if ($entry !== '.' && $entry !== '..') {
                apns_remove_tree("$path/$entry");
            }
        }
        @rmdir($path);
    } else {
        @unlink($path);
    }
}

/**
 * The sandbox's throwaway PKI (`apns-sandbox certs --out DIR`), made once per
 * PHP process and shared by every sandbox it starts.
 */
function apns_sandbox_certs(): string
{
    static $dir = null;
    if ($dir === null) {
        $out = apns_temp_dir('certs');
        $cmd = escapeshellarg(apns_sandbox_binary()) . ' certs --out ' . escapeshellarg($out) . ' 2>&1';
        exec($cmd, $lines, $rc);
        if ($rc !== 0 || !is_file("$out/client.pem")) {
            throw new RuntimeException("`$cmd` failed (exit $rc): " . implode("\n", $lines));
        }
        $dir = $out;
    }
    return $dir;
}

/**
 * Starts `apns-sandbox serve` and waits until it prints `ready`.
 *
 * $flags are extra command-line arguments, as a list (['--drop-every', 900]) or
 * as a map (['drop-every' => 900, 'sink' => true]); see docs/sandbox-cli.md.
 *
 * Returns ['binary' => 'ssl://127.0.0.1:PORT', 'feedback' => 'ssl://127.0.0.1:PORT',
 * 'certs' => DIR, 'log' => FILE, 'proc' => resource, 'dir' => DIR, 'stderr' => FILE].
 * The sandbox is stopped (SIGTERM) when the script ends, or by apns_sandbox_stop().
 */
function apns_sandbox_start(array $flags = []): array
{
    $certs = apns_sandbox_certs();
    $dir = apns_temp_dir('sandbox');
    $log = "$dir/log.jsonl";
    $stderr = "$dir/stderr.txt";

    $cmd = [apns_sandbox_binary(), 'serve', '--certs', $certs, '--log', $log, '--exit-after', '300'];
    foreach ($flags as $key => $value) {
        if (is_string($key)) {
            $cmd[] = str_starts_with($key, '--') ? $key : "--$key";
            if ($value !== true) {
                $cmd[] = (string) $value;
            }
        } else {
            $cmd[] = (string) $value;
        }
    }

    // An argument list (not a shell string): proc_terminate() signals the sandbox itself.
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $stderr, 'w']], $pipes);
    if (!is_resource($proc)) {
        throw new RuntimeException('cannot start ' . implode(' ', $cmd));
    }
    $sb = [
        'binary' => null,
        'feedback' => null,
        'http2' => null,
        'certs' => $certs,
        'log' => $log,
        'proc' => $proc,
        'dir' => $dir,
        'stderr' => $stderr,
        'stdout' => $pipes[1],
        'command' => implode(' ', $cmd),
    ];
    apns_cleanup('sandbox', $sb);

    $deadline = microtime(true) + 15;
    $buffer = '';
    $ready = false;
    while (!$ready) {
        $left = $deadline - microtime(true);
        if ($left <= 0) {
            apns_sandbox_stop($sb);
            throw new RuntimeException("apns-sandbox did not print `ready` within 15 s:\n" . $sb['command']
                . "\nstdout: $buffer\nstderr: " . @file_get_contents($stderr));
        }
        $read = [$pipes[1]];
        $write = $except = null;
        $n = stream_select($read, $write, $except, 0, (int) min(200000, $left * 1e6));
        if ($n === 0) {
            continue;
        }
        $chunk = fread($pipes[1], 8192);
        if ($chunk === '' || $chunk === false) {
            if (feof($pipes[1])) {
                apns_sandbox_stop($sb);
                throw new RuntimeException("apns-sandbox exited before `ready`:\n" . $sb['command']
                    . "\nstdout: $buffer\nstderr: " . @file_get_contents($stderr));
            }
            continue;
        }
        $buffer .= $chunk;
        while (($eol = strpos($buffer, "\n")) !== false) {
            $line = trim(substr($buffer, 0, $eol));
            $buffer = substr($buffer, $eol + 1);
            if (preg_match('/^(binary|feedback|http2) (\d+)$/', $line, $m)) {
                $sb[$m[1]] = ($m[1] === 'http2' ? 'https' : 'ssl') . '://127.0.0.1:' . $m[2];
            } elseif ($line === 'ready') {
                $ready = true;
            }
        }
    }
    if ($sb['binary'] === null || $sb['feedback'] === null) {
        apns_sandbox_stop($sb);
        throw new RuntimeException("apns-sandbox printed `ready` without its ports:\n" . $sb['command']);
    }
    return $sb;
}

/**
 * Stops a sandbox (SIGTERM: it flushes its log, prints "accepted N" and exits)
 * and waits for it. Returns N, or null when it was already stopped or said nothing.
 * Safe to call more than once.
 */
function apns_sandbox_stop(array $sb): ?int
{
    static $stopped = [];
    $id = (int) $sb['proc'];
    if (isset($stopped[$id]) || !is_resource($sb['proc'])) {
        return null;
    }
    $stopped[$id] = true;
    $status = proc_get_status($sb['proc']);
    if ($status['running']) {
        proc_terminate($sb['proc'], 15);
        $deadline = microtime(true) + 5;
        while (($status = proc_get_status($sb['proc']))['running'] && microtime(true) < $deadline) {
            usleep(20000);
        }
        if ($status['running']) {
            proc_terminate($sb['proc'], 9);
        }
    }
    // Read what is left on stdout only after the exit, so that the sandbox never
    // writes its last line into a closed pipe.
    $rest = '';
    if (is_resource($sb['stdout'])) {
        stream_set_blocking($sb['stdout'], false);
        $rest = (string) stream_get_contents($sb['stdout']);
        fclose($sb['stdout']);
    }
    proc_close($sb['proc']);
    return preg_match('/^accepted (\d+)$/m', $rest, $m) ? (int) $m[1] : null;
}

/**
 * The sandbox's log: one decoded row per notification it accepted,
 * ['conn','seq','command','identifier','token','payload','expiry','priority'].
 *
 * Waits briefly for the file to stop growing: the sandbox writes a line as soon as
 * it has read a notification, which may be a moment after the client's flush().
 */
function apns_log(array $sb): array
{
    $deadline = microtime(true) + 3;
    $last = -1;
    usleep(50000);
    while (microtime(true) < $deadline) {
        clearstatcache(true, $sb['log']);
        $size = is_file($sb['log']) ? filesize($sb['log']) : 0;
        if ($size === $last) {
            break;
        }
        $last = $size;
        usleep(100000);
    }
    $rows = [];
    $text = is_file($sb['log']) ? (string) file_get_contents($sb['log']) : '';
    foreach (explode("\n", $text) as $line) {
        if (trim($line) === '') {
            continue;
        }
        $row = json_decode($line, true);
        if (!is_array($row)) {
            throw new RuntimeException("unreadable line in the sandbox log {$sb['log']}: $line");
        }
        $rows[] = $row;
    }
    return $rows;
}

/** A deterministic 64-hex-digit (32-byte) device token for the number $i; never all zeros. */
function apns_token(int $i): string
{
    return hash('sha256', "apns-test-device-$i");
}

/**
 * Connection options for a sandbox: its client certificate and CA, a 5 s timeout.
 * $extra overrides them; an $extra value of null removes the option.
 */
function apns_options(array $sb, array $extra = []): array
{
    $options = $extra + [
        'local_cert' => $sb['certs'] . '/client.pem',
        'cafile' => $sb['certs'] . '/ca.pem',
        'timeout' => 5,
    ];
    return array_filter($options, fn($v) => $v !== null);
}

/** Writes a file for `serve --invalid-tokens FILE` and returns its path. */
function apns_invalid_tokens_file(array $tokens): string
{
    $file = apns_temp_dir('invalid') . '/invalid-tokens.txt';
    file_put_contents($file, implode("\n", $tokens) . "\n");
    return $file;
}

/**
 * Compares the sandbox's log with what was sent: how many times each token
 * appears. $valid are the tokens that must be delivered, $invalid those the
 * gateway rejects (lowercase hex).
 *
 * Returns ['rows' => int, 'delivered' => distinct valid tokens in the log,
 * 'lost' => list of valid tokens missing, 'duplicates' => extra copies of valid
 * tokens, 'invalid_logged' => invalid tokens found in the log (must be 0),
 * 'unknown' => tokens in the log that were never sent].
 */
function apns_tally(array $sb, array $valid, array $invalid = []): array
{
    $count = [];
    $rows = apns_log($sb);
    foreach ($rows as $row) {
        $count[$row['token']] = ($count[$row['token']] ?? 0) + 1;
    }
    $validSet = array_fill_keys($valid, true);
    $invalidSet = array_fill_keys($invalid, true);
    $lost = [];
    $duplicates = 0;
    $delivered = 0;
    foreach ($valid as $token) {
        $n = $count[$token] ?? 0;
        if ($n === 0) {
            $lost[] = $token;
        } else {
            $delivered++;
            $duplicates += $n - 1;
        }
    }
    $invalidLogged = 0;
    $unknown = 0;
    foreach ($count as $token => $n) {
        if (isset($invalidSet[$token])) {
            $invalidLogged += $n;
        } elseif (!isset($validSet[$token])) {
            $unknown += $n;
        }
    }
    return [
        'rows' => count($rows),
        'delivered' => $delivered,
        'lost' => $lost,
        'duplicates' => $duplicates,
        'invalid_logged' => $invalidLogged,
        'unknown' => $unknown,
    ];
}

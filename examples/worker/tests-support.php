<?php
/**
 * Helpers of the worker, Symfony and CodeIgniter phpt tests (php-tests/worker_*.phpt …),
 * on top of php-tests/apns.inc: loading the worker classes, seeding a queue,
 * starting the worker as a subprocess with the same PHP and extensions, reading
 * which notification went to which token from the sandbox's log, and a
 * throwaway PostgreSQL cluster.
 */

declare(strict_types=1);

require_once __DIR__ . '/Queue.php';
require_once __DIR__ . '/SqliteQueue.php';
require_once __DIR__ . '/PgQueue.php';
require_once __DIR__ . '/Worker.php';
require_once __DIR__ . '/Progress.php';

use Apns\Worker\Queue;

/**
 * Seeds a test queue (deterministic): $tokens tokens apns_token(1..$tokens), 3 groups
 * of 20, $count notifications with payload {"aps":{"alert":…},"n":ID} to 1–3 tokens,
 * one in eight also to a group. Every token of $mustTarget gets a notification of its
 * own first. Returns the token ids by token.
 */
function worker_seed(Queue $queue, int $count, int $tokens, array $mustTarget = []): array
{
    mt_srand(2195);
    $ids = [];
    $queue->transaction(function () use ($queue, $tokens, &$ids) {
        for ($i = 1; $i <= $tokens; $i++) {
            $ids[apns_token($i)] = $queue->addToken(apns_token($i));
        }
    });
    $idList = array_values($ids);
    $groups = [];
    for ($g = 0; $g < 3; $g++) {
        $members = [];
        for ($m = 0; $m < 20; $m++) {
            $members[] = $idList[mt_rand(0, count($idList) - 1)];
        }
        $groups[] = $queue->addGroup("group $g", $members);
    }
    $queue->transaction(function () use ($queue, $count, $ids, $idList, $groups, $mustTarget) {
        $n = 0;
        foreach ($mustTarget as $token) {
            worker_enqueue($queue, [$ids[$token]], []);
            $n++;
        }
        for (; $n < $count; $n++) {
            $targets = [];
            for ($k = mt_rand(1, 3); $k > 0; $k--) {
                $targets[] = $idList[mt_rand(0, count($idList) - 1)];
            }
            worker_enqueue($queue, $targets, mt_rand(1, 8) === 1 ? [$groups[mt_rand(0, 2)]] : []);
        }
    });
    return $ids;
}

/** Queues one notification whose payload names its own id ("n"), so the sandbox log tells which it was. */
function worker_enqueue(Queue $queue, array $tokenIds, array $groupIds): int
{
    $id = $queue->enqueue('{"aps":{"alert":"pending"}}', $tokenIds, $groupIds);
    $queue->pdo()->prepare('UPDATE notifications SET payload = ? WHERE id = ?')
        ->execute([json_encode(['aps' => ['alert' => "Notification $id"], 'n' => $id]), $id]);
    return $id;
}

/**
 * What each notification should reach: notification id => list of active tokens
 * (direct and through groups, de-duplicated), computed independently of the worker.
 */
function worker_expected_targets(PDO $pdo): array
{
    $expected = [];
    $rows = $pdo->query(
        'SELECT nt.notification_id AS n, t.token FROM notification_targets nt JOIN device_tokens t ON t.id = nt.token_id
         UNION ALL
         SELECT nt.notification_id, t.token FROM notification_targets nt
           JOIN token_group_members m ON m.group_id = nt.group_id JOIN device_tokens t ON t.id = m.token_id')
        ->fetchAll(PDO::FETCH_NUM);
    foreach ($rows as [$n, $token]) {
        $expected[(int) $n][$token] = true;
    }
    return array_map('array_keys', $expected);
}

/**
 * The sandbox log as pairs: "NOTIFICATION_ID TOKEN" => times accepted
 * (the notification id from the payload's "n").
 */
function worker_log_pairs(array $sb): array
{
    $pairs = [];
    foreach (apns_log($sb) as $row) {
        $payload = json_decode($row['payload'], true);
        $key = ($payload['n'] ?? '?') . ' ' . $row['token'];
        $pairs[$key] = ($pairs[$key] ?? 0) + 1;
    }
    return $pairs;
}

/** The deliveries table as pairs "NOTIFICATION_ID TOKEN" => status. */
function worker_delivery_pairs(PDO $pdo): array
{
    $pairs = [];
    foreach ($pdo->query('SELECT notification_id, token, status FROM deliveries')->fetchAll(PDO::FETCH_NUM) as [$n, $t, $s]) {
        $pairs["$n $t"] = $s;
    }
    return $pairs;
}

/**
 * The command line that runs a PHP script in a subprocess with this PHP and the
 * extensions loaded here (run-tests.php runs the tests with -n and loads them by -d).
 */
function worker_php_command(): array
{
    static $base = null;
    if ($base === null) {
        exec(escapeshellarg(PHP_BINARY) . ' -n -m 2>/dev/null', $static);
        $static = array_map('strtolower', array_map('trim', $static));
        $extension = getenv('APNS_EXTENSION') ?: dirname(__DIR__, 2) . '/target/release/libapns.so';
        $base = [PHP_BINARY, '-n', '-d', 'extension=' . $extension];
        $dir = ini_get('extension_dir');
        foreach (get_loaded_extensions() as $name) {
            $name = strtolower($name);
            if ($name !== 'apns' && !in_array($name, $static, true) && is_file("$dir/$name.so")) {
                array_push($base, '-d', "extension=$name");
            }
        }
    }
    return $base;
}

/**
 * Starts examples/worker/worker.php with $args; its stdout and stderr go to $output.
 * Returns the proc_open() resource.
 */
function worker_start(array $args, string $output)
{
    $cmd = array_merge(worker_php_command(), [__DIR__ . '/worker.php'], $args);
    $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $output, 'a'], 2 => ['file', $output, 'a']], $pipes);
    if (!is_resource($proc)) {
        throw new RuntimeException('cannot start ' . implode(' ', $cmd));
    }
    return $proc;
}

/** Waits for a worker started by worker_start(); returns its exit code (-1: killed after $timeout s). */
function worker_wait($proc, float $timeout): int
{
    $deadline = microtime(true) + $timeout;
    while (($status = proc_get_status($proc))['running']) {
        if (microtime(true) > $deadline) {
            proc_terminate($proc, 9);
            proc_close($proc);
            return -1;
        }
        usleep(50000);
    }
    proc_close($proc);
    return $status['exitcode'];
}

/** Arguments pointing the worker at a sandbox started by apns_sandbox_start(). */
function worker_sandbox_args(array $sb): array
{
    return ['--gateway', $sb['binary'], '--feedback', $sb['feedback'],
        '--cert', $sb['certs'] . '/client.pem', '--cafile', $sb['certs'] . '/ca.pem'];
}

/** Token-auth connection options for a sandbox's HTTP/2 API (its throwaway auth-key.p8), topic com.example.app. */
function worker_http2_options(array $sb): array
{
    return ['auth_key' => $sb['certs'] . '/auth-key.p8', 'key_id' => 'ABC123DEFG', 'team_id' => 'DEF123GHIJ',
        'topic' => 'com.example.app', 'cafile' => $sb['certs'] . '/ca.pem', 'timeout' => 5];
}

/** Arguments pointing the worker at a sandbox's HTTP/2 API with token auth (as in production, with Apple's URL). */
function worker_http2_args(array $sb): array
{
    $o = worker_http2_options($sb);
    return ['--gateway', $sb['http2'], '--auth-key', $o['auth_key'], '--key-id', $o['key_id'], '--team-id', $o['team_id'],
        '--topic', $o['topic'], '--cafile', $o['cafile']];
}

/** Why a throwaway PostgreSQL cluster cannot be started here, or null. */
function worker_pg_unavailable(): ?string
{
    if (!extension_loaded('pdo_pgsql')) {
        return 'pdo_pgsql not available (apt-get install php8.2-pgsql, or scripts/deps-examples)';
    }
    if (worker_pg_bindir() === null) {
        return 'PostgreSQL server binaries not found (apt-get install postgresql, or scripts/deps-examples)';
    }
    if (function_exists('posix_geteuid') ? posix_geteuid() === 0 : trim((string) shell_exec('id -u')) === '0') {
        if (!is_executable('/usr/sbin/runuser') && !is_executable('/sbin/runuser')) {
            return 'running as root and runuser is missing (PostgreSQL refuses to run as root)';
        }
        if (trim((string) shell_exec('id -u postgres 2>/dev/null')) === '') {
            return 'running as root and there is no postgres user to run PostgreSQL as';
        }
    }
    return null;
}

/** Directory of initdb and pg_ctl (Debian: /usr/lib/postgresql/VERSION/bin), or null. */
function worker_pg_bindir(): ?string
{
    $dirs = glob('/usr/lib/postgresql/*/bin/initdb') ?: [];
    natsort($dirs);
    if ($dirs !== []) {
        return dirname(end($dirs));
    }
    $initdb = trim((string) shell_exec('command -v initdb 2>/dev/null'));
    if ($initdb !== '' && is_executable(dirname(realpath($initdb)) . '/pg_ctl')) {
        return dirname(realpath($initdb));
    }
    return null;
}

/**
 * Starts a throwaway PostgreSQL cluster on 127.0.0.1 at a free port, in a temp
 * dir (as the postgres user when running as root); stopped and removed at the end
 * of the script. Returns ['dsn' => 'pgsql:…', 'user' => 'postgres', 'port' => int].
 */
function worker_pg_start(): array
{
    $bin = worker_pg_bindir();
    $dir = sys_get_temp_dir() . '/apns-pg-' . getmypid() . '-' . bin2hex(random_bytes(4));
    mkdir($dir, 0700);
    $root = trim((string) shell_exec('id -u')) === '0';
    $as = $root ? ['runuser', '-u', 'postgres', '--'] : [];
    if ($root) {
        chown($dir, 'postgres');
    }
    $run = function (array $cmd) use ($as): void {
        $line = implode(' ', array_map('escapeshellarg', array_merge($as, $cmd)));
        exec("$line 2>&1", $out, $rc);
        if ($rc !== 0) {
            throw new RuntimeException("`$line` failed (exit $rc): " . implode("\n", $out));
        }
    };
    $port = apns_free_port();
    $data = "$dir/data";
    $run(["$bin/initdb", '-D', $data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    register_shutdown_function(function () use ($bin, $data, $dir, $as): void {
        $line = implode(' ', array_map('escapeshellarg', array_merge($as, ["$bin/pg_ctl", '-D', $data, '-m', 'immediate', '-w', 'stop'])));
        exec("$line >/dev/null 2>&1");
        apns_remove_tree($dir);
    });
    $run(["$bin/pg_ctl", '-D', $data, '-l', "$dir/server.log", '-w', '-t', '30', '-o',
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=20", 'start']);
    return ['dsn' => "pgsql:host=127.0.0.1;port=$port;dbname=postgres", 'user' => 'postgres', 'port' => $port, 'dir' => $dir];
}

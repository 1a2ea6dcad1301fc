<?php
/**
 * apns push worker: sends the notifications queued in a SQL database (SQLite by
 * default, PostgreSQL for many workers) through one ApnsConnection kept open.
 * See examples/worker/README.md.
 *
 *   php -d extension=apns examples/worker/worker.php [options]
 *
 * Every option can also be given as an environment variable (in brackets);
 * the command line wins.
 *
 *   --db DSN              PDO DSN of the queue [APNS_DB]; default sqlite:examples/worker/var/queue.sqlite
 *                         (user/password: [APNS_DB_USER], [APNS_DB_PASSWORD])
 *   --gateway URL         https://api.push.apple.com (HTTP/2; development: https://api.sandbox.push.apple.com),
 *                         or a binary gateway ssl://host:2195 [APNS_GATEWAY]; default: start the
 *                         local sandbox gateway (target/release/apns-sandbox) and use it
 *
 *   HTTP/2 token auth (with an https:// gateway; all four needed):
 *   --auth-key FILE       the .p8 key from your Apple Developer account [APNS_AUTH_KEY: its path, or its
 *                         PEM text]; never printed
 *   --key-id ID           its 10-character Key ID [APNS_KEY_ID]
 *   --team-id ID          your 10-character Team ID [APNS_TEAM_ID]
 *   --topic BUNDLE_ID     default apns-topic, your app's bundle id [APNS_TOPIC] (a notification's own
 *                         topic column wins; also usable with --cert over HTTP/2)
 *   --push-type TYPE      default apns-push-type: alert (default), background, voip … [APNS_PUSH_TYPE]
 *
 *   Certificate auth (binary gateway, or HTTP/2 instead of token auth):
 *   --feedback URL        feedback service [APNS_FEEDBACK]; default: Apple's for Apple's binary gateways,
 *                         the sandbox's for the sandbox, none otherwise ('none' turns it off)
 *   --cert FILE           client certificate + key, PEM or .p12 [APNS_CERT]
 *   --key FILE            key file, when not inside --cert [APNS_KEY]
 *   --passphrase-env VAR  name of the environment variable holding the key's passphrase [APNS_PASSPHRASE_ENV]
 *
 *   --cafile FILE         extra trust anchors (PEM) [APNS_CAFILE]
 *   --timeout S           connect and I/O timeout in seconds [APNS_TIMEOUT]; default 10
 *   --once                send what is queued, then exit [APNS_ONCE=1]
 *   --batch N             notifications claimed at a time [APNS_BATCH]; default 500
 *   --max-attempts N      attempts before a notification fails [APNS_MAX_ATTEMPTS]; default 5
 *   --feedback-interval S read the feedback service every S seconds [APNS_FEEDBACK_INTERVAL]; default 600
 *   --stats-interval S    log line every S seconds (when not on a terminal) [APNS_STATS_INTERVAL]; default 10
 *   --worker-id ID        name in claimed_by [APNS_WORKER_ID]; default host:pid
 *   --demo N              first queue N demo notifications to random tokens, a few of them invalid
 *                         (listed for the local sandbox) [APNS_DEMO]
 *   --sandbox-args ARGS   extra `apns-sandbox serve` flags for the local sandbox, e.g. "--drop-every 900"
 *                         [APNS_SANDBOX_ARGS]
 *   --sandbox-protocol P  the local sandbox's protocol: binary (default), or http2 with token auth
 *                         (its throwaway auth-key.p8) [APNS_SANDBOX_PROTOCOL]
 *
 * SIGTERM / SIGINT: the batch in flight settles, unfinished notifications go back
 * to the queue, and the worker exits 0. Exit 1: a configuration, credential or
 * database error (the message names the option), or APNs refusing the credentials.
 */

declare(strict_types=1);

namespace Apns\Worker;

use ApnsConnection;

require __DIR__ . '/Queue.php';
require __DIR__ . '/SqliteQueue.php';
require __DIR__ . '/PgQueue.php';
require __DIR__ . '/Worker.php';
require __DIR__ . '/Progress.php';
require __DIR__ . '/Demo.php';
require __DIR__ . '/Config.php';

if (!extension_loaded('apns')) {
    fwrite(STDERR, "worker: the apns extension is not loaded: php -d extension=apns (or extension=/path/to/libapns.so) worker.php\n");
    exit(1);
}

try {
    $config = Config::fromArgs(array_slice($argv, 1), getenv());
} catch (\InvalidArgumentException $e) {
    fwrite(STDERR, 'worker: ' . $e->getMessage() . "\n(worker.php --help lists the options)\n");
    exit(1);
}
if ($config === null) {
    echo Config::usage();
    exit(0);
}

$progress = new Progress(STDOUT);
$log = function (string $level, string $message) use ($progress): void {
    $clear = $progress->isTty() ? "\r\033[K" : '';
    fwrite(STDOUT, sprintf("%s%s %-7s %s\n", $clear, date('Y-m-d H:i:s'), $level, $message));
};

try {
    $queue = Queue::open($config->db, $config->dbUser, $config->dbPassword);
    if ($config->demo > 0) {
        $demo = Demo::seed($queue, $config->demo, $config->demoFiles());
        $log('info', "demo: queued {$demo['notifications']} notifications to {$demo['tokens']} tokens "
            . "({$demo['invalid']} invalid, {$demo['feedback']} dead: in the feedback service, or 410 Unregistered over HTTP/2), "
            . "{$demo['groups']} groups");
    }
} catch (\PDOException $e) {
    fwrite(STDERR, "worker: database {$config->db}: {$e->getMessage()}\n");
    exit(1);
}

$sandbox = null;
if ($config->gateway === null) {
    // The embedded default: the local sandbox gateway, with the demo's invalid tokens.
    require_once dirname(__DIR__) . '/sandbox.php';
    $files = $config->demoFiles();
    $flags = $config->sandboxArgs;
    // Dead tokens: the feedback service's list (binary), 410 Unregistered (HTTP/2).
    $dead = $config->sandboxProtocol === 'http2' ? ['unregistered' => '--unregistered'] : ['feedback' => '--feedback'];
    foreach (['invalid' => '--invalid-tokens'] + $dead as $kind => $flag) {
        if (is_file($files[$kind])) {
            array_push($flags, $flag, $files[$kind]);
        }
    }
    $sandbox = apns_sandbox_start($flags);
    $config->useSandbox($sandbox);
    $log('info', "local sandbox gateway at {$config->gateway}" . ($flags ? ' (' . implode(' ', $flags) . ')' : ''));
}
$log('info', $config->isHttp2()
    ? "HTTP/2 provider API at {$config->gateway}, " . ($config->authKey !== null
        ? "token auth (key id {$config->keyId}, team id {$config->teamId})" : 'certificate auth')
        . ', topic ' . ($config->topic ?? "the certificate's") . ", push type {$config->pushType} unless queued otherwise"
    : "binary gateway at {$config->gateway}, certificate auth");

$options = $config->connectionOptions();
$worker = new Worker(
    $queue,
    fn() => new ApnsConnection($config->gateway, $options),
    $config->feedback === null ? null : fn() => ApnsConnection::feedback($config->feedback, $config->feedbackOptions()),
    \Closure::fromCallable($log),
    [
        'worker' => $config->workerId,
        'batch' => $config->batch,
        'once' => $config->once,
        'max_attempts' => $config->maxAttempts,
        'feedback_interval' => $config->feedbackInterval,
        'stats_interval' => $config->statsInterval,
        'progress' => $progress,
        'push_type' => $config->pushType,
    ],
);

if (function_exists('pcntl_async_signals')) {
    pcntl_async_signals(true);
    $onSignal = function (int $signal) use ($worker, $log): void {
        $log('info', sprintf('%s: stopping after the batch in flight', $signal === SIGTERM ? 'SIGTERM' : 'SIGINT'));
        $worker->stop();
    };
    pcntl_signal(SIGTERM, $onSignal);
    pcntl_signal(SIGINT, $onSignal);
} else {
    $log('warning', 'no pcntl: SIGTERM ends the worker at once; claimed rows are requeued after 15 minutes');
}

$started = time();
try {
    $worker->run();
} catch (\PDOException $e) {
    $log('error', 'database: ' . $e->getMessage());
    exit(1);
} catch (FatalError $e) {
    $log('error', Config::optionNames($e->getMessage()));
    exit(1);
}

if ($config->once || $config->demo > 0) {
    foreach (Demo::report($queue) as $line) {
        echo $line, "\n";
    }
}
if ($sandbox !== null) {
    $accepted = apns_sandbox_stop($sandbox);
    [$equal, $line] = Demo::checkAgainstGateway($queue, apns_log($sandbox), $started);
    echo "local sandbox gateway accepted ", $accepted ?? '?', " notification(s); $line\n";
    exit($equal ? 0 : 1);
}
exit(0);

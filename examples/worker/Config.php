<?php
/**
 * The worker's settings, from the command line and environment variables
 * (APNS_DB, APNS_GATEWAY …; the command line wins). See worker.php for the list.
 */

declare(strict_types=1);

namespace Apns\Worker;

use ApnsConnection;

final class Config
{
    public string $db;
    public ?string $dbUser = null;
    public ?string $dbPassword = null;
    public ?string $gateway = null;
    public ?string $feedback = null;
    public ?string $cert = null;
    public ?string $key = null;
    public ?string $cafile = null;
    public ?string $passphrase = null;
    /** HTTP/2 token auth: the .p8 file's path, or its PEM text (APNS_AUTH_KEY may hold either; never printed). */
    public ?string $authKey = null;
    public ?string $keyId = null;
    public ?string $teamId = null;
    /** Default apns-topic (your app's bundle id) and apns-push-type of the queued notifications. */
    public ?string $topic = null;
    public string $pushType = 'alert';
    /** The local sandbox's protocol when there is no --gateway: 'binary' or 'http2' (token auth). */
    public string $sandboxProtocol = 'binary';
    public float $timeout = 10.0;
    public bool $once = false;
    public int $batch = 500;
    public int $maxAttempts = 5;
    public int $feedbackInterval = 600;
    public int $statsInterval = 10;
    public string $workerId;
    public int $demo = 0;
    /** @var list<string> */
    public array $sandboxArgs = [];
    private bool $feedbackOff = false;

    /** option => [environment variable, takes a value] */
    private const OPTIONS = [
        'db' => ['APNS_DB', true], 'gateway' => ['APNS_GATEWAY', true], 'feedback' => ['APNS_FEEDBACK', true],
        'cert' => ['APNS_CERT', true], 'key' => ['APNS_KEY', true], 'cafile' => ['APNS_CAFILE', true],
        'passphrase-env' => ['APNS_PASSPHRASE_ENV', true], 'timeout' => ['APNS_TIMEOUT', true],
        'once' => ['APNS_ONCE', false], 'batch' => ['APNS_BATCH', true], 'max-attempts' => ['APNS_MAX_ATTEMPTS', true],
        'feedback-interval' => ['APNS_FEEDBACK_INTERVAL', true], 'stats-interval' => ['APNS_STATS_INTERVAL', true],
        'worker-id' => ['APNS_WORKER_ID', true], 'demo' => ['APNS_DEMO', true],
        'sandbox-args' => ['APNS_SANDBOX_ARGS', true], 'help' => [null, false],
        'auth-key' => ['APNS_AUTH_KEY', true], 'key-id' => ['APNS_KEY_ID', true], 'team-id' => ['APNS_TEAM_ID', true],
        'topic' => ['APNS_TOPIC', true], 'push-type' => ['APNS_PUSH_TYPE', true],
        'sandbox-protocol' => ['APNS_SANDBOX_PROTOCOL', true],
    ];

    /** The local sandbox's throwaway token-auth identity (apns-sandbox certs writes auth-key.p8 for it). */
    private const SANDBOX_KEY_ID = 'ABC123DEFG';
    private const SANDBOX_TEAM_ID = 'DEF123GHIJ';
    private const SANDBOX_TOPIC = 'com.example.demo';

    /** Apple's binary gateways and their feedback services. */
    private const APPLE_FEEDBACK = [
        'gateway.push.apple.com' => 'ssl://feedback.push.apple.com:2196',
        'gateway.sandbox.push.apple.com' => 'ssl://feedback.sandbox.push.apple.com:2196',
    ];

    /** Null when --help was asked for. @throws \InvalidArgumentException */
    public static function fromArgs(array $args, array $env): ?self
    {
        $values = [];
        $from = [];                             // option => 'env' when the environment gave it
        foreach (self::OPTIONS as $name => [$var, $hasValue]) {
            if ($var !== null && isset($env[$var]) && $env[$var] !== '') {
                $values[$name] = $hasValue ? $env[$var] : !in_array(strtolower($env[$var]), ['0', 'no', 'false'], true);
                $from[$name] = 'env';
            }
        }
        for ($i = 0; $i < count($args); $i++) {
            if (!preg_match('/^--([a-z-]+)(?:=(.*))?$/s', $args[$i], $m) || !isset(self::OPTIONS[$m[1]])) {
                throw new \InvalidArgumentException("unknown argument '{$args[$i]}'");
            }
            $name = $m[1];
            $from[$name] = 'arg';
            if (!self::OPTIONS[$name][1]) {
                $values[$name] = true;
            } elseif (isset($m[2])) {
                $values[$name] = $m[2];
            } elseif ($i + 1 < count($args)) {
                $values[$name] = $args[++$i];
            } else {
                throw new \InvalidArgumentException("--$name needs a value");
            }
        }
        if (!empty($values['help'])) {
            return null;
        }

        $c = new self();
        $c->db = $values['db'] ?? 'sqlite:' . __DIR__ . '/var/queue.sqlite';
        $c->dbUser = ($env['APNS_DB_USER'] ?? '') !== '' ? $env['APNS_DB_USER'] : null;
        $c->dbPassword = ($env['APNS_DB_PASSWORD'] ?? '') !== '' ? $env['APNS_DB_PASSWORD'] : null;
        $c->gateway = $values['gateway'] ?? null;
        $c->cert = $values['cert'] ?? null;
        $c->key = $values['key'] ?? null;
        $c->cafile = $values['cafile'] ?? null;
        if (isset($values['passphrase-env'])) {
            $pass = $env[$values['passphrase-env']] ?? false;
            if ($pass === false) {
                throw new \InvalidArgumentException("--passphrase-env: the environment variable {$values['passphrase-env']} is not set");
            }
            $c->passphrase = $pass;
        }
        $c->timeout = self::number($values, 'timeout', 10, 0.1);
        $c->once = (bool) ($values['once'] ?? false);
        $c->batch = (int) self::number($values, 'batch', 500, 1);
        $c->maxAttempts = (int) self::number($values, 'max-attempts', 5, 1);
        $c->feedbackInterval = (int) self::number($values, 'feedback-interval', 600, 1);
        $c->statsInterval = (int) self::number($values, 'stats-interval', 10, 1);
        $c->demo = (int) self::number($values, 'demo', 0, 0);
        $c->workerId = $values['worker-id'] ?? gethostname() . ':' . getmypid();
        $c->sandboxArgs = isset($values['sandbox-args']) ? preg_split('/\s+/', trim($values['sandbox-args']), -1, PREG_SPLIT_NO_EMPTY) : [];

        $c->authKey = $values['auth-key'] ?? null;
        $c->keyId = $values['key-id'] ?? null;
        $c->teamId = $values['team-id'] ?? null;
        $c->topic = $values['topic'] ?? null;
        $c->pushType = $values['push-type'] ?? 'alert';
        if (!in_array($c->pushType, Queue::PUSH_TYPES, true)) {
            throw new \InvalidArgumentException(self::name('push-type', $from) . ' must be one of '
                . implode(', ', Queue::PUSH_TYPES) . ", not '{$c->pushType}'");
        }
        $c->sandboxProtocol = $values['sandbox-protocol'] ?? 'binary';
        if (!in_array($c->sandboxProtocol, ['binary', 'http2'], true)) {
            throw new \InvalidArgumentException(self::name('sandbox-protocol', $from)
                . " must be binary or http2, not '{$c->sandboxProtocol}'");
        }

        $feedback = $values['feedback'] ?? null;
        if ($feedback === 'none') {
            $c->feedback = null;
        } elseif ($feedback !== null) {
            $c->feedback = $feedback;
        } elseif ($c->gateway !== null) {
            $host = parse_url($c->gateway, PHP_URL_HOST);
            $c->feedback = self::APPLE_FEEDBACK[$host] ?? null;
        }
        $c->feedbackOff = $feedback === 'none';
        $c->checkCredentials($values, $from);
        return $c;
    }

    /** Whether the gateway speaks the HTTP/2 provider API (https://). */
    public function isHttp2(): bool
    {
        return $this->gateway !== null && str_starts_with(strtolower($this->gateway), 'https://');
    }

    /**
     * Refuses missing or inconsistent credential options, naming the option (and
     * never the key's text): token auth needs all of --auth-key, --key-id,
     * --team-id and --topic, and only over https://; certificate auth needs --cert.
     */
    private function checkCredentials(array $values, array $from): void
    {
        $n = fn(string $option) => self::name($option, $from);
        $given = fn(string $option) => isset($values[$option]);
        $tokenAuth = ['auth-key', 'key-id', 'team-id'];
        if ($this->gateway === null) {
            // The local sandbox: the worker brings the sandbox's own credentials.
            foreach (array_merge(['cert', 'key', 'passphrase-env'], $tokenAuth) as $option) {
                if ($given($option)) {
                    throw new \InvalidArgumentException($n($option) . ' needs --gateway: without it the worker starts '
                        . 'the local sandbox gateway and uses its throwaway credentials');
                }
            }
            foreach (['topic', 'push-type'] as $option) {
                if ($given($option) && $this->sandboxProtocol !== 'http2') {
                    throw new \InvalidArgumentException($n($option) . ' is for the HTTP/2 API: with the local sandbox, '
                        . 'add --sandbox-protocol http2');
                }
            }
            return;
        }
        if ($given('sandbox-protocol')) {
            throw new \InvalidArgumentException($n('sandbox-protocol') . ' is for the local sandbox (no --gateway); '
                . "the gateway's URL says the protocol (ssl:// binary, https:// HTTP/2)");
        }
        if (!$this->isHttp2()) {
            foreach (array_merge($tokenAuth, ['topic', 'push-type']) as $option) {
                if ($given($option)) {
                    throw new \InvalidArgumentException($n($option) . ' is for the HTTP/2 API (--gateway '
                        . ApnsConnection::API_PRODUCTION . "); {$this->gateway} speaks the binary protocol");
                }
            }
            if ($this->cert === null) {
                throw new \InvalidArgumentException('--cert is needed with --gateway (the client certificate Apple issued)');
            }
            return;
        }
        if ($this->authKey === null) {
            foreach (['key-id', 'team-id'] as $option) {
                if ($given($option)) {
                    throw new \InvalidArgumentException($n($option) . ' is only used with --auth-key (token auth)');
                }
            }
            if ($this->cert === null) {
                throw new \InvalidArgumentException("--auth-key is needed with --gateway {$this->gateway}: the .p8 key "
                    . 'of your Apple Developer account, with --key-id, --team-id and --topic (or --cert for certificate auth)');
            }
            return;
        }
        if ($this->cert !== null || $this->key !== null) {
            throw new \InvalidArgumentException($n('auth-key') . ' and ' . $n($this->cert !== null ? 'cert' : 'key')
                . ': choose token auth or certificate auth, not both');
        }
        if ($given('passphrase-env')) {
            throw new \InvalidArgumentException($n('passphrase-env') . ' is for --cert: an .p8 auth key has no passphrase');
        }
        if ($this->feedback !== null && $given('feedback')) {
            throw new \InvalidArgumentException($n('feedback') . ' needs --cert: the feedback service only takes '
                . 'certificate auth (the HTTP/2 API reports dead tokens as 410 Unregistered instead)');
        }
        $this->feedback = null;
        $help = ['key-id' => 'the 10-character Key ID of the .p8 key, from your Apple Developer account',
            'team-id' => 'your 10-character Team ID, from your Apple Developer account',
            'topic' => "your app's bundle id, e.g. com.example.app, sent as apns-topic"];
        foreach ($help as $option => $what) {
            if (!$given($option)) {
                throw new \InvalidArgumentException("--$option is needed with --auth-key: $what");
            }
        }
        foreach (['key-id' => $this->keyId, 'team-id' => $this->teamId] as $option => $value) {
            if (!preg_match('/^[A-Za-z0-9]{10}$/', $value)) {
                throw new \InvalidArgumentException($n($option) . " must be 10 letters or digits, not '$value'");
            }
        }
        if (str_contains($this->authKey, '-----BEGIN')) {
            return;                             // the key's text itself (APNS_AUTH_KEY from a secret store)
        }
        $text = is_file($this->authKey) && is_readable($this->authKey) ? @file_get_contents($this->authKey) : false;
        if ($text === false) {
            // A key pasted without its BEGIN line is not a path, and must not be echoed as one.
            $keyLike = str_contains($this->authKey, "\n") || strlen($this->authKey) > 200
                || preg_match('~^[A-Za-z0-9+/=\s]{60,}$~', $this->authKey);
            throw new \InvalidArgumentException($n('auth-key') . ': cannot read ' . ($keyLike
                ? "it: the value is not a file's path and looks like key text without its '-----BEGIN PRIVATE KEY-----' line (not shown)"
                : "'{$this->authKey}'"));
        }
        if (!str_contains($text, '-----BEGIN PRIVATE KEY-----')) {
            throw new \InvalidArgumentException($n('auth-key') . " '{$this->authKey}' is not an APNs auth key "
                . "(expected the '-----BEGIN PRIVATE KEY-----' block of an AuthKey_KEYID.p8 file)");
        }
    }

    /** How an option is named in messages: '--auth-key', or '--auth-key (APNS_AUTH_KEY)' when it came from the environment. */
    private static function name(string $option, array $from): string
    {
        return ($from[$option] ?? '') === 'env' ? "--$option (" . self::OPTIONS[$option][0] . ')' : "--$option";
    }

    private static function number(array $values, string $name, float $default, float $min): float
    {
        if (!isset($values[$name])) {
            return $default;
        }
        if (!is_numeric($values[$name]) || (float) $values[$name] < $min) {
            throw new \InvalidArgumentException("--$name must be a number >= $min, not '{$values[$name]}'");
        }
        return (float) $values[$name];
    }

    /**
     * Points the worker at a sandbox started by apns_sandbox_start(): its binary
     * gateway and feedback service with its client certificate, or (with
     * --sandbox-protocol http2) its HTTP/2 API with token auth and its throwaway
     * auth-key.p8, like Apple's today.
     */
    public function useSandbox(array $sandbox): void
    {
        $this->cafile = $sandbox['certs'] . '/ca.pem';
        $this->key = null;
        if ($this->sandboxProtocol === 'http2') {
            $this->gateway = $sandbox['http2'];
            $this->feedback = null;
            $this->cert = null;
            $this->authKey = $sandbox['certs'] . '/auth-key.p8';
            $this->keyId = self::SANDBOX_KEY_ID;
            $this->teamId = self::SANDBOX_TEAM_ID;
            $this->topic ??= self::SANDBOX_TOPIC;
            return;
        }
        $this->gateway = $sandbox['binary'];
        $this->feedback = $this->feedbackOff ? null : $sandbox['feedback'];
        $this->cert = $sandbox['certs'] . '/client.pem';
    }

    /**
     * The demo's files next to a SQLite queue (else in the temp dir): the tokens the
     * local sandbox rejects (--invalid-tokens), and those it reports dead, through
     * the feedback service (binary) or as 410 Unregistered (HTTP/2).
     */
    public function demoFiles(): array
    {
        $base = str_starts_with($this->db, 'sqlite:') && substr($this->db, 7) !== ':memory:'
            ? substr($this->db, 7)
            : sys_get_temp_dir() . '/apns-worker-demo';
        return ['invalid' => "$base.demo-invalid-tokens", 'feedback' => "$base.demo-feedback",
            'unregistered' => "$base.demo-unregistered"];
    }

    /** Options for new ApnsConnection(): token auth, or the client certificate. */
    public function connectionOptions(): array
    {
        $options = $this->authKey !== null
            ? ['auth_key' => $this->authKey, 'key_id' => $this->keyId, 'team_id' => $this->teamId]
            : $this->certificateOptions();
        $options['topic'] = $this->isHttp2() ? $this->topic : null;
        $options['cafile'] = $this->cafile;
        $options['timeout'] = $this->timeout;
        return array_filter($options, fn($v) => $v !== null);
    }

    /** Options for ApnsConnection::feedback(): the client certificate (the service knows no token auth). */
    public function feedbackOptions(): array
    {
        return array_filter($this->certificateOptions() + ['cafile' => $this->cafile, 'timeout' => $this->timeout],
            fn($v) => $v !== null);
    }

    private function certificateOptions(): array
    {
        return ['local_cert' => $this->cert, 'local_pk' => $this->key, 'passphrase' => $this->passphrase];
    }

    /** The extension's messages with its option names (auth_key …) spelled as the worker's (--auth-key …). */
    public static function optionNames(string $message): string
    {
        $names = ['auth_key' => '--auth-key', 'key_id' => '--key-id', 'team_id' => '--team-id', 'local_cert' => '--cert',
            'local_pk' => '--key', 'cafile' => '--cafile'];
        return preg_replace_callback('/\b(' . implode('|', array_keys($names)) . ')\b/', fn($m) => $names[$m[1]], $message);
    }

    public static function usage(): string
    {
        $text = (string) file_get_contents(__DIR__ . '/worker.php');
        preg_match('~/\*\*(.*?)\*/~s', $text, $m);
        return trim(preg_replace('/^ *\* ?/m', '', $m[1] ?? '')) . "\n";
    }
}

<?php
/**
 * The worker's settings, from the command line and environment variables
 * (APNS_DB, APNS_GATEWAY …; the command line wins). See worker.php for the list.
 */

declare(strict_types=1);

namespace Apns\Worker;

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
    ];

    /** Apple's binary gateways and their feedback services. */
    private const APPLE_FEEDBACK = [
        'gateway.push.apple.com' => 'ssl://feedback.push.apple.com:2196',
        'gateway.sandbox.push.apple.com' => 'ssl://feedback.sandbox.push.apple.com:2196',
    ];

    /** Null when --help was asked for. @throws \InvalidArgumentException */
    public static function fromArgs(array $args, array $env): ?self
    {
        $values = [];
        foreach (self::OPTIONS as $name => [$var, $hasValue]) {
            if ($var !== null && isset($env[$var]) && $env[$var] !== '') {
                $values[$name] = $hasValue ? $env[$var] : !in_array(strtolower($env[$var]), ['0', 'no', 'false'], true);
            }
        }
        for ($i = 0; $i < count($args); $i++) {
            if (!preg_match('/^--([a-z-]+)(?:=(.*))?$/s', $args[$i], $m) || !isset(self::OPTIONS[$m[1]])) {
                throw new \InvalidArgumentException("unknown argument '{$args[$i]}'");
            }
            $name = $m[1];
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

        $feedback = $values['feedback'] ?? null;
        if ($feedback === 'none') {
            $c->feedback = null;
        } elseif ($feedback !== null) {
            $c->feedback = $feedback;
        } elseif ($c->gateway !== null) {
            $host = parse_url($c->gateway, PHP_URL_HOST);
            $c->feedback = self::APPLE_FEEDBACK[$host] ?? null;
        }
        if ($c->gateway !== null && $c->cert === null && !str_starts_with($c->gateway, 'https://')) {
            throw new \InvalidArgumentException('--cert is needed with --gateway (the client certificate Apple issued)');
        }
        $c->feedbackOff = $feedback === 'none';
        return $c;
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

    /** Points the worker at a sandbox started by apns_sandbox_start(). */
    public function useSandbox(array $sandbox): void
    {
        $this->gateway = $sandbox['binary'];
        $this->feedback = $this->feedbackOff ? null : $sandbox['feedback'];
        $this->cert = $sandbox['certs'] . '/client.pem';
        $this->cafile = $sandbox['certs'] . '/ca.pem';
        $this->key = null;
    }

    /** The demo's files next to a SQLite queue (else in the temp dir). */
    public function demoFiles(): array
    {
        $base = str_starts_with($this->db, 'sqlite:') && substr($this->db, 7) !== ':memory:'
            ? substr($this->db, 7)
            : sys_get_temp_dir() . '/apns-worker-demo';
        return ['invalid' => "$base.demo-invalid-tokens", 'feedback' => "$base.demo-feedback"];
    }

    /** Options for new ApnsConnection(). */
    public function connectionOptions(): array
    {
        return array_filter([
            'local_cert' => $this->cert,
            'local_pk' => $this->key,
            'passphrase' => $this->passphrase,
            'cafile' => $this->cafile,
            'timeout' => $this->timeout,
        ], fn($v) => $v !== null);
    }

    /** Options for ApnsConnection::feedback(): the same credentials. */
    public function feedbackOptions(): array
    {
        return $this->connectionOptions();
    }

    public static function usage(): string
    {
        $text = (string) file_get_contents(__DIR__ . '/worker.php');
        preg_match('~/\*\*(.*?)\*/~s', $text, $m);
        return preg_replace('/^ \* ?/m', '', trim($m[1] ?? '')) . "\n";
    }
}

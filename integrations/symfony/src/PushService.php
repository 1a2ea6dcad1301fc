<?php
/**
 * PushService: APNs for a Symfony application, through the apns extension.
 *
 * - sendToTokens(): one payload to many tokens now (the old pnsSendToMultiple()),
 *   settled before it returns, with every rejected token logged and returned.
 * - runQueue(): the push worker (examples/worker) over the notification queue in
 *   SQL (the old pnsKeepAlive() loop): claims, sends through one connection kept
 *   open, records per-token results, deactivates dead tokens, retries, reconnects.
 *
 * Logs through any PSR-3 logger (Monolog in Symfony). Wiring: config/services.yaml.
 *
 * runQueue() uses the push worker of this repository's examples/worker (not a
 * Composer package), loaded from beside this package when it is there.
 */

declare(strict_types=1);

namespace Apns\Symfony;

use ApnsConnection;
use Apns\Worker\Queue;
use Apns\Worker\Worker;
use Psr\Log\LoggerInterface;


class PushService
{
    private ?ApnsConnection $connection = null;
    private ?Worker $worker = null;

    /**
     * @param string      $gateway  ssl://gateway.push.apple.com:2195 (ApnsConnection::GATEWAY_PRODUCTION) …
     * @param array       $options  ApnsConnection options: local_cert, passphrase, cafile, timeout, persistent …
     * @param string|null $feedback the feedback service URL, null for none
     * @param string|null $queueDsn PDO DSN of the notification queue (runQueue())
     */
    public function __construct(
        private LoggerInterface $logger,
        private string $gateway,
        private array $options = [],
        private ?string $feedback = null,
        private ?string $queueDsn = null,
        private ?string $queueUser = null,
        private ?string $queuePassword = null,
    ) {
        $this->options = array_filter($options, fn($v) => $v !== null && $v !== '');
    }

    /**
     * Sends $payload to every token and waits until each is settled.
     * Returns ApnsConnection::sendMany()'s result: sent, failed (list of failures), resent, seconds.
     */
    public function sendToTokens(iterable $tokens, string|array $payload, array $options = []): array
    {
        $result = $this->connection()->sendMany($tokens, $payload, $options);
        foreach ($result['failed'] as $failure) {
            $this->logger->warning('APNs rejected token {token}: {status} {reason}', $failure);
        }
        $this->logger->info('APNs: {sent} notification(s) sent, {failed} rejected, {resent} resent in {seconds} s', [
            'sent' => $result['sent'], 'failed' => count($result['failed']),
            'resent' => $result['resent'], 'seconds' => round($result['seconds'], 3),
        ]);
        return $result;
    }

    /**
     * Sends the queued notifications (see examples/worker/README.md for the schema)
     * until stop() or, with ['once' => true], until the queue is empty. Options as
     * Apns\Worker\Worker's: batch, once, max_attempts, feedback_interval … Returns the totals.
     */
    public function runQueue(array $workerOptions = []): array
    {
        if ($this->queueDsn === null) {
            throw new \LogicException('PushService: no queue DSN configured (the $queueDsn argument)');
        }
        self::loadWorker();
        $queue = Queue::open($this->queueDsn, $this->queueUser, $this->queuePassword);
        $this->worker = new Worker(
            $queue,
            fn() => new ApnsConnection($this->gateway, $this->options),
            $this->feedback === null ? null : fn() => ApnsConnection::feedback($this->feedback, $this->feedbackOptions()),
            fn(string $level, string $message) => $this->logger->log($level, $message),
            $workerOptions,
        );
        try {
            return $this->worker->run();
        } finally {
            $this->worker = null;
        }
    }

    /** Asks runQueue() to stop after the batch in flight (from a signal handler). */
    public function stop(): void
    {
        $this->worker?->stop();
    }

    /** Tokens the feedback service lists: list<['timestamp' => int, 'token' => string]>. */
    public function readFeedback(): array
    {
        return $this->feedback === null ? [] : ApnsConnection::feedback($this->feedback, $this->feedbackOptions());
    }

    /** The push worker's classes (examples/worker in this repository), when not autoloaded already. */
    private static function loadWorker(): void
    {
        if (class_exists(Worker::class)) {
            return;
        }
        $dir = \dirname(__DIR__, 3) . '/examples/worker';
        if (!is_file("$dir/Worker.php")) {
            throw new \LogicException("PushService::runQueue() needs the push worker (Apns\\Worker\\Worker, examples/worker of the apns repository), not found in $dir");
        }
        foreach (['Queue', 'SqliteQueue', 'PgQueue', 'Worker'] as $file) {
            require_once "$dir/$file.php";
        }
    }

    private function connection(): ApnsConnection
    {
        if ($this->connection === null || !$this->connection->isConnected()) {
            $this->connection = new ApnsConnection($this->gateway, $this->options);
        }
        return $this->connection;
    }

    private function feedbackOptions(): array
    {
        return array_intersect_key($this->options, array_flip(['local_cert', 'local_pk', 'passphrase', 'cafile', 'peer_name', 'timeout']));
    }
}

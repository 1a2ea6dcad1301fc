<?php
/**
 * The push worker's loop: claim a batch of queued notifications, send each to its
 * active device tokens through one ApnsConnection kept open across batches,
 * settle (flush), record per-token results, and end each notification sent or
 * failed, or put it back in the queue for a retry.
 *
 * Guarantees:
 * - A token is recorded 'accepted', and a notification 'sent', only after flush()
 *   settled it. What the connection could not confirm is retried, never dropped.
 * - stop() (SIGTERM/SIGINT) lets the batch in flight settle, then puts the claimed
 *   notifications it did not finish back in the queue; run() then returns.
 * - Memory is flat: at most `chunk` notifications in flight, tokens read page by page.
 *
 * Sending is one send() per token with our own identifier, and one flush() per
 * chunk: sendMany() flushes after each call, and flush() waits until the gateway
 * has proved what it took (a round trip at least, longer with late error
 * responses), which per notification would cap the worker at a few notifications
 * a second against Apple.
 *
 * Both protocols: over HTTP/2 each notification carries its row's push type,
 * priority, expiration, collapse id and topic (the worker's defaults when null)
 * and an apns-id of ours, recorded with its delivery; over the binary protocol
 * only expiration and priority exist, and the rest is ignored (logged once).
 *
 * Outcomes: accepted; rejected for good (recorded; dead tokens deactivated:
 * binary 8, 400 BadDeviceToken, 410 Unregistered unless registered again since
 * Apple's timestamp); retried with back-off, an attempt counted (429, 5xx, binary
 * 1, and undelivered: status 255 on both protocols);
 * credentials refused (403): nothing counted, the worker stops with a FatalError.
 */

declare(strict_types=1);

namespace Apns\Worker;

use ApnsConnection;
use ApnsException;

// What run() throws: loaded here so that every user of the loop (worker.php, the
// Symfony service, the tests) has it without knowing about it.
require_once __DIR__ . '/FatalError.php';

final class Worker
{
    /**
     * Statuses worth another attempt besides 5xx: not delivered (255 on both
     * protocols), binary processing error, HTTP/2 429 TooManyRequests.
     */
    private const RETRYABLE = [1, 255, 429];
    /** Reasons that mean the token is dead: deactivate it (410 goes through its timestamp check). */
    private const DEAD_REASONS = ['Invalid token', 'BadDeviceToken'];

    private array $options;
    private ?ApnsConnection $connection = null;
    private bool $stopping = false;
    private int $identifier = 0;
    private float $nextFeedback = 0.0;
    private float $nextStatsLine = 0.0;
    private int $backoff = 0;
    /** Whether the open connection speaks HTTP/2 (else the binary protocol). */
    private bool $http2 = false;
    private bool $warnedBinaryFields = false;
    /** APNs refused our credentials (403): the reason; the worker stops. */
    private ?string $credentialsRefused = null;

    /** In flight since the last flush: identifier => [notification id, token, apns_id]. */
    private array $inflight = [];
    /** Settled since the last write: [notification id, token, status, apns status, reason, apns_id]. */
    private array $results = [];
    /** Notifications of the batch with tokens to retry: id => reason. */
    private array $retry = [];
    /** Notifications of the batch to put back without counting an attempt (credentials refused): id => true. */
    private array $noAttempt = [];
    /** Notifications of the batch that can never be sent (their payload or fields): id => reason. */
    private array $invalid = [];

    /** Totals since start. */
    private array $totals = ['notifications' => 0, 'sent' => 0, 'failed' => 0, 'retried' => 0,
        'accepted' => 0, 'rejected' => 0, 'deactivated' => 0, 'connections' => 0, 'reconnects' => 0, 'resent' => 0,
        'batches' => 0];

    /**
     * @param \Closure(): ApnsConnection $connect  opens the connection (throws ApnsException)
     * @param ?\Closure(): array $feedback         reads the feedback service: list<['timestamp','token']>
     * @param \Closure(string, string): void $log  ($level, $message): 'info', 'warning', 'error'
     * @param array $options  worker (id), batch, chunk, once, poll (s), max_attempts,
     *                        feedback_interval (s), stats_interval (s), stale_after (s), progress (?Progress),
     *                        push_type (the default apns-push-type, 'alert')
     */
    public function __construct(
        private Queue $queue,
        private \Closure $connect,
        private ?\Closure $feedback,
        private \Closure $log,
        array $options = [],
    ) {
        $this->options = $options + [
            'worker' => gethostname() . ':' . getmypid(),
            'batch' => 500,
            'chunk' => 5000,
            'once' => false,
            'poll' => 1.0,
            'max_attempts' => 5,
            'feedback_interval' => 600,
            'stats_interval' => 10,
            'stale_after' => 900,
            'progress' => null,
            'push_type' => 'alert',
        ];
    }

    /** Asks the loop to stop after the batch in flight (safe from a signal handler). */
    public function stop(): void
    {
        $this->stopping = true;
    }

    public function stopping(): bool
    {
        return $this->stopping;
    }

    /** Runs until stop() (or, with `once`, until the queue is empty). Returns the totals. */
    public function run(): array
    {
        $progress = $this->options['progress'];
        $progress?->start($this->queue->counts()['queued']);
        $this->log('info', sprintf('worker %s started (batch %d)', $this->options['worker'], $this->options['batch']));
        $released = $this->queue->releaseStale($this->options['stale_after']);
        if ($released > 0) {
            $this->log('warning', "$released notification(s) claimed by a worker that died were queued again");
        }
        while (!$this->stopping) {
            $this->readFeedbackWhenDue();
            if ($this->connection() === null) {
                break;                          // stopping while waiting to reconnect
            }
            $batch = $this->queue->claim($this->options['worker'], $this->options['batch']);
            if ($batch === []) {
                if ($this->options['once']) {
                    // Done, unless retries wait for their back-off: wait for them.
                    $due = $this->queue->nextRetryAt();
                    if ($due === null) {
                        break;
                    }
                    $this->sleep(max(0.05, $due - microtime(true)));
                    continue;
                }
                $this->statsLineWhenDue();
                $this->sleep($this->options['poll']);
                continue;
            }
            $this->processBatch($batch);
            $progress?->update($this->totals, $this->queue->counts()['queued']);
            $this->statsLineWhenDue();
            if ($this->credentialsRefused !== null) {
                break;
            }
        }
        $this->closeConnection();
        if ($this->credentialsRefused !== null) {
            $this->log('info', $this->summary('stopped'));
            throw new FatalError("APNs refused the credentials ({$this->credentialsRefused}, HTTP 403): check the key, "
                . 'key id, team id and topic (or the certificate); the notifications stay queued');
        }
        $progress?->finish($this->totals);
        $this->log('info', $this->summary($this->stopping ? 'stopped' : 'queue empty'));
        return $this->totals;
    }

    /** Sends one claimed batch and ends or releases every notification of it. */
    private function processBatch(array $batch): void
    {
        $this->totals['batches']++;
        $this->retry = $this->noAttempt = $this->invalid = [];
        $ids = array_column($batch, 'id');
        $started = [];
        foreach ($batch as $notification) {
            if ($this->stopping || $this->connection === null || $this->credentialsRefused !== null) {
                break;                          // the rest goes back to the queue, below
            }
            $id = $notification['id'];
            $started[$id] = $notification;
            $options = $this->sendOptions($notification);
            $after = '';
            do {
                $page = $this->queue->tokensFor($id, $after, $this->options['chunk']);
                foreach ($page as $token) {
                    if (!$this->send($id, $token, $notification['payload'], $options)) {
                        // The connection failed (settle, retry later: the loop above stops),
                        // or this notification can never be sent (end() fails it).
                        break 2;
                    }
                    if (count($this->inflight) >= $this->options['chunk']) {
                        $this->settle($ids);
                    }
                }
                $after = (string) end($page);
            } while (count($page) === $this->options['chunk']);
        }
        $this->settle($ids);

        foreach ($started as $id => $notification) {
            $this->end($id, $notification['attempts']);
        }
        // Not started (stopping, or the connection failed): back to the queue, no
        // attempt counted. Rows already ended are not 'claimed' and stay as they are.
        $this->queue->release(array_values(array_diff($ids, array_keys($started))));
    }

    /** Ends a notification whose tokens were all tried: sent, failed, or queued again. */
    private function end(int $id, int $attempts): void
    {
        if (isset($this->invalid[$id])) {
            $this->queue->finish($id, 'failed', $this->invalid[$id]);
            $this->totals['failed']++;
            $this->log('warning', "notification $id failed: {$this->invalid[$id]}");
            return;
        }
        if (isset($this->noAttempt[$id])) {
            $this->queue->release([$id]);       // not its fault: no attempt counted
            return;
        }
        if (isset($this->retry[$id])) {
            $reason = $this->retry[$id];
            if ($attempts + 1 >= $this->options['max_attempts']) {
                $this->queue->finish($id, 'failed', sprintf('gave up after %d attempts: %s', $attempts + 1, $reason));
                $this->totals['failed']++;
                $this->log('warning', "notification $id failed after " . ($attempts + 1) . " attempts: $reason");
            } else {
                // Back-off: 1, 2, 4 … 60 s after the attempts so far, so that a failing
                // notification does not hammer APNs (and waits out a 429).
                $this->queue->release([$id], true, $reason, time() + min(60, 2 ** $attempts));
                $this->totals['retried']++;
            }
            return;
        }
        $counts = $this->queue->deliveryCounts($id);
        if ($counts['accepted'] > 0) {
            $this->queue->finish($id, 'sent', $counts['failed'] > 0 ? "{$counts['failed']} token(s) rejected" : null);
            $this->totals['sent']++;
        } elseif ($counts['failed'] > 0) {
            $this->queue->finish($id, 'failed', "every token rejected ({$counts['failed']}): {$counts['reason']}");
            $this->totals['failed']++;
        } else {
            $this->queue->finish($id, 'failed', 'no active device token');
            $this->totals['failed']++;
        }
        $this->totals['notifications']++;
    }

    /**
     * The send() options of a claimed notification. HTTP/2: its fields, the
     * defaults where null (the connection's topic; --push-type). Binary: only
     * expiry and priority exist (5 for background pushes, as over HTTP/2); the
     * other fields are ignored, and the log says so once.
     */
    private function sendOptions(array $n): array
    {
        $pushType = $n['push_type'] ?? $this->options['push_type'];
        $options = ['expiry' => $n['expiration'], 'priority' => $n['priority']];
        if ($this->http2) {
            $options += ['push_type' => $pushType, 'topic' => $n['topic'], 'collapse_id' => $n['collapse_id']];
        } else {
            $options['priority'] ??= $pushType === 'background' ? 5 : null;
            $ignored = array_keys(array_filter(['push_type' => $n['push_type'], 'collapse_id' => $n['collapse_id'],
                'topic' => $n['topic']], fn($v) => $v !== null));
            if ($ignored !== [] && !$this->warnedBinaryFields) {
                $this->warnedBinaryFields = true;
                $this->log('warning', 'the binary protocol has no push type, collapse id or topic: the queue\'s push_type, '
                    . 'collapse_id and topic are ignored (first seen: ' . implode(', ', $ignored) . " of notification {$n['id']}; "
                    . 'an https:// gateway sends them)');
            }
        }
        return array_filter($options, fn($v) => $v !== null);
    }

    /**
     * Sends one notification to one token. False when the connection failed
     * (retry[] says so) or when the notification itself is invalid (invalid[]).
     */
    private function send(int $id, string $token, string $payload, array $options): bool
    {
        if ($this->connection === null) {
            $this->retry[$id] ??= 'connection lost';
            return false;
        }
        $this->identifier = $this->identifier % 0x7fffffff + 1;
        $options['identifier'] = $this->identifier;
        $apnsId = $this->http2 ? self::uuid() : null;
        if ($apnsId !== null) {
            $options['apns_id'] = $apnsId;
        }
        try {
            $this->connection->send($token, $payload, $options);
            $this->inflight[$this->identifier] = [$id, $token, $apnsId];
            return true;
        } catch (ApnsException $e) {
            $message = $e->getMessage();
            if ($e->getCode() === ApnsException::INVALID_INPUT) {
                // Bad input, not a network fault; the connection stays usable.
                if (str_starts_with($message, 'device token')) {
                    // This token can never be sent to.
                    $this->results[] = [$id, $token, 'failed', null, $message, null];
                    $this->totals['deactivated'] += $this->queue->deactivate($token, "malformed: $message");
                    return true;
                }
                // The payload or a field: the same for every token of the notification.
                $this->invalid[$id] = (str_starts_with($message, 'payload') ? 'invalid payload: ' : 'invalid notification: ')
                    . $message;
                return false;
            }
            $this->retry[$id] = $message;
            $this->log('warning', "send failed: $message");
            $this->settle([], $e);
            return false;
        }
    }

    /** A random (version 4) UUID: the apns-id of one request, recorded with its delivery. */
    private static function uuid(): string
    {
        $b = random_bytes(16);
        $b[6] = chr(ord($b[6]) & 0x0f | 0x40);
        $b[8] = chr(ord($b[8]) & 0x3f | 0x80);
        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($b), 4));
    }

    /**
     * Settles what is in flight (flush), records the per-token results and
     * deactivates dead tokens. After a connection failure, only what the
     * connection confirmed counts as accepted; the rest is retried.
     */
    private function settle(array $batchIds, ?ApnsException $fault = null): void
    {
        if ($this->inflight === [] && $this->results === [] && $fault === null) {
            return;
        }
        $confirmed = true;
        $failures = [];
        if ($this->connection !== null && ($this->inflight !== [] || $fault !== null)) {
            try {
                $failures = $this->connection->flush();
            } catch (ApnsException $e) {
                $fault ??= $e;
                $failures = $this->connection->failures();
                $this->log('warning', 'flush failed: ' . $e->getMessage());
            }
            if ($fault !== null) {
                // close() settles what the engine still holds, within `timeout`; if it
                // cannot, nothing left in flight is known to be delivered.
                try {
                    $this->connection->close();
                } catch (ApnsException $e) {
                    $confirmed = false;
                }
                $failures = array_merge($failures, $this->connection->failures());
                $this->countStats();
                $this->connection = null;
            }
        }
        $dead = [];
        $unregistered = [];
        foreach ($failures as $f) {
            [$id, $token, $apnsId] = $this->inflight[$f['identifier']] ?? [null, $f['token'], null];
            unset($this->inflight[$f['identifier']]);
            if ($id === null) {
                $this->log('warning', "failure for an unknown identifier {$f['identifier']}: {$f['reason']}");
                continue;
            }
            $status = $f['status'];
            if (in_array($status, self::RETRYABLE, true) || $status >= 500) {
                $this->retry[$id] = "{$f['reason']} (status $status)";
                continue;
            }
            if ($status === 403) {
                // InvalidProviderToken, BadCertificate …: every notification would get it.
                // Not the notification's fault: back to the queue, and the worker stops.
                $this->credentialsRefused ??= $f['reason'];
                $this->retry[$id] = "{$f['reason']} (status 403)";
                $this->noAttempt[$id] = true;
                continue;
            }
            $this->results[] = [$id, $token, 'failed', $status, $f['reason'], $f['apns_id'] ?? $apnsId];
            if ($status === 410) {
                $unregistered[$token] = [$f['reason'], $f['timestamp'] ?? null];
            } elseif ($status === ApnsConnection::STATUS_INVALID_TOKEN || in_array($f['reason'], self::DEAD_REASONS, true)) {
                $dead[$token] = $f['reason'];
            }
        }
        foreach ($this->inflight as [$id, $token, $apnsId]) {
            if ($confirmed) {
                $this->results[] = [$id, $token, 'accepted', null, null, $apnsId];
            } else {
                $this->retry[$id] = 'not confirmed by the gateway: ' . $fault?->getMessage();
            }
        }
        $this->inflight = [];

        foreach ($this->results as $r) {
            $this->totals[$r[2] === 'accepted' ? 'accepted' : 'rejected']++;
        }
        $this->queue->transaction(function () use ($dead, $unregistered, $batchIds) {
            $this->queue->recordDeliveries($this->results);
            foreach ($dead as $token => $reason) {
                $this->totals['deactivated'] += $this->queue->deactivate($token, $reason);
            }
            foreach ($unregistered as $token => [$reason, $timestamp]) {
                $this->totals['deactivated'] += $this->queue->deactivateUnregistered($token, $reason, $timestamp);
            }
            $this->queue->touch($batchIds);
        });
        $this->results = [];
        $this->options['progress']?->update($this->totals, null);
    }

    /** The open connection, (re)connecting with back-off; null when stopping meanwhile. */
    private function connection(): ?ApnsConnection
    {
        while ($this->connection === null) {
            if ($this->stopping) {
                return null;
            }
            try {
                $this->connection = ($this->connect)();
                $this->http2 = ($this->connection->stats()['protocol'] ?? '') === 'http2';
                $this->totals['connections']++;
                if ($this->backoff > 0) {
                    $this->log('info', 'reconnected');
                }
                $this->backoff = 0;
            } catch (ApnsException $e) {
                if (in_array($e->getCode(), [ApnsException::CONFIG, ApnsException::CREDENTIALS], true)) {
                    // A wrong URL, option, key or certificate does not get better by waiting.
                    throw new FatalError('cannot connect: ' . $e->getMessage(), 0, $e);
                }
                // 1, 2, 4 … 60 s, with jitter so that many workers do not reconnect in step.
                $delay = min(60, 2 ** $this->backoff) * (0.5 + mt_rand() / mt_getrandmax() / 2);
                $this->backoff = min($this->backoff + 1, 6);
                $this->log('error', sprintf('cannot connect: %s; retrying in %.1f s', $e->getMessage(), $delay));
                $this->sleep($delay);
            }
        }
        return $this->connection;
    }

    private function closeConnection(): void
    {
        if ($this->connection !== null) {
            try {
                $this->connection->close();
            } catch (ApnsException $e) {
                $this->log('warning', 'close: ' . $e->getMessage());
            }
            $this->countStats();
            $this->connection = null;
        }
    }

    /** Adds the engine's own reconnects and resends of the connection being dropped to the totals. */
    private function countStats(): void
    {
        $stats = $this->connection->stats();
        $this->totals['reconnects'] += $stats['reconnects'] ?? 0;
        $this->totals['resent'] += $stats['resent'] ?? 0;
    }

    /** Reads the feedback service at start and every feedback_interval seconds. */
    private function readFeedbackWhenDue(): void
    {
        if ($this->feedback === null || microtime(true) < $this->nextFeedback) {
            return;
        }
        $this->nextFeedback = microtime(true) + $this->options['feedback_interval'];
        try {
            $entries = ($this->feedback)();
        } catch (ApnsException $e) {
            $this->log('warning', 'feedback service: ' . $e->getMessage());
            return;
        }
        $deactivated = 0;
        foreach ($entries as $entry) {
            $deactivated += $this->queue->deactivate($entry['token'], 'feedback service', $entry['timestamp']);
        }
        $this->totals['deactivated'] += $deactivated;
        $this->log('info', sprintf('feedback service: %d token(s) listed, %d deactivated', count($entries), $deactivated));
    }

    private function statsLineWhenDue(): void
    {
        if (microtime(true) >= $this->nextStatsLine) {
            $this->nextStatsLine = microtime(true) + $this->options['stats_interval'];
            if ($this->options['progress'] === null || !$this->options['progress']->isTty()) {
                $this->log('info', $this->summary('progress'));
            }
        }
    }

    private function summary(string $what): string
    {
        $t = $this->totals;
        return sprintf('%s: %d notification(s) sent, %d failed, %d retried; %d token(s) accepted, %d rejected, %d deactivated; '
            . '%d connection(s), %d reconnect(s), %d resent; memory %.1f MB (peak %.1f MB)', $what, $t['sent'], $t['failed'], $t['retried'],
            $t['accepted'], $t['rejected'], $t['deactivated'], $t['connections'], $t['reconnects'], $t['resent'],
            memory_get_usage() / 1048576, memory_get_peak_usage() / 1048576);
    }

    /** Sleeps, waking early when asked to stop. */
    private function sleep(float $seconds): void
    {
        $until = microtime(true) + $seconds;
        while (!$this->stopping && ($left = $until - microtime(true)) > 0) {
            usleep((int) (min($left, 0.1) * 1e6));
        }
    }

    private function log(string $level, string $message): void
    {
        ($this->log)($level, $message);
    }
}

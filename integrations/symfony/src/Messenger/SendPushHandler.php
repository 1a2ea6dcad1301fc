<?php

declare(strict_types=1);

namespace Apns\Symfony\Messenger;

use ApnsConnection;
use ApnsException;
use Psr\EventDispatcher\EventDispatcherInterface;
use Psr\Log\LoggerInterface;
use Psr\Log\NullLogger;
use Symfony\Component\Messenger\Exception\UnrecoverableMessageHandlingException;
use Symfony\Component\Messenger\Handler\Acknowledger;
use Symfony\Component\Messenger\Handler\BatchHandlerInterface;
use Symfony\Component\Messenger\Handler\BatchHandlerTrait;

/**
 * Sends SendPush messages in batches through one ApnsConnection.
 *
 * Messenger hands the handler messages one at a time with an Acknowledger; it
 * buffers them and, every $batchSize messages (or when the worker is idle), sends
 * the whole batch with send() and settles it with one flush(): the connection
 * pipelines the notifications instead of waiting for each. Only then are the
 * messages acknowledged, so a worker killed mid-batch leaves them unacknowledged
 * in the transport, where another worker picks them up (at least once).
 *
 * Per message:
 * - every token settled (accepted or refused): ack; each refused token is
 *   dispatched as a TokenRejected event and logged;
 * - some tokens undelivered (APNs unreachable for `timeout`: status 255 on both
 *   protocols; or not tried after the outage began): nack with UndeliveredException,
 *   after the message has been narrowed to those tokens, so that Messenger's retry
 *   (delay, max_retries, then the failure transport) resends only them;
 * - a payload or option the extension refuses (too big, not JSON...): nack with
 *   UnrecoverableMessageHandlingException (no retry: it would fail the same way).
 */
final class SendPushHandler implements BatchHandlerInterface
{
    use BatchHandlerTrait;

    /** @var \Closure(): ApnsConnection */
    private \Closure $connect;
    private ?ApnsConnection $connection = null;
    private int $nextIdentifier;
    private LoggerInterface $logger;

    /**
     * @param ApnsConnection|callable(): ApnsConnection $connection the connection, or what makes it
     *        (ApnsDsn::connect): made on the first batch and again after it could not be made
     */
    public function __construct(
        ApnsConnection|callable $connection,
        private ?EventDispatcherInterface $events = null,
        ?LoggerInterface $logger = null,
        private int $batchSize = 100,
    ) {
        if ($connection instanceof ApnsConnection) {
            $this->connection = $connection;
            $this->connect = fn() => throw new \LogicException('unreachable');
        } else {
            $this->connect = \Closure::fromCallable($connection);
        }
        $this->logger = $logger ?? new NullLogger();
        $this->nextIdentifier = random_int(1, 0x7fffffff);
        if ($batchSize < 1) {
            throw new \InvalidArgumentException("SendPushHandler: the batch size must be 1 or more, got $batchSize");
        }
    }

    public function __invoke(SendPush $message, ?Acknowledger $ack = null): mixed
    {
        return $this->handle($message, $ack);
    }

    // Symfony 5.4 to 6.2 ask shouldFlush(), 6.3+ getBatchSize(): both say $batchSize.
    private function shouldFlush(): bool
    {
        return $this->batchSize <= \count($this->jobs);
    }

    private function getBatchSize(): int
    {
        return $this->batchSize;
    }

    /** @param list<array{0: SendPush, 1: Acknowledger}> $jobs */
    private function process(array $jobs): void
    {
        try {
            $connection = $this->connection ??= ($this->connect)();
        } catch (ApnsException $e) {
            $this->logger->error('APNs: cannot connect: {error}', ['error' => $e->getMessage()]);
            foreach ($jobs as [$message, $ack]) {
                $ack->nack(new UndeliveredException($message->getTokens(), $e));
            }
            return;
        }

        $where = [];          // identifier => [job index, token index]
        $tried = [];          // job index => number of tokens handed to the connection (or refused before)
        $refused = [];        // job index => list of [token, status, reason]
        $invalid = [];        // job index => the exception refusing its payload or options
        $outage = null;
        foreach ($jobs as $j => [$message]) {
            $tried[$j] = 0;
            $tokens = $message->getTokens();
            foreach ($tokens as $k => $token) {
                if ($outage !== null || isset($invalid[$j])) {
                    break;
                }
                $id = $this->nextIdentifier;
                $this->nextIdentifier = $id >= 0xffffffff ? 1 : $id + 1;
                try {
                    $connection->send($token, $message->getPayload(), ['identifier' => $id] + $message->getOptions());
                    $where[$id] = [$j, $k];
                    $tried[$j] = $k + 1;
                } catch (ApnsException $e) {
                    if ($e->getCode() !== ApnsException::INVALID_INPUT) {
                        $outage = $e;     // the rest of the batch is not tried
                    } elseif (self::tokenIsMalformed($token, $connection)) {
                        $refused[$j][] = [$token, $connection->stats()['protocol'] === 'http2' ? 400 : ApnsConnection::STATUS_INVALID_TOKEN,
                            ($connection->stats()['protocol'] === 'http2' ? 'BadDeviceToken' : 'Invalid token') . " ({$e->getMessage()})"];
                        $tried[$j] = $k + 1;
                    } else {
                        $invalid[$j] = $e;
                    }
                }
            }
        }

        try {
            $failures = $outage === null ? $connection->flush() : $connection->failures();
        } catch (ApnsException $e) {
            $outage = $e;
            $failures = $connection->failures();
        }

        $undelivered = [];    // job index => token indexes
        // What the engine reports for a notification it could not deliver at all,
        // on both protocols: 255 (None/unknown), with the reason saying why.
        $notDelivered = ApnsConnection::STATUS_UNKNOWN;
        foreach ($failures as $failure) {
            if (!isset($where[$failure['identifier']])) {
                // Not this batch's: an earlier owner of a persistent connection, already reported to it.
                continue;
            }
            [$j, $k] = $where[$failure['identifier']];
            if ($failure['status'] === $notDelivered) {
                $undelivered[$j][] = $k;
            } else {
                $refused[$j][] = [$jobs[$j][0]->getTokens()[$k], $failure['status'], $failure['reason']];
            }
        }

        foreach ($jobs as $j => [$message, $ack]) {
            foreach ($refused[$j] ?? [] as [$token, $status, $reason]) {
                $this->logger->warning('APNs rejected token {token}: {status} {reason}', ['token' => $token, 'status' => $status, 'reason' => $reason]);
                $this->events?->dispatch(new TokenRejected($message, $token, $status, $reason));
            }
            if (isset($invalid[$j])) {
                $ack->nack(new UnrecoverableMessageHandlingException('APNs: the message cannot be sent: ' . $invalid[$j]->getMessage(), 0, $invalid[$j]));
                continue;
            }
            $tokens = $message->getTokens();
            $left = $undelivered[$j] ?? [];
            for ($k = $tried[$j]; $k < \count($tokens); $k++) {
                $left[] = $k;
            }
            if ($left === []) {
                $ack->ack(['sent' => \count($tokens), 'rejected' => \count($refused[$j] ?? [])]);
                continue;
            }
            sort($left);
            $retry = array_map(fn(int $k) => $tokens[$k], $left);
            $message->keepOnly($retry);
            $ack->nack(new UndeliveredException($retry, $outage));
        }
        if ($outage !== null) {
            $this->logger->error('APNs unreachable, {count} message(s) to retry: {error}', [
                'count' => \count(array_filter(array_keys($jobs), fn($j) => isset($undelivered[$j]) || $tried[$j] < \count($jobs[$j][0]->getTokens()))),
                'error' => $outage->getMessage(),
            ]);
        }
    }

    /** Whether the extension refused the token itself (not hex, empty, not 32 bytes on the binary protocol). */
    private static function tokenIsMalformed(string $token, ApnsConnection $connection): bool
    {
        $hex = (string) preg_replace('/[\s<>]/', '', $token);
        return $hex === '' || !ctype_xdigit($hex) || \strlen($hex) % 2 !== 0
            || ($connection->stats()['protocol'] !== 'http2' && \strlen($hex) !== 64);
    }
}

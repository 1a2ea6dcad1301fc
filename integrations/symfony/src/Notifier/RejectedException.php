<?php

declare(strict_types=1);

namespace Apns\Symfony\Notifier;

use Symfony\Component\Notifier\Exception\RuntimeException;
use Symfony\Component\Notifier\Exception\TransportExceptionInterface;

/**
 * APNs refused a notification (a dead token, a bad topic...): the token, Apple's
 * status and reason are readable, so that the caller can prune the token.
 *
 * A TransportExceptionInterface like Notifier's own transports throw, so
 * failover/round-robin transports and FailedMessageEvent see it as a send failure;
 * not Notifier's TransportException, which needs an HTTP client response.
 */
final class RejectedException extends RuntimeException implements TransportExceptionInterface
{
    private string $debug = '';

    public function __construct(public readonly string $token, public readonly int $status, public readonly string $reason)
    {
        parent::__construct("APNs rejected the notification to $token: $status $reason");
    }

    public function getDebug(): string
    {
        return $this->debug;
    }

    public function appendDebug(string $debug): void
    {
        $this->debug .= $debug;
    }
}

<?php

declare(strict_types=1);

namespace Apns\Symfony\Messenger;

/**
 * Dispatched (PSR-14: Symfony's event dispatcher) for every token APNs refused
 * while SendPushHandler sent a SendPush, so that the app can prune dead tokens:
 *
 *     #[AsEventListener]
 *     public function __invoke(TokenRejected $event): void
 *     {
 *         if (in_array($event->reason, ['BadDeviceToken', 'Unregistered', 'Invalid token'], true)) {
 *             $this->devices->forget($event->token);
 *         }
 *     }
 *
 * $token is as the message gave it; $status is Apple's (HTTP status over HTTP/2,
 * the binary status otherwise), $reason Apple's wording.
 */
final class TokenRejected
{
    public function __construct(
        public readonly SendPush $message,
        public readonly string $token,
        public readonly int $status,
        public readonly string $reason,
    ) {
    }
}

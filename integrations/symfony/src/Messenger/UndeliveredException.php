<?php

declare(strict_types=1);

namespace Apns\Symfony\Messenger;

/**
 * A SendPush whose tokens were not all delivered because APNs could not be reached
 * (or the connection could not be made): Messenger's retry strategy sends the
 * message again later, with the undelivered tokens only.
 */
final class UndeliveredException extends \RuntimeException
{
    /** @param list<string> $tokens */
    public function __construct(public readonly array $tokens, ?\Throwable $previous = null)
    {
        parent::__construct(sprintf('%d token(s) undelivered, to be retried: %s', count($tokens),
            $previous?->getMessage() ?? 'APNs unreachable'), 0, $previous);
    }
}

<?php
/**
 * What stops the worker for good (exit 1): a configuration or credential
 * problem that waiting and reconnecting cannot fix, such as an unreadable key
 * or APNs refusing the provider token. The claimed notifications are back in
 * the queue when it is thrown.
 */

declare(strict_types=1);

namespace Apns\Worker;

final class FatalError extends \RuntimeException
{
}

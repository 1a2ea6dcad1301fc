<?php

declare(strict_types=1);

namespace Apns\Symfony;

/**
 * An APNs DSN that cannot work; the message names the part at fault.
 *
 * An \InvalidArgumentException, and Notifier's InvalidArgumentException when the
 * Notifier is installed (so that code catching either sees it).
 */
if (interface_exists(\Symfony\Component\Notifier\Exception\ExceptionInterface::class)) {
    class InvalidDsnException extends \Symfony\Component\Notifier\Exception\InvalidArgumentException
    {
    }
} else {
    class InvalidDsnException extends \InvalidArgumentException
    {
    }
}

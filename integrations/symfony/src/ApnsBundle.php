<?php

declare(strict_types=1);

namespace Apns\Symfony;

use Apns\Symfony\DependencyInjection\ApnsExtension;
use Symfony\Component\DependencyInjection\Extension\ExtensionInterface;
use Symfony\Component\HttpKernel\Bundle\Bundle;

/**
 * Registers the apns:// Notifier transport factory and, with `apns.dsn`
 * configured, the Messenger handler of SendPush. In config/bundles.php:
 *
 *     Apns\Symfony\ApnsBundle::class => ['all' => true],
 */
final class ApnsBundle extends Bundle
{
    public function getContainerExtension(): ?ExtensionInterface
    {
        return new ApnsExtension();
    }
}

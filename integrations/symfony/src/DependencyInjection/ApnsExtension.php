<?php

declare(strict_types=1);

namespace Apns\Symfony\DependencyInjection;

use Apns\Symfony\ApnsDsn;
use Apns\Symfony\Messenger\SendPushHandler;
use Apns\Symfony\Notifier\ApnsTransportFactory;
use Symfony\Component\DependencyInjection\ContainerBuilder;
use Symfony\Component\DependencyInjection\ContainerInterface;
use Symfony\Component\DependencyInjection\Definition;
use Symfony\Component\DependencyInjection\Extension\Extension;
use Symfony\Component\DependencyInjection\Reference;

/**
 * The services of ApnsBundle:
 * - `apns.notifier.transport_factory` (ApnsTransportFactory), tagged
 *   `texter.transport_factory`, so that `framework.notifier.texter_transports` accepts
 *   apns:// DSNs, when symfony/notifier is installed;
 * - with `apns.dsn`: `apns.dsn` (ApnsDsn) and `apns.messenger.send_push_handler`
 *   (SendPushHandler), tagged `messenger.message_handler`, when symfony/messenger is.
 */
final class ApnsExtension extends Extension
{
    public function load(array $configs, ContainerBuilder $container): void
    {
        $config = $this->processConfiguration(new Configuration(), $configs);
        $optional = ContainerInterface::IGNORE_ON_INVALID_REFERENCE;

        if (class_exists(\Symfony\Component\Notifier\Transport\AbstractTransportFactory::class)) {
            $container->setDefinition('apns.notifier.transport_factory', (new Definition(ApnsTransportFactory::class))
                ->setArguments([new Reference('event_dispatcher', $optional)])
                ->addTag('texter.transport_factory'));
        }

        if ($config['dsn'] !== null && interface_exists(\Symfony\Component\Messenger\Handler\BatchHandlerInterface::class)) {
            $container->setDefinition('apns.dsn', (new Definition(ApnsDsn::class))
                ->setFactory([ApnsDsn::class, 'fromString'])
                ->setArguments([$config['dsn']]));
            $container->setDefinition('apns.messenger.send_push_handler', (new Definition(SendPushHandler::class))
                ->setArguments([
                    [new Reference('apns.dsn'), 'connect'],
                    new Reference('event_dispatcher', $optional),
                    new Reference('logger', $optional),
                    $config['batch_size'],
                ])
                ->addTag('messenger.message_handler')
                ->addTag('monolog.logger', ['channel' => 'apns']));
            $container->setAlias(SendPushHandler::class, 'apns.messenger.send_push_handler');
        }
    }

    public function getAlias(): string
    {
        return 'apns';
    }
}

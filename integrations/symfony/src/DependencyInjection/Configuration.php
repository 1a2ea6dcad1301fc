<?php

declare(strict_types=1);

namespace Apns\Symfony\DependencyInjection;

use Symfony\Component\Config\Definition\Builder\TreeBuilder;
use Symfony\Component\Config\Definition\ConfigurationInterface;

/**
 * config/packages/apns.yaml:
 *
 *     apns:
 *         dsn: '%env(APNS_DSN)%'    # apns://KEY_ID:TEAM_ID@api.push.apple.com?topic=...&auth_key=...
 *         batch_size: 100           # SendPush messages sent per batch by messenger:consume
 */
final class Configuration implements ConfigurationInterface
{
    public function getConfigTreeBuilder(): TreeBuilder
    {
        $tree = new TreeBuilder('apns');
        $tree->getRootNode()
            ->children()
                ->scalarNode('dsn')
                    ->info('APNs DSN for the Messenger handler of SendPush (the Notifier takes its own in framework.notifier.texter_transports)')
                    ->defaultNull()
                ->end()
                ->integerNode('batch_size')
                    ->info('SendPush messages the handler sends through the connection before it settles them and acknowledges')
                    ->defaultValue(100)
                    ->min(1)
                ->end()
            ->end();
        return $tree;
    }
}

<?php

declare(strict_types=1);

namespace Apns\Laravel;

use ApnsConnection;
use Illuminate\Notifications\ChannelManager;
use Illuminate\Support\ServiceProvider;

/**
 * Registers the `apns` notification channel and one shared ApnsConnection.
 *
 * The connection is a container singleton made on first use from config('apns'):
 * one per PHP process, and with `persistent` on (the default) the extension also
 * keeps its socket across requests of a PHP-FPM worker, so a request does not pay
 * a TLS handshake. Queue workers and Octane keep the application, hence the same
 * object, between jobs and requests.
 */
class ApnsServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__ . '/../config/apns.php', 'apns');

        $this->app->singleton(ApnsConnection::class, function ($app) {
            return ConnectionConfig::connect((array) $app['config']->get('apns', []));
        });
        $this->app->alias(ApnsConnection::class, 'apns.connection');
        $this->app->singleton(ApnsChannel::class);
    }

    public function boot(): void
    {
        if (method_exists($this->app, 'configPath')) {
            $this->publishes([__DIR__ . '/../config/apns.php' => $this->app->configPath('apns.php')], 'apns-config');
        }

        // via() may return 'apns' as well as ApnsChannel::class.
        $this->app->afterResolving(ChannelManager::class, function (ChannelManager $channels) {
            $channels->extend('apns', fn($app) => $app->make(ApnsChannel::class));
        });
        if ($this->app->resolved(ChannelManager::class)) {
            $this->app->make(ChannelManager::class)->extend('apns', fn($app) => $app->make(ApnsChannel::class));
        }
    }

    /** @return list<string> */
    public function provides(): array
    {
        return [ApnsConnection::class, 'apns.connection', ApnsChannel::class];
    }
}

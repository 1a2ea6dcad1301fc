<?php

declare(strict_types=1);

namespace Apns\Laravel;

use ApnsConnection;
use ApnsException;

/**
 * Turns config('apns') into `new ApnsConnection($url, $options)`.
 *
 * Environment values arrive as strings ("true", "10", ""), so they are normalised
 * here; empty values are dropped, so that an unset APNS_CERT does not become
 * `local_cert => ''`. Unknown keys are refused by name, as the extension refuses
 * unknown options, rather than silently ignored.
 */
final class ConnectionConfig
{
    /** config keys passed through to ApnsConnection's options as they are */
    private const OPTIONS = ['auth_key', 'key_id', 'team_id', 'topic', 'local_cert', 'local_pk', 'passphrase', 'cafile',
        'peer_name', 'timeout', 'persistent', 'grace', 'window', 'max_streams'];

    /** @param array<string, mixed> $config */
    public static function connect(array $config): ApnsConnection
    {
        [$url, $options] = self::resolve($config);
        return new ApnsConnection($url, $options);
    }

    /**
     * @param array<string, mixed> $config
     * @return array{0: string, 1: array<string, mixed>}
     */
    public static function resolve(array $config): array
    {
        $url = (string) ($config['url'] ?? '');
        if ($url === '') {
            throw new ApnsException('config apns.url (APNS_URL) is empty: set it to https://api.push.apple.com or https://api.sandbox.push.apple.com', ApnsException::CONFIG);
        }
        $unknown = array_diff(array_keys($config), ['url'], self::OPTIONS);
        if ($unknown !== []) {
            throw new ApnsException(sprintf("unknown key%s in config/apns.php: '%s' (known: url, %s)",
                count($unknown) > 1 ? 's' : '', implode("', '", $unknown), implode(', ', self::OPTIONS)), ApnsException::CONFIG);
        }
        $options = [];
        foreach (self::OPTIONS as $key) {
            $value = $config[$key] ?? null;
            if ($value === null || $value === '') {
                continue;
            }
            $options[$key] = match ($key) {
                'persistent' => self::flag($value),
                'timeout', 'grace' => is_numeric($value) ? (float) $value : $value,
                'window', 'max_streams' => is_numeric($value) ? (int) $value : $value,
                default => $value,
            };
        }
        if (($options['persistent'] ?? null) === false) {
            unset($options['persistent']);
        }
        return [$url, $options];
    }

    /** "true"/"false"/"1"/"0" from the environment, or an id string for a named persistent connection. */
    private static function flag(mixed $value): bool|string
    {
        if (is_bool($value)) {
            return $value;
        }
        $parsed = filter_var($value, FILTER_VALIDATE_BOOLEAN, FILTER_NULL_ON_FAILURE);
        return $parsed ?? (string) $value;
    }
}

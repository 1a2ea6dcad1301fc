<?php

declare(strict_types=1);

namespace Apns\Symfony;

use ApnsConnection;

/**
 * An APNs DSN, shared by the Notifier transport and the Messenger handler:
 *
 *     apns://KEY_ID:TEAM_ID@api.push.apple.com?topic=com.example.app&auth_key=/path/AuthKey_KEY_ID.p8
 *     apns://api.push.apple.com?topic=com.example.app&local_cert=/path/ck.pem&passphrase=secret
 *     apns://KEY_ID:TEAM_ID@127.0.0.1:8443?topic=...&auth_key=...&cafile=/path/ca.pem   (a local gateway)
 *
 * The host is the HTTP/2 provider API (`default` means api.push.apple.com,
 * `sandbox` api.sandbox.push.apple.com); token auth takes the key id and team id
 * from the user and password parts and the .p8 file from `auth_key`, certificate
 * auth takes `local_cert` (and `passphrase`). Other query options are
 * ApnsConnection's: `local_pk`, `cafile`, `peer_name`, `timeout`, `persistent`
 * (default on: one connection kept per PHP process), `grace`, `max_streams`.
 *
 * A DSN that cannot work throws InvalidDsnException naming the part at fault; the
 * passphrase never appears in a message.
 */
final class ApnsDsn
{
    private const OPTIONS = ['topic', 'auth_key', 'local_cert', 'local_pk', 'passphrase', 'cafile', 'peer_name', 'timeout',
        'persistent', 'grace', 'max_streams', 'window'];

    /**
     * @param string               $url     what ApnsConnection connects to (https://host[:port])
     * @param array<string, mixed> $options ApnsConnection's options
     */
    private function __construct(public readonly string $url, public readonly array $options)
    {
    }

    public static function fromString(string $dsn): self
    {
        $parts = parse_url($dsn);
        $shown = self::redact($dsn);
        if ($parts === false || !isset($parts['scheme'])) {
            throw new InvalidDsnException("APNs DSN '$shown' cannot be parsed: write it as apns://KEY_ID:TEAM_ID@api.push.apple.com?topic=...&auth_key=...");
        }
        if ($parts['scheme'] !== 'apns') {
            throw new InvalidDsnException("APNs DSN '$shown': the scheme is '{$parts['scheme']}', expected 'apns'");
        }
        $host = $parts['host'] ?? '';
        if ($host === '') {
            throw new InvalidDsnException("APNs DSN '$shown' has no host: use api.push.apple.com (or default), api.sandbox.push.apple.com (or sandbox), or host:port");
        }
        $host = ['default' => 'api.push.apple.com', 'sandbox' => 'api.sandbox.push.apple.com'][$host] ?? $host;
        if (isset($parts['path']) && $parts['path'] !== '' && $parts['path'] !== '/') {
            throw new InvalidDsnException("APNs DSN '$shown': unexpected path '{$parts['path']}' after the host (options go in the query string)");
        }
        parse_str($parts['query'] ?? '', $query);
        $unknown = array_diff(array_keys($query), self::OPTIONS);
        if ($unknown !== []) {
            throw new InvalidDsnException(sprintf("APNs DSN '%s': unknown query option%s '%s' (known: %s)", $shown,
                count($unknown) > 1 ? 's' : '', implode("', '", $unknown), implode(', ', self::OPTIONS)));
        }
        foreach ($query as $name => $value) {
            if (!is_string($value)) {
                throw new InvalidDsnException("APNs DSN '$shown': query option '$name' is given as a list; give it once");
            }
        }
        $query = array_filter($query, fn(string $v) => $v !== '');

        $user = isset($parts['user']) && $parts['user'] !== '' ? rawurldecode($parts['user']) : null;
        $pass = isset($parts['pass']) && $parts['pass'] !== '' ? rawurldecode($parts['pass']) : null;
        $options = [];
        if ($user !== null || $pass !== null) {
            if ($user === null || $pass === null) {
                throw new InvalidDsnException("APNs DSN '$shown': the user and password parts must be the key id and the team id (apns://KEY_ID:TEAM_ID@host), "
                    . ($user === null ? 'the key id (user) is missing' : 'the team id (password) is missing'));
            }
            if (!isset($query['auth_key'])) {
                throw new InvalidDsnException("APNs DSN '$shown': token auth (key id '$user', team id '$pass') needs the query option auth_key=/path/to/AuthKey_$user.p8");
            }
            if (!isset($query['topic'])) {
                throw new InvalidDsnException("APNs DSN '$shown': token auth needs the query option topic= (the app's bundle id, e.g. com.example.app)");
            }
            $options = ['key_id' => $user, 'team_id' => $pass];
        } elseif (isset($query['auth_key'])) {
            throw new InvalidDsnException("APNs DSN '$shown': auth_key is given but not the key id and team id (apns://KEY_ID:TEAM_ID@host)");
        } elseif (!isset($query['local_cert'])) {
            throw new InvalidDsnException("APNs DSN '$shown' has no credentials: give KEY_ID:TEAM_ID@ with auth_key= (token auth), or local_cert= (certificate auth)");
        }

        foreach ($query as $name => $value) {
            $options[$name] = match ($name) {
                'timeout', 'grace' => is_numeric($value) ? (float) $value
                    : throw new InvalidDsnException("APNs DSN '$shown': query option $name must be a number of seconds, got '$value'"),
                'max_streams', 'window' => ctype_digit($value) ? (int) $value
                    : throw new InvalidDsnException("APNs DSN '$shown': query option $name must be a whole number, got '$value'"),
                'persistent' => filter_var($value, FILTER_VALIDATE_BOOLEAN, FILTER_NULL_ON_FAILURE) ?? $value,
                default => $value,
            };
        }
        // One connection kept per process unless persistent=0: PHP-FPM and
        // messenger:consume then reuse it from one request or message to the next.
        $options['persistent'] ??= true;
        if ($options['persistent'] === false) {
            unset($options['persistent']);
        }

        $url = 'https://' . (str_contains($host, ':') ? "[$host]" : $host) . (isset($parts['port']) ? ':' . $parts['port'] : '');
        return new self($url, $options);
    }

    public function connect(): ApnsConnection
    {
        return new ApnsConnection($this->url, $this->options);
    }

    /** The DSN without its passphrase, for messages and logs. */
    public static function redact(string $dsn): string
    {
        return (string) preg_replace('/([?&]passphrase=)[^&#]*/', '$1***', $dsn);
    }
}

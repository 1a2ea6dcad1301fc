<?php

/**
 * IDE stubs for the `apns` extension: Apple push notifications with a Rust core.
 *
 * Load the extension with `extension=apns` in php.ini, or
 * `php -d extension=/path/to/libapns.so`. `php --re apns` lists the same API.
 *
 * @generate-class-entries
 */

/**
 * Every failure of the extension: bad input, bad credentials, an unreachable or
 * silent gateway, a closed connection. The message names the cause and the thing
 * involved (the option, the file path, the token's position, the host and port);
 * it never contains a passphrase or key material.
 *
 * A PHP warning is never how the extension reports a failure, and an internal bug
 * (a Rust panic) surfaces as an ApnsException starting with
 * "internal error in apns", not as a crash.
 *
 * Catchable as `RuntimeException`. PHP code may throw and extend it.
 *
 * @example
 * try {
 *     $apns = new ApnsConnection(ApnsConnection::GATEWAY_SANDBOX, ['local_cert' => 'ck.pem']);
 * } catch (ApnsException $e) {
 *     error_log('APNs: ' . $e->getMessage());
 * }
 */
class ApnsException extends RuntimeException
{
    /** getCode(): a token, payload, option or frame is not valid; nothing was sent. */
    public const INVALID_INPUT = 1;
    /** getCode(): the URL or a connection option is wrong. */
    public const CONFIG = 2;
    /** getCode(): a certificate, key or CA file cannot be read or used, or the passphrase is wrong. */
    public const CREDENTIALS = 3;
    /** getCode(): TLS failed: the server is not trusted, or it refused the client certificate. */
    public const TLS = 4;
    /** getCode(): nothing accepts connections at the gateway's address. */
    public const CONNECT = 5;
    /** getCode(): the gateway did not answer within `timeout`. */
    public const TIMEOUT = 6;
    /** getCode(): the connection broke. */
    public const IO = 7;
    /** getCode(): the connection was closed with close(). */
    public const CLOSED = 8;
    /** getCode(): the gateway stayed unreachable; the notifications not confirmed are in failures(). */
    public const UNDELIVERED = 9;
    /** getCode(): a method was called from inside sendMany()'s callback or token iterator. */
    public const REENTRANT = 10;
    /** getCode(): a bug in apns (please report it). */
    public const INTERNAL = 99;
}

/**
 * A connection to an APNs gateway that loses no notification.
 *
 * `ssl://` and `tls://` URLs speak Apple's binary provider protocol (retired by
 * Apple on 2021-03-31; still spoken by compatible gateways and the local
 * sandbox). `https://` URLs speak the HTTP/2 provider API (what Apple serves
 * today), with a client certificate or token auth (`auth_key`, `key_id`,
 * `team_id`): the same methods, the same failures (plus `apns_id` and, for 410,
 * `timestamp`).
 *
 * The binary gateway only answers errors, and discards everything written after
 * a rejected notification. The connection keeps every written notification until
 * it is settled, resends what the gateway discarded (after an error response, a
 * shutdown or a dropped connection, reconnecting as needed) and reports each
 * rejected notification once, in failures() or flush().
 *
 * Objects cannot be cloned (ApnsException) or serialized (Exception), and
 * var_dump()/print_r() show only the URL, the protocol and whether it is
 * connected. Destroying the object closes the connection like close().
 *
 * @example
 * $apns = new ApnsConnection(ApnsConnection::GATEWAY_SANDBOX, [
 *     'local_cert' => 'product_ck.pem',
 *     'passphrase' => getenv('APNS_PASSPHRASE'),
 * ]);
 * foreach ($tokens as $token) {
 *     $apns->send($token, ['aps' => ['alert' => 'Hello', 'badge' => 1]]);
 * }
 * foreach ($apns->flush() as $failure) {
 *     printf("%s: %s\n", $failure['token'], $failure['reason']);
 * }
 * $apns->close();
 */
final class ApnsConnection
{
    /** Apple's production binary gateway (retired by Apple in 2021). */
    public const GATEWAY_PRODUCTION = 'ssl://gateway.push.apple.com:2195';
    /** Apple's development binary gateway (retired by Apple in 2021). */
    public const GATEWAY_SANDBOX = 'ssl://gateway.sandbox.push.apple.com:2195';
    /** Apple's production feedback service (retired by Apple in 2021). */
    public const FEEDBACK_PRODUCTION = 'ssl://feedback.push.apple.com:2196';
    /** Apple's development feedback service (retired by Apple in 2021). */
    public const FEEDBACK_SANDBOX = 'ssl://feedback.sandbox.push.apple.com:2196';
    /** Apple's production HTTP/2 provider API */
    public const API_PRODUCTION = 'https://api.push.apple.com';
    /** Apple's development HTTP/2 provider API */
    public const API_SANDBOX = 'https://api.sandbox.push.apple.com';

    /** Binary status 0: No errors encountered. */
    public const STATUS_NO_ERRORS = 0;
    /** Binary status 1: Processing error (also: priority other than 5 or 10). */
    public const STATUS_PROCESSING_ERROR = 1;
    /** Binary status 2: Missing device token. */
    public const STATUS_MISSING_DEVICE_TOKEN = 2;
    /** Binary status 3: Missing topic. */
    public const STATUS_MISSING_TOPIC = 3;
    /** Binary status 4: Missing payload. */
    public const STATUS_MISSING_PAYLOAD = 4;
    /** Binary status 5: Invalid token size (the binary protocol needs 32 bytes). */
    public const STATUS_INVALID_TOKEN_SIZE = 5;
    /** Binary status 6: Invalid topic size. */
    public const STATUS_INVALID_TOPIC_SIZE = 6;
    /** Binary status 7: Invalid payload size (over 2048 bytes). */
    public const STATUS_INVALID_PAYLOAD_SIZE = 7;
    /** Binary status 8: Invalid token (unknown to APNs, or a sandbox token sent to production). */
    public const STATUS_INVALID_TOKEN = 8;
    /** Binary status 10: Shutdown. The gateway closed after the identified notification; the rest is resent. */
    public const STATUS_SHUTDOWN = 10;
    /** Binary status 128: Protocol error. */
    public const STATUS_PROTOCOL_ERROR = 128;
    /** Binary status 255: None (unknown); also reported for notifications that could not be delivered at all. */
    public const STATUS_UNKNOWN = 255;

    /**
     * Connects to a gateway, TLS handshake included, or throws.
     *
     * Connection options (named like PHP's `ssl` stream-context options, so the
     * seed code's `stream_context_set_option()` calls translate one to one; a
     * `null` value means "not set"):
     *
     * - `local_cert` (string): PEM file with the client certificate (and usually
     *   its key), or a PKCS#12 file (`.p12`/`.pfx`). Relative paths are resolved
     *   against the current working directory, like `realpath()`.
     * - `local_pk` (string): PEM key file, when the key is not in `local_cert`.
     * - `passphrase` (string): for an encrypted PEM key (PKCS#8 or traditional
     *   `Proc-Type: 4,ENCRYPTED`) or a PKCS#12 file. Never shown anywhere.
     * - `cafile` (string): PEM trust anchors added to the built-in roots (how
     *   tests trust the local sandbox).
     * - `peer_name` (string): TLS server name to verify; default: the URL's host.
     * - `timeout` (int|float): seconds for the connect and every blocking I/O
     *   step (default 10). Nothing ever blocks longer. Also bounds close().
     * - `auth_key`, `key_id`, `team_id`, `topic` (string): HTTP/2 token auth
     *   (the `.p8` file or its PEM text, the key id, the team id) and the default
     *   `apns-topic`. For https:// URLs only: refused with ssl:// URLs.
     * - `persistent` (bool|string): `true` or an id string to keep the connection
     *   open in this PHP process (PHP-FPM worker, `php -S`, CLI daemon) when the
     *   object goes away, and hand it to the next `new ApnsConnection` with the
     *   same url, credentials and id. What the object had queued is written out
     *   first; a connection that died meanwhile is reconnected; failures of an
     *   earlier request's notifications are never reported to a later one (call
     *   flush() before the request ends to see them; on the binary protocol the
     *   gateway closes the connection after answering flush()'s probe, so the next
     *   request reconnects). When the PHP process ends,
     *   kept connections settle what they hold (bounded by `timeout`) and close.
     *   stats()['persistent'] says whether the option is on.
     * - `grace` (int|float): no longer used, still accepted so that existing code
     *   runs: flush() and close() settle by proof (a probe's answer), never by
     *   waiting a fixed time for late error responses.
     * - `window` (int): notifications kept for resending before the connection
     *   confirms them with a probe (default 100000, 1 to 10000000).
     * - `max_streams` (int): HTTP/2 requests in flight at most on each connection
     *   (default 1000, 1 to 10000); the server's SETTINGS_MAX_CONCURRENT_STREAMS
     *   applies too. For https:// URLs only.
     * - `connections` (int): HTTP/2 connections this object drives (default 1,
     *   1 to 64), for large sends: at Apple's 1,000 streams per connection and a
     *   50 ms round trip, one connection carries at most 20,000 notifications/s.
     *   Requests go to the connection with the most free streams; each obeys its
     *   own stream limit, and a GOAWAY, 429/5xx or reconnect on one does not stall
     *   the others. The first connects in the constructor, the others when there is
     *   more to send than the open ones take; one provider token serves them all;
     *   `persistent` keeps the whole pool. For https:// URLs only.
     *
     * TLS peer verification is always on; no option turns it off.
     *
     * @param string $url Gateway URL: `ssl://host:port` or `tls://host:port` (binary),
     *                    `https://host[:port]` (HTTP/2 provider API; port 443 by default).
     * @param array|null $options Connection options, see above.
     *
     * @throws ApnsException On a bad URL ("invalid gateway URL '…'"), an unknown
     *                       option ("unknown option 'xyz' for ApnsConnection::__construct
     *                       (known: …)"), a wrongly typed option (named), an unreadable
     *                       file (its path), bad credentials or passphrase, an untrusted
     *                       server, a refused connection, a timeout, or an https:// URL
     *                       without credentials.
     *
     * @example
     * $apns = new ApnsConnection('ssl://gateway.push.apple.com:2195', [
     *     'local_cert' => 'product_ck.pem',   // like the seed's realpath($filename)
     *     'passphrase' => '12345678',
     *     'timeout'    => 5,
     * ]);
     */
    public function __construct(string $url, ?array $options = null) {}

    /**
     * Validates and sends one notification; returns its identifier.
     *
     * The token is hex; spaces, tabs and `<` `>` are ignored (no `str_replace`
     * needed). The binary protocol needs 32-byte tokens (64 hex digits). The
     * payload is a JSON object of at most 2048 bytes, given as a JSON string or as
     * an array (encoded like `json_encode` with `JSON_UNESCAPED_UNICODE |
     * JSON_UNESCAPED_SLASHES`; lists become JSON arrays, other arrays objects;
     * `stdClass` and `JsonSerializable` work; strings must be UTF-8).
     *
     * Invalid input throws before anything is written and the connection stays
     * usable. The notification is written without waiting for the gateway: a
     * rejection shows later, in failures() or flush(), with this identifier.
     * Over HTTP/2, send() waits for answers (within `timeout`) only while every
     * stream of every connection is busy and as many notifications again are
     * queued: they could not go out any sooner, and memory stays flat.
     *
     * Options:
     * - `identifier` (int, 0 to 4294967295): yours, echoed back in failures;
     *   default: an increasing sequence number.
     * - `expiry` (int): unix time until which APNs keeps trying; 0 (default) = do not store.
     * - `priority` (int): 10 (default, immediately) or 5 (power-saving).
     * - `command` (int): frame format 0 (simple), 1 (enhanced) or 2 (framed, default).
     *   Command 0 carries no identifier and the gateway reports no error for it.
     * - `topic`, `push_type`, `collapse_id`, `apns_id`: HTTP/2 only (`apns-topic`,
     *   `apns-push-type`, `apns-collapse-id` ≤ 64 bytes, `apns-id` UUID); refused on ssl://.
     *   `command` is binary only.
     *
     * @param string $deviceToken Hex device token.
     * @param string|array $payload JSON text or an array to encode (declared mixed: any
     *                            other type is an ApnsException naming it, not a TypeError).
     * @param array|null $options Per-notification options, see above.
     *
     * @return int The notification's identifier.
     *
     * @throws ApnsException On an invalid token ("device token is not hex: 'z' at
     *                       character 5", "device token is 16 bytes …"), payload
     *                       ("payload is 2100 bytes, over the limit of 2048 bytes",
     *                       "payload is not valid JSON: …") or option ("priority must be
     *                       10 (immediately) or 5 (power-saving), got 7"); on a closed
     *                       connection ("the connection is closed…"); when the gateway
     *                       stays unreachable.
     *
     * @example
     * $id = $apns->send('<a1b2c3d4 e5f60718 ...>', ['aps' => ['alert' => 'Hi']], ['expiry' => time() + 3600]);
     */
    public function send(string $deviceToken, mixed $payload, ?array $options = null): int {}

    /**
     * Sends one payload to every token of any iterable, then flushes.
     *
     * Tokens are read lazily, one at a time (arrays, generators, iterators,
     * `PDOStatement`s fetching one column), so a batch of a million rows never
     * sits in memory; the payload is encoded and validated once.
     *
     * A token that cannot be sent (not a string, empty, not hex, not 32 bytes) does
     * not stop the batch: it is reported in `failed` with status 2 (Missing device
     * token), 8 (Invalid token) or 5 (Invalid token size) and a reason naming its
     * 0-based position, like "Invalid token size (token #41: device token is 16
     * bytes …)"; nothing is written for it. Over HTTP/2 (any token length) such a
     * token is reported with status 400 and reason "BadDeviceToken (token #41: …)".
     *
     * Options: those of send(), and
     * - `identifier` (int): notification #i gets identifier + i (mod 2^32), so
     *   failures map back to positions; without it, sequence numbers are used and
     *   rejected rows have identifier 0.
     * - `progress` (callable(int $done, ?int $total): void): called every
     *   1000 notifications or 0.2 s, whichever comes first, and once at the end.
     *   `$total` is the array's count, or null for other iterables. An exception
     *   thrown by it stops the batch and propagates.
     *
     * The callback and the token iterator must not call methods of this
     * connection while the batch runs (ApnsException).
     *
     * @param iterable $deviceTokens Hex device tokens.
     * @param string|array $payload JSON text or an array to encode (declared mixed: any
     *                            other type is an ApnsException naming it, not a TypeError).
     * @param array|null $options Per-notification options and `progress`.
     *
     * @return array{sent: int, failed: list<array{identifier: int, token: string, status: int, reason: string}>, resent: int, seconds: float}
     *         `sent`: notifications written by this call; `failed`: the rejected tokens
     *         and every failure flush() collected (including those of earlier
     *         send() calls not yet read); `resent`: notifications written again;
     *         `seconds`: the time the call took.
     *
     * @throws ApnsException On an invalid payload or option, a closed connection, a
     *                       gateway that stays unreachable, or re-entry.
     *
     * @example
     * $rows = $pdo->query('SELECT token FROM devices');
     * $rows->setFetchMode(PDO::FETCH_COLUMN, 0);
     * $result = $apns->sendMany($rows, ['aps' => ['alert' => 'Sale!']], [
     *     'progress' => fn(int $done, ?int $total) => printf("%d sent\n", $done),
     * ]);
     * printf("%d sent, %d failed in %.1f s\n", $result['sent'], count($result['failed']), $result['seconds']);
     */
    public function sendMany(iterable $deviceTokens, mixed $payload, ?array $options = null): array {}

    /**
     * Writes whole binary frames, in place of `fwrite($fp, $frame)`.
     *
     * The frames (commands 0, 1 or 2, one or more in one string, as built by pack()
     * or by the seed code's own `pack()` chains) are parsed and checked as the
     * gateway would, then tracked and resent exactly like notifications passed to
     * send(). Everything is written, whatever the socket does (partial writes,
     * would-block, TLS retries), or the method throws; an invalid or incomplete
     * frame throws before anything is written.
     *
     * @param string $frame One or more whole frames.
     *
     * @return int The number of bytes taken (strlen($frame)).
     *
     * @throws ApnsException On an unparsable, incomplete or invalid frame (naming
     *                       the frame and its byte offset), or a closed connection.
     *
     * @example
     * $msg = pack("C", 1) . pack("N", $i) . pack("N", $expiry) . pack("n", 32)
     *      . pack('H*', $token) . pack("n", strlen($payload)) . $payload;
     * $apns->write($msg);
     */
    public function write(string $frame): int {}

    /**
     * Waits until every notification sent so far is settled: accepted, or
     * rejected and reported.
     *
     * Settled means proven by the gateway, never assumed after a time: binary
     * protocol, an error response naming the notification or a later one, or the
     * answer to a probe (a notification to the all-zero token, which the gateway
     * rejects once it has processed everything before it) written after it;
     * HTTP/2, the notification's own response. It resends what the gateway
     * discarded after an error, a shutdown (status 10) or a dropped connection.
     * Returns the failures collected since the last flush()/failures() call, and
     * clears them. On a prompt gateway it takes about one round trip; Apple's
     * binary gateway answers 0.1 to 0.8 s late and closes the connection after
     * every error response, the probe's included, so the next send reconnects.
     *
     * @param float|null $timeout Return after at most this many seconds with the
     *                            failures settled by then; the rest stays queued
     *                            (stats()['pending']) and is settled by the next
     *                            flush(), close() or (persistent) the next owner.
     *                            Its own deadline is never an exception. null:
     *                            wait until everything is settled, each blocking
     *                            step bounded by the connection's `timeout`.
     *
     * @return list<array{identifier: int, token: string, status: int, reason: string}>
     *         Failures: the identifier, the token (lowercase hex), Apple's status
     *         code and its text ('Invalid token'). Status 255 marks notifications
     *         that could not be delivered at all.
     *
     * @throws ApnsException When the connection is closed, or the gateway stays
     *                       unreachable for `timeout` (the notifications it could
     *                       not deliver are then in failures() with status 255).
     *
     * @example
     * foreach ($apns->flush() as $f) {
     *     if ($f['status'] === ApnsConnection::STATUS_INVALID_TOKEN) {
     *         $db->forgetToken($f['token']);
     *     }
     * }
     */
    public function flush(?float $timeout = null): array {}

    /**
     * The failures collected so far, without waiting; cleared on read.
     *
     * @return list<array{identifier: int, token: string, status: int, reason: string}>
     *
     * @example
     * $apns->send($token, $payload);
     * // ... later
     * $failed = $apns->failures();
     */
    public function failures(): array {}

    /**
     * The latest error-response packet not yet returned, or null; never blocks.
     *
     * In place of the seed code's `checkAppleErrorResponse($fp)`. Informational:
     * the connection resends what the gateway discarded anyway.
     *
     * @return array{command: int, status: int, identifier: int, reason: string}|null
     *         `command` is always 8.
     *
     * @example
     * if ($error = $apns->readErrorResponse()) {
     *     echo "notification {$error['identifier']} refused: {$error['reason']}\n";
     * }
     */
    public function readErrorResponse(): ?array {}

    /**
     * Counters since the connection was created.
     *
     * @return array{sent: int, resent: int, failed: int, reconnects: int, bytes: int, pending: int, protocol: string, connected: bool, persistent: bool, version: string, connections?: list<array{streams: int, answered: int, in_flight: int, reconnects: int, goaways: int, connected: bool}>}
     *         `pending`: notifications sent or queued and not yet settled (what a
     *         timed flush() left); `protocol` is 'binary' (or 'http2'); `version`
     *         the extension's version.
     *         HTTP/2 only, `connections`: one entry per connection of the pool
     *         (the `connections` option), in order: streams opened on it (resends
     *         included), responses received, streams open now, reconnects, GOAWAYs
     *         and broken connections seen, and whether it is connected now.
     *
     * @example
     * printf("%d sent, %d resent, %d reconnects\n", ...array_values(array_intersect_key(
     *     $apns->stats(), array_flip(['sent', 'resent', 'reconnects']))));
     */
    public function stats(): array {}

    /**
     * Whether a connection to the gateway is open now (the connection reconnects
     * by itself when it needs to send).
     *
     * @return bool
     */
    public function isConnected(): bool {}

    /**
     * Settles pending notifications by proof, as flush() does (about one round
     * trip on a prompt gateway; bounded by `timeout` on a silent one), and
     * closes. Failures found while closing stay readable with failures().
     * Closing twice is harmless; send(), sendMany(), write() and flush() throw
     * afterwards ("the connection is closed: create a new ApnsConnection").
     * Destroying the object does the same.
     *
     * @return void
     *
     * @throws ApnsException When the gateway could not be reached or did not
     *                       confirm everything within `timeout`: what it did not
     *                       confirm is then in failures() with status 255.
     */
    public function close(): void {}

    /**
     * Builds one binary frame, byte for byte as Apple specified it, in place of
     * the seed code's `pack()` chain. Validates like send().
     *
     * With `['command' => 1, 'identifier' => $i, 'expiry' => $e]` the result
     * equals `pack("C", 1) . pack("N", $i) . pack("N", $e) . pack("n", 32) .
     * pack('H*', $token) . pack("n", strlen($payload)) . $payload`.
     *
     * @param string $deviceToken Hex device token (32 bytes).
     * @param string|array $payload JSON text or an array to encode (declared mixed: any
     *                            other type is an ApnsException naming it, not a TypeError).
     * @param array|null $options `command` (0, 1, 2; default 2), `identifier`
     *                            (default 0), `expiry` (default 0), `priority`
     *                            (10 or 5, default 10; command 2 only).
     *
     * @return string The frame (binary).
     *
     * @throws ApnsException On an invalid token, payload or option.
     *
     * @example
     * $frame = ApnsConnection::pack($token, '{"aps":{"alert":"Hi"}}', ['command' => 1, 'identifier' => 7]);
     * $apns->write($frame);
     */
    public static function pack(string $deviceToken, mixed $payload, ?array $options = null): string {}

    /**
     * Reads the feedback service to its end: the devices that no longer accept
     * notifications from the app, with the time APNs found out. The service sends
     * the list once and forgets it.
     *
     * Options: `local_cert`, `local_pk`, `passphrase`, `cafile`, `peer_name`,
     * `timeout` (as for the constructor).
     *
     * @param string $url The feedback service: `ssl://host:port`.
     * @param array|null $options TLS options and `timeout`.
     *
     * @return list<array{timestamp: int, token: string}> Unix seconds and lowercase hex tokens.
     *
     * @throws ApnsException On bad options or credentials, an unreachable or silent
     *                       service, or a stream cut inside a tuple.
     *
     * @example
     * foreach (ApnsConnection::feedback(ApnsConnection::FEEDBACK_PRODUCTION, ['local_cert' => 'ck.pem']) as $row) {
     *     $db->forgetTokenIfOlder($row['token'], $row['timestamp']);
     * }
     */
    public static function feedback(string $url, ?array $options = null): array {}

    /**
     * Refused: one gateway connection cannot be shared by two objects.
     *
     * @throws ApnsException Always.
     */
    public function __clone() {}

    /**
     * What var_dump() and print_r() show: never credentials.
     *
     * @return array{url: string, protocol: string, connected: bool|null}
     */
    public function __debugInfo(): array {}
}

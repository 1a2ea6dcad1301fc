<?php

declare(strict_types=1);

namespace Apns\Laravel;

use ApnsConnection;
use ApnsException;
use Illuminate\Contracts\Events\Dispatcher;
use Illuminate\Notifications\AnonymousNotifiable;
use Illuminate\Notifications\Events\NotificationFailed;
use Illuminate\Notifications\Notification;
use UnexpectedValueException;

/**
 * The `apns` notification channel.
 *
 * A notification's via() returns ApnsChannel::class (or 'apns'), its
 * toApns($notifiable) an ApnsMessage (or a payload array), and the notifiable's
 * routeNotificationForApns($notification) a device token or a list of them.
 *
 * All tokens go out through the shared connection in one sendMany(), which returns
 * once every one is settled. Each token APNs rejected is dispatched as a
 * NotificationFailed event with data ['token', 'status', 'reason'] (and 'apns_id',
 * 'timestamp' when APNs gave them), so that the app can prune dead tokens; the
 * other tokens are sent all the same. An ApnsException (bad credentials, APNs
 * unreachable, some tokens not delivered) propagates, as a failing mail transport
 * does, so that a queued notification is retried by the queue: at least once, so
 * the tokens already delivered then get it twice (Laravel retries the notification
 * as a whole).
 */
class ApnsChannel
{
    public function __construct(private ApnsConnection $connection, private Dispatcher $events)
    {
    }

    /**
     * @return array{sent: int, failed: list<array<string, mixed>>, resent: int, seconds: float}|null
     *         sendMany()'s result (NotificationSent's $response), null when there was no token
     */
    public function send(mixed $notifiable, Notification $notification): ?array
    {
        $route = $notifiable->routeNotificationFor('apns', $notification);
        if ($route === null && $notifiable instanceof AnonymousNotifiable) {
            // Notification::route(ApnsChannel::class, $token) as well as route('apns', $token).
            $route = $notifiable->routeNotificationFor(self::class, $notification);
        }
        $tokens = array_values(array_filter(is_iterable($route) ? [...$route] : [$route], fn($t) => $t !== null && $t !== ''));
        if ($tokens === []) {
            return null;
        }
        if (!method_exists($notification, 'toApns')) {
            throw new UnexpectedValueException(get_class($notification) . ' is sent via the apns channel but has no toApns($notifiable) method');
        }
        $message = $notification->toApns($notifiable);
        [$payload, $options] = match (true) {
            $message instanceof ApnsMessage => [$message->payload(), $message->options()],
            is_array($message) || is_string($message) => [$message, []],
            default => throw new UnexpectedValueException(get_class($notification)
                . '::toApns() must return an Apns\Laravel\ApnsMessage or a payload array, got ' . get_debug_type($message)),
        };

        // Identifiers base+i map each failure back to the token exactly as the app
        // stored it (the extension reports tokens as lowercase hex).
        $base = random_int(1, 0x7fffffff);
        try {
            $result = $this->connection->sendMany($tokens, $payload, $options + ['identifier' => $base]);
        } catch (ApnsException $e) {
            // APNs unreachable: what it refused meanwhile is still reported, and the
            // exception goes on so that a queued notification is retried.
            $this->report($notifiable, $notification, $tokens, $base, $this->connection->failures());
            throw $e;
        }
        $undelivered = $this->report($notifiable, $notification, $tokens, $base, $result['failed']);
        if ($undelivered !== []) {
            throw new ApnsException(sprintf('%d of %d notification(s) not delivered (%s): the notification is to be sent again',
                count($undelivered), count($tokens), $undelivered[0]['reason']), ApnsException::UNDELIVERED);
        }
        return $result;
    }

    /**
     * Dispatches NotificationFailed for each refused token; returns the failures
     * that are not refusals but notifications the engine could not deliver at all
     * (ApnsConnection::STATUS_UNKNOWN, 255, on both protocols).
     *
     * @param list<array<string, mixed>> $failures
     * @return list<array<string, mixed>>
     */
    private function report(mixed $notifiable, Notification $notification, array $tokens, int $base, array $failures): array
    {
        $undelivered = [];
        foreach ($failures as $failure) {
            if ($failure['status'] === ApnsConnection::STATUS_UNKNOWN) {
                $undelivered[] = $failure;
                continue;
            }
            $position = ($failure['identifier'] - $base) & 0xffffffff;
            $data = [
                'token' => $tokens[$position] ?? $failure['token'],
                'status' => $failure['status'],
                'reason' => $failure['reason'],
            ] + array_intersect_key($failure, ['apns_id' => 0, 'timestamp' => 0]);
            $this->events->dispatch(new NotificationFailed($notifiable, $notification, 'apns', $data));
        }
        return $undelivered;
    }
}

<?php

declare(strict_types=1);

namespace Apns\Laravel;

use ApnsException;
use DateTimeInterface;

/**
 * One push notification, built fluently in a notification's toApns():
 *
 *     return ApnsMessage::create()->title('Order shipped')->body('Arrives Tuesday')
 *         ->badge(1)->sound('default')->custom('order_id', 42);
 *
 * payload() is the JSON object Apple receives ({"aps": {...}, custom keys...});
 * options() are the per-notification options of ApnsConnection::send()
 * (push type, priority, expiry, collapse id, topic). The setters check their
 * arguments where Apple's rules are simple, so that a mistake throws here, in the
 * code that made it, rather than coming back later as a rejected notification.
 */
class ApnsMessage
{
    /** @var array<string, mixed> the aps dictionary */
    private array $aps = [];
    /** @var array<string, mixed> the alert dictionary (title, subtitle, body...) */
    private array $alert = [];
    /** @var array<string, mixed> keys beside aps */
    private array $custom = [];
    /** @var array<string, mixed> ApnsConnection::send() options */
    private array $options = [];

    public function __construct(?string $body = null)
    {
        if ($body !== null) {
            $this->body($body);
        }
    }

    public static function create(?string $body = null): static
    {
        return new static($body);
    }

    public function title(string $title): static
    {
        $this->alert['title'] = $title;
        return $this;
    }

    public function subtitle(string $subtitle): static
    {
        $this->alert['subtitle'] = $subtitle;
        return $this;
    }

    public function body(string $body): static
    {
        $this->alert['body'] = $body;
        return $this;
    }

    /** The app icon's badge; 0 removes it. */
    public function badge(int $badge): static
    {
        if ($badge < 0) {
            throw new ApnsException("ApnsMessage::badge() must be 0 or more, got $badge", ApnsException::INVALID_INPUT);
        }
        $this->aps['badge'] = $badge;
        return $this;
    }

    /** A sound file of the app bundle, or 'default'. */
    public function sound(string $sound = 'default'): static
    {
        $this->aps['sound'] = $sound;
        return $this;
    }

    public function category(string $category): static
    {
        $this->aps['category'] = $category;
        return $this;
    }

    /** Groups notifications in Notification Center (aps.thread-id). */
    public function threadId(string $threadId): static
    {
        $this->aps['thread-id'] = $threadId;
        return $this;
    }

    /** A background update (aps.content-available = 1); pair with pushType('background') and priority(5). */
    public function contentAvailable(bool $on = true): static
    {
        $on ? $this->aps['content-available'] = 1 : $this->aps = array_diff_key($this->aps, ['content-available' => 0]);
        return $this;
    }

    /** Lets a notification service extension modify the notification (aps.mutable-content = 1). */
    public function mutableContent(bool $on = true): static
    {
        $on ? $this->aps['mutable-content'] = 1 : $this->aps = array_diff_key($this->aps, ['mutable-content' => 0]);
        return $this;
    }

    /** A key of the payload beside aps, for the app to read. */
    public function custom(string $key, mixed $value): static
    {
        if ($key === 'aps') {
            throw new ApnsException("ApnsMessage::custom(): the key 'aps' is Apple's; use the other setters", ApnsException::INVALID_INPUT);
        }
        $this->custom[$key] = $value;
        return $this;
    }

    /** apns-push-type: alert, background, voip, complication, fileprovider, mdm, location, liveactivity, pushtotalk. */
    public function pushType(string $type): static
    {
        $this->options['push_type'] = $type;
        return $this;
    }

    /** 10: deliver now (default); 5: when the device saves power. */
    public function priority(int $priority): static
    {
        if ($priority !== 10 && $priority !== 5) {
            throw new ApnsException("ApnsMessage::priority() must be 10 (immediately) or 5 (power-saving), got $priority", ApnsException::INVALID_INPUT);
        }
        $this->options['priority'] = $priority;
        return $this;
    }

    /** Until when APNs keeps trying to deliver (a date, or unix seconds); by default it does not store the notification. */
    public function expiresAt(DateTimeInterface|int $when): static
    {
        $this->options['expiry'] = $when instanceof DateTimeInterface ? $when->getTimestamp() : $when;
        return $this;
    }

    /** apns-collapse-id: a later notification with the same id replaces this one on the device (64 bytes at most). */
    public function collapseId(string $id): static
    {
        if (strlen($id) > 64) {
            throw new ApnsException('ApnsMessage::collapseId() is ' . strlen($id) . ' bytes, over the limit of 64', ApnsException::INVALID_INPUT);
        }
        $this->options['collapse_id'] = $id;
        return $this;
    }

    /** apns-topic for this notification (default: config apns.topic, the app's bundle id). */
    public function topic(string $topic): static
    {
        $this->options['topic'] = $topic;
        return $this;
    }

    /** The payload Apple receives. */
    public function payload(): array
    {
        $aps = $this->aps;
        if ($this->alert !== []) {
            // A body alone is sent as a plain string alert, as most senders do.
            $aps['alert'] = array_keys($this->alert) === ['body'] ? $this->alert['body'] : $this->alert;
        }
        // Key order: aps first, as Apple's examples show.
        return ['aps' => $aps === [] ? new \stdClass() : $aps] + $this->custom;
    }

    /** The options for ApnsConnection::send()/sendMany(). */
    public function options(): array
    {
        return $this->options;
    }
}

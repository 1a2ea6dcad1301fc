<?php

declare(strict_types=1);

namespace Apns\Symfony\Notifier;

use DateTimeInterface;
use Symfony\Component\Notifier\Message\MessageOptionsInterface;

/**
 * What a PushMessage carries to APNs besides its subject (the alert title) and
 * content (the alert body): the device token (the recipient), the other aps
 * fields, custom keys, and the per-notification options (push type, priority,
 * expiry, collapse id, topic).
 *
 *     $texter->send(new PushMessage('Order shipped', 'Arrives Tuesday',
 *         (new ApnsOptions($deviceToken))->badge(1)->sound('default')->custom('order_id', 42)));
 */
final class ApnsOptions implements MessageOptionsInterface
{
    /** @var array<string, mixed> */
    private array $aps = [];
    /** @var array<string, mixed> */
    private array $custom = [];
    /** @var array<string, mixed> ApnsConnection::send() options */
    private array $send = [];

    public function __construct(private ?string $deviceToken = null)
    {
    }

    public function getRecipientId(): ?string
    {
        return $this->deviceToken;
    }

    public function deviceToken(string $token): self
    {
        $this->deviceToken = $token;
        return $this;
    }

    /** The payload besides the alert's title and body: ['aps' => [...], custom keys...]. */
    public function toArray(): array
    {
        return ['aps' => $this->aps] + $this->custom;
    }

    /** @return array<string, mixed> the options for ApnsConnection::send() */
    public function sendOptions(): array
    {
        return $this->send;
    }

    public function subtitle(string $subtitle): self
    {
        $this->aps['alert']['subtitle'] = $subtitle;
        return $this;
    }

    public function badge(int $badge): self
    {
        $this->aps['badge'] = $badge;
        return $this;
    }

    public function sound(string $sound = 'default'): self
    {
        $this->aps['sound'] = $sound;
        return $this;
    }

    public function category(string $category): self
    {
        $this->aps['category'] = $category;
        return $this;
    }

    public function threadId(string $threadId): self
    {
        $this->aps['thread-id'] = $threadId;
        return $this;
    }

    public function contentAvailable(): self
    {
        $this->aps['content-available'] = 1;
        return $this;
    }

    public function mutableContent(): self
    {
        $this->aps['mutable-content'] = 1;
        return $this;
    }

    /** A key beside aps, for the app. */
    public function custom(string $key, mixed $value): self
    {
        if ($key === 'aps') {
            throw new \InvalidArgumentException("ApnsOptions::custom(): the key 'aps' is Apple's; use the other setters");
        }
        $this->custom[$key] = $value;
        return $this;
    }

    public function pushType(string $type): self
    {
        $this->send['push_type'] = $type;
        return $this;
    }

    public function priority(int $priority): self
    {
        $this->send['priority'] = $priority;
        return $this;
    }

    public function expiresAt(DateTimeInterface|int $when): self
    {
        $this->send['expiry'] = $when instanceof DateTimeInterface ? $when->getTimestamp() : $when;
        return $this;
    }

    public function collapseId(string $id): self
    {
        $this->send['collapse_id'] = $id;
        return $this;
    }

    public function topic(string $topic): self
    {
        $this->send['topic'] = $topic;
        return $this;
    }
}

<?php

declare(strict_types=1);

namespace Apns\Symfony\Notifier;

use ApnsConnection;
use Apns\Symfony\ApnsDsn;
use Symfony\Component\Notifier\Event\FailedMessageEvent;
use Symfony\Component\Notifier\Event\MessageEvent;
use Symfony\Component\Notifier\Event\SentMessageEvent;
use Symfony\Component\Notifier\Exception\InvalidArgumentException;
use Symfony\Component\Notifier\Exception\UnsupportedMessageTypeException;
use Symfony\Component\Notifier\Message\MessageInterface;
use Symfony\Component\Notifier\Message\PushMessage;
use Symfony\Component\Notifier\Message\SentMessage;
use Symfony\Component\Notifier\Transport\TransportInterface;
use Symfony\Contracts\EventDispatcher\EventDispatcherInterface;

/**
 * Notifier transport: a PushMessage goes to the device token of its ApnsOptions
 * through one ApnsConnection (made on first send, kept for the process), and
 * send() returns once APNs has accepted or refused it.
 *
 * The payload is {"aps": {"alert": {"title": subject, "body": content}, ...the
 * options' aps fields}, ...custom keys}. A refusal throws RejectedException with
 * Apple's status and reason; an outage an ApnsException. The SentMessage's id is
 * the apns-id the notification was sent with.
 *
 * Implements TransportInterface itself rather than extending AbstractTransport,
 * which requires symfony/http-client; the MessageEvent / SentMessageEvent /
 * FailedMessageEvent are dispatched the same way.
 */
final class ApnsTransport implements TransportInterface
{
    private ?ApnsConnection $connection = null;

    public function __construct(private ApnsDsn $dsn, private ?EventDispatcherInterface $dispatcher = null)
    {
    }

    public function __toString(): string
    {
        return 'apns://' . substr($this->dsn->url, strlen('https://'))
            . (isset($this->dsn->options['topic']) ? '?topic=' . $this->dsn->options['topic'] : '');
    }

    public function supports(MessageInterface $message): bool
    {
        return $message instanceof PushMessage
            && (null === $message->getOptions() || $message->getOptions() instanceof ApnsOptions);
    }

    public function send(MessageInterface $message): SentMessage
    {
        if (!$message instanceof PushMessage) {
            throw new UnsupportedMessageTypeException(__CLASS__, PushMessage::class, $message);
        }
        $this->dispatcher?->dispatch(new MessageEvent($message));
        try {
            $sent = $this->doSend($message);
        } catch (\Throwable $e) {
            $this->dispatcher?->dispatch(new FailedMessageEvent($message, $e));
            throw $e;
        }
        $this->dispatcher?->dispatch(new SentMessageEvent($sent));
        return $sent;
    }

    private function doSend(PushMessage $message): SentMessage
    {
        $options = $message->getOptions() ?? new ApnsOptions();
        if (!$options instanceof ApnsOptions) {
            throw new InvalidArgumentException(sprintf('%s needs %s as the message options, got %s', __CLASS__, ApnsOptions::class, get_debug_type($options)));
        }
        $token = $options->getRecipientId();
        if ($token === null || $token === '') {
            throw new InvalidArgumentException('the PushMessage has no device token: pass it to new ApnsOptions($deviceToken)');
        }
        $payload = $options->toArray();
        $payload['aps']['alert'] = ['title' => $message->getSubject(), 'body' => $message->getContent()] + ($payload['aps']['alert'] ?? []);
        $apnsId = self::uuid();

        $connection = $this->connection();
        $connection->send($token, $payload, $options->sendOptions() + ['apns_id' => $apnsId]);
        foreach ($connection->flush() as $failure) {
            // One notification in flight on this connection, so a failure is this one's:
            // refused, or (status 255 on both protocols) not delivered at all.
            if ($failure['status'] === ApnsConnection::STATUS_UNKNOWN) {
                throw new \ApnsException($failure['reason'], \ApnsException::UNDELIVERED);
            }
            throw new RejectedException($token, $failure['status'], $failure['reason']);
        }
        $sent = new SentMessage($message, (string) $this);
        $sent->setMessageId($apnsId);
        return $sent;
    }

    private function connection(): ApnsConnection
    {
        return $this->connection ??= $this->dsn->connect();
    }

    /** A random (version 4) UUID for apns-id. */
    private static function uuid(): string
    {
        $b = random_bytes(16);
        $b[6] = chr(ord($b[6]) & 0x0f | 0x40);
        $b[8] = chr(ord($b[8]) & 0x3f | 0x80);
        $h = bin2hex($b);
        return sprintf('%s-%s-%s-%s-%s', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4), substr($h, 20));
    }
}

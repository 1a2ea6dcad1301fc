<?php

declare(strict_types=1);

namespace Apns\Symfony\Messenger;

/**
 * A Messenger message: one payload to some device tokens.
 *
 *     $bus->dispatch(new SendPush([$token1, $token2], ['aps' => ['alert' => 'Hi']], ['priority' => 5]));
 *
 * $options are ApnsConnection::send()'s (push_type, priority, expiry,
 * collapse_id, topic). Handled by SendPushHandler, in batches.
 */
final class SendPush
{
    /** @var list<string> */
    private array $tokens;

    /**
     * @param iterable<string>     $tokens  hex device tokens
     * @param array|string         $payload the JSON object, as an array or as JSON text
     * @param array<string, mixed> $options ApnsConnection::send() options
     */
    public function __construct(iterable $tokens, private array|string $payload, private array $options = [])
    {
        $this->tokens = array_values([...$tokens]);
        if (isset($options['identifier'])) {
            throw new \InvalidArgumentException('SendPush: the identifier option is the handler\'s (it maps failures back to tokens)');
        }
    }

    /** @return list<string> */
    public function getTokens(): array
    {
        return $this->tokens;
    }

    public function getPayload(): array|string
    {
        return $this->payload;
    }

    /** @return array<string, mixed> */
    public function getOptions(): array
    {
        return $this->options;
    }

    /**
     * @internal For SendPushHandler: before it hands the message back to Messenger for a
     * retry, it keeps only the tokens still undelivered, so that the retried message
     * (the same object, serialized again by the retry) does not send the others twice.
     *
     * @param list<string> $tokens
     */
    public function keepOnly(array $tokens): void
    {
        $this->tokens = array_values($tokens);
    }
}

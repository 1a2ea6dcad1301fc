<?php

declare(strict_types=1);

namespace Apns\Symfony\Notifier;

use Apns\Symfony\ApnsDsn;
use Symfony\Component\Notifier\Exception\UnsupportedSchemeException;
use Symfony\Component\Notifier\Transport\AbstractTransportFactory;
use Symfony\Component\Notifier\Transport\Dsn;
use Symfony\Component\Notifier\Transport\TransportInterface;

/**
 * Makes ApnsTransport from `apns://...` DSNs (see ApnsDsn for the syntax), for
 * `framework.notifier.texter_transports` (the bundle tags it
 * `texter.transport_factory`) or Transport::fromDsn() with this factory.
 */
final class ApnsTransportFactory extends AbstractTransportFactory
{
    public function create(Dsn $dsn): TransportInterface
    {
        if (!$this->supports($dsn)) {
            throw new UnsupportedSchemeException($dsn, 'apns', $this->getSupportedSchemes());
        }
        return new ApnsTransport(ApnsDsn::fromString($dsn->getOriginalDsn()), $this->dispatcher);
    }

    protected function getSupportedSchemes(): array
    {
        return ['apns'];
    }
}

<?php
/**
 * `messenger:consume` for the scale-out test, as a Symfony application runs it
 * (bin/console messenger:consume apns), without a kernel: Messenger's own
 * ConsumeMessagesCommand on the Redis transport, SendPushHandler behind it,
 * Messenger's retry and SIGTERM listeners.
 *
 *   REDIS_DSN=redis://127.0.0.1:PORT?... APNS_DSN=apns://... php messenger-worker.php messenger:consume apns --time-limit=120
 *
 * Prints one line per TokenRejected event and, on stop, "handled N" (messages acknowledged).
 */

declare(strict_types=1);

require __DIR__ . '/symfony.inc';
if ($reason = symfony_load('Messenger', 'Redis', 'EventDispatcher', 'Console')) {
    fwrite(STDERR, "$reason\n");
    exit(2);
}
require __DIR__ . '/messenger.inc';

use Apns\Symfony\ApnsDsn;
use Symfony\Component\Console\Application;
use Symfony\Component\Messenger\Bridge\Redis\Transport\RedisTransportFactory;
use Symfony\Component\Messenger\Command\ConsumeMessagesCommand;
use Symfony\Component\Messenger\Event\WorkerMessageHandledEvent;
use Symfony\Component\Messenger\EventListener\StopWorkerOnSigtermSignalListener;
use Symfony\Component\Messenger\RoutableMessageBus;
use Symfony\Component\Messenger\Transport\Serialization\PhpSerializer;

$transport = (new RedisTransportFactory())->createTransport((string) getenv('REDIS_DSN'), [], new PhpSerializer());
$wiring = messenger_wiring(['apns' => $transport], [ApnsDsn::fromString((string) getenv('APNS_DSN')), 'connect'],
    (int) (getenv('BATCH_SIZE') ?: 50), 3, 200);
$dispatcher = $wiring['dispatcher'];
$dispatcher->addSubscriber(new StopWorkerOnSigtermSignalListener());
$handled = 0;
$dispatcher->addListener(WorkerMessageHandledEvent::class, function () use (&$handled) {
    $handled++;
});
if (class_exists(Symfony\Component\Messenger\EventListener\DispatchPcntlSignalListener::class)) {
    $dispatcher->addSubscriber(new Symfony\Component\Messenger\EventListener\DispatchPcntlSignalListener());
}

$command = new ConsumeMessagesCommand(new RoutableMessageBus(new ArrayContainer([]), $wiring['bus']),
    new ArrayContainer(['apns' => $transport]), $dispatcher, null, ['apns']);
$application = new Application('apns-worker');
$application->setAutoExit(false);
$application->add($command);
$code = $application->run();
foreach ($wiring['rejected'] as $event) {
    echo "rejected {$event->token} {$event->status} {$event->reason}\n";
}
echo "handled $handled\n";
exit($code);

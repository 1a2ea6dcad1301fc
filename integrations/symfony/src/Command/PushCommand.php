<?php
/**
 * bin/console apns:push — sends push notifications.
 *
 *   apns:push --token HEX [--token HEX …] --message TEXT   one alert to these tokens, now
 *   apns:push --token HEX --payload '{"aps":{…}}'           any payload
 *   apns:push --queue [--once] [--batch N]                 the queue worker (SIGTERM/SIGINT: clean stop)
 *
 * Exit code 0 when everything was sent (rejected tokens are reported, not errors),
 * 1 when the gateway could not be reached, 2 on bad input.
 */

declare(strict_types=1);

namespace Apns\Symfony\Command;

use ApnsException;
use Apns\Symfony\PushService;
use Symfony\Component\Console\Attribute\AsCommand;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Command\SignalableCommandInterface;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;
use Symfony\Component\Console\Style\SymfonyStyle;

#[AsCommand(name: 'apns:push', description: 'Sends push notifications through APNs (to tokens, or from the queue)')]
class PushCommand extends Command implements SignalableCommandInterface
{
    protected static $defaultName = 'apns:push';
    protected static $defaultDescription = 'Sends push notifications through APNs (to tokens, or from the queue)';

    public function __construct(private PushService $push)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this
            ->addOption('token', 't', InputOption::VALUE_REQUIRED | InputOption::VALUE_IS_ARRAY, 'device token (hex); repeat for more')
            ->addOption('message', 'm', InputOption::VALUE_REQUIRED, 'alert text (with badge 1 and the default sound)')
            ->addOption('payload', null, InputOption::VALUE_REQUIRED, 'the whole payload as JSON, instead of --message')
            ->addOption('queue', null, InputOption::VALUE_NONE, 'send the queued notifications (the push worker)')
            ->addOption('once', null, InputOption::VALUE_NONE, 'with --queue: stop when the queue is empty')
            ->addOption('batch', null, InputOption::VALUE_REQUIRED, 'with --queue: notifications claimed at a time', '500');
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $io = new SymfonyStyle($input, $output);
        try {
            if ($input->getOption('queue')) {
                $t = $this->push->runQueue(['once' => (bool) $input->getOption('once'), 'batch' => max(1, (int) $input->getOption('batch'))]);
                $io->success(sprintf('%d notification(s) sent, %d failed, %d queued again; %d token(s) accepted, %d rejected, %d deactivated',
                    $t['sent'], $t['failed'], $t['retried'], $t['accepted'], $t['rejected'], $t['deactivated']));
                return Command::SUCCESS;
            }
            $tokens = $input->getOption('token');
            $payload = $input->getOption('payload')
                ?? ($input->getOption('message') !== null
                    ? ['aps' => ['alert' => $input->getOption('message'), 'badge' => 1, 'sound' => 'default']] : null);
            if ($tokens === [] || $payload === null) {
                $io->error('give --token (one or more) and --message or --payload, or --queue');
                return 2;
            }
            $result = $this->push->sendToTokens($tokens, $payload);
        } catch (ApnsException $e) {
            $io->error('APNs: ' . $e->getMessage());
            return Command::FAILURE;
        }

        if ($result['failed'] !== []) {
            $io->table(['token', 'status', 'reason'],
                array_map(fn($f) => [$f['token'], $f['status'], $f['reason']], $result['failed']));
        }
        $io->success(sprintf('%d notification(s) sent, %d rejected', $result['sent'] - count($result['failed']), count($result['failed'])));
        return Command::SUCCESS;
    }

    public function getSubscribedSignals(): array
    {
        return \defined('SIGTERM') ? [\SIGTERM, \SIGINT] : [];
    }

    public function handleSignal(int $signal): void
    {
        // The batch in flight settles, unfinished notifications go back to the queue.
        $this->push->stop();
    }
}

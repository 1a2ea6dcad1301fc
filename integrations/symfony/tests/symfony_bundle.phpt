--TEST--
Symfony bundle: a kernel with FrameworkBundle and ApnsBundle (Debian's packages): framework.notifier.texter_transports takes an apns:// DSN (the bundle registers the factory) and the texter sends to the sandbox; apns.dsn wires SendPushHandler into Messenger (a sync transport), TokenRejected through the kernel's event dispatcher
--EXTENSIONS--
ctype
mbstring
intl
tokenizer
xml
dom
--SKIPIF--
<?php
require __DIR__ . '/symfony.inc';
if (!extension_loaded('apns')) die('skip apns not loaded');
if ($reason = symfony_load('FrameworkBundle', 'HttpKernel', 'DependencyInjection', 'EventDispatcher', 'Notifier', 'Messenger')) die("skip $reason");
if (!interface_exists(Symfony\Component\Messenger\Handler\BatchHandlerInterface::class)) die('skip Messenger batch handlers need Symfony 5.4 or later (installed: ' . symfony_version() . ')');
if (Symfony\Component\HttpKernel\Kernel::VERSION_ID >= 60000 && !is_file('/usr/share/php/Composer/InstalledVersions.php')) {
    die('skip FrameworkBundle ' . symfony_version() . ' needs Composer\\InstalledVersions, as in an app installed with Composer (Debian: apt-get install composer)');
}
?>
--FILE--
<?php
require __DIR__ . '/symfony.inc';
symfony_load('FrameworkBundle', 'HttpKernel', 'DependencyInjection', 'EventDispatcher', 'Notifier', 'Messenger');
// What an app installed with Composer has (vendor/composer/InstalledVersions.php); FrameworkBundle 6 asks it
// which optional packages are there.
if (is_file('/usr/share/php/Composer/InstalledVersions.php')) {
    require_once '/usr/share/php/Composer/InstalledVersions.php';
}

use Apns\Symfony\ApnsBundle;
use Apns\Symfony\Messenger\SendPush;
use Apns\Symfony\Messenger\TokenRejected;
use Apns\Symfony\Notifier\ApnsOptions;
use Symfony\Bundle\FrameworkBundle\FrameworkBundle;
use Symfony\Component\Config\Loader\LoaderInterface;
use Symfony\Component\DependencyInjection\ContainerBuilder;
use Symfony\Component\HttpKernel\Kernel;
use Symfony\Component\Notifier\Message\PushMessage;

final class AppKernel extends Kernel
{
    public function __construct(private string $dir, private string $dsn)
    {
        parent::__construct('test', true);
    }

    public function registerBundles(): iterable
    {
        return [new FrameworkBundle(), new ApnsBundle()];
    }

    public function registerContainerConfiguration(LoaderInterface $loader): void
    {
        $loader->load(function (ContainerBuilder $container) {
            $container->loadFromExtension('framework', [
                'secret' => 'test',
                'test' => true,
                // FrameworkBundle enables the router when symfony/routing is installed; no route is used here.
                'router' => ['resource' => '%kernel.project_dir%/routes.php', 'utf8' => true],
                'notifier' => ['texter_transports' => ['apns' => '%env(APNS_DSN)%']],
                'messenger' => ['transports' => ['sync' => 'sync://'], 'routing' => [SendPush::class => 'sync']],
            ]);
            $container->loadFromExtension('apns', ['dsn' => '%env(APNS_DSN)%', 'batch_size' => 20]);
            $container->register('logger', Psr\Log\NullLogger::class);   // the kernel's default logger writes to stderr
            // What a controller or service would get injected, reachable from the test.
            foreach (['texter', 'messenger.default_bus', 'event_dispatcher'] as $id) {
                $container->setAlias("app.$id", $id)->setPublic(true);
            }
        });
    }

    public function getProjectDir(): string
    {
        return $this->dir;
    }

    public function getCacheDir(): string
    {
        return $this->dir . '/cache';
    }

    public function getLogDir(): string
    {
        return $this->dir . '/log';
    }
}

$bad = apns_token(77);
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file([$bad])]);
putenv($env = 'APNS_DSN=' . sprintf('apns://ABC123DEFG:DEF123GHIJ@127.0.0.1:%d?topic=com.example.app&auth_key=%s&cafile=%s&timeout=5',
    apns_port($sb['http2']), urlencode($sb['certs'] . '/auth-key.p8'), urlencode($sb['certs'] . '/ca.pem')));
$_SERVER['APNS_DSN'] = $_ENV['APNS_DSN'] = substr($env, strlen('APNS_DSN='));

$dir = apns_temp_dir('kernel');
file_put_contents("$dir/routes.php", "<?php\nreturn function () {};\n");
$kernel = new AppKernel($dir, 'unused');
$kernel->boot();
$container = $kernel->getContainer();

// 1. The Notifier: texter_transports with an apns:// DSN.
$texter = $container->get('app.texter');
// With Messenger enabled the texter hands the message to the bus (no routing: handled at once), so it returns null.
$texter->send(new PushMessage('From the kernel', 'via the texter', new ApnsOptions(apns_token(1))));
$rows = apns_log($sb);
printf("texter: %d on the wire, token ok: %s, payload %s\n", count($rows), var_export(($rows[0]['token'] ?? '') === apns_token(1), true), $rows[0]['payload'] ?? '-');

// 2. Messenger: SendPush through the bus to the batch handler (sync transport: handled at once).
$rejected = [];
$container->get('app.event_dispatcher')->addListener(TokenRejected::class, function (TokenRejected $e) use (&$rejected) {
    $rejected[] = "{$e->status} {$e->reason}";
});
$envelope = $container->get('app.messenger.default_bus')->dispatch(new SendPush([apns_token(2), $bad, apns_token(3)], ['aps' => ['alert' => 'from the bus']]));
$rows = array_slice(apns_log($sb), 1);
$handled = $envelope->last(Symfony\Component\Messenger\Stamp\HandledStamp::class);
printf("bus: %d on the wire (%s), handler %s, result %s, TokenRejected: %s\n", count($rows),
    implode(',', array_map(fn($r) => $r['token'] === apns_token(2) ? 't2' : ($r['token'] === apns_token(3) ? 't3' : '?'), $rows)),
    $handled ? $handled->getHandlerName() : '-', json_encode($handled?->getResult()), implode('; ', $rejected));
?>
--EXPECTF--
texter: 1 on the wire, token ok: true, payload {"aps":{"alert":{"title":"From the kernel","body":"via the texter"}}}
bus: 2 on the wire (t2,t3), handler Apns\Symfony\Messenger\SendPushHandler::__invoke, result {"sent":3,"rejected":1}, TokenRejected: 400 BadDeviceToken

--TEST--
Symfony: Composer (Debian's composer, Packagist disabled) installs apns/symfony into an app through a path repository; its PSR-4 autoloader loads the bundle, the Notifier factory and the Messenger handler
--EXTENSIONS--
ctype
--SKIPIF--
<?php
require __DIR__ . '/symfony.inc';
if (!extension_loaded('apns')) die('skip apns not loaded');
if (!is_executable('/usr/bin/composer')) die('skip composer not installed (Debian: apt-get install composer)');
if ($reason = symfony_load('HttpKernel', 'DependencyInjection', 'Notifier', 'Messenger')) die("skip $reason");
?>
--FILE--
<?php
require_once __DIR__ . '/../../../php-tests/apns.inc';

$app = apns_temp_dir('composer-app');
// Symfony and the PSR interfaces come from Debian's php-* packages, so the app says
// it provides them; ext-apns is checked by PHP, not by Composer's own PHP.
file_put_contents("$app/composer.json", json_encode([
    'name' => 'example/app',
    'require' => ['apns/symfony' => '*@dev'],
    'provide' => ['psr/event-dispatcher' => '1.0.0', 'psr/log' => '3.0.0'],
    'repositories' => [['type' => 'path', 'url' => realpath(__DIR__ . '/..'), 'options' => ['symlink' => true]], ['packagist.org' => false]],
    'minimum-stability' => 'dev',
    'prefer-stable' => true,
], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
$env = ['COMPOSER_HOME' => "$app/.composer", 'COMPOSER_NO_INTERACTION' => '1', 'COMPOSER_DISABLE_NETWORK' => '1', 'HOME' => $app, 'PATH' => getenv('PATH')];
$proc = proc_open(['/usr/bin/composer', 'install', '--no-progress', '--ignore-platform-req=ext-apns', '--working-dir', $app],
    [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$app/out.txt", 'w'], 2 => ['file', "$app/out.txt", 'a']], $pipes, $app, $env);
$code = proc_close($proc);
$out = (string) file_get_contents("$app/out.txt");
apns_check('composer install exits 0', $code === 0, $out);
apns_check('apns/symfony installed from the path repository', str_contains($out, 'Installing apns/symfony (dev-') && is_link("$app/vendor/apns/symfony"), $out);

$loader = require "$app/vendor/autoload.php";
foreach (['HttpKernel', 'DependencyInjection', 'Config', 'Notifier', 'Messenger', 'EventDispatcher'] as $c) {
    require_once "/usr/share/php/Symfony/Component/$c/autoload.php";
}
foreach ([Apns\Symfony\ApnsBundle::class, Apns\Symfony\Notifier\ApnsTransportFactory::class, Apns\Symfony\Messenger\SendPushHandler::class] as $class) {
    $file = (string) $loader->findFile($class);
    printf("%s: %s, from %s\n", $class, class_exists($class) ? 'loaded' : 'NOT LOADED', str_replace($app, 'APP', $file));
}
echo 'bundle extension alias: ', (new Apns\Symfony\ApnsBundle())->getContainerExtension()->getAlias(), "\n";
?>
--EXPECT--
composer install exits 0: ok
apns/symfony installed from the path repository: ok
Apns\Symfony\ApnsBundle: loaded, from APP/vendor/composer/../apns/symfony/src/ApnsBundle.php
Apns\Symfony\Notifier\ApnsTransportFactory: loaded, from APP/vendor/composer/../apns/symfony/src/Notifier/ApnsTransportFactory.php
Apns\Symfony\Messenger\SendPushHandler: loaded, from APP/vendor/composer/../apns/symfony/src/Messenger/SendPushHandler.php
bundle extension alias: apns

--TEST--
Laravel: Composer (Debian's composer, Packagist disabled) installs apns/laravel into an app through a path repository; its PSR-4 autoloader loads the classes and Laravel's package discovery finds ApnsServiceProvider
--EXTENSIONS--
pdo
pdo_sqlite
ctype
mbstring
tokenizer
--SKIPIF--
<?php
require __DIR__ . '/laravel-app.inc';
if ($reason = laravel_skip_reason()) die("skip $reason");
if (!is_executable('/usr/bin/composer')) die('skip composer not installed (Debian: apt-get install composer)');
?>
--FILE--
<?php
require_once __DIR__ . '/../../../php-tests/apns.inc';

$app = apns_temp_dir('composer-app');
// The framework comes from Debian's php-laravel-framework, not from Composer: the
// app says it provides those packages, and the platform check for ext-apns is left
// to PHP (Composer's own PHP does not load the extension).
file_put_contents("$app/composer.json", json_encode([
    'name' => 'example/app',
    'require' => ['apns/laravel' => '*@dev'],
    'provide' => array_fill_keys(['illuminate/contracts', 'illuminate/events', 'illuminate/notifications', 'illuminate/support'], '10.48.0'),
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
apns_check('apns/laravel installed from the path repository', str_contains($out, 'Installing apns/laravel (dev-') && is_link("$app/vendor/apns/laravel"), $out);

$loader = require "$app/vendor/autoload.php";
require_once '/usr/share/php/Illuminate/autoload.php';
apns_check('Composer\'s autoloader loads Apns\Laravel', class_exists(Apns\Laravel\ApnsChannel::class) && class_exists(Apns\Laravel\ApnsMessage::class)
    && $loader->findFile(Apns\Laravel\ApnsChannel::class) === "$app/vendor/composer/../apns/laravel/src/ApnsChannel.php",
    (string) $loader->findFile(Apns\Laravel\ApnsChannel::class));
$manifest = new Illuminate\Foundation\PackageManifest(new Illuminate\Filesystem\Filesystem(), $app, "$app/packages.php");
echo 'package discovery: ', implode(', ', $manifest->providers()), "\n";
?>
--EXPECT--
composer install exits 0: ok
apns/laravel installed from the path repository: ok
Composer's autoloader loads Apns\Laravel: ok
package discovery: Apns\Laravel\ApnsServiceProvider

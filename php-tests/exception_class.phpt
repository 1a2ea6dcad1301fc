--TEST--
ApnsException extends RuntimeException, carries file, line and trace, and can be created and subclassed by PHP code
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns extension not loaded'); ?>
--FILE--
<?php
$r = new ReflectionClass('ApnsException');
var_dump($r->getParentClass()->getName());
var_dump($r->isInternal(), $r->isFinal(), $r->isSubclassOf(Throwable::class));

function make_frame(): string
{
    return ApnsConnection::pack('abc', '{"aps":{}}');
}

try {
    make_frame();
} catch (RuntimeException $e) {
    var_dump(get_class($e));
    var_dump($e->getMessage());
    var_dump($e->getCode());
    var_dump(basename($e->getFile()), $e->getLine() === 8);
    var_dump($e->getTrace()[0]['function'] ?? null);
    var_dump($e->getTrace()[1]['function'] ?? null);
}

// Every failure of the extension is an ApnsException, a panic included.
try {
    ApnsConnection::pack(str_repeat('ab', 32), '{"aps":{}}', ['priority' => 7]);
} catch (ApnsException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}

// PHP code can throw and extend it like any exception.
class MyPushError extends ApnsException {}
try {
    throw new MyPushError('mine', 42);
} catch (ApnsException $e) {
    var_dump(get_class($e), $e->getMessage(), $e->getCode(), $e->getLine() > 0);
}
var_dump((new ApnsException('x')) instanceof RuntimeException);

// getCode() says what kind of failure it is, with a constant for each kind.
$kinds = [
    'INVALID_INPUT' => fn () => ApnsConnection::pack('zz', '{}'),
    'CONFIG' => fn () => new ApnsConnection('http://127.0.0.1:1'),
    'CREDENTIALS' => fn () => new ApnsConnection('ssl://127.0.0.1:1', ['local_cert' => '/nonexistent/ck.pem']),
];
foreach ($kinds as $name => $fn) {
    try {
        $fn();
    } catch (ApnsException $e) {
        printf("%s: code %d, matches the constant: %s\n", $name, $e->getCode(),
            $e->getCode() === constant("ApnsException::$name") ? 'yes' : 'no');
    }
}
?>
--EXPECT--
string(16) "RuntimeException"
bool(true)
bool(false)
bool(true)
string(13) "ApnsException"
string(48) "device token has an odd number of hex digits (3)"
int(1)
string(19) "exception_class.php"
bool(true)
string(4) "pack"
string(10) "make_frame"
ApnsException: priority must be 10 (immediately) or 5 (power-saving), got 7
string(11) "MyPushError"
string(4) "mine"
int(42)
bool(true)
bool(true)
INVALID_INPUT: code 1, matches the constant: yes
CONFIG: code 2, matches the constant: yes
CREDENTIALS: code 3, matches the constant: yes

--TEST--
ApnsConnection has the contract's constants, methods and parameters, and hides nothing secret
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns extension not loaded'); ?>
--FILE--
<?php
$c = new ReflectionClass('ApnsConnection');
var_dump($c->isFinal(), $c->isInternal(), $c->getExtensionName());

$constants = [
    'GATEWAY_PRODUCTION' => 'ssl://gateway.push.apple.com:2195',
    'GATEWAY_SANDBOX' => 'ssl://gateway.sandbox.push.apple.com:2195',
    'FEEDBACK_PRODUCTION' => 'ssl://feedback.push.apple.com:2196',
    'FEEDBACK_SANDBOX' => 'ssl://feedback.sandbox.push.apple.com:2196',
    'API_PRODUCTION' => 'https://api.push.apple.com',
    'API_SANDBOX' => 'https://api.sandbox.push.apple.com',
    'STATUS_NO_ERRORS' => 0, 'STATUS_PROCESSING_ERROR' => 1, 'STATUS_MISSING_DEVICE_TOKEN' => 2,
    'STATUS_MISSING_TOPIC' => 3, 'STATUS_MISSING_PAYLOAD' => 4, 'STATUS_INVALID_TOKEN_SIZE' => 5,
    'STATUS_INVALID_TOPIC_SIZE' => 6, 'STATUS_INVALID_PAYLOAD_SIZE' => 7, 'STATUS_INVALID_TOKEN' => 8,
    'STATUS_SHUTDOWN' => 10, 'STATUS_PROTOCOL_ERROR' => 128, 'STATUS_UNKNOWN' => 255,
];
$wrong = [];
foreach ($constants as $name => $value) {
    if (!$c->hasConstant($name) || $c->getConstant($name) !== $value) {
        $wrong[] = $name;
    }
}
echo 'constants: ', $wrong ? 'WRONG ' . implode(', ', $wrong) : 'ok', "\n";

// name => [static, [parameter name => optional]]
$methods = [
    '__construct' => [false, ['url' => false, 'options' => true]],
    'send' => [false, ['deviceToken' => false, 'payload' => false, 'options' => true]],
    'sendMany' => [false, ['deviceTokens' => false, 'payload' => false, 'options' => true]],
    'write' => [false, ['frame' => false]],
    'flush' => [false, ['timeout' => true]],
    'failures' => [false, []],
    'readErrorResponse' => [false, []],
    'stats' => [false, []],
    'isConnected' => [false, []],
    'close' => [false, []],
    'pack' => [true, ['deviceToken' => false, 'payload' => false, 'options' => true]],
    'feedback' => [true, ['url' => false, 'options' => true]],
];
foreach ($methods as $name => [$static, $params]) {
    if (!$c->hasMethod($name)) {
        echo "$name: MISSING\n";
        continue;
    }
    $m = $c->getMethod($name);
    $got = [];
    foreach ($m->getParameters() as $p) {
        $got[$p->getName()] = $p->isOptional();
    }
    $ok = $m->isPublic() && $m->isStatic() === $static && $got === $params;
    echo "$name: ", $ok ? 'ok' : 'WRONG ' . json_encode($got), "\n";
}

// Return types that callers rely on.
foreach (['send' => 'int', 'write' => 'int', 'flush' => 'array', 'failures' => 'array', 'readErrorResponse' => '?array',
    'stats' => 'array', 'isConnected' => 'bool', 'close' => 'void', 'pack' => 'string', 'feedback' => 'array',
    'sendMany' => 'array'] as $name => $type) {
    $t = (string) $c->getMethod($name)->getReturnType();
    if ($t !== $type) {
        echo "$name returns $t, not $type\n";
    }
}

// Named arguments use the contract's names.
var_dump(strlen(ApnsConnection::pack(deviceToken: str_repeat('ab', 32), payload: ['aps' => []], options: ['command' => 0])));

// No public properties, so nothing secret to dump.
var_dump($c->getProperties());

// Neither instantiable without the constructor, nor serializable.
try {
    $c->newInstanceWithoutConstructor();
    echo "newInstanceWithoutConstructor: allowed\n";
} catch (Throwable $e) {
    echo get_class($e), "\n";
}

var_dump(extension_loaded('apns'), phpversion('apns') !== false);
ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
var_dump(str_contains($info, 'TLS backend => rustls (ring)'), str_contains($info, 'Version => ' . phpversion('apns')));
?>
--EXPECT--
bool(true)
bool(true)
string(4) "apns"
constants: ok
__construct: ok
send: ok
sendMany: ok
write: ok
flush: ok
failures: ok
readErrorResponse: ok
stats: ok
isConnected: ok
close: ok
pack: ok
feedback: ok
int(47)
array(0) {
}
ReflectionException
bool(true)
bool(true)
bool(true)
bool(true)

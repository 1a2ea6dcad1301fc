--TEST--
ApnsConnection::pack() equals the seed code's pack() chains byte for byte (commands 0, 1, 2)
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns extension not loaded'); ?>
--FILE--
<?php
$token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
$payload = '{"aps":{"alert":"Hello","badge":1,"sound":"default"}}';
$ids = [0, 1, 7, 0x7fffffff, 4294967295];
$expiries = [0, 1700000000, 4294967295];

// Command 0 (simple), as the oldest seed code builds it.
$seed0 = chr(0) . pack('n', 32) . pack('H*', $token) . pack('n', strlen($payload)) . $payload;
var_dump(ApnsConnection::pack($token, $payload, ['command' => 0]) === $seed0);

// Command 1 (enhanced), exactly the seed's chain.
$all1 = true;
foreach ($ids as $i) {
    foreach ($expiries as $e) {
        $seed1 = pack("C", 1) . pack("N", $i) . pack("N", $e) . pack("n", 32)
            . pack('H*', $token) . pack("n", strlen($payload)) . $payload;
        $ours = ApnsConnection::pack($token, $payload, ['command' => 1, 'identifier' => $i, 'expiry' => $e]);
        if ($ours !== $seed1) {
            $all1 = false;
            echo "command 1 differs for identifier $i expiry $e: ", bin2hex($ours), "\n";
        }
    }
}
var_dump($all1);

// The seed's str_replace(' ', '', $token) is unnecessary: spaces and <> are ignored.
$spaced = '<' . implode(' ', str_split($token, 8)) . '>';
var_dump(ApnsConnection::pack($spaced, $payload, ['command' => 1, 'identifier' => 3]) ===
    ApnsConnection::pack($token, $payload, ['command' => 1, 'identifier' => 3]));

// Command 2 (framed): items 1 token, 2 payload, 3 identifier, 4 expiry, 5 priority.
function seed2(string $token, string $payload, int $id, int $expiry, int $priority): string
{
    $items = pack('CnH*', 1, 32, $token)
        . pack('Cn', 2, strlen($payload)) . $payload
        . pack('CnN', 3, 4, $id)
        . pack('CnN', 4, 4, $expiry)
        . pack('CnC', 5, 1, $priority);
    return pack('CN', 2, strlen($items)) . $items;
}
$all2 = true;
foreach ($ids as $i) {
    foreach ([10, 5] as $p) {
        $ours = ApnsConnection::pack($token, $payload, ['identifier' => $i, 'expiry' => 1700000000, 'priority' => $p]);
        if ($ours !== seed2($token, $payload, $i, 1700000000, $p)) {
            $all2 = false;
            echo "command 2 differs for identifier $i priority $p: ", bin2hex($ours), "\n";
        }
    }
}
var_dump($all2);

// Defaults: command 2, identifier 0, expiry 0, priority 10.
var_dump(ApnsConnection::pack($token, $payload) === seed2($token, $payload, 0, 0, 10));
var_dump(ApnsConnection::pack($token, $payload, null) === seed2($token, $payload, 0, 0, 10));

// An array payload is encoded to JSON once (slashes and UTF-8 unescaped).
$frame = ApnsConnection::pack($token, ['aps' => ['alert' => 'Héllo/1', 'badge' => 2], 'ids' => [1, 2]], ['command' => 1]);
var_dump(substr($frame, 45));

// The result is binary-safe: NUL bytes survive.
var_dump(strlen(ApnsConnection::pack(str_repeat('00', 32), $payload, ['command' => 0])) === 3 + 32 + 2 + strlen($payload));
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
string(50) "{"aps":{"alert":"Héllo/1","badge":2},"ids":[1,2]}"
bool(true)

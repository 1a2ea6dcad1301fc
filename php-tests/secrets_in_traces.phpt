--TEST--
Secrets: an exception thrown by ApnsConnection records no call arguments, so print_r(), var_export() and the trace never show the passphrase, even with zend.exception_ignore_args off
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--INI--
zend.exception_ignore_args=0
--FILE--
<?php
function connect(array $options): ApnsConnection
{
    return new ApnsConnection('ssl://127.0.0.1:1', $options);
}

$secret = 'Sekr3t-Passphrase-4711';
try {
    connect(['local_cert' => '/nonexistent/ck.pem', 'passphrase' => $secret]);
} catch (ApnsException $e) {
    echo $e->getMessage(), "\n";
    $dumps = [print_r($e, true), var_export($e, true), $e->getTraceAsString(), (string) $e, json_encode($e->getTrace())];
    foreach ($dumps as $i => $dump) {
        echo "dump $i shows the passphrase: ", str_contains($dump, $secret) ? 'yes' : 'no', "\n";
    }
    echo "the trace still names the caller: ", $e->getTrace()[1]['function'] ?? '-', "\n";
}
// PHP's own exceptions keep their arguments: only ours are scrubbed.
function boom(string $x) { throw new RuntimeException('x'); }
try { boom('visible'); } catch (RuntimeException $e) { echo "other exceptions keep args: ", $e->getTrace()[0]['args'][0] ?? '-', "\n"; }
?>
--EXPECT--
local_cert file '/nonexistent/ck.pem' cannot be read: No such file or directory
dump 0 shows the passphrase: no
dump 1 shows the passphrase: no
dump 2 shows the passphrase: no
dump 3 shows the passphrase: no
dump 4 shows the passphrase: no
the trace still names the caller: connect
other exceptions keep args: visible

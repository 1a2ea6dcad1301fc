--TEST--
Resend under faults (shutdowns, drops and a slow reader together): 20,000 notifications, 1% invalid tokens; none lost, failures exactly the invalid ones
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

apns_resend_scenario(['--shutdown-every', 700, '--drop-every', 900, '--slow-read', 2000000], 20000, true);
?>
--EXPECTF--
sendMany sent: ok
no valid notification missing from the log: ok
no invalid or unknown token in the log: ok
failures are exactly the 200 invalid tokens: ok
every failure has status 8: ok
stats failed = 200: ok
duplicates bounded (< 20% of the notifications): ok
lost=0 duplicates=%d resent=%d reconnects=%d

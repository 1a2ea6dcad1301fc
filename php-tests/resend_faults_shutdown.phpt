--TEST--
Resend under faults (status 10 after every 700th, --shutdown-every 700): 20,000 notifications, 1% invalid tokens; none lost, failures exactly the invalid ones
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

apns_resend_scenario(['--shutdown-every', 700], 20000, false);
?>
--EXPECTF--
sendMany sent: ok
no valid notification missing from the log: ok
no invalid or unknown token in the log: ok
failures are exactly the 200 invalid tokens: ok
every failure has status 8: ok
stats failed = 200: ok
no duplicates: ok
lost=0 duplicates=0 resent=%d reconnects=%d

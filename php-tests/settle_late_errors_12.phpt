--TEST--
Settled by proof: error responses 1.2 s late (sandbox --error-delay 1.2, as Apple answers) lose nothing and every rejection is reported once, for 1, 20 and 5,000 notifications, by send()+flush() and sendMany()
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

foreach (['send', 'sendMany'] as $mode) {
    apns_late_error_scenario(1.2, 1, [0], $mode);
    apns_late_error_scenario(1.2, 20, [3], $mode);
    apns_late_error_scenario(1.2, 5000, [17, 2500, 4999], $mode);
}
?>
--EXPECT--
send, 1 notification(s), 1 invalid, errors 1.2 s late: each rejection reported once: ok
send, 1 notification(s), 1 invalid, errors 1.2 s late: status 8: ok
send, 1 notification(s), 1 invalid, errors 1.2 s late: 0 lost, 0 duplicates: ok
send, 1 notification(s), 1 invalid, errors 1.2 s late: nothing pending: ok
send, 20 notification(s), 1 invalid, errors 1.2 s late: each rejection reported once: ok
send, 20 notification(s), 1 invalid, errors 1.2 s late: status 8: ok
send, 20 notification(s), 1 invalid, errors 1.2 s late: 0 lost, 0 duplicates: ok
send, 20 notification(s), 1 invalid, errors 1.2 s late: nothing pending: ok
send, 5000 notification(s), 3 invalid, errors 1.2 s late: each rejection reported once: ok
send, 5000 notification(s), 3 invalid, errors 1.2 s late: status 8: ok
send, 5000 notification(s), 3 invalid, errors 1.2 s late: 0 lost, 0 duplicates: ok
send, 5000 notification(s), 3 invalid, errors 1.2 s late: nothing pending: ok
sendMany, 1 notification(s), 1 invalid, errors 1.2 s late: each rejection reported once: ok
sendMany, 1 notification(s), 1 invalid, errors 1.2 s late: status 8: ok
sendMany, 1 notification(s), 1 invalid, errors 1.2 s late: 0 lost, 0 duplicates: ok
sendMany, 1 notification(s), 1 invalid, errors 1.2 s late: nothing pending: ok
sendMany, 20 notification(s), 1 invalid, errors 1.2 s late: each rejection reported once: ok
sendMany, 20 notification(s), 1 invalid, errors 1.2 s late: status 8: ok
sendMany, 20 notification(s), 1 invalid, errors 1.2 s late: 0 lost, 0 duplicates: ok
sendMany, 20 notification(s), 1 invalid, errors 1.2 s late: nothing pending: ok
sendMany, 5000 notification(s), 3 invalid, errors 1.2 s late: each rejection reported once: ok
sendMany, 5000 notification(s), 3 invalid, errors 1.2 s late: status 8: ok
sendMany, 5000 notification(s), 3 invalid, errors 1.2 s late: 0 lost, 0 duplicates: ok
sendMany, 5000 notification(s), 3 invalid, errors 1.2 s late: nothing pending: ok

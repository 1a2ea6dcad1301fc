--TEST--
ApnsConnection::feedback(): reads the feedback service's tuples to the end; the service forgets them once read
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns not loaded'); ?>
--FILE--
<?php
require __DIR__ . '/apns.inc';

$file = apns_temp_dir('feedback') . '/feedback.txt';
$lines = [];
for ($i = 1; $i <= 3; $i++) {
    $lines[] = (1700000000 + $i) . ' ' . apns_token($i);
}
file_put_contents($file, implode("\n", $lines) . "\n");
$sb = apns_sandbox_start(['--feedback', $file]);

$list = ApnsConnection::feedback($sb['feedback'], apns_options($sb));
echo "first read: ", count($list), " entries\n";
foreach ($list as $n => $entry) {
    $i = array_search($entry['token'], array_map('apns_token', [0, 1, 2, 3]), true);
    printf("  keys=%s timestamp=%d token=#%s\n", implode(',', array_keys($entry)), $entry['timestamp'],
        $i === false ? $entry['token'] : $i);
}
var_dump(ApnsConnection::feedback($sb['feedback'], apns_options($sb)));

// The same credential and trust rules as the gateway.
apns_expect_exception('feedback with a refused client certificate',
    fn() => ApnsConnection::feedback($sb['feedback'], apns_options($sb, ['local_cert' => $sb['certs'] . '/other-client.pem'])),
    [['refused', 'rejected'], 'certificate']);
$port = apns_free_port();
apns_expect_exception('feedback with nothing listening',
    fn() => ApnsConnection::feedback("ssl://127.0.0.1:$port", apns_options($sb)), ["127.0.0.1:$port"]);
?>
--EXPECT--
first read: 3 entries
  keys=timestamp,token timestamp=1700000001 token=#1
  keys=timestamp,token timestamp=1700000002 token=#2
  keys=timestamp,token timestamp=1700000003 token=#3
array(0) {
}
feedback with a refused client certificate: ApnsException
feedback with nothing listening: ApnsException

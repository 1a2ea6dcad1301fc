<?php
/** PHP's own baseline: start (with the same extension loaded), report, exit. */
require __DIR__ . '/common.php';
$start = bench_start();
bench_report('baseline', $start, 0, ['extension' => extension_loaded('apns')]);

<?php
/**
 * (e2) sendMany() over an array of all BENCH_N tokens (as from PDO's fetchAll()),
 * built before the clock starts: clients/send_many.php with an array.
 */
putenv('BENCH_SOURCE=array');
require __DIR__ . '/send_many.php';

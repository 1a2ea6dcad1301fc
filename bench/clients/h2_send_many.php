<?php
/** (g) sendMany() over https:// (HTTP/2, token auth) from a generator: clients/send_many.php over HTTP/2. */
putenv('BENCH_PROTOCOL=h2');
require __DIR__ . '/send_many.php';

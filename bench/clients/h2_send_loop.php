<?php
/** (h) A foreach over send() over https:// (HTTP/2, token auth), then flush(): clients/send_loop.php over HTTP/2. */
putenv('BENCH_PROTOCOL=h2');
require __DIR__ . '/send_loop.php';

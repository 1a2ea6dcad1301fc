<?php
/**
 * (a) The bare loop of the second seed: a blocking TLS stream, command-0 frames
 * built with chr()/pack(), one fwrite per notification, no error handling at all.
 * The fastest userland PHP can go, and it notices nothing the gateway rejects.
 */
require __DIR__ . '/common.php';

$n = bench_n();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;
$ctx = bench_stream_context();

$start = bench_start();
$fp = stream_socket_client(bench_url(), $errno, $errstr, 10, STREAM_CLIENT_CONNECT, $ctx);
if ($fp === false) {
    fwrite(STDERR, "bare_fwrite: cannot connect: $errstr ($errno)\n");
    exit(1);
}
for ($i = 0; $i < $n; $i++) {
    $message = chr(0) . chr(0) . chr(32) . pack('H*', $tokens[$i % BENCH_POOL])
        . chr(0) . chr(strlen($payload)) . $payload;
    fwrite($fp, $message);
}
// Not in the seed, and needed for the count to be checked: the loop never reads,
// so the server's TLS session tickets sit unread in the receive buffer, and a plain
// fclose() then makes the kernel answer with a reset that destroys the last
// notifications still unread on the server side (a few hundred per run). Shut down
// the write side and wait for the server to close: one round trip.
stream_socket_shutdown($fp, STREAM_SHUT_WR);
while (!feof($fp) && @fread($fp, 8192) !== false) {
}
fclose($fp);
bench_report('bare_fwrite', $start, $n);

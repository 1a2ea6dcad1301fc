<?php
/**
 * (b) The first seed's style: enhanced (command 1) frames from a pack() chain, a
 * non-blocking stream, fwrite and then an fread(6) looking for an error response
 * after every write, and a new connection every 100 notifications. Written for
 * the benchmark in that style (not the seed's code): it finishes a partial write
 * rather than lose bytes, so that every notification arrives and can be counted.
 */
require __DIR__ . '/common.php';

function seed_connect($ctx)
{
    $fp = stream_socket_client(bench_url(), $errno, $errstr, 60, STREAM_CLIENT_CONNECT, $ctx);
    if ($fp === false) {
        fwrite(STDERR, "seed_loop: cannot connect: $errstr ($errno)\n");
        exit(1);
    }
    stream_set_blocking($fp, false);
    return $fp;
}

/** The seed's checkAppleErrorResponse(): a non-blocking fread of 6 bytes. */
function seed_error_response($fp): ?array
{
    $packet = fread($fp, 6);
    if ($packet !== false && strlen($packet) === 6) {
        return unpack('Ccommand/Cstatus_code/Nidentifier', $packet);
    }
    return null;
}

$n = bench_n();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;
$ctx = bench_stream_context();
$errors = 0;
$reconnects = 0;

$start = bench_start();
$expiry = time() + 86400;
$fp = seed_connect($ctx);
for ($i = 1; $i <= $n; $i++) {
    $message = pack('C', 1) . pack('N', $i) . pack('N', $expiry) . pack('n', 32)
        . pack('H*', $tokens[$i % BENCH_POOL]) . pack('n', strlen($payload)) . $payload;
    $left = $message;
    while ($left !== '') {
        $written = fwrite($fp, $left);
        if ($written === false) {
            fwrite(STDERR, "seed_loop: fwrite failed at notification $i\n");
            exit(1);
        }
        $left = (string) substr($left, $written);
        if ($left !== '') {
            $r = null; $w = [$fp]; $e = null;
            stream_select($r, $w, $e, 1);
        }
    }
    if (seed_error_response($fp) !== null) {
        $errors++;
    }
    if ($i % 100 === 0) {
        fclose($fp);
        $fp = seed_connect($ctx);
        $reconnects++;
    }
}
fclose($fp);
bench_report('seed_loop', $start, $n, ['errors' => $errors, 'reconnects' => $reconnects]);

<?php
/**
 * (i) PHP's own HTTP/2 client, as PHP HTTP/2 libraries (pushok and friends) send:
 * curl_multi with CURL_HTTP_VERSION_2_0 over TLS (ALPN h2), CURLPIPE_MULTIPLEX,
 * one connection to the host (CURLMOPT_MAX_HOST_CONNECTIONS 1, CURLOPT_PIPEWAIT),
 * BENCH_H2_STREAMS requests kept in flight, a new easy handle per request; each a
 * POST /3/device/<token> with the ES256 provider token (minted here with
 * openssl_sign), apns-topic and the JSON body. Counts the 200 responses.
 * Needs PHP's curl extension (bench/run.sh loads it with -d extension=curl).
 */
require __DIR__ . '/common.php';

if (!function_exists('curl_multi_init')) {
    fwrite(STDERR, "h2_curl_multi: PHP's curl extension is not loaded (scripts/deps-bench installs php8.2-curl)\n");
    exit(3);
}
if (!(curl_version()['features'] & CURL_VERSION_HTTP2)) {
    fwrite(STDERR, "h2_curl_multi: this PHP's libcurl " . curl_version()['version'] . " has no HTTP/2 (CURL_VERSION_HTTP2 not set)\n");
    exit(4);
}

function b64url(string $s): string
{
    return rtrim(strtr(base64_encode($s), '+/', '-_'), '=');
}

/** ES256 JWS wants the raw 64-byte r||s, openssl_sign gives DER SEQUENCE{INTEGER r, INTEGER s}. */
function der_to_raw(string $der): string
{
    $pos = 2;                                  // 0x30, length (< 128 for P-256)
    if (ord($der[1]) & 0x80) {
        $pos += ord($der[1]) & 0x7f;
    }
    $out = '';
    for ($k = 0; $k < 2; $k++) {
        if (ord($der[$pos]) !== 0x02) {
            throw new RuntimeException('bad DER signature');
        }
        $len = ord($der[$pos + 1]);
        $int = substr($der, $pos + 2, $len);
        $pos += 2 + $len;
        $int = ltrim($int, "\0");
        $out .= str_pad($int, 32, "\0", STR_PAD_LEFT);
    }
    return $out;
}

function mint_jwt(string $p8File): string
{
    $key = openssl_pkey_get_private('file://' . $p8File);
    if ($key === false) {
        throw new RuntimeException("cannot read $p8File: " . openssl_error_string());
    }
    $input = b64url(json_encode(['alg' => 'ES256', 'kid' => BENCH_KEY_ID]))
        . '.' . b64url(json_encode(['iss' => BENCH_TEAM_ID, 'iat' => time()]));
    if (!openssl_sign($input, $der, $key, OPENSSL_ALGO_SHA256)) {
        throw new RuntimeException('openssl_sign failed: ' . openssl_error_string());
    }
    return $input . '.' . b64url(der_to_raw($der));
}

$n = bench_n();
$streams = bench_h2_streams();
$tokens = bench_tokens();
$payload = BENCH_PAYLOAD;
$certs = bench_certs();
$base = bench_h2_url() . '/3/device/';

$start = bench_start();
$jwt = mint_jwt("$certs/auth-key.p8");        // minted once and reused, as libraries do
$headers = [
    'authorization: bearer ' . $jwt,
    'apns-topic: ' . BENCH_TOPIC,
    'apns-push-type: alert',
    'content-type: application/json',
];
$common = [
    CURLOPT_HTTP_VERSION => CURL_HTTP_VERSION_2_0,
    CURLOPT_POST => true,
    CURLOPT_POSTFIELDS => $payload,
    CURLOPT_HTTPHEADER => $headers,
    CURLOPT_RETURNTRANSFER => true,
    CURLOPT_CAINFO => "$certs/ca.pem",
    CURLOPT_SSL_VERIFYPEER => true,
    CURLOPT_SSL_VERIFYHOST => 2,
    CURLOPT_PIPEWAIT => true,
    CURLOPT_TIMEOUT => 30,
];
$mh = curl_multi_init();
curl_multi_setopt($mh, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
curl_multi_setopt($mh, CURLMOPT_MAX_HOST_CONNECTIONS, 1);

$started = 0;
$done = 0;
$ok = 0;
$statuses = [];
$connects = 0;
$notH2 = 0;
$maxInflight = 0;
$firstError = null;
$inflight = 0;
// The provider must not exceed the server's SETTINGS_MAX_CONCURRENT_STREAMS;
// curl queues what does not fit (PIPEWAIT + one host connection).
while ($done < $n) {
    while ($inflight < $streams && $started < $n) {
        $ch = curl_init($base . bench_h2_token($tokens, $started));
        curl_setopt_array($ch, $common);
        curl_multi_add_handle($mh, $ch);
        $started++;
        $inflight++;
    }
    $maxInflight = max($maxInflight, $inflight);
    do {
        $st = curl_multi_exec($mh, $running);
    } while ($st === CURLM_CALL_MULTI_PERFORM);
    if ($st !== CURLM_OK) {
        fwrite(STDERR, 'curl_multi_exec: ' . curl_multi_strerror($st) . "\n");
        exit(1);
    }
    $finished = 0;
    while (($info = curl_multi_info_read($mh)) !== false) {
        $ch = $info['handle'];
        $code = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        if ($code === 200) {
            $ok++;
        } elseif ($firstError === null) {
            $firstError = "HTTP $code " . curl_error($ch) . ' ' . curl_multi_getcontent($ch);
        }
        $statuses[$code] = ($statuses[$code] ?? 0) + 1;
        $connects += curl_getinfo($ch, CURLINFO_NUM_CONNECTS);
        if (curl_getinfo($ch, CURLINFO_HTTP_VERSION) !== CURL_HTTP_VERSION_2_0) {
            $notH2++;
        }
        curl_multi_remove_handle($mh, $ch);
        curl_close($ch);
        $inflight--;
        $done++;
        $finished++;
    }
    if ($finished === 0 && $running) {
        curl_multi_select($mh, 1.0);
    }
}
curl_multi_close($mh);
if ($firstError !== null) {
    fwrite(STDERR, "h2_curl_multi: first non-200: $firstError\n");
}
bench_report('h2_curl_multi', $start, $n, [
    'ok_200' => $ok, 'failed' => $n - $ok, 'statuses' => $statuses, 'connections' => $connects,
    'not_h2' => $notH2, 'streams' => $streams, 'max_inflight' => $maxInflight,
    'curl' => curl_version()['version'],
]);

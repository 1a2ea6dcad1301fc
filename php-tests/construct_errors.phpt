--TEST--
new ApnsConnection() refuses bad URLs, unknown or mistyped options, missing files and HTTP/2 without credentials with clear ApnsExceptions
--SKIPIF--
<?php if (!extension_loaded('apns')) die('skip apns extension not loaded'); ?>
--FILE--
<?php
function attempt(string $label, callable $fn): void
{
    try {
        $fn();
        echo "$label: no exception\n";
    } catch (ApnsException $e) {
        echo "$label: ", $e->getMessage(), "\n";
    } catch (Throwable $e) {
        echo "$label: ", get_class($e), ' (not ApnsException): ', $e->getMessage(), "\n";
    }
}

attempt('unknown option', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['local_certificate' => 'x.pem']));
attempt('index key', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['x.pem']));
attempt('no scheme', fn() => new ApnsConnection('gateway.push.apple.com:2195'));
attempt('bad scheme', fn() => new ApnsConnection('http://gateway.push.apple.com:2195'));
attempt('no port', fn() => new ApnsConnection('ssl://gateway.push.apple.com'));
attempt('bad port', fn() => new ApnsConnection('ssl://gateway.push.apple.com:99999'));

chdir(sys_get_temp_dir());
$missing = 'apns-no-such-file-' . getmypid() . '.pem';
attempt('missing local_cert', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['local_cert' => $missing]));
attempt('missing cafile', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['cafile' => '/nonexistent/dir/ca.pem']));
attempt('directory', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['local_cert' => sys_get_temp_dir()]));

attempt('timeout type', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['timeout' => 'soon']));
attempt('timeout zero', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['timeout' => 0]));
attempt('window', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['window' => 0]));
attempt('passphrase type', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['passphrase' => 12345678]));
attempt('persistent type', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['persistent' => 1.5]));
attempt('http2 option on ssl', fn() => new ApnsConnection('ssl://127.0.0.1:2195', ['team_id' => 'ABCDE12345']));

attempt('https', fn() => new ApnsConnection(ApnsConnection::API_SANDBOX));
attempt('feedback https', fn() => ApnsConnection::feedback(ApnsConnection::API_SANDBOX));
attempt('feedback option', fn() => ApnsConnection::feedback(ApnsConnection::FEEDBACK_SANDBOX, ['window' => 5]));
?>
--EXPECTF--
unknown option: unknown option 'local_certificate' for ApnsConnection::__construct (known: local_cert, local_pk, passphrase, cafile, peer_name, timeout, auth_key, key_id, team_id, topic, persistent, grace, window, max_streams, connections)
index key: the options of ApnsConnection::__construct must be named (like ['timeout' => 5]), got a value at index 0
no scheme: invalid gateway URL 'gateway.push.apple.com:2195': expected ssl://host:port, tls://host:port or https://host
bad scheme: invalid gateway URL 'http://gateway.push.apple.com:2195': unsupported scheme 'http' (use ssl, tls or https)
no port: invalid gateway URL 'ssl://gateway.push.apple.com': the port is missing (Apple's is 2195)
bad port: invalid gateway URL 'ssl://gateway.push.apple.com:99999': '99999' is not a port number
missing local_cert: local_cert file '%sapns-no-such-file-%d.pem' cannot be read: No such file or directory
missing cafile: cafile file '/nonexistent/dir/ca.pem' cannot be read: No such file or directory
directory: local_cert file '%s' cannot be read: it is a directory
timeout type: option 'timeout' must be a number of seconds (int or float), got string
timeout zero: option 'timeout' must be more than zero seconds, got 0
window: option 'window' must be an int from 1 to 10000000, got 0
passphrase type: option 'passphrase' must be a string, got int
persistent type: option 'persistent' must be true, false or an id string, got float
http2 option on ssl: option 'team_id' is for the HTTP/2 API (https://) only; ApnsConnection::__construct was given a binary gateway URL (ssl://)
https: the HTTP/2 API needs credentials: a client certificate ('local_cert') or token auth ('auth_key', 'key_id' and 'team_id')
feedback https: the feedback service speaks the binary protocol: give ApnsConnection::feedback an ssl:// URL (like ApnsConnection::FEEDBACK_SANDBOX), not 'https://api.sandbox.push.apple.com'
feedback option: unknown option 'window' for ApnsConnection::feedback (known: local_cert, local_pk, passphrase, cafile, peer_name, timeout)

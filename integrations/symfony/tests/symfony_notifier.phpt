--TEST--
Symfony Notifier: ApnsTransportFactory's DSNs (token auth, certificate, host:port, errors naming the part), a PushMessage with ApnsOptions through Texter and through the transport to the sandbox's HTTP/2 API (wire bytes and headers), a refused token as RejectedException and FailedMessageEvent
--EXTENSIONS--
ctype
--SKIPIF--
<?php
require __DIR__ . '/symfony.inc';
if (!extension_loaded('apns')) die('skip apns not loaded');
if ($reason = symfony_load('Notifier', 'EventDispatcher')) die("skip $reason");
?>
--FILE--
<?php
require __DIR__ . '/symfony.inc';
symfony_load('Notifier', 'EventDispatcher');

use Apns\Symfony\InvalidDsnException;
use Apns\Symfony\Notifier\ApnsOptions;
use Apns\Symfony\Notifier\ApnsTransportFactory;
use Apns\Symfony\Notifier\RejectedException;
use Symfony\Component\EventDispatcher\EventDispatcher;
use Symfony\Component\Notifier\Event\FailedMessageEvent;
use Symfony\Component\Notifier\Event\SentMessageEvent;
use Symfony\Component\Notifier\Message\PushMessage;
use Symfony\Component\Notifier\Message\SmsMessage;
use Symfony\Component\Notifier\Texter;
use Symfony\Component\Notifier\Transport;
use Symfony\Component\Notifier\Transport\Dsn;

$factory = new ApnsTransportFactory();

// 1. DSNs.
$dsn = Apns\Symfony\ApnsDsn::fromString('apns://ABC123DEFG:DEF123GHIJ@api.push.apple.com?topic=com.example.app&auth_key=/etc/apns/AuthKey.p8');
echo "token auth: {$dsn->url} ", json_encode($dsn->options, JSON_UNESCAPED_SLASHES), "\n";
$dsn = Apns\Symfony\ApnsDsn::fromString('apns://sandbox?topic=com.example.app&local_cert=/etc/apns/ck.pem&passphrase=s3cret&timeout=2.5&persistent=0');
echo "certificate: {$dsn->url} ", json_encode($dsn->options, JSON_UNESCAPED_SLASHES), "\n";
$dsn = Apns\Symfony\ApnsDsn::fromString('apns://K:T@127.0.0.1:8443?topic=t&auth_key=k.p8&cafile=/tmp/ca.pem');
echo "host:port: {$dsn->url}\n";
echo 'supports apns://: ', var_export($factory->supports(new Dsn('apns://K:T@default?topic=t&auth_key=k')), true),
    ', slack://: ', var_export($factory->supports(new Dsn('slack://t@default')), true), "\n";

foreach ([
    'no credentials' => 'apns://api.push.apple.com?topic=com.example.app',
    'team id missing' => 'apns://ABC123DEFG@api.push.apple.com?topic=t&auth_key=k.p8',
    'auth_key missing' => 'apns://ABC123DEFG:DEF123GHIJ@api.push.apple.com?topic=t',
    'topic missing' => 'apns://ABC123DEFG:DEF123GHIJ@api.push.apple.com?auth_key=k.p8',
    'unknown option' => 'apns://ABC123DEFG:DEF123GHIJ@default?topic=t&auth_key=k.p8&authkey=x',
    'bad timeout' => 'apns://default?local_cert=c.pem&timeout=soon&passphrase=s3cret',
    'a path' => 'apns://default/3/device?local_cert=c.pem',
    'wrong scheme' => 'apn://default?local_cert=c.pem',
] as $label => $text) {
    try {
        $factory->create(new Dsn($text));
        echo "$label: no exception\n";
    } catch (Throwable $e) {
        printf("%s: %s%s: %s\n", $label, get_class($e), str_contains($e->getMessage(), 's3cret') ? ' WITH THE PASSPHRASE' : '', $e->getMessage());
    }
}

// 2. Sending through the sandbox's HTTP/2 API with token auth.
$bad = apns_token(66);
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file([$bad])]);
$text = sprintf('apns://ABC123DEFG:DEF123GHIJ@127.0.0.1:%d?topic=com.example.app&auth_key=%s&cafile=%s&timeout=5',
    apns_port($sb['http2']), urlencode($sb['certs'] . '/auth-key.p8'), urlencode($sb['certs'] . '/ca.pem'));
$dispatcher = new EventDispatcher();
$events = [];
$dispatcher->addListener(SentMessageEvent::class, function (SentMessageEvent $e) use (&$events) { $events[] = 'sent ' . $e->getMessage()->getMessageId(); });
$dispatcher->addListener(FailedMessageEvent::class, function (FailedMessageEvent $e) use (&$events) { $events[] = 'failed: ' . $e->getError()->getMessage(); });
$transport = (new Transport([new ApnsTransportFactory($dispatcher)]))->fromString($text);   // as the framework builds texter transports
echo 'transport: ', $transport, "\n";
$texter = new Texter($transport);
$options = (new ApnsOptions(apns_token(1)))->subtitle('Sub')->badge(2)->sound('chime.caf')->category('ORDER')->threadId('t1')
    ->mutableContent()->custom('order_id', 7)->pushType('alert')->priority(5)->expiresAt(2000000000)->collapseId('order-7');
$sent = $texter->send(new PushMessage('Order shipped', 'Arrives Tuesday', $options));
$rows = apns_log($sb);
echo count($rows), " notification on the wire\n";
echo "payload: {$rows[0]['payload']}\n";
printf("token ok: %s, topic=%s push_type=%s priority=%d expiration=%s collapse_id=%s auth=%s\n", var_export($rows[0]['token'] === apns_token(1), true),
    $rows[0]['topic'], $rows[0]['push_type'], $rows[0]['priority'], $rows[0]['expiration'], $rows[0]['collapse_id'], $rows[0]['auth']);
apns_check('SentMessage id = the apns-id on the wire', $sent->getMessageId() === $rows[0]['apns_id'], $sent->getMessageId() . ' vs ' . $rows[0]['apns_id']);
apns_check('SentMessageEvent dispatched', $events === ['sent ' . $rows[0]['apns_id']], json_encode($events));

// Texter without options: the transport says what is missing.
try {
    $texter->send(new PushMessage('t', 'no token'));
    echo "no token: no exception\n";
} catch (Throwable $e) {
    echo 'no token: ', get_class($e), ': ', $e->getMessage(), "\n";
}
echo 'supports SmsMessage: ', var_export($transport->supports(new SmsMessage('1', 'x')), true), "\n";

// 3. A refused token.
$events = [];
try {
    $transport->send(new PushMessage('Hi', 'there', new ApnsOptions($bad)));
    echo "refused: no exception\n";
} catch (RejectedException $e) {
    printf("refused: %s status=%d reason=%s token ok: %s\n", get_class($e), $e->status, $e->reason, var_export($e->token === $bad, true));
}
echo implode("\n", $events), "\n";
printf("log: %d row(s), no refused token: %s\n", count(apns_log($sb)), var_export(!in_array($bad, array_column(apns_log($sb), 'token'), true), true));

// 4. Certificate auth (the sandbox's client certificate) through the same factory.
$cert = (new Transport([new ApnsTransportFactory()]))->fromString(sprintf('apns://127.0.0.1:%d?topic=com.example.app&local_cert=%s&cafile=%s',
    apns_port($sb['http2']), urlencode($sb['certs'] . '/client.pem'), urlencode($sb['certs'] . '/ca.pem')));
$cert->send(new PushMessage('Cert', 'auth', new ApnsOptions(apns_token(2))));
$last = apns_log($sb)[1] ?? [];
printf("certificate auth: auth=%s alert=%s\n", $last['auth'] ?? '-', json_encode(json_decode($last['payload'] ?? '{}', true)['aps']['alert'] ?? null));
?>
--EXPECTF--
token auth: https://api.push.apple.com {"key_id":"ABC123DEFG","team_id":"DEF123GHIJ","topic":"com.example.app","auth_key":"/etc/apns/AuthKey.p8","persistent":true}
certificate: https://api.sandbox.push.apple.com {"topic":"com.example.app","local_cert":"/etc/apns/ck.pem","passphrase":"s3cret","timeout":2.5}
host:port: https://127.0.0.1:8443
supports apns://: true, slack://: false
no credentials: Apns\Symfony\InvalidDsnException: APNs DSN 'apns://api.push.apple.com?topic=com.example.app' has no credentials: give KEY_ID:TEAM_ID@ with auth_key= (token auth), or local_cert= (certificate auth)
team id missing: Apns\Symfony\InvalidDsnException: APNs DSN 'apns://ABC123DEFG@api.push.apple.com?topic=t&auth_key=k.p8': the user and password parts must be the key id and the team id (apns://KEY_ID:TEAM_ID@host), the team id (password) is missing
auth_key missing: Apns\Symfony\InvalidDsnException: APNs DSN 'apns://ABC123DEFG:DEF123GHIJ@api.push.apple.com?topic=t': token auth (key id 'ABC123DEFG', team id 'DEF123GHIJ') needs the query option auth_key=/path/to/AuthKey_ABC123DEFG.p8
topic missing: Apns\Symfony\InvalidDsnException: APNs DSN 'apns://ABC123DEFG:DEF123GHIJ@api.push.apple.com?auth_key=k.p8': token auth needs the query option topic= (the app's bundle id, e.g. com.example.app)
unknown option: Apns\Symfony\InvalidDsnException: APNs DSN 'apns://ABC123DEFG:DEF123GHIJ@default?topic=t&auth_key=k.p8&authkey=x': unknown query option 'authkey' (known: topic, auth_key, local_cert, local_pk, passphrase, cafile, peer_name, timeout, persistent, grace, max_streams, window)
bad timeout: Apns\Symfony\InvalidDsnException: APNs DSN 'apns://default?local_cert=c.pem&timeout=soon&passphrase=***': query option timeout must be a number of seconds, got 'soon'
a path: Apns\Symfony\InvalidDsnException: APNs DSN 'apns://default/3/device?local_cert=c.pem': unexpected path '/3/device' after the host (options go in the query string)
wrong scheme: Symfony\Component\Notifier\Exception\UnsupportedSchemeException: The "apn" scheme is not supported; supported schemes for notifier "apns" are: "apns".
transport: apns://127.0.0.1:%d?topic=com.example.app
1 notification on the wire
payload: {"aps":{"alert":{"title":"Order shipped","body":"Arrives Tuesday","subtitle":"Sub"},"badge":2,"sound":"chime.caf","category":"ORDER","thread-id":"t1","mutable-content":1},"order_id":7}
token ok: true, topic=com.example.app push_type=alert priority=5 expiration=2000000000 collapse_id=order-7 auth=token
SentMessage id = the apns-id on the wire: ok
SentMessageEvent dispatched: ok
no token: Symfony\Component\Notifier\Exception\InvalidArgumentException: the PushMessage has no device token: pass it to new ApnsOptions($deviceToken)
supports SmsMessage: false
refused: Apns\Symfony\Notifier\RejectedException status=400 reason=BadDeviceToken token ok: true
failed: APNs rejected the notification to %s: 400 BadDeviceToken
log: 1 row(s), no refused token: true
certificate auth: auth=certificate alert={"title":"Cert","body":"auth"}

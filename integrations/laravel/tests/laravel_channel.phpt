--TEST--
Laravel: the apns notification channel (Debian's php-laravel-framework) against the sandbox's HTTP/2 API: config from APNS_*, one shared persistent connection, ApnsMessage on the wire, NotificationFailed per rejected token, queued (ShouldQueue) notifications through the database queue, and a queued send retried when APNs is unreachable
--EXTENSIONS--
pdo
pdo_sqlite
ctype
mbstring
tokenizer
--SKIPIF--
<?php
require __DIR__ . '/laravel-app.inc';
if ($reason = laravel_skip_reason()) die("skip $reason");
?>
--FILE--
<?php
require __DIR__ . '/laravel-app.inc';

use Apns\Laravel\ApnsChannel;
use Apns\Laravel\ApnsMessage;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Notifications\Events\NotificationFailed;
use Illuminate\Notifications\Events\NotificationSent;
use Illuminate\Notifications\Notifiable;
use Illuminate\Notifications\Notification;
use Illuminate\Queue\WorkerOptions;

class Device
{
    use Notifiable;

    public function __construct(public int $id, public array|string|null $tokens)
    {
    }

    public function routeNotificationForApns($notification)
    {
        return $this->tokens;
    }
}

class OrderShipped extends Notification
{
    public function __construct(public int $order)
    {
    }

    public function via($notifiable)
    {
        return [ApnsChannel::class];
    }

    public function toApns($notifiable)
    {
        return ApnsMessage::create()->title('Order shipped')->body("Order #{$this->order} arrives Tuesday")
            ->badge(3)->sound('default')->threadId('orders')->custom('order_id', $this->order)
            ->pushType('alert')->priority(5)->expiresAt(new DateTimeImmutable('@2000000000'))->collapseId("order-{$this->order}");
    }
}

class QueuedOrderShipped extends Notification implements ShouldQueue
{
    use Queueable;

    public function __construct(public int $order)
    {
    }

    public function via($notifiable)
    {
        return ['apns'];
    }

    public function toApns($notifiable)
    {
        return ApnsMessage::create("queued order {$this->order}");
    }
}

class NoToApns extends Notification
{
    public function via($notifiable)
    {
        return ['apns'];
    }
}

$good = [apns_token(1), apns_token(2), apns_token(3)];
$bad = [apns_token(90), apns_token(91)];
$sb = apns_sandbox_start(['--invalid-tokens', apns_invalid_tokens_file($bad)]);
laravel_env_token_auth($sb);
$app = laravel_app(apns_temp_dir('laravel'));

$failed = [];
$sent = [];
$app['events']->listen(NotificationFailed::class, function (NotificationFailed $e) use (&$failed) {
    $failed[] = $e;
});
$app['events']->listen(NotificationSent::class, function (NotificationSent $e) use (&$sent) {
    $sent[] = $e;
});

// 1. Config and the shared connection.
apns_check('config apns.url comes from APNS_URL', config('apns.url') === $sb['http2'], (string) config('apns.url'));
$connection = $app->make(ApnsConnection::class);
apns_check('one ApnsConnection per process (singleton), persistent', $connection === $app->make('apns.connection')
    && $connection->stats()['persistent'] === true && $connection->stats()['protocol'] === 'http2');

// 2. A notification to 5 tokens, 2 of them rejected; one valid token as the app stored it (upper case, spaced).
$stored = strtoupper(implode(' ', str_split($good[2], 8)));
$device = new Device(1, [$good[0], $bad[0], $good[1], $bad[1], $stored]);
$device->notify(new OrderShipped(42));
$rows = apns_log($sb);
echo count($rows), " notifications on the wire\n";
$tokens = array_column($rows, 'token');
sort($tokens);
$expected = $good;
sort($expected);
apns_check('the gateway accepted exactly the 3 valid tokens', $tokens === $expected, json_encode($tokens));
echo "payload: {$rows[0]['payload']}\n";
printf("headers: topic=%s push_type=%s priority=%d expiration=%s collapse_id=%s auth=%s\n", $rows[0]['topic'], $rows[0]['push_type'],
    $rows[0]['priority'], var_export($rows[0]['expiration'], true), $rows[0]['collapse_id'], $rows[0]['auth']);
echo count($failed), " NotificationFailed events\n";
foreach ($failed as $e) {
    printf("  channel=%s order=%d token=%s status=%d reason=%s\n", $e->channel, $e->notification->order,
        $e->data['token'] === $bad[0] ? 'bad0' : ($e->data['token'] === $bad[1] ? 'bad1' : $e->data['token']), $e->data['status'], $e->data['reason']);
}
apns_check('the events carry the notifiable', $failed[0]->notifiable === $device);
apns_check('NotificationSent carries sendMany\'s result', count($sent) === 1 && $sent[0]->response['sent'] === 5
    && count($sent[0]->response['failed']) === 2);

// 3. A token that cannot be a token at all, given exactly as the app stored it.
$failed = [];
(new Device(2, ['not-a-token', $good[0]]))->notify(new OrderShipped(43));
printf("malformed token: %d event(s), token=%s status=%d reason=%s\n", count($failed), $failed[0]->data['token'] ?? '-',
    $failed[0]->data['status'] ?? 0, $failed[0]->data['reason'] ?? '-');

// 4. Nothing to send: no route, no exception, no event.
$before = count(apns_log($sb));
$failed = $sent = [];
(new Device(3, null))->notify(new OrderShipped(44));
apns_check('a notifiable without tokens: nothing sent', count(apns_log($sb)) === $before && $failed === []);

// On-demand notifications: Notification::route('apns' or ApnsChannel::class, $token).
$before = count(apns_log($sb));
Illuminate\Support\Facades\Notification::route('apns', $good[0])->notify(new OrderShipped(50));
Illuminate\Support\Facades\Notification::route(ApnsChannel::class, [$good[1]])->notify(new OrderShipped(51));
$rows = array_slice(apns_log($sb), $before);
printf("on demand: %s\n", implode(', ', array_map(fn($r) => json_decode($r['payload'], true)['order_id'] . ' to ' . ($r['token'] === $good[0] ? 'good0' : ($r['token'] === $good[1] ? 'good1' : '?')), $rows)));
$before = count(apns_log($sb));

// 5. A queued notification (ShouldQueue, the database queue, via 'apns'): nothing is sent until a worker runs the job.
$failed = [];
(new Device(4, [$good[0], $bad[1], $good[1]]))->notify(new QueuedOrderShipped(7));
$db = $app['db']->connection();
apns_check('the notification waits in the jobs table', $db->table('jobs')->count() === 1 && count(apns_log($sb)) === $before);
$app['queue.worker']->runNextJob('database', 'default', new WorkerOptions());
$rows = array_slice(apns_log($sb), $before);
printf("queued: %d on the wire, payload %s, %d NotificationFailed (%s %s), jobs left %d\n", count($rows), $rows[0]['payload'] ?? '-',
    count($failed), $failed[0]->data['reason'] ?? '-', ($failed[0]->data['token'] ?? '') === $bad[1] ? 'bad1' : '?', $db->table('jobs')->count());

// 6. Mistakes name their cause.
try {
    (new Device(5, [$good[0]]))->notify(new NoToApns());
    echo "no toApns: no exception\n";
} catch (UnexpectedValueException $e) {
    echo 'no toApns: ', $e->getMessage(), "\n";
}
apns_expect_exception('priority 7', fn() => ApnsMessage::create()->priority(7), ['priority', '10', '5', 'got 7']);
apns_expect_exception('unknown config key', fn() => Apns\Laravel\ConnectionConfig::resolve(['url' => 'https://x', 'local_certt' => 'a']),
    ["'local_certt'", 'config/apns.php']);

// 7. APNs unreachable while a worker runs a queued notification: the job fails with the
// cause and goes back to the queue for a retry; nothing is lost.
$app2 = laravel_app(apns_temp_dir('laravel-down'));
$app2['config']->set('apns.url', 'https://127.0.0.1:' . ($port = apns_free_port()));
(new Device(6, [$good[0]]))->notify(new QueuedOrderShipped(8));
$app2['queue.worker']->runNextJob('database', 'default', new WorkerOptions(backoff: 0, maxTries: 3));
$reported = $app2[Illuminate\Contracts\Debug\ExceptionHandler::class]->reported;
$job = $app2['db']->connection()->table('jobs')->first();
printf("unreachable: %d reported (%s), job back in the queue: %s, attempts %d\n", count($reported),
    $reported ? get_class($reported[0]) . (str_contains($reported[0]->getMessage(), "127.0.0.1:$port") ? ' naming the host' : ': ' . $reported[0]->getMessage()) : '-',
    $job !== null && $job->reserved_at === null ? 'yes' : 'no', $job->attempts ?? -1);

// 8. APNs goes away in the middle of a notification (200 tokens, one stream at a time,
// 20 ms each, the gateway stopped after a second): the token it refused before is
// still reported, and the channel throws so that the queue sends the notification again.
$port = apns_free_port();
$partialBad = apns_token(7001);
$gone = apns_sandbox_start(['--http2-port', $port, '--max-streams', 1, '--h2-delay-ms', 20,
    '--invalid-tokens', apns_invalid_tokens_file([$partialBad])]);
$app3 = laravel_app(apns_temp_dir('laravel-partial'));
$app3['config']->set('apns.url', "https://127.0.0.1:$port");
$app3['config']->set('apns.timeout', 2);
$failed = [];
$app3['events']->listen(NotificationFailed::class, function (NotificationFailed $e) use (&$failed) {
    $failed[] = $e;
});
exec(sprintf('(sleep 1; kill -TERM %d) > /dev/null 2>&1 &', proc_get_status($gone['proc'])['pid']));
try {
    (new Device(8, [apns_token(7000), $partialBad, ...array_map(fn($i) => apns_token(7002 + $i), range(1, 198))]))->notify(new OrderShipped(45));
    echo "partial: no exception\n";
} catch (ApnsException $e) {
    printf("partial: %s (code %d, naming the gateway: %s), %s on the wire, NotificationFailed: %s\n", get_class($e), $e->getCode(),
        var_export(str_contains($e->getMessage(), "127.0.0.1:$port"), true),
        count(apns_log($gone)) > 1 && count(apns_log($gone)) < 200 ? 'some' : count(apns_log($gone)),
        implode(', ', array_map(fn($f) => ($f->data['token'] === $partialBad ? 'the refused token' : $f->data['token']) . " {$f->data['status']} {$f->data['reason']}", $failed)));
}
?>
--EXPECTF--
config apns.url comes from APNS_URL: ok
one ApnsConnection per process (singleton), persistent: ok
3 notifications on the wire
the gateway accepted exactly the 3 valid tokens: ok
payload: {"aps":{"badge":3,"sound":"default","thread-id":"orders","alert":{"title":"Order shipped","body":"Order #42 arrives Tuesday"}},"order_id":42}
headers: topic=com.example.app push_type=alert priority=5 expiration=2000000000 collapse_id=order-42 auth=token
2 NotificationFailed events
  channel=apns order=42 token=bad0 status=400 reason=BadDeviceToken
  channel=apns order=42 token=bad1 status=400 reason=BadDeviceToken
the events carry the notifiable: ok
NotificationSent carries sendMany's result: ok
malformed token: 1 event(s), token=not-a-token status=400 reason=BadDeviceToken%s
a notifiable without tokens: nothing sent: ok
on demand: 50 to good0, 51 to good1
the notification waits in the jobs table: ok
queued: 2 on the wire, payload {"aps":{"alert":"queued order 7"}}, 1 NotificationFailed (BadDeviceToken bad1), jobs left 0
no toApns: NoToApns is sent via the apns channel but has no toApns($notifiable) method
priority 7: ApnsException
unknown config key: ApnsException
unreachable: 1 reported (ApnsException naming the host), job back in the queue: yes, attempts 1
partial: ApnsException (code 9, naming the gateway: true), some on the wire, NotificationFailed: the refused token 400 BadDeviceToken

<?php
/**
 * --demo N: fills the queue with N notifications to random device tokens, and
 * the result report printed after a --once or --demo run.
 *
 * The demo tokens: N/4 of them (at least 20), of which 1 in 200 (at least 3) are
 * invalid (written to the file the local sandbox gets as --invalid-tokens) and 2
 * are dead: listed by the sandbox's feedback service (binary) or answered 410
 * Unregistered (HTTP/2). Three token groups of 25. Each notification goes to 1–3
 * tokens, and one in ten also to a group. One in ten is a background push
 * (push type background, priority 5 by default), one in seven has a collapse id,
 * one in five an expiration.
 */

declare(strict_types=1);

namespace Apns\Worker;

use PDO;

final class Demo
{
    /** @param array{invalid: string, feedback: string, unregistered: string} $files */
    public static function seed(Queue $queue, int $count, array $files): array
    {
        $tokenCount = max(20, intdiv($count, 4));
        $invalidCount = max(3, intdiv($tokenCount, 200));
        $tokens = [];
        $ids = [];
        $queue->transaction(function () use ($queue, $tokenCount, &$tokens, &$ids) {
            for ($i = 0; $i < $tokenCount; $i++) {
                $tokens[$i] = bin2hex(random_bytes(32));
                $ids[$i] = $queue->addToken($tokens[$i]);
            }
        });
        $picks = array_rand($tokens, $invalidCount + 2);
        $invalid = array_map(fn($i) => $tokens[$i], array_slice($picks, 0, $invalidCount));
        $feedback = array_map(fn($i) => $tokens[$i], array_slice($picks, $invalidCount));
        self::append($files['invalid'], array_map(fn($t) => "$t\n", $invalid));
        self::append($files['feedback'], array_map(fn($t) => (time() + 5) . " $t\n", $feedback));
        // Apple's 410 timestamp is in milliseconds, after the tokens' registration: deactivated.
        self::append($files['unregistered'], array_map(fn($t) => (time() + 5) * 1000 . " $t\n", $feedback));

        $groups = [];
        $queue->transaction(function () use ($queue, $ids, &$groups) {
            for ($g = 1; $g <= 3; $g++) {
                $members = array_map(fn($k) => $ids[$k], (array) array_rand($ids, min(25, count($ids))));
                $groups[] = $queue->addGroup("demo group $g", $members);
            }
        });
        $alerts = ['Your order has shipped', 'New message from Anna', 'Your table is ready', 'Flash sale: 20% off'];
        for ($done = 0; $done < $count; $done += 500) {
            $queue->transaction(function () use ($queue, $ids, $groups, $alerts, $done, $count) {
                for ($n = $done; $n < min($done + 500, $count); $n++) {
                    $targets = array_map(fn($k) => $ids[$k], (array) array_rand($ids, mt_rand(1, 3)));
                    $fields = array_filter([
                        'push_type' => $n % 10 === 9 ? 'background' : null,
                        'collapse_id' => $n % 7 === 6 ? 'demo-news' : null,
                        'expiration' => $n % 5 === 4 ? time() + 3600 : null,
                    ], fn($v) => $v !== null);
                    $payload = isset($fields['push_type'])
                        ? ['aps' => ['content-available' => 1], 'demo' => $n + 1]
                        : ['aps' => ['alert' => $alerts[$n % count($alerts)], 'sound' => 'default', 'badge' => 1], 'demo' => $n + 1];
                    $queue->enqueue($payload, $targets, mt_rand(1, 10) === 1 ? [$groups[array_rand($groups)]] : [], $fields);
                }
            });
        }
        return ['notifications' => $count, 'tokens' => $tokenCount, 'invalid' => $invalidCount,
            'feedback' => count($feedback), 'groups' => count($groups)];
    }

    private static function append(string $file, array $lines): void
    {
        if (!is_dir(dirname($file))) {
            mkdir(dirname($file), 0770, true);
        }
        file_put_contents($file, implode('', $lines), FILE_APPEND | LOCK_EX);
    }

    /**
     * The demo's check: the deliveries recorded accepted since $since are exactly
     * the (payload, token) pairs in the gateway's log (a silent drop's resends
     * appear in the log twice: counted apart, as duplicates). Returns [equal, line].
     */
    public static function checkAgainstGateway(Queue $queue, array $logRows, int $since): array
    {
        $logged = [];
        foreach ($logRows as $row) {
            $pair = $row['payload'] . "\t" . $row['token'];
            $logged[$pair] = ($logged[$pair] ?? 0) + 1;
        }
        $stmt = $queue->pdo()->prepare("SELECT n.payload, d.token FROM deliveries d JOIN notifications n ON n.id = d.notification_id
            WHERE d.status = 'accepted' AND d.sent_at >= ?");
        $stmt->execute([$since]);
        $recorded = [];
        foreach ($stmt->fetchAll(PDO::FETCH_NUM) as [$payload, $token]) {
            $recorded["$payload\t$token"] = true;
        }
        $notLogged = count(array_diff_key($recorded, $logged));
        $notRecorded = count(array_diff_key($logged, $recorded));
        $duplicates = array_sum($logged) - count($logged);
        $equal = $notLogged === 0 && $notRecorded === 0;
        return [$equal, sprintf('the worker recorded %d accepted deliveries: %s (%d duplicate(s) in the gateway log)',
            count($recorded), $equal ? 'the same notifications and tokens' : "NOT THE SAME: $notLogged not in the gateway log, "
            . "$notRecorded logged but not recorded", $duplicates)];
    }

    /** What the queue holds now: notifications per state, failure reasons, deactivated tokens. */
    public static function report(Queue $queue): array
    {
        $pdo = $queue->pdo();
        $lines = [];
        $counts = $queue->counts();
        $lines[] = sprintf('queue: %d sent, %d failed, %d queued, %d claimed',
            $counts['sent'], $counts['failed'], $counts['queued'], $counts['claimed']);
        $d = $pdo->query("SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status")->fetchAll(PDO::FETCH_KEY_PAIR);
        $lines[] = sprintf('deliveries: %d accepted, %d rejected', $d['accepted'] ?? 0, $d['failed'] ?? 0);
        foreach ($pdo->query("SELECT reason, COUNT(*) AS n FROM deliveries WHERE status = 'failed' GROUP BY reason ORDER BY n DESC") as $r) {
            $lines[] = "  rejected: {$r['n']} x {$r['reason']}";
        }
        foreach ($pdo->query("SELECT last_error, COUNT(*) AS n FROM notifications WHERE state = 'failed' GROUP BY last_error ORDER BY n DESC LIMIT 10") as $r) {
            $lines[] = "  failed notifications: {$r['n']} x {$r['last_error']}";
        }
        foreach ($pdo->query("SELECT deactivated_reason, COUNT(*) AS n FROM device_tokens WHERE active = 0 GROUP BY deactivated_reason") as $r) {
            $lines[] = "tokens deactivated: {$r['n']} ({$r['deactivated_reason']})";
        }
        return $lines;
    }
}

<?php
/**
 * The push queue in a SQL database, through PDO: what the worker claims, the
 * device tokens it sends to, and the per-token results it records.
 *
 * Schema (created on first use, see SqliteQueue::schema() / PgQueue::schema()):
 *
 *   notifications        id, payload (JSON text), created_at, state (queued | claimed | sent | failed),
 *                        claimed_by, claimed_at, sent_at, attempts, last_error
 *   device_tokens        id, token (64 lowercase hex), active, deactivated_reason, deactivated_at, registered_at
 *   token_groups         id, name
 *   token_group_members  group_id, token_id
 *   notification_targets notification_id, token_id or group_id (one of the two)
 *   deliveries           notification_id, token, status ('accepted' | 'failed'), apns_status, reason, sent_at
 *
 * Times are unix seconds. A notification goes queued -> claimed -> sent or failed,
 * or back to queued (a retry, or a worker that stops). `deliveries` holds one row
 * per token settled for a notification, so that a notification re-claimed after a
 * retry or a stop is only sent to the tokens not settled yet.
 *
 * The dialect bits (schema, claiming) are in SqliteQueue and PgQueue.
 */

declare(strict_types=1);

namespace Apns\Worker;

use PDO;

abstract class Queue
{
    protected PDO $pdo;

    public function __construct(PDO $pdo)
    {
        $this->pdo = $pdo;
        $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
        $pdo->setAttribute(PDO::ATTR_DEFAULT_FETCH_MODE, PDO::FETCH_ASSOC);
        $this->schema();
    }

    /** Opens the queue of a PDO DSN ('sqlite:/path/queue.sqlite', 'pgsql:host=…;dbname=…'). */
    public static function open(string $dsn, ?string $user = null, ?string $password = null): self
    {
        $driver = strtolower(strstr($dsn, ':', true) ?: '');
        return match ($driver) {
            'sqlite' => new SqliteQueue(SqliteQueue::connect($dsn)),
            'pgsql' => new PgQueue(new PDO($dsn, $user, $password)),
            default => throw new \InvalidArgumentException(
                "unsupported database '$dsn': use sqlite:FILE or pgsql:host=…;dbname=…"),
        };
    }

    public function pdo(): PDO
    {
        return $this->pdo;
    }

    /** Creates the tables when they do not exist. */
    abstract protected function schema(): void;

    /**
     * Claims up to $limit queued notifications for $worker; no two workers ever
     * get the same row. Returns list<['id' => int, 'payload' => string, 'attempts' => int]>.
     */
    abstract public function claim(string $worker, int $limit): array;

    /** Runs $fn in one transaction (also batching writes: SQLite commits are slow); nests. */
    public function transaction(callable $fn): mixed
    {
        if ($this->pdo->inTransaction()) {
            return $fn();
        }
        $this->pdo->beginTransaction();
        try {
            $result = $fn();
            $this->pdo->commit();
            return $result;
        } catch (\Throwable $e) {
            if ($this->pdo->inTransaction()) {
                $this->pdo->rollBack();
            }
            throw $e;
        }
    }

    /**
     * A page of the active device tokens of notification $id, direct and through
     * its groups, de-duplicated, not settled yet (no deliveries row), sorted,
     * after $after: keyset paging keeps memory flat for notifications to millions.
     *
     * @return list<string>
     */
    public function tokensFor(int $id, string $after, int $limit): array
    {
        $stmt = $this->pdo->prepare(
            'SELECT token FROM (
                 SELECT t.token FROM notification_targets nt
                   JOIN device_tokens t ON t.id = nt.token_id
                  WHERE nt.notification_id = :id1 AND t.active = 1
                 UNION
                 SELECT t.token FROM notification_targets nt
                   JOIN token_group_members m ON m.group_id = nt.group_id
                   JOIN device_tokens t ON t.id = m.token_id
                  WHERE nt.notification_id = :id2 AND t.active = 1
             ) targets
             WHERE token > :after
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = :id3 AND d.token = targets.token)
             ORDER BY token
             LIMIT ' . (int) $limit);
        $stmt->execute(['id1' => $id, 'id2' => $id, 'id3' => $id, 'after' => $after]);
        return $stmt->fetchAll(PDO::FETCH_COLUMN);
    }

    /**
     * Records settled tokens of notifications, one transaction for all.
     *
     * @param list<array{0:int,1:string,2:string,3:?int,4:?string}> $rows
     *        [notification id, token, 'accepted'|'failed', apns status, reason]
     */
    public function recordDeliveries(array $rows): void
    {
        if ($rows === []) {
            return;
        }
        $now = time();
        $this->transaction(function () use ($rows, $now) {
            $stmt = $this->pdo->prepare(
                'INSERT INTO deliveries (notification_id, token, status, apns_status, reason, sent_at)
                 VALUES (?, ?, ?, ?, ?, ?)');
            foreach ($rows as [$id, $token, $status, $apnsStatus, $reason]) {
                $stmt->execute([$id, $token, $status, $apnsStatus, $reason, $now]);
            }
        });
    }

    /**
     * Marks tokens inactive. $registeredBefore (feedback service): only if the
     * token was not registered again after that time, as Apple asks.
     * Returns how many were deactivated.
     */
    public function deactivate(string $token, string $reason, ?int $registeredBefore = null): int
    {
        $sql = 'UPDATE device_tokens SET active = 0, deactivated_reason = ?, deactivated_at = ?
                 WHERE token = ? AND active = 1';
        $args = [$reason, time(), self::normalize($token)];
        if ($registeredBefore !== null) {
            $sql .= ' AND (registered_at IS NULL OR registered_at <= ?)';
            $args[] = $registeredBefore;
        }
        $stmt = $this->pdo->prepare($sql);
        $stmt->execute($args);
        return $stmt->rowCount();
    }

    /** Counts of the settled tokens of a notification: ['accepted' => n, 'failed' => n, 'reason' => a failure reason]. */
    public function deliveryCounts(int $id): array
    {
        $stmt = $this->pdo->prepare(
            "SELECT status, COUNT(*) AS n, MAX(reason) AS reason FROM deliveries WHERE notification_id = ? GROUP BY status");
        $stmt->execute([$id]);
        $counts = ['accepted' => 0, 'failed' => 0, 'reason' => null];
        foreach ($stmt->fetchAll() as $row) {
            $counts[$row['status']] = (int) $row['n'];
            if ($row['status'] === 'failed') {
                $counts['reason'] = $row['reason'];
            }
        }
        return $counts;
    }

    /** Ends a claimed notification: 'sent' (with sent_at) or 'failed' with its reason. */
    public function finish(int $id, string $state, ?string $reason = null): void
    {
        $stmt = $this->pdo->prepare(
            "UPDATE notifications SET state = ?, last_error = ?, sent_at = ?, claimed_by = NULL
              WHERE id = ? AND state = 'claimed'");
        $stmt->execute([$state, $reason, $state === 'sent' ? time() : null, $id]);
    }

    /**
     * Puts claimed notifications back in the queue: a retry ($attempt true: the
     * attempt counts, $reason is kept) or a worker stopping (it does not count).
     */
    public function release(array $ids, bool $attempt = false, ?string $reason = null): void
    {
        if ($ids === []) {
            return;
        }
        $in = implode(',', array_map('intval', $ids));
        $sql = "UPDATE notifications SET state = 'queued', claimed_by = NULL, claimed_at = NULL"
            . ($attempt ? ', attempts = attempts + 1, last_error = ?' : '')
            . " WHERE id IN ($in) AND state = 'claimed'";
        $this->pdo->prepare($sql)->execute($attempt ? [$reason] : []);
    }

    /** Keeps claims alive during a long batch (see releaseStale()). */
    public function touch(array $ids): void
    {
        if ($ids !== []) {
            $in = implode(',', array_map('intval', $ids));
            $this->pdo->prepare("UPDATE notifications SET claimed_at = ? WHERE id IN ($in) AND state = 'claimed'")
                ->execute([time()]);
        }
    }

    /** Requeues rows claimed longer than $seconds ago by a worker that died (kill -9, power loss). */
    public function releaseStale(int $seconds): int
    {
        $stmt = $this->pdo->prepare(
            "UPDATE notifications SET state = 'queued', claimed_by = NULL, claimed_at = NULL
              WHERE state = 'claimed' AND claimed_at < ?");
        $stmt->execute([time() - $seconds]);
        return $stmt->rowCount();
    }

    /** Notifications per state, e.g. ['queued' => 10, 'sent' => 5]. */
    public function counts(): array
    {
        $counts = ['queued' => 0, 'claimed' => 0, 'sent' => 0, 'failed' => 0];
        foreach ($this->pdo->query('SELECT state, COUNT(*) AS n FROM notifications GROUP BY state') as $row) {
            $counts[$row['state']] = (int) $row['n'];
        }
        return $counts;
    }

    // --- Filling the queue (applications, the demo, the tests) -------------------

    /** Lowercase hex without spaces or <>, as the tokens are stored. */
    public static function normalize(string $token): string
    {
        return strtolower(str_replace([' ', '<', '>'], '', $token));
    }

    /** Adds (or reactivates) a device token; returns its id. */
    public function addToken(string $token): int
    {
        $token = self::normalize($token);
        $stmt = $this->pdo->prepare('SELECT id FROM device_tokens WHERE token = ?');
        $stmt->execute([$token]);
        $id = $stmt->fetchColumn();
        if ($id !== false) {
            $this->pdo->prepare('UPDATE device_tokens SET active = 1, deactivated_reason = NULL, registered_at = ? WHERE id = ?')
                ->execute([time(), $id]);
            return (int) $id;
        }
        $this->pdo->prepare('INSERT INTO device_tokens (token, active, registered_at) VALUES (?, 1, ?)')
            ->execute([$token, time()]);
        return (int) $this->pdo->lastInsertId($this->sequence('device_tokens'));
    }

    /** Creates a token group of the given token ids; returns its id. */
    public function addGroup(string $name, array $tokenIds): int
    {
        $this->pdo->prepare('INSERT INTO token_groups (name) VALUES (?)')->execute([$name]);
        $group = (int) $this->pdo->lastInsertId($this->sequence('token_groups'));
        $stmt = $this->pdo->prepare('INSERT INTO token_group_members (group_id, token_id) VALUES (?, ?)');
        foreach (array_unique($tokenIds) as $tokenId) {
            $stmt->execute([$group, $tokenId]);
        }
        return $group;
    }

    /**
     * Queues a notification for token ids and group ids; returns its id.
     * $payload: an array (encoded here) or JSON text.
     */
    public function enqueue(array|string $payload, array $tokenIds = [], array $groupIds = []): int
    {
        $json = is_string($payload) ? $payload : json_encode($payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        $this->pdo->prepare("INSERT INTO notifications (payload, created_at, state, attempts) VALUES (?, ?, 'queued', 0)")
            ->execute([$json, time()]);
        $id = (int) $this->pdo->lastInsertId($this->sequence('notifications'));
        $stmt = $this->pdo->prepare('INSERT INTO notification_targets (notification_id, token_id, group_id) VALUES (?, ?, ?)');
        foreach (array_unique($tokenIds) as $tokenId) {
            $stmt->execute([$id, $tokenId, null]);
        }
        foreach (array_unique($groupIds) as $groupId) {
            $stmt->execute([$id, null, $groupId]);
        }
        return $id;
    }

    /** The sequence name lastInsertId() needs (PostgreSQL), or null. */
    protected function sequence(string $table): ?string
    {
        return null;
    }
}

<?php
/**
 * The push queue in a SQL database, through PDO: what the worker claims, the
 * device tokens it sends to, and the per-token results it records.
 *
 * Schema (created on first use, see SqliteQueue::schema() / PgQueue::schema()):
 *
 *   notifications        id, payload (JSON text), created_at, state (queued | claimed | sent | failed),
 *                        claimed_by, claimed_at, sent_at, attempts, last_error, retry_at,
 *                        and the HTTP/2 fields (null: the worker's defaults): push_type,
 *                        priority (10 | 5), expiration (unix time, 0: do not store), collapse_id, topic
 *   device_tokens        id, token (lowercase hex), active, deactivated_reason, deactivated_at,
 *                        registered_at (when the app last reported the token: addToken())
 *   token_groups         id, name
 *   token_group_members  group_id, token_id
 *   notification_targets notification_id, token_id or group_id (one of the two)
 *   deliveries           notification_id, token, status ('accepted' | 'failed'), apns_status, reason,
 *                        sent_at, apns_id (HTTP/2: the request's apns-id)
 *
 * Times are unix seconds. A notification goes queued -> claimed -> sent or failed,
 * or back to queued (a retry, not claimed again before retry_at; or a worker that
 * stops). `deliveries` holds one row per token settled for a notification, so that
 * a notification re-claimed after a retry or a stop is only sent to the tokens not
 * settled yet.
 *
 * Queues made by an older worker are migrated in place on start: the columns of
 * ADDED_COLUMNS are added (nullable, so old rows keep working).
 *
 * The dialect bits (schema, claiming) are in SqliteQueue and PgQueue.
 */

declare(strict_types=1);

namespace Apns\Worker;

use PDO;

abstract class Queue
{
    /** Apple's apns-push-type values. */
    public const PUSH_TYPES = ['alert', 'background', 'voip', 'complication', 'fileprovider', 'mdm', 'location',
        'liveactivity', 'pushtotalk'];

    /** The per-notification HTTP/2 fields enqueue() takes, as stored in `notifications`. */
    public const FIELDS = ['push_type', 'priority', 'expiration', 'collapse_id', 'topic'];

    /**
     * Columns added after the first schema, [table, column, kind] (kind: 'text',
     * 'int', 'time'). schema() creates the first schema; migrate() adds these where
     * missing, so new and old queues end up the same.
     */
    private const ADDED_COLUMNS = [
        ['notifications', 'push_type', 'text'],
        ['notifications', 'priority', 'int'],
        ['notifications', 'expiration', 'time'],
        ['notifications', 'collapse_id', 'text'],
        ['notifications', 'topic', 'text'],
        ['notifications', 'retry_at', 'time'],
        ['deliveries', 'apns_id', 'text'],
    ];

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

    /** Creates the tables when they do not exist, then migrate()s them (under the dialect's lock). */
    abstract protected function schema(): void;

    /** The column names of a table. */
    abstract protected function columns(string $table): array;

    /** The SQL type of a column kind of ADDED_COLUMNS ('text', 'int', 'time'). */
    abstract protected function type(string $kind): string;

    /** Adds the columns of ADDED_COLUMNS that an older queue lacks; returns the ones added. */
    protected function migrate(): array
    {
        $have = [];
        $added = [];
        foreach (self::ADDED_COLUMNS as [$table, $column, $kind]) {
            $have[$table] ??= $this->columns($table);
            if (!in_array($column, $have[$table], true)) {
                $this->pdo->exec("ALTER TABLE $table ADD COLUMN $column " . $this->type($kind));
                $added[] = "$table.$column";
            }
        }
        return $added;
    }

    /**
     * Claims up to $limit queued notifications due now (retry_at passed) for
     * $worker; no two workers ever get the same row. Returns a list of
     * ['id' => int, 'payload' => string, 'attempts' => int] + the FIELDS (null when not set).
     */
    abstract public function claim(string $worker, int $limit): array;

    /** The columns claim() returns, and the WHERE of the rows it may claim (binds :now). */
    protected const CLAIM_COLUMNS = 'id, payload, attempts, push_type, priority, expiration, collapse_id, topic';
    protected const CLAIMABLE = "state = 'queued' AND (retry_at IS NULL OR retry_at <= :now)";

    /** A claimed row with PHP types. */
    protected static function claimed(array $r): array
    {
        $int = fn($v) => $v === null ? null : (int) $v;
        return ['id' => (int) $r['id'], 'payload' => (string) $r['payload'], 'attempts' => (int) $r['attempts'],
            'push_type' => $r['push_type'], 'priority' => $int($r['priority']), 'expiration' => $int($r['expiration']),
            'collapse_id' => $r['collapse_id'], 'topic' => $r['topic']];
    }

    /** When the next notification waiting for its retry is due (unix time), or null when none waits. */
    public function nextRetryAt(): ?int
    {
        $stmt = $this->pdo->prepare("SELECT MIN(retry_at) FROM notifications WHERE state = 'queued' AND retry_at > ?");
        $stmt->execute([time()]);
        $at = $stmt->fetchColumn();
        return $at === null || $at === false ? null : (int) $at;
    }

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
     * @param list<array{0:int,1:string,2:string,3:?int,4:?string,5:?string}> $rows
     *        [notification id, token, 'accepted'|'failed', apns status, reason, apns_id]
     */
    public function recordDeliveries(array $rows): void
    {
        if ($rows === []) {
            return;
        }
        $now = time();
        $this->transaction(function () use ($rows, $now) {
            $stmt = $this->pdo->prepare(
                'INSERT INTO deliveries (notification_id, token, status, apns_status, reason, sent_at, apns_id)
                 VALUES (?, ?, ?, ?, ?, ?, ?)');
            foreach ($rows as [$id, $token, $status, $apnsStatus, $reason, $apnsId]) {
                $stmt->execute([$id, $token, $status, $apnsStatus, $reason, $now, $apnsId]);
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

    /**
     * Marks a token inactive after Apple's 410 (Unregistered, ExpiredToken) with
     * its timestamp in milliseconds: only if the app did not register the token
     * again after that moment. registered_at has whole seconds: a registration in
     * the same second as Apple's timestamp may have come after it, so the token
     * is kept (a dead token costs one more 410; a live one deactivated loses the
     * user's notifications). Without a timestamp: deactivated.
     */
    public function deactivateUnregistered(string $token, string $reason, ?int $timestampMs): int
    {
        // registered_at * 1000 + 999 <= $timestampMs, in whole seconds:
        return $this->deactivate($token, $reason, $timestampMs === null ? null : intdiv($timestampMs - 999, 1000));
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
     * attempt counts, $reason is kept, not claimed again before $retryAt) or a
     * worker stopping (it does not count).
     */
    public function release(array $ids, bool $attempt = false, ?string $reason = null, ?int $retryAt = null): void
    {
        if ($ids === []) {
            return;
        }
        $in = implode(',', array_map('intval', $ids));
        $sql = "UPDATE notifications SET state = 'queued', claimed_by = NULL, claimed_at = NULL"
            . ($attempt ? ', attempts = attempts + 1, last_error = ?, retry_at = ?' : '')
            . " WHERE id IN ($in) AND state = 'claimed'";
        $this->pdo->prepare($sql)->execute($attempt ? [$reason, $retryAt] : []);
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
     *
     * $fields, for the HTTP/2 API (each optional; the worker's --topic and
     * --push-type are the defaults): 'push_type' (alert, background, voip …),
     * 'priority' (10 or 5; default 10, 5 for background), 'expiration' (unix time
     * until which APNs keeps trying; 0: do not store), 'collapse_id' (at most 64
     * bytes), 'topic' (bundle id). The binary protocol sends expiration and
     * priority and ignores the others.
     *
     * @throws \InvalidArgumentException naming the field when one is not valid
     */
    public function enqueue(array|string $payload, array $tokenIds = [], array $groupIds = [], array $fields = []): int
    {
        $json = is_string($payload) ? $payload : json_encode($payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        $fields = self::checkFields($fields);
        $this->pdo->prepare("INSERT INTO notifications (payload, created_at, state, attempts, push_type, priority, expiration,
                collapse_id, topic) VALUES (?, ?, 'queued', 0, ?, ?, ?, ?, ?)")
            ->execute([$json, time(), $fields['push_type'], $fields['priority'], $fields['expiration'],
                $fields['collapse_id'], $fields['topic']]);
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

    /** enqueue()'s $fields, checked, with every key of FIELDS (null when not given). */
    private static function checkFields(array $fields): array
    {
        $unknown = array_diff(array_keys($fields), self::FIELDS);
        if ($unknown !== []) {
            throw new \InvalidArgumentException("enqueue(): unknown field '" . reset($unknown) . "' (known: "
                . implode(', ', self::FIELDS) . ')');
        }
        $f = $fields + array_fill_keys(self::FIELDS, null);
        $fail = fn(string $why) => throw new \InvalidArgumentException("enqueue(): $why");
        if ($f['push_type'] !== null && !in_array($f['push_type'], self::PUSH_TYPES, true)) {
            $fail("push_type must be one of " . implode(', ', self::PUSH_TYPES) . ', not ' . json_encode($f['push_type']));
        }
        if ($f['priority'] !== null && !in_array($f['priority'], [5, 10], true)) {
            $fail('priority must be 10 (immediately) or 5 (power-saving), not ' . json_encode($f['priority']));
        }
        if ($f['priority'] === 10 && $f['push_type'] === 'background') {
            $fail('priority 10 is not allowed with push_type background (APNs requires 5)');
        }
        if ($f['expiration'] !== null && (!is_int($f['expiration']) || $f['expiration'] < 0)) {
            $fail('expiration must be a unix time (int >= 0; 0: do not store), not ' . json_encode($f['expiration']));
        }
        if ($f['collapse_id'] !== null && (!is_string($f['collapse_id']) || strlen($f['collapse_id']) > 64)) {
            $fail('collapse_id must be a string of at most 64 bytes');
        }
        if ($f['topic'] !== null && (!is_string($f['topic']) || !preg_match('/^[^\s]+$/', $f['topic']))) {
            $fail('topic must be a bundle id like com.example.app, not ' . json_encode($f['topic']));
        }
        return $f;
    }

    /** The sequence name lastInsertId() needs (PostgreSQL), or null. */
    protected function sequence(string $table): ?string
    {
        return null;
    }
}

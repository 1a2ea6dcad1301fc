<?php
/**
 * The queue in a SQLite file: the default, for one machine. The file and its
 * tables are created on first use. Claiming takes SQLite's write lock first
 * (BEGIN IMMEDIATE), so several workers on the same file never claim the same row;
 * WAL mode lets them read while one writes.
 */

declare(strict_types=1);

namespace Apns\Worker;

use PDO;

final class SqliteQueue extends Queue
{
    public static function connect(string $dsn): PDO
    {
        $file = substr($dsn, strlen('sqlite:'));
        if ($file !== '' && $file !== ':memory:' && !is_dir(dirname($file))) {
            mkdir(dirname($file), 0770, true);
        }
        $pdo = new PDO($dsn, null, null, [PDO::ATTR_TIMEOUT => 30]);   // busy timeout, seconds
        $pdo->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
        $pdo->exec('PRAGMA journal_mode = WAL');
        $pdo->exec('PRAGMA synchronous = NORMAL');
        $pdo->exec('PRAGMA foreign_keys = ON');
        return $pdo;
    }

    protected function schema(): void
    {
        $this->pdo->exec('BEGIN IMMEDIATE');
        try {
            $this->pdo->exec(<<<'SQL'
                CREATE TABLE IF NOT EXISTS notifications (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    payload TEXT NOT NULL CHECK (json_valid(payload)),
                    created_at INTEGER NOT NULL,
                    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'claimed', 'sent', 'failed')),
                    claimed_by TEXT,
                    claimed_at INTEGER,
                    sent_at INTEGER,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT
                );
                CREATE INDEX IF NOT EXISTS notifications_state ON notifications (state, id);
                CREATE TABLE IF NOT EXISTS device_tokens (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    token TEXT NOT NULL UNIQUE,
                    active INTEGER NOT NULL DEFAULT 1,
                    deactivated_reason TEXT,
                    deactivated_at INTEGER,
                    registered_at INTEGER
                );
                CREATE TABLE IF NOT EXISTS token_groups (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL
                );
                CREATE TABLE IF NOT EXISTS token_group_members (
                    group_id INTEGER NOT NULL REFERENCES token_groups (id) ON DELETE CASCADE,
                    token_id INTEGER NOT NULL REFERENCES device_tokens (id) ON DELETE CASCADE,
                    PRIMARY KEY (group_id, token_id)
                );
                CREATE TABLE IF NOT EXISTS notification_targets (
                    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
                    token_id INTEGER REFERENCES device_tokens (id) ON DELETE CASCADE,
                    group_id INTEGER REFERENCES token_groups (id) ON DELETE CASCADE,
                    CHECK ((token_id IS NULL) <> (group_id IS NULL))
                );
                CREATE INDEX IF NOT EXISTS notification_targets_notification ON notification_targets (notification_id);
                CREATE TABLE IF NOT EXISTS deliveries (
                    notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
                    token TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('accepted', 'failed')),
                    apns_status INTEGER,
                    reason TEXT,
                    sent_at INTEGER NOT NULL,
                    PRIMARY KEY (notification_id, token)
                );
                SQL);
            $this->migrate();
            $this->pdo->exec('COMMIT');
        } catch (\Throwable $e) {
            $this->pdo->exec('ROLLBACK');
            throw $e;
        }
    }

    protected function columns(string $table): array
    {
        return array_column($this->pdo->query("PRAGMA table_info($table)")->fetchAll(PDO::FETCH_ASSOC), 'name');
    }

    protected function type(string $kind): string
    {
        return $kind === 'text' ? 'TEXT' : 'INTEGER';
    }

    public function claim(string $worker, int $limit): array
    {
        // BEGIN IMMEDIATE takes the write lock before reading: no other worker can
        // select the same queued rows in between (PDO::beginTransaction() is DEFERRED).
        $this->pdo->exec('BEGIN IMMEDIATE');
        try {
            $now = time();
            $select = $this->pdo->prepare('SELECT ' . self::CLAIM_COLUMNS . ' FROM notifications WHERE ' . self::CLAIMABLE
                . ' ORDER BY id LIMIT ' . (int) $limit);
            $select->execute(['now' => $now]);
            $rows = $select->fetchAll(PDO::FETCH_ASSOC);
            if ($rows !== []) {
                $in = implode(',', array_map(fn($r) => (int) $r['id'], $rows));
                $this->pdo->prepare("UPDATE notifications SET state = 'claimed', claimed_by = ?, claimed_at = ? WHERE id IN ($in)")
                    ->execute([$worker, $now]);
            }
            $this->pdo->exec('COMMIT');
        } catch (\Throwable $e) {
            $this->pdo->exec('ROLLBACK');
            throw $e;
        }
        return array_map(self::claimed(...), $rows);
    }
}

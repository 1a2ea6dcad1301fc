<?php
/**
 * The queue in PostgreSQL: for many workers on many machines. Claiming is one
 * statement, `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)
 * RETURNING …`: rows another worker is claiming are skipped, not waited for, and
 * never claimed twice. The tables are created on first use (under an advisory
 * lock, so that workers starting together do not race).
 */

declare(strict_types=1);

namespace Apns\Worker;

use PDO;

final class PgQueue extends Queue
{
    protected function schema(): void
    {
        $this->pdo->exec('SELECT pg_advisory_lock(2195)');
        try {
            $this->pdo->exec(<<<'SQL'
                CREATE TABLE IF NOT EXISTS notifications (
                    id BIGSERIAL PRIMARY KEY,
                    payload JSON NOT NULL,
                    created_at BIGINT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'claimed', 'sent', 'failed')),
                    claimed_by TEXT,
                    claimed_at BIGINT,
                    sent_at BIGINT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT
                );
                CREATE INDEX IF NOT EXISTS notifications_queued ON notifications (id) WHERE state = 'queued';
                CREATE TABLE IF NOT EXISTS device_tokens (
                    id BIGSERIAL PRIMARY KEY,
                    token TEXT NOT NULL UNIQUE,
                    active SMALLINT NOT NULL DEFAULT 1,
                    deactivated_reason TEXT,
                    deactivated_at BIGINT,
                    registered_at BIGINT
                );
                CREATE TABLE IF NOT EXISTS token_groups (
                    id BIGSERIAL PRIMARY KEY,
                    name TEXT NOT NULL
                );
                CREATE TABLE IF NOT EXISTS token_group_members (
                    group_id BIGINT NOT NULL REFERENCES token_groups (id) ON DELETE CASCADE,
                    token_id BIGINT NOT NULL REFERENCES device_tokens (id) ON DELETE CASCADE,
                    PRIMARY KEY (group_id, token_id)
                );
                CREATE TABLE IF NOT EXISTS notification_targets (
                    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
                    token_id BIGINT REFERENCES device_tokens (id) ON DELETE CASCADE,
                    group_id BIGINT REFERENCES token_groups (id) ON DELETE CASCADE,
                    CHECK ((token_id IS NULL) <> (group_id IS NULL))
                );
                CREATE INDEX IF NOT EXISTS notification_targets_notification ON notification_targets (notification_id);
                CREATE TABLE IF NOT EXISTS deliveries (
                    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
                    token TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('accepted', 'failed')),
                    apns_status INTEGER,
                    reason TEXT,
                    sent_at BIGINT NOT NULL,
                    PRIMARY KEY (notification_id, token)
                );
                SQL);
            $this->migrate();
        } finally {
            $this->pdo->exec('SELECT pg_advisory_unlock(2195)');
        }
    }

    protected function columns(string $table): array
    {
        $stmt = $this->pdo->prepare(
            'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?');
        $stmt->execute([$table]);
        return $stmt->fetchAll(PDO::FETCH_COLUMN);
    }

    protected function type(string $kind): string
    {
        return ['text' => 'TEXT', 'int' => 'INTEGER', 'time' => 'BIGINT'][$kind];
    }

    public function claim(string $worker, int $limit): array
    {
        $stmt = $this->pdo->prepare(
            "UPDATE notifications SET state = 'claimed', claimed_by = :worker, claimed_at = :claimed_at
              WHERE id IN (SELECT id FROM notifications WHERE " . self::CLAIMABLE . "
                            ORDER BY id FOR UPDATE SKIP LOCKED LIMIT " . (int) $limit . ")
          RETURNING " . self::CLAIM_COLUMNS);
        $now = time();
        $stmt->execute(['worker' => $worker, 'claimed_at' => $now, 'now' => $now]);
        $rows = $stmt->fetchAll(PDO::FETCH_ASSOC);
        usort($rows, fn($a, $b) => $a['id'] <=> $b['id']);
        return array_map(self::claimed(...), $rows);
    }

    protected function sequence(string $table): ?string
    {
        return "{$table}_id_seq";
    }
}

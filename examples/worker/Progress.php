<?php
/**
 * Progress of the worker: a bar redrawn in place on a terminal; nothing on a
 * pipe or a log file, where the worker's periodic log lines say the same.
 */

declare(strict_types=1);

namespace Apns\Worker;

final class Progress
{
    private bool $tty;
    private int $total = 0;
    private float $started = 0.0;
    private float $lastDraw = 0.0;
    private int $queued = 0;

    /** @param resource $stream */
    public function __construct(private $stream = STDOUT, ?bool $tty = null)
    {
        $this->tty = $tty ?? (function_exists('stream_isatty') && stream_isatty($stream));
    }

    public function isTty(): bool
    {
        return $this->tty;
    }

    public function start(int $queued): void
    {
        $this->started = microtime(true);
        $this->queued = $queued;
    }

    /** $queued: notifications still waiting, when known (null: unchanged). */
    public function update(array $totals, ?int $queued): void
    {
        if ($queued !== null) {
            $this->queued = $queued;
        }
        $now = microtime(true);
        if (!$this->tty || $now - $this->lastDraw < 0.1) {
            return;
        }
        $this->lastDraw = $now;
        $done = $totals['sent'] + $totals['failed'];
        $total = max($done + $this->queued, 1);
        $width = 30;
        $filled = (int) round($width * min($done / $total, 1));
        $rate = $totals['accepted'] / max($now - $this->started, 0.001);
        fprintf($this->stream, "\r[%s%s] %d/%d notifications %3d%%  %d tokens (%.0f/s)  %d failed  %.1f MB \033[K",
            str_repeat('#', $filled), str_repeat('.', $width - $filled), $done, $total,
            (int) (100 * $done / $total), $totals['accepted'], $rate, $totals['failed'],
            memory_get_usage() / 1048576);
    }

    public function finish(array $totals): void
    {
        if ($this->tty) {
            $this->lastDraw = 0.0;
            $this->update($totals, 0);
            fwrite($this->stream, "\n");
        }
    }
}

//! The deadlines of both engines, in one place.
//!
//! Two bounds meet in every blocking step. The engine's `timeout` bounds each
//! connection attempt and how long it keeps trying without progress (then it
//! gives up, with the unsettled notifications in the failures). A caller's own
//! deadline (`flush($timeout)`) bounds everything done inside that call,
//! connecting included, and is never an error: when it passes, the call
//! returns and what is unsettled stays queued. An attempt the caller's
//! deadline cut short says nothing about the gateway: it is neither a failure
//! to back off from nor a cause to report.

use std::time::{Duration, Instant};

/// When one connection attempt started at `now` must be done: `timeout`
/// later, but no later than the engine's give-up time (an attempt that begins
/// after it gets no time at all) nor the caller's deadline.
pub fn attempt_by(
    now: Instant,
    timeout: Duration,
    give_up_at: Option<Instant>,
    caller: Option<Instant>,
) -> Instant {
    let mut by = now + timeout;
    if let Some(g) = give_up_at {
        by = by.min(g.max(now));
    }
    if let Some(c) = caller {
        by = by.min(c);
    }
    by
}

/// Whether the caller's own deadline, if any, has passed at `now`.
pub fn passed(caller: Option<Instant>, now: Instant) -> bool {
    caller.is_some_and(|c| now >= c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tightest_bound_wins() {
        let now = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(attempt_by(now, s(10), None, None), now + s(10));
        assert_eq!(attempt_by(now, s(10), Some(now + s(3)), None), now + s(3));
        assert_eq!(
            attempt_by(now, s(10), Some(now + s(3)), Some(now + s(1))),
            now + s(1)
        );
        assert_eq!(
            attempt_by(now, s(1), Some(now + s(3)), Some(now + s(2))),
            now + s(1)
        );
        // Past the give-up time: no time for the attempt.
        assert_eq!(
            attempt_by(now + s(5), s(10), Some(now + s(3)), None),
            now + s(5)
        );
    }

    #[test]
    fn only_a_caller_deadline_can_pass() {
        let now = Instant::now();
        assert!(!passed(None, now));
        assert!(!passed(Some(now + Duration::from_millis(1)), now));
        assert!(passed(Some(now), now));
    }
}

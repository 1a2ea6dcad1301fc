//! Fault injection: `--shutdown-every N`, `--drop-every N` and `--slow-read BPS`.
//!
//! Owns the decision "what happens after the notification with global accept
//! number `seq`" and the per-connection read throttle. It does not count accepts
//! (that is [`crate::log`], which numbers them in log order) nor touch sockets.

use std::time::{Duration, Instant};

/// What the gateway does after accepting a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Go on reading.
    Continue,
    /// Answer status 10 (Shutdown) with this notification's identifier, then close.
    Shutdown,
    /// Close without a word, discarding what the client wrote after it.
    Drop,
}

/// The periodic faults, shared by every connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    pub shutdown_every: Option<u64>,
    pub drop_every: Option<u64>,
}

impl Faults {
    /// The fault due after the `seq`-th accepted notification (counted from 1
    /// across all connections). A shutdown wins when both fall on the same one.
    pub fn after(&self, seq: u64) -> After {
        let due = |every: Option<u64>| every.is_some_and(|n| n > 0 && seq % n == 0);
        if due(self.shutdown_every) {
            After::Shutdown
        } else if due(self.drop_every) {
            After::Drop
        } else {
            After::Continue
        }
    }
}

/// Limits one connection's reads to `bps` bytes per second on average.
///
/// The budget grows with time since the connection started; a read takes at most
/// a twentieth of a second's worth, so the rate is smooth rather than bursty.
#[derive(Debug)]
pub struct Throttle {
    bps: u64,
    started: Instant,
    taken: u64,
}

impl Throttle {
    pub fn new(bps: u64) -> Throttle {
        Throttle {
            bps: bps.max(1),
            started: Instant::now(),
            taken: 0,
        }
    }

    /// How many bytes the next read may take (at least 1, at most `want`);
    /// `wait` is called with the time to sleep first, if any.
    pub fn allow(&mut self, want: usize, mut wait: impl FnMut(Duration)) -> usize {
        let quantum = (self.bps / 20).max(1);
        loop {
            let elapsed = self.started.elapsed().as_secs_f64();
            let earned = (self.bps as f64 * elapsed) as u64 + quantum;
            let budget = earned.saturating_sub(self.taken);
            if budget > 0 {
                let n = budget.min(quantum).min(want as u64).max(1);
                return n as usize;
            }
            let short = (self.taken + 1).saturating_sub(earned);
            wait(Duration::from_secs_f64(short as f64 / self.bps as f64));
        }
    }

    /// Records what a read actually took.
    pub fn took(&mut self, n: usize) {
        self.taken += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_accept_and_shutdown_first() {
        let f = Faults {
            shutdown_every: Some(3),
            drop_every: Some(2),
        };
        let got: Vec<After> = (1..=6).map(|s| f.after(s)).collect();
        use After::*;
        assert_eq!(got, [Continue, Drop, Shutdown, Drop, Continue, Shutdown]);
        assert_eq!(Faults::default().after(1), Continue);
    }

    #[test]
    fn throttle_waits_once_the_budget_is_spent() {
        let mut t = Throttle::new(100);
        let mut waited = Duration::ZERO;
        let first = t.allow(1000, |d| waited += d);
        assert_eq!(first, 5, "a twentieth of a second's worth");
        assert_eq!(waited, Duration::ZERO);
        t.took(first);
        let second = t.allow(1000, |d| {
            waited += d;
            std::thread::sleep(d);
        });
        assert!((1..=5).contains(&second));
        assert!(waited > Duration::ZERO);
    }
}

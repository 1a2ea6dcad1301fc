//! Exponential back-off, one type for every use: reconnecting (both engines:
//! the binary connection, each HTTP/2 slot) and retrying a notification after
//! HTTP/2 429/5xx. Each use has its own parameters, below.

use std::time::Duration;

/// Delays that double after each failure, from `first` up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

/// Before a new connection after failed ones (binary, and each HTTP/2 slot).
pub const RECONNECT: Backoff = Backoff {
    first: Duration::from_millis(50),
    max: Duration::from_secs(2),
};

/// Before resending an HTTP/2 notification answered 429 or 5xx (also at most
/// half the `timeout`, see the engine).
pub const RETRY: Backoff = Backoff {
    first: Duration::from_millis(100),
    max: Duration::from_secs(5),
};

impl Backoff {
    /// The wait after the `failures`-th failure in a row (1 for the first:
    /// `first`; 0 counts as 1).
    pub fn delay(&self, failures: u32) -> Duration {
        // Past 2^16 × first every use is long at `max`; the cap keeps the shift defined.
        let doublings = failures.saturating_sub(1).min(16);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn reconnect_doubles_from_50_ms_to_2_s() {
        let got: Vec<Duration> = (1..=9).map(|n| RECONNECT.delay(n)).collect();
        assert_eq!(got, ms(&[50, 100, 200, 400, 800, 1600, 2000, 2000, 2000]));
        assert_eq!(RECONNECT.delay(0), Duration::from_millis(50));
        assert_eq!(RECONNECT.delay(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn retry_doubles_from_100_ms_to_5_s() {
        let got: Vec<Duration> = (1..=8).map(|n| RETRY.delay(n)).collect();
        assert_eq!(got, ms(&[100, 200, 400, 800, 1600, 3200, 5000, 5000]));
    }
}

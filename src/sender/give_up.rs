//! The message of an engine that gave up: the gateway made no progress for
//! `timeout`, and every notification not settled is in the failures (status
//! [`STATUS_NOT_DELIVERED`]). One wording for both protocols.

use std::time::Duration;

use super::STATUS_NOT_DELIVERED;
use crate::error::Error;

/// "gave up on `gateway` after `timeout` s without progress: `cause`; `count`
/// notification(s) not `unsettled` are listed in failures() …"; `unsettled`
/// says what they lacked ("confirmed" on the binary protocol, where a probe
/// confirms; "answered" on HTTP/2, where every request is).
pub fn gave_up(
    gateway: &str,
    timeout: Duration,
    cause: &str,
    count: usize,
    unsettled: &str,
) -> Error {
    Error::Undelivered(format!(
        "gave up on {gateway} after {} s without progress: {cause}; {count} notification(s) \
         not {unsettled} are listed in failures() with status {STATUS_NOT_DELIVERED}",
        timeout.as_secs_f64()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wording_names_gateway_time_cause_and_count() {
        let e = gave_up(
            "127.0.0.1:2195",
            Duration::from_millis(1500),
            "connection refused",
            3,
            "confirmed",
        );
        assert_eq!(
            e.to_string(),
            "gave up on 127.0.0.1:2195 after 1.5 s without progress: connection refused; \
             3 notification(s) not confirmed are listed in failures() with status 255"
        );
    }
}

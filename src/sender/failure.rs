//! How both engines write an entry of the failure list: refused by the
//! gateway (or before sending), or not delivered at all (status
//! [`STATUS_NOT_DELIVERED`], the reason saying why and the cause).

use super::{Failure, STATUS_NOT_DELIVERED};

impl Failure {
    /// A notification refused with `status`: Apple's binary status, or HTTP/2's
    /// status when the engine itself stands in for APNs (a bad token). No
    /// `apns-id`, no timestamp.
    pub fn refused(identifier: u32, token: String, status: u32, reason: String) -> Failure {
        Failure {
            identifier,
            token,
            status,
            reason,
            apns_id: None,
            timestamp: None,
        }
    }

    /// A notification the gateway never answered for: status
    /// [`STATUS_NOT_DELIVERED`], with [`not_delivered`] as the reason.
    pub fn not_delivered(identifier: u32, token: String, reason: String) -> Failure {
        Failure::refused(identifier, token, STATUS_NOT_DELIVERED, reason)
    }
}

/// The reason of an undelivered notification: "Not delivered: why (cause)",
/// without the parentheses when no cause is known.
pub fn not_delivered(why: &str, cause: &str) -> String {
    if cause.is_empty() {
        format!("Not delivered: {why}")
    } else {
        format!("Not delivered: {why} ({cause})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undelivered_is_255_with_why_and_cause() {
        let f = Failure::not_delivered(
            3,
            "ab".into(),
            not_delivered("the gateway could not be reached", "connection refused"),
        );
        assert_eq!(
            f,
            Failure {
                identifier: 3,
                token: "ab".into(),
                status: 255,
                reason: "Not delivered: the gateway could not be reached (connection refused)"
                    .into(),
                apns_id: None,
                timestamp: None,
            }
        );
        assert_eq!(not_delivered("why", ""), "Not delivered: why");
    }
}

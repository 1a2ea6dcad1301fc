//! The HTTP/2 provider API, as pure values: the request for one notification and
//! the meaning of a response.
//!
//! Owns Apple's header rules (topic suffixes per push type, priorities, sizes,
//! `apns-id`), the response body (`{"reason":…,"timestamp":…}`) and what each
//! status means for the sender ([`Disposition`]). It does not own the connection
//! (that is [`crate::sender::http2`]) nor the provider token ([`super::jwt`]).
//!
//! Reasons are kept as strings: Apple adds new ones, and a reason this code does
//! not know is shown to the user as it came.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::protocol::{payload, token};

/// Largest payload of a regular notification.
pub const MAX_PAYLOAD: usize = 4096;
/// Largest payload of a VoIP notification.
pub const MAX_VOIP_PAYLOAD: usize = 5120;
/// Longest `apns-collapse-id`, in bytes.
pub const MAX_COLLAPSE_ID: usize = 64;

/// `apns-push-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushType {
    Alert,
    Background,
    Voip,
    Complication,
    FileProvider,
    Mdm,
    Location,
    LiveActivity,
    PushToTalk,
}

impl PushType {
    /// Every push type, in Apple's order.
    pub const ALL: [PushType; 9] = [
        PushType::Alert,
        PushType::Background,
        PushType::Voip,
        PushType::Complication,
        PushType::FileProvider,
        PushType::Mdm,
        PushType::Location,
        PushType::LiveActivity,
        PushType::PushToTalk,
    ];

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            PushType::Alert => "alert",
            PushType::Background => "background",
            PushType::Voip => "voip",
            PushType::Complication => "complication",
            PushType::FileProvider => "fileprovider",
            PushType::Mdm => "mdm",
            PushType::Location => "location",
            PushType::LiveActivity => "liveactivity",
            PushType::PushToTalk => "pushtotalk",
        }
    }

    /// Parses a header value (case-insensitive); unknown types are an error naming them.
    pub fn parse(text: &str) -> Result<PushType> {
        let lower = text.trim().to_ascii_lowercase();
        PushType::ALL
            .into_iter()
            .find(|t| t.as_str() == lower)
            .ok_or_else(|| {
                let known: Vec<&str> = PushType::ALL.iter().map(|t| t.as_str()).collect();
                Error::InvalidOption(format!(
                    "unknown push_type {text:?} (expected one of: {})",
                    known.join(", ")
                ))
            })
    }

    /// The suffix Apple requires on `apns-topic` for this push type.
    pub fn topic_suffix(self) -> Option<&'static str> {
        match self {
            PushType::Voip => Some(".voip"),
            PushType::Complication => Some(".complication"),
            PushType::FileProvider => Some(".pushkit.fileprovider"),
            PushType::Location => Some(".location-query"),
            PushType::LiveActivity => Some(".push-type.liveactivity"),
            PushType::PushToTalk => Some(".voip-ptt"),
            PushType::Alert | PushType::Background | PushType::Mdm => None,
        }
    }

    /// The payload size limit.
    pub fn max_payload(self) -> usize {
        match self {
            PushType::Voip => MAX_VOIP_PAYLOAD,
            _ => MAX_PAYLOAD,
        }
    }
}

impl fmt::Display for PushType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The per-notification options, as the caller gave them (unvalidated).
#[derive(Debug, Clone, Copy, Default)]
pub struct SendOptions<'a> {
    /// `apns-topic`; default: the connection's topic.
    pub topic: Option<&'a str>,
    /// `apns-push-type`; default `alert`.
    pub push_type: Option<&'a str>,
    /// `apns-priority`: 10 or 5; default 10 (5 for `background`).
    pub priority: Option<u8>,
    /// `apns-expiration`, Unix seconds (0: do not store).
    pub expiration: Option<u64>,
    /// `apns-collapse-id`, at most 64 bytes.
    pub collapse_id: Option<&'a str>,
    /// `apns-id`, a UUID; generated when absent.
    pub apns_id: Option<&'a str>,
}

/// APNs's priority when `apns-priority` is absent: the header is only sent for
/// other values (one header fewer to encode on almost every request).
pub const DEFAULT_PRIORITY: u8 = 10;

/// One validated notification, ready to become an HTTP/2 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `/3/device/<token>`, the token in lowercase hex ([`Request::token`]).
    pub path: String,
    /// With the suffix its push type requires; `None` only with certificate
    /// auth and no topic anywhere (APNs then takes the certificate's topic).
    /// Shared by the requests of the same topic (see [`PayloadCache`]).
    pub topic: Option<Arc<str>>,
    pub push_type: PushType,
    pub priority: u8,
    pub expiration: Option<u64>,
    pub collapse_id: Option<String>,
    /// Lowercase UUID.
    pub apns_id: String,
    /// The JSON payload (shared with the other requests of the same payload).
    pub payload: Bytes,
}

/// What repeats from one notification to the next of a batch, checked once:
/// the last payload that passed [`payload::validate`] (its JSON parsed once,
/// one copy shared), and the last topic with its suffix (one allocation
/// shared). Only valid values are kept.
#[derive(Debug, Default)]
pub struct PayloadCache {
    payload: payload::LastValid,
    /// The topic as given, its push type, and the header value made of them.
    topic: Option<(String, PushType, Arc<str>)>,
}

impl PayloadCache {
    /// Validates `payload` against its push type's limit (unless it is the last
    /// valid one for the same limit) and returns it as shared bytes.
    fn check(&mut self, payload: &[u8], push_type: PushType) -> Result<Bytes> {
        self.payload
            .check(payload, push_type.max_payload())
            .map_err(|e| match e {
                Error::InvalidPayload(m) if push_type == PushType::Voip => {
                    Error::InvalidPayload(format!("{m} (VoIP notifications)"))
                }
                other => other,
            })
    }
}

/// `/3/device/` and the lowercase hex spelling of a device token as given: the
/// fast path for the common spelling (an even number of hex digits, nothing
/// else), the same text as decoding and re-encoding it; [`token::parse_hex`]
/// (and its messages) for anything else. One allocation.
fn device_path(device_token: &[u8]) -> Result<String> {
    const PREFIX: &str = "/3/device/";
    let plain = !device_token.is_empty()
        && device_token.len() % 2 == 0
        && const_hex::check_raw(device_token);
    let mut path = String::with_capacity(PREFIX.len() + device_token.len());
    path.push_str(PREFIX);
    if plain {
        // ASCII hex digits only: always UTF-8.
        let lower = std::str::from_utf8(device_token)
            .map_err(|e| Error::Internal(format!("hex digits are not text: {e}")))?;
        path.push_str(lower);
        path.make_ascii_lowercase();
    } else {
        path.push_str(&token::to_hex(&token::parse_hex(device_token, None)?));
    }
    Ok(path)
}

/// [`build_cached`] with a cache of its own: the tests' shorthand.
#[cfg(test)]
pub fn build(
    device_token: &[u8],
    payload: &[u8],
    opts: &SendOptions<'_>,
    default_topic: Option<&str>,
    topic_required: bool,
    new_apns_id: impl FnOnce() -> String,
) -> Result<Request> {
    build_cached(
        device_token,
        payload,
        opts,
        default_topic,
        topic_required,
        new_apns_id,
        &mut PayloadCache::default(),
    )
}

/// Validates one notification and builds its request. `new_apns_id` is called
/// when the caller gave no `apns-id` (the sender passes a v4 UUID generator).
///
/// `topic_required`: token auth needs a topic; certificate auth may omit it.
///
/// The payload check is remembered in `payloads` (the sender keeps one
/// [`PayloadCache`] for all its notifications).
pub fn build_cached(
    device_token: &[u8],
    payload: &[u8],
    opts: &SendOptions<'_>,
    default_topic: Option<&str>,
    topic_required: bool,
    new_apns_id: impl FnOnce() -> String,
    payloads: &mut PayloadCache,
) -> Result<Request> {
    let path = device_path(device_token)?;
    let push_type = match opts.push_type {
        Some(text) => PushType::parse(text)?,
        None => PushType::Alert,
    };
    let priority = match (opts.priority, push_type) {
        (None, PushType::Background) => 5,
        (None, _) => 10,
        (Some(10), PushType::Background) => {
            return Err(Error::InvalidOption(
                "priority 10 is not allowed with push_type background (APNs requires 5)".into(),
            ))
        }
        (Some(p), _) => super::check_priority(i64::from(p)).map_err(Error::InvalidOption)?,
    };
    let topic = match opts.topic.or(default_topic).map(str::trim) {
        Some("") | None if topic_required => {
            return Err(Error::InvalidOption(
                "a topic is needed with token auth: set the connection option 'topic' or the \
                 send option 'topic' (your app's bundle id)"
                    .into(),
            ))
        }
        Some("") | None => None,
        Some(t) => Some(payloads.topic(t, push_type)?),
    };
    let collapse_id = match opts.collapse_id {
        Some(c) if c.len() > MAX_COLLAPSE_ID => {
            return Err(Error::InvalidOption(format!(
                "collapse_id is {} bytes, over the limit of {MAX_COLLAPSE_ID} bytes",
                c.len()
            )))
        }
        Some("") => None,
        Some(c) => Some(header_text(c, "collapse_id")?.to_string()),
        None => None,
    };
    let apns_id = match opts.apns_id {
        Some(id) => parse_apns_id(id)?,
        None => new_apns_id(),
    };
    let payload = payloads.check(payload, push_type)?;
    Ok(Request {
        path,
        topic,
        push_type,
        priority,
        expiration: opts.expiration,
        collapse_id,
        apns_id,
        payload,
    })
}

/// Adds the suffix `push_type` requires, unless the topic already has it.
fn with_suffix(topic: &str, push_type: PushType) -> Result<String> {
    header_text(topic, "topic")?;
    if topic.contains(char::is_whitespace) {
        return Err(Error::InvalidOption(format!(
            "topic {topic:?} contains spaces (expected a bundle id like com.example.app)"
        )));
    }
    Ok(match push_type.topic_suffix() {
        Some(suffix) if !topic.ends_with(suffix) => format!("{topic}{suffix}"),
        _ => topic.to_string(),
    })
}

/// Header values must be visible ASCII.
fn header_text<'a>(value: &'a str, option: &str) -> Result<&'a str> {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(value)
    } else {
        Err(Error::InvalidOption(format!(
            "{option} must be printable ASCII, not {value:?}"
        )))
    }
}

/// Validates an `apns-id` (8-4-4-4-12 hex digits) and lowercases it.
pub fn parse_apns_id(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let ok = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(Error::InvalidOption(format!(
            "apns_id {text:?} is not a UUID (like 123e4567-e89b-12d3-a456-4266554400a0)"
        )))
    }
}

impl PayloadCache {
    /// `topic` with the suffix `push_type` requires, checked and allocated
    /// once while the same topic and push type repeat.
    fn topic(&mut self, topic: &str, push_type: PushType) -> Result<Arc<str>> {
        if let Some((last, ty, value)) = &self.topic {
            if *ty == push_type && last == topic {
                return Ok(Arc::clone(value));
            }
        }
        let value: Arc<str> = with_suffix(topic, push_type)?.into();
        self.topic = Some((topic.to_string(), push_type, Arc::clone(&value)));
        Ok(value)
    }
}

impl Request {
    /// The device token, lowercase hex (the end of [`Request::path`]).
    pub fn token(&self) -> &str {
        self.path.get(10..).unwrap_or_default()
    }

    /// The request headers, `authorization` included when `bearer` is given.
    /// (`:method` POST and `:path` are [`Request::path`].)
    pub fn headers(&self, bearer: Option<&str>) -> Vec<(&'static str, String)> {
        let mut h = Vec::with_capacity(8);
        if let Some(jwt) = bearer {
            h.push(("authorization", format!("bearer {jwt}")));
        }
        if let Some(topic) = &self.topic {
            h.push(("apns-topic", topic.to_string()));
        }
        h.push(("apns-push-type", self.push_type.as_str().to_string()));
        if self.priority != DEFAULT_PRIORITY {
            h.push(("apns-priority", self.priority.to_string()));
        }
        if let Some(exp) = self.expiration {
            h.push(("apns-expiration", exp.to_string()));
        }
        if let Some(c) = &self.collapse_id {
            h.push(("apns-collapse-id", c.clone()));
        }
        h.push(("apns-id", self.apns_id.clone()));
        h
    }
}

/// What a response says, body parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Apple's reason; empty for 200. Unknown reasons are kept as they came.
    pub reason: String,
    /// Milliseconds since the epoch: for 410, when the token stopped being valid.
    pub timestamp: Option<u64>,
}

impl Response {
    /// Parses a status and its body (empty, or `{"reason":…,"timestamp":…}`).
    /// A body that is not the expected JSON does not fail: its text becomes the
    /// reason, so nothing the server said is lost.
    pub fn parse(status: u16, body: &[u8]) -> Response {
        let mut reason = String::new();
        let mut timestamp = None;
        if !body.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(v) => {
                    if let Some(r) = v.get("reason").and_then(|r| r.as_str()) {
                        reason = r.to_string();
                    }
                    timestamp = v.get("timestamp").and_then(|t| {
                        t.as_u64()
                            .or_else(|| t.as_f64().map(|f| f as u64))
                            .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
                    });
                }
                Err(_) => {
                    let text =
                        String::from_utf8_lossy(body.get(..body.len().min(200)).unwrap_or(body));
                    reason = text.trim().to_string();
                }
            }
        }
        if reason.is_empty() && status != 200 {
            reason = default_reason(status).to_string();
        }
        Response {
            status,
            reason,
            timestamp,
        }
    }

    /// What the sender must do.
    pub fn disposition(&self) -> Disposition {
        classify(self.status, &self.reason)
    }
}

/// The reason used when a non-200 response carries none.
fn default_reason(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "BadPath",
        405 => "MethodNotAllowed",
        410 => "Unregistered",
        413 => "PayloadTooLarge",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        503 => "ServiceUnavailable",
        _ => "Unknown",
    }
}

/// What to do with a notification after its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// 200: delivered to APNs.
    Delivered,
    /// Never retry: report it as failed.
    Permanent,
    /// Retry after a back-off (429, 500, 503, other 5xx).
    Retry,
    /// `ExpiredProviderToken`: mint a new token and retry once.
    RefreshTokenAndRetry,
}

/// Classifies a status and reason.
pub fn classify(status: u16, reason: &str) -> Disposition {
    match status {
        200 => Disposition::Delivered,
        403 if reason == "ExpiredProviderToken" => Disposition::RefreshTokenAndRetry,
        429 | 500..=599 => Disposition::Retry,
        _ => Disposition::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const ID: &str = "123e4567-e89b-12d3-a456-4266554400a0";

    fn gen() -> String {
        "00000000-0000-4000-8000-000000000001".into()
    }

    #[test]
    fn device_path_takes_no_0x_prefix() {
        assert_eq!(device_path(b"A1b2").unwrap(), "/3/device/a1b2");
        let err = device_path(b"0xa1b2").unwrap_err().to_string();
        assert!(err.contains("'x' at character 2"), "{err}");
    }

    fn ok(opts: SendOptions<'_>) -> Request {
        build(
            TOKEN.as_bytes(),
            br#"{"aps":{}}"#,
            &opts,
            Some("com.example.app"),
            true,
            gen,
        )
        .unwrap()
    }

    #[test]
    fn defaults() {
        let r = ok(SendOptions::default());
        assert_eq!(r.path, format!("/3/device/{TOKEN}"));
        assert_eq!(r.topic.as_deref(), Some("com.example.app"));
        assert_eq!((r.push_type, r.priority), (PushType::Alert, 10));
        assert_eq!(r.apns_id, gen());
        assert_eq!(
            r.headers(Some("J.W.T")),
            vec![
                ("authorization", "bearer J.W.T".to_string()),
                ("apns-topic", "com.example.app".to_string()),
                ("apns-push-type", "alert".to_string()),
                // No apns-priority: 10 is APNs's default when it is absent.
                ("apns-id", gen()),
            ]
        );
        let explicit = ok(SendOptions {
            priority: Some(10),
            ..SendOptions::default()
        });
        assert!(explicit
            .headers(None)
            .iter()
            .all(|(n, _)| *n != "apns-priority"));
        let low = ok(SendOptions {
            priority: Some(5),
            ..SendOptions::default()
        });
        assert!(low
            .headers(None)
            .contains(&("apns-priority", "5".to_string())));
    }

    #[test]
    fn every_header_when_given() {
        let r = ok(SendOptions {
            topic: Some("com.other.app"),
            push_type: Some("Background"),
            priority: None,
            expiration: Some(1_700_000_000),
            collapse_id: Some("game-42"),
            apns_id: Some(&ID.to_uppercase()),
        });
        assert_eq!(
            r.headers(None),
            vec![
                ("apns-topic", "com.other.app".to_string()),
                ("apns-push-type", "background".to_string()),
                ("apns-priority", "5".to_string()),
                ("apns-expiration", "1700000000".to_string()),
                ("apns-collapse-id", "game-42".to_string()),
                ("apns-id", ID.to_string()),
            ]
        );
    }

    #[test]
    fn topic_suffix_per_push_type() {
        let cases = [
            ("alert", "com.example.app"),
            ("background", "com.example.app"),
            ("mdm", "com.example.app"),
            ("voip", "com.example.app.voip"),
            ("complication", "com.example.app.complication"),
            ("fileprovider", "com.example.app.pushkit.fileprovider"),
            ("location", "com.example.app.location-query"),
            ("liveactivity", "com.example.app.push-type.liveactivity"),
            ("pushtotalk", "com.example.app.voip-ptt"),
        ];
        for (push_type, want) in cases {
            for topic in ["com.example.app", want] {
                let r = ok(SendOptions {
                    push_type: Some(push_type),
                    topic: Some(topic),
                    ..Default::default()
                });
                assert_eq!(r.topic.as_deref(), Some(want), "{push_type} {topic}");
            }
        }
    }

    type PriorityCase<'a> = (
        Option<&'a str>,
        Option<u8>,
        std::result::Result<u8, &'a str>,
    );

    #[test]
    fn priorities() {
        let cases: &[PriorityCase<'_>] = &[
            (None, None, Ok(10)),
            (None, Some(5), Ok(5)),
            (Some("background"), None, Ok(5)),
            (Some("background"), Some(5), Ok(5)),
            (
                Some("background"),
                Some(10),
                Err("not allowed with push_type background"),
            ),
            (None, Some(1), Err("priority must be 10")),
        ];
        for (push_type, priority, want) in cases {
            let got = build(
                TOKEN.as_bytes(),
                b"{}",
                &SendOptions {
                    push_type: *push_type,
                    priority: *priority,
                    ..Default::default()
                },
                Some("t"),
                true,
                gen,
            );
            match (got, want) {
                (Ok(r), Ok(p)) => assert_eq!(r.priority, *p),
                (Err(e), Err(m)) => assert!(e.to_string().contains(m), "{e}"),
                (got, want) => panic!("{push_type:?} {priority:?}: {got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn rejections_name_the_problem() {
        let long = "c".repeat(65);
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(4100));
        let voip_ok = format!(r#"{{"a":"{}"}}"#, "x".repeat(5000));
        let voip_big = format!(r#"{{"a":"{}"}}"#, "x".repeat(5200));
        type Case<'a> = (&'a str, &'a [u8], SendOptions<'a>, Option<&'a str>, &'a str);
        let cases: Vec<Case<'_>> = vec![
            ("zz", b"{}", SendOptions::default(), Some("t"), "not hex"),
            (
                TOKEN,
                b"{}",
                SendOptions {
                    push_type: Some("carrier-pigeon"),
                    ..Default::default()
                },
                Some("t"),
                "unknown push_type \"carrier-pigeon\"",
            ),
            (
                TOKEN,
                b"{}",
                SendOptions {
                    collapse_id: Some(&long),
                    ..Default::default()
                },
                Some("t"),
                "collapse_id is 65 bytes",
            ),
            (
                TOKEN,
                b"{}",
                SendOptions {
                    apns_id: Some("not-a-uuid"),
                    ..Default::default()
                },
                Some("t"),
                "not a UUID",
            ),
            (
                TOKEN,
                b"{}",
                SendOptions {
                    apns_id: Some("123e4567xe89b-12d3-a456-4266554400a0"),
                    ..Default::default()
                },
                Some("t"),
                "not a UUID",
            ),
            (
                TOKEN,
                b"{}",
                SendOptions::default(),
                None,
                "a topic is needed with token auth",
            ),
            (
                TOKEN,
                b"{}",
                SendOptions {
                    topic: Some("a b"),
                    ..Default::default()
                },
                None,
                "contains spaces",
            ),
            (
                TOKEN,
                b"",
                SendOptions::default(),
                Some("t"),
                "payload is empty",
            ),
            (
                TOKEN,
                b"[1]",
                SendOptions::default(),
                Some("t"),
                "must be a JSON object",
            ),
            (
                TOKEN,
                big.as_bytes(),
                SendOptions::default(),
                Some("t"),
                "over the limit of 4096 bytes",
            ),
            (
                TOKEN,
                voip_big.as_bytes(),
                SendOptions {
                    push_type: Some("voip"),
                    ..Default::default()
                },
                Some("t"),
                "over the limit of 5120 bytes (VoIP",
            ),
        ];
        for (token, payload, opts, default_topic, want) in cases {
            let err = build(token.as_bytes(), payload, &opts, default_topic, true, gen)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{want}: {err}");
        }
        let voip = SendOptions {
            push_type: Some("voip"),
            ..Default::default()
        };
        build(
            TOKEN.as_bytes(),
            voip_ok.as_bytes(),
            &voip,
            Some("t"),
            true,
            gen,
        )
        .unwrap();
    }

    #[test]
    fn variable_length_tokens_and_optional_topic_with_certificates() {
        let r = build(
            b"<00ff 00ff>",
            b"{}",
            &SendOptions::default(),
            None,
            false,
            gen,
        )
        .unwrap();
        assert_eq!(
            (r.token(), r.path.as_str()),
            ("00ff00ff", "/3/device/00ff00ff")
        );
        assert_eq!(r.topic, None);
        assert!(r.headers(None).iter().all(|(n, _)| *n != "apns-topic"));
        let long = "ab".repeat(100);
        let r = build(
            long.as_bytes(),
            b"{}",
            &SendOptions::default(),
            None,
            false,
            gen,
        )
        .unwrap();
        assert_eq!(r.token(), long);
    }

    #[test]
    fn responses_and_what_to_do() {
        let cases: &[(u16, &str, &str, Option<u64>, Disposition)] = &[
            (200, "", "", None, Disposition::Delivered),
            (
                400,
                r#"{"reason":"BadDeviceToken"}"#,
                "BadDeviceToken",
                None,
                Disposition::Permanent,
            ),
            (
                400,
                r#"{"reason":"DeviceTokenNotForTopic"}"#,
                "DeviceTokenNotForTopic",
                None,
                Disposition::Permanent,
            ),
            (
                403,
                r#"{"reason":"Forbidden"}"#,
                "Forbidden",
                None,
                Disposition::Permanent,
            ),
            (
                403,
                r#"{"reason":"InvalidProviderToken"}"#,
                "InvalidProviderToken",
                None,
                Disposition::Permanent,
            ),
            (
                403,
                r#"{"reason":"ExpiredProviderToken"}"#,
                "ExpiredProviderToken",
                None,
                Disposition::RefreshTokenAndRetry,
            ),
            (
                410,
                r#"{"reason":"Unregistered","timestamp":1700000000123}"#,
                "Unregistered",
                Some(1_700_000_000_123),
                Disposition::Permanent,
            ),
            (
                410,
                r#"{"reason":"ExpiredToken"}"#,
                "ExpiredToken",
                None,
                Disposition::Permanent,
            ),
            (
                413,
                r#"{"reason":"PayloadTooLarge"}"#,
                "PayloadTooLarge",
                None,
                Disposition::Permanent,
            ),
            (
                429,
                r#"{"reason":"TooManyRequests"}"#,
                "TooManyRequests",
                None,
                Disposition::Retry,
            ),
            (
                500,
                r#"{"reason":"InternalServerError"}"#,
                "InternalServerError",
                None,
                Disposition::Retry,
            ),
            (
                503,
                r#"{"reason":"ServiceUnavailable"}"#,
                "ServiceUnavailable",
                None,
                Disposition::Retry,
            ),
            (
                503,
                r#"{"reason":"Shutdown"}"#,
                "Shutdown",
                None,
                Disposition::Retry,
            ),
            (
                400,
                r#"{"reason":"SomethingNewFromApple"}"#,
                "SomethingNewFromApple",
                None,
                Disposition::Permanent,
            ),
            (404, "", "BadPath", None, Disposition::Permanent),
            (
                502,
                "<html>bad gateway</html>",
                "<html>bad gateway</html>",
                None,
                Disposition::Retry,
            ),
            (429, "", "TooManyRequests", None, Disposition::Retry),
        ];
        for &(status, body, reason, timestamp, disposition) in cases {
            let r = Response::parse(status, body.as_bytes());
            assert_eq!(
                r,
                Response {
                    status,
                    reason: reason.into(),
                    timestamp
                },
                "{status} {body}"
            );
            assert_eq!(r.disposition(), disposition, "{status} {body}");
        }
    }

    #[test]
    fn apns_ids() {
        assert_eq!(parse_apns_id(&ID.to_uppercase()).unwrap(), ID);
        for bad in [
            "",
            "123e4567-e89b-12d3-a456-4266554400a",
            "123e4567-e89b-12d3-a456_4266554400a0",
            "g23e4567-e89b-12d3-a456-4266554400a0",
        ] {
            assert!(parse_apns_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn push_types_round_trip() {
        for t in PushType::ALL {
            assert_eq!(PushType::parse(t.as_str()).unwrap(), t);
        }
        assert_eq!(PushType::parse("VOIP").unwrap(), PushType::Voip);
    }
}

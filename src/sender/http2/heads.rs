//! Request heads and `apns-id`s, built as cheaply as the hot path needs: one
//! [`Heads`] per sender keeps the parts that repeat (authority, header names,
//! the provider token's `authorization` value, the topic) so that each request
//! clones them instead of validating and copying them again.

use std::fmt;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use crate::error::{Error, Result};
use crate::protocol::http2::{Request, DEFAULT_PRIORITY};

/// `apns-id`s: v4 UUIDs from the system's random source (as `Uuid::new_v4`),
/// read [`ApnsIds::BATCH`] bytes at a time instead of one `getrandom` call each.
#[derive(Default)]
pub(super) struct ApnsIds {
    random: Vec<u8>,
    used: usize,
}

impl ApnsIds {
    /// 64 ids.
    const BATCH: usize = 1024;

    pub(super) fn next(&mut self) -> String {
        if self.used + 16 > self.random.len() {
            self.random.resize(Self::BATCH, 0);
            self.used = 0;
            let rng = ring::rand::SystemRandom::new();
            if ring::rand::SecureRandom::fill(&rng, &mut self.random).is_err() {
                self.random.clear();
                return uuid::Uuid::new_v4().to_string();
            }
        }
        let mut bytes = [0u8; 16];
        if let Some(chunk) = self.random.get(self.used..self.used + 16) {
            bytes.copy_from_slice(chunk);
        }
        self.used += 16;
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .encode_lower(&mut text)
            .to_string()
    }
}

/// What every request head shares, built once: the authority, the header names,
/// and the last `authorization` and `apns-topic` values (the same on almost
/// every request), so that a request clones them instead of parsing and copying
/// them again. The headers are those of [`Request::headers`], in its order.
pub(super) struct Heads {
    authority: http::uri::Authority,
    authorization: HeaderName,
    topic: HeaderName,
    push_type: HeaderName,
    priority: HeaderName,
    expiration: HeaderName,
    collapse_id: HeaderName,
    apns_id: HeaderName,
    /// The provider token and its `authorization` value.
    bearer: Option<(Box<str>, HeaderValue)>,
    /// The last topic and its value.
    last_topic: Option<(std::sync::Arc<str>, HeaderValue)>,
}

fn bad_request(e: &dyn fmt::Display) -> Error {
    Error::InvalidOption(format!("cannot build the request: {e}"))
}

impl Heads {
    pub(super) fn new(authority: &str) -> Result<Heads> {
        Ok(Heads {
            authority: authority
                .parse()
                .map_err(|e: http::uri::InvalidUri| bad_request(&e))?,
            authorization: http::header::AUTHORIZATION,
            topic: HeaderName::from_static("apns-topic"),
            push_type: HeaderName::from_static("apns-push-type"),
            priority: HeaderName::from_static("apns-priority"),
            expiration: HeaderName::from_static("apns-expiration"),
            collapse_id: HeaderName::from_static("apns-collapse-id"),
            apns_id: HeaderName::from_static("apns-id"),
            bearer: None,
            last_topic: None,
        })
    }

    /// The request head for one attempt.
    pub(super) fn request(&mut self, r: &Request, jwt: Option<&str>) -> Result<http::Request<()>> {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(http::uri::Scheme::HTTPS);
        parts.authority = Some(self.authority.clone());
        parts.path_and_query =
            Some(http::uri::PathAndQuery::try_from(r.path.as_str()).map_err(|e| bad_request(&e))?);
        let uri = http::Uri::from_parts(parts).map_err(|e| bad_request(&e))?;
        let mut request = http::Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.reserve(7);
        if let Some(jwt) = jwt {
            let value = match &self.bearer {
                Some((last, value)) if **last == *jwt => value.clone(),
                _ => {
                    let value =
                        HeaderValue::from_maybe_shared(Bytes::from(format!("bearer {jwt}")))
                            .map_err(|e| bad_request(&e))?;
                    self.bearer = Some((jwt.into(), value.clone()));
                    value
                }
            };
            headers.insert(self.authorization.clone(), value);
        }
        if let Some(topic) = &r.topic {
            // Requests of one topic share its `Arc` (see `PayloadCache`): a
            // pointer comparison, the text only when they do not.
            let value = match &self.last_topic {
                Some((last, value)) if std::sync::Arc::ptr_eq(last, topic) || **last == **topic => {
                    value.clone()
                }
                _ => {
                    let value =
                        HeaderValue::from_maybe_shared(Bytes::copy_from_slice(topic.as_bytes()))
                            .map_err(|e| bad_request(&e))?;
                    self.last_topic = Some((std::sync::Arc::clone(topic), value.clone()));
                    value
                }
            };
            headers.insert(self.topic.clone(), value);
        }
        headers.insert(
            self.push_type.clone(),
            HeaderValue::from_static(r.push_type.as_str()),
        );
        if r.priority != DEFAULT_PRIORITY {
            let priority = match r.priority {
                5 => HeaderValue::from_static("5"),
                p => HeaderValue::from(u16::from(p)),
            };
            headers.insert(self.priority.clone(), priority);
        }
        if let Some(exp) = r.expiration {
            headers.insert(self.expiration.clone(), HeaderValue::from(exp));
        }
        if let Some(c) = &r.collapse_id {
            let value = HeaderValue::from_str(c).map_err(|e| bad_request(&e))?;
            headers.insert(self.collapse_id.clone(), value);
        }
        let mut id = HeaderValue::from_str(&r.apns_id).map_err(|e| bad_request(&e))?;
        // Never indexed: a new value on every request would only churn HPACK's
        // table and push out the values that repeat (topic, push type).
        id.set_sensitive(true);
        headers.insert(self.apns_id.clone(), id);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::http2::{self as wire, SendOptions};

    #[test]
    fn requests_carry_the_headers_and_the_authority() {
        let r = wire::build(
            b"00ff",
            b"{}",
            &SendOptions {
                push_type: Some("voip"),
                ..Default::default()
            },
            Some("com.example.app"),
            true,
            || "00000000-0000-4000-8000-000000000001".into(),
        )
        .unwrap();
        let req = Heads::new("api.push.apple.com")
            .unwrap()
            .request(&r, Some("a.b.c"))
            .unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(
            req.uri().to_string(),
            "https://api.push.apple.com/3/device/00ff"
        );
        let h = req.headers();
        assert_eq!(h["authorization"], "bearer a.b.c");
        assert_eq!(h["apns-topic"], "com.example.app.voip");
        assert_eq!(h["apns-push-type"], "voip");
        assert_eq!(h["apns-id"], "00000000-0000-4000-8000-000000000001");
    }

    #[test]
    fn request_heads_are_the_requests_headers() {
        let mut heads = Heads::new("127.0.0.1:2197").unwrap();
        let options = [
            SendOptions::default(),
            SendOptions {
                push_type: Some("background"),
                expiration: Some(1_700_000_000),
                collapse_id: Some("group-1"),
                apns_id: Some("123E4567-E89B-12D3-A456-4266554400A0"),
                ..Default::default()
            },
            SendOptions {
                topic: Some("com.other.app"),
                push_type: Some("voip"),
                priority: Some(5),
                ..Default::default()
            },
            SendOptions::default(),
        ];
        let mut ids = ApnsIds::default();
        for (i, opts) in options.iter().enumerate() {
            for jwt in [Some("a.b.c"), Some("d.e.f"), None] {
                let r = wire::build(
                    b"<A1B2 c3d4>",
                    br#"{"aps":{}}"#,
                    opts,
                    Some("com.example.app"),
                    false,
                    || ids.next(),
                )
                .unwrap();
                let req = heads.request(&r, jwt).unwrap();
                assert_eq!(req.method(), Method::POST);
                assert_eq!(
                    req.uri().to_string(),
                    "https://127.0.0.1:2197/3/device/a1b2c3d4"
                );
                let got: Vec<(String, String)> = req
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
                    .collect();
                let want: Vec<(String, String)> = r
                    .headers(jwt)
                    .into_iter()
                    .map(|(n, v)| (n.to_string(), v))
                    .collect();
                assert_eq!(got, want, "options #{i}, {jwt:?}");
            }
        }
    }

    #[test]
    fn apns_ids_are_distinct_v4_uuids() {
        let mut ids = ApnsIds::default();
        let all: std::collections::HashSet<String> = (0..1000).map(|_| ids.next()).collect();
        assert_eq!(all.len(), 1000);
        for id in &all {
            assert_eq!(wire::parse_apns_id(id).unwrap(), *id);
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }
}

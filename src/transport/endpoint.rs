//! Connection URLs: which protocol, host and port.

use crate::error::{Error, Result};

/// The two protocols `ApnsConnection` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `ssl://` or `tls://`: the binary provider protocol.
    Binary,
    /// `https://`: the HTTP/2 provider API.
    Http2,
}

/// A parsed connection URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// Parses `ssl://host:port`, `tls://host:port` or `https://host[:port][/]`.
    pub fn parse(url: &str) -> Result<Endpoint> {
        let bad = |why: &str| Error::Config(format!("invalid gateway URL '{url}': {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected ssl://host:port, tls://host:port or https://host"))?;
        let protocol = match scheme.to_ascii_lowercase().as_str() {
            "ssl" | "tls" => Protocol::Binary,
            "https" => Protocol::Http2,
            other => {
                return Err(bad(&format!(
                    "unsupported scheme '{other}' (use ssl, tls or https)"
                )))
            }
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('/') || authority.contains('?') || authority.contains('@') {
            return Err(bad("only a host and a port may follow the scheme"));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (h, tail) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("unclosed '['"))?;
            (h, tail.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        let port = match (port, protocol) {
            (Some(p), _) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad(&format!("'{p}' is not a port number")))?,
            (None, Protocol::Http2) => 443,
            (None, Protocol::Binary) => return Err(bad("the port is missing (Apple's is 2195)")),
        };
        Ok(Endpoint {
            protocol,
            host: host.to_string(),
            port,
        })
    }

    /// `host:port`, as messages show it.
    pub fn describe(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_urls() {
        let cases = [
            (
                "ssl://gateway.push.apple.com:2195",
                Protocol::Binary,
                "gateway.push.apple.com",
                2195,
            ),
            (
                "tls://127.0.0.1:40000",
                Protocol::Binary,
                "127.0.0.1",
                40000,
            ),
            (
                "https://api.push.apple.com",
                Protocol::Http2,
                "api.push.apple.com",
                443,
            ),
            (
                "https://api.sandbox.push.apple.com:2197/",
                Protocol::Http2,
                "api.sandbox.push.apple.com",
                2197,
            ),
            ("ssl://[::1]:2195", Protocol::Binary, "::1", 2195),
        ];
        for (url, protocol, host, port) in cases {
            let e = Endpoint::parse(url).unwrap();
            assert_eq!(
                (e.protocol, e.host.as_str(), e.port),
                (protocol, host, port),
                "{url}"
            );
        }
    }

    #[test]
    fn rejects_with_the_url_and_the_reason() {
        let cases = [
            ("gateway.push.apple.com:2195", "expected ssl://host:port"),
            ("http://x:1", "unsupported scheme 'http'"),
            ("ssl://x", "the port is missing"),
            ("ssl://x:99999", "'99999' is not a port number"),
            ("ssl://:2195", "the host is empty"),
            ("https://x/3/device", "only a host and a port"),
        ];
        for (url, want) in cases {
            let err = Endpoint::parse(url).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains(url), "{url}: {err}");
        }
    }
}

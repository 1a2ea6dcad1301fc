//! The `$options` arrays of `ApnsConnection`: names, types and ranges.
//!
//! Each option's PHP type and range is checked here, with a message that names
//! the option and the method, before anything is sent. Which names each call
//! takes is [`crate::option_names`]; what the values mean (and the priority's
//! one check, [`check_priority`]) is the core's business: this module only
//! turns PHP values into the core's option structs
//! ([`SendOptions`] is [`crate::sender::notification`]'s).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use zeroize::Zeroizing;

use crate::error::CredentialsProblem;
use crate::protocol::binary::Command;
use crate::protocol::check_priority;
pub use crate::sender::notification::SendOptions;
use crate::transport::endpoint::Protocol;
use crate::Error;

use crate::option_names::{check_connect_option, check_send_option};
pub use crate::option_names::{CONNECT_OPTIONS, FEEDBACK_OPTIONS, SEND_MANY_OPTIONS, SEND_OPTIONS};

/// Default for `timeout`, in seconds.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for `window`.
const DEFAULT_WINDOW: usize = 100_000;
/// Default for `max_streams` (Apple's servers allow about 1000).
pub const DEFAULT_MAX_STREAMS: usize = 1000;

/// Validated connection options. Never `Debug`: it holds the passphrase.
pub struct ConnectOptions {
    /// Absolute, existing paths.
    pub local_cert: Option<String>,
    pub local_pk: Option<String>,
    pub passphrase: Option<Zeroizing<String>>,
    pub cafile: Option<String>,
    pub peer_name: Option<String>,
    pub timeout: Duration,
    /// HTTP/2 token auth: a resolved `.p8` path or the key's PEM text.
    pub auth_key: Option<Zeroizing<String>>,
    pub key_id: Option<String>,
    pub team_id: Option<String>,
    pub topic: Option<String>,
    /// `Some("")` for `true`, `Some(id)` for an id string.
    pub persistent: Option<String>,
    pub window: usize,
    /// HTTP/2: our cap on streams in flight (the server's limit applies too).
    pub max_streams: usize,
    /// HTTP/2: connections in the pool.
    pub connections: usize,
}

impl ConnectOptions {
    /// Reads `$options` of `method` (`ApnsConnection::__construct`…) for a gateway
    /// speaking `protocol`; `known` is the list of accepted names.
    pub fn parse(
        table: Option<&ZendHashTable>,
        method: &str,
        known: &[&str],
        protocol: Protocol,
    ) -> Result<ConnectOptions, Error> {
        let mut o = ConnectOptions {
            local_cert: None,
            local_pk: None,
            passphrase: None,
            cafile: None,
            peer_name: None,
            timeout: DEFAULT_TIMEOUT,
            auth_key: None,
            key_id: None,
            team_id: None,
            topic: None,
            persistent: None,
            window: DEFAULT_WINDOW,
            max_streams: DEFAULT_MAX_STREAMS,
            connections: 1,
        };
        let Some(table) = table else {
            return Ok(o);
        };
        for (name, value) in entries(table, method, known, Error::Config)? {
            check_connect_option(&name, protocol, method)?;
            let config = |m: String| Error::Config(m);
            match name.as_str() {
                "local_cert" => o.local_cert = Some(file(&name, value)?),
                "local_pk" => o.local_pk = Some(file(&name, value)?),
                "cafile" => o.cafile = Some(file(&name, value)?),
                "passphrase" => {
                    o.passphrase = Some(Zeroizing::new(text(&name, value, config)?));
                }
                "peer_name" => o.peer_name = Some(non_empty(&name, value)?),
                "timeout" => o.timeout = seconds(&name, value, false, config)?,
                // Still accepted (and checked) so that existing code keeps working,
                // but unused: settlement is by proof, time alone settles nothing.
                "grace" => {
                    seconds(&name, value, true, config)?;
                }
                "window" => {
                    let w = int(
                        &name,
                        value,
                        1,
                        10_000_000,
                        "an int from 1 to 10000000",
                        config,
                    )?;
                    o.window = usize::try_from(w).unwrap_or(DEFAULT_WINDOW);
                }
                "max_streams" => {
                    let n = int(&name, value, 1, 10_000, "an int from 1 to 10000", config)?;
                    o.max_streams = usize::try_from(n).unwrap_or(DEFAULT_MAX_STREAMS);
                }
                "connections" => {
                    let max = crate::sender::http2::MAX_CONNECTIONS;
                    let n = int(
                        &name,
                        value,
                        1,
                        max as i64,
                        &format!("an int from 1 to {max}"),
                        config,
                    )?;
                    o.connections = usize::try_from(n).unwrap_or(1);
                }
                "auth_key" => {
                    let key = Zeroizing::new(text(&name, value, config)?);
                    o.auth_key = Some(if key.trim_start().starts_with("-----BEGIN") {
                        key
                    } else {
                        Zeroizing::new(resolve_file(&name, &key)?)
                    });
                }
                "key_id" => o.key_id = Some(non_empty(&name, value)?),
                "team_id" => o.team_id = Some(non_empty(&name, value)?),
                "topic" => o.topic = Some(non_empty(&name, value)?),
                "persistent" => {
                    o.persistent = if let Some(on) = value.bool() {
                        on.then(String::new)
                    } else if value.is_string() {
                        Some(text(&name, value, config)?)
                    } else {
                        return Err(Error::Config(format!(
                            "option 'persistent' must be true, false or an id string, got {}",
                            type_name(value)
                        )));
                    };
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

impl SendOptions {
    /// Reads `$options` of `send`, `pack` or `sendMany` for a connection speaking
    /// `protocol`. Returns the options and, for `sendMany`, the `progress` callable.
    pub fn parse<'a>(
        table: Option<&'a ZendHashTable>,
        method: &str,
        known: &[&str],
        protocol: Protocol,
    ) -> Result<(SendOptions, Option<ZendCallable<'a>>), Error> {
        let mut o = SendOptions::default();
        let mut progress = None;
        let Some(table) = table else {
            return Ok((o, progress));
        };
        let invalid = |m: String| Error::InvalidOption(m);
        for (name, value) in entries(table, method, known, Error::InvalidOption)? {
            check_send_option(&name, protocol, method)?;
            match name.as_str() {
                "identifier" => {
                    o.identifier = Some(uint32(&name, value, "an int from 0 to 4294967295")?);
                }
                "expiry" => o.expiry = uint32(&name, value, "a unix time from 0 to 4294967295")?,
                "priority" => {
                    let p = int(
                        &name,
                        value,
                        i64::MIN,
                        i64::MAX,
                        "an int (10 or 5)",
                        invalid,
                    )?;
                    o.priority = Some(check_priority(p).map_err(Error::InvalidOption)?);
                }
                "command" => {
                    let c = int(
                        &name,
                        value,
                        i64::MIN,
                        i64::MAX,
                        "an int (0, 1 or 2)",
                        invalid,
                    )?;
                    o.command = u8::try_from(c).ok().and_then(Command::from_byte).ok_or_else(|| {
                        Error::InvalidOption(format!(
                            "option 'command' must be 0 (simple), 1 (enhanced) or 2 (framed), got {c}"
                        ))
                    })?;
                }
                "topic" => o.topic = Some(text(&name, value, invalid)?),
                "push_type" => o.push_type = Some(text(&name, value, invalid)?),
                "collapse_id" => o.collapse_id = Some(text(&name, value, invalid)?),
                "apns_id" => o.apns_id = Some(text(&name, value, invalid)?),
                "progress" => {
                    progress = Some(ZendCallable::new(value).map_err(|_| {
                        Error::InvalidOption(format!(
                            "option 'progress' of {method} must be a callable, got {}",
                            type_name(value)
                        ))
                    })?);
                }
                _ => {}
            }
        }
        Ok((o, progress))
    }
}

/// The entries of an options array, refusing unknown names and integer keys;
/// references are followed and `null` values left out ("not set").
fn entries<'a>(
    table: &'a ZendHashTable,
    method: &str,
    known: &[&str],
    error: fn(String) -> Error,
) -> Result<Vec<(String, &'a Zval)>, Error> {
    let mut out = Vec::with_capacity(table.len());
    let mut iter = table.iter();
    while let Some((key, value)) = iter.next_zval() {
        let name = match (key.zend_str(), key.long()) {
            (Some(s), _) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
            (None, Some(index)) => {
                return Err(error(format!(
                    "the options of {method} must be named (like ['timeout' => 5]), got a value at index {index}"
                )))
            }
            (None, None) => continue,
        };
        if !known.contains(&name.as_str()) {
            return Err(error(format!(
                "unknown option '{name}' for {method} (known: {})",
                known.join(", ")
            )));
        }
        let value = value.dereference();
        // `'cafile' => null` means "not set", as with stream contexts.
        if !value.is_null() {
            out.push((name, value));
        }
    }
    Ok(out)
}

/// A per-notification option that fits the protocol's 32-bit fields.
fn uint32(name: &str, value: &Zval, want: &str) -> Result<u32, Error> {
    let n = int(
        name,
        value,
        0,
        i64::from(u32::MAX),
        want,
        Error::InvalidOption,
    )?;
    u32::try_from(n).map_err(|_| Error::InvalidOption(format!("option '{name}' must be {want}")))
}

/// A string option that must be UTF-8. Never echoes the value (it may be secret).
fn text(name: &str, value: &Zval, error: fn(String) -> Error) -> Result<String, Error> {
    let Some(s) = value.zend_str() else {
        return Err(error(format!(
            "option '{name}' must be a string, got {}",
            type_name(value)
        )));
    };
    s.as_str()
        .map(str::to_string)
        .map_err(|_| error(format!("option '{name}' must be valid UTF-8 text")))
}

/// A non-empty, non-secret string option.
fn non_empty(name: &str, value: &Zval) -> Result<String, Error> {
    let s = text(name, value, Error::Config)?;
    if s.is_empty() {
        return Err(Error::Config(format!("option '{name}' is empty")));
    }
    Ok(s)
}

/// A file option: a path, resolved against the current directory like PHP's
/// `realpath()`, that must name a readable file.
fn file(name: &str, value: &Zval) -> Result<String, Error> {
    let path = text(name, value, Error::Config)?;
    resolve_file(name, &path)
}

/// Resolves `path` against the current working directory and checks that it is
/// a readable file; the message names the path as resolved.
pub fn resolve_file(name: &str, path: &str) -> Result<String, Error> {
    if path.is_empty() {
        return Err(Error::Config(format!("option '{name}' is an empty path")));
    }
    let given = Path::new(path);
    let absolute: PathBuf = if given.is_absolute() {
        given.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(given),
            Err(_) => given.to_path_buf(),
        }
    };
    let shown = absolute.display().to_string();
    let unreadable = |cause: String| {
        let option = name.to_string();
        Error::credentials(&shown, CredentialsProblem::Inaccessible { option, cause })
    };
    let real = std::fs::canonicalize(&absolute).map_err(|e| unreadable(io_reason(&e)))?;
    if real.is_dir() {
        return Err(unreadable("it is a directory".into()));
    }
    std::fs::File::open(&real).map_err(|e| unreadable(io_reason(&e)))?;
    real.into_os_string()
        .into_string()
        .map_err(|_| Error::Config(format!("{name} path '{shown}' is not valid UTF-8")))
}

/// An I/O error without Rust's "(os error N)" suffix.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// Seconds given as an int or a float: positive (or zero when `zero_ok`) and finite.
pub fn seconds(
    name: &str,
    value: &Zval,
    zero_ok: bool,
    error: fn(String) -> Error,
) -> Result<Duration, Error> {
    let secs = match (value.long(), value.double()) {
        (Some(l), _) => l as f64,
        (None, Some(d)) => d,
        _ => {
            return Err(error(format!(
                "option '{name}' must be a number of seconds (int or float), got {}",
                type_name(value)
            )))
        }
    };
    let ok = secs.is_finite() && (secs > 0.0 || (zero_ok && secs == 0.0));
    let duration = if ok {
        Duration::try_from_secs_f64(secs).ok()
    } else {
        None
    };
    duration.ok_or_else(|| {
        let want = if zero_ok {
            "zero or more"
        } else {
            "more than zero"
        };
        error(format!(
            "option '{name}' must be {want} seconds, got {secs}"
        ))
    })
}

/// An int option within `min..=max`; `want` describes the range for the message.
fn int(
    name: &str,
    value: &Zval,
    min: i64,
    max: i64,
    want: &str,
    error: fn(String) -> Error,
) -> Result<i64, Error> {
    match value.long() {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(v) => Err(error(format!("option '{name}' must be {want}, got {v}"))),
        None => Err(error(format!(
            "option '{name}' must be {want}, got {}",
            type_name(value)
        ))),
    }
}

/// The PHP type of a value, as PHP's own messages name it.
pub fn type_name(value: &Zval) -> String {
    let value = value.dereference();
    if value.is_null() {
        "null".into()
    } else if value.is_bool() {
        "bool".into()
    } else if value.is_long() {
        "int".into()
    } else if value.is_double() {
        "float".into()
    } else if value.is_string() {
        "string".into()
    } else if value.is_array() {
        "array".into()
    } else if let Some(object) = value.object() {
        object.get_class_name().unwrap_or_else(|_| "object".into())
    } else {
        value.get_type().to_string()
    }
}

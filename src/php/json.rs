//! `$payload` as bytes: a JSON string as given, or a PHP array encoded to JSON.
//!
//! Arrays encode like `json_encode($payload, JSON_UNESCAPED_UNICODE |
//! JSON_UNESCAPED_SLASHES)`: keys in PHP order, lists (keys 0..n) as JSON arrays,
//! everything else as objects, `stdClass` and `JsonSerializable` objects as PHP
//! encodes them. What PHP would silently mangle is refused instead, naming the key:
//! strings that are not UTF-8, NAN and INF, other objects, resources. Whether the
//! result is a payload Apple accepts is checked by `protocol::payload::validate`.

use std::io::Write;

use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::ClassEntry;

use super::exception::{pending, php_exception_pending};
use super::options::type_name;
use crate::Error;

/// How deep arrays may nest (PHP's `json_encode` default).
const MAX_DEPTH: usize = 512;

/// The payload bytes of `$payload` (`string|array`).
pub fn payload(value: &Zval) -> Result<Vec<u8>, Error> {
    let value = value.dereference();
    if let Some(s) = value.zend_str() {
        return Ok(s.as_bytes().to_vec());
    }
    if value.is_array() || value.is_object() {
        let mut out = Vec::with_capacity(256);
        let mut path = Vec::new();
        encode(value, &mut out, &mut path)?;
        return Ok(out);
    }
    Err(Error::InvalidPayload(format!(
        "payload must be a JSON string or an array, got {}",
        type_name(value)
    )))
}

/// One step of the path to a value, for messages.
enum Step {
    Index(i64),
    Key(String),
}

fn show(path: &[Step]) -> String {
    if path.is_empty() {
        return "the payload".into();
    }
    let mut s = String::from("payload");
    for step in path {
        match step {
            Step::Index(i) => s.push_str(&format!("[{i}]")),
            Step::Key(k) => s.push_str(&format!("['{k}']")),
        }
    }
    s
}

fn encode(value: &Zval, out: &mut Vec<u8>, path: &mut Vec<Step>) -> Result<(), Error> {
    let value = value.dereference();
    let value = value.indirect().unwrap_or(value);
    if path.len() > MAX_DEPTH {
        return Err(Error::InvalidPayload(format!(
            "{} nests deeper than {MAX_DEPTH} levels (a recursive array?)",
            show(path)
        )));
    }
    if value.is_null() {
        out.extend_from_slice(b"null");
    } else if let Some(b) = value.bool() {
        out.extend_from_slice(if b { b"true" } else { b"false" });
    } else if let Some(l) = value.long() {
        let _ = write!(out, "{l}");
    } else if let Some(d) = value.double() {
        if !d.is_finite() {
            return Err(Error::InvalidPayload(format!(
                "{} is {d}, which JSON cannot represent",
                show(path)
            )));
        }
        string_or_number(out, &d);
    } else if let Some(s) = value.zend_str() {
        let text = s.as_str().map_err(|_| {
            Error::InvalidPayload(format!(
                "{} is not valid UTF-8 (JSON strings must be UTF-8)",
                show(path)
            ))
        })?;
        string_or_number(out, &text);
    } else if let Some(table) = value.array() {
        encode_table(table, false, out, path)?;
    } else if let Some(object) = value.object() {
        let class = object.get_class_name().unwrap_or_default();
        if let Some(serializable) = ClassEntry::try_find("JsonSerializable") {
            if object.instance_of(serializable) {
                let data = value.try_call_method("jsonSerialize", vec![]);
                if php_exception_pending() {
                    return Err(pending());
                }
                let data = data.map_err(|e| {
                    Error::InvalidPayload(format!(
                        "{class}::jsonSerialize() for {} failed: {e}",
                        show(path)
                    ))
                })?;
                path.push(Step::Key(format!("{class}::jsonSerialize()")));
                encode(&data, out, path)?;
                path.pop();
                return Ok(());
            }
        }
        if class.eq_ignore_ascii_case("stdClass") {
            let properties = object.get_properties().map_err(|e| {
                Error::InvalidPayload(format!("{} (stdClass) cannot be read: {e}", show(path)))
            })?;
            return encode_table(properties, true, out, path);
        }
        return Err(Error::InvalidPayload(format!(
            "{} is an object of class {class}; use arrays, stdClass or JsonSerializable",
            show(path)
        )));
    } else {
        return Err(Error::InvalidPayload(format!(
            "{} is a {}, which JSON cannot represent",
            show(path),
            type_name(value)
        )));
    }
    Ok(())
}

/// Writes a string or a float the way serde_json does (escaped, shortest round-trip).
fn string_or_number<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serializing a &str or a finite f64 into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn encode_table(
    table: &ZendHashTable,
    force_object: bool,
    out: &mut Vec<u8>,
    path: &mut Vec<Step>,
) -> Result<(), Error> {
    let is_list = !force_object && {
        let mut iter = table.iter();
        let mut expected = 0i64;
        let mut list = true;
        while let Some((key, _)) = iter.next_zval() {
            if key.long() != Some(expected) {
                list = false;
                break;
            }
            expected += 1;
        }
        list
    };
    out.push(if is_list { b'[' } else { b'{' });
    let mut iter = table.iter();
    let mut first = true;
    while let Some((key, item)) = iter.next_zval() {
        let target = item.indirect().unwrap_or(item);
        if target.get_type() == DataType::Undef {
            continue; // an unset declared property
        }
        if !first {
            out.push(b',');
        }
        first = false;
        let step = match (key.long(), key.zend_str()) {
            (Some(i), _) => Step::Index(i),
            (None, Some(s)) => match s.as_str() {
                Ok(k) => Step::Key(k.to_string()),
                Err(_) => {
                    return Err(Error::InvalidPayload(format!(
                        "a key of {} is not valid UTF-8 (JSON strings must be UTF-8)",
                        show(path)
                    )))
                }
            },
            (None, None) => Step::Key(String::new()),
        };
        if !is_list {
            match &step {
                Step::Index(i) => string_or_number(out, &i.to_string()),
                Step::Key(k) => string_or_number(out, k.as_str()),
            }
            out.push(b':');
        }
        path.push(step);
        encode(item, out, path)?;
        path.pop();
    }
    out.push(if is_list { b']' } else { b'}' });
    Ok(())
}

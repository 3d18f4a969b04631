//! Parameters: checked against the operation's metadata before any request, on both paths.
//!
//! - Typed calls serialize their generated params struct to a JSON object and check it
//!   ([`validate`], [`to_map`]).
//! - `execute` checks the caller's untyped object ([`check_untyped`]): every key must be a
//!   parameter of the operation and every value of the right JSON type, before the same
//!   checks as the typed path.
//!
//! The checks: required parameters present, integers within `minimum`/`maximum`, strings
//! among the `enum` values and matching the `pattern`, path values usable as one path
//! segment. The map that comes out is what the transports send: `null`s dropped, and the
//! defaults of required parameters filled in (they are always sent).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::meta::{OperationMeta, ParamKind, ParamLocation, ParamMeta};
use crate::Error;

fn allowed_range(p: &ParamMeta) -> String {
    match (p.minimum, p.maximum) {
        (Some(a), Some(b)) => format!("an integer from {a} to {b}"),
        (Some(a), None) => format!("an integer of at least {a}"),
        (None, Some(b)) => format!("an integer of at most {b}"),
        (None, None) => "an integer".to_string(),
    }
}

/// Checks a typed params struct against `op` (bounds, allowed values, patterns, path values).
pub fn validate<P: Serialize>(op: &OperationMeta, params: &P) -> Result<(), Error> {
    to_map(op, params).map(|_| ())
}

/// A typed params struct as the JSON object sent on either transport, checked.
pub fn to_map<P: Serialize>(op: &OperationMeta, params: &P) -> Result<Map<String, Value>, Error> {
    finish(op, given(params)?)
}

/// The parameters the caller set (a typed params struct as a JSON object, before defaults).
pub(crate) fn given<P: Serialize>(params: &P) -> Result<Map<String, Value>, Error> {
    let value = serde_json::to_value(params)
        .map_err(|e| Error::invalid("params", format!("cannot encode the parameters: {e}")))?;
    let map = match value {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => {
            return Err(Error::invalid(
                "params",
                format!("the parameters must encode as a JSON object, not {other}"),
            ))
        }
    };
    Ok(map)
}

/// Checks `execute`'s untyped params: unknown keys and wrong JSON types are refused (the
/// message lists what is valid), then the same checks as the typed path.
pub fn check_untyped(
    op: &OperationMeta,
    params: Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let valid = || {
        if op.params.is_empty() {
            "it takes no parameters".to_string()
        } else {
            format!(
                "valid parameters: {}",
                op.params
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    for (key, value) in &params {
        let Some(p) = op.param(key) else {
            // A free-form body takes any other key as a body field.
            if op.body == crate::meta::BodyKind::FreeForm {
                continue;
            }
            return Err(Error::invalid(
                format!("params.{key}"),
                format!(
                    "{}.{} has no parameter `{key}`; {}",
                    op.entity,
                    op.action,
                    valid()
                ),
            ));
        };
        let ok = p.kind.accepts(value) || (value.is_null() && !p.required);
        if !ok {
            let expected = match p.kind {
                ParamKind::Integer => allowed_range(p),
                ParamKind::Array { items, .. } => format!("an array of {}s", items.json_type()),
                ParamKind::Object => "an object of scalar values".to_string(),
                other => format!("a {}", other.json_type()),
            };
            return Err(Error::invalid(
                format!("params.{key}"),
                format!("must be {expected}, got {value}"),
            ));
        }
    }
    for p in op.params {
        if p.required && p.default.is_none() && !params.contains_key(p.name) {
            return Err(Error::invalid(
                format!("params.{}", p.name),
                format!(
                    "{}.{} requires `{}` ({})",
                    op.entity, op.action, p.name, p.description
                ),
            ));
        }
    }
    finish(op, params)
}

/// Drops `null`s, fills the defaults of required parameters, and checks every value.
pub(crate) fn finish(
    op: &OperationMeta,
    mut map: Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    map.retain(|_, v| !v.is_null());
    // Defaults travel for required parameters, for every header (API versions and the like
    // are declared as defaulted headers) and for every body property (defaults tell apart
    // operations that share an endpoint), except an `update`'s optional body properties: a
    // partial update sends only what the caller changes, never a default that would reset
    // a field.
    for p in op.params {
        let body_default = p.location == ParamLocation::Body
            && (p.required || op.action != crate::meta::Action::Update);
        if (p.required || p.location == ParamLocation::Header || body_default)
            && !map.contains_key(p.name)
        {
            if let Some(d) = p.default.and_then(|d| serde_json::from_str(d).ok()) {
                map.insert(p.name.to_string(), d);
            }
        }
    }
    for p in op.params {
        match map.get(p.name) {
            Some(v) => check_value(op, p, v)?,
            None if p.required => {
                return Err(Error::invalid(
                    p.name,
                    format!(
                        "{}.{} requires `{}` ({})",
                        op.entity, op.action, p.name, p.description
                    ),
                ))
            }
            None => {}
        }
    }
    Ok(map)
}

fn check_value(op: &OperationMeta, p: &ParamMeta, value: &Value) -> Result<(), Error> {
    if let (ParamKind::Array { items, .. }, Some(list)) = (p.kind, value.as_array()) {
        let item = ParamMeta {
            kind: *items,
            location: ParamLocation::Query,
            ..*p
        };
        for v in list {
            if !items.accepts(v) {
                return Err(Error::invalid(
                    p.name,
                    format!(
                        "every item of {} must be a {}, got {v}",
                        p.name,
                        items.json_type()
                    ),
                ));
            }
            check_value(op, &item, v)?;
        }
        return Ok(());
    }
    if p.location == ParamLocation::Header {
        if let Some(text) = value.as_str() {
            if text.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
                return Err(Error::invalid(
                    p.name,
                    format!("the {} header cannot hold control characters (a line break would end the header)", p.name),
                ));
            }
        }
    }
    if let (ParamKind::Integer, Some(v)) = (p.kind, value.as_i64()) {
        let low = p.minimum.is_some_and(|m| v < m);
        let high = p.maximum.is_some_and(|m| v > m);
        if low || high {
            return Err(Error::invalid(
                p.name,
                format!(
                    "{v} is out of range for {}.{}: {} must be {}",
                    op.entity,
                    op.action,
                    p.name,
                    allowed_range(p)
                ),
            ));
        }
    }
    let Some(text) = value.as_str() else {
        return Ok(());
    };
    if p.location == ParamLocation::Path {
        if text.trim().is_empty() {
            return Err(Error::invalid(
                p.name,
                format!(
                    "the {} of {}.{} is empty; pass the record's id",
                    p.name, op.entity, op.action
                ),
            ));
        }
        // Every character is percent-encoded into one segment, but a URL resolves `.` and
        // `..` as dot-segments, so they could still change the path.
        if text == "." || text == ".." || text.chars().any(char::is_control) {
            return Err(Error::invalid(
                p.name,
                format!(
                    "{text:?} cannot be a {} (it would change the request path); pass the record's id",
                    p.name
                ),
            ));
        }
    }
    if let Some(pattern) = p.pattern {
        let matches = pattern_matches(pattern, text);
        if !matches {
            return Err(Error::invalid(
                p.name,
                format!(
                    "{text:?} is not a valid {} for {}.{}: it must match the pattern {pattern}{}",
                    p.name,
                    op.entity,
                    op.action,
                    if p.description.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", p.description.trim_end_matches('.'))
                    }
                ),
            ));
        }
    }
    if let ParamKind::String { allowed } = p.kind {
        if !allowed.is_empty() && !allowed.contains(&text) {
            return Err(Error::invalid(
                p.name,
                format!(
                    "{text:?} is not allowed; use one of: {}",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `text` matches `pattern`; each pattern is compiled once. A pattern that does not
/// compile (the generator checks them, so only a hand-built `ParamMeta`) matches nothing.
fn pattern_matches(pattern: &'static str, text: &str) -> bool {
    use std::collections::HashMap;
    use std::sync::{OnceLock, RwLock};
    static COMPILED: OnceLock<RwLock<HashMap<&'static str, Option<regex_lite::Regex>>>> =
        OnceLock::new();
    let cache = COMPILED.get_or_init(Default::default);
    if let Some(re) = cache.read().ok().and_then(|c| c.get(pattern).cloned()) {
        return re.is_some_and(|re| re.is_match(text));
    }
    let re = regex_lite::Regex::new(pattern).ok();
    let matches = re.as_ref().is_some_and(|re| re.is_match(text));
    if let Ok(mut c) = cache.write() {
        c.insert(pattern, re);
    }
    matches
}

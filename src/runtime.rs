//! Helpers the generated entity layer calls: parameter checks against the spec's bounds, the
//! untyped `execute` path (params parsing, envelopes). Not public API.

use serde::de::DeserializeOwned;
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

/// Checks an integer parameter against the spec's `minimum`/`maximum`.
pub(crate) fn check_int(op: &OperationMeta, idx: usize, value: Option<i64>) -> Result<(), Error> {
    let p = &op.params[idx];
    let Some(v) = value else { return Ok(()) };
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
    Ok(())
}

/// Checks a string parameter: allowed values; path parameters must be a usable id.
pub(crate) fn check_str(op: &OperationMeta, idx: usize, value: Option<&str>) -> Result<(), Error> {
    let p = &op.params[idx];
    let Some(v) = value else { return Ok(()) };
    if p.location == ParamLocation::Path {
        if v.trim().is_empty() {
            return Err(Error::invalid(
                p.name,
                format!(
                    "the {} of {}.{} is empty; pass the record's id",
                    p.name, op.entity, op.action
                ),
            ));
        }
        // incident.io ids are ULIDs, numbers or Slack-style ids. Anything else cannot be a
        // record id, and characters such as `/`, `?`, `#`, `%` or `..` could change the request
        // path or query; refuse them here (progenitor also percent-encodes path segments).
        let bad = v
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')));
        if bad.is_some() || v.contains("..") || v == "." {
            let what = match bad {
                Some(c) => format!("contains {c:?}"),
                None => "contains `..`".to_string(),
            };
            return Err(Error::invalid(
                p.name,
                format!(
                    "{v:?} {what}; a {} may contain only ASCII letters, digits, `-`, `_`, `.` and `:` (incident.io ids look like 01FDAG4SAP5TYPT98WGR2N7W91)",
                    p.name
                ),
            ));
        }
    }
    if let ParamKind::String { allowed } = p.kind {
        if !allowed.is_empty() && !allowed.contains(&v) {
            return Err(Error::invalid(
                p.name,
                format!("{v:?} is not allowed; use one of: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Parses the untyped params of `execute` into the operation's params type, after checking
/// that every key is a parameter of the operation and every value has the right JSON type.
pub(crate) fn parse_params<P: DeserializeOwned>(
    op: &OperationMeta,
    params: Map<String, Value>,
) -> Result<P, Error> {
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
        let ok = match p.kind {
            ParamKind::String { .. } => value.is_string(),
            ParamKind::Integer => value.is_i64(),
            ParamKind::Boolean => value.is_boolean(),
            ParamKind::Number => value.is_number(),
        } || (value.is_null() && !p.required);
        if !ok {
            let expected = match p.kind {
                ParamKind::Integer => allowed_range(p),
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
    let params: Map<String, Value> = params.into_iter().filter(|(_, v)| !v.is_null()).collect();
    serde_json::from_value(Value::Object(params))
        .map_err(|e| Error::invalid("params", format!("{e}; {}", valid())))
}

/// The error for an (entity, action) pair the dispatch table does not know.
pub(crate) fn unknown_operation(entity: &str, action: &str) -> Error {
    Error::invalid("action", format!("`{entity}` has no action `{action}`"))
}

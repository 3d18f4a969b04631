//! Building an operation's request from its metadata and its params (one JSON object, as the
//! typed params serialize and as `execute` receives them): the path template with its
//! placeholders percent-encoded, and the query string sorted by parameter name. Typed
//! calls and `execute` go through this one function, so both send identical requests.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::meta::{OperationMeta, ParamLocation};
use crate::Error;

/// Everything but RFC 3986's unreserved characters, `:` and `@` is escaped in a path segment,
/// so a value can never add a segment, a query or a fragment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'@');

/// The request URL: `base` + the operation's path with placeholders filled + the query.
pub(crate) fn url(
    base: &str,
    op: &OperationMeta,
    params: &Map<String, Value>,
) -> Result<String, Error> {
    let mut url = String::with_capacity(base.len() + op.path.len() + 64);
    url.push_str(base);
    let mut rest = op.path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        url.push_str(&rest[..open]);
        let name = &rest[open + 1..close];
        let value = params.get(name).and_then(scalar_text).ok_or_else(|| {
            Error::invalid(
                name,
                format!("{}.{} needs `{name}` in its path", op.entity, op.action),
            )
        })?;
        url.extend(utf8_percent_encode(&value, SEGMENT));
        rest = &rest[close + 1..];
    }
    url.push_str(rest);
    let mut first = true;
    // Query parameters go out sorted by name: the same request whatever order the spec (or a
    // correction appending a parameter) lists them in.
    let mut query: Vec<_> = op
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Query)
        .collect();
    query.sort_by_key(|p| p.name);
    for p in query {
        let Some(value) = params.get(p.name) else {
            continue;
        };
        let values: Vec<String> = match value {
            Value::Array(items) => items.iter().filter_map(scalar_text).collect(),
            other => scalar_text(other).into_iter().collect(),
        };
        for v in values {
            url.push(if first { '?' } else { '&' });
            first = false;
            let _ = write!(
                url,
                "{}={}",
                url::form_urlencoded::byte_serialize(p.name.as_bytes()).collect::<String>(),
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            );
        }
    }
    Ok(url)
}

/// Appends `name=value` (form-encoded) to a URL's query.
pub(crate) fn append_query(url: &mut String, name: &str, value: &str) {
    url.push(if url.contains('?') { '&' } else { '?' });
    url.extend(url::form_urlencoded::byte_serialize(name.as_bytes()));
    url.push('=');
    url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
}

/// `value` as one path segment, percent-encoded (see [`SEGMENT`]).
pub(crate) fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// A scalar as it travels in a URL: strings as they are, numbers and booleans as JSON text;
/// `null` is not sent.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{Action, ParamKind, ParamMeta};
    use serde_json::json;

    const fn param(name: &'static str, location: ParamLocation) -> ParamMeta {
        ParamMeta {
            name,
            location,
            kind: ParamKind::Integer,
            required: false,
            minimum: None,
            maximum: None,
            default: None,
            description: "",
            pattern: None,
        }
    }

    static OP: OperationMeta = OperationMeta {
        entity: "things",
        action: Action::Get,
        method: "GET",
        path: "/v2/things/{id}/parts",
        summary: "",
        description: "",
        record_schema: "Thing",
        record_field: "thing",
        record_path: &["thing"],
        cursor_path: &[],
        page_size_param: None,
        bulk_page_size: None,
        cursor_param: None,
        no_pagination: None,
        preferred_for_check: false,
        params: &[
            param("id", ParamLocation::Path),
            param("page_size", ParamLocation::Query),
            param("after", ParamLocation::Query),
        ],
    };

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn path_is_encoded_and_query_is_sorted_by_name() {
        let u = url(
            "http://h",
            &OP,
            &map(json!({"after": "a b&c", "id": "../x?y#z", "page_size": 5})),
        )
        .unwrap();
        assert_eq!(
            u,
            "http://h/v2/things/..%2Fx%3Fy%23z/parts?after=a+b%26c&page_size=5"
        );
        let u = url("http://h", &OP, &map(json!({"id": "7", "after": null}))).unwrap();
        assert_eq!(u, "http://h/v2/things/7/parts");
        let e = url("http://h", &OP, &map(json!({}))).unwrap_err();
        assert!(e.to_string().contains("needs `id`"), "{e}");
    }
}

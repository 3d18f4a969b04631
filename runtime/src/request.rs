//! Building an operation's request from its metadata and its params (one JSON object, as the
//! typed params serialize and as `execute` receives them): the path template with its
//! placeholders percent-encoded, and the query string sorted by parameter name. Typed
//! calls and `execute` go through this one function, so both send identical requests.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::meta::{ArrayStyle, BodyKind, OperationMeta, ParamKind, ParamLocation};
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

/// Rest.li query values: unreserved characters and `,` stay as they are.
const RESTLI: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b',');

/// Rest.li structured values (`List(…)`, `(…)`): `():%` stay as well.
const RESTLI_STRUCTURED: &AsciiSet = &RESTLI.remove(b'(').remove(b')').remove(b':').remove(b'%');

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
    // Rest.li APIs (an `X-Restli-Protocol-Version` header parameter) take structured
    // query values as written: `List(a,b)` and `(k:v)` keep `():,%`, every value keeps `,`.
    let restli = op.params.iter().any(|p| {
        p.location == ParamLocation::Header
            && p.name.eq_ignore_ascii_case("x-restli-protocol-version")
    });
    for p in query {
        let Some(value) = params.get(p.name) else {
            continue;
        };
        let mut pair = |name: &str, v: &str| {
            url.push(if first { '?' } else { '&' });
            first = false;
            url.extend(url::form_urlencoded::byte_serialize(name.as_bytes()));
            url.push('=');
            if restli {
                let set = if v.starts_with('(') || v.starts_with("List(") {
                    RESTLI_STRUCTURED
                } else {
                    RESTLI
                };
                url.extend(utf8_percent_encode(v, set));
            } else {
                url.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
            }
        };
        match (p.kind, value) {
            (ParamKind::Array { style, .. }, Value::Array(items)) => {
                let texts = items.iter().filter_map(scalar_text);
                let sep = match style {
                    ArrayStyle::Multi => {
                        for v in texts {
                            pair(p.name, &v);
                        }
                        continue;
                    }
                    ArrayStyle::Space => " ",
                    ArrayStyle::Pipe => "|",
                    _ => ",",
                };
                let joined: Vec<String> = texts.collect();
                if !joined.is_empty() {
                    pair(p.name, &joined.join(sep));
                }
            }
            (ParamKind::Object, Value::Object(fields)) => {
                for (k, v) in fields {
                    if let Some(v) = scalar_text(v) {
                        pair(&format!("{}[{k}]", p.name), &v);
                    }
                }
            }
            (_, Value::Array(items)) => {
                for v in items.iter().filter_map(scalar_text) {
                    pair(p.name, &v);
                }
            }
            (_, other) => {
                if let Some(v) = scalar_text(other) {
                    pair(p.name, &v);
                }
            }
        }
    }
    Ok(url)
}

/// The operation's header parameters present in `params`, as (wire name, text) pairs.
pub(crate) fn headers<'a>(
    op: &'a OperationMeta,
    params: &'a Map<String, Value>,
) -> impl Iterator<Item = (&'static str, String)> + 'a {
    op.params
        .iter()
        .filter(|p| p.location == ParamLocation::Header)
        .filter_map(|p| {
            params
                .get(p.name)
                .and_then(scalar_text)
                .map(|v| (p.name, v))
        })
}

/// Where a typed free-form body sits in the params (generated code serializes it there).
pub(crate) const FREE_FORM_KEY: &str = "__body";

/// A request body, as it goes on the wire.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OutBody {
    /// `application/json`.
    Json(Value),
    /// `application/x-www-form-urlencoded`, already encoded.
    Form(String),
    /// Any other body, with its `Content-Type` (`multipart/related; boundary=...`).
    Bytes {
        /// The `Content-Type` header.
        content_type: String,
        /// The body (cheap to clone for a retry).
        bytes: bytes::Bytes,
    },
}

/// The body of a POST read or a write: its body properties present in `params` (a JSON
/// object, an array of one object, a form, or every non-path/query/header param for a
/// free-form body), or the GraphQL body built from its template ([`crate::graphql`]);
/// `None` for operations sent without a body (`GET`, and writes whose spec declares no
/// body, such as most deletes).
pub(crate) fn body(
    op: &OperationMeta,
    params: &Map<String, Value>,
) -> Result<Option<OutBody>, crate::Error> {
    if let Some(g) = op.graphql {
        return crate::graphql::body(op, g, params).map(|b| Some(OutBody::Json(b)));
    }
    let free_form = op.body == BodyKind::FreeForm;
    if op.method.eq_ignore_ascii_case("GET")
        || (op.action.is_write()
            && !free_form
            && !op.params.iter().any(|p| p.location == ParamLocation::Body))
    {
        return Ok(None);
    }
    let fields: Map<String, Value> = if free_form {
        // Everything that is not a declared path, query or header parameter, and the typed
        // body's fields (kept under `FREE_FORM_KEY`, apart from the params).
        let mut fields: Map<String, Value> = params
            .iter()
            .filter(|(k, _)| {
                k.as_str() != FREE_FORM_KEY
                    && op
                        .param(k)
                        .is_none_or(|p| p.location == ParamLocation::Body)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(Value::Object(typed)) = params.get(FREE_FORM_KEY) {
            fields.extend(typed.clone());
        }
        fields
    } else {
        op.params
            .iter()
            .filter(|p| p.location == ParamLocation::Body)
            .filter_map(|p| params.get(p.name).map(|v| (p.name.to_string(), v.clone())))
            .collect()
    };
    Ok(Some(match op.body {
        BodyKind::JsonArray => OutBody::Json(Value::Array(vec![Value::Object(fields)])),
        BodyKind::Form => OutBody::Form(form_encode(&fields)),
        BodyKind::Related { file, mime } => related(fields, file, mime)?,
        _ => OutBody::Json(Value::Object(fields)),
    }))
}

/// A `multipart/related` body: the JSON part of `fields` without the file and its media
/// type, then the file's bytes (decoded from base64). Without the file, plain JSON.
fn related(
    mut fields: Map<String, Value>,
    file: &str,
    mime: Option<&str>,
) -> Result<OutBody, crate::Error> {
    use base64::Engine as _;
    let media = mime.and_then(|m| fields.remove(m));
    let Some(content) = fields.remove(file) else {
        return Ok(OutBody::Json(Value::Object(fields)));
    };
    let Value::String(encoded) = content else {
        return Err(crate::Error::invalid(
            file,
            "must be the file's content, base64-encoded",
        ));
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| {
            crate::Error::invalid(
                file,
                format!("is not base64 ({e}); encode the file's bytes"),
            )
        })?;
    let media = match media {
        Some(Value::String(m)) if is_media_type(&m) => m,
        Some(other) => {
            return Err(crate::Error::invalid(
                mime.unwrap_or("file_mime_type"),
                format!("must be a media type such as application/pdf, got {other}"),
            ))
        }
        None => "application/octet-stream".to_string(),
    };
    // A boundary that cannot occur in the parts.
    let json = serde_json::to_vec(&Value::Object(fields)).unwrap_or_default();
    let mut boundary = format!("part-{:016x}", fastrand::u64(..));
    while contains(&bytes, boundary.as_bytes()) || contains(&json, boundary.as_bytes()) {
        boundary = format!("part-{:016x}", fastrand::u64(..));
    }
    let mut out = Vec::with_capacity(json.len() + bytes.len() + 256);
    out.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n").as_bytes(),
    );
    out.extend_from_slice(&json);
    out.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Type: {media}\r\n\r\n").as_bytes());
    out.extend_from_slice(&bytes);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok(OutBody::Bytes {
        content_type: format!("multipart/related; boundary={boundary}"),
        bytes: bytes::Bytes::from(out),
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `type/subtype` made of token characters (nothing that could break a header).
fn is_media_type(m: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    matches!(m.split_once('/'), Some((a, b)) if token(a) && token(b))
}

/// `application/x-www-form-urlencoded` text of `fields`, nested values bracket-flattened:
/// `{"meta": {"owner": "ops"}, "aliases": ["hot"]}` → `meta[owner]=ops&aliases[0]=hot`;
/// `null`s are left out, booleans are `true`/`false`.
pub(crate) fn form_encode(fields: &Map<String, Value>) -> String {
    fn flatten(key: String, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Null => {}
            Value::String(s) => out.push((key, s.clone())),
            Value::Bool(b) => out.push((key, b.to_string())),
            Value::Number(n) => out.push((key, n.to_string())),
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    flatten(format!("{key}[{i}]"), v, out);
                }
            }
            Value::Object(m) => {
                for (k, v) in m {
                    flatten(format!("{key}[{k}]"), v, out);
                }
            }
        }
    }
    let mut pairs = Vec::new();
    for (k, v) in fields {
        flatten(k.clone(), v, &mut pairs);
    }
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Resolves a next-page URL from a response (`Link` header or body) against the API's base
/// URL. Only a URL on the base URL's origin (scheme, host, port) is followed: credentials
/// must never travel to a host the server names.
pub(crate) fn next_page_url(entity: &str, base: &str, next: &str) -> Result<String, Error> {
    let fail = |message: String| Error::Pagination {
        entity: entity.to_string(),
        message,
    };
    let base_url = url::Url::parse(base)
        .map_err(|e| Error::invalid("base_url", format!("`{base}` is not a URL ({e})")))?;
    // A path from the server continues the base URL's path prefix only if it says so:
    // `/v2/x?page=2` is taken from the origin, as a browser would.
    let next_url = base_url.join(next).map_err(|e| {
        fail(format!(
            "the server's next-page link {next:?} is not a URL ({e})"
        ))
    })?;
    if next_url.origin() != base_url.origin() {
        return Err(fail(format!(
                "the server's next-page link goes to {}, not to the API's origin {}; it is not followed, so credentials stay with the API (set the connector's base URL to that origin if it is right)",
                next_url.origin().ascii_serialization(),
                base_url.origin().ascii_serialization()
            )));
    }
    Ok(next_url.into())
}

/// The URL of the entry with relation `rel` in a `Link` header value (RFC 8288):
/// `<https://api.example.com/x?page=2>; rel="next", <…>; rel="last"`. Relation names
/// compare case-insensitively and a `rel` may list several (`rel="next last"`).
pub(crate) fn link_with_rel(header: &str, rel: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let open = rest.find('<')?;
        let close = open + rest[open..].find('>')?;
        let target = rest[open + 1..close].trim();
        // Parameters run to the next `,` outside quotes.
        let params_start = close + 1;
        let mut in_quotes = false;
        let mut end = rest.len();
        for (i, c) in rest[params_start..].char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    end = params_start + i;
                    break;
                }
                _ => {}
            }
        }
        let found = rest[params_start..end].split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case(rel))
        });
        if found && !target.is_empty() {
            return Some(target.to_string());
        }
        rest = rest.get(end + 1..)?;
    }
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
    #[test]
    fn forms_flatten_nested_values_with_brackets() {
        let fields = serde_json::json!({
            "name": "Urgent & new",
            "meta": {"owner": "ops", "level": 2, "gone": null},
            "aliases": ["hot", "now"],
            "pinned": true,
        });
        assert_eq!(
            super::form_encode(fields.as_object().unwrap()),
            "name=Urgent+%26+new&meta%5Bowner%5D=ops&meta%5Blevel%5D=2&aliases%5B0%5D=hot&aliases%5B1%5D=now&pinned=true"
        );
    }

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
        record_element: crate::meta::RecordElement::Whole,
        next_page: crate::meta::NextPage::None,
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
        graphql: None,
        file_url: None,
        body: crate::meta::BodyKind::Json,
        transform: None,
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

    #[test]
    fn link_header_entries() {
        let h = r#"<https://api.x.test/v1/a?page=3&per_page=2>; rel="next", <https://api.x.test/v1/a?page=9>; rel="last""#;
        assert_eq!(
            link_with_rel(h, "next").as_deref(),
            Some("https://api.x.test/v1/a?page=3&per_page=2")
        );
        assert_eq!(
            link_with_rel(h, "last").as_deref(),
            Some("https://api.x.test/v1/a?page=9")
        );
        assert_eq!(link_with_rel(h, "prev"), None);
        assert_eq!(
            link_with_rel(r#"</p?a=1,2>; title="x, y"; rel="prev next""#, "NEXT").as_deref(),
            Some("/p?a=1,2")
        );
        for odd in [
            "",
            "garbage",
            "<unclosed; rel=next",
            "<>; rel=next",
            "<a>; rel",
        ] {
            assert_eq!(link_with_rel(odd, "next"), None, "{odd}");
        }
    }

    #[test]
    fn next_page_urls_stay_on_the_api_origin() {
        let base = "https://api.x.test/v1";
        assert_eq!(
            next_page_url("t", base, "https://api.x.test/v1/a?page=2").unwrap(),
            "https://api.x.test/v1/a?page=2"
        );
        assert_eq!(
            next_page_url("t", base, "/v1/a?page=2").unwrap(),
            "https://api.x.test/v1/a?page=2"
        );
        for bad in [
            "https://evil.test/v1/a",
            "http://api.x.test/v1/a",
            "https://api.x.test:8443/v1/a",
            "//evil.test/x",
        ] {
            let e = next_page_url("t", base, bad).unwrap_err();
            assert!(matches!(e, Error::Pagination { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn arrays_objects_and_headers_travel_as_declared() {
        static ITEMS: ParamKind = ParamKind::String { allowed: &[] };
        static OP2: OperationMeta = OperationMeta {
            path: "/v2/spaces/{space-id}/tasks",
            params: &[
                ParamMeta {
                    kind: ParamKind::String { allowed: &[] },
                    ..param("space-id", ParamLocation::Path)
                },
                ParamMeta {
                    kind: ParamKind::Array {
                        items: &ITEMS,
                        style: ArrayStyle::Multi,
                    },
                    ..param("tags[]", ParamLocation::Query)
                },
                ParamMeta {
                    kind: ParamKind::Array {
                        items: &ParamKind::Integer,
                        style: ArrayStyle::Comma,
                    },
                    ..param("ids", ParamLocation::Query)
                },
                ParamMeta {
                    kind: ParamKind::Array {
                        items: &ITEMS,
                        style: ArrayStyle::Pipe,
                    },
                    ..param("f", ParamLocation::Query)
                },
                ParamMeta {
                    kind: ParamKind::Object,
                    ..param("due", ParamLocation::Query)
                },
                ParamMeta {
                    kind: ParamKind::String { allowed: &[] },
                    ..param("X-Api-Version", ParamLocation::Header)
                },
            ],
            ..OP
        };
        let params = map(json!({
            "space-id": "s 1",
            "tags[]": ["a", "b c"],
            "ids": [1, 2],
            "f": ["x", "y"],
            "due": {"gte": 5, "lt": "z", "none": null},
            "X-Api-Version": "2024-10"
        }));
        let u = url("http://h", &OP2, &params).unwrap();
        assert_eq!(
            u,
            "http://h/v2/spaces/s%201/tasks?due%5Bgte%5D=5&due%5Blt%5D=z&f=x%7Cy&ids=1%2C2&tags%5B%5D=a&tags%5B%5D=b+c"
        );
        let h: Vec<_> = headers(&OP2, &params).collect();
        assert_eq!(h, [("X-Api-Version", "2024-10".to_string())]);
    }

    #[test]
    fn restli_query_values_keep_their_structure() {
        static OP3: OperationMeta = OperationMeta {
            path: "/rest/adAnalytics",
            params: &[
                ParamMeta {
                    kind: ParamKind::String { allowed: &[] },
                    ..param("X-Restli-Protocol-Version", ParamLocation::Header)
                },
                ParamMeta {
                    kind: ParamKind::String { allowed: &[] },
                    ..param("campaigns", ParamLocation::Query)
                },
                ParamMeta {
                    kind: ParamKind::String { allowed: &[] },
                    ..param("dateRange", ParamLocation::Query)
                },
                ParamMeta {
                    kind: ParamKind::String { allowed: &[] },
                    ..param("fields", ParamLocation::Query)
                },
            ],
            ..OP
        };
        let u = url(
            "http://h",
            &OP3,
            &map(json!({
                "campaigns": "List(urn%3Ali%3AsponsoredCampaign%3A1,urn%3Ali%3AsponsoredCampaign%3A2)",
                "dateRange": "(start:(year:2026,month:1,day:1))",
                "fields": "impressions,clicks a",
                "X-Restli-Protocol-Version": "2.0.0"
            })),
        )
        .unwrap();
        assert_eq!(
            u,
            "http://h/rest/adAnalytics?campaigns=List(urn%3Ali%3AsponsoredCampaign%3A1,urn%3Ali%3AsponsoredCampaign%3A2)&dateRange=(start:(year:2026,month:1,day:1))&fields=impressions,clicks%20a"
        );
    }
}

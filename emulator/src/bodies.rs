//! Request bodies as they arrive: JSON, or `application/x-www-form-urlencoded` read into
//! the JSON object it flattens, then checked against what a write declares ([`BodyDef`]).
//!
//! - **Reading**: the `Content-Type` says how (`application/json` and `+json` types: JSON;
//!   `application/x-www-form-urlencoded`: a form; none: JSON, or for an operation that
//!   only takes a form, a form; anything else is kept aside for a 415). An empty body (or
//!   only whitespace) is no body.
//! - **Forms** are `k=v` pairs joined by `&`, percent-decoded with `+` as a space, keys
//!   un-flattened from brackets: `a[b]=1` → `{"a": {"b": "1"}}`, `a[0]=x&a[1]=y` (or
//!   `a[]=x&a[]=y`, or a repeated `a=x&a=y`) → `{"a": ["x", "y"]}`, at any depth
//!   (`m[0][user_id]=u`). An object whose keys are all indexes becomes an array in index
//!   order. Values arrive as text and are read as the body schema's type where it says
//!   integer, number or boolean (`2` → `2`, `true` → `true`; an empty value of those types
//!   is absent), at any depth the schema describes; text that does not parse is a 400
//!   `invalid_value` naming the field in the form's own notation (`meta[level]`).
//! - **Media types**: a JSON body sent to an operation that only takes a form, or a form
//!   sent to one that only takes JSON, or any other `Content-Type`, is a 415
//!   `unsupported_media_type` naming the type expected.
//! - **Shapes**: an object body (with properties, or free-form) must be an object, an
//!   array body an array (else a 400 `invalid_body`); an array body's elements are checked
//!   like object bodies, each error naming the element (`[0].tag`).

use axum::http::{header, HeaderMap};
use bytes::Bytes;
use serde_json::{Map, Number, Value};

use super::backend::ApiError;
use super::ops::{self, Loc};
use super::spec::{parse_query, BodyDef, BodyKind, Items, Media};

/// A request body as received.
#[derive(Debug, Clone)]
pub(crate) enum Received {
    /// Nothing (or only whitespace).
    Empty,
    /// JSON (by its `Content-Type`, or without one), parsed or not.
    Json {
        /// The value, or why it is not JSON.
        value: Result<Value, String>,
        /// The `Content-Type` sent, if any.
        content_type: Option<String>,
        /// The bytes (read as a form by an operation taking only forms, when unlabelled).
        raw: Bytes,
    },
    /// A form, un-flattened, and its `Content-Type` as sent.
    Form(Map<String, Value>, String),
    /// Another `Content-Type` (as sent).
    Other(String),
}

fn error(status: u16, code: &'static str, message: String, field: Option<String>) -> ApiError {
    ApiError {
        status,
        error_type: "validation_error",
        code,
        message,
        field,
    }
}

impl Received {
    /// Reads a body by its `Content-Type`.
    pub(crate) fn read(headers: &HeaderMap, bytes: Bytes) -> Received {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Received::Empty;
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .map(|ct| String::from_utf8_lossy(ct.as_bytes()).into_owned());
        let mime = content_type.as_deref().map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        match mime.as_deref() {
            Some("application/x-www-form-urlencoded") => {
                Received::Form(parse_form(&bytes), content_type.unwrap_or_default())
            }
            Some(m) if m != "application/json" && !m.ends_with("+json") => {
                Received::Other(content_type.unwrap_or_default())
            }
            _ => Received::Json {
                value: serde_json::from_slice(&bytes).map_err(|e| e.to_string()),
                content_type,
                raw: bytes,
            },
        }
    }

    /// The body's members when it is an object (JSON or a form), to route by.
    pub(crate) fn members(&self) -> Option<&Map<String, Value>> {
        match self {
            Received::Json {
                value: Ok(Value::Object(m)),
                ..
            }
            | Received::Form(m, _) => Some(m),
            _ => None,
        }
    }

    /// The body as a JSON object, for POST reads, downloads, GraphQL and writes without a
    /// [`BodyDef`]: no body is `{}`; a `Content-Type` other than JSON is a 415; invalid JSON
    /// or a JSON value other than an object is a 400 (`invalid_body`).
    pub(crate) fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        match self {
            Received::Empty => Ok(Map::new()),
            Received::Json { value, .. } => match value {
                Ok(Value::Object(map)) => Ok(map.clone()),
                Ok(other) => Err(not_an(other, "a JSON object")),
                Err(e) => Err(error(
                    400,
                    "invalid_body",
                    format!("The request body is not valid JSON: {e}"),
                    None,
                )),
            },
            Received::Form(_, ct) => Err(unsupported(&[Media::Json], ct)),
            Received::Other(ct) => Err(unsupported(&[Media::Json], ct)),
        }
    }

    /// The body of a write that declares `def` (see the module docs): an object (form
    /// values read as the schema's types) or an array, not yet checked against the
    /// declared properties.
    pub(crate) fn for_write(&self, def: &BodyDef) -> Result<Value, ApiError> {
        let takes = |m: Media| def.media.contains(&m);
        let value = match self {
            Received::Empty => match def.kind {
                BodyKind::Array(_) => {
                    return Err(error(
                        400,
                        "invalid_body",
                        "The request body must be a JSON array, got nothing".into(),
                        None,
                    ))
                }
                _ => return Ok(Value::Object(Map::new())),
            },
            Received::Form(map, _) if takes(Media::Form) => {
                return coerce_form(map, &def.schema).map(Value::Object)
            }
            Received::Form(_, ct) => return Err(unsupported(&def.media, ct)),
            Received::Other(ct) => return Err(unsupported(&def.media, ct)),
            Received::Json {
                content_type: None,
                raw,
                ..
            } if !takes(Media::Json) => {
                return coerce_form(&parse_form(raw), &def.schema).map(Value::Object)
            }
            Received::Json { content_type, .. } if !takes(Media::Json) => {
                return Err(unsupported(
                    &def.media,
                    content_type.as_deref().unwrap_or_default(),
                ))
            }
            Received::Json { value, .. } => value.as_ref().map_err(|e| {
                error(
                    400,
                    "invalid_body",
                    format!("The request body is not valid JSON: {e}"),
                    None,
                )
            })?,
        };
        match (&def.kind, value) {
            (BodyKind::Array(_), Value::Array(_)) => Ok(value.clone()),
            (BodyKind::Array(_), other) => Err(not_an(other, "a JSON array")),
            (_, Value::Object(_)) => Ok(value.clone()),
            (_, other) => Err(not_an(other, "a JSON object")),
        }
    }
}

/// A 400 `invalid_body`: the body is `other`, not `want`.
fn not_an(other: &Value, want: &str) -> ApiError {
    let kind = match other {
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
    };
    error(
        400,
        "invalid_body",
        format!("The request body must be {want}, got {kind}"),
        None,
    )
}

/// A 415 naming the media types expected.
fn unsupported(expected: &[Media], got: &str) -> ApiError {
    let names: Vec<&str> = expected.iter().map(|m| m.name()).collect();
    error(
        415,
        "unsupported_media_type",
        format!(
            "The request body must be {}, got Content-Type {got:?}",
            names.join(" or ")
        ),
        None,
    )
}

/// Checks the elements of an array body as an object body's members are checked (each
/// error naming the element: `[0].tag`, or `[0]` for an element of the wrong type).
pub(crate) fn check_items(items: &[Value], def: &Items) -> Result<(), ApiError> {
    let at = |i: usize, e: ApiError| {
        let path = match &e.field {
            Some(f) if f != "item" => format!("[{i}].{f}"),
            _ => format!("[{i}]"),
        };
        let message = match &e.field {
            Some(f) => e.message.replacen(f.as_str(), &path, 1),
            None => e.message.clone(),
        };
        ApiError {
            field: Some(path),
            message,
            ..e
        }
    };
    for (i, item) in items.iter().enumerate() {
        match def {
            Items::Object(props) => {
                let Value::Object(members) = item else {
                    return Err(at(
                        i,
                        error(
                            400,
                            "invalid_value",
                            format!("item must be an object, got {item}"),
                            Some("item".into()),
                        ),
                    ));
                };
                for p in props.iter().filter(|p| p.loc == Loc::Body) {
                    p.check_body(members).map_err(|e| at(i, e))?;
                }
            }
            Items::Value(p) => {
                let mut one = Map::new();
                one.insert(p.name.clone(), item.clone());
                p.check_body(&one).map_err(|e| at(i, e))?;
            }
        }
    }
    Ok(())
}

/// Parses a form body into the object it flattens (see the module docs).
pub(crate) fn parse_form(bytes: &[u8]) -> Map<String, Value> {
    let text = String::from_utf8_lossy(bytes);
    let mut root = Value::Object(Map::new());
    for (key, value) in parse_query(Some(text.trim())) {
        let Some(path) = key_path(&key) else {
            continue;
        };
        insert(&mut root, &path, value);
    }
    match arrays(root) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `a[b][0]` → `["a", "b", "0"]`; `a[]` → `["a", ""]` (append). A key with unbalanced
/// brackets is one plain name; an empty key is skipped.
fn key_path(key: &str) -> Option<Vec<String>> {
    if key.is_empty() {
        return None;
    }
    let Some(open) = key.find('[').filter(|&i| i > 0) else {
        return Some(vec![key.to_string()]);
    };
    let mut path = vec![key[..open].to_string()];
    let mut rest = &key[open..];
    while let Some(r) = rest.strip_prefix('[') {
        let Some(close) = r.find(']') else {
            return Some(vec![key.to_string()]);
        };
        path.push(r[..close].to_string());
        rest = &r[close + 1..];
    }
    if !rest.is_empty() {
        return Some(vec![key.to_string()]);
    }
    Some(path)
}

/// Puts `value` at `path` under `node` (an object): `""` segments append; a name given
/// twice as a plain value collects its values in an array.
fn insert(node: &mut Value, path: &[String], value: String) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    let Value::Object(map) = node else {
        return;
    };
    let key = if first.is_empty() {
        // `a[]`: the next index.
        map.len().to_string()
    } else {
        first.clone()
    };
    if rest.is_empty() {
        match map.get_mut(&key) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(old @ Value::String(_)) => {
                let prev = old.take();
                *old = Value::Array(vec![prev, Value::String(value)]);
            }
            _ => {
                map.insert(key, Value::String(value));
            }
        }
        return;
    }
    let child = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    insert(child, rest, value);
}

/// Objects whose keys are all indexes become arrays, in index order (at any depth).
fn arrays(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let indexed = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if indexed {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(0), arrays(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(arrays).collect()),
        other => other,
    }
}

/// Reads a form's text values as the types `schema` (an inlined object schema) declares.
pub(crate) fn coerce_form(
    form: &Map<String, Value>,
    schema: &Value,
) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    for (k, v) in form {
        let sub = member_schema(schema, k);
        if let Some(v) = coerce(v, sub, k)? {
            out.insert(k.clone(), v);
        }
    }
    Ok(out)
}

/// The schema of member `k` of an object schema: its property, else its typed
/// `additionalProperties`.
fn member_schema<'a>(schema: &'a Value, k: &str) -> Option<&'a Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(k))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

/// One form value read as `schema` says; `None` for an empty value of a non-text scalar
/// type (absent). `path` names it in errors (`meta[level]`).
fn coerce(v: &Value, schema: Option<&Value>, path: &str) -> Result<Option<Value>, ApiError> {
    let Some(schema) = schema else {
        return Ok(Some(v.clone()));
    };
    let ty = ops::type_name(schema);
    match v {
        Value::Object(members) => {
            if ty.as_deref() == Some("array") {
                // `a[x]=..` for an array: the members in order.
                let items: Vec<Value> = members.values().cloned().collect();
                return coerce(&Value::Array(items), Some(schema), path);
            }
            let mut out = Map::new();
            for (k, mv) in members {
                let sub = member_schema(schema, k);
                if let Some(c) = coerce(mv, sub, &format!("{path}[{k}]"))? {
                    out.insert(k.clone(), c);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Value::Array(items) => {
            let item_schema = match ty.as_deref() {
                Some("array") => schema.get("items"),
                // Repeated values for a scalar: read each as the scalar.
                _ => Some(schema),
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if let Some(c) = coerce(item, item_schema, &format!("{path}[{i}]"))? {
                    out.push(c);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Value::String(text) => {
            let bad = |want: &str| {
                error(
                    400,
                    "invalid_value",
                    format!("{path} must be {want}, got {text:?}"),
                    Some(path.to_string()),
                )
            };
            let typed = match ty.as_deref() {
                Some("integer" | "number" | "boolean") if text.is_empty() => return Ok(None),
                Some("integer") => text
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| bad("an integer"))?,
                Some("number") => text
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| bad("a number"))?,
                Some("boolean") => match text.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return Err(bad("true or false")),
                },
                // One value for an array: an array of one.
                Some("array") => return coerce(&Value::Array(vec![v.clone()]), Some(schema), path),
                _ => v.clone(),
            };
            Ok(Some(typed))
        }
        other => Ok(Some(other.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(text: &str) -> Value {
        Value::Object(parse_form(text.as_bytes()))
    }

    #[test]
    fn forms_unflatten_brackets() {
        assert_eq!(
            form(
                "name=Urgent&color=red&meta%5Bowner%5D=ops&meta%5Blevel%5D=2\
                 &aliases%5B0%5D=hot&aliases%5B1%5D=now"
            ),
            json!({"name": "Urgent", "color": "red", "meta": {"owner": "ops", "level": "2"},
                   "aliases": ["hot", "now"]})
        );
        assert_eq!(
            form("a+b=x+y%2Bz&t[]=1&t[]=2&r=1&r=2&m[1][u]=b&m[0][u]=a&m[0][n]=true"),
            json!({"a b": "x y+z", "t": ["1", "2"], "r": ["1", "2"],
                   "m": [{"u": "a", "n": "true"}, {"u": "b"}]})
        );
        // Unbalanced brackets are a plain name; an empty key is skipped.
        assert_eq!(form("a[b=1&=2&c]=3"), json!({"a[b": "1", "c]": "3"}));
        assert_eq!(form(""), json!({}));
    }

    #[test]
    fn form_values_take_the_schema_types() {
        let schema = json!({"type": "object", "properties": {
            "n": {"type": "integer"}, "x": {"type": "number"}, "b": {"type": "boolean"},
            "s": {"type": "string"}, "tags": {"type": "array", "items": {"type": "integer"}},
            "meta": {"type": "object", "properties": {"level": {"type": "integer"}}},
            "m": {"type": "array", "items": {"type": "object",
                  "properties": {"notify": {"type": "boolean"}}}}
        }});
        let got = coerce_form(
            &parse_form(
                b"n=2&x=1.5&b=true&s=3&tags=7&meta[level]=4&meta[o]=x&m[0][notify]=false&e=1",
            ),
            &schema,
        )
        .unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"n": 2, "x": 1.5, "b": true, "s": "3", "tags": [7],
                   "meta": {"level": 4, "o": "x"}, "m": [{"notify": false}], "e": "1"})
        );
        // An empty non-text value is absent.
        let got = coerce_form(&parse_form(b"n=&s="), &schema).unwrap();
        assert_eq!(Value::Object(got), json!({"s": ""}));
        for (text, field) in [
            ("n=two", "n"),
            ("b=yes", "b"),
            ("x=NaN", "x"),
            ("meta[level]=high", "meta[level]"),
            ("tags[0]=1&tags[1]=z", "tags[1]"),
            ("m[0][notify]=1", "m[0][notify]"),
        ] {
            let e = coerce_form(&parse_form(text.as_bytes()), &schema).unwrap_err();
            assert_eq!((e.status, e.field.as_deref()), (400, Some(field)), "{text}");
            assert!(e.message.contains(field), "{}", e.message);
        }
    }
}

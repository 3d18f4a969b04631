//! GraphQL operations (`x-airbyte-body-type: {type: graphql}`): the request body built from
//! the operation's params, and the `errors` array of an answer.
//!
//! **The body** is `{"query", "variables", "operationName"?}`:
//! - In the query, the exact text `{{ fields }}` becomes a selection set: the `fields` param
//!   (a list of names; `state.name` selects `state { name }`), else the spec's
//!   `default_fields`. Field names are checked (letters, digits, `_`), so a param can never
//!   inject query text.
//! - In the variables template, a string that is exactly `{{ name }}` takes the param's typed
//!   JSON value (a number stays a number), else the param's default, else `null`; a string
//!   with `{{ name }}` inside other text gets the value as text (and is `null` when a value
//!   it names is missing). `null`s are then dropped
//!   (an object left empty by that goes too), except variables the spec lists in
//!   `x-airbyte-nullable-variables`.
//!
//! The operation's query params also travel in the URL, as the reference runtime sends them;
//! GraphQL servers ignore them.
//!
//! **Errors.** An answer whose top-level `errors` is a non-empty array is an
//! [`Error::Api`] with `error_type` `"graphql"` and the messages joined, even on HTTP 200:
//! partial data next to errors is not returned as if it were whole.

use serde_json::{Map, Value};

use crate::error::Context;
use crate::http::Body;
use crate::meta::{GraphqlMeta, OperationMeta};
use crate::Error;

/// The `fields` placeholder in a query.
const FIELDS: &str = "{{ fields }}";

/// The JSON body of GraphQL operation `op` for `params` (already checked).
pub(crate) fn body(
    op: &OperationMeta,
    g: &GraphqlMeta,
    params: &Map<String, Value>,
) -> Result<Value, Error> {
    let mut query = g.query.to_string();
    if query.contains(FIELDS) || query.contains("{{fields}}") {
        let selection = match params.get("fields") {
            Some(Value::Array(items)) if !items.is_empty() => {
                let names: Vec<&str> = items
                    .iter()
                    .map(|v| {
                        v.as_str().ok_or_else(|| {
                            Error::invalid("fields", "must be a list of field names")
                        })
                    })
                    .collect::<Result<_, _>>()?;
                for n in &names {
                    let ok = !n.is_empty()
                        && n.split('.').all(|part| {
                            !part.is_empty()
                                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        });
                    if !ok {
                        return Err(Error::invalid(
                            "fields",
                            format!("`{n}` is not a field name: use letters, digits and `_`, with `.` for nested fields (`state.name`)"),
                        ));
                    }
                }
                selection(&names)
            }
            _ => selection(g.default_fields),
        };
        query = query
            .replace(FIELDS, &selection)
            .replace("{{fields}}", &selection);
    }
    let template: Value = serde_json::from_str(g.variables).map_err(|e| {
        Error::invalid(
            "variables",
            format!("the spec's GraphQL variables are not JSON ({e}); regenerate the crate"),
        )
    })?;
    let variables = match render(op, &template, params, g.nullable, true) {
        Some(Value::Object(m)) => Value::Object(m),
        _ => Value::Object(Map::new()),
    };
    let mut out = Map::new();
    out.insert("query".into(), Value::String(query));
    out.insert("variables".into(), variables);
    if let Some(name) = g.operation_name {
        out.insert("operationName".into(), Value::String(name.to_string()));
    }
    Ok(Value::Object(out))
}

/// A selection set from dotted names (`["id", "state.name", "state.id"]` →
/// `id state { name id }`), in first-seen order. One name holding spaces or braces is a
/// selection already and is used as it is.
fn selection<S: AsRef<str>>(names: &[S]) -> String {
    if let [one] = names {
        let one = one.as_ref();
        if one.contains(char::is_whitespace) || one.contains('{') {
            return one.trim().to_string();
        }
    }
    #[derive(Default)]
    struct Node(Vec<(String, Node)>);
    fn insert(node: &mut Node, parts: &[&str]) {
        let Some((first, rest)) = parts.split_first() else {
            return;
        };
        let i = match node.0.iter().position(|(n, _)| n == first) {
            Some(i) => i,
            None => {
                node.0.push((first.to_string(), Node::default()));
                node.0.len() - 1
            }
        };
        insert(&mut node.0[i].1, rest);
    }
    fn write(node: &Node, out: &mut String) {
        for (i, (name, child)) in node.0.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(name);
            if !child.0.is_empty() {
                out.push_str(" { ");
                write(child, out);
                out.push_str(" }");
            }
        }
    }
    let mut root = Node::default();
    for n in names {
        let parts: Vec<&str> = n.as_ref().split('.').collect();
        insert(&mut root, &parts);
    }
    let mut out = String::new();
    write(&root, &mut out);
    out
}

/// The name in a string that is exactly `{{ name }}`.
fn exact_placeholder(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    (!inner.is_empty()
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then_some(inner)
}

/// The value of param `name`: given, else its default, else `null`.
fn lookup(op: &OperationMeta, params: &Map<String, Value>, name: &str) -> Value {
    if let Some(v) = params.get(name) {
        return v.clone();
    }
    op.param(name)
        .and_then(|p| p.default)
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(Value::Null)
}

/// Renders a variables template (see the module docs); `None` for a value dropped as null
/// or as an object the drop left empty.
fn render(
    op: &OperationMeta,
    template: &Value,
    params: &Map<String, Value>,
    nullable: &[&str],
    top: bool,
) -> Option<Value> {
    match template {
        Value::String(s) => {
            if let Some(name) = exact_placeholder(s) {
                return Some(lookup(op, params, name));
            }
            if !s.contains("{{") {
                return Some(template.clone());
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                out.push_str(&rest[..start]);
                let Some(end) = rest[start..].find("}}") else {
                    out.push_str(&rest[start..]);
                    rest = "";
                    break;
                };
                let name = rest[start + 2..start + end].trim();
                match lookup(op, params, name) {
                    // Text around a missing value means nothing: the whole value is null
                    // (and dropped), as the reference runtime does.
                    Value::Null => return Some(Value::Null),
                    Value::String(v) => out.push_str(&v),
                    other => out.push_str(&other.to_string()),
                }
                rest = &rest[start + end + 2..];
            }
            out.push_str(rest);
            Some(Value::String(out))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|i| render(op, i, params, nullable, false).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                match render(op, v, params, nullable, false) {
                    Some(Value::Null) | None if nullable.contains(&k.as_str()) => {
                        out.insert(k.clone(), Value::Null);
                    }
                    Some(Value::Null) | None => {}
                    Some(v) => {
                        out.insert(k.clone(), v);
                    }
                }
            }
            // An object that only held dropped nulls goes too (but the variables object
            // itself stays, empty).
            if out.is_empty() && !m.is_empty() && !top {
                return None;
            }
            Some(Value::Object(out))
        }
        other => Some(other.clone()),
    }
}

/// Refuses an answer whose top-level `errors` is a non-empty array (see the module docs).
pub(crate) fn check_errors(ctx: &Context, body: &Body) -> Result<(), Error> {
    #[derive(serde::Deserialize)]
    struct Top {
        #[serde(default)]
        errors: Option<Vec<Value>>,
    }
    // A body that is not an object (or not JSON) is left to the decoder's own errors.
    let Ok(Top {
        errors: Some(errors),
    }) = serde_json::from_slice::<Top>(&body.bytes)
    else {
        return Ok(());
    };
    if errors.is_empty() {
        return Ok(());
    }
    let messages: Vec<String> = errors
        .iter()
        .map(|e| match e.get("message") {
            Some(Value::String(m)) => m.clone(),
            _ => e.to_string(),
        })
        .collect();
    let detail: Vec<Value> = errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "code": "graphql",
                "message": e.get("message").cloned().unwrap_or_else(|| Value::String(e.to_string())),
            })
        })
        .collect();
    let body = serde_json::json!({
        "type": "graphql",
        "message": format!("the GraphQL answer carries errors: {}", messages.join("; ")),
        "errors": detail,
    })
    .to_string();
    Err(Error::from_response(
        ctx.clone(),
        200,
        None,
        body.as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{Action, NextPage, ParamKind, ParamLocation, ParamMeta, RecordElement};
    use serde_json::json;

    const fn param(name: &'static str, default: Option<&'static str>) -> ParamMeta {
        ParamMeta {
            name,
            location: ParamLocation::Query,
            kind: ParamKind::Integer,
            required: false,
            minimum: None,
            maximum: None,
            default,
            description: "",
            pattern: None,
        }
    }

    static G: GraphqlMeta = GraphqlMeta {
        query: "query($t: String!) { team(key: $t) { issues { nodes { {{ fields }} } } } }",
        variables: r#"{"t": "{{ team }}", "first": "{{ first }}", "after": "{{ after }}",
            "filter": {"state": {"eq": "{{ state }}"}}, "note": "via {{ source }}!"}"#,
        default_fields: &["id", "state.name", "assignee.name", "state.id"],
        nullable: &["after"],
        operation_name: Some("Issues"),
    };

    static OP: OperationMeta = OperationMeta {
        entity: "issues",
        action: Action::List,
        method: "POST",
        path: "/graphql",
        summary: "",
        description: "",
        record_schema: "Issue",
        record_field: "data",
        record_path: &["data"],
        record_element: RecordElement::Whole,
        next_page: NextPage::None,
        cursor_path: &[],
        page_size_param: None,
        bulk_page_size: None,
        cursor_param: None,
        no_pagination: None,
        preferred_for_check: false,
        params: &[
            param("first", Some("50")),
            param("source", Some("\"agent\"")),
        ],
        graphql: Some(&G),
        file_url: None,
        body: crate::meta::BodyKind::Json,
        transform: None,
    };

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_body_binds_params_drops_nulls_and_keeps_nullable_ones() {
        let b = body(&OP, &G, &map(json!({"team": "ENG"}))).unwrap();
        assert_eq!(
            b["query"],
            "query($t: String!) { team(key: $t) { issues { nodes { id state { name id } assignee { name } } } } }"
        );
        // `first` from its default (typed), `after` kept as null, the empty filter dropped,
        // the embedded template as text.
        assert_eq!(
            b["variables"],
            json!({"t": "ENG", "first": 50, "after": null, "note": "via agent!"})
        );
        assert_eq!(b["operationName"], "Issues");
        let b = body(
            &OP,
            &G,
            &map(json!({"team": "ENG", "first": 5, "state": "done", "fields": ["id", "title"]})),
        )
        .unwrap();
        assert!(b["query"].as_str().unwrap().contains("nodes { id title }"));
        assert_eq!(b["variables"]["first"], 5);
        assert_eq!(b["variables"]["filter"], json!({"state": {"eq": "done"}}));
    }

    #[test]
    fn field_names_cannot_inject_query_text() {
        for bad in ["id } mutation { x", "", "a..b", "a b"] {
            let e = body(&OP, &G, &map(json!({"team": "t", "fields": [bad]}))).unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{bad}: {e:?}");
        }
    }

    #[test]
    fn a_verbatim_default_selection_is_kept() {
        assert_eq!(
            selection(&["id title state { name }"]),
            "id title state { name }"
        );
    }

    #[test]
    fn errors_are_typed_even_on_200() {
        let ctx = Context::new("issues", "get");
        let b = |text: &str| Body {
            bytes: bytes::Bytes::copy_from_slice(text.as_bytes()),
            content_type: Some("application/json".into()),
            next: None,
        };
        assert!(check_errors(&ctx, &b(r#"{"data": {"x": 1}}"#)).is_ok());
        assert!(check_errors(&ctx, &b(r#"{"data": {"x": 1}, "errors": []}"#)).is_ok());
        assert!(check_errors(&ctx, &b(r#"{"data": null, "errors": null}"#)).is_ok());
        let e = check_errors(
            &ctx,
            &b(r#"{"data": null, "errors": [{"message": "Issue not found", "path": ["issue"]}]}"#),
        )
        .unwrap_err();
        let Error::Api(api) = &e else { panic!("{e:?}") };
        assert_eq!(api.status, 200);
        assert_eq!(api.error_type.as_deref(), Some("graphql"));
        assert!(e.to_string().contains("Issue not found"), "{e}");
        assert!(!e.is_retryable());
    }
}

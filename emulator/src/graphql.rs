//! GraphQL operations (`requestBody.x-airbyte-body-type: {type: graphql, ...}`): telling the
//! operations that share one endpoint apart by their query text, reading their parameters
//! back out of the request's `variables`, and GraphQL-shaped error bodies.
//!
//! - **Matching**: an operation's query template is compared with the request's `query`
//!   after both are normalized (whitespace and commas dropped, except one space between two
//!   name characters, so `nodes { id }` and `nodes{id}` are equal); the exact text
//!   `{{ fields }}` in the template matches any text (a selection set with nested braces,
//!   or nothing). Among several matching operations the one with the most literal text
//!   wins, then the first in spec order.
//! - **Variables**: every string of the template's `variables` (at any depth) that is
//!   exactly `{{ name }}` binds the request's value at that place to the parameter `name`
//!   (its JSON value as sent); a string with one placeholder inside text (`"Edited via
//!   {{ source }}"`) binds the text between that prefix and suffix. Values that are absent,
//!   `null` or do not fit the text are not bound.
//! - **Errors** follow the GraphQL convention: HTTP 200 with `{"data": ..., "errors":
//!   [{"message", "path"?, "extensions": {"code"}}]}`.

use serde_json::{json, Map, Value};

use super::ops::{wire_text, Loc, ParamDef};

/// The placeholder a client replaces by the selection set.
const FIELDS: &str = "{{ fields }}";

/// A compiled query template: the normalized literal pieces around each `{{ fields }}`.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    pieces: Vec<String>,
}

impl Pattern {
    /// Compiles a query template.
    pub(crate) fn new(template: &str) -> Pattern {
        Pattern {
            pieces: template.split(FIELDS).map(normalize).collect(),
        }
    }

    /// Characters of literal text (more literal patterns win).
    pub(crate) fn weight(&self) -> usize {
        self.pieces.iter().map(String::len).sum()
    }

    /// True when the (raw) query matches the template.
    pub(crate) fn matches(&self, query: &str) -> bool {
        glob(&self.pieces, &normalize(query))
    }
}

/// Matches `text` against literal pieces with a wildcard between each two.
fn glob(pieces: &[String], text: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    let Some(mut tail) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for piece in middle {
        match tail.find(piece.as_str()) {
            Some(i) => tail = &tail[i + piece.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last.as_str())
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Drops insignificant characters: whitespace and commas, except a single space between
/// two name characters (`query Q` stays apart, `{ a }` becomes `{a}`).
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if c.is_whitespace() || c == ',' {
            gap = true;
            continue;
        }
        if gap && name_char(c) && out.chars().next_back().is_some_and(name_char) {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

/// One step into the `variables` object.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A place in the `variables` template that carries a parameter.
#[derive(Debug, Clone)]
struct Binding {
    path: Vec<Step>,
    param: String,
    /// Text around the placeholder (`None`: the whole value is the parameter's).
    around: Option<(String, String)>,
}

/// What the emulator needs to serve a GraphQL operation.
#[derive(Debug, Clone)]
pub(crate) struct GqlDef {
    /// Where parameters sit in `variables`.
    bindings: Vec<Binding>,
    /// The operation's root field (`issue` of `$.data.issue`), nulled by a not-found error.
    pub root_field: Option<String>,
    /// Values the answer carries beside the records (`success: true` of a mutation), at
    /// their body paths.
    pub extras: Vec<(Vec<super::ops::Seg>, Value)>,
}

/// The `{type: graphql, query, variables?}` of an operation's `requestBody` (or of the
/// operation), if it has one.
pub(crate) fn body_type(op: &Value, request_body: Option<&Value>) -> Option<(String, Value)> {
    let bt = op
        .get("x-airbyte-body-type")
        .or_else(|| request_body?.get("x-airbyte-body-type"))?;
    if bt.get("type").and_then(Value::as_str) != Some("graphql") {
        return None;
    }
    let query = bt.get("query")?.as_str()?.to_string();
    let variables = bt.get("variables").cloned().unwrap_or(Value::Null);
    Some((query, variables))
}

impl GqlDef {
    /// Compiles the variable bindings (the query's [`Pattern`] sits on the route).
    pub(crate) fn new(
        variables: &Value,
        root_field: Option<String>,
        extras: Vec<(Vec<super::ops::Seg>, Value)>,
    ) -> GqlDef {
        let mut bindings = Vec::new();
        collect(variables, &mut Vec::new(), &mut bindings);
        GqlDef {
            bindings,
            root_field,
            extras,
        }
    }

    /// The parameters a request's `variables` carry: pairs (as query parameters arrive:
    /// scalars as text, arrays one pair per item) for the operation's non-body parameters
    /// (and names it does not declare), and the body properties (`in: body` parameters,
    /// the inputs of a mutation) as a JSON object.
    pub(crate) fn extract(
        &self,
        variables: &Value,
        params: &[ParamDef],
    ) -> (Vec<(String, String)>, Map<String, Value>) {
        let mut pairs = Vec::new();
        let mut body = Map::new();
        for b in &self.bindings {
            let Some(v) = at(variables, &b.path).filter(|v| !v.is_null()) else {
                continue;
            };
            let value = match &b.around {
                None => v.clone(),
                Some((pre, post)) => {
                    let Some(s) = v.as_str() else { continue };
                    match s
                        .strip_prefix(pre.as_str())
                        .and_then(|t| t.strip_suffix(post.as_str()))
                    {
                        Some(mid) => Value::String(mid.to_string()),
                        None => continue,
                    }
                }
            };
            let in_body = params
                .iter()
                .any(|p| p.name == b.param && p.loc == Loc::Body);
            if in_body {
                body.entry(b.param.clone()).or_insert(value);
            } else if pairs.iter().all(|(k, _)| *k != b.param) {
                match &value {
                    Value::Array(items) => pairs.extend(
                        items
                            .iter()
                            .filter_map(wire_text)
                            .map(|t| (b.param.clone(), t)),
                    ),
                    v => pairs.extend(wire_text(v).map(|t| (b.param.clone(), t))),
                }
            }
        }
        (pairs, body)
    }
}

fn at<'a>(mut v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    for step in path {
        v = match step {
            Step::Key(k) => v.get(k.as_str())?,
            Step::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn collect(v: &Value, path: &mut Vec<Step>, out: &mut Vec<Binding>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(Step::Key(k.clone()));
                collect(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Step::Index(i));
                collect(child, path, out);
                path.pop();
            }
        }
        Value::String(s) => {
            if let Some((pre, param, post)) = placeholder(s) {
                let around = (!pre.is_empty() || !post.is_empty())
                    .then(|| (pre.to_string(), post.to_string()));
                out.push(Binding {
                    path: path.clone(),
                    param: param.to_string(),
                    around,
                });
            }
        }
        _ => {}
    }
}

/// The single `{{ name }}` of a template string: (text before, name, text after). `None`
/// when there is none, or more than one.
fn placeholder(s: &str) -> Option<(&str, &str, &str)> {
    let open = s.find("{{")?;
    let close = s[open..].find("}}")? + open;
    let name = s[open + 2..close].trim();
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let post = &s[close + 2..];
    (ok && !post.contains("{{")).then(|| (&s[..open], name, post))
}

/// The body of an error that stops the whole operation: `{"data": null, "errors": [...]}`.
pub(crate) fn error_body(message: &str, code: &str, field: Option<&str>) -> String {
    let mut ext = json!({ "code": code });
    if let Some(f) = field {
        ext["field"] = json!(f);
    }
    json!({"data": null, "errors": [{"message": message, "extensions": ext}]}).to_string()
}

/// The body of a not-found error: the operation's root field `null` (`{"data": {"issue":
/// null}, "errors": [{..., "path": ["issue"]}]}`), or `data: null` without a root field.
pub(crate) fn not_found_body(root: Option<&str>, message: &str) -> String {
    let ext = json!({ "code": "NOT_FOUND" });
    match root {
        Some(r) => json!({
            "data": { r: null },
            "errors": [{"message": message, "path": [r], "extensions": ext}],
        }),
        None => json!({"data": null, "errors": [{"message": message, "extensions": ext}]}),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_matches() {
        assert_eq!(
            normalize("query  Q($a: Int,\n $b: String) { x(a: $a) { y } }"),
            "query Q($a:Int $b:String){x(a:$a){y}}"
        );
        let p = Pattern::new("query { team { nodes { {{ fields }} } pageInfo { end } } }");
        assert!(p.matches("query{team{nodes{id state { name }} pageInfo {end}}}"));
        assert!(p.matches("query { team { nodes {  } pageInfo { end } } }"));
        assert!(!p.matches("query { team { nodes { id } } }"));
        let exact = Pattern::new("query { viewer { id name } }");
        assert!(exact.matches("query {\n  viewer { id, name }\n}"));
        assert!(!exact.matches("query { viewer { id } }"));
        assert!(p.weight() > 0);
    }

    #[test]
    fn binds_variables() {
        let vars = json!({
            "id": "{{ id }}",
            "input": {"title": "{{ title }}", "note": "Edited via {{ source }}"},
            "n": "{{first}}",
            "fixed": "x"
        });
        let g = GqlDef::new(&vars, None, Vec::new());
        let params: Vec<ParamDef> = [
            json!({"name": "id", "in": "body", "schema": {"type": "string"}}),
            json!({"name": "title", "in": "body", "schema": {"type": "string"}}),
            json!({"name": "source", "in": "body", "schema": {"type": "string"}}),
            json!({"name": "first", "in": "query", "schema": {"type": "integer"}}),
        ]
        .iter()
        .filter_map(|p| ParamDef::read(p, &|v: &Value| v.clone()))
        .collect();
        let sent = json!({
            "id": "abc",
            "input": {"title": null, "note": "Edited via agent"},
            "n": 25
        });
        let (pairs, body) = g.extract(&sent, &params);
        assert_eq!(pairs, vec![("first".to_string(), "25".to_string())]);
        assert_eq!(Value::Object(body), json!({"id": "abc", "source": "agent"}));
    }
}

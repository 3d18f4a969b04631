//! Record transforms and filters (`x-airbyte-record-transform`, `x-airbyte-record-filter`):
//! the subset of Jinja the family's specs use, compiled by the generator into [`Expr`]
//! trees and evaluated here on each record, in direct mode (Airbyte applies them itself in
//! hosted mode).
//!
//! - A **transform** maps output fields to templates over `record` and `config`; each output
//!   is text. An object record gets the outputs merged over it; any other record (a bare
//!   string, say) is replaced by an object of the outputs.
//! - A **filter** is a template whose text decides whether a record is kept: `False`,
//!   `false`, `0`, `None`, `none`, `null` or nothing drop it. It runs after the transform, on
//!   collections only. It is never skipped: a page is filtered before it is returned.
//!
//! Text follows Jinja's (Python's) rendering: `None`, `True`, `False`, numbers as written,
//! strings as they are, objects and arrays as JSON.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// What a path starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Root {
    /// The record.
    Record,
    /// The connector's configuration values.
    Config,
}

/// A compiled expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expr {
    /// `record.a.b`, `config.region`: `null` when absent.
    Path(Root, &'static [&'static str]),
    /// `'text'`.
    Lit(&'static str),
    /// `not x`.
    Not(&'static Expr),
    /// `x | replace('a', 'b')`.
    Replace(&'static Expr, &'static str, &'static str),
    /// `x | lower`.
    Lower(&'static Expr),
    /// `x | upper`.
    Upper(&'static Expr),
    /// `x | trim`.
    Trim(&'static Expr),
}

/// A piece of a template: literal text, or `{{ expr }}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// Text as written.
    Text(&'static str),
    /// An expression, rendered as text.
    Expr(Expr),
}

/// An operation's transform and filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordTransform {
    /// Output field → template.
    pub outputs: &'static [(&'static str, &'static [Part])],
    /// The filter template, for collections.
    pub filter: Option<&'static [Part]>,
}

impl RecordTransform {
    /// Applies the transform to `record`, then (for collections) the filter: `None` when the
    /// filter drops it.
    pub(crate) fn apply(
        &self,
        record: Value,
        config: &BTreeMap<String, String>,
        collection: bool,
    ) -> Option<Value> {
        // A bare value is seen as `{"value": x}` by the templates (and a filter over a bare
        // list without outputs keeps the bare value).
        let was_object = record.is_object();
        let scope = if was_object {
            record
        } else {
            let mut m = Map::new();
            m.insert("value".into(), record);
            Value::Object(m)
        };
        let record = if self.outputs.is_empty() {
            scope
        } else {
            let outputs: Vec<(&str, String)> = self
                .outputs
                .iter()
                .map(|(name, parts)| (*name, render(parts, &scope, config)))
                .collect();
            let mut out = match scope {
                Value::Object(m) if was_object => m,
                _ => Map::new(),
            };
            for (name, text) in outputs {
                out.insert(name.to_string(), Value::String(text));
            }
            Value::Object(out)
        };
        let keep = match self.filter {
            Some(filter) if collection => {
                let verdict = render(filter, &record, config);
                !matches!(
                    verdict.trim(),
                    "" | "False" | "false" | "0" | "None" | "none" | "null"
                )
            }
            _ => true,
        };
        if !keep {
            return None;
        }
        // Without outputs a bare value stays what it was.
        Some(match record {
            Value::Object(mut m) if !was_object && self.outputs.is_empty() => {
                m.remove("value").unwrap_or(Value::Null)
            }
            other => other,
        })
    }
}

fn render(parts: &[Part], record: &Value, config: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(t),
            Part::Expr(e) => out.push_str(&text(&eval(e, record, config))),
        }
    }
    out
}

fn eval(e: &Expr, record: &Value, config: &BTreeMap<String, String>) -> Value {
    match e {
        Expr::Path(Root::Record, path) => {
            let mut node = record;
            for key in *path {
                match node.get(key) {
                    Some(v) => node = v,
                    None => return Value::Null,
                }
            }
            node.clone()
        }
        Expr::Path(Root::Config, path) => path
            .first()
            .and_then(|k| config.get(*k))
            .map(|v| Value::String(v.clone()))
            .unwrap_or(Value::Null),
        Expr::Lit(s) => Value::String(s.to_string()),
        Expr::Not(inner) => Value::Bool(!truthy(&eval(inner, record, config))),
        Expr::Replace(inner, from, to) => {
            Value::String(text(&eval(inner, record, config)).replace(from, to))
        }
        Expr::Lower(inner) => Value::String(text(&eval(inner, record, config)).to_lowercase()),
        Expr::Upper(inner) => Value::String(text(&eval(inner, record, config)).to_uppercase()),
        Expr::Trim(inner) => Value::String(text(&eval(inner, record, config)).trim().to_string()),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// Python's `str()` of a JSON value, as Jinja renders it.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static OWNER: [Part; 1] = [Part::Expr(Expr::Path(Root::Record, &["owner", "name"]))];
    static REGION: [Part; 2] = [
        Part::Text("region "),
        Part::Expr(Expr::Path(Root::Config, &["region"])),
    ];
    static KEY: [Part; 1] = [Part::Expr(Expr::Replace(
        &Expr::Path(Root::Record, &["value"]),
        "boards/",
        "",
    ))];
    static NOT_ARCHIVED: [Part; 1] = [Part::Expr(Expr::Not(&Expr::Path(
        Root::Record,
        &["archived"],
    )))];
    static PROJECTS: RecordTransform = RecordTransform {
        outputs: &[("owner_name", &OWNER), ("home", &REGION)],
        filter: Some(&NOT_ARCHIVED),
    };
    static REFS: RecordTransform = RecordTransform {
        outputs: &[("board_key", &KEY)],
        filter: None,
    };

    #[test]
    fn transforms_merge_outputs_and_filters_drop_records() {
        let config = BTreeMap::from([("region".to_string(), "eu".to_string())]);
        let kept = PROJECTS
            .apply(
                json!({"id": "p1", "owner": {"name": "Ada"}, "archived": false}),
                &config,
                true,
            )
            .unwrap();
        assert_eq!(kept["owner_name"], "Ada");
        assert_eq!(kept["home"], "region eu");
        assert_eq!(kept["id"], "p1");
        assert!(PROJECTS
            .apply(json!({"id": "p2", "archived": true}), &config, true)
            .is_none());
        // Absent values render as None; a filter over a missing flag keeps the record
        // (`not None` is True).
        let bare = PROJECTS.apply(json!({"id": "p3"}), &config, true).unwrap();
        assert_eq!(bare["owner_name"], "None");
        // A get is never filtered.
        assert!(PROJECTS
            .apply(json!({"archived": true}), &config, false)
            .is_some());
        // A bare value is wrapped as `value` and replaced by the outputs.
        assert_eq!(
            REFS.apply(json!("boards/q3-launch"), &BTreeMap::new(), true),
            Some(json!({"board_key": "q3-launch"}))
        );
    }
}

//! Field shaping and truncation of `execute` results, with the reference SDK's semantics:
//! `select_fields` keeps only the named fields of each record (a dot path reaches into nested
//! objects; a name that is a key as it stands is taken as that key), `exclude_fields` drops
//! them, and select wins when both are given. On collection actions (`list`, the context-store
//! actions), unless `skip_truncation` is set, every string longer than
//! [`MAX_TEXT_FIELD_CHARS`] characters is cut to that length and [`TRUNCATION_SUFFIX`] is
//! appended, telling an agent to `get` the record for the full value. `compact` (for agents'
//! context budgets, as Airbyte's MCP server does) drops `null`, `""`, `[]` and `{}` values.
//!
//! Hosted mode sends the options to Airbyte's `/execute` and applies them again to what comes
//! back (as the reference does); direct mode applies them on the client. Shaping decodes
//! each record into a `serde_json::Value`; without options nothing is decoded.

use serde_json::{Map, Value};

use crate::Error;

/// Strings longer than this many characters are truncated (collection actions only).
pub const MAX_TEXT_FIELD_CHARS: usize = 200;

/// Appended to a truncated string (the reference's exact text).
pub const TRUNCATION_SUFFIX: &str =
    "... [truncated — use `get` action with the record id to retrieve the full value]";

/// The longest `intent`, in characters.
pub const MAX_INTENT_CHARS: usize = 512;

/// The actions whose records are truncated unless `skip_truncation` is set.
pub(crate) fn is_collection_action(action: &str) -> bool {
    matches!(
        action,
        "list" | "search" | "context_store_search" | "context_store_sql_query"
    )
}

/// What to do to each record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shaping<'a> {
    pub(crate) select: &'a [String],
    pub(crate) exclude: &'a [String],
    pub(crate) truncate: bool,
    pub(crate) compact: bool,
}

impl Shaping<'_> {
    /// Whether records come out as they went in.
    pub(crate) fn is_identity(&self) -> bool {
        self.select.is_empty() && self.exclude.is_empty() && !self.truncate && !self.compact
    }

    /// Shapes one record.
    pub(crate) fn apply(&self, record: Value) -> Value {
        let record = if !self.select.is_empty() {
            pick(record, self.select)
        } else if !self.exclude.is_empty() {
            drop_fields(record, self.exclude)
        } else {
            record
        };
        let record = if self.truncate {
            truncate_deep(record)
        } else {
            record
        };
        if self.compact {
            compact_deep(record).unwrap_or(Value::Object(Map::new()))
        } else {
            record
        }
    }
}

/// Drops `null`, `""`, `[]` and `{}` values, recursively (a value that becomes empty is
/// dropped too); `None` when nothing is left.
fn compact_deep(value: Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(items) => {
            let kept: Vec<Value> = items.into_iter().filter_map(compact_deep).collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .into_iter()
                .filter_map(|(k, v)| compact_deep(v).map(|v| (k, v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other),
    }
}

/// Checks the field lists: each name non-empty, without empty path segments.
pub(crate) fn check_fields(option: &str, fields: &[String]) -> Result<(), Error> {
    for f in fields {
        if f.is_empty() || f.split('.').any(str::is_empty) {
            return Err(Error::invalid(
                option,
                format!(
                    "{f:?} is not a field name; give top-level names (`name`) or dot paths into nested objects (`status.name`)"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks an intent's length.
pub(crate) fn check_intent(intent: &str) -> Result<(), Error> {
    let n = intent.chars().count();
    if n > MAX_INTENT_CHARS {
        return Err(Error::invalid(
            "intent",
            format!("must be at most {MAX_INTENT_CHARS} characters, got {n}; say in a sentence why the call is made"),
        ));
    }
    Ok(())
}

fn pick(record: Value, fields: &[String]) -> Value {
    let Value::Object(record) = record else {
        return record;
    };
    let mut out = Map::new();
    for field in fields {
        if let Some(v) = record.get(field) {
            out.insert(field.clone(), v.clone());
            continue;
        }
        let path: Vec<&str> = field.split('.').collect();
        if let Some(v) = get_path(&record, &path) {
            set_path(&mut out, &path, v.clone());
        }
    }
    Value::Object(out)
}

fn drop_fields(record: Value, fields: &[String]) -> Value {
    let Value::Object(mut record) = record else {
        return record;
    };
    for field in fields {
        if record.shift_remove(field).is_some() {
            continue;
        }
        let path: Vec<&str> = field.split('.').collect();
        delete_path(&mut record, &path);
    }
    Value::Object(record)
}

fn get_path<'v>(record: &'v Map<String, Value>, path: &[&str]) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    let mut current = record.get(*first)?;
    for key in rest {
        current = current.as_object()?.get(*key)?;
    }
    Some(current)
}

fn set_path(out: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = out;
    for key in parents {
        let slot = current
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            return;
        };
        current = next;
    }
    current.insert(last.to_string(), value);
}

fn delete_path(record: &mut Map<String, Value>, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = record;
    for key in parents {
        match current.get_mut(*key) {
            Some(Value::Object(next)) => current = next,
            _ => return,
        }
    }
    current.shift_remove(*last);
}

fn truncate_deep(value: Value) -> Value {
    match value {
        Value::String(s) => match s.char_indices().nth(MAX_TEXT_FIELD_CHARS) {
            Some((cut, _)) => {
                let mut t = String::with_capacity(cut + TRUNCATION_SUFFIX.len());
                t.push_str(&s[..cut]);
                t.push_str(TRUNCATION_SUFFIX);
                Value::String(t)
            }
            None => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(truncate_deep).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, truncate_deep(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn select_keeps_the_named_fields_in_the_order_asked() {
        let r = json!({"id": "1", "name": "n", "status": {"id": "s", "name": "Live"}, "a.b": 7, "mode": "standard"});
        let sel = s(&["status.name", "id", "a.b", "missing", "mode.x"]);
        let out = Shaping {
            select: &sel,
            exclude: &[],
            truncate: false,
            compact: false,
        }
        .apply(r);
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"status":{"name":"Live"},"id":"1","a.b":7}"#
        );
    }

    #[test]
    fn exclude_drops_and_select_wins() {
        let r = json!({"id": "1", "summary": "x", "status": {"id": "s", "name": "Live"}});
        let ex = s(&["summary", "status.id", "nope.deeper"]);
        let out = Shaping {
            select: &[],
            exclude: &ex,
            truncate: false,
            compact: false,
        }
        .apply(r.clone());
        assert_eq!(out, json!({"id": "1", "status": {"name": "Live"}}));
        let sel = s(&["id"]);
        let both = Shaping {
            select: &sel,
            exclude: &ex,
            truncate: false,
            compact: false,
        }
        .apply(r);
        assert_eq!(both, json!({"id": "1"}));
    }

    #[test]
    fn truncation_cuts_long_strings_by_characters_everywhere() {
        let long = "é".repeat(250);
        let r = json!({"a": long, "b": ["x".repeat(201), "short"], "c": {"d": "y".repeat(200)}, "n": 5});
        let out = Shaping {
            select: &[],
            exclude: &[],
            truncate: true,
            compact: false,
        }
        .apply(r);
        let a = out["a"].as_str().unwrap();
        assert_eq!(a, format!("{}{TRUNCATION_SUFFIX}", "é".repeat(200)));
        assert!(out["b"][0].as_str().unwrap().ends_with(TRUNCATION_SUFFIX));
        assert_eq!(out["b"][1], "short");
        assert_eq!(
            out["c"]["d"].as_str().unwrap().len(),
            200,
            "200 is not over the limit"
        );
        assert_eq!(out["n"], 5);
    }

    #[test]
    fn compaction_drops_empty_values_recursively() {
        let r = json!({"id": "1", "a": null, "b": "", "c": [], "d": {}, "e": {"f": null, "g": [null, "", 0]}, "h": false, "i": [{"j": null}]});
        let out = Shaping {
            select: &[],
            exclude: &[],
            truncate: false,
            compact: true,
        }
        .apply(r);
        assert_eq!(out, json!({"id": "1", "e": {"g": [0]}, "h": false}));
    }

    #[test]
    fn bad_field_names_and_long_intents_are_refused() {
        assert!(check_fields("select_fields", &s(&["a", "b.c"])).is_ok());
        for bad in ["", "a..b", ".a", "a."] {
            let e = check_fields("select_fields", &s(&[bad])).unwrap_err();
            assert!(e.to_string().contains("select_fields"), "{e}");
        }
        assert!(check_intent(&"x".repeat(512)).is_ok());
        let e = check_intent(&"é".repeat(513)).unwrap_err().to_string();
        assert!(e.contains("at most 512 characters, got 513"), "{e}");
    }
}

//! Airbyte's `/execute` request options, as the hosted service applies them to a result:
//! `select_fields` (keep only these fields of each record; a dot path reaches into nested
//! objects, a name that is a key as it stands is that key; wins over `exclude_fields`),
//! `exclude_fields` (drop them), and `skip_truncation: false` (cut every string longer than
//! 200 characters in the records of `list` and the context-store actions, appending a note to
//! `get` the record). `intent` (at most 512 characters) is only checked; the request log keeps
//! it.

use serde_json::{Map, Value};

const MAX_CHARS: usize = 200;
const SUFFIX: &str =
    "... [truncated — use `get` action with the record id to retrieve the full value]";
const MAX_INTENT: usize = 512;

/// The options of one `/execute` request.
#[derive(Debug, Default)]
pub(crate) struct Options {
    select: Vec<Vec<String>>,
    exclude: Vec<Vec<String>>,
    truncate: bool,
}

impl Options {
    /// Reads the options from the request body; `Err` names what is malformed.
    pub(crate) fn read(body: &Map<String, Value>, action: &str) -> Result<Options, String> {
        let paths = |key: &str| -> Result<Vec<Vec<String>>, String> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| match v.as_str() {
                        Some(s) if !s.is_empty() => Ok(vec![s.to_string()]),
                        _ => Err(format!("{key} must be a list of non-empty strings")),
                    })
                    .collect(),
                Some(_) => Err(format!("{key} must be a list of strings")),
            }
        };
        let skip = match body.get("skip_truncation") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("skip_truncation must be a boolean".into()),
        };
        match body.get("intent") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.chars().count() <= MAX_INTENT => {}
            Some(Value::String(_)) => {
                return Err(format!("intent must be at most {MAX_INTENT} characters"))
            }
            Some(_) => return Err("intent must be a string".into()),
        }
        let collection = matches!(
            action,
            "list" | "context_store_search" | "context_store_sql_query"
        );
        Ok(Options {
            select: paths("select_fields")?,
            exclude: paths("exclude_fields")?,
            truncate: collection && !skip,
        })
    }

    /// Whether the result goes out untouched.
    pub(crate) fn is_noop(&self) -> bool {
        self.select.is_empty() && self.exclude.is_empty() && !self.truncate
    }

    /// Applies the options to the `result` of an `/execute` body (a record, a list of records,
    /// or `{data: [records], ...}`).
    pub(crate) fn apply(&self, result: &mut Value) {
        match result {
            Value::Array(records) => records.iter_mut().for_each(|r| self.record(r)),
            Value::Object(o) if o.get("data").is_some_and(Value::is_array) => {
                if let Some(Value::Array(records)) = o.get_mut("data") {
                    records.iter_mut().for_each(|r| self.record(r));
                }
            }
            other => self.record(other),
        }
    }

    fn record(&self, record: &mut Value) {
        if let Value::Object(map) = record {
            if !self.select.is_empty() {
                let mut kept = Map::new();
                for field in self.select.iter().map(|f| &f[0]) {
                    if let Some(v) = map.get(field) {
                        kept.insert(field.clone(), v.clone());
                    } else {
                        copy_path(map, &mut kept, &field.split('.').collect::<Vec<_>>());
                    }
                }
                *map = kept;
            } else {
                for field in self.exclude.iter().map(|f| &f[0]) {
                    if map.shift_remove(field).is_none() {
                        remove_path(map, &field.split('.').collect::<Vec<_>>());
                    }
                }
            }
        }
        if self.truncate {
            cut_strings(record);
        }
    }
}

/// Copies the value at `path` in `from` to the same path in `to` (creating objects on the
/// way) when the whole path exists in `from`.
fn copy_path(from: &Map<String, Value>, to: &mut Map<String, Value>, path: &[&str]) {
    fn found<'v>(v: &'v Value, rest: &[&str]) -> Option<&'v Value> {
        match rest.split_first() {
            None => Some(v),
            Some((k, more)) => found(v.as_object()?.get(*k)?, more),
        }
    }
    fn put(to: &mut Map<String, Value>, path: &[&str], value: Value) {
        match path {
            [] => {}
            [last] => {
                to.insert(last.to_string(), value);
            }
            [head, tail @ ..] => {
                let slot = to
                    .entry(head.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(inner) = slot {
                    put(inner, tail, value);
                }
            }
        }
    }
    let Some((head, tail)) = path.split_first() else {
        return;
    };
    if let Some(v) = from.get(*head).and_then(|v| found(v, tail)) {
        put(to, path, v.clone());
    }
}

fn remove_path(map: &mut Map<String, Value>, path: &[&str]) {
    match path {
        [] => {}
        [last] => {
            map.shift_remove(*last);
        }
        [head, tail @ ..] => {
            if let Some(Value::Object(inner)) = map.get_mut(*head) {
                remove_path(inner, tail);
            }
        }
    }
}

fn cut_strings(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some((at, _)) = s.char_indices().nth(MAX_CHARS) {
                s.truncate(at);
                s.push_str(SUFFIX);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(cut_strings),
        Value::Object(map) => map.values_mut().for_each(cut_strings),
        _ => {}
    }
}

//! The emulated Airbyte context store: the `context_store_search` action of the Airbyte
//! `/execute` route, evaluated over every record of an entity.
//!
//! Searchable fields come from the spec's `x-airbyte-context-store` (under `info`, or at the
//! root): each `entities[].fields[].name` is a top-level field, and every nested
//! `properties` key adds a dotted path (`creator.user.email`), exactly as the SDK's code
//! generator reads them. Filters, sorts and projections may only name those paths.
//!
//! Semantics (the wire format is documented in the SDK's `search` module):
//! - `eq`/`neq`: JSON equality, numbers compared numerically; a missing field equals `null`;
//!   `neq` is the negation of `eq`.
//! - `gt`/`gte`/`lt`/`lte`: numbers numerically, strings lexicographically (so RFC3339
//!   timestamps order correctly), booleans `false < true`; any other pairing (including a
//!   missing or `null` field) does not match.
//! - `in`: equal (as `eq`) to one of the values.
//! - `like`: string field, `%` matches any run of characters, case-insensitive, whole value.
//! - `fuzzy`: string field containing every whitespace-separated word of the query, in
//!   order, as case-insensitive substrings.
//! - `keyword`: string field sharing at least one word with the query (words are runs of
//!   letters and digits, compared case-insensitively).
//! - `contains`: array field with an element equal (as `eq`) to the value; `any`: with an
//!   element equal to one of the values. Non-array fields never match.
//! - `not`, `and` (all; empty is true), `or` (any; empty is false). A leaf naming several
//!   fields (`{"eq": {"a": 1, "b": 2}}`) requires all of them.
//! - `sort`: keys applied in order; `null`/missing values sort last in both directions; ties
//!   keep server order (record index).
//! - `limit` (default 1000) records per page; `cursor` is an opaque string encoding the offset
//!   of the next page; `has_more` says whether records follow.
//! - `fields`: paths (`["creator", "user", "email"]` or `"creator.user.email"`) the records
//!   are projected to; without it, records keep their searchable top-level fields. Fields a
//!   record lacks are omitted.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::backend::Backend;
use super::spec::mix;

/// Default page size of a search.
pub(crate) const DEFAULT_LIMIT: usize = 1000;
/// Mixed into cursors so they are opaque.
const CURSOR_MASK: u64 = 0x5EA2_C4C0_25C0_FFEE;
/// Field operators (besides `not`, `and`, `or`).
const FIELD_OPS: &[&str] = &[
    "eq", "neq", "gt", "gte", "lt", "lte", "in", "like", "fuzzy", "keyword", "contains", "any",
];

/// The searchable fields of one entity.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntityFields {
    /// Top-level field names, in spec order: the default projection.
    pub top: Vec<String>,
    /// Every searchable path, dotted (top-level names included).
    pub all: HashSet<String>,
}

/// Reads `x-airbyte-context-store.entities` (under `info`, else at the root) into
/// entity name → searchable fields. Entities without fields are left out.
pub(crate) fn read_fields(root: &Value) -> HashMap<String, EntityFields> {
    let store = root
        .pointer("/info/x-airbyte-context-store")
        .or_else(|| root.get("x-airbyte-context-store"));
    let mut out: HashMap<String, EntityFields> = HashMap::new();
    let Some(entities) = store
        .and_then(|s| s.get("entities"))
        .and_then(Value::as_array)
    else {
        return out;
    };
    for item in entities {
        let Some(name) = item.get("entity").and_then(Value::as_str) else {
            continue;
        };
        let Some(fields) = item.get("fields").and_then(Value::as_array) else {
            continue;
        };
        let entry = out.entry(name.to_string()).or_default();
        for f in fields {
            let Some(field) = f
                .get("name")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            if !entry.top.iter().any(|t| t == field) {
                entry.top.push(field.to_string());
            }
            collect_paths(f, field, &mut entry.all);
        }
    }
    out.retain(|_, f| !f.top.is_empty());
    out
}

fn collect_paths(node: &Value, path: &str, out: &mut HashSet<String>) {
    out.insert(path.to_string());
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, sub) in props {
            collect_paths(sub, &format!("{path}.{k}"), out);
        }
    }
}

/// A search request the caller got wrong (answered with 422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SearchError(pub String);

type Result<T> = std::result::Result<T, SearchError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(SearchError(msg.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Like,
    Fuzzy,
    Keyword,
    Contains,
    Any,
}

/// A compiled filter condition.
#[derive(Debug)]
enum Cond {
    Leaf {
        op: Op,
        path: Vec<String>,
        value: Value,
        /// Lowercased words or pattern pieces, for the text operators.
        words: Vec<String>,
    },
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// A parsed and checked search.
#[derive(Debug)]
struct Query {
    filter: Option<Cond>,
    sort: Vec<(Vec<String>, bool)>,
    limit: usize,
    offset: usize,
    fields: Option<Vec<Vec<String>>>,
}

/// Runs a `context_store_search` over every record of `entity`; returns the `result`
/// object `{data, meta: {has_more, cursor, took_ms}}`.
pub(crate) fn search(
    backend: &Backend,
    entity: &str,
    fields: &EntityFields,
    params: &Map<String, Value>,
) -> Result<Value> {
    let started = Instant::now();
    let q = parse(entity, fields, params)?;
    let count = backend.count(entity).unwrap_or(0);

    // Matching record indices with their sort keys. The scan renders only the top-level
    // fields the filter and sort use; the page's records are rendered afterwards.
    let mut scanned: Vec<&str> = Vec::new();
    if let Some(c) = &q.filter {
        top_level_keys(c, &mut scanned);
    }
    for (p, _) in &q.sort {
        scanned.push(&p[0]);
    }
    scanned.sort_unstable();
    scanned.dedup();
    let mut hits: Vec<(usize, Vec<Option<Value>>)> = Vec::new();
    for i in 0..count {
        let rec = partial(backend, entity, i, &scanned);
        if q.filter.as_ref().is_none_or(|c| matches(c, &rec)) {
            let keys = q
                .sort
                .iter()
                .map(|(p, _)| lookup(&rec, p).filter(|v| !v.is_null()).cloned())
                .collect();
            hits.push((i, keys));
        }
    }
    if !q.sort.is_empty() {
        hits.sort_by(|(_, a), (_, b)| {
            for ((ka, kb), (_, desc)) in a.iter().zip(b).zip(&q.sort) {
                let o = match (ka, kb) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Greater,
                    (Some(_), None) => Ordering::Less,
                    (Some(x), Some(y)) => {
                        let o = total_cmp(x, y);
                        if *desc {
                            o.reverse()
                        } else {
                            o
                        }
                    }
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    let start = q.offset.min(hits.len());
    let end = start.saturating_add(q.limit).min(hits.len());
    let data: Vec<Value> = hits[start..end]
        .iter()
        .filter_map(|(i, _)| match &q.fields {
            // A projection needs only the top-level fields it names.
            Some(paths) => {
                let mut keys: Vec<&str> = paths.iter().map(|p| p[0].as_str()).collect();
                keys.sort_unstable();
                keys.dedup();
                Some(partial(backend, entity, *i, &keys))
            }
            None => backend.record(entity, *i),
        })
        .map(|rec| project(&rec, fields, q.fields.as_deref()))
        .collect();
    let has_more = end < hits.len();
    let cursor = has_more.then(|| encode_cursor(end));
    Ok(json!({
        "data": data,
        "meta": {
            "has_more": has_more,
            "cursor": cursor,
            "took_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }))
}

/// Record `i` of `entity` with only the top-level `keys` (those it has).
fn partial(backend: &Backend, entity: &str, i: usize, keys: &[&str]) -> Value {
    let mut out = Map::new();
    for k in keys {
        if let Some(v) = backend.field_value(entity, i, k) {
            out.insert((*k).to_string(), v);
        }
    }
    Value::Object(out)
}

/// The first path segment of every field a condition reads.
fn top_level_keys<'a>(c: &'a Cond, out: &mut Vec<&'a str>) {
    match c {
        Cond::Leaf { path, .. } => out.push(&path[0]),
        Cond::Not(c) => top_level_keys(c, out),
        Cond::And(cs) | Cond::Or(cs) => cs.iter().for_each(|c| top_level_keys(c, out)),
    }
}

// ───────────────────────────── parsing ─────────────────────────────

fn parse(entity: &str, fields: &EntityFields, params: &Map<String, Value>) -> Result<Query> {
    let field = |name: &str, at: &str| -> Result<Vec<String>> {
        if fields.all.contains(name) {
            Ok(name.split('.').map(str::to_string).collect())
        } else {
            let mut known: Vec<&str> = fields.all.iter().map(String::as_str).collect();
            known.sort_unstable();
            err(format!(
                "{at}: `{name}` is not a searchable field of {entity}; searchable fields: {}",
                known.join(", ")
            ))
        }
    };
    let mut q = Query {
        filter: None,
        sort: Vec::new(),
        limit: DEFAULT_LIMIT,
        offset: 0,
        fields: None,
    };
    for (key, value) in params {
        match key.as_str() {
            "query" => match value {
                Value::Null => {}
                Value::Object(obj) => {
                    for (k, v) in obj {
                        match k.as_str() {
                            "filter" if v.is_null() => {}
                            "filter" => q.filter = Some(condition(v, "query.filter", &field)?),
                            "sort" if v.is_null() => {}
                            "sort" => q.sort = sort(v, &field)?,
                            other => {
                                return err(format!(
                                    "query.{other}: unknown key; a query has `filter` and `sort`"
                                ))
                            }
                        }
                    }
                }
                other => {
                    return err(format!(
                        "query: must be an object like {{\"filter\": {{...}}, \"sort\": [...]}}, got {other}"
                    ))
                }
            },
            "limit" => match value {
                Value::Null => {}
                v => match v.as_u64().filter(|n| *n >= 1) {
                    Some(n) => q.limit = usize::try_from(n).unwrap_or(usize::MAX),
                    None => return err(format!("limit: must be a positive integer, got {v}")),
                },
            },
            "cursor" => match value {
                Value::Null => {}
                Value::String(s) if s.is_empty() => {}
                Value::String(s) => match decode_cursor(s) {
                    Some(n) => q.offset = n,
                    None => {
                        return err(format!(
                            "cursor: {s:?} is not the cursor of a previous page"
                        ))
                    }
                },
                other => {
                    return err(format!(
                        "cursor: must be the `cursor` string of a previous page, got {other}"
                    ))
                }
            },
            "fields" => match value {
                Value::Null => {}
                Value::Array(items) => {
                    let mut paths = Vec::with_capacity(items.len());
                    for item in items {
                        let path = match item {
                            Value::String(s) => s.clone(),
                            Value::Array(parts)
                                if !parts.is_empty() && parts.iter().all(Value::is_string) =>
                            {
                                parts
                                    .iter()
                                    .filter_map(Value::as_str)
                                    .collect::<Vec<_>>()
                                    .join(".")
                            }
                            other => return err(format!("fields: {other} is not a field path")),
                        };
                        paths.push(field(&path, "fields")?);
                    }
                    q.fields = Some(paths);
                }
                other => {
                    return err(format!(
                        "fields: must be a list of field paths, e.g. [[\"id\"], [\"creator\", \"user\", \"email\"]], got {other}"
                    ))
                }
            },
            other => {
                return err(format!(
                    "{other}: unknown parameter; search takes query, limit, cursor and fields"
                ))
            }
        }
    }
    Ok(q)
}

fn sort(
    v: &Value,
    field: &dyn Fn(&str, &str) -> Result<Vec<String>>,
) -> Result<Vec<(Vec<String>, bool)>> {
    let Value::Array(items) = v else {
        return err(format!(
            "query.sort: must be a list like [{{\"created_at\": \"desc\"}}], got {v}"
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(obj) = item.as_object().filter(|o| o.len() == 1) else {
            return err(format!(
                "query.sort: each entry must be one {{\"<field>\": \"asc\"|\"desc\"}}, got {item}"
            ));
        };
        for (f, dir) in obj {
            let path = field(f, "query.sort")?;
            let desc = match dir.as_str() {
                Some("asc") => false,
                Some("desc") => true,
                _ => {
                    return err(format!(
                        "query.sort: direction for `{f}` must be \"asc\" or \"desc\", got {dir}"
                    ))
                }
            };
            out.push((path, desc));
        }
    }
    Ok(out)
}

fn condition(
    v: &Value,
    at: &str,
    field: &dyn Fn(&str, &str) -> Result<Vec<String>>,
) -> Result<Cond> {
    let Some(obj) = v.as_object().filter(|o| o.len() == 1) else {
        return err(format!(
            "{at}: a condition is an object with one operator ({}, not, and, or), got {v}",
            FIELD_OPS.join(", ")
        ));
    };
    let (op, arg) = obj.iter().next().expect("one entry");
    let here = format!("{at}.{op}");
    let op = match op.as_str() {
        "not" => return Ok(Cond::Not(Box::new(condition(arg, &here, field)?))),
        "and" | "or" => {
            let Value::Array(items) = arg else {
                return err(format!("{here}: must be a list of conditions, got {arg}"));
            };
            let conds = items
                .iter()
                .map(|c| condition(c, &here, field))
                .collect::<Result<Vec<_>>>()?;
            return Ok(if op == "and" {
                Cond::And(conds)
            } else {
                Cond::Or(conds)
            });
        }
        "eq" => Op::Eq,
        "neq" => Op::Neq,
        "gt" => Op::Gt,
        "gte" => Op::Gte,
        "lt" => Op::Lt,
        "lte" => Op::Lte,
        "in" => Op::In,
        "like" => Op::Like,
        "fuzzy" => Op::Fuzzy,
        "keyword" => Op::Keyword,
        "contains" => Op::Contains,
        "any" => Op::Any,
        other => {
            return err(format!(
                "{at}: unknown operator `{other}`; use one of {}, not, and, or",
                FIELD_OPS.join(", ")
            ))
        }
    };
    let Some(fields) = arg.as_object().filter(|o| !o.is_empty()) else {
        return err(format!(
            "{here}: must be an object {{\"<field>\": <value>}}, got {arg}"
        ));
    };
    let mut leaves = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        let path = field(name, &here)?;
        let words = match op {
            Op::In | Op::Any => {
                if !value.is_array() {
                    return err(format!(
                        "{here}: `{name}` takes a list of values, got {value}"
                    ));
                }
                Vec::new()
            }
            Op::Like | Op::Fuzzy | Op::Keyword => {
                let Some(s) = value.as_str() else {
                    return err(format!("{here}: `{name}` takes a string, got {value}"));
                };
                let s = s.to_lowercase();
                match op {
                    Op::Like => s.split('%').map(str::to_string).collect(),
                    Op::Fuzzy => s.split_whitespace().map(str::to_string).collect(),
                    _ => words_of(&s),
                }
            }
            _ => Vec::new(),
        };
        leaves.push(Cond::Leaf {
            op,
            path,
            value: value.clone(),
            words,
        });
    }
    Ok(if leaves.len() == 1 {
        leaves.pop().expect("one leaf")
    } else {
        Cond::And(leaves)
    })
}

// ───────────────────────────── evaluation ─────────────────────────────

/// The value at a dotted path (objects only); `None` when a step is missing.
fn lookup<'a>(rec: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(rec, |v, k| v.as_object()?.get(k))
}

fn matches(c: &Cond, rec: &Value) -> bool {
    match c {
        Cond::Not(c) => !matches(c, rec),
        Cond::And(cs) => cs.iter().all(|c| matches(c, rec)),
        Cond::Or(cs) => cs.iter().any(|c| matches(c, rec)),
        Cond::Leaf {
            op,
            path,
            value,
            words,
        } => {
            let got = lookup(rec, path).unwrap_or(&Value::Null);
            let ord = || compare(got, value);
            match op {
                Op::Eq => json_eq(got, value),
                Op::Neq => !json_eq(got, value),
                Op::Gt => ord() == Some(Ordering::Greater),
                Op::Gte => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
                Op::Lt => ord() == Some(Ordering::Less),
                Op::Lte => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
                Op::In => value
                    .as_array()
                    .is_some_and(|vs| vs.iter().any(|v| json_eq(got, v))),
                Op::Contains => got
                    .as_array()
                    .is_some_and(|items| items.iter().any(|x| json_eq(x, value))),
                Op::Any => match (got.as_array(), value.as_array()) {
                    (Some(items), Some(vs)) => {
                        items.iter().any(|x| vs.iter().any(|v| json_eq(x, v)))
                    }
                    _ => false,
                },
                Op::Like => got.as_str().is_some_and(|s| like(&s.to_lowercase(), words)),
                Op::Fuzzy => got.as_str().is_some_and(|s| {
                    let s = s.to_lowercase();
                    let mut from = 0;
                    words.iter().all(|w| match s[from..].find(w.as_str()) {
                        Some(at) => {
                            from += at + w.len();
                            true
                        }
                        None => false,
                    })
                }),
                Op::Keyword => got.as_str().is_some_and(|s| {
                    let have = words_of(&s.to_lowercase());
                    words.iter().any(|w| have.contains(w))
                }),
            }
        }
    }
}

/// Runs of letters and digits.
fn words_of(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `%`-pattern match over the whole string; `pieces` is the pattern split on `%`.
fn like(s: &str, pieces: &[String]) -> bool {
    match pieces {
        [] => s.is_empty(),
        [only] => s == only,
        [first, middle @ .., last] => {
            let Some(mut rest) = s.strip_prefix(first.as_str()) else {
                return false;
            };
            for p in middle {
                match rest.find(p.as_str()) {
                    Some(at) => rest = &rest[at + p.len()..],
                    None => return false,
                }
            }
            rest.len() >= last.len() && rest.ends_with(last.as_str())
        }
    }
}

/// JSON equality with numbers compared by value (`1 == 1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => compare(a, b) == Some(Ordering::Equal),
        _ => a == b,
    }
}

/// Order of two values of the same kind: numbers, strings or booleans.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                Some(x.cmp(&y))
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                Some(x.cmp(&y))
            } else {
                x.as_f64()?.partial_cmp(&y.as_f64()?)
            }
        }
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// A total order for sorting: same-kind values by [`compare`], else by kind
/// (booleans, numbers, strings, arrays, objects).
fn total_cmp(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    compare(a, b).unwrap_or_else(|| rank(a).cmp(&rank(b)))
}

// ───────────────────────────── output ─────────────────────────────

/// The record cut down to `paths`, or to the searchable top-level fields.
fn project(rec: &Value, fields: &EntityFields, paths: Option<&[Vec<String>]>) -> Value {
    let mut out = Map::new();
    match paths {
        None => {
            for name in &fields.top {
                if let Some(v) = rec.get(name) {
                    out.insert(name.clone(), v.clone());
                }
            }
        }
        Some(paths) => {
            for path in paths {
                if let Some(v) = lookup(rec, path) {
                    insert_path(&mut out, path, v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

fn insert_path(out: &mut Map<String, Value>, path: &[String], v: Value) {
    match path {
        [] => {}
        [last] => {
            out.insert(last.clone(), v);
        }
        [first, rest @ ..] => {
            let slot = out
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                // A parent path asked for earlier already holds the whole value.
                return;
            }
            if let Value::Object(inner) = slot {
                insert_path(inner, rest, v);
            }
        }
    }
}

fn cursor_check(offset: u64) -> u64 {
    mix(offset ^ CURSOR_MASK) & 0xFFFF_FFFF
}

/// An opaque cursor for the page starting at `offset`.
fn encode_cursor(offset: usize) -> String {
    let n = offset as u64;
    format!("{:016x}{:08x}", n ^ CURSOR_MASK, cursor_check(n))
}

fn decode_cursor(s: &str) -> Option<usize> {
    if s.len() != 24 || !s.is_ascii() {
        return None;
    }
    let n = u64::from_str_radix(&s[..16], 16).ok()? ^ CURSOR_MASK;
    let check = u64::from_str_radix(&s[16..], 16).ok()?;
    (check == cursor_check(n)).then(|| usize::try_from(n).ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        let p = |s: &str| s.split('%').map(str::to_string).collect::<Vec<_>>();
        assert!(like("inc-12", &p("inc-%")));
        assert!(like("inc-12", &p("%12")));
        assert!(like("inc-12", &p("%c-1%")));
        assert!(like("inc-12", &p("inc-12")));
        assert!(!like("inc-12", &p("inc-1")));
        assert!(like("abab", &p("ab%ab")));
        assert!(!like("aba", &p("ab%ab")));
        assert!(like("", &p("%")));
    }

    #[test]
    fn cursors_round_trip() {
        for n in [0usize, 1, 250, 1_000_000] {
            assert_eq!(decode_cursor(&encode_cursor(n)), Some(n));
        }
        assert_eq!(decode_cursor("nope"), None);
        let mut c = encode_cursor(5);
        c.replace_range(23..24, if c.ends_with('0') { "1" } else { "0" });
        assert_eq!(decode_cursor(&c), None);
    }

    #[test]
    fn field_values_match_whole_records() {
        let backend = Backend::new(
            incident_io_connector::SPEC_JSON,
            3,
            &HashMap::new(),
            Some(40),
            crate::RecordShape::RealShaped,
            None,
        )
        .unwrap();
        let root: Value = serde_json::from_str(incident_io_connector::SPEC_JSON).unwrap();
        let store = read_fields(&root);
        assert!(store.contains_key("incidents"));
        for entity in backend.entities() {
            for i in 0..40 {
                let rec = backend.record(&entity, i).unwrap();
                let obj = rec.as_object().unwrap();
                for (k, v) in obj {
                    assert_eq!(
                        backend.field_value(&entity, i, k).as_ref(),
                        Some(v),
                        "{entity}[{i}].{k}"
                    );
                }
                for k in store
                    .get(&entity)
                    .map(|f| f.top.clone())
                    .unwrap_or_default()
                {
                    if !obj.contains_key(&k) {
                        assert_eq!(
                            backend.field_value(&entity, i, &k),
                            None,
                            "{entity}[{i}].{k}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn projection_merges_paths() {
        let rec = json!({"a": {"b": 1, "c": 2}, "d": 3});
        let fields = EntityFields::default();
        let paths = vec![
            vec!["a".to_string(), "b".to_string()],
            vec!["d".to_string()],
            vec!["x".to_string()],
        ];
        assert_eq!(
            project(&rec, &fields, Some(&paths)),
            json!({"a": {"b": 1}, "d": 3})
        );
    }
}

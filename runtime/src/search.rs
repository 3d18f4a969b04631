//! Context-store search (hosted mode only): Airbyte keeps a searchable copy of each entity's
//! records, declared per entity in the spec's `x-airbyte-context-store`.
//!
//! The typed builder takes the entity's generated field enum (for example
//! `entities::IncidentsSearchField` in the incident.io crate), so a field the entity cannot
//! search does not compile.
//! The untyped path (`execute(entity, "search", params)`) checks field names at run time.
//!
//! Wire format (`params` of the `context_store_search` action):
//! `{"query": {"filter": <condition>, "sort": [{"<field>": "asc"|"desc"}]}, "limit": n,
//! "cursor": "...", "fields": [["id"], ["creator", "user", "email"]]}`. The conditions are:
//! - comparisons `{"eq"|"neq"|"gt"|"gte"|"lt"|"lte": {"<field>": value}}`;
//! - set membership `{"in": {"<field>": [values]}}`;
//! - text matches `{"like": {"<field>": "%pattern%"}}`, `{"fuzzy": {...: "words"}}` and
//!   `{"keyword": {...: "word"}}`;
//! - array matches `{"contains": {"<field>": value}}` and `{"any": {"<field>": [values]}}`;
//! - logic `{"not": <condition>}`, `{"and": [<condition>...]}`, `{"or": [...]}`.
//!
//! The result is `{"data": [...], "meta": {"has_more", "cursor", "took_ms"}}`.
//!
//! Each generated crate's `search` module shows a typed query for one of its entities, and
//! that a field of another entity does not compile.

use std::fmt::Debug;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::meta::EntityMeta;
use crate::Error;

/// The action name `execute` accepts for hosted context-store search (alongside
/// `context_store_search`).
pub const SEARCH: &str = "search";

/// The action name of context-store search on the wire (and accepted by `execute`).
pub const SEARCH_ACTION: &str = "context_store_search";

/// A searchable field of one entity. Implemented by the generated `<Entity>SearchField` enums.
pub trait SearchField: Copy + Debug + Send + Sync + 'static {
    /// The entity these fields belong to.
    const ENTITY: &'static str;
    /// The field's path, dotted for nested fields (`creator.user.email`).
    fn path(self) -> &'static str;
}

/// A filter condition over the fields `F` of one entity.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Condition<F> {
    /// Equal.
    Eq(F, Value),
    /// Not equal.
    Neq(F, Value),
    /// Greater than.
    Gt(F, Value),
    /// Greater than or equal.
    Gte(F, Value),
    /// Less than.
    Lt(F, Value),
    /// Less than or equal.
    Lte(F, Value),
    /// Equal to one of the values.
    In(F, Vec<Value>),
    /// SQL-style pattern on a string field (`%` matches any run of characters).
    Like(F, String),
    /// Ordered words, case-insensitive, on a string field.
    Fuzzy(F, String),
    /// Any of the words, on a string field.
    Keyword(F, String),
    /// An array field contains the value.
    Contains(F, Value),
    /// An array field contains any of the values.
    Any(F, Vec<Value>),
    /// Negation.
    Not(Box<Condition<F>>),
    /// All of the conditions.
    And(Vec<Condition<F>>),
    /// Any of the conditions.
    Or(Vec<Condition<F>>),
}

impl<F: SearchField> Condition<F> {
    /// `field == value`.
    pub fn eq(field: F, value: impl Into<Value>) -> Self {
        Condition::Eq(field, value.into())
    }
    /// `field != value`.
    pub fn neq(field: F, value: impl Into<Value>) -> Self {
        Condition::Neq(field, value.into())
    }
    /// `field > value`.
    pub fn gt(field: F, value: impl Into<Value>) -> Self {
        Condition::Gt(field, value.into())
    }
    /// `field >= value`.
    pub fn gte(field: F, value: impl Into<Value>) -> Self {
        Condition::Gte(field, value.into())
    }
    /// `field < value`.
    pub fn lt(field: F, value: impl Into<Value>) -> Self {
        Condition::Lt(field, value.into())
    }
    /// `field <= value`.
    pub fn lte(field: F, value: impl Into<Value>) -> Self {
        Condition::Lte(field, value.into())
    }
    /// `field` is one of `values`.
    pub fn is_in<V: Into<Value>>(field: F, values: impl IntoIterator<Item = V>) -> Self {
        Condition::In(field, values.into_iter().map(Into::into).collect())
    }
    /// `field LIKE pattern`.
    pub fn like(field: F, pattern: impl Into<String>) -> Self {
        Condition::Like(field, pattern.into())
    }
    /// Fuzzy word match.
    pub fn fuzzy(field: F, words: impl Into<String>) -> Self {
        Condition::Fuzzy(field, words.into())
    }
    /// Keyword match.
    pub fn keyword(field: F, words: impl Into<String>) -> Self {
        Condition::Keyword(field, words.into())
    }
    /// The array `field` contains `value`.
    pub fn contains(field: F, value: impl Into<Value>) -> Self {
        Condition::Contains(field, value.into())
    }
    /// The array `field` contains any of `values`.
    pub fn any<V: Into<Value>>(field: F, values: impl IntoIterator<Item = V>) -> Self {
        Condition::Any(field, values.into_iter().map(Into::into).collect())
    }
    /// All of `conds`.
    pub fn all(conds: impl IntoIterator<Item = Condition<F>>) -> Self {
        Condition::And(conds.into_iter().collect())
    }
    /// Any of `conds`.
    pub fn either(conds: impl IntoIterator<Item = Condition<F>>) -> Self {
        Condition::Or(conds.into_iter().collect())
    }
    /// `self AND other`.
    pub fn and(self, other: Condition<F>) -> Self {
        match self {
            Condition::And(mut v) => {
                v.push(other);
                Condition::And(v)
            }
            c => Condition::And(vec![c, other]),
        }
    }
    /// `self OR other`.
    pub fn or(self, other: Condition<F>) -> Self {
        match self {
            Condition::Or(mut v) => {
                v.push(other);
                Condition::Or(v)
            }
            c => Condition::Or(vec![c, other]),
        }
    }

    /// The wire form.
    pub fn to_json(&self) -> Value {
        let leaf = |op: &str, f: &F, v: Value| json!({ op: { f.path(): v } });
        match self {
            Condition::Eq(f, v) => leaf("eq", f, v.clone()),
            Condition::Neq(f, v) => leaf("neq", f, v.clone()),
            Condition::Gt(f, v) => leaf("gt", f, v.clone()),
            Condition::Gte(f, v) => leaf("gte", f, v.clone()),
            Condition::Lt(f, v) => leaf("lt", f, v.clone()),
            Condition::Lte(f, v) => leaf("lte", f, v.clone()),
            Condition::In(f, v) => leaf("in", f, Value::Array(v.clone())),
            Condition::Like(f, s) => leaf("like", f, json!(s)),
            Condition::Fuzzy(f, s) => leaf("fuzzy", f, json!(s)),
            Condition::Keyword(f, s) => leaf("keyword", f, json!(s)),
            Condition::Contains(f, v) => leaf("contains", f, v.clone()),
            Condition::Any(f, v) => leaf("any", f, Value::Array(v.clone())),
            Condition::Not(c) => json!({"not": c.to_json()}),
            Condition::And(cs) => {
                json!({"and": cs.iter().map(Condition::to_json).collect::<Vec<_>>()})
            }
            Condition::Or(cs) => {
                json!({"or": cs.iter().map(Condition::to_json).collect::<Vec<_>>()})
            }
        }
    }
}

/// `!condition` negates it (`{"not": ...}` on the wire).
impl<F> std::ops::Not for Condition<F> {
    type Output = Condition<F>;
    fn not(self) -> Self::Output {
        Condition::Not(Box::new(self))
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

impl SortOrder {
    fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// A search over the fields `F` of one entity: filter, sort, limit, cursor, projection.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct SearchQuery<F> {
    filter: Option<Condition<F>>,
    sort: Vec<(F, SortOrder)>,
    limit: Option<u32>,
    pub(crate) cursor: Option<String>,
    fields: Vec<F>,
}

impl<F: SearchField> Default for SearchQuery<F> {
    fn default() -> Self {
        SearchQuery {
            filter: None,
            sort: Vec::new(),
            limit: None,
            cursor: None,
            fields: Vec::new(),
        }
    }
}

impl<F: SearchField> SearchQuery<F> {
    /// Matches every record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only records matching `condition`.
    pub fn filter(mut self, condition: Condition<F>) -> Self {
        self.filter = Some(condition);
        self
    }

    /// Adds a sort key (applied in the order added).
    pub fn sort(mut self, field: F, order: SortOrder) -> Self {
        self.sort.push((field, order));
        self
    }

    /// At most `n` records per page (the server's default is 1000).
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }

    /// Continues after a previous page (its `cursor`).
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Returns only these fields of each record.
    pub fn fields(mut self, fields: impl IntoIterator<Item = F>) -> Self {
        self.fields = fields.into_iter().collect();
        self
    }

    /// The `params` object sent to the `context_store_search` action.
    pub fn to_params(&self) -> Map<String, Value> {
        let mut query = Map::new();
        if let Some(f) = &self.filter {
            query.insert("filter".into(), f.to_json());
        }
        if !self.sort.is_empty() {
            let sort = self
                .sort
                .iter()
                .map(|(f, o)| json!({ f.path(): o.as_str() }))
                .collect();
            query.insert("sort".into(), Value::Array(sort));
        }
        let mut params = Map::new();
        params.insert("query".into(), Value::Object(query));
        if let Some(n) = self.limit {
            params.insert("limit".into(), json!(n));
        }
        if let Some(c) = &self.cursor {
            params.insert("cursor".into(), json!(c));
        }
        if !self.fields.is_empty() {
            let fields = self
                .fields
                .iter()
                .map(|f| json!(f.path().split('.').collect::<Vec<_>>()))
                .collect();
            params.insert("fields".into(), Value::Array(fields));
        }
        params
    }
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SearchPage<R> {
    /// The matching records (only the searchable fields, or those asked for).
    pub data: Vec<R>,
    /// Whether more matches follow.
    pub has_more: bool,
    /// Pass to [`SearchQuery::cursor`] for the next page.
    pub cursor: Option<String>,
    /// Server-side time, in milliseconds.
    pub took_ms: Option<u64>,
}

impl<R> SearchPage<R> {
    pub(crate) fn from_wire(w: WirePage<R>) -> Self {
        let meta = w.meta.unwrap_or_default();
        SearchPage {
            data: w.data,
            has_more: meta.has_more.unwrap_or(false),
            cursor: meta.cursor.filter(|c| !c.is_empty()),
            took_ms: meta.took_ms,
        }
    }
}

#[derive(Deserialize)]
#[serde(bound = "R: Deserialize<'de>")]
pub(crate) struct WirePage<R> {
    #[serde(default = "Vec::new")]
    data: Vec<R>,
    #[serde(default)]
    meta: Option<WireMeta>,
}

#[derive(Deserialize, Default)]
struct WireMeta {
    #[serde(default)]
    has_more: Option<bool>,
    #[serde(default)]
    pub(crate) cursor: Option<String>,
    #[serde(default)]
    took_ms: Option<u64>,
}

/// Checks untyped search params (the `execute` path) against the entity's searchable fields.
pub(crate) fn check_params(entity: &EntityMeta, params: &Map<String, Value>) -> Result<(), Error> {
    let fields: Vec<&str> = entity.search_fields.iter().map(|f| f.name).collect();
    if fields.is_empty() {
        return Err(Error::invalid(
            "action",
            format!(
                "`{}` declares no searchable fields, so it cannot be searched",
                entity.name
            ),
        ));
    }
    let field_ok = |name: &str, at: &str| -> Result<(), Error> {
        if fields.contains(&name) {
            Ok(())
        } else {
            Err(Error::invalid(
                at,
                format!(
                    "`{name}` is not a searchable field of {}; searchable fields: {}",
                    entity.name,
                    fields.join(", ")
                ),
            ))
        }
    };
    for (key, value) in params {
        match key.as_str() {
            "query" => {
                let Value::Object(q) = value else {
                    return Err(Error::invalid(
                        "params.query",
                        "must be an object like {\"filter\": {...}, \"sort\": [...]}",
                    ));
                };
                for (k, v) in q {
                    match k.as_str() {
                        "filter" => check_condition(v, "params.query.filter", &field_ok)?,
                        "sort" => {
                            let Value::Array(items) = v else {
                                return Err(Error::invalid(
                                    "params.query.sort",
                                    "must be a list like [{\"created_at\": \"desc\"}]",
                                ));
                            };
                            for item in items {
                                let Some(obj) = item.as_object().filter(|o| o.len() == 1) else {
                                    return Err(Error::invalid(
                                        "params.query.sort",
                                        "each entry must be one {\"<field>\": \"asc\"|\"desc\"}",
                                    ));
                                };
                                for (f, dir) in obj {
                                    field_ok(f, "params.query.sort")?;
                                    if !matches!(dir.as_str(), Some("asc" | "desc")) {
                                        return Err(Error::invalid("params.query.sort", format!("direction for `{f}` must be \"asc\" or \"desc\", got {dir}")));
                                    }
                                }
                            }
                        }
                        other => {
                            return Err(Error::invalid(
                                format!("params.query.{other}"),
                                "unknown key; a query has `filter` and `sort`",
                            ))
                        }
                    }
                }
            }
            "limit" => {
                if value.as_u64().is_none_or(|n| n < 1) {
                    return Err(Error::invalid(
                        "params.limit",
                        format!("must be a positive integer, got {value}"),
                    ));
                }
            }
            "cursor" => {
                if !value.is_string() {
                    return Err(Error::invalid(
                        "params.cursor",
                        "must be the `cursor` string of a previous page",
                    ));
                }
            }
            "fields" => {
                let Value::Array(items) = value else {
                    return Err(Error::invalid("params.fields", "must be a list of field paths, e.g. [[\"id\"], [\"creator\", \"user\", \"email\"]] or [\"id\", \"creator.user.email\"]"));
                };
                for item in items {
                    let path = match item {
                        Value::String(s) => s.clone(),
                        Value::Array(parts) if parts.iter().all(Value::is_string) => parts
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join("."),
                        other => {
                            return Err(Error::invalid(
                                "params.fields",
                                format!("{other} is not a field path"),
                            ))
                        }
                    };
                    field_ok(&path, "params.fields")?;
                }
            }
            other => {
                return Err(Error::invalid(
                    format!("params.{other}"),
                    "unknown parameter; search takes query, limit, cursor and fields",
                ))
            }
        }
    }
    Ok(())
}

const FIELD_OPS: &[&str] = &[
    "eq", "neq", "gt", "gte", "lt", "lte", "in", "like", "fuzzy", "keyword", "contains", "any",
];

fn check_condition(
    cond: &Value,
    at: &str,
    field_ok: &dyn Fn(&str, &str) -> Result<(), Error>,
) -> Result<(), Error> {
    let Some(obj) = cond.as_object().filter(|o| o.len() == 1) else {
        return Err(Error::invalid(
            at,
            format!(
                "a condition is an object with one operator ({}, not, and, or), got {cond}",
                FIELD_OPS.join(", ")
            ),
        ));
    };
    let (op, arg) = obj.iter().next().expect("one entry");
    let here = format!("{at}.{op}");
    match op.as_str() {
        "not" => check_condition(arg, &here, field_ok),
        "and" | "or" => {
            let Value::Array(items) = arg else {
                return Err(Error::invalid(&here, "must be a list of conditions"));
            };
            items
                .iter()
                .try_for_each(|c| check_condition(c, &here, field_ok))
        }
        op if FIELD_OPS.contains(&op) => {
            let Some(fields) = arg.as_object().filter(|o| !o.is_empty()) else {
                return Err(Error::invalid(
                    &here,
                    "must be an object {\"<field>\": <value>}",
                ));
            };
            for (field, value) in fields {
                field_ok(field, &here)?;
                let ok = match op {
                    "in" | "any" => value.is_array(),
                    "like" | "fuzzy" | "keyword" => value.is_string(),
                    _ => true,
                };
                if !ok {
                    let want = if matches!(op, "in" | "any") {
                        "a list of values"
                    } else {
                        "a string"
                    };
                    return Err(Error::invalid(
                        &here,
                        format!("`{op}` on `{field}` takes {want}, got {value}"),
                    ));
                }
            }
            Ok(())
        }
        other => Err(Error::invalid(
            at,
            format!(
                "unknown operator `{other}`; use one of {}, not, and, or",
                FIELD_OPS.join(", ")
            ),
        )),
    }
}

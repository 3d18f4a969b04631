//! Context-store SQL (hosted mode only): Airbyte keeps a copy of each entity's records, and
//! the `context_store_sql_query` action runs a SQL query over it. Every entity has it; direct
//! mode fails before any request with [`Error::HostedOnly`].
//!
//! Params: `sql` (the query, required) and `limit` (at most this many rows, optional). The
//! result is `{"data": [rows], "meta": {"took_ms": .., "has_more": ..}}`, each row an object
//! keyed by its column. Fields the spec marks with `x-airbyte-semantic-search` can be searched
//! by meaning through the `semantic_search(...)` table function (see
//! [`semantic_fields`] and the tool description).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::meta::ConnectorMeta;
use crate::Error;

/// The action name.
pub const SQL_ACTION: &str = "context_store_sql_query";

/// One SQL result.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct SqlResult {
    /// The rows, each an object keyed by column.
    pub data: Vec<Map<String, Value>>,
    /// What the store reports about the query.
    #[serde(default)]
    pub meta: SqlMeta,
}

/// The `meta` of a [`SqlResult`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SqlMeta {
    /// How long the query took, in milliseconds.
    #[serde(default)]
    pub took_ms: Option<u64>,
    /// Whether more rows matched than were returned, when the store says.
    #[serde(default)]
    pub has_more: Option<bool>,
}

/// Checks `execute`'s params for a SQL query: `sql` a non-empty string, `limit` a positive
/// integer, nothing else.
pub(crate) fn check_params(entity: &str, params: &Map<String, Value>) -> Result<(), Error> {
    for (k, v) in params {
        match (k.as_str(), v) {
            ("sql", Value::String(s)) if !s.trim().is_empty() => {}
            ("sql", _) => {
                return Err(Error::invalid(
                    "params.sql",
                    format!("must be a SQL query as a non-empty string, e.g. \"SELECT id, name FROM {entity} LIMIT 10\""),
                ))
            }
            ("limit", Value::Number(n)) if n.as_u64().is_some_and(|n| n >= 1) => {}
            ("limit", other) => {
                return Err(Error::invalid(
                    "params.limit",
                    format!("must be a positive integer, got {other}"),
                ))
            }
            (other, _) => {
                return Err(Error::invalid(
                    "params",
                    format!("unknown parameter `{other}` for {entity}.{SQL_ACTION}; valid parameters: sql, limit"),
                ))
            }
        }
    }
    if !params.contains_key("sql") {
        return Err(Error::invalid(
            "params.sql",
            format!("is required: the SQL query, e.g. \"SELECT id, name FROM {entity} LIMIT 10\""),
        ));
    }
    Ok(())
}

/// The fields the spec marks for semantic search (`x-airbyte-semantic-search` on a
/// context-store field), as `(entity, field)` pairs in spec order.
pub fn semantic_fields(meta: &ConnectorMeta) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let entities = meta
        .spec()
        .pointer("/info/x-airbyte-context-store/entities")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for e in &entities {
        let Some(entity) = e.get("entity").and_then(Value::as_str) else {
            continue;
        };
        for f in e
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if f.get("x-airbyte-semantic-search").is_some() {
                if let Some(name) = f.get("name").and_then(Value::as_str) {
                    out.push((entity.to_string(), name.to_string()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn params_are_checked() {
        assert!(check_params("things", &p(json!({"sql": "SELECT 1"}))).is_ok());
        assert!(check_params("things", &p(json!({"sql": "SELECT 1", "limit": 5}))).is_ok());
        for (bad, needle) in [
            (json!({}), "is required"),
            (json!({"sql": ""}), "non-empty string"),
            (json!({"sql": 5}), "non-empty string"),
            (json!({"sql": "x", "limit": 0}), "positive integer"),
            (json!({"sql": "x", "limit": "5"}), "positive integer"),
            (
                json!({"sql": "x", "query": "y"}),
                "unknown parameter `query`",
            ),
        ] {
            let e = check_params("things", &p(bad.clone()))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }
}

//! The context store's SQL (`context_store_sql_query`), for a useful subset, over an entity's
//! records: `SELECT` columns (`*`, names, dot paths such as `incident_status.name`, `AS`
//! aliases) `FROM <entity>`, `WHERE` with `=`, `!=` and `AND` (parenthesised or not), `ORDER BY`
//! columns `ASC`/`DESC`, and `LIMIT n`. The query is parsed with `sqlparser`; anything outside
//! the subset is refused with a message that names the construct.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};
use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, LimitClause, OrderByKind, OrderBySort, Query, Select,
    SelectItem, SetExpr, Statement, TableFactor, Value as SqlValue,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

/// What the subset covers (for error messages).
const SUBSET: &str = "the emulator answers SELECT <columns | *> FROM <entity> [WHERE <column> = <value> [AND ...]] [ORDER BY <column> [ASC|DESC], ...] [LIMIT n]";

/// One output column: its key in a row, and the path of the value in a record.
type Column = (String, Vec<String>);

/// A parsed query, ready to run.
#[derive(Debug)]
pub(crate) struct SqlQuery {
    /// The columns; `None`: `*` (the whole record).
    columns: Option<Vec<Column>>,
    filter: Vec<(Vec<String>, Value, bool)>,
    order: Vec<(Vec<String>, bool)>,
    limit: Option<usize>,
}

fn unsupported(what: &str) -> String {
    format!("{what} is not supported: {SUBSET}")
}

impl SqlQuery {
    /// Parses `sql`, which must read from `entity`.
    pub(crate) fn parse(sql: &str, entity: &str) -> Result<SqlQuery, String> {
        let statements = Parser::parse_sql(&GenericDialect {}, sql)
            .map_err(|e| format!("the SQL does not parse: {e}"))?;
        let [Statement::Query(query)] = statements.as_slice() else {
            return Err(match statements.len() {
                0 => "the SQL is empty".to_string(),
                1 => unsupported("a statement other than SELECT"),
                n => format!("{n} statements were given; send one SELECT"),
            });
        };
        Self::from_query(query, entity)
    }

    fn from_query(q: &Query, entity: &str) -> Result<SqlQuery, String> {
        if q.with.is_some() {
            return Err(unsupported("WITH"));
        }
        if q.fetch.is_some() {
            return Err(unsupported("FETCH"));
        }
        if !q.locks.is_empty() {
            return Err(unsupported("FOR UPDATE"));
        }
        let SetExpr::Select(select) = q.body.as_ref() else {
            return Err(unsupported(
                "UNION, INTERSECT, EXCEPT, VALUES or a subquery",
            ));
        };
        let columns = projection(select)?;
        check_select(select, entity)?;
        let mut filter = Vec::new();
        if let Some(w) = &select.selection {
            conditions(w, &mut filter)?;
        }
        let mut order = Vec::new();
        if let Some(o) = &q.order_by {
            let OrderByKind::Expressions(exprs) = &o.kind else {
                return Err(unsupported("ORDER BY ALL"));
            };
            for e in exprs {
                let path = column(&e.expr).ok_or_else(|| {
                    unsupported(&format!("ORDER BY {} (order by columns)", e.expr))
                })?;
                let desc = match &e.options.sort {
                    None | Some(OrderBySort::Asc) => false,
                    Some(OrderBySort::Desc) => true,
                    Some(OrderBySort::Using(_)) => return Err(unsupported("ORDER BY ... USING")),
                };
                if e.options.nulls_first.is_some() {
                    return Err(unsupported("NULLS FIRST/LAST"));
                }
                order.push((path, desc));
            }
        }
        let limit = match &q.limit_clause {
            None => None,
            Some(LimitClause::LimitOffset {
                limit,
                offset: None,
                limit_by,
            }) if limit_by.is_empty() => match limit {
                None => None,
                Some(Expr::Value(v)) => match &v.value {
                    SqlValue::Number(n, _) => Some(
                        n.parse::<usize>()
                            .map_err(|_| format!("LIMIT {n} is not a whole number"))?,
                    ),
                    other => return Err(format!("LIMIT {other} is not a whole number")),
                },
                Some(other) => return Err(format!("LIMIT {other} is not a whole number")),
            },
            Some(_) => return Err(unsupported("OFFSET")),
        };
        Ok(SqlQuery {
            columns,
            filter,
            order,
            limit,
        })
    }

    /// Runs the query over `records`; at most `limit` rows (the param, beside SQL's LIMIT).
    /// Returns `{data, meta: {took_ms, has_more}}`.
    pub(crate) fn run(&self, records: Vec<Value>, limit: Option<usize>) -> Value {
        let started = std::time::Instant::now();
        let mut rows: Vec<Value> = records
            .into_iter()
            .filter(|r| {
                self.filter.iter().all(|(path, want, equal)| {
                    let got = lookup(r, path).unwrap_or(&Value::Null);
                    same(got, want) == *equal
                })
            })
            .collect();
        if !self.order.is_empty() {
            rows.sort_by(|a, b| {
                for (path, desc) in &self.order {
                    let o = compare(lookup(a, path), lookup(b, path));
                    let o = if *desc { o.reverse() } else { o };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let cap = match (self.limit, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let matched = rows.len();
        if let Some(cap) = cap {
            rows.truncate(cap);
        }
        let has_more = rows.len() < matched && limit.is_some_and(|l| l == rows.len());
        let data: Vec<Value> = rows
            .into_iter()
            .map(|r| match &self.columns {
                None => r,
                Some(cols) => {
                    let mut row = Map::new();
                    for (key, path) in cols {
                        row.insert(
                            key.clone(),
                            lookup(&r, path).cloned().unwrap_or(Value::Null),
                        );
                    }
                    Value::Object(row)
                }
            })
            .collect();
        json!({
            "data": data,
            "meta": {"took_ms": started.elapsed().as_millis() as u64, "has_more": has_more},
        })
    }
}

fn projection(select: &Select) -> Result<Option<Vec<Column>>, String> {
    let mut columns = Vec::new();
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(_) if select.projection.len() == 1 => return Ok(None),
            SelectItem::Wildcard(_) => return Err(unsupported("`*` beside other columns")),
            SelectItem::UnnamedExpr(e) => {
                let path = column(e).ok_or_else(|| {
                    unsupported(&format!("SELECT {e} (functions and expressions)"))
                })?;
                columns.push((path.join("."), path));
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                let path = column(expr).ok_or_else(|| {
                    unsupported(&format!("SELECT {expr} (functions and expressions)"))
                })?;
                columns.push((alias.value.clone(), path));
            }
            other => return Err(unsupported(&format!("SELECT {other}"))),
        }
    }
    Ok(Some(columns))
}

fn check_select(s: &Select, entity: &str) -> Result<(), String> {
    let clauses = [
        (s.distinct.is_some(), "DISTINCT"),
        (s.top.is_some(), "TOP"),
        (s.into.is_some(), "SELECT INTO"),
        (!s.lateral_views.is_empty(), "LATERAL VIEW"),
        (s.prewhere.is_some(), "PREWHERE"),
        (!s.connect_by.is_empty(), "CONNECT BY"),
        (
            !matches!(&s.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty()),
            "GROUP BY",
        ),
        (s.having.is_some(), "HAVING"),
        (!s.named_window.is_empty(), "WINDOW"),
        (s.qualify.is_some(), "QUALIFY"),
        (
            !s.cluster_by.is_empty() || !s.distribute_by.is_empty() || !s.sort_by.is_empty(),
            "CLUSTER/DISTRIBUTE/SORT BY",
        ),
        (s.exclude.is_some(), "EXCLUDE"),
    ];
    if let Some((_, name)) = clauses.iter().find(|(present, _)| *present) {
        return Err(unsupported(name));
    }
    let [from] = s.from.as_slice() else {
        return Err(if s.from.is_empty() {
            format!("the query has no FROM; read FROM {entity}")
        } else {
            unsupported("several tables in FROM")
        });
    };
    if !from.joins.is_empty() {
        return Err(unsupported("JOIN"));
    }
    let TableFactor::Table { name, args, .. } = &from.relation else {
        return Err(unsupported("a subquery or function in FROM"));
    };
    let table = name.to_string();
    if args.is_some() {
        return Err(if table.eq_ignore_ascii_case("semantic_search") {
            "semantic_search(...) ranks records by meaning with Airbyte's embeddings, which the emulator does not have; query the table with WHERE instead".to_string()
        } else {
            unsupported(&format!("the table function {table}(...)"))
        });
    }
    if !table.trim_matches('"').eq_ignore_ascii_case(entity) {
        return Err(format!(
            "this is the {entity} entity's store: read FROM {entity}, not FROM {table}"
        ));
    }
    Ok(())
}

/// A column reference: `name`, `a.b.c`, `"quoted"`.
fn column(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Identifier(i) => Some(vec![i.value.clone()]),
        Expr::CompoundIdentifier(parts) => Some(parts.iter().map(|i| i.value.clone()).collect()),
        Expr::Nested(inner) => column(inner),
        _ => None,
    }
}

/// A literal.
fn literal(e: &Expr) -> Option<Value> {
    match e {
        Expr::Value(v) => match &v.value {
            SqlValue::Number(n, _) => n
                .parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| n.parse::<f64>().ok().map(Value::from)),
            SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => {
                Some(Value::String(s.clone()))
            }
            SqlValue::Boolean(b) => Some(Value::Bool(*b)),
            SqlValue::Null => Some(Value::Null),
            _ => None,
        },
        Expr::Nested(inner) => literal(inner),
        _ => None,
    }
}

/// `WHERE`: `column = value` (or `!=`/`<>`) joined by `AND`.
fn conditions(e: &Expr, out: &mut Vec<(Vec<String>, Value, bool)>) -> Result<(), String> {
    match e {
        Expr::Nested(inner) => conditions(inner, out),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conditions(left, out)?;
            conditions(right, out)
        }
        Expr::BinaryOp { left, op, right }
            if matches!(op, BinaryOperator::Eq | BinaryOperator::NotEq) =>
        {
            let equal = matches!(op, BinaryOperator::Eq);
            let (path, value) = match (column(left), literal(right), column(right), literal(left)) {
                (Some(p), Some(v), _, _) | (_, _, Some(p), Some(v)) => (p, v),
                _ => {
                    return Err(unsupported(&format!(
                        "WHERE {e} (compare a column with a value)"
                    )))
                }
            };
            out.push((path, value, equal));
            Ok(())
        }
        Expr::BinaryOp { op, .. } => Err(unsupported(&format!("the operator {op} in WHERE"))),
        other => Err(unsupported(&format!("WHERE {other}"))),
    }
}

fn lookup<'v>(record: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(record, |v, k| v.as_object()?.get(k))
}

/// SQL equality on JSON values: numbers by value, everything else exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Order for `ORDER BY`: nulls and missing values last, numbers by value, strings by text.
fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let rank = |v: Option<&Value>| match v {
        None | Some(Value::Null) => 3,
        Some(Value::Number(_)) => 0,
        Some(Value::String(_)) => 1,
        Some(_) => 2,
    };
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<Value> {
        vec![
            json!({"id": "1", "name": "b", "mode": "standard", "severity": {"rank": 2, "name": "Minor"}}),
            json!({"id": "2", "name": "a", "mode": "test", "severity": {"rank": 1, "name": "Major"}}),
            json!({"id": "3", "name": "c", "mode": "standard", "severity": null}),
        ]
    }

    fn run(sql: &str) -> Result<Value, String> {
        Ok(SqlQuery::parse(sql, "incidents")?.run(records(), None))
    }

    #[test]
    fn the_subset_runs() {
        let out = run("SELECT id, severity.name AS sev FROM incidents WHERE mode = 'standard' ORDER BY id DESC").unwrap();
        assert_eq!(
            out["data"],
            json!([{"id": "3", "sev": null}, {"id": "1", "sev": "Minor"}])
        );
        let out = run("SELECT * FROM incidents WHERE (severity.rank = 1 AND mode != 'standard')")
            .unwrap();
        assert_eq!(out["data"][0]["id"], "2");
        let out = run("select name from INCIDENTS order by severity.rank limit 2").unwrap();
        assert_eq!(out["data"], json!([{"name": "a"}, {"name": "b"}]));
        let out = SqlQuery::parse("SELECT id FROM incidents", "incidents")
            .unwrap()
            .run(records(), Some(1));
        assert_eq!(out["meta"]["has_more"], true);
    }

    #[test]
    fn outside_the_subset_names_the_construct() {
        for (sql, needle) in [
            ("SELECT count(*) FROM incidents", "SELECT count(*)"),
            ("SELECT id FROM incidents GROUP BY id", "GROUP BY"),
            ("SELECT id FROM incidents a JOIN alerts b ON a.id = b.id", "JOIN"),
            ("SELECT id FROM incidents WHERE severity.rank > 1", "the operator >"),
            ("SELECT id FROM incidents WHERE mode = 'a' OR mode = 'b'", "the operator OR"),
            ("SELECT id FROM alerts", "read FROM incidents"),
            ("SELECT * FROM semantic_search(entity => 'incidents', field => 'name', prompt => 'db')", "embeddings"),
            ("DELETE FROM incidents", "other than SELECT"),
            ("SELECT id FROM incidents LIMIT 5 OFFSET 5", "OFFSET"),
            ("SELEC id", "does not parse"),
            ("SELECT DISTINCT mode FROM incidents", "DISTINCT"),
        ] {
            let e = run(sql).unwrap_err();
            assert!(e.contains(needle), "{sql}: {e}");
        }
    }
}

//! Markdown derived from the spec: `REFERENCE.md` (per entity and action: description, a Rust
//! example, params, record fields, search fields) and the entity/action table of the README.
//! Pure functions of the spec, like the code generator; `cargo xtask regen` writes them.

use std::fmt::Write;

use serde_yaml_ng::Value;

use crate::model::{Action, Entity, Operation, ParamKind, ParamLocation, Spec};

/// The marker lines around the generated table in the README.
pub const TABLE_START: &str = "<!-- entity-table:start -->";
/// See [`TABLE_START`].
pub const TABLE_END: &str = "<!-- entity-table:end -->";

fn page_size(op: &Operation) -> String {
    let Some(p) = op.params.iter().find(|p| p.name == "page_size") else {
        return if op.pagination.is_some() {
            "paginated".to_string()
        } else {
            "not paginated".to_string()
        };
    };
    let default = p
        .default
        .as_ref()
        .map(|d| d.to_string())
        .unwrap_or_else(|| "-".to_string());
    let max = p
        .maximum
        .map(|m| m.to_string())
        .unwrap_or_else(|| "-".to_string());
    if p.required {
        format!("{default} / {max} (always sent)")
    } else {
        format!("{default} / {max}")
    }
}

/// The README's entity/action table, markers included.
pub fn entity_table(spec: &Spec) -> String {
    let mut out = String::new();
    out.push_str(TABLE_START);
    out.push('\n');
    out.push_str(
        "| Entity | Actions | Endpoint | Page size (default / max) |\n|---|---|---|---|\n",
    );
    for e in &spec.entities {
        let mut actions: Vec<&str> = e.operations.iter().map(|o| o.action.as_str()).collect();
        if !e.search_fields.is_empty() {
            actions.push("search (hosted)");
        }
        let list = e.operations.iter().find(|o| o.action == Action::List);
        let path = list.unwrap_or(&e.operations[0]).path.clone();
        let endpoint = path.split("/{").next().unwrap_or(&path).to_string();
        let size = list.map(page_size).unwrap_or_else(|| "-".to_string());
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | {} |",
            e.name,
            actions.join(", "),
            endpoint,
            size
        );
    }
    out.push_str(TABLE_END);
    out
}

/// Replaces the text between the table markers of `readme` (markers included) with `table`.
/// `None` when the markers are missing.
pub fn replace_table(readme: &str, table: &str) -> Option<String> {
    let start = readme.find(TABLE_START)?;
    let end = readme[start..].find(TABLE_END)? + start + TABLE_END.len();
    let mut out = String::with_capacity(readme.len());
    out.push_str(&readme[..start]);
    out.push_str(table);
    out.push_str(&readme[end..]);
    Some(out)
}

fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// A readable type for a schema: `string`, `date-time`, `integer`, `IncidentStatus`,
/// `array of Actor`, `map of string`.
pub fn type_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    let ty = crate::model::non_null_type(schema)
        .ok()
        .flatten()
        .unwrap_or_else(|| "any".to_string());
    match ty.as_str() {
        "array" => format!(
            "array of {}",
            schema
                .get("items")
                .map(type_name)
                .unwrap_or_else(|| "any".into())
        ),
        "object" => match schema.get("additionalProperties") {
            Some(ap) if ap.is_mapping() => format!("map of {}", type_name(ap)),
            _ if schema.get("properties").is_some() => "object".to_string(),
            _ => "object (free-form)".to_string(),
        },
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some(f) => f.to_string(),
            None if schema.get("enum").is_some() => "string (enum)".to_string(),
            None => "string".to_string(),
        },
        other => other.to_string(),
    }
}

/// The properties of a component: (name, type, required, description), in spec order.
pub fn component_fields(spec: &Spec, name: &str) -> Vec<(String, String, bool, String)> {
    let Some(schema) = spec
        .doc
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(|s| s.get(name))
    else {
        return Vec::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_sequence)
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(Value::Mapping(props)) = schema.get("properties") else {
        return Vec::new();
    };
    props
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str()?.to_string();
            let desc = v
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Some((
                name.clone(),
                type_name(v),
                required.contains(&name.as_str()),
                desc,
            ))
        })
        .collect()
}

fn example(entity: &Entity, op: &Operation) -> String {
    let accessor = &entity.name;
    match op.action {
        Action::List | Action::Search => {
            let mut call = format!("connector.{accessor}().list()");
            for p in &op.params {
                if p.name == "page_size" {
                    let _ = write!(call, ".page_size({})", p.maximum.unwrap_or(25).min(100));
                }
            }
            let mut s = format!(
                "let page = {call}.await?;\nfor record in &page.data {{\n    println!(\"{{}}\", record.id);\n}}\n"
            );
            if op.pagination.is_some() {
                let _ = write!(
                    s,
                    "// Every record, page after page:\nlet all: Vec<_> = {call}.stream().try_collect().await?;\n"
                );
            }
            s
        }
        Action::Get => format!(
            "let record = connector.{accessor}().get(\"01FDAG4SAP5TYPT98WGR2N7W91\").await?;\nprintln!(\"{{:?}}\", record);\n"
        ),
        Action::Download => format!(
            "// The file's bytes, streamed:\nlet mut file = connector.{accessor}().download(/* ids */).await?;\nwhile let Some(chunk) = file.try_next().await? {{ /* write chunk */ }}\n"
        ),
        Action::Create | Action::Update | Action::Delete => {
            let action = op.action.as_str();
            if op.params.iter().any(|p| p.location == ParamLocation::Body) {
                format!(
                    "// A write: build its body with `{}{}Body::new(..)`, then\nlet answer = connector.{accessor}().{action}(/* ids, body */).await?;\n",
                    heck::ToUpperCamelCase::to_upper_camel_case(entity.name.as_str()),
                    heck::ToUpperCamelCase::to_upper_camel_case(action),
                )
            } else {
                format!("let answer = connector.{accessor}().{action}(/* ids */).await?;\n")
            }
        }
    }
}

fn execute_example(entity: &Entity, op: &Operation) -> String {
    let params = match op.action {
        Action::List if op.params.iter().any(|p| p.name == "page_size") => {
            "{\"page_size\": 10}".to_string()
        }
        Action::List | Action::Search => "{}".to_string(),
        Action::Get => "{\"id\": \"01FDAG4SAP5TYPT98WGR2N7W91\"}".to_string(),
        Action::Create | Action::Update | Action::Delete => {
            "{ /* ids and body properties */ }".to_string()
        }
        Action::Download => "{ /* ids; range_header for the next chunk */ }".to_string(),
    };
    if op.action.is_write() {
        // `execute` runs writes only when allowed.
        return format!(
            "connector.execute_with(\"{}\", \"{}\", json!({params}), ExecuteOptions::new().allow_writes(true)).await?",
            entity.name,
            op.action.as_str()
        );
    }
    format!(
        "connector.execute(\"{}\", \"{}\", json!({params})).await?",
        entity.name,
        op.action.as_str()
    )
}

/// `REFERENCE.md`.
pub fn reference(spec: &Spec) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# incident-io-connector reference\n\n<!-- @generated by `cargo xtask regen` from spec/incident-io.yaml with spec/incident-io.corrections.yaml (connector {} {}, definition {}). Do not edit. -->\n",
        spec.connector_name, spec.version, spec.definition_id
    );
    out.push_str("Every entity, action, parameter and record field of the SDK, generated from the connector spec.\n");
    out.push_str("Each action is available in two forms. The typed builder (`connector.<entity>().<action>()`)\n");
    out.push_str("returns models from `incident_io_connector::models`. The untyped `connector.execute(entity, action, params)`\n");
    out.push_str("returns JSON: lists give `{\"data\": [...], \"meta\": {\"next_cursor\": ...}}` and gets give the record.\n");
    out.push_str(
        "To page, pass `meta.next_cursor` back as `after`; it is `null` on the last page.\n\n",
    );
    out.push_str("## Entities\n\n");
    for e in &spec.entities {
        let _ = writeln!(
            out,
            "- [`{}`](#{}): {}",
            e.name,
            e.name.replace('_', "-"),
            one_line(&e.description)
        );
    }
    for e in &spec.entities {
        let _ = writeln!(out, "\n## {}\n", e.name.replace('_', "\\_"));
        if !e.description.is_empty() {
            let _ = writeln!(out, "{}\n", one_line(&e.description));
        }
        let _ = writeln!(out, "Record type: `models::{}`.\n", e.record_component);
        for op in &e.operations {
            let _ = writeln!(
                out,
                "### {}.{}\n\n`{} {}`: {}\n",
                e.name,
                op.action.as_str(),
                op.method,
                op.path,
                one_line(if op.description.is_empty() {
                    &op.summary
                } else {
                    &op.description
                })
            );
            if let Some(reason) = &op.no_pagination {
                let _ = writeln!(out, "Not paginated: {}\n", one_line(reason));
            }
            out.push_str("```rust,ignore\n");
            out.push_str(&example(e, op));
            let _ = writeln!(out, "let json = {};", execute_example(e, op));
            out.push_str("```\n\n");
            if op.params.is_empty() {
                out.push_str("Parameters: none.\n\n");
            } else {
                out.push_str("| Parameter | In | Type | Required | Bounds / default | Description |\n|---|---|---|---|---|---|\n");
                for p in &op.params {
                    let ty = match &p.kind {
                        ParamKind::String { allowed } if !allowed.is_empty() => {
                            format!("string: {}", allowed.join(", "))
                        }
                        ParamKind::String { .. } => "string".to_string(),
                        ParamKind::Integer => "integer".to_string(),
                        ParamKind::Boolean => "boolean".to_string(),
                        ParamKind::Number => "number".to_string(),
                        other => other.describe(),
                    };
                    let mut bounds = Vec::new();
                    match (p.minimum, p.maximum) {
                        (Some(a), Some(b)) => bounds.push(format!("{a}..={b}")),
                        (Some(a), None) => bounds.push(format!(">= {a}")),
                        (None, Some(b)) => bounds.push(format!("<= {b}")),
                        _ => {}
                    }
                    if let Some(d) = &p.default {
                        bounds.push(format!("default {d}"));
                    }
                    let location = match p.location {
                        crate::model::ParamLocation::Path => "path",
                        crate::model::ParamLocation::Query => "query",
                        crate::model::ParamLocation::Header => "header",
                        crate::model::ParamLocation::Body => "body",
                    };
                    let _ = writeln!(
                        out,
                        "| `{}` | {} | {} | {} | {} | {} |",
                        p.name,
                        location,
                        ty,
                        if p.required { "yes" } else { "no" },
                        if bounds.is_empty() {
                            "-".to_string()
                        } else {
                            bounds.join(", ")
                        },
                        one_line(&p.description)
                    );
                }
                out.push('\n');
            }
        }
        let fields = component_fields(spec, &e.record_component);
        if !fields.is_empty() {
            let _ = writeln!(out, "### {} record fields\n", e.name);
            out.push_str("| Field | Type | Always present | Description |\n|---|---|---|---|\n");
            for (name, ty, required, desc) in fields {
                let _ = writeln!(
                    out,
                    "| `{name}` | {ty} | {} | {} |",
                    if required { "yes" } else { "no" },
                    one_line(&desc)
                );
            }
            out.push('\n');
        }
        if !e.search_fields.is_empty() {
            let _ = writeln!(
                out,
                "### {} search fields (hosted mode)\n\nTyped: `connector.{}().search(SearchQuery::new().filter(...))` with `entities::{}SearchField`. Untyped: `execute(\"{}\", \"search\", {{\"query\": {{\"filter\": ..., \"sort\": [...]}}, \"limit\": n, \"cursor\": c, \"fields\": [...]}})`.\n",
                e.name,
                e.name,
                heck::ToUpperCamelCase::to_upper_camel_case(e.name.as_str()),
                e.name
            );
            out.push_str("| Field | Type | Description |\n|---|---|---|\n");
            for f in &e.search_fields {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    f.name,
                    f.json_type,
                    one_line(&f.description)
                );
            }
            out.push('\n');
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

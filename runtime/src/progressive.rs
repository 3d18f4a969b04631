//! Progressive docs for agents: instead of one tool whose definition carries every entity,
//! param and rule (the single-tool form, [`crate::introspect::tool_description`] and
//! [`crate::introspect::tool_input_schema`]), three small tools whose details are fetched on
//! demand:
//!
//! - `<prefix>_execute`: the same call, with a short description and a compact schema (the
//!   runtime still checks every param before any request);
//! - `<prefix>_docs(section?)`: without a section, an outline; with one, an entity's actions,
//!   params (types, bounds, defaults), record fields and an example call, or a topic (paging,
//!   shaping, search, sql, errors);
//! - `<prefix>_inspect`: the connector's metadata (hosted: Airbyte's inspect endpoint; direct:
//!   a local payload).
//!
//! The docs are generated from the same metadata the runtime validates calls against, so an
//! agent that reads an entity's section can make every valid call on it.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Value};

use crate::introspect::{
    self, entities, entity_line, errors_line, field_tree, one_line, output_limit_line,
    paging_lines, question_lines, search_lines, sentence, shaping_line, sql_paragraph,
    ActionDescription, EntityDescription, ParamDescription,
};
use crate::meta::ConnectorMeta;
use crate::shape::MAX_INTENT_CHARS;
use crate::sql::SQL_ACTION;
use crate::Error;

/// One tool definition: what an MCP server lists or a function-calling API receives.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ToolDef {
    /// The tool's name (`incident_io_execute`).
    pub name: String,
    /// A short title for people.
    pub title: String,
    /// The description the model reads.
    pub description: String,
    /// The JSON Schema of the tool's input.
    pub input_schema: Value,
}

impl ToolDef {
    /// Characters the definition costs on every model call: name, description and compact
    /// input schema.
    pub fn size(&self) -> usize {
        self.name.chars().count()
            + self.description.chars().count()
            + self.input_schema.to_string().chars().count()
    }
}

/// One section of the docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DocSection {
    /// What to pass as `section` (an entity name, or a topic such as `paging`).
    pub id: String,
    /// Title.
    pub title: String,
    /// One line on what it covers.
    pub summary: String,
}

/// The tools' name prefix: the connector's name in snake case (`incident_io`).
pub fn tool_prefix(meta: &ConnectorMeta) -> String {
    meta.env_prefix.to_ascii_lowercase()
}

/// Every section of the docs, topics first, then one per entity.
pub fn outline(meta: &ConnectorMeta) -> Vec<DocSection> {
    let entities = entities(meta);
    let section = |id: &str, title: &str, summary: &str| DocSection {
        id: id.to_string(),
        title: title.to_string(),
        summary: summary.to_string(),
    };
    let mut out = vec![
        section(
            "paging",
            "Paging",
            "How list pages work: next_cursor, page sizes, lists that return everything.",
        ),
        section(
            "shaping",
            "Shaping, truncation, intent and the output limit",
            "select_fields, exclude_fields, skip_truncation, intent; what to do when a result is too large.",
        ),
    ];
    if entities.iter().any(|e| !e.search_fields.is_empty()) {
        out.push(section(
            "search",
            "Search (hosted mode)",
            "Filter, sort and project the hosted copy of the records; operators and searchable fields.",
        ));
    }
    out.push(section(
        "sql",
        "SQL (hosted mode)",
        "SQL over the hosted copy of the records, and semantic search where the spec allows it.",
    ));
    out.push(section(
        "errors",
        "Errors and example questions",
        "What errors say, what is retried, and questions the data answers.",
    ));
    for e in &entities {
        let summary = e
            .hints
            .as_ref()
            .and_then(|h| h.summary.as_deref())
            .unwrap_or(e.description);
        out.push(section(e.entity, e.entity, &one_line(&sentence(summary))));
    }
    out
}

/// The docs: the outline (no section), or one section's text. An unknown section is an
/// [`Error::InvalidInput`] that lists the valid ones.
pub fn docs(meta: &ConnectorMeta, section: Option<&str>) -> Result<String, Error> {
    let prefix = tool_prefix(meta);
    let Some(id) = section.map(str::trim).filter(|s| !s.is_empty()) else {
        let mut out = format!(
            "# {} docs\nCall {prefix}_docs with one of these sections. Read an entity's section before calling it.\n",
            meta.display_name
        );
        for s in outline(meta) {
            let _ = writeln!(out, "- {}: {}", s.id, s.summary);
        }
        return Ok(out);
    };
    let entities = entities(meta);
    let text = match id {
        "paging" => paging_lines(meta, &entities).join("\n"),
        "shaping" => [
            shaping_line(),
            format!("select_fields and exclude_fields take field names or dot paths into nested objects; select wins when both are given; fields that do not exist are left out. A truncated string ends with a note telling you to get the record by id. intent is at most {MAX_INTENT_CHARS} characters."),
            output_limit_line(),
        ]
        .join("\n"),
        "search" if entities.iter().any(|e| !e.search_fields.is_empty()) => {
            search_lines(&entities).join("\n")
        }
        "sql" => sql_paragraph(meta),
        "errors" => {
            let mut lines = vec![errors_line()];
            lines.extend(question_lines(meta));
            lines.join("\n")
        }
        name => match entities.iter().find(|e| e.entity == name) {
            Some(e) => entity_section(meta, e),
            None => {
                return Err(Error::invalid(
                    "section",
                    format!(
                        "unknown section `{name}`; valid sections: {}",
                        outline(meta)
                            .iter()
                            .map(|s| s.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            }
        },
    };
    Ok(format!("# {id}\n{text}\n"))
}

/// One param on its own line: `  - page_size: integer, 1..=250, default 25, optional. ...`.
fn param_line(p: &ParamDescription) -> String {
    let mut line = format!("  - {}: {}", p.name, p.json_type);
    match (p.minimum, p.maximum) {
        (Some(a), Some(b)) => {
            let _ = write!(line, ", {a}..={b}");
        }
        (Some(a), None) => {
            let _ = write!(line, ", at least {a}");
        }
        (None, Some(b)) => {
            let _ = write!(line, ", at most {b}");
        }
        (None, None) => {}
    }
    if !p.allowed.is_empty() {
        let _ = write!(line, ", one of {}", p.allowed.join("|"));
    }
    if let Some(d) = &p.default {
        let _ = write!(line, ", default {d}");
    }
    line.push_str(if p.required {
        ", required"
    } else {
        ", optional"
    });
    if let Some(pattern) = p.pattern {
        let _ = write!(line, ", matching {pattern}");
    }
    let _ = write!(line, ". {}", sentence(&one_line(p.description)));
    line
}

/// An example call of `a` on `e`, with every required param and the largest page.
fn example(e: &EntityDescription, a: &ActionDescription) -> Value {
    let mut params = serde_json::Map::new();
    for p in &a.params {
        if p.required {
            params.insert(p.name.to_string(), json!(format!("<{}>", p.name)));
        } else if p.name == "page_size" {
            if let Some(max) = p.maximum {
                params.insert(p.name.to_string(), json!(max));
            }
        }
    }
    json!({"entity": e.entity, "action": a.action, "params": params})
}

fn entity_section(meta: &ConnectorMeta, e: &EntityDescription) -> String {
    let prefix = tool_prefix(meta);
    let mut out = vec![entity_line(e)];
    out.push(format!(
        "Actions (call {prefix}_execute with {{\"entity\": \"{}\", \"action\": ..., \"params\": {{...}}}}):",
        e.entity
    ));
    for a in &e.actions {
        if a.hosted_only {
            out.push(format!(
                "- {} (hosted mode only): see the search section. Searchable fields: {}.",
                a.action,
                field_tree(&e.search_fields)
            ));
            continue;
        }
        let mut head = format!("- {}: {}", a.action, sentence(&one_line(a.summary)));
        match (a.action, a.cursor_param) {
            ("list", Some(c)) => {
                let _ = write!(head, " Paginated: pass meta.next_cursor back as {c}.");
            }
            ("list", None) => head.push_str(" Returns every record in one call."),
            _ => {}
        }
        if a.params.is_empty() {
            head.push_str(" No params.");
        }
        out.push(head);
        out.extend(a.params.iter().map(param_line));
        out.push(format!("  Example: {}", example(e, a)));
    }
    out.push(format!(
        "- {SQL_ACTION} (hosted mode only): params sql (required) and limit; see the sql section."
    ));
    if let Ok(schema) = introspect::entity_schema(meta, e.entity) {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let names: Vec<&str> = props.keys().map(String::as_str).collect();
            out.push(format!(
                "Record fields (for select_fields and exclude_fields): {}.",
                names.join(", ")
            ));
        }
    }
    out.join("\n")
}

/// The short description of the progressive execute tool.
pub fn execute_description(meta: &ConnectorMeta) -> String {
    let prefix = tool_prefix(meta);
    let entities = entities(meta);
    let list: Vec<String> = entities
        .iter()
        .map(|e| {
            let actions: Vec<&str> = e
                .actions
                .iter()
                .filter(|a| !a.hosted_only)
                .map(|a| a.action)
                .collect();
            format!("{} ({})", e.entity, actions.join(", "))
        })
        .collect();
    let cursor = entities
        .iter()
        .filter_map(|e| e.action("list").and_then(|a| a.cursor_param))
        .next()
        .unwrap_or("after");
    [
        introspect::intro(meta),
        format!("Entities (actions): {}.", list.join(", ")),
        format!("Hosted mode adds search on some entities and {SQL_ACTION} (SQL) on all."),
        format!("Before calling an entity, call {prefix}_docs with section \"<entity>\": it lists each action's params with types, bounds and defaults, the record fields and an example call. {prefix}_docs with no section lists the other sections (paging, shaping, search, sql, errors)."),
        format!("Paging: list returns {{\"data\": [...], \"meta\": {{\"next_cursor\": ...}}}}; pass next_cursor back as \"{cursor}\" until it is null."),
        "Beside params: select_fields and exclude_fields (dot paths) shape each record, skip_truncation true returns long strings whole, compact false keeps null and empty values, intent says why you call. Invalid params are refused before any request with a message saying what is valid.".to_string(),
    ]
    .join("\n")
}

/// The compact input schema of the progressive execute tool: the entity and action as enums,
/// params as an object (the docs give each action's params; the runtime checks them).
pub fn execute_schema(meta: &ConnectorMeta) -> Value {
    let entities = entities(meta);
    let mut actions: Vec<&str> = Vec::new();
    for e in &entities {
        for a in &e.actions {
            if !actions.contains(&a.action) {
                actions.push(a.action);
            }
        }
    }
    actions.push(SQL_ACTION);
    json!({
        "type": "object",
        "properties": {
            "entity": {"type": "string", "enum": entities.iter().map(|e| e.entity).collect::<Vec<_>>()},
            "action": {"type": "string", "enum": actions},
            "params": {"type": "object", "description": "The action's params, as the entity's docs section lists them."},
            "select_fields": {"type": "array", "items": {"type": "string"}},
            "exclude_fields": {"type": "array", "items": {"type": "string"}},
            "skip_truncation": {"type": "boolean"},
            "intent": {"type": "string", "maxLength": MAX_INTENT_CHARS},
            "compact": {"type": "boolean"},
        },
        "required": ["entity", "action"],
        "additionalProperties": false,
    })
}

/// The progressive execute tool.
pub fn execute_tool(meta: &ConnectorMeta) -> ToolDef {
    ToolDef {
        name: format!("{}_execute", tool_prefix(meta)),
        title: format!("Read {}", meta.display_name),
        description: execute_description(meta),
        input_schema: execute_schema(meta),
    }
}

/// The docs tool.
pub fn docs_tool(meta: &ConnectorMeta) -> ToolDef {
    let ids: Vec<String> = outline(meta).into_iter().map(|s| s.id).collect();
    ToolDef {
        name: format!("{}_docs", tool_prefix(meta)),
        title: format!("{} docs", meta.display_name),
        description: format!(
            "Returns the docs for {}_execute: without a section, the outline; with one, an entity's actions, params, record fields and an example, or a topic (paging, shaping, search, sql, errors).",
            tool_prefix(meta)
        ),
        input_schema: json!({
            "type": "object",
            "properties": {"section": {"type": "string", "enum": ids}},
            "additionalProperties": false,
        }),
    }
}

/// The inspect tool.
pub fn inspect_tool(meta: &ConnectorMeta) -> ToolDef {
    ToolDef {
        name: format!("{}_inspect", tool_prefix(meta)),
        title: format!("Inspect the {} connector", meta.display_name),
        description: "Returns the connector's metadata and readiness: its mode (direct or hosted), version and entities; in hosted mode, Airbyte's view of the connector. Takes no arguments.".to_string(),
        input_schema: json!({"type": "object", "properties": {}, "additionalProperties": false}),
    }
}

/// The three progressive tools: execute, docs, inspect.
pub fn tools(meta: &ConnectorMeta) -> Vec<ToolDef> {
    vec![execute_tool(meta), docs_tool(meta), inspect_tool(meta)]
}

/// The single-tool form: execute with the full description and per-action schema.
pub fn single_tool(meta: &ConnectorMeta) -> ToolDef {
    ToolDef {
        name: format!("{}_execute", tool_prefix(meta)),
        title: format!("Read {}", meta.display_name),
        description: introspect::tool_description(meta),
        input_schema: introspect::tool_input_schema(meta),
    }
}

/// What `inspect` returns in direct mode: local metadata, with a note that there is no
/// hosted view.
pub(crate) fn local_inspect(meta: &ConnectorMeta) -> Value {
    let entities: Vec<Value> = entities(meta)
        .iter()
        .map(|e| {
            let mut actions: Vec<&str> = e.actions.iter().map(|a| a.action).collect();
            actions.push(SQL_ACTION);
            json!({"name": e.entity, "actions": actions})
        })
        .collect();
    json!({
        "mode": "direct",
        "connector": meta.name,
        "display_name": meta.display_name,
        "connector_version": meta.spec().pointer("/info/version").cloned().unwrap_or(Value::Null),
        "api_base_url": meta.base_url,
        "ready": true,
        "entities": entities,
        "warning": format!("Direct mode: calls go straight to the API with your credentials, so there is no hosted metadata; search and {SQL_ACTION} need hosted mode. The docs tool describes every call."),
    })
}

//! Self-description for agents and tools, generated from the same spec as the code.
//!
//! - [`entities`] describes every entity: its actions (`search` included, marked hosted-only),
//!   their parameters with type, whether the caller must pass them, bounds and defaults, and
//!   the fields searchable in hosted mode.
//! - [`entity_schema`] is a record's JSON Schema (draft 2020-12), self-contained: every
//!   `$ref` points into its own `$defs`.
//! - [`tool_description`] is the text for an agent framework's tool docstring: entities,
//!   actions, params, how paging works on the API, search, example questions. It has no
//!   blank lines, because some frameworks (pydantic-ai) cut a docstring at the first one.
//! - [`tool_input_schema`] is the JSON Schema of the tool's `{entity, action, params}` input,
//!   with `params` constrained per entity and action.
//!
//! Every function takes the connector's [`ConnectorMeta`]; each generated crate wraps them as
//! associated functions of its connector type and in its own `introspect` module.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::meta::{ConnectorMeta, EntityMeta, OperationMeta, ParamKind, ParamLocation, ParamMeta};
use crate::output::{group_thousands, DEFAULT_MAX_OUTPUT_CHARS};
use crate::sql::SQL_ACTION;
use crate::Error;

pub use crate::search::SEARCH;

/// The filter operators of hosted search, in the order the docs list them.
pub const SEARCH_OPERATORS: &[&str] = &[
    "eq", "neq", "gt", "gte", "lt", "lte", "in", "like", "fuzzy", "keyword", "contains", "any",
    "not", "and", "or",
];

/// One entity, as [`entities`] describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EntityDescription {
    /// Name (`incidents`), as passed to `execute`.
    pub entity: &'static str,
    /// Description of the record, from the spec.
    pub description: &'static str,
    /// Name of the record's schema in the spec (`Incident`); see [`entity_schema`].
    pub record_schema: &'static str,
    /// Guidance for agents from the spec's `x-airbyte-ai-hints`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hints: Option<AiHints>,
    /// The actions, in the order `list`, `get`, `search` (those the entity supports).
    pub actions: Vec<ActionDescription>,
    /// Fields searchable in hosted mode, as dotted paths (`severity.rank`); empty when the
    /// entity cannot be searched.
    pub search_fields: Vec<&'static str>,
}

impl EntityDescription {
    /// The action called `name` (`list`, `get`, `search`), if the entity supports it.
    pub fn action(&self, name: &str) -> Option<&ActionDescription> {
        self.actions.iter().find(|a| a.action == name)
    }
}

/// Guidance for agents about one entity (the spec's `x-airbyte-ai-hints`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[non_exhaustive]
pub struct AiHints {
    /// What the records are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When to reach for this entity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when_to_use: Option<String>,
    /// Words in a question that point at this entity.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trigger_phrases: Vec<String>,
    /// How current the data is (`live`, `static`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<String>,
    /// How to find records efficiently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_strategy: Option<String>,
    /// Questions this entity answers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub example_questions: Vec<String>,
}

/// One action of an entity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ActionDescription {
    /// `list`, `get` or `search`.
    pub action: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Description.
    pub description: &'static str,
    /// Whether the action works only in hosted mode (through Airbyte): true for `search`.
    pub hosted_only: bool,
    /// For paginated lists, the parameter that takes `meta.next_cursor` back (`after`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor_param: Option<&'static str>,
    /// For lists that return every record at once, the spec's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_pagination: Option<&'static str>,
    /// The parameters, in spec order.
    pub params: Vec<ParamDescription>,
    /// Whether the action changes data (`create`, `update`, `delete`): agents run it only
    /// when their operator allows writes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub writes: bool,
}

impl ActionDescription {
    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&ParamDescription> {
        self.params.iter().find(|p| p.name == name)
    }

    /// A compact signature such as `list(page_size?: integer 1..=250 = 25, after?: string)`.
    pub fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(ParamDescription::signature)
            .collect();
        format!("{}({})", self.action, params.join(", "))
    }
}

/// One parameter of an action.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ParamDescription {
    /// Name, as a key of `params`.
    pub name: &'static str,
    /// Where it travels: `path`, `query`, or `body` (search).
    #[serde(rename = "in")]
    pub location: &'static str,
    /// JSON type: `string`, `integer`, `number`, `boolean`, `object` or `array`.
    #[serde(rename = "type")]
    pub json_type: &'static str,
    /// Whether the caller must pass it. A parameter the API requires but that has a default
    /// (alerts' `page_size`) is filled in by the SDK, so it is not required here.
    pub required: bool,
    /// Inclusive minimum (integers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<i64>,
    /// Inclusive maximum (integers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<i64>,
    /// Default value used when it is not passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Allowed values of a string parameter (of an array's string items); empty means any
    /// string.
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<&'static str>,
    /// The JSON type of an array parameter's items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<&'static str>,
    /// Description.
    pub description: &'static str,
    /// A regular expression the value must match (path ids, for example).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<&'static str>,
}

impl ParamDescription {
    /// `name?: type bounds = default`, as in [`ActionDescription::signature`].
    pub fn signature(&self) -> String {
        let mut s = format!(
            "{}{}: {}",
            self.name,
            if self.required { "" } else { "?" },
            self.json_type
        );
        match (self.minimum, self.maximum) {
            (Some(a), Some(b)) => {
                let _ = write!(s, " {a}..={b}");
            }
            (Some(a), None) => {
                let _ = write!(s, " >={a}");
            }
            (None, Some(b)) => {
                let _ = write!(s, " <={b}");
            }
            (None, None) => {}
        }
        if !self.allowed.is_empty() {
            let _ = write!(s, " ({})", self.allowed.join("|"));
        }
        if let Some(d) = &self.default {
            let _ = write!(s, " = {d}");
        }
        s
    }
}

fn component<'m>(meta: &'m ConnectorMeta, name: &str) -> Option<&'m Value> {
    meta.spec()
        .pointer("/components/schemas")
        .and_then(|s| s.get(name))
}

fn hints_of(meta: &ConnectorMeta, schema: &str) -> Option<AiHints> {
    let h = component(meta, schema)?.get("x-airbyte-ai-hints")?;
    let text = |k: &str| h.get(k).and_then(Value::as_str).map(str::to_string);
    let list = |k: &str| -> Vec<String> {
        h.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(AiHints {
        summary: text("summary"),
        when_to_use: text("when_to_use"),
        trigger_phrases: list("trigger_phrases"),
        freshness: text("freshness"),
        search_strategy: text("search_strategy"),
        example_questions: list("example_questions"),
    })
}

fn param_description(p: &ParamMeta) -> ParamDescription {
    ParamDescription {
        name: p.name,
        location: match p.location {
            ParamLocation::Path => "path",
            ParamLocation::Header => "header",
            ParamLocation::Body => "body",
            _ => "query",
        },
        json_type: p.kind.json_type(),
        required: p.required && p.default.is_none(),
        minimum: p.minimum,
        maximum: p.maximum,
        default: p.default.and_then(|d| serde_json::from_str(d).ok()),
        allowed: match p.kind {
            ParamKind::String { allowed } => allowed.to_vec(),
            ParamKind::Array {
                items: &ParamKind::String { allowed },
                ..
            } => allowed.to_vec(),
            _ => Vec::new(),
        },
        items: match p.kind {
            ParamKind::Array { items, .. } => Some(items.json_type()),
            _ => None,
        },
        description: p.description,
        pattern: p.pattern,
    }
}

fn action_description(op: &OperationMeta) -> ActionDescription {
    ActionDescription {
        action: op.action.as_str(),
        summary: op.summary,
        description: op.description,
        hosted_only: false,
        cursor_param: op.cursor_param.or(if op.follows_urls() {
            Some(crate::meta::NEXT_PAGE_PARAM)
        } else {
            None
        }),
        no_pagination: op.no_pagination,
        params: op.params.iter().map(param_description).collect(),
        writes: op.action.is_write(),
    }
}

fn search_params() -> Vec<ParamDescription> {
    let p = |name, json_type, description| ParamDescription {
        name,
        location: "body",
        json_type,
        required: false,
        minimum: None,
        maximum: None,
        default: None,
        allowed: Vec::new(),
        items: None,
        description,
        pattern: None,
    };
    vec![
        p(
            "query",
            "object",
            "{\"filter\": <condition>, \"sort\": [{\"<field>\": \"asc\"|\"desc\"}]}; without a filter every record matches.",
        ),
        ParamDescription {
            minimum: Some(1),
            ..p(
                "limit",
                "integer",
                "At most this many records per page (the server's default is 1000).",
            )
        },
        p(
            "cursor",
            "string",
            "meta.cursor of the previous search page, to continue while meta.has_more is true.",
        ),
        p(
            "fields",
            "array",
            "Only these fields of each record, as dotted paths (\"id\", \"severity.name\").",
        ),
    ]
}

fn search_action() -> ActionDescription {
    ActionDescription {
        action: SEARCH,
        summary: "Search the hosted copy of the records",
        description: "Filters, sorts and projects the records Airbyte keeps for this entity (hosted mode only; in direct mode the call fails before any request). Also accepted as context_store_search.",
        hosted_only: true,
        cursor_param: None,
        no_pagination: None,
        params: search_params(),
        writes: false,
    }
}

fn describe(meta: &ConnectorMeta, e: &'static EntityMeta) -> EntityDescription {
    let mut actions: Vec<ActionDescription> = e
        .operations
        .iter()
        .map(|op| action_description(op))
        .collect();
    actions.sort_by_key(|a| if a.action == "list" { 0 } else { 1 });
    if !e.search_fields.is_empty() {
        actions.push(search_action());
    }
    EntityDescription {
        entity: e.name,
        description: e.description,
        record_schema: e.record_schema,
        hints: hints_of(meta, e.record_schema),
        actions,
        search_fields: e.search_fields.iter().map(|f| f.name).collect(),
    }
}

/// Every entity of the connector, with its actions and their parameters.
pub fn entities(meta: &ConnectorMeta) -> Vec<EntityDescription> {
    meta.entities.iter().map(|e| describe(meta, e)).collect()
}

fn unknown_entity(meta: &ConnectorMeta, name: &str) -> Error {
    Error::invalid(
        "entity",
        format!(
            "unknown entity `{name}`; valid entities: {}",
            meta.entity_names().join(", ")
        ),
    )
}

/// The JSON Schema (draft 2020-12) of one record of `entity`, as `execute` returns it from
/// `get` and in the `data` of `list`.
///
/// The schema is self-contained: the spec's `#/components/schemas/...` references point into
/// its `$defs`. It follows the SDK's decoding contract rather than the spec text alone: a
/// field that is not `required` may also be `null`, and the spec's enums are listed as
/// `examples` (with the known values in the description) because APIs add values without
/// notice. An unknown entity is an [`Error::InvalidInput`] listing the valid ones.
pub fn entity_schema(meta: &ConnectorMeta, entity: &str) -> Result<Value, Error> {
    let e = meta
        .entity(entity)
        .ok_or_else(|| unknown_entity(meta, entity))?;
    let root = component(meta, e.record_schema).ok_or_else(|| {
        Error::invalid(
            "entity",
            format!(
                "the spec has no schema `{}` for `{entity}`",
                e.record_schema
            ),
        )
    })?;
    let mut defs: BTreeMap<String, Value> = BTreeMap::new();
    let mut pending: Vec<String> = Vec::new();
    let mut out = convert(root, &mut pending, meta.display_name);
    while let Some(name) = pending.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let converted = match component(meta, &name) {
            Some(s) => convert(s, &mut pending, meta.display_name),
            None => json!({}),
        };
        defs.insert(name, converted);
    }
    let obj = out.as_object_mut().expect("a record schema is an object");
    let mut head = Map::new();
    head.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    head.insert("title".into(), json!(e.record_schema));
    head.append(obj);
    if !defs.is_empty() {
        head.insert(
            "$defs".into(),
            Value::Object(defs.into_iter().collect::<Map<_, _>>()),
        );
    }
    Ok(Value::Object(head))
}

const REF_PREFIX: &str = "#/components/schemas/";

/// Converts one spec schema to a standalone JSON Schema fragment: refs into `$defs`,
/// extensions dropped, enums opened, optional properties nullable.
fn convert(schema: &Value, pending: &mut Vec<String>, service: &str) -> Value {
    let Value::Object(obj) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if k.starts_with("x-") {
            continue;
        }
        match k.as_str() {
            "$ref" => {
                let target = v.as_str().unwrap_or_default();
                let name = target.strip_prefix(REF_PREFIX).unwrap_or(target);
                pending.push(name.to_string());
                out.insert(k.clone(), json!(format!("#/$defs/{name}")));
            }
            "properties" => {
                let required: BTreeSet<&str> = obj
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let props = v
                    .as_object()
                    .map(|props| {
                        props
                            .iter()
                            .map(|(name, s)| {
                                let mut c = convert(s, pending, service);
                                if !required.contains(name.as_str()) {
                                    c = nullable(c);
                                }
                                (name.clone(), c)
                            })
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(props));
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(k.clone(), convert(v, pending, service));
            }
            "allOf" | "anyOf" | "oneOf" => {
                let items = v
                    .as_array()
                    .map(|a| a.iter().map(|s| convert(s, pending, service)).collect())
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Array(items));
            }
            "enum" => {
                // Open enums: known values become examples, any string decodes.
                let values: Vec<String> = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("examples".into(), v.clone());
                let known = format!(
                    "Known values: {}; {service} may add others.",
                    values.join(", ")
                );
                let desc = match obj.get("description").and_then(Value::as_str) {
                    Some(d) => format!("{} {known}", d.trim_end()),
                    None => known,
                };
                out.insert("description".into(), json!(desc));
            }
            "description" if obj.contains_key("enum") => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// Lets `schema` also accept `null`.
fn nullable(mut schema: Value) -> Value {
    let Some(obj) = schema.as_object_mut() else {
        return schema;
    };
    if let Some(t) = obj.get_mut("type") {
        match t {
            Value::String(name) if name != "null" => {
                *t = json!([name.clone(), "null"]);
            }
            Value::Array(types) if !types.iter().any(|t| t == "null") => {
                types.push(json!("null"));
            }
            _ => {}
        }
        return schema;
    }
    if !obj.contains_key("$ref") {
        return schema;
    }
    let mut wrapper = Map::new();
    if let Some(d) = obj.remove("description") {
        wrapper.insert("description".into(), d);
    }
    wrapper.insert(
        "anyOf".into(),
        json!([Value::Object(std::mem::take(obj)), {"type": "null"}]),
    );
    Value::Object(wrapper)
}

// ── Tool description ────────────────────────────────────────────────────────────────────

fn example_questions(meta: &ConnectorMeta, kind: &str) -> Vec<String> {
    meta.spec()
        .pointer(&format!("/info/x-airbyte-example-questions/{kind}"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// One line: runs of whitespace (newlines included) become one space.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn sentence(s: &str) -> String {
    let s = one_line(s);
    if s.is_empty() || s.ends_with(['.', '!', '?']) {
        s
    } else {
        format!("{s}.")
    }
}

/// The searchable fields as a compact tree: `id, creator{user{id,name}}, severity{rank}`.
pub(crate) fn field_tree(fields: &[&str]) -> String {
    #[derive(Default)]
    struct Node {
        children: Vec<(String, Node)>,
    }
    fn insert(node: &mut Node, parts: &[&str]) {
        let Some((first, rest)) = parts.split_first() else {
            return;
        };
        let idx = match node.children.iter().position(|(n, _)| n == first) {
            Some(i) => i,
            None => {
                node.children.push((first.to_string(), Node::default()));
                node.children.len() - 1
            }
        };
        insert(&mut node.children[idx].1, rest);
    }
    fn render(node: &Node, sep: &str) -> String {
        node.children
            .iter()
            .map(|(name, child)| {
                if child.children.is_empty() {
                    name.clone()
                } else {
                    format!("{name}{{{}}}", render(child, ","))
                }
            })
            .collect::<Vec<_>>()
            .join(sep)
    }
    let mut root = Node::default();
    for f in fields {
        insert(&mut root, &f.split('.').collect::<Vec<_>>());
    }
    render(&root, ", ")
}

/// The text an agent framework puts in the tool's docstring, for a single tool that takes
/// `{entity, action, params}` and runs [`execute`](crate::Client::execute).
///
/// Generated from the spec: what the data is, every entity with its actions and params
/// (types, bounds, defaults), how paging works on the API (pass `meta.next_cursor` back
/// as `after`; `null` means the last page), search in hosted mode with its operators and
/// searchable fields, the output limit, errors, and the spec's example questions. It has no
/// blank lines (pydantic-ai cuts a docstring at the first blank line) and no lines that
/// docstring parsers read as sections.
pub fn tool_description(meta: &ConnectorMeta) -> String {
    let entities = entities(meta);
    let mut out: Vec<String> = vec![intro(meta)];
    out.push("Entities, with their actions and params (name?: optional, a..=b: inclusive bounds, = default):".to_string());
    out.extend(entities.iter().map(entity_line));
    out.extend(paging_lines(meta, &entities));
    out.extend(search_lines(&entities));
    out.push(sql_paragraph(meta));
    out.push(output_limit_line());
    out.push(shaping_line());
    out.push(errors_line());
    out.extend(question_lines(meta));
    out.into_iter()
        .map(|l| one_line(&l))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the tool is: `{entity, action, params}`, the service, read-only.
pub(crate) fn intro(meta: &ConnectorMeta) -> String {
    let service = meta.display_name;
    let about = meta
        .spec()
        .pointer("/info/description")
        .and_then(Value::as_str)
        .map(first_sentence)
        .unwrap_or_default();
    let has_writes = meta
        .entities
        .iter()
        .flat_map(|e| e.operations)
        .any(|o| o.action.is_write());
    if has_writes {
        return format!(
            "Reads and changes {service} data through one call: {{\"entity\": ..., \"action\": ..., \"params\": {{...}}}}. {about} Actions marked (write) create, change or delete data; they run only when the operator allows writes, and otherwise fail before any request. The other actions only read."
        );
    }
    format!(
        "Reads {service} data through one call: {{\"entity\": ..., \"action\": ..., \"params\": {{...}}}}. {about} This tool is read-only: it cannot create, change or delete anything."
    )
}

/// One entity on one line: what it is, when to use it, its actions with signatures.
pub(crate) fn entity_line(e: &EntityDescription) -> String {
    let what = e
        .hints
        .as_ref()
        .and_then(|h| h.summary.as_deref())
        .map(sentence)
        .unwrap_or_else(|| sentence(e.description));
    let when = e
        .hints
        .as_ref()
        .and_then(|h| h.when_to_use.as_deref())
        .map(|w| format!(" Use for: {}", sentence(&lower_first(w))))
        .unwrap_or_default();
    let how = e
        .hints
        .as_ref()
        .and_then(|h| h.search_strategy.as_deref())
        .map(|w| format!(" How: {}", sentence(&lower_first(w))))
        .unwrap_or_default();
    let mut line = format!("- {}: {what}{when}{how}", e.entity);
    for a in &e.actions {
        if a.hosted_only {
            continue;
        }
        let _ = write!(line, " {}", a.signature());
        if a.writes {
            line.push_str(" (write)");
        }
        let notes: Vec<String> = a
            .params
            .iter()
            .filter(|p| !is_obvious(p))
            .map(|p| {
                format!(
                    "{}: {}",
                    p.name,
                    one_line(p.description).trim_end_matches('.')
                )
            })
            .collect();
        match (a.action, a.cursor_param.is_some()) {
            ("list", true) => line.push_str(" paginated"),
            ("list", false) => line.push_str(" returns everything in one call"),
            _ => {}
        }
        if !notes.is_empty() {
            let _ = write!(line, " [{}]", notes.join("; "));
        }
        line.push(';');
    }
    if e.action(SEARCH).is_some() {
        line.push_str(" search (hosted).");
    } else if line.ends_with(';') {
        line.pop();
        line.push('.');
    }
    line
}

/// How paging works, which lists are not paginated, and what `get` returns.
pub(crate) fn paging_lines(meta: &ConnectorMeta, entities: &[EntityDescription]) -> Vec<String> {
    let service = meta.display_name;
    let mut out = Vec::new();
    let unpaged: Vec<&str> = entities
        .iter()
        .filter(|e| e.action("list").is_some_and(|a| a.cursor_param.is_none()))
        .map(|e| e.entity)
        .collect();
    let cursor = entities
        .iter()
        .filter_map(|e| e.action("list").and_then(|a| a.cursor_param))
        .next()
        .unwrap_or("after");
    out.push(format!(
        "Paging: list returns {{\"data\": [records], \"meta\": {{\"next_cursor\": \"<cursor>\" or null}}}}. For the next page, call list again with the same params plus \"{cursor}\": meta.next_cursor. next_cursor null means this was the last page. {service} has no has_more, starting_after, offset or page number: use only {cursor} and next_cursor. Page size bounds differ per entity (above); prefer a large page_size over many calls, and stop paging once you can answer."
    ));
    if !unpaged.is_empty() {
        out.push(format!(
            "Not paginated: {} return every record in one call (no params, meta.next_cursor is null).",
            unpaged.join(", ")
        ));
    }
    out.push("get returns the record itself, with no envelope. Ids come from the id field of list results.".to_string());
    out
}

/// Hosted search: the call, its conditions, its result, and each entity's searchable fields.
pub(crate) fn search_lines(entities: &[EntityDescription]) -> Vec<String> {
    let searchable: Vec<&EntityDescription> = entities
        .iter()
        .filter(|e| !e.search_fields.is_empty())
        .collect();
    if searchable.is_empty() {
        return Vec::new();
    }
    let mut out = vec![
        "Search (hosted mode only, through Airbyte; in direct mode it fails with a hosted-only error, so use list then): action \"search\" with params {\"query\": {\"filter\": <condition>, \"sort\": [{\"<field>\": \"asc\" or \"desc\"}]}, \"limit\": n, \"cursor\": \"...\", \"fields\": [\"id\", \"severity.name\"]}, all optional."
            .to_string(),
        "Search conditions: {\"eq\"|\"neq\"|\"gt\"|\"gte\"|\"lt\"|\"lte\": {\"<field>\": value}}, {\"in\": {\"<field>\": [values]}}, {\"like\": {\"<field>\": \"%text%\"}} (case-insensitive, % is the only wildcard), {\"fuzzy\": {\"<field>\": \"words in order\"}}, {\"keyword\": {\"<field>\": \"any of these words\"}}, {\"contains\": {\"<array field>\": value}}, {\"any\": {\"<array field>\": [values]}}, {\"not\": condition}, {\"and\": [conditions]}, {\"or\": [conditions]}. Nested fields use dots (severity.rank). Timestamps are RFC 3339 strings and compare in time order, e.g. {\"gte\": {\"created_at\": \"2026-01-01T00:00:00Z\"}}."
            .to_string(),
        "Search returns {\"data\": [records], \"meta\": {\"has_more\": bool, \"cursor\": ..., \"took_ms\": ...}}; while has_more is true, pass meta.cursor back as params.cursor. Use fields to return less."
            .to_string(),
    ];
    for e in searchable {
        out.push(format!(
            "Searchable fields of {}: {}.",
            e.entity,
            field_tree(&e.search_fields)
        ));
    }
    out
}

/// The output limit.
pub(crate) fn output_limit_line() -> String {
    format!(
        "Output limit: a result over {} characters of JSON (the default) is refused with an error, never cut short; ask again with a smaller page_size (list) or a smaller limit (search), or keep only the fields you need.",
        group_thousands(DEFAULT_MAX_OUTPUT_CHARS)
    )
}

/// Field shaping, truncation and intent.
pub(crate) fn shaping_line() -> String {
    "Shaping: select_fields [\"id\", \"status.name\"] keeps only those fields of each record (exclude_fields drops some); skip_truncation false cuts strings over 200 characters in list and search results; compact true drops null and empty values; intent says in one sentence why you make the call.".to_string()
}

/// What errors say.
pub(crate) fn errors_line() -> String {
    "Errors say what to change: an unknown entity, action or param, a wrong type or an out-of-range value is refused before any request and the message lists what is valid. Rate limits (429) and server errors are retried automatically; if one still comes back it says it is retryable, so wait and call again. Authentication errors cannot be fixed by changing params.".to_string()
}

/// The spec's example questions: answerable, needing search, and out of reach.
pub(crate) fn question_lines(meta: &ConnectorMeta) -> Vec<String> {
    let mut out = Vec::new();
    let direct = example_questions(meta, "direct");
    let search = example_questions(meta, "search");
    let unsupported = example_questions(meta, "unsupported");
    if !direct.is_empty() {
        out.push(format!(
            "Questions it answers: {}",
            quoted(&direct).join("; ")
        ));
    }
    if !search.is_empty() {
        out.push(format!(
            "Questions that need search (hosted) or paging and filtering the results yourself: {}",
            quoted(&search).join("; ")
        ));
    }
    if !unsupported.is_empty() {
        out.push(format!(
            "Questions it cannot answer (read-only): {}",
            quoted(&unsupported).join("; ")
        ));
    }
    out
}

/// What the tool description says about context-store SQL, with the semantic-search fields
/// of the spec.
pub(crate) fn sql_paragraph(meta: &ConnectorMeta) -> String {
    let mut text = format!(
        "SQL (hosted mode only): action \"{SQL_ACTION}\" on any entity with params {{\"sql\": \"SELECT id, name FROM <entity> WHERE ... ORDER BY ... LIMIT n\", \"limit\": n}} runs SQL over Airbyte's stored copy of the records (nested fields with dots: status.name); it returns {{\"data\": [rows], \"meta\": {{\"took_ms\": ..}}}}. Prefer it to paging when you filter, sort or count."
    );
    let semantic = crate::sql::semantic_fields(meta);
    if !semantic.is_empty() {
        let fields: Vec<String> = semantic.iter().map(|(e, f)| format!("{e}.{f}")).collect();
        let (e0, f0) = &semantic[0];
        let _ = write!(
            text,
            " Search by meaning on {} with the table function semantic_search(entity => '<entity>', field => '<field>', prompt => '<what you look for>', limit => n), optionally filter => <condition>, context_size => n, min_similarity => 0..1, dedup => 'max'|'none', enrich => true|false; e.g. SELECT * FROM semantic_search(entity => '{e0}', field => '{f0}', prompt => 'database outage', limit => 5).",
            fields.join(", ")
        );
    }
    text
}

/// Params whose signature says it all: the paging pair, and ids described only as such.
fn is_obvious(p: &ParamDescription) -> bool {
    matches!(p.name, "page_size" | "after")
        || (p.location == "path" && p.description.starts_with("ID of the"))
}

/// The first sentence of `s`, on one line.
fn first_sentence(s: &str) -> String {
    let s = one_line(s);
    match s.find(". ") {
        Some(i) => s[..=i].to_string(),
        None => sentence(&s),
    }
}

fn quoted(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|q| format!("\"{}\"", one_line(q)))
        .collect()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

// ── Tool input schema ───────────────────────────────────────────────────────────────────

pub(crate) fn param_schema(p: &ParamDescription) -> Value {
    let mut s = Map::new();
    if p.json_type != "any" {
        s.insert("type".into(), json!(p.json_type));
    }
    if let Some(m) = p.minimum {
        s.insert("minimum".into(), json!(m));
    }
    if let Some(m) = p.maximum {
        s.insert("maximum".into(), json!(m));
    }
    match p.items {
        Some(items) => {
            let mut i = Map::new();
            i.insert("type".into(), json!(items));
            if !p.allowed.is_empty() {
                i.insert("enum".into(), json!(p.allowed));
            }
            s.insert("items".into(), Value::Object(i));
        }
        None if !p.allowed.is_empty() => {
            s.insert("enum".into(), json!(p.allowed));
        }
        None => {}
    }
    if p.location == "path" {
        s.insert("minLength".into(), json!(1));
    }
    if let Some(pattern) = p.pattern {
        s.insert("pattern".into(), json!(pattern));
    }
    if let Some(d) = &p.default {
        s.insert("default".into(), d.clone());
    }
    s.insert("description".into(), json!(one_line(p.description)));
    Value::Object(s)
}

fn search_params_schema(e: &EntityDescription) -> Value {
    let fields = &e.search_fields;
    json!({
        "query": {
            "type": "object",
            "description": "{\"filter\": <condition>, \"sort\": [{\"<field>\": \"asc\"|\"desc\"}]}.",
            "properties": {
                "filter": {
                    "type": "object",
                    "description": "One condition such as {\"eq\": {\"<field>\": value}}, or not/and/or of conditions; see the tool description.",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "propertyNames": {"enum": SEARCH_OPERATORS},
                },
                "sort": {
                    "type": "array",
                    "description": "Sort keys in order, each {\"<field>\": \"asc\"|\"desc\"}.",
                    "items": {
                        "type": "object",
                        "minProperties": 1,
                        "maxProperties": 1,
                        "additionalProperties": {"enum": ["asc", "desc"]},
                    },
                },
            },
            "additionalProperties": false,
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "description": "At most this many records per page (default 1000).",
        },
        "cursor": {
            "type": "string",
            "description": "meta.cursor of the previous search page.",
        },
        "fields": {
            "type": "array",
            "description": "Return only these fields, as dotted paths.",
            "items": {"type": "string", "enum": fields},
        },
    })
}

fn branch(e: &EntityDescription, a: &ActionDescription) -> Value {
    let props = if a.action == SEARCH {
        search_params_schema(e)
    } else {
        Value::Object(
            a.params
                .iter()
                .map(|p| (p.name.to_string(), param_schema(p)))
                .collect(),
        )
    };
    let required: Vec<&str> = a
        .params
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    let mut params = Map::new();
    params.insert("type".into(), json!("object"));
    params.insert("properties".into(), props);
    if !required.is_empty() {
        params.insert("required".into(), json!(required));
    }
    params.insert("additionalProperties".into(), json!(false));
    let mut top_required = vec!["entity", "action"];
    if !required.is_empty() {
        top_required.push("params");
    }
    let summary = if a.hosted_only {
        format!("{} (hosted mode only)", a.summary)
    } else if a.writes {
        format!(
            "{} (a write: it changes data, and runs only when the operator allows writes)",
            a.summary
        )
    } else {
        a.summary.to_string()
    };
    json!({
        "title": format!("{}.{}", e.entity, a.action),
        "description": summary,
        "properties": {
            "entity": {"const": e.entity},
            "action": {"const": a.action},
            "params": Value::Object(params),
        },
        "required": top_required,
    })
}

/// The JSON Schema of the tool input `{entity, action, params}`, for function calling.
///
/// The top level is `{"type": "object"}` with the three properties, `entity` and `action` as
/// enums, `additionalProperties: false`. The per-(entity, action) constraints sit in a
/// `oneOf` with one branch per pair: `entity` and `action` as `const`s, and `params` as an
/// object with `additionalProperties: false`, typed params with bounds and defaults, and the
/// required ones listed. The `oneOf` is placed under a top-level `if`/`then` (`if` entity and
/// action are present, `then` exactly one branch matches) rather than at the top level,
/// because Anthropic's API rejects `oneOf`, `anyOf` and `allOf` at the top of a tool's
/// `input_schema`. There are no `$ref`s. OpenAI's strict mode is not supported (it forbids
/// optional properties and `oneOf`); use non-strict function calling.
pub fn tool_input_schema(meta: &ConnectorMeta) -> Value {
    let entities = entities(meta);
    let mut branches = Vec::new();
    let mut actions: Vec<&str> = Vec::new();
    for e in &entities {
        for a in &e.actions {
            if !actions.contains(&a.action) {
                actions.push(a.action);
            }
            branches.push(branch(e, a));
        }
    }
    actions.push(SQL_ACTION);
    branches.push(json!({
        "title": format!("<entity>.{SQL_ACTION}"),
        "description": "SQL over Airbyte's stored copy of an entity's records (hosted mode only).",
        "properties": {
            "action": {"const": SQL_ACTION},
            "params": {
                "type": "object",
                "properties": {
                    "sql": {"type": "string", "minLength": 1, "description": "The query, e.g. SELECT id, name FROM <entity> LIMIT 10."},
                    "limit": {"type": "integer", "minimum": 1, "description": "At most this many rows."},
                },
                "required": ["sql"],
                "additionalProperties": false,
            },
        },
        "required": ["entity", "action", "params"],
    }));
    json!({
        "type": "object",
        "description": format!("One {} read: the entity, the action on it, and the action's params.", meta.display_name),
        "properties": {
            "entity": {
                "type": "string",
                "enum": entities.iter().map(|e| e.entity).collect::<Vec<_>>(),
                "description": "What to read.",
            },
            "action": {
                "type": "string",
                "enum": actions,
                "description": "list (a page, or everything for small configuration entities), get (one record by id), search or context_store_sql_query (both hosted mode only).",
            },
            "params": {
                "type": "object",
                "description": "The action's parameters; omit or pass {} when it needs none. For the next page of a list, pass meta.next_cursor as after.",
            },
            "select_fields": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "description": "Keep only these fields of each record (dot paths reach into nested objects: status.name). Wins over exclude_fields.",
            },
            "exclude_fields": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "description": "Drop these fields (names or dot paths) from each record.",
            },
            "skip_truncation": {
                "type": "boolean",
                "description": "true returns strings of list and search results in full; otherwise strings over 200 characters are cut (get the record by id for its full text).",
            },
            "intent": {
                "type": "string",
                "maxLength": crate::shape::MAX_INTENT_CHARS,
                "description": "Optional: why you are making this call, in one sentence.",
            },
            "compact": {
                "type": "boolean",
                "description": "Whether null, empty string, empty list and empty object values are dropped from the records (to save context); false returns records exactly as sent.",
            },
        },
        "required": ["entity", "action"],
        "additionalProperties": false,
        "if": {"required": ["entity", "action"]},
        "then": {"oneOf": branches},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree() {
        assert_eq!(
            field_tree(&[
                "id",
                "creator",
                "creator.user",
                "creator.user.id",
                "creator.alert.id",
                "x"
            ]),
            "id, creator{user{id},alert{id}}, x"
        );
    }

    #[test]
    fn nullable_forms() {
        assert_eq!(
            nullable(json!({"type": "string"})),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            nullable(json!({"type": ["string", "null"]})),
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            nullable(json!({"$ref": "#/$defs/A", "description": "d"})),
            json!({"description": "d", "anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]})
        );
    }
}

//! The intermediate representation: what the spec says about entities, actions, params and
//! extractors, checked and located. Everything the emitters need, nothing about Rust syntax.

use heck::{ToShoutySnakeCase, ToUpperCamelCase};
use serde_yaml_ng::Value;

use crate::error::{ptr, SpecError};
use crate::load::{deref, resolve_pointer};

/// The actions this generator knows how to turn into typed methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// `GET` a collection, maybe paginated.
    List,
    /// `GET` one record by id.
    Get,
}

impl Action {
    /// The action name as written in the spec (`x-airbyte-action`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Get => "get",
        }
    }
}

/// Where a parameter goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// A path segment (`/v2/incidents/{id}`), percent-encoded.
    Path,
    /// A query-string parameter.
    Query,
}

/// The scalar type of a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// A string; `allowed` lists the enumerated values, if any.
    String {
        /// Allowed values (empty: any string).
        allowed: Vec<String>,
    },
    /// A 64-bit integer.
    Integer,
    /// A boolean.
    Boolean,
    /// A 64-bit float.
    Number,
}

/// One operation parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The wire name.
    pub name: String,
    /// Path or query.
    pub location: ParamLocation,
    /// Its type.
    pub kind: ParamKind,
    /// Whether the API requires it.
    pub required: bool,
    /// Inclusive lower bound (integers).
    pub minimum: Option<i64>,
    /// Inclusive upper bound (integers).
    pub maximum: Option<i64>,
    /// The default, as JSON text (`25`, `"x"`), when the spec gives one.
    pub default: Option<serde_json::Value>,
    /// Description from the spec.
    pub description: String,
    /// The schema's `pattern` (a regular expression the value must match).
    pub pattern: Option<String>,
}

/// How a paginated list finds its next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Pagination {
    /// Path of the next cursor inside the response (`["pagination_meta", "after"]`).
    pub next_cursor_path: Vec<String>,
    /// The query parameter that takes the cursor back (`after`).
    pub cursor_param: String,
}

/// One (entity, action) operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Entity name (`incidents`).
    pub entity: String,
    /// Action.
    pub action: Action,
    /// `operationId` (progenitor method name is its snake_case form).
    pub operation_id: String,
    /// HTTP path template (`/v2/incidents/{id}`).
    pub path: String,
    /// One-line summary.
    pub summary: String,
    /// Longer description.
    pub description: String,
    /// Parameters in spec order.
    pub params: Vec<Param>,
    /// The envelope field holding the records (`incidents` / `incident`).
    pub record_field: String,
    /// The field names from the response root to the records (`["incidents"]`).
    pub record_path: Vec<String>,
    /// The integer query parameter that sets the page size, for paginated lists.
    pub page_size_param: Option<String>,
    /// The page size streams use when the caller gives none: `x-sdk-bulk-page-size`, else the
    /// page-size parameter's maximum.
    pub bulk_page_size: Option<i64>,
    /// The component schema of one record (`Incident`).
    pub record_component: String,
    /// Pagination, for paginated lists.
    pub pagination: Option<Pagination>,
    /// `x-airbyte-no-pagination` reason, for lists that return everything at once.
    pub no_pagination: Option<String>,
    /// `x-airbyte-preferred-for-check`.
    pub preferred_for_check: bool,
    /// JSON pointer of the operation in the spec.
    pub pointer: String,
}

/// A searchable field of an entity (`x-airbyte-context-store`), top-level or nested.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchField {
    /// Field path, dotted for nested fields (`creator.user.email`).
    pub name: String,
    /// Whether it is a top-level field of the search record.
    pub top_level: bool,
    /// JSON type without `null` (`string`, `integer`, `number`, `boolean`, `array`, `object`).
    pub json_type: String,
    /// Description.
    pub description: String,
}

/// One entity with its operations.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Snake-case plural name (`incident_updates`).
    pub name: String,
    /// Description of the entity (from its record component).
    pub description: String,
    /// The record component (`IncidentUpdate`).
    pub record_component: String,
    /// Operations in the order list, get.
    pub operations: Vec<Operation>,
    /// Fields the hosted context store can search, if declared.
    pub search_fields: Vec<SearchField>,
}

/// A whole connector spec, checked.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The file name used in error messages.
    pub file: String,
    /// The parsed document, as written (OpenAPI 3.1 style).
    pub doc: Value,
    /// `info.x-airbyte-connector-name`.
    pub connector_name: String,
    /// `info.x-airbyte-connector-definition-id`.
    pub definition_id: String,
    /// `info.version`.
    pub version: String,
    /// `info.title`.
    pub title: String,
    /// `info.description`.
    pub description: String,
    /// `servers[0].url`, if given.
    pub server_url: Option<String>,
    /// Entities in order of first appearance in `paths`.
    pub entities: Vec<Entity>,
    /// The name people use (`info.x-airbyte-connector-display-name`, else `info.title`
    /// without a trailing "API Connector", "Connector" or "API").
    pub display_name: String,
    /// The prefix of generated type names (`IncidentIo`).
    pub type_prefix: String,
    /// The prefix of environment variables (`INCIDENT_IO`).
    pub env_prefix: String,
    /// What error messages say about the rate limit (`info.x-sdk-rate-limit`).
    pub rate_limit_hint: Option<String>,
    /// The auth schemes.
    pub auth: Vec<crate::auth::AuthScheme>,
}

impl Spec {
    /// All operations, entity by entity.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.entities.iter().flat_map(|e| e.operations.iter())
    }
}

/// `incident.io API Connector` → `incident.io`; an empty title gives the connector name.
fn display_from_title(title: &str, name: &str) -> String {
    let mut t = title.trim();
    for suffix in [" API Connector", " Connector", " API"] {
        if let Some(stripped) = t.strip_suffix(suffix) {
            t = stripped.trim();
            break;
        }
    }
    if t.is_empty() {
        name.to_string()
    } else {
        t.to_string()
    }
}

fn text(node: &Value, key: &str) -> String {
    node.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Names of the query parameter that sets a page's size, in order of preference.
const PAGE_SIZE_PARAMS: &[&str] = &["page_size", "limit", "per_page", "pageSize", "page[size]"];

/// Builds the IR from a parsed document (refs already checked).
pub fn build(file: &str, doc: Value) -> Result<Spec, SpecError> {
    let info = doc
        .get("info")
        .ok_or_else(|| SpecError::new("/info", "the spec has no `info` section"))?;
    let connector_name = text(info, "x-airbyte-connector-name");
    if connector_name.is_empty() {
        return Err(SpecError::new(
            "/info/x-airbyte-connector-name",
            "missing: give the connector name, e.g. `x-airbyte-connector-name: incident-io`",
        ));
    }
    let definition_id = text(info, "x-airbyte-connector-definition-id");
    if definition_id.is_empty() {
        return Err(SpecError::new(
            "/info/x-airbyte-connector-definition-id",
            "missing: give the Airbyte connector definition id (a UUID)",
        ));
    }
    match doc.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0") || v.starts_with("3.1") => {}
        Some(v) => {
            return Err(SpecError::new(
                "/openapi",
                format!("OpenAPI version `{v}` is not supported; use 3.0.x or 3.1.x"),
            ))
        }
        None => {
            return Err(SpecError::new(
                "/openapi",
                "missing `openapi: 3.1.0` at the top of the document",
            ))
        }
    }
    let server_url = doc
        .get("servers")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("url"))
        .and_then(Value::as_str)
        .map(str::to_string);

    let paths = match doc.get("paths") {
        Some(Value::Mapping(m)) => m,
        _ => {
            return Err(SpecError::new(
                "/paths",
                "missing or not a mapping: the spec needs `paths:` with at least one operation",
            ))
        }
    };

    let mut entities: Vec<Entity> = Vec::new();
    let mut seen: Vec<(String, String, String)> = Vec::new();
    for (path_key, item) in paths {
        let path = path_key.as_str().unwrap_or_default().to_string();
        let path_ptr = ptr("/paths", &path);
        let Value::Mapping(methods) = item else {
            return Err(SpecError::new(
                &path_ptr,
                "a path item must be a mapping of methods",
            ));
        };
        for (method_key, op_node) in methods {
            let method = method_key.as_str().unwrap_or_default();
            let op_ptr = ptr(&path_ptr, method);
            match method {
                "get" => {}
                "parameters" | "summary" | "description" | "servers" => {
                    if method == "parameters" {
                        return Err(SpecError::new(
                            &op_ptr,
                            "path-level `parameters` are not supported; declare them on the operation",
                        ));
                    }
                    continue;
                }
                m if m.starts_with("x-") => continue,
                other => {
                    return Err(SpecError::new(
                        &op_ptr,
                        format!("unsupported construct: `{other}` operations; this read-only SDK generates `get` operations only (remove it or change the method)"),
                    ))
                }
            }
            let (entity, action) = (
                text(op_node, "x-airbyte-entity"),
                text(op_node, "x-airbyte-action"),
            );
            if let Some((_, _, first)) = seen.iter().find(|(e, a, _)| *e == entity && *a == action)
            {
                return Err(SpecError::new(
                    &op_ptr,
                    format!(
                        "duplicate entity+action `{entity}`/`{action}`: already defined at {first}; each (x-airbyte-entity, x-airbyte-action) pair must be unique"
                    ),
                ));
            }
            seen.push((entity, action, op_ptr.clone()));
            let op = build_operation(&doc, &path, &op_ptr, op_node)?;
            match entities.iter_mut().find(|e| e.name == op.entity) {
                Some(e) => {
                    if e.record_component != op.record_component {
                        return Err(SpecError::new(
                            &op_ptr,
                            format!(
                                "entity `{}` returns `{}` here but `{}` elsewhere; all actions of an entity must return the same record schema",
                                op.entity, op.record_component, e.record_component
                            ),
                        ));
                    }
                    e.operations.push(op);
                }
                None => {
                    let (comp, _) = deref(
                        &doc,
                        resolve_pointer(
                            &doc,
                            &format!("/components/schemas/{}", op.record_component),
                        )
                        .unwrap_or(&Value::Null),
                        "",
                    );
                    entities.push(Entity {
                        name: op.entity.clone(),
                        description: text(comp, "description"),
                        record_component: op.record_component.clone(),
                        operations: vec![op],
                        search_fields: Vec::new(),
                    });
                }
            }
        }
    }
    if entities.is_empty() {
        return Err(SpecError::new("/paths", "no operations found"));
    }
    for e in &mut entities {
        e.operations.sort_by_key(|o| o.action);
        if !e
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || !e.name.starts_with(|c: char| c.is_ascii_lowercase())
        {
            return Err(SpecError::new(
                &e.operations[0].pointer,
                format!(
                    "entity name `{}` must be snake_case (lowercase letters, digits, `_`)",
                    e.name
                ),
            ));
        }
    }
    read_search_fields(&doc, &mut entities)?;

    let title = text(info, "title");
    let display_name = match text(info, "x-airbyte-connector-display-name") {
        d if !d.is_empty() => d,
        _ => display_from_title(&title, &connector_name),
    };
    let type_prefix = connector_name.to_upper_camel_case();
    if type_prefix.is_empty() || type_prefix.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(SpecError::new(
            "/info/x-airbyte-connector-name",
            format!("`{connector_name}` does not make a Rust type name; use letters, digits and `-`, starting with a letter"),
        ));
    }
    let env_prefix = connector_name.to_shouty_snake_case();
    let rate_limit_hint = match info.get("x-sdk-rate-limit") {
        None => None,
        Some(r) => {
            let at = "/info/x-sdk-rate-limit";
            let per_minute = r.get("requests_per_minute").and_then(Value::as_u64).ok_or_else(|| {
                SpecError::new(at, "needs `requests_per_minute: <integer>` (and optionally `scope: per API key`)")
            })?;
            let scope = r
                .get("scope")
                .and_then(Value::as_str)
                .map(|s| format!(" {s}"))
                .unwrap_or_default();
            Some(format!(
                "the default limit is {per_minute} requests/minute{scope}"
            ))
        }
    };
    let auth = crate::auth::read(&doc, &env_prefix)?;

    Ok(Spec {
        display_name,
        type_prefix,
        env_prefix,
        rate_limit_hint,
        auth,
        file: file.to_string(),
        connector_name,
        definition_id,
        version: text(info, "version"),
        title,
        description: text(info, "description"),
        server_url,
        entities,
        doc,
    })
}

fn build_operation(
    doc: &Value,
    path: &str,
    at: &str,
    node: &Value,
) -> Result<Operation, SpecError> {
    let entity = text(node, "x-airbyte-entity");
    if entity.is_empty() {
        return Err(SpecError::new(
            ptr(at, "x-airbyte-entity"),
            "missing: every operation needs `x-airbyte-entity: <plural snake_case name>`",
        ));
    }
    let action_text = text(node, "x-airbyte-action");
    let action = match action_text.as_str() {
        "list" => Action::List,
        "get" => Action::Get,
        "" => {
            return Err(SpecError::new(
                ptr(at, "x-airbyte-action"),
                "missing: every operation needs `x-airbyte-action: list` or `get`",
            ))
        }
        other => {
            return Err(SpecError::new(
                ptr(at, "x-airbyte-action"),
                format!(
                "unsupported construct: action `{other}`; supported actions are `list` and `get`"
            ),
            ))
        }
    };
    let operation_id = text(node, "operationId");
    if operation_id.is_empty() {
        return Err(SpecError::new(
            ptr(at, "operationId"),
            "missing: every operation needs an `operationId` (it names the raw HTTP method)",
        ));
    }

    // Parameters.
    let mut params = Vec::new();
    if let Some(list) = node.get("parameters") {
        let Value::Sequence(items) = list else {
            return Err(SpecError::new(ptr(at, "parameters"), "must be a list"));
        };
        for (i, p) in items.iter().enumerate() {
            let p_ptr = ptr(&ptr(at, "parameters"), &i.to_string());
            let (p, p_ptr) = deref(doc, p, &p_ptr);
            params.push(build_param(doc, &p_ptr, p)?);
        }
    }
    for segment in path.split('/').filter(|s| s.starts_with('{')) {
        let name = segment.trim_start_matches('{').trim_end_matches('}');
        if !params
            .iter()
            .any(|p| p.name == name && p.location == ParamLocation::Path)
        {
            return Err(SpecError::new(
                at,
                format!(
                    "path `{path}` has `{{{name}}}` but no `in: path` parameter named `{name}`"
                ),
            ));
        }
    }
    if action == Action::Get && !params.iter().any(|p| p.location == ParamLocation::Path) {
        return Err(SpecError::new(
            at,
            "a `get` action needs a path parameter (the record id), e.g. `/v2/things/{id}`",
        ));
    }

    // Response envelope and extractors.
    let resp_ptr = format!("{}/responses/200/content/application~1json/schema", at);
    let resp = resolve_pointer(doc, &resp_ptr).ok_or_else(|| {
        SpecError::new(
            ptr(at, "responses"),
            "unsupported construct: no `200` response with `application/json` content; each operation needs one",
        )
    })?;
    let (resp, resp_at) = deref(doc, resp, &resp_ptr);

    let extractor_ptr = ptr(at, "x-airbyte-record-extractor");
    let extractor = text(node, "x-airbyte-record-extractor");
    if extractor.is_empty() {
        return Err(SpecError::new(
            &extractor_ptr,
            "missing: every operation needs `x-airbyte-record-extractor: $.<field>`",
        ));
    }
    let record_path = parse_extractor(&extractor, &extractor_ptr)?;
    if record_path.len() != 1 {
        return Err(SpecError::new(
            &extractor_ptr,
            format!("unsupported construct: `{extractor}`; the record extractor must name one top-level field (`$.incidents`)"),
        ));
    }
    let record_field = record_path[0].clone();
    let field_schema = property(doc, resp, &resp_at, &record_field).ok_or_else(|| {
        SpecError::new(
            &extractor_ptr,
            format!(
                "`{extractor}` names no field of the 200 response (its fields: {})",
                field_names(doc, resp, &resp_at)
            ),
        )
    })?;
    let record_ref = match action {
        Action::List => {
            let (fs, _) = deref(doc, field_schema, "");
            let items = fs
                .get("items")
                .filter(|_| type_is(fs, "array"))
                .ok_or_else(|| {
                    SpecError::new(
                        &extractor_ptr,
                        format!("`{extractor}` must name an array field for a `list` action"),
                    )
                })?;
            items.get("$ref").and_then(Value::as_str)
        }
        Action::Get => field_schema.get("$ref").and_then(Value::as_str),
    };
    let record_component = record_ref
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(str::to_string)
        .ok_or_else(|| {
            SpecError::new(
                &extractor_ptr,
                format!("unsupported construct: the record schema behind `{extractor}` must be a `$ref` to `#/components/schemas/<Name>`; move the inline schema into components"),
            )
        })?;

    let mut pagination = None;
    if let Some(meta) = node.get("x-airbyte-meta-extractor") {
        let meta_ptr = ptr(at, "x-airbyte-meta-extractor");
        let Value::Mapping(m) = meta else {
            return Err(SpecError::new(
                &meta_ptr,
                "must be a mapping like `next_cursor: $.pagination_meta.after`",
            ));
        };
        for (k, v) in m {
            let key = k.as_str().unwrap_or_default();
            let here = ptr(&meta_ptr, key);
            let expr = v.as_str().unwrap_or_default();
            if expr.starts_with('@') {
                return Err(SpecError::new(&here, format!("unsupported construct: `{expr}` (link and header meta extractors are not supported); use a JSONPath into the body")));
            }
            let steps = parse_extractor(expr, &here)?;
            check_path(doc, resp, &resp_at, &steps).map_err(|known| {
                SpecError::new(
                    &here,
                    format!("`{expr}` names no field of the 200 response ({known})"),
                )
            })?;
            if key == "next_cursor" {
                if action != Action::List {
                    return Err(SpecError::new(
                        &here,
                        "`next_cursor` only makes sense on a `list` action",
                    ));
                }
                let cursor_param = ["after", "cursor", "starting_after", "page_token"]
                    .iter()
                    .find(|n| params.iter().any(|p| p.name == **n && p.location == ParamLocation::Query))
                    .ok_or_else(|| {
                        SpecError::new(&here, "a paginated list needs a query parameter that takes the cursor back (`after`, `cursor`, `starting_after` or `page_token`)")
                    })?;
                pagination = Some(Pagination {
                    next_cursor_path: steps,
                    cursor_param: cursor_param.to_string(),
                });
            }
        }
    }
    let no_pagination = node
        .get("x-airbyte-no-pagination")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string());
    let page_size_param = pagination.as_ref().and_then(|_| {
        PAGE_SIZE_PARAMS.iter().find_map(|name| {
            params
                .iter()
                .find(|p| {
                    p.name == *name
                        && p.location == ParamLocation::Query
                        && p.kind == ParamKind::Integer
                })
                .map(|p| p.name.clone())
        })
    });
    let bulk_ptr = ptr(at, "x-sdk-bulk-page-size");
    let bulk_page_size = match node.get("x-sdk-bulk-page-size") {
        None => page_size_param
            .as_ref()
            .and_then(|n| params.iter().find(|p| &p.name == n))
            .and_then(|p| p.maximum),
        Some(v) => {
            let Some(n) = v.as_i64().filter(|n| *n >= 1) else {
                return Err(SpecError::new(
                    &bulk_ptr,
                    "must be a positive integer: the page size streams use when the caller gives none",
                ));
            };
            let Some(p) = page_size_param
                .as_ref()
                .and_then(|name| params.iter().find(|p| &p.name == name))
            else {
                return Err(SpecError::new(
                    &bulk_ptr,
                    "only a paginated list with a page-size query parameter can set a bulk page size",
                ));
            };
            if p.maximum.is_some_and(|m| n > m) || p.minimum.is_some_and(|m| n < m) {
                return Err(SpecError::new(
                    &bulk_ptr,
                    format!("{n} is outside the bounds of `{}`", p.name),
                ));
            }
            Some(n)
        }
    };

    Ok(Operation {
        entity,
        action,
        operation_id,
        path: path.to_string(),
        summary: text(node, "summary"),
        description: text(node, "description"),
        params,
        record_path: vec![record_field.clone()],
        record_field,
        page_size_param,
        bulk_page_size,
        record_component,
        pagination,
        no_pagination,
        preferred_for_check: node
            .get("x-airbyte-preferred-for-check")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        pointer: at.to_string(),
    })
}

fn build_param(doc: &Value, at: &str, p: &Value) -> Result<Param, SpecError> {
    let name = text(p, "name");
    if name.is_empty() {
        return Err(SpecError::new(ptr(at, "name"), "missing parameter name"));
    }
    let location = match text(p, "in").as_str() {
        "path" => ParamLocation::Path,
        "query" => ParamLocation::Query,
        other => {
            return Err(SpecError::new(
                ptr(at, "in"),
                format!("unsupported construct: parameter `{name}` is `in: {other}`; only `path` and `query` parameters are supported"),
            ))
        }
    };
    let schema_ptr = ptr(at, "schema");
    let schema = p
        .get("schema")
        .ok_or_else(|| SpecError::new(&schema_ptr, format!("parameter `{name}` has no schema")))?;
    let (schema, _) = deref(doc, schema, &schema_ptr);
    let ty = non_null_type(schema).map_err(|m| SpecError::new(&schema_ptr, m))?;
    let kind = match ty.as_deref() {
        Some("string") => ParamKind::String {
            allowed: schema
                .get("enum")
                .and_then(Value::as_sequence)
                .map(|s| s.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
        },
        Some("integer") => ParamKind::Integer,
        Some("boolean") => ParamKind::Boolean,
        Some("number") => ParamKind::Number,
        other => {
            return Err(SpecError::new(
                &schema_ptr,
                format!("unsupported construct: parameter `{name}` has type `{}`; parameters must be string, integer, number or boolean", other.unwrap_or("(none)")),
            ))
        }
    };
    let int = |k: &str| schema.get(k).and_then(Value::as_i64);
    let default = schema
        .get("default")
        .map(|d| serde_json::to_value(d).unwrap_or(serde_json::Value::Null));
    let required = p.get("required").and_then(Value::as_bool).unwrap_or(false)
        || location == ParamLocation::Path;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(SpecError::new(
            ptr(at, "name"),
            format!("unsupported construct: parameter name `{name}`; use letters, digits and `_`"),
        ));
    }
    let pattern = schema
        .get("pattern")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(pat) = &pattern {
        if let Err(e) = regex_lite::Regex::new(pat) {
            return Err(SpecError::new(
                ptr(&schema_ptr, "pattern"),
                format!("`{pat}` is not a regular expression the SDK can check ({e}); use a simpler pattern"),
            ));
        }
    }
    Ok(Param {
        name,
        location,
        kind,
        required,
        minimum: int("minimum"),
        maximum: int("maximum"),
        default,
        description: text(p, "description"),
        pattern,
    })
}

/// The single non-null JSON type of a schema (`type: [string, "null"]` → `string`).
pub fn non_null_type(schema: &Value) -> Result<Option<String>, String> {
    match schema.get("type") {
        None => Ok(None),
        Some(Value::String(s)) if s == "null" => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Sequence(items)) => {
            let types: Vec<&str> = items
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            match types.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some(one.to_string())),
                many => Err(format!(
                    "unsupported construct: a union of types {many:?}; a schema may have one type plus \"null\""
                )),
            }
        }
        Some(other) => Err(format!(
            "`type` must be a string or a list, found {other:?}"
        )),
    }
}

fn type_is(schema: &Value, ty: &str) -> bool {
    matches!(non_null_type(schema), Ok(Some(t)) if t == ty)
}

fn parse_extractor(expr: &str, at: &str) -> Result<Vec<String>, SpecError> {
    let rest = expr.strip_prefix("$.").ok_or_else(|| {
        SpecError::new(at, format!("unsupported construct: extractor `{expr}`; write a JSONPath like `$.field` or `$.a.b`"))
    })?;
    let steps: Vec<String> = rest.split('.').map(str::to_string).collect();
    if steps
        .iter()
        .any(|s| s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(SpecError::new(
            at,
            format!("unsupported construct: extractor `{expr}`; only dotted field names are supported (no filters, wildcards or indexes)"),
        ));
    }
    Ok(steps)
}

/// The schema of property `name` of object schema `obj` (refs followed), if it exists.
fn property<'a>(doc: &'a Value, obj: &'a Value, at: &str, name: &str) -> Option<&'a Value> {
    let (obj, _) = deref(doc, obj, at);
    obj.get("properties")?.get(name)
}

fn field_names(doc: &Value, obj: &Value, at: &str) -> String {
    let (obj, _) = deref(doc, obj, at);
    match obj.get("properties") {
        Some(Value::Mapping(m)) if !m.is_empty() => m
            .keys()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        _ => "none".to_string(),
    }
}

fn check_path(doc: &Value, root: &Value, at: &str, steps: &[String]) -> Result<(), String> {
    let mut cur = root;
    let mut here = at.to_string();
    for step in steps {
        let (obj, obj_at) = deref(doc, cur, &here);
        match property(doc, obj, &obj_at, step) {
            Some(next) => {
                cur = next;
                here = ptr(&ptr(&obj_at, "properties"), step);
            }
            None => {
                return Err(format!(
                    "at `{step}`, the fields are: {}",
                    field_names(doc, obj, &obj_at)
                ))
            }
        }
    }
    Ok(())
}

fn collect_search_field(
    node: &Value,
    path: &str,
    at: &str,
    top_level: bool,
    out: &mut Vec<SearchField>,
) -> Result<(), SpecError> {
    let ty = non_null_type(node)
        .map_err(|m| SpecError::new(ptr(at, "type"), m))?
        .unwrap_or_else(|| "string".to_string());
    if out.iter().any(|f| f.name == path) {
        return Err(SpecError::new(
            at,
            format!("search field `{path}` is declared twice"),
        ));
    }
    out.push(SearchField {
        name: path.to_string(),
        json_type: ty,
        description: text(node, "description"),
        top_level,
    });
    if let Some(Value::Mapping(props)) = node.get("properties") {
        for (k, sub) in props {
            let key = k.as_str().unwrap_or_default();
            collect_search_field(
                sub,
                &format!("{path}.{key}"),
                &ptr(&ptr(at, "properties"), key),
                false,
                out,
            )?;
        }
    }
    Ok(())
}

fn read_search_fields(doc: &Value, entities: &mut [Entity]) -> Result<(), SpecError> {
    let base = "/info/x-airbyte-context-store/entities";
    let Some(Value::Sequence(list)) = resolve_pointer(doc, base) else {
        return Ok(());
    };
    for (i, item) in list.iter().enumerate() {
        let at = ptr(base, &i.to_string());
        let name = text(item, "entity");
        let Some(entity) = entities.iter_mut().find(|e| e.name == name) else {
            return Err(SpecError::new(
                ptr(&at, "entity"),
                format!("context-store entity `{name}` is not an entity of any operation"),
            ));
        };
        if let Some(Value::Sequence(fields)) = item.get("fields") {
            for (j, f) in fields.iter().enumerate() {
                let f_at = ptr(&ptr(&at, "fields"), &j.to_string());
                let name = text(f, "name");
                if name.is_empty() {
                    return Err(SpecError::new(
                        ptr(&f_at, "name"),
                        "a context-store field needs a name",
                    ));
                }
                collect_search_field(f, &name, &f_at, true, &mut entity.search_fields)?;
            }
        }
    }
    Ok(())
}

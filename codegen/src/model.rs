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
    /// The vendor's own search (`search`, or its deprecated alias `api_search`): a
    /// collection like `list`, with the search's parameters.
    Search,
    /// Create a record (a write; `POST`, `PUT` or `PATCH`).
    Create,
    /// Change a record (a write; `PATCH`, `PUT` or `POST`).
    Update,
    /// Delete a record (a write; `DELETE` or `POST`).
    Delete,
    /// A file's bytes (`GET` or `POST`), streamed.
    Download,
}

impl Action {
    /// The action name as written in the spec (`x-airbyte-action`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Get => "get",
            Action::Search => "search",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Download => "download",
        }
    }

    /// Whether it returns a collection of records (`list`, `search`).
    pub fn is_collection(self) -> bool {
        matches!(self, Action::List | Action::Search)
    }

    /// Whether it changes data (`create`, `update`, `delete`).
    pub fn is_write(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

/// Where a parameter goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// A path segment (`/v2/incidents/{id}`), percent-encoded.
    Path,
    /// A query-string parameter.
    Query,
    /// A request header (sent under its exact wire name).
    Header,
    /// A top-level property of the JSON request body (POST reads).
    Body,
}

/// How an array query parameter travels (OpenAPI `style` + `explode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayStyle {
    /// `style: form` (or none) with `explode: true`: `k=a&k=b`.
    Multi,
    /// `style: form, explode: false`: `k=a,b`.
    Comma,
    /// `style: spaceDelimited`: `k=a%20b`.
    Space,
    /// `style: pipeDelimited`: `k=a|b`.
    Pipe,
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
    /// An array of scalars, sent as `style` says.
    Array {
        /// The item type (a scalar kind).
        items: Box<ParamKind>,
        /// How the items travel.
        style: ArrayStyle,
    },
    /// An object sent `style: deepObject` (`k[sub]=v` per non-null key, one level deep).
    Object,
    /// Any JSON value, passed through as given (a nested body property).
    Json,
}

impl ParamKind {
    /// The JSON type name (`string`, `integer`, `array`, ...).
    pub fn json_type(&self) -> &'static str {
        match self {
            ParamKind::String { .. } => "string",
            ParamKind::Integer => "integer",
            ParamKind::Boolean => "boolean",
            ParamKind::Number => "number",
            ParamKind::Array { .. } => "array",
            ParamKind::Object => "object",
            ParamKind::Json => "any",
        }
    }

    /// A short description for docs: `string (one of a, b)`, `array of integer`.
    pub fn describe(&self) -> String {
        match self {
            ParamKind::String { allowed } if !allowed.is_empty() => format!(
                "string (one of {})",
                allowed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ParamKind::Array { items, .. } => format!("array of {}", items.describe()),
            other => other.json_type().to_string(),
        }
    }
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
    /// `x-airbyte-param-config-inject`: the configuration key and value map that fill it
    /// when the caller leaves it out.
    pub config_inject: Option<(String, Vec<(String, String)>)>,
}

/// Where the next page comes from (the pagination forms of the connector specs).
#[derive(Debug, Clone, PartialEq)]
pub enum PageForm {
    /// A token in the body (at `next_cursor_path`) echoed into `cursor_param`.
    Cursor,
    /// A token in this response header echoed into `cursor_param`.
    HeaderCursor(String),
    /// The URL of the `Link` header entry with this `rel` (RFC 8288), fetched as given.
    LinkHeader(String),
    /// A URL or path in the body (at `next_cursor_path`), fetched as given.
    BodyUrl,
    /// Page numbers in `cursor_param`, counted up while the flag at `next_cursor_path` is
    /// true (or, with no flag, while pages are not empty).
    PageNumber,
    /// Page numbers in `cursor_param`, counted up to the page count at `next_cursor_path`
    /// (`total_pages`).
    PageCount,
    /// An offset in `cursor_param`, moved on by each page's record count until a page is
    /// empty or the total (at `next_cursor_path`, when given) is reached.
    Offset,
}

/// How a paginated list finds its next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Pagination {
    /// Path of the body value the form reads (`["pagination_meta", "after"]`); empty for the
    /// header forms.
    pub next_cursor_path: Vec<String>,
    /// The query parameter that takes the cursor (or page number) back (`after`); empty for
    /// the URL forms.
    pub cursor_param: String,
    /// The form.
    pub form: PageForm,
    /// The `x-airbyte-meta-extractor` key it came from (`next_cursor`).
    pub meta_key: String,
}

/// How each record is taken from the value at the record path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordElement {
    /// The value itself: the array of records (list) or the record (get).
    Whole,
    /// A list whose value is one object: that object is the only record.
    Single,
    /// `[0]…`: the first element of the array, then these fields (get).
    First(Vec<String>),
    /// `[*]…`: these fields of every element of the array (list).
    Each(Vec<String>),
    /// `[*]…` where the fields hold an array: those arrays, joined (list).
    EachFlat(Vec<String>),
    /// `[*][*]`: the elements of every array-valued member, joined (list).
    Members,
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
    /// HTTP method (`GET`, or `POST` for reads with a JSON body).
    pub method: String,
    /// HTTP path template the request goes to (`/v2/incidents/{id}`): the
    /// `x-airbyte-path-override` path, else the path key.
    pub path: String,
    /// The path key in the spec, when it differs from `path` (a virtual key such as
    /// `/v3/reports:run:weekly`).
    pub path_key: Option<String>,
    /// One-line summary.
    pub summary: String,
    /// Longer description.
    pub description: String,
    /// Parameters in spec order.
    pub params: Vec<Param>,
    /// The envelope field holding the records (`incidents` / `incident`).
    pub record_field: String,
    /// The field names from the response root to the records (`["incidents"]`; empty: the
    /// whole body).
    pub record_path: Vec<String>,
    /// How records are taken from the value at `record_path`.
    pub record_element: RecordElement,
    /// The record extractor as written (`$.incidents`; empty when absent).
    pub record_extractor: String,
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
    /// The GraphQL template, for operations whose body is one (`x-airbyte-body-type`).
    pub graphql: Option<Graphql>,
    /// A two-step download's `x-airbyte-file-url`.
    pub file_url: Option<String>,
    /// How the body properties travel.
    pub body_kind: BodyKind,
    /// The record transform and filter.
    pub transform: Option<Transform>,
    /// `x-airbyte-preferred-for-check`.
    pub preferred_for_check: bool,
    /// JSON pointer of the operation in the spec.
    pub pointer: String,
}

/// A value of the connector's configuration: a server URL variable, or a key that fills
/// parameters (`x-airbyte-scoping`, `x-airbyte-param-config-inject`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigField {
    /// The key (`workspace`).
    pub name: String,
    /// Description.
    pub description: String,
    /// The value used when none is set.
    pub default: Option<String>,
    /// Whether it is a variable of `servers[0].url`.
    pub server_variable: bool,
}

/// A parameter filled from the configuration when the caller leaves it out.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigParam {
    /// `(entity, action)`; `None` for every operation with the parameter (scoping).
    pub operation: Option<(String, String)>,
    /// The parameter's wire name.
    pub param: String,
    /// The configuration key.
    pub config_key: String,
    /// Value mapping.
    pub map: Vec<(String, String)>,
    /// Whether the API requires the parameter (then a call without a value fails early).
    pub required: bool,
    /// A `value_template` of the form `{{ value.split('/')[0] }}`: separator and index.
    pub split: Option<(String, i64)>,
}

/// `info.x-airbyte-response-error-check`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCheck {
    /// Top-level field.
    pub field: String,
    /// The failure value.
    pub on_value: serde_json::Value,
    /// Where the message is.
    pub message_field: Option<String>,
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
    /// The configuration values (server variables, scoping and injection keys).
    pub config: Vec<ConfigField>,
    /// Parameters filled from the configuration.
    pub config_params: Vec<ConfigParam>,
    /// `info.x-airbyte-response-error-check`.
    pub error_check: Option<ErrorCheck>,
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
pub fn build(file: &str, mut doc: Value) -> Result<Spec, SpecError> {
    let info = doc
        .get("info")
        .cloned()
        .ok_or_else(|| SpecError::new("/info", "the spec has no `info` section"))?;
    let info = &info;
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
    let mut built: Vec<(Operation, RecordSchema)> = Vec::new();
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
            let action_name = text(op_node, "x-airbyte-action");
            let read = matches!(
                action_name.as_str(),
                "list" | "get" | "search" | "api_search" | "download"
            );
            let write = matches!(action_name.as_str(), "create" | "update" | "delete");
            match method {
                "get" if !write => {}
                // POST used for a read (search endpoints, `users.info`-style gets).
                "post" if read || write => {}
                "put" | "patch" | "delete" if write => {}
                "get" => {
                    return Err(SpecError::new(
                        &op_ptr,
                        format!("a `{action_name}` on `get`: a write must be sent as `post`, `put`, `patch` or `delete`"),
                    ))
                }
                "put" | "patch" | "delete" => {
                    return Err(SpecError::new(
                        &op_ptr,
                        format!("unsupported construct: a `{action_name}` on `{method}`: `{method}` operations are generated for `create`, `update` and `delete`"),
                    ))
                }
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
                        format!("unsupported construct: `{other}` operations; this SDK generates `get` and `post` reads and `post`, `put`, `patch` and `delete` writes"),
                    ))
                }
            }
            let entity = text(op_node, "x-airbyte-entity");
            // `api_search` is `search` under its old name: the same action.
            let action = match text(op_node, "x-airbyte-action") {
                a if a == "api_search" => "search".to_string(),
                a => a,
            };
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
            let (op, record) = build_operation(&doc, &path, method, &op_ptr, op_node)?;
            built.push((op, record));
        }
    }
    // Record types: a component named by its `$ref`, or an inline schema given a name
    // (its title, else the entity's singular; a suffix where that name is taken) and moved
    // into `components/schemas`, so models get clean names without hand edits.
    let mut hoisted: Vec<(String, String)> = Vec::new();
    for (op, record) in &mut built {
        op.record_component = match record {
            RecordSchema::Nothing => String::new(),
            RecordSchema::Component(name) => name.clone(),
            RecordSchema::Inline { pointer, title } => {
                if let Some((_, name)) = hoisted.iter().find(|(p, _)| p == pointer) {
                    name.clone()
                } else {
                    let name = inline_record_name(&doc, &hoisted, title, op);
                    hoisted.push((pointer.clone(), name.clone()));
                    name
                }
            }
        };
    }
    for (pointer, name) in &hoisted {
        hoist_schema(&mut doc, pointer, name);
    }
    // A transform's outputs are text fields of the record type: added to an object record,
    // or the whole record for a bare value (which the transform replaces).
    // Each such operation gets a record type of its own (`ProjectsListRecord`), so a schema
    // shared with other operations or models is never changed.
    for (op, _) in &mut built {
        if let Some(t) = op.transform.clone().filter(|t| !t.outputs.is_empty()) {
            let name = format!(
                "{}{}Record",
                op.entity.to_upper_camel_case(),
                op.action.as_str().to_upper_camel_case()
            );
            add_transform_outputs(&mut doc, &op.record_component, &name, &t, &op.pointer)?;
            op.record_component = name;
        }
    }
    for (op, _) in built {
        match entities.iter_mut().find(|e| e.name == op.entity) {
            Some(e) => e.operations.push(op),
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
    if entities.is_empty() {
        return Err(SpecError::new("/paths", "no operations found"));
    }
    for e in &mut entities {
        e.operations.sort_by_key(|o| o.action);
        // The entity's record type is its list's (the first action), else its get's, else
        // the first write's that answers with a record.
        e.record_component = e
            .operations
            .iter()
            .map(|o| o.record_component.clone())
            .find(|r| !r.is_empty())
            .unwrap_or_default();
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
    check_credential_headers(&entities, &auth)?;
    let (config, config_params) = read_config(&doc, &mut entities)?;
    // Extracted token values set server variables (the base URL follows them).
    for scheme in &auth {
        for name in scheme.refresh.iter().flat_map(|r| &r.extract) {
            if !config.iter().any(|c| &c.name == name && c.server_variable) {
                return Err(SpecError::new(
                    ptr(
                        &ptr("/components/securitySchemes", &scheme.key),
                        "x-airbyte-token-extract",
                    ),
                    format!("`{name}` is not a server variable; a token value can only set a variable of `servers[0].url`"),
                ));
            }
        }
    }
    let error_check = read_error_check(info)?;
    crate::extensions::check(&doc, &entities)?;

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
        config,
        config_params,
        error_check,
        doc,
    })
}

fn build_operation(
    doc: &Value,
    path: &str,
    method: &str,
    at: &str,
    node: &Value,
) -> Result<(Operation, RecordSchema), SpecError> {
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
        "search" | "api_search" => Action::Search,
        "create" => Action::Create,
        "update" => Action::Update,
        "delete" => Action::Delete,
        "download" => Action::Download,
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
                "unsupported construct: action `{other}`; supported actions are `list`, `get`, `search`, `create`, `update`, `delete` and `download`"
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

    // Where the request goes: the override, else the path key.
    let path_key = path;
    let path = match node.get("x-airbyte-path-override") {
        None => {
            if path_key.contains('?') || path_key.contains('#') {
                return Err(SpecError::new(
                    at,
                    format!("the path key `{path_key}` is virtual (it has `?` or `#`) but the operation has no `x-airbyte-path-override`; add `x-airbyte-path-override: {{path: /the/real/path}}`"),
                ));
            }
            path_key.to_string()
        }
        Some(o) => {
            let real = text(o, "path");
            if !real.starts_with('/') {
                return Err(SpecError::new(
                    ptr(&ptr(at, "x-airbyte-path-override"), "path"),
                    "needs `path: /the/real/path` (a path starting with `/`)",
                ));
            }
            real
        }
    };

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
    let with_body = matches!(method, "post" | "put" | "patch");
    if !with_body && node.get("requestBody").is_some() {
        return Err(SpecError::new(
            ptr(at, "requestBody"),
            format!("a request body on a `{method}` operation would never be sent; make it a `post` operation or move its fields into query parameters"),
        ));
    }
    let mut graphql = None;
    let mut body_kind = BodyKind::Json;
    if with_body {
        let (body, gql, kind) = body_params(doc, at, node)?;
        graphql = gql;
        body_kind = kind;
        for p in body {
            if params.iter().any(|q| q.name == p.name) {
                return Err(SpecError::new(
                    ptr(at, "requestBody"),
                    format!("the body property `{}` has the name of a parameter; the SDK takes both as one `params` object, so their names must differ", p.name),
                ));
            }
            params.push(p);
        }
    }
    if let Some(g) = &graphql {
        check_graphql_placeholders(
            g,
            &params,
            &ptr(&ptr(at, "requestBody"), "x-airbyte-body-type"),
        )?;
    }
    for name in placeholders(&path) {
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

    // Response envelope and extractors. A read answers `200` with JSON; a write answers
    // with its lowest declared 2xx, with a JSON record or with no body at all (`204`).
    let file_url = node
        .get("x-airbyte-file-url")
        .and_then(Value::as_str)
        .map(str::to_string);
    if action == Action::Download {
        if let Some(f) = &file_url {
            check_file_url(f, &params, &ptr(at, "x-airbyte-file-url"))?;
        }
    } else if file_url.is_some() {
        return Err(SpecError::new(
            ptr(at, "x-airbyte-file-url"),
            "only a `download` has a file URL",
        ));
    }
    // A download's answer is bytes (one step) or metadata JSON that is read untyped (two
    // steps): no record type either way.
    let resp_ptr = if action == Action::Download {
        None
    } else if action.is_write() {
        write_response(doc, at)
    } else {
        Some(format!(
            "{}/responses/200/content/application~1json/schema",
            at
        ))
    };
    let resp = resp_ptr.as_ref().and_then(|p| resolve_pointer(doc, p));
    if resp.is_none() && !action.is_write() && action != Action::Download {
        return Err(SpecError::new(
            ptr(at, "responses"),
            "unsupported construct: no `200` response with `application/json` content; each operation needs one",
        ));
    }
    let transform = read_transform(node, at)?;
    if transform.is_some() && (action.is_write() || action == Action::Download) {
        return Err(SpecError::new(
            at,
            format!(
                "a record transform or filter on a `{}`: they apply to the records a read returns",
                action.as_str()
            ),
        ));
    }
    let extractor_ptr = ptr(at, "x-airbyte-record-extractor");
    let extractor = text(node, "x-airbyte-record-extractor");
    // A write's record is taken like a `get`'s: one element.
    let locate_as = if action.is_write() {
        Action::Get
    } else {
        action
    };
    let (resp, resp_at, record_path, record_element, record) = match (resp, &resp_ptr) {
        (Some(resp), Some(resp_ptr)) => {
            let (resp, resp_at) = deref(doc, resp, resp_ptr);
            let (path, element, record) =
                locate_records(doc, resp, &resp_at, &extractor, &extractor_ptr, locate_as)?;
            (resp, resp_at, path, element, record)
        }
        _ => (
            &NO_SCHEMA,
            String::new(),
            Vec::new(),
            RecordElement::Whole,
            RecordSchema::Nothing,
        ),
    };
    let record_field = record_path.first().cloned().unwrap_or_default();

    let mut pagination = None;
    // A write answers with one record: a meta extractor on it (a created id in a header)
    // names nothing the typed answer carries, so it is documentation only.
    let meta_extractor = node
        .get("x-airbyte-meta-extractor")
        .filter(|_| !action.is_write() && action != Action::Download);
    if let Some(meta) = meta_extractor {
        let meta_ptr = ptr(at, "x-airbyte-meta-extractor");
        let Value::Mapping(m) = meta else {
            return Err(SpecError::new(
                &meta_ptr,
                "must be a mapping like `next_cursor: $.pagination_meta.after`",
            ));
        };
        let mut found: Vec<MetaSource> = Vec::new();
        for (k, v) in m {
            let key = k.as_str().unwrap_or_default().to_string();
            let here = ptr(&meta_ptr, &key);
            let expr = v.as_str().unwrap_or_default();
            if let Some(rel) = expr.strip_prefix("@link.") {
                if rel.is_empty() {
                    return Err(SpecError::new(
                        &here,
                        "`@link.` needs a relation, e.g. `@link.next`",
                    ));
                }
                found.push(MetaSource {
                    key,
                    from: MetaFrom::Link(rel.to_string()),
                    at: here,
                });
                continue;
            }
            if let Some(name) = expr.strip_prefix("@header.") {
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
                {
                    return Err(SpecError::new(
                        &here,
                        format!("`{expr}` does not name a header; write `@header.X-Next-Cursor`"),
                    ));
                }
                found.push(MetaSource {
                    key,
                    from: MetaFrom::Header(name.to_string()),
                    at: here,
                });
                continue;
            }
            if expr.starts_with('@') {
                return Err(SpecError::new(&here, format!("unsupported construct: meta extractor `{expr}`; write a JSONPath into the body (`$.meta.next`), `@link.<rel>` or `@header.<Name>`")));
            }
            let steps: Vec<String> = parse_steps(expr, &here)?
                .into_iter()
                .map(|s| match s {
                    Step::Field(f) => Ok(f),
                    Step::Index(n) => Ok(format!("[{n}]")),
                    Step::All => Err(SpecError::new(&here, format!("unsupported construct: `{expr}`: a meta value is one value, so `[*]` cannot select it; use `[0]`"))),
                })
                .collect::<Result<_, _>>()?;
            check_path(doc, resp, &resp_at, &steps).map_err(|known| {
                SpecError::new(
                    &here,
                    format!("`{expr}` names no field of the 200 response ({known})"),
                )
            })?;
            if key == "next_cursor" && !action.is_collection() {
                return Err(SpecError::new(
                    &here,
                    "`next_cursor` only makes sense on a `list` action",
                ));
            }
            found.push(MetaSource {
                key,
                from: MetaFrom::Body(steps),
                at: here,
            });
        }
        if action.is_collection() {
            pagination = choose_pagination(&params, found, &meta_ptr)?;
            if transform.as_ref().is_some_and(|t| t.filter.is_some())
                && pagination.as_ref().is_some_and(|p| {
                    matches!(
                        p.form,
                        PageForm::PageNumber | PageForm::PageCount | PageForm::Offset
                    )
                })
            {
                return Err(SpecError::new(
                    ptr(at, "x-airbyte-record-filter"),
                    "unsupported construct: a record filter on a list paged by page numbers or offsets: pages would be counted after the filter (an emptied page would end the list, offsets would repeat records); only cursor-paged lists take a filter",
                ));
            }
        }
    }
    if let (Some(p), RecordElement::Each(_) | RecordElement::EachFlat(_) | RecordElement::Members) =
        (&pagination, &record_element)
    {
        if p.form == PageForm::Offset {
            return Err(SpecError::new(
                &extractor_ptr,
                format!("unsupported construct: offset pagination with the record extractor `{extractor}`: offsets count the server's elements, which this extractor does not keep one-to-one; use a cursor, or `$.<array>`"),
            ));
        }
    }
    if method == "post"
        && pagination
            .as_ref()
            .is_some_and(|p| matches!(p.form, PageForm::LinkHeader(_) | PageForm::BodyUrl))
    {
        return Err(SpecError::new(
            ptr(at, "x-airbyte-meta-extractor"),
            "unsupported construct: a POST read paged by next-page URLs (the body would be sent again unchanged with every URL); page it with a body cursor instead",
        ));
    }
    let no_pagination = node
        .get("x-airbyte-no-pagination")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_string());
    if action == Action::List {
        let np_ptr = ptr(at, "x-airbyte-no-pagination");
        match (&pagination, &no_pagination) {
            (_, Some(reason)) if reason.is_empty() => {
                return Err(SpecError::new(
                    &np_ptr,
                    "an empty reason: write why the list needs no pagination (`x-airbyte-no-pagination: \"Every team comes back in one response.\"`)",
                ));
            }
            (None, None) => {
                return Err(SpecError::new(
                    at,
                    "a `list` with no pagination and no `x-airbyte-no-pagination`: declare how it pages (`x-airbyte-meta-extractor: {next_cursor: $.meta.after}` with a cursor query parameter, `{next: \"@link.next\"}`, or `{next_page_url: $.next}`) or why it needs none (`x-airbyte-no-pagination: <reason>`)",
                ));
            }
            _ => {}
        }
    }
    // GraphQL connections take their page size as `first` (in REST APIs `first` may be an
    // offset, so only there).
    let graphql_sizes: &[&str] = if graphql.is_some() { &["first"] } else { &[] };
    let page_size_param = pagination.as_ref().and_then(|_| {
        PAGE_SIZE_PARAMS
            .iter()
            .chain(graphql_sizes)
            .find_map(|name| {
                params
                    .iter()
                    .find(|p| {
                        p.name == *name
                            && matches!(p.location, ParamLocation::Query | ParamLocation::Body)
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

    let op = Operation {
        entity,
        action,
        method: method.to_uppercase(),
        operation_id,
        path_key: (path != path_key).then(|| path_key.to_string()),
        path,
        summary: text(node, "summary"),
        description: text(node, "description"),
        params,
        record_path,
        record_element,
        record_extractor: extractor,
        record_field,
        page_size_param,
        bulk_page_size,
        record_component: String::new(),
        pagination,
        no_pagination,
        graphql,
        file_url,
        body_kind,
        transform,
        preferred_for_check: node
            .get("x-airbyte-preferred-for-check")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        pointer: at.to_string(),
    };
    Ok((op, record))
}

/// Where an operation's record schema lives.
#[derive(Debug, Clone)]
enum RecordSchema {
    /// `#/components/schemas/<name>`.
    Component(String),
    /// An inline schema at this pointer, to be named and moved into the components.
    Inline { pointer: String, title: String },
    /// No response body (a write answering `204 No Content`).
    Nothing,
}

/// Checks an `x-airbyte-file-url` (not JSONPath): dotted fields, each with `[N]` or
/// `[{param}]` indexes, or a root `[N]`; every `{param}` names a parameter.
fn check_file_url(path: &str, params: &[Param], at: &str) -> Result<(), SpecError> {
    let bad = |why: String| {
        SpecError::new(
            at,
            format!("`{path}` {why}; write dotted fields with `[0]` or `[{{param}}]` indexes, like `files[{{file_index}}].href`"),
        )
    };
    if path.trim().is_empty() {
        return Err(bad("is empty".into()));
    }
    for segment in path.split('.') {
        let (name, mut rest) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if name.is_empty() && rest.is_empty() {
            return Err(bad("has an empty segment".into()));
        }
        while let Some(after) = rest.strip_prefix('[') {
            let Some(end) = after.find(']') else {
                return Err(bad(format!("has an unclosed `[` in `{segment}`")));
            };
            let index = &after[..end];
            match index.strip_prefix('{').and_then(|i| i.strip_suffix('}')) {
                Some(param) if params.iter().any(|p| p.name == param) => {}
                Some(param) => {
                    return Err(bad(format!("names `{{{param}}}`, which is no parameter")))
                }
                None if index.parse::<usize>().is_ok() => {}
                None => return Err(bad(format!("has the index `[{index}]`, not a number"))),
            }
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            return Err(bad(format!("has `{rest}` after an index")));
        }
    }
    Ok(())
}

/// The schema of an operation with no response body.
static NO_SCHEMA: Value = Value::Null;

/// The pointer to the JSON schema of a write's success response: the lowest declared 2xx
/// status with `application/json` content. `None` when the write answers without a body
/// (`204`, or a 2xx with no JSON content).
fn write_response(doc: &Value, at: &str) -> Option<String> {
    let (responses, responses_at) = deref(
        doc,
        resolve_pointer(doc, &ptr(at, "responses"))?,
        &ptr(at, "responses"),
    );
    let Value::Mapping(m) = responses else {
        return None;
    };
    let mut codes: Vec<String> = m
        .keys()
        .filter_map(|k| match k {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|c| c.len() == 3 && c.starts_with('2') && c.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    codes.sort();
    let code = codes.first()?;
    // The response itself may be a `$ref` to `components/responses`.
    let code_at = ptr(&responses_at, code);
    let (_, response_at) = deref(doc, resolve_pointer(doc, &code_at)?, &code_at);
    let schema = format!("{}/content/application~1json/schema", response_at);
    resolve_pointer(doc, &schema).map(|_| schema)
}

/// One `x-airbyte-meta-extractor` entry.
struct MetaSource {
    key: String,
    from: MetaFrom,
    at: String,
}

enum MetaFrom {
    Body(Vec<String>),
    Link(String),
    Header(String),
}

/// The `{name}` placeholders of a path template.
fn placeholders(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push(&rest[open + 1..close]);
        rest = &rest[close + 1..];
    }
    out
}

/// One step of a record extractor.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
}

/// Parses `$`, `$.a.b`, `$.a[0].b`, `$.a[*].b`, `$['a b']` (absent: the whole body).
fn parse_steps(expr: &str, at: &str) -> Result<Vec<Step>, SpecError> {
    let bad = |why: &str| {
        SpecError::new(
            at,
            format!("unsupported construct: extractor `{expr}` ({why}); write a JSONPath like `$`, `$.a.b`, `$.a[0].b` or `$.a[*].b`"),
        )
    };
    if expr.is_empty() || expr == "$" {
        return Ok(Vec::new());
    }
    let Some(mut rest) = expr.strip_prefix('$') else {
        return Err(bad("it must start with `$`"));
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.is_empty() || name == "*" {
                return Err(bad("an empty or wildcard field name"));
            }
            steps.push(Step::Field(name.to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').ok_or_else(|| bad("an unclosed `[`"))?;
            let inner = &r[..end];
            if inner == "*" {
                steps.push(Step::All);
            } else if let Ok(n) = inner.parse::<usize>() {
                steps.push(Step::Index(n));
            } else if let Some(name) = inner
                .strip_prefix('\'')
                .and_then(|n| n.strip_suffix('\''))
                .filter(|n| !n.is_empty())
            {
                steps.push(Step::Field(name.to_string()));
            } else {
                return Err(bad("filters and slices are not supported"));
            }
            rest = &r[end + 1..];
        } else {
            return Err(bad("expected `.` or `[`"));
        }
    }
    Ok(steps)
}

/// A schema with `oneOf`/`anyOf: [X, {type: null}]` seen as X (refs followed).
fn non_null_branch<'a>(doc: &'a Value, node: &'a Value, at: &str) -> (&'a Value, String) {
    let (node, at) = deref(doc, node, at);
    for comb in ["oneOf", "anyOf"] {
        if let Some(Value::Sequence(branches)) = node.get(comb) {
            let real: Vec<(usize, &Value)> = branches
                .iter()
                .enumerate()
                .filter(|(_, b)| b.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if let [(i, b)] = real.as_slice() {
                let here = ptr(&ptr(&at, comb), &i.to_string());
                return deref(doc, b, &here);
            }
        }
    }
    (node, at)
}

/// The schema one step below `node`, with its pointer: a property, or the array's items.
fn schema_step<'a>(
    doc: &'a Value,
    node: &'a Value,
    at: &str,
    step: &Step,
) -> Option<(&'a Value, String)> {
    let (node, at) = non_null_branch(doc, node, at);
    match step {
        Step::Field(name) => node
            .get("properties")?
            .get(name.as_str())
            .map(|v| (v, ptr(&ptr(&at, "properties"), name))),
        Step::Index(_) | Step::All => node.get("items").map(|v| (v, ptr(&at, "items"))),
    }
}

/// Where an operation's records sit and what schema they have (JSON pointers for errors).
fn locate_records(
    doc: &Value,
    resp: &Value,
    resp_at: &str,
    extractor: &str,
    at: &str,
    action: Action,
) -> Result<(Vec<String>, RecordElement, RecordSchema), SpecError> {
    let steps = parse_steps(extractor, at)?;
    let shown = if extractor.is_empty() {
        "(none: the whole body)"
    } else {
        extractor
    };
    let split = steps
        .iter()
        .position(|s| !matches!(s, Step::Field(_)))
        .unwrap_or(steps.len());
    let fields = |s: &[Step]| -> Option<Vec<String>> {
        s.iter()
            .map(|s| match s {
                Step::Field(f) => Some(f.clone()),
                _ => None,
            })
            .collect()
    };
    let path = fields(&steps[..split]).expect("fields up to split");
    let tail = &steps[split..];
    let unsupported = |why: &str| {
        SpecError::new(
            at,
            format!("unsupported construct: record extractor `{extractor}` ({why}); use `$`, `$.a.b`, `$.a[0].b` (a get) or `$.a[*].b` (a list)"),
        )
    };
    let mut element = match tail.first() {
        None => RecordElement::Whole,
        // `[*][*]`: the elements of every array-valued member, joined.
        Some(Step::All) if tail.len() == 2 && tail[1] == Step::All => RecordElement::Members,
        Some(Step::Index(0)) => RecordElement::First(
            fields(&tail[1..]).ok_or_else(|| unsupported("more than one index"))?,
        ),
        Some(Step::All) => RecordElement::Each(
            fields(&tail[1..]).ok_or_else(|| unsupported("more than one wildcard"))?,
        ),
        Some(_) => return Err(unsupported("only `[0]` and `[*]` select elements")),
    };
    match (&element, action) {
        (RecordElement::First(_), Action::List | Action::Search) => {
            return Err(unsupported(
                "a `list` takes every element (`[*]`), not `[0]`",
            ))
        }
        (RecordElement::Each(_), Action::Get) => {
            return Err(unsupported("a `get` takes one element (`[0]`), not `[*]`"))
        }
        _ => {}
    }
    // Walk the response schema along the steps. One published spec declares a `get`'s
    // record itself as the 200 schema while its extractor names the envelope field
    // (`$.payload`); the records are then typed from the whole schema.
    let mut node = resp;
    let mut here = resp_at.to_string();
    let envelope_missing = action == Action::Get
        && element == RecordElement::Whole
        && steps.len() == 1
        && schema_step(doc, resp, resp_at, &steps[0]).is_none()
        && non_null_branch(doc, resp, resp_at)
            .0
            .get("properties")
            .is_some();
    let walk: &[Step] = if envelope_missing {
        &[]
    } else if element == RecordElement::Members {
        &steps[..split]
    } else {
        &steps
    };
    for (i, step) in walk.iter().enumerate() {
        let (next, next_at) = schema_step(doc, node, &here, step).ok_or_else(|| {
            let (obj, obj_at) = non_null_branch(doc, node, &here);
            let fields = field_names(doc, obj, &obj_at);
            let place = match step {
                _ if i == 0 => format!("its fields: {fields}"),
                Step::Field(f) => format!("at `{f}`, the fields are: {fields}"),
                _ => "an element step on a schema without `items`".to_string(),
            };
            SpecError::new(
                at,
                format!("`{shown}` names no field of the 200 response ({place})"),
            )
        })?;
        node = next;
        here = next_at;
    }
    if element == RecordElement::Members {
        let (obj, obj_at) = non_null_branch(doc, node, &here);
        let mut arrays = Vec::new();
        if let Some(Value::Mapping(props)) = obj.get("properties") {
            for (k, v) in props {
                let key = k.as_str().unwrap_or_default();
                let (v, v_at) = non_null_branch(doc, v, &ptr(&ptr(&obj_at, "properties"), key));
                if let Some(items) = v.get("items").filter(|_| type_is(v, "array")) {
                    arrays.push((items, ptr(&v_at, "items")));
                }
            }
        }
        let Some((first, first_at)) = arrays.first().cloned() else {
            return Err(SpecError::new(
                at,
                format!("`{shown}` needs an object whose members are arrays of records"),
            ));
        };
        if arrays.iter().any(|(items, _)| *items != first) {
            return Err(unsupported(
                "the member arrays hold different record schemas",
            ));
        }
        node = first;
        here = first_at;
    }
    // `[*].a.b` where `a.b` is itself an array: each element's array, joined.
    if let RecordElement::Each(sub) = &element {
        let (value, value_at) = non_null_branch(doc, node, &here);
        if !sub.is_empty() && type_is(value, "array") {
            if let Some(items) = value.get("items") {
                element = RecordElement::EachFlat(sub.clone());
                node = items;
                here = ptr(&value_at, "items");
            }
        }
    }
    // A list's value is an array of records; a list whose value is one object has one record.
    if action.is_collection() && element == RecordElement::Whole {
        let (value, value_at) = non_null_branch(doc, node, &here);
        if type_is(value, "array") || value.get("items").is_some() {
            let items = value.get("items").ok_or_else(|| {
                SpecError::new(at, format!("`{shown}` names an array without `items`"))
            })?;
            node = items;
            here = ptr(&value_at, "items");
        } else if type_is(value, "object") || value.get("properties").is_some() {
            element = RecordElement::Single;
        } else {
            return Err(SpecError::new(
                at,
                format!("`{shown}` must name an array (or one object) for a `list` action"),
            ));
        }
    }
    let record = match node.get("$ref").and_then(Value::as_str) {
        Some(r) => RecordSchema::Component(
            r.strip_prefix("#/components/schemas/")
                .ok_or_else(|| {
                    SpecError::new(
                        at,
                        format!("the record schema `{r}` must be under `#/components/schemas/`"),
                    )
                })?
                .to_string(),
        ),
        None => {
            let (inner, inner_at) = non_null_branch(doc, node, &here);
            match inner.get("$ref").and_then(Value::as_str) {
                Some(_) => {
                    let name = inner_at
                        .strip_prefix("/components/schemas/")
                        .unwrap_or_default();
                    if name.is_empty() || name.contains('/') {
                        return Err(SpecError::new(
                            at,
                            format!(
                                "the record schema at {inner_at} must be a component or inline"
                            ),
                        ));
                    }
                    RecordSchema::Component(name.to_string())
                }
                None if inner_at.starts_with("/components/schemas/")
                    && !inner_at["/components/schemas/".len()..].contains('/') =>
                {
                    RecordSchema::Component(inner_at["/components/schemas/".len()..].to_string())
                }
                None => RecordSchema::Inline {
                    title: text(inner, "title"),
                    pointer: inner_at,
                },
            }
        }
    };
    Ok((path, element, record))
}

/// Names of query parameters that take a cursor back, in order of preference.
const CURSOR_PARAMS: &[&str] = &[
    "after",
    "cursor",
    "starting_after",
    "page_token",
    "pageToken",
    "next_token",
    "nextToken",
    "page[cursor]",
    "page[after]",
    "continuation",
];

/// Reads how a list pages from its meta extractor entries (`None`: they name no way to the
/// next page, only totals and such).
fn choose_pagination(
    params: &[Param],
    found: Vec<MetaSource>,
    at: &str,
) -> Result<Option<Pagination>, SpecError> {
    let paging = |path: Vec<String>, param: String, form: PageForm, key: String| Pagination {
        next_cursor_path: path,
        cursor_param: param,
        form,
        meta_key: key,
    };
    // Where pagination state can travel: the query, or a POST read's body.
    let query = |name: &str| {
        params.iter().find(|p| {
            p.name == name && matches!(p.location, ParamLocation::Query | ParamLocation::Body)
        })
    };
    let cursor_param = CURSOR_PARAMS
        .iter()
        .find_map(|n| query(n))
        .map(|p| p.name.clone());
    let norm = |k: &str| k.to_ascii_lowercase().replace(['_', '-'], "");
    let is_url_key = |k: &str| {
        let k = norm(k);
        k.contains("url") || k.contains("link") || k.contains("href")
    };
    let is_cursor_key = |k: &str| {
        let k = norm(k);
        k.contains("cursor")
            || k.contains("token")
            || k == "next"
            // `after`, `next_after` (HubSpot-style `paging.next.after`)
            || k.ends_with("after")
            || k == "nextpage"
    };
    let mut best: Option<(u8, Pagination)> = None;
    let mut consider = |rank: u8, p: Pagination| {
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, p));
        }
    };
    for m in &found {
        match &m.from {
            MetaFrom::Body(path) => {
                let k = norm(&m.key);
                let page_param = query("page").filter(|p| p.kind == ParamKind::Integer);
                // `next_page: 3` with an integer `page` parameter: the number to pass back.
                if k == "nextpage" {
                    if let Some(p) = page_param {
                        consider(
                            1,
                            paging(
                                path.clone(),
                                p.name.clone(),
                                PageForm::Cursor,
                                m.key.clone(),
                            ),
                        );
                        continue;
                    }
                }
                // Stripe-style `last_id` passed back as `starting_after`.
                if k.contains("lastid") {
                    if let Some(p) = query("starting_after").or_else(|| query("after")) {
                        consider(
                            1,
                            paging(
                                path.clone(),
                                p.name.clone(),
                                PageForm::Cursor,
                                m.key.clone(),
                            ),
                        );
                        continue;
                    }
                }
                if ["page", "totalpages", "pagecount", "currentpage", "lastpage"]
                    .contains(&k.as_str())
                {
                    if let Some(p) = page_param {
                        // With a page count (`total_pages`), count up to it; otherwise until
                        // a page comes back empty.
                        let count = found.iter().find_map(|t| match &t.from {
                            MetaFrom::Body(path)
                                if ["totalpages", "pagecount", "lastpage", "numpages"]
                                    .contains(&norm(&t.key).as_str()) =>
                            {
                                Some((path.clone(), t.key.clone()))
                            }
                            _ => None,
                        });
                        let p = match count {
                            Some((path, key)) => {
                                paging(path, p.name.clone(), PageForm::PageCount, key)
                            }
                            None => paging(
                                Vec::new(),
                                p.name.clone(),
                                PageForm::PageNumber,
                                m.key.clone(),
                            ),
                        };
                        consider(5, p);
                        continue;
                    }
                }
                if is_cursor_key(&m.key) && !is_url_key(&m.key) {
                    if let Some(param) = &cursor_param {
                        consider(
                            0,
                            paging(path.clone(), param.clone(), PageForm::Cursor, m.key.clone()),
                        );
                        continue;
                    }
                }
                // `offset: $.offset` echoes this page's offset: count on from it.
                if k == "offset" || k == "skip" || k == "start" {
                    if let Some(p) = query(&m.key).filter(|p| p.kind == ParamKind::Integer) {
                        let total = found.iter().find_map(|t| match &t.from {
                            // The record total, by its usual names (never a page count).
                            MetaFrom::Body(path)
                                if [
                                    "total",
                                    "totalcount",
                                    "count",
                                    "totalresults",
                                    "totalsize",
                                    "totalrecords",
                                    "totalitems",
                                ]
                                .contains(&norm(&t.key).as_str()) =>
                            {
                                Some(path.clone())
                            }
                            _ => None,
                        });
                        consider(
                            2,
                            paging(
                                total.unwrap_or_default(),
                                p.name.clone(),
                                PageForm::Offset,
                                m.key.clone(),
                            ),
                        );
                        continue;
                    }
                }
                if norm(&m.key).contains("offset") {
                    if let Some(p) = query("offset") {
                        consider(
                            1,
                            paging(
                                path.clone(),
                                p.name.clone(),
                                PageForm::Cursor,
                                m.key.clone(),
                            ),
                        );
                        continue;
                    }
                }
                // A URL by its name (`next_page_url`, `links.next`), or a bare `next` /
                // `next_page` with no parameter to take a token back. A `cursor` or
                // `token` with nowhere to go is not guessed to be a URL.
                let next_like = ["next", "nextpage", "nextlink"].contains(&k.as_str());
                if is_url_key(&m.key) || (next_like && cursor_param.is_none()) {
                    consider(
                        3,
                        paging(
                            path.clone(),
                            String::new(),
                            PageForm::BodyUrl,
                            m.key.clone(),
                        ),
                    );
                    continue;
                }
                if k == "hasmore" || k == "hasnextpage" || k == "more" {
                    if let Some(p) = query("page").filter(|p| p.kind == ParamKind::Integer) {
                        consider(
                            4,
                            paging(
                                path.clone(),
                                p.name.clone(),
                                PageForm::PageNumber,
                                m.key.clone(),
                            ),
                        );
                    }
                }
            }
            MetaFrom::Header(name) => {
                if is_cursor_key(&m.key) {
                    let Some(param) = &cursor_param else {
                        return Err(SpecError::new(&m.at, format!("`@header.{name}` gives a cursor, but the list has no query parameter that takes it back ({})", CURSOR_PARAMS.join(", "))));
                    };
                    consider(
                        1,
                        paging(
                            Vec::new(),
                            param.clone(),
                            PageForm::HeaderCursor(name.clone()),
                            m.key.clone(),
                        ),
                    );
                }
            }
            MetaFrom::Link(rel) => {
                if rel == "next" {
                    consider(
                        2,
                        paging(
                            Vec::new(),
                            String::new(),
                            PageForm::LinkHeader(rel.clone()),
                            m.key.clone(),
                        ),
                    );
                }
            }
        }
    }
    if best.is_none() && !found.is_empty() {
        let keys: Vec<&str> = found.iter().map(|m| m.key.as_str()).collect();
        let looks_like_paging = found
            .iter()
            .any(|m| is_cursor_key(&m.key) || is_url_key(&m.key));
        if looks_like_paging {
            return Err(SpecError::new(
                at,
                format!("unsupported construct: cannot tell how this list pages from its meta extractor ({}): a body cursor needs a query or body parameter that takes it back ({}); otherwise use `@link.next`, a next-page URL (`next_page_url: $.path`), or mark the list `x-airbyte-no-pagination: <reason>`", keys.join(", "), CURSOR_PARAMS.join(", ")),
            ));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// `campaigns` → `campaign`, `categories` → `category`, `statuses` → `status`.
fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies") {
        format!("{stem}y")
    } else if name.ends_with("sses") || name.ends_with("uses") || name.ends_with("xes") {
        name[..name.len() - 2].to_string()
    } else if let Some(stem) = name.strip_suffix('s').filter(|s| !s.ends_with('s')) {
        stem.to_string()
    } else {
        name.to_string()
    }
}

/// A component name for an inline record schema: its title, else the entity's singular
/// (`campaigns` → `Campaign`), with the action appended (`CampaignList`) and then a number
/// where the name is taken.
fn inline_record_name(
    doc: &Value,
    taken: &[(String, String)],
    title: &str,
    op: &Operation,
) -> String {
    let base = if title.is_empty() {
        singular(&op.entity).to_upper_camel_case()
    } else {
        title.to_upper_camel_case()
    };
    let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
        format!("Record{base}")
    } else {
        base
    };
    let free = |n: &str| {
        resolve_pointer(doc, &ptr("/components/schemas", n)).is_none()
            && !taken.iter().any(|(_, t)| t == n)
    };
    let with_action = format!("{base}{}", op.action.as_str().to_upper_camel_case());
    for candidate in [base.clone(), with_action.clone()] {
        if free(&candidate) {
            return candidate;
        }
    }
    (2..)
        .map(|i| format!("{with_action}{i}"))
        .find(|n| free(n))
        .expect("some number is free")
}

/// Moves the schema at `pointer` into `components/schemas/<name>` and leaves a `$ref`.
fn hoist_schema(doc: &mut Value, pointer: &str, name: &str) {
    let mut cur = &mut *doc;
    for raw in pointer.trim_start_matches('/').split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        let next = match cur {
            Value::Mapping(m) => m.get_mut(token.as_str()),
            Value::Sequence(s) => token.parse::<usize>().ok().and_then(|i| s.get_mut(i)),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    let mut reference = serde_yaml_ng::Mapping::new();
    reference.insert(
        Value::String("$ref".into()),
        Value::String(format!("#/components/schemas/{name}")),
    );
    let schema = std::mem::replace(cur, Value::Mapping(reference));
    let root = doc.as_mapping_mut().expect("a mapping at the root");
    let components = root
        .entry(Value::String("components".into()))
        .or_insert_with(|| Value::Mapping(Default::default()));
    if let Value::Mapping(c) = components {
        let schemas = c
            .entry(Value::String("schemas".into()))
            .or_insert_with(|| Value::Mapping(Default::default()));
        if let Value::Mapping(s) = schemas {
            s.insert(Value::String(name.to_string()), schema);
        }
    }
}

fn build_param(doc: &Value, at: &str, p: &Value) -> Result<Param, SpecError> {
    let name = text(p, "name");
    if name.is_empty() {
        return Err(SpecError::new(ptr(at, "name"), "missing parameter name"));
    }
    let location = match text(p, "in").as_str() {
        "path" => ParamLocation::Path,
        "query" => ParamLocation::Query,
        "header" => ParamLocation::Header,
        other => {
            return Err(SpecError::new(
                ptr(at, "in"),
                format!("unsupported construct: parameter `{name}` is `in: {other}`; only `path`, `query` and `header` parameters are supported"),
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
        Some("array") if location == ParamLocation::Query => {
            let items_ptr = ptr(&schema_ptr, "items");
            let items = schema.get("items").ok_or_else(|| {
                SpecError::new(&items_ptr, format!("array parameter `{name}` needs `items`"))
            })?;
            let (items, _) = deref(doc, items, &items_ptr);
            let item_kind = match non_null_type(items).map_err(|m| SpecError::new(&items_ptr, m))?.as_deref() {
                Some("string") | None => ParamKind::String {
                    allowed: items
                        .get("enum")
                        .and_then(Value::as_sequence)
                        .map(|s| s.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                },
                Some("integer") => ParamKind::Integer,
                Some("number") => ParamKind::Number,
                Some("boolean") => ParamKind::Boolean,
                Some(other) => {
                    return Err(SpecError::new(
                        &items_ptr,
                        format!("unsupported construct: array parameter `{name}` of `{other}`; items must be string, integer, number or boolean"),
                    ))
                }
            };
            let explode = p.get("explode").and_then(Value::as_bool).unwrap_or(true);
            let style = match (text(p, "style").as_str(), explode) {
                ("" | "form", true) => ArrayStyle::Multi,
                ("" | "form", false) => ArrayStyle::Comma,
                ("spaceDelimited", _) => ArrayStyle::Space,
                ("pipeDelimited", _) => ArrayStyle::Pipe,
                (other, _) => {
                    return Err(SpecError::new(
                        ptr(at, "style"),
                        format!("unsupported construct: `style: {other}` on array parameter `{name}`; use form (with or without explode), spaceDelimited or pipeDelimited"),
                    ))
                }
            };
            ParamKind::Array { items: Box::new(item_kind), style }
        }
        Some("object") if location == ParamLocation::Query && text(p, "style") == "deepObject" => {
            ParamKind::Object
        }
        other => {
            return Err(SpecError::new(
                &schema_ptr,
                format!("unsupported construct: parameter `{name}` has type `{}` in the {}; parameters must be string, integer, number or boolean (arrays: query only; objects: query with `style: deepObject`)", other.unwrap_or("(none)"), text(p, "in")),
            ))
        }
    };
    let int = |k: &str| schema.get(k).and_then(Value::as_i64);
    let default = schema
        .get("default")
        .and_then(|d| serde_json::to_value(d).ok())
        .filter(|d| !d.is_null());
    let required = p.get("required").and_then(Value::as_bool).unwrap_or(false)
        || location == ParamLocation::Path;
    if !name.chars().any(|c| c.is_ascii_alphanumeric()) {
        return Err(SpecError::new(
            ptr(at, "name"),
            format!("parameter name `{name}` has no letter or digit to make a Rust name from"),
        ));
    }
    if location == ParamLocation::Header
        && !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        return Err(SpecError::new(
            ptr(at, "name"),
            format!("`{name}` is not a header name (letters, digits, `-`, `_`)"),
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
    let config_inject = match p.get("x-airbyte-param-config-inject") {
        None => None,
        Some(c) => {
            let c_at = ptr(at, "x-airbyte-param-config-inject");
            let source = text(c, "source");
            if source.is_empty() {
                return Err(SpecError::new(
                    ptr(&c_at, "source"),
                    "needs `source: <configuration key>`",
                ));
            }
            let map = match c.get("map") {
                None => Vec::new(),
                Some(Value::Mapping(m)) => m
                    .iter()
                    .map(|(k, v)| {
                        let text_of = |v: &Value| match v {
                            Value::String(s) => Some(s.clone()),
                            Value::Number(n) => Some(n.to_string()),
                            Value::Bool(b) => Some(b.to_string()),
                            _ => None,
                        };
                        match (text_of(k), text_of(v)) {
                            (Some(k), Some(v)) => Ok((k, v)),
                            _ => Err(SpecError::new(
                                ptr(&c_at, "map"),
                                "map keys and values must be scalars",
                            )),
                        }
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => {
                    return Err(SpecError::new(
                        ptr(&c_at, "map"),
                        "must be a mapping of config values to wire values",
                    ))
                }
            };
            Some((source, map))
        }
    };
    Ok(Param {
        config_inject,
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
///
/// Several non-null types (`type: [integer, string]`, with or without `"null"`) are joined
/// with `|` in spec order (`integer|string`): no caller that needs one JSON type matches that
/// name, so a parameter refuses it by name, a search field is typed as any JSON value, and
/// the models decode it as a union (`normalize` rewrites it into an untagged enum first).
pub fn non_null_type(schema: &Value) -> Result<Option<String>, String> {
    match schema.get("type") {
        None => Ok(None),
        Some(Value::String(s)) if s == "null" => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Sequence(items)) => {
            let mut types: Vec<&str> = Vec::new();
            for t in items.iter().filter_map(Value::as_str) {
                if t != "null" && !types.contains(&t) {
                    types.push(t);
                }
            }
            match types.as_slice() {
                [] => Ok(None),
                many => Ok(Some(many.join("|"))),
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
        let (obj, obj_at) = non_null_branch(doc, cur, &here);
        if step.starts_with('[') {
            match obj.get("items") {
                Some(items) => {
                    cur = items;
                    here = ptr(&obj_at, "items");
                    continue;
                }
                None => return Err(format!("`{step}` indexes a value that is not an array")),
            }
        }
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

/// The configuration: `servers[0].variables`, `info.x-airbyte-scoping` and every
/// parameter's `x-airbyte-param-config-inject`. Scoped parameters become optional (the
/// configuration fills them).
fn read_config(
    doc: &Value,
    entities: &mut [Entity],
) -> Result<(Vec<ConfigField>, Vec<ConfigParam>), SpecError> {
    let mut fields: Vec<ConfigField> = Vec::new();
    let mut params: Vec<ConfigParam> = Vec::new();
    if let Some(Value::Mapping(vars)) = resolve_pointer(doc, "/servers/0/variables") {
        for (k, v) in vars {
            let name = k.as_str().unwrap_or_default().to_string();
            let at = ptr("/servers/0/variables", &name);
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(SpecError::new(
                    &at,
                    format!("server variable `{name}` must be letters, digits and `_`"),
                ));
            }
            let default = match v.get("default") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(_) => return Err(SpecError::new(ptr(&at, "default"), "must be a string")),
            };
            fields.push(ConfigField {
                name,
                description: text(v, "description"),
                default,
                server_variable: true,
            });
        }
    }
    let add_key = |fields: &mut Vec<ConfigField>, key: &str| {
        if !fields.iter().any(|f| f.name == key) {
            fields.push(ConfigField {
                name: key.to_string(),
                description: String::new(),
                default: None,
                server_variable: false,
            });
        }
    };
    if let Some(list) = resolve_pointer(doc, "/info/x-airbyte-scoping") {
        let base = "/info/x-airbyte-scoping";
        let Value::Sequence(items) = list else {
            return Err(SpecError::new(
                base,
                "must be a list of `{param, config_key}`",
            ));
        };
        for (i, item) in items.iter().enumerate() {
            let at = ptr(base, &i.to_string());
            let param = text(item, "param");
            if param.is_empty() {
                return Err(SpecError::new(
                    ptr(&at, "param"),
                    "needs `param: <parameter name>`",
                ));
            }
            let split = match item.get("value_template") {
                None => None,
                Some(t) => parse_value_template(t.as_str().unwrap_or_default())
                    .ok_or_else(|| SpecError::new(
                        ptr(&at, "value_template"),
                        "unsupported construct: this Jinja `value_template`; the generator takes `{{ value }}` and `{{ value.split('<separator>')[<index>] }}`, so set the value in the configuration as it should be sent",
                    ))?,
            };
            let key = match text(item, "config_key") {
                k if k.is_empty() => param.clone(),
                k => k,
            };
            add_key(&mut fields, &key);
            // One entry per operation that has the parameter, remembering whether the API
            // requires it there; the parameter itself becomes optional.
            for e in entities.iter_mut() {
                for op in &mut e.operations {
                    for p in op.params.iter_mut().filter(|p| p.name == param) {
                        params.push(ConfigParam {
                            operation: Some((op.entity.clone(), op.action.as_str().to_string())),
                            param: param.clone(),
                            config_key: key.clone(),
                            map: Vec::new(),
                            required: p.required && p.default.is_none(),
                            split: split.clone(),
                        });
                        p.required = false;
                    }
                }
            }
        }
    }
    let mut injected: Vec<(String, String)> = Vec::new();
    for e in entities.iter() {
        for op in &e.operations {
            for p in &op.params {
                if let Some((source, map)) = &p.config_inject {
                    add_key(&mut fields, source);
                    params.push(ConfigParam {
                        operation: Some((op.entity.clone(), op.action.as_str().to_string())),
                        param: p.name.clone(),
                        config_key: source.clone(),
                        map: map.clone(),
                        required: p.required && p.default.is_none(),
                        split: None,
                    });
                    injected.push((op.pointer.clone(), p.name.clone()));
                }
            }
        }
    }
    // An injected parameter is filled from the configuration, so the caller need not pass it.
    for e in entities.iter_mut() {
        for op in &mut e.operations {
            for p in &mut op.params {
                if injected
                    .iter()
                    .any(|(at, name)| *at == op.pointer && *name == p.name)
                {
                    p.required = false;
                }
            }
        }
    }
    for f in &fields {
        if !f.name.starts_with(|c: char| c.is_ascii_alphabetic())
            || !f
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(SpecError::new(
                "/info",
                format!("configuration key `{}` (a server variable, a scoping `config_key` or a config-inject `source`) must start with a letter and hold only letters, digits and `_`", f.name),
            ));
        }
    }
    Ok((fields, params))
}

/// `info.x-airbyte-response-error-check: {field, on_value, message_field?}`.
fn read_error_check(info: &Value) -> Result<Option<ErrorCheck>, SpecError> {
    let Some(c) = info.get("x-airbyte-response-error-check") else {
        return Ok(None);
    };
    let at = "/info/x-airbyte-response-error-check";
    let field = text(c, "field");
    let on_value = c.get("on_value").ok_or_else(|| {
        SpecError::new(
            ptr(at, "on_value"),
            "needs `on_value`: the value of `field` that means failure",
        )
    })?;
    if field.is_empty() {
        return Err(SpecError::new(
            ptr(at, "field"),
            "needs `field`: the top-level field to check",
        ));
    }
    Ok(Some(ErrorCheck {
        field,
        on_value: serde_json::to_value(on_value).unwrap_or(serde_json::Value::Null),
        message_field: Some(text(c, "message_field")).filter(|m| !m.is_empty()),
    }))
}

/// `{{ value }}` → `Some(None)`; `{{ value.split('/')[0] }}` → `Some(Some(("/", 0)))`;
/// anything else → `None`.
fn parse_value_template(t: &str) -> Option<Option<(String, i64)>> {
    let inner = t.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
    if inner == "value" {
        return Some(None);
    }
    let rest = inner.strip_prefix("value.split(")?;
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &rest[1..];
    let end = rest.find(quote)?;
    let sep = &rest[..end];
    let index = rest[end + 1..]
        .strip_prefix(")[")?
        .strip_suffix(']')?
        .trim()
        .parse::<i64>()
        .ok()?;
    (!sep.is_empty()).then(|| Some((sep.to_string(), index)))
}

/// A header parameter may not set a header that carries credentials: the auth scheme owns
/// `Authorization`, cookies, its API-key header and its additional headers.
fn check_credential_headers(
    entities: &[Entity],
    auth: &[crate::auth::AuthScheme],
) -> Result<(), SpecError> {
    let owned = |name: &str| {
        ["authorization", "proxy-authorization", "cookie"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
            || auth.iter().any(|s| {
                s.additional_headers
                    .iter()
                    .any(|(h, _)| name.eq_ignore_ascii_case(h))
                    || matches!(&s.kind, crate::auth::AuthKind::ApiKeyHeader(h) if name.eq_ignore_ascii_case(h))
            })
    };
    for e in entities {
        for op in &e.operations {
            for (i, p) in op.params.iter().enumerate() {
                if p.location == ParamLocation::Header && owned(&p.name) {
                    return Err(SpecError::new(
                        ptr(&ptr(&op.pointer, "parameters"), &i.to_string()),
                        format!("the header parameter `{}` would replace a credential the auth scheme sends; remove it (the scheme's `x-airbyte-auth-config` sets that header)", p.name),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// How an operation's body properties travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    /// A JSON object.
    Json,
    /// A JSON array of one object (`type: array` bodies).
    JsonArray,
    /// `application/x-www-form-urlencoded`, nested values bracket-flattened.
    Form,
    /// A free-form JSON object (no properties): every non-path/query/header param.
    FreeForm,
    /// `multipart/related`: JSON part, then the file from a base64 param.
    Related {
        /// `x-airbyte-upload-file-param`.
        file: String,
        /// The `file_mime_type` property, when the body has one.
        mime: Option<String>,
    },
}

/// A GraphQL body (`x-airbyte-body-type: {type: graphql}`): the runtime sends
/// `{"query", "variables", "operationName"}` built from the operation's params.
#[derive(Debug, Clone, PartialEq)]
pub struct Graphql {
    /// The query or mutation text; `{{ fields }}` is replaced by a selection set.
    pub query: String,
    /// The variables template: strings that are exactly `{{ name }}` take the param's typed
    /// value, other `{{ name }}` are interpolated as text (JSON `null` when absent).
    pub variables: serde_json::Value,
    /// What `{{ fields }}` becomes without a `fields` param: dotted names (`state.name`), or
    /// one verbatim selection text.
    pub default_fields: Vec<String>,
    /// Variables kept when null (others are dropped).
    pub nullable: Vec<String>,
    /// `operationName`, sent when the spec gives one.
    pub operation_name: Option<String>,
}

/// Reads `x-airbyte-body-type` at `at` (a GraphQL body; other templated bodies are refused).
fn graphql_body(doc: &Value, node: &Value, at: &str) -> Result<Graphql, SpecError> {
    let kind = text(node, "type");
    if kind != "graphql" {
        return Err(SpecError::new(
            ptr(at, "type"),
            format!("unsupported construct: body type `{kind}`; only `graphql` templated bodies are generated"),
        ));
    }
    let query = text(node, "query");
    if query.trim().is_empty() {
        return Err(SpecError::new(
            ptr(at, "query"),
            "a GraphQL body needs its `query` text",
        ));
    }
    let variables = match node.get("variables") {
        None | Some(Value::Null) => serde_json::Value::Object(Default::default()),
        Some(v @ Value::Mapping(_)) => serde_json::to_value(v).map_err(|e| {
            SpecError::new(ptr(at, "variables"), format!("not JSON-compatible: {e}"))
        })?,
        Some(_) => {
            return Err(SpecError::new(
                ptr(at, "variables"),
                "must be a mapping of variable names to values or `{{ param }}` templates",
            ))
        }
    };
    let default_fields = match node.get("default_fields") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                SpecError::new(
                    ptr(at, "default_fields"),
                    "must be a list of field names (`state.name` for nested ones) or one selection text",
                )
            })?,
        Some(_) => {
            return Err(SpecError::new(
                ptr(at, "default_fields"),
                "must be a list of field names or one selection text",
            ))
        }
    };
    if (query.contains("{{ fields }}") || query.contains("{{fields}}")) && default_fields.is_empty()
    {
        return Err(SpecError::new(
            ptr(at, "default_fields"),
            "the query selects `{{ fields }}` but there are no `default_fields` to use when the caller gives none",
        ));
    }
    let nullable = node
        .get("x-airbyte-nullable-variables")
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let _ = doc;
    Ok(Graphql {
        query,
        variables,
        default_fields,
        nullable,
        operation_name: node
            .get("operationName")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// Every `{{ name }}` in a GraphQL variables template names a parameter of the operation (a
/// typo would otherwise send `null` and be dropped without a word).
fn check_graphql_placeholders(g: &Graphql, params: &[Param], at: &str) -> Result<(), SpecError> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => {
                let mut rest = s.as_str();
                while let Some(start) = rest.find("{{") {
                    let Some(end) = rest[start..].find("}}") else {
                        break;
                    };
                    out.push(rest[start + 2..start + end].trim().to_string());
                    rest = &rest[start + end + 2..];
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            serde_json::Value::Object(m) => m.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    walk(&g.variables, &mut names);
    for name in names {
        if !params.iter().any(|p| p.name == name) {
            return Err(SpecError::new(
                ptr(at, "variables"),
                format!("`{{{{ {name} }}}}` names no parameter of the operation; declare `{name}` (a query parameter or a body property) or fix the name"),
            ));
        }
    }
    Ok(())
}

/// The top-level properties of a JSON body (a POST read's or a write's), as parameters
/// (`in: body`), and the GraphQL template when the body is one (its schema's properties are
/// then inputs of the template), with how the body travels ([`BodyKind`]).
fn body_params(
    doc: &Value,
    at: &str,
    node: &Value,
) -> Result<(Vec<Param>, Option<Graphql>, BodyKind), SpecError> {
    let body_at = ptr(at, "requestBody");
    let Some(body) = node.get("requestBody") else {
        return Ok((Vec::new(), None, BodyKind::Json));
    };
    let (body, body_at) = deref(doc, body, &body_at);
    let graphql = match body.get("x-airbyte-body-type") {
        Some(t) => Some(graphql_body(doc, t, &ptr(&body_at, "x-airbyte-body-type"))?),
        None => None,
    };
    let content_at = ptr(&body_at, "content");
    let Some(Value::Mapping(content)) = body.get("content") else {
        return Err(SpecError::new(
            &content_at,
            "a request body needs `content`",
        ));
    };
    let (media_type, mut kind) = if content.contains_key("application/json") {
        ("application/json", BodyKind::Json)
    } else if content.contains_key("application/x-www-form-urlencoded") {
        ("application/x-www-form-urlencoded", BodyKind::Form)
    } else if content.contains_key("multipart/related") {
        let Some(file) = node
            .get("x-airbyte-upload-file-param")
            .and_then(Value::as_str)
        else {
            return Err(SpecError::new(
                ptr(&content_at, "multipart/related"),
                "a `multipart/related` body needs `x-airbyte-upload-file-param: <the base64 property holding the file>` on the operation",
            ));
        };
        (
            "multipart/related",
            BodyKind::Related {
                file: file.to_string(),
                mime: None,
            },
        )
    } else {
        let kinds: Vec<&str> = content.keys().filter_map(Value::as_str).collect();
        return Err(SpecError::new(
            &content_at,
            format!("unsupported construct: a `{}` request body; `application/json`, `application/x-www-form-urlencoded` and `multipart/related` bodies are generated", kinds.join("`, `")),
        ));
    };
    let media = &content[media_type];
    let schema_at = ptr(&ptr(&content_at, media_type), "schema");
    let Some(schema) = media.get("schema") else {
        return Ok((Vec::new(), graphql, kind));
    };
    let (mut schema, mut schema_at) = deref(doc, schema, &schema_at);
    // An array body of one object (`[{...}]`): its fields are the items' properties.
    if kind == BodyKind::Json && non_null_type(schema).unwrap_or(None).as_deref() == Some("array") {
        let items_at = ptr(&schema_at, "items");
        let Some(items) = schema.get("items") else {
            return Err(SpecError::new(&items_at, "an array body needs `items`"));
        };
        let (items, items_at) = deref(doc, items, &items_at);
        if items.get("properties").is_none() {
            return Err(SpecError::new(
                &items_at,
                "unsupported construct: an array body whose items are not objects with `properties`; name the fields of its elements",
            ));
        }
        (schema, schema_at, kind) = (items, items_at, BodyKind::JsonArray);
    }
    // `properties: {}` names no field: the body is free-form (or a GraphQL template's).
    let props = schema
        .get("properties")
        .filter(|p| !matches!(p, Value::Mapping(m) if m.is_empty()));
    let Some(Value::Mapping(props)) = props else {
        // A GraphQL body's schema may be a bare `type: object`: the template is the body.
        if graphql.is_some() {
            return Ok((Vec::new(), graphql, kind));
        }
        // A free-form object (no `type` or `type: object`, nothing composed, not closed):
        // every param that is not a path, query or header one.
        let closed = matches!(schema.get("additionalProperties"), Some(Value::Bool(false)));
        let composed = ["allOf", "oneOf", "anyOf", "not"]
            .iter()
            .any(|k| schema.get(*k).is_some());
        let object = matches!(
            non_null_type(schema).unwrap_or(None).as_deref(),
            None | Some("object")
        );
        if kind == BodyKind::Json && !closed && !composed && object {
            return Ok((Vec::new(), graphql, BodyKind::FreeForm));
        }
        return Err(SpecError::new(
            &schema_at,
            "unsupported construct: a request body that is not an object with `properties`; name its fields",
        ));
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_sequence)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (k, v) in props {
        let name = k.as_str().unwrap_or_default().to_string();
        let p_at = ptr(&ptr(&schema_at, "properties"), &name);
        let (v, _) = deref(doc, v, &p_at);
        if !name.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(SpecError::new(
                &p_at,
                format!("body property `{name}` has no letter or digit to make a Rust name from"),
            ));
        }
        let scalar = |v: &Value| match non_null_type(v).unwrap_or(None).as_deref() {
            Some("string") => Some(ParamKind::String {
                allowed: v
                    .get("enum")
                    .and_then(Value::as_sequence)
                    .map(|s| {
                        s.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            Some("integer") => Some(ParamKind::Integer),
            Some("number") => Some(ParamKind::Number),
            Some("boolean") => Some(ParamKind::Boolean),
            _ => None,
        };
        let kind = match (scalar(v), non_null_type(v).unwrap_or(None).as_deref()) {
            (Some(kind), _) => kind,
            // An array of scalars is typed (`Vec<String>`); it travels as a JSON array.
            (None, Some("array")) => match v
                .get("items")
                .map(|i| deref(doc, i, &p_at).0)
                .and_then(scalar)
            {
                Some(item) => ParamKind::Array {
                    items: Box::new(item),
                    style: ArrayStyle::Multi,
                },
                None => ParamKind::Json,
            },
            // Nested values (objects, arrays of objects, unions) pass through as given.
            _ => ParamKind::Json,
        };
        let int = |key: &str| v.get(key).and_then(Value::as_i64);
        out.push(Param {
            required: required.contains(&name.as_str()),
            minimum: int("minimum"),
            maximum: int("maximum"),
            // `default: null` is no default (sending `null` breaks strict APIs).
            default: v
                .get("default")
                .and_then(|d| serde_json::to_value(d).ok())
                .filter(|d| !d.is_null()),
            description: text(v, "description"),
            pattern: None,
            config_inject: None,
            location: ParamLocation::Body,
            kind,
            name,
        });
    }
    if let BodyKind::Related { file, mime } = &mut kind {
        if !out.iter().any(|p| &p.name == file) {
            return Err(SpecError::new(
                ptr(at, "x-airbyte-upload-file-param"),
                format!("`{file}` is no property of the request body; name the base64 property that holds the file"),
            ));
        }
        *mime = out
            .iter()
            .any(|p| p.name == "file_mime_type")
            .then(|| "file_mime_type".to_string());
    }
    Ok((out, graphql, kind))
}

/// The root of a transform path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JRoot {
    /// `record`.
    Record,
    /// `config`.
    Config,
}

/// A compiled expression of the Jinja subset transforms and filters use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JExpr {
    /// `record.a.b` or `config.x`.
    Path(JRoot, Vec<String>),
    /// `'text'`.
    Lit(String),
    /// `not x`.
    Not(Box<JExpr>),
    /// `x | replace('a', 'b')`.
    Replace(Box<JExpr>, String, String),
    /// `x | lower`.
    Lower(Box<JExpr>),
    /// `x | upper`.
    Upper(Box<JExpr>),
    /// `x | trim`.
    Trim(Box<JExpr>),
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JPart {
    /// Literal text.
    Text(String),
    /// `{{ expr }}`.
    Expr(JExpr),
}

/// `x-airbyte-record-transform` and `x-airbyte-record-filter`, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transform {
    /// Output field → template.
    pub outputs: Vec<(String, Vec<JPart>)>,
    /// The filter, for collections.
    pub filter: Option<Vec<JPart>>,
}

const JINJA_HELP: &str = "supported: `{{ record.a.b }}`, `{{ config.x }}`, `'text'`, `not`, and the filters `replace('a', 'b')`, `lower`, `upper`, `trim`";

/// Compiles a template of the Jinja subset (see [`JExpr`]).
fn compile_template(template: &str, at: &str) -> Result<Vec<JPart>, SpecError> {
    let bad = |why: String| {
        SpecError::new(
            at,
            format!("unsupported construct: {why} in `{template}`; {JINJA_HELP}"),
        )
    };
    if template.contains("{%") || template.contains("{#") {
        return Err(bad("a Jinja statement or comment".into()));
    }
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(JPart::Text(rest[..start].to_string()));
        }
        let Some(end) = rest[start..].find("}}") else {
            return Err(bad("an unclosed `{{`".into()));
        };
        let inner = &rest[start + 2..start + end];
        let tokens = tokenize(inner).map_err(&bad)?;
        let mut pos = 0;
        let e = parse_jexpr(&tokens, &mut pos).map_err(&bad)?;
        if pos != tokens.len() {
            return Err(bad(format!(
                "`{}` after the expression",
                tokens[pos..].join(" ")
            )));
        }
        parts.push(JPart::Expr(e));
        rest = &rest[start + end + 2..];
    }
    if !rest.is_empty() {
        parts.push(JPart::Text(rest.to_string()));
    }
    Ok(parts)
}

fn tokenize(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != c {
                j += 1;
            }
            if j == chars.len() {
                return Err("an unclosed string".into());
            }
            out.push(chars[i..=j].iter().collect());
            i = j + 1;
        } else if c.is_alphanumeric() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            out.push(chars[i..j].iter().collect());
            i = j;
        } else if ".|(),".contains(c) {
            out.push(c.to_string());
            i += 1;
        } else {
            return Err(format!("the character `{c}`"));
        }
    }
    Ok(out)
}

fn string_lit(t: Option<&String>) -> Option<String> {
    let t = t?;
    let q = t.chars().next()?;
    ((q == '\'' || q == '"') && t.len() >= 2).then(|| t[1..t.len() - 1].to_string())
}

/// expr := 'not' expr | primary ('|' filter)*
fn parse_jexpr(t: &[String], pos: &mut usize) -> Result<JExpr, String> {
    if t.get(*pos).map(String::as_str) == Some("not") {
        *pos += 1;
        return Ok(JExpr::Not(Box::new(parse_jexpr(t, pos)?)));
    }
    let mut e = parse_primary(t, pos)?;
    while t.get(*pos).map(String::as_str) == Some("|") {
        *pos += 1;
        let name = t
            .get(*pos)
            .cloned()
            .ok_or("a filter name missing after `|`")?;
        *pos += 1;
        e = match name.as_str() {
            "replace" => {
                let expect = |pos: &mut usize, tok: &str| {
                    if t.get(*pos).map(String::as_str) == Some(tok) {
                        *pos += 1;
                        Ok(())
                    } else {
                        Err(format!(
                            "`replace` needs `('from', 'to')` (expected `{tok}`)"
                        ))
                    }
                };
                expect(pos, "(")?;
                let from = string_lit(t.get(*pos)).ok_or("`replace` takes two quoted strings")?;
                *pos += 1;
                expect(pos, ",")?;
                let to = string_lit(t.get(*pos)).ok_or("`replace` takes two quoted strings")?;
                *pos += 1;
                expect(pos, ")")?;
                JExpr::Replace(Box::new(e), from, to)
            }
            "lower" => JExpr::Lower(Box::new(e)),
            "upper" => JExpr::Upper(Box::new(e)),
            "trim" => JExpr::Trim(Box::new(e)),
            other => return Err(format!("the filter `{other}`")),
        };
    }
    Ok(e)
}

fn parse_primary(t: &[String], pos: &mut usize) -> Result<JExpr, String> {
    let tok = t.get(*pos).cloned().ok_or("an empty expression")?;
    *pos += 1;
    if let Some(s) = string_lit(Some(&tok)) {
        return Ok(JExpr::Lit(s));
    }
    if tok == "(" {
        let e = parse_jexpr(t, pos)?;
        if t.get(*pos).map(String::as_str) != Some(")") {
            return Err("an unclosed `(`".into());
        }
        *pos += 1;
        return Ok(e);
    }
    let root = match tok.as_str() {
        "record" => JRoot::Record,
        "config" => JRoot::Config,
        other => return Err(format!("the name `{other}`")),
    };
    let mut path = Vec::new();
    while t.get(*pos).map(String::as_str) == Some(".") {
        let field = t
            .get(*pos + 1)
            .cloned()
            .ok_or("a field name missing after `.`")?;
        if !field.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("the field `{field}`"));
        }
        path.push(field);
        *pos += 2;
    }
    if root == JRoot::Config && path.len() != 1 {
        return Err("`config` takes one key (`config.region`)".into());
    }
    Ok(JExpr::Path(root, path))
}

/// Reads an operation's `x-airbyte-record-transform` and `x-airbyte-record-filter`.
fn read_transform(node: &Value, at: &str) -> Result<Option<Transform>, SpecError> {
    let mut outputs = Vec::new();
    if let Some(t) = node.get("x-airbyte-record-transform") {
        let t_at = ptr(at, "x-airbyte-record-transform");
        let Value::Mapping(m) = t else {
            return Err(SpecError::new(
                &t_at,
                "must be a mapping of output fields to templates",
            ));
        };
        for (k, v) in m {
            let name = k.as_str().unwrap_or_default().to_string();
            let here = ptr(&t_at, &name);
            let Some(template) = v.as_str() else {
                return Err(SpecError::new(&here, "must be a template string"));
            };
            outputs.push((name, compile_template(template, &here)?));
        }
    }
    let filter = match node.get("x-airbyte-record-filter") {
        None => None,
        Some(v) => {
            let f_at = ptr(at, "x-airbyte-record-filter");
            let template = v
                .as_str()
                .ok_or_else(|| SpecError::new(&f_at, "must be a template string"))?;
            Some(compile_template(template, &f_at)?)
        }
    };
    if outputs.is_empty() && filter.is_none() {
        return Ok(None);
    }
    Ok(Some(Transform { outputs, filter }))
}

/// Makes `name`, a copy of the record schema `component` with a transform's outputs: text
/// fields added to an object record, or an object of just the outputs for a bare value
/// (which the transform replaces). An output that names a property of another type is
/// refused.
fn add_transform_outputs(
    doc: &mut Value,
    component: &str,
    name: &str,
    t: &Transform,
    at: &str,
) -> Result<(), SpecError> {
    let at = ptr(at, "x-airbyte-record-transform");
    let original = resolve_pointer(doc, &format!("/components/schemas/{component}"))
        .cloned()
        .unwrap_or(Value::Null);
    let (resolved, _) = deref(doc, &original, "");
    let string = || {
        let mut m = serde_yaml_ng::Mapping::new();
        m.insert(Value::from("type"), Value::from("string"));
        Value::Mapping(m)
    };
    let is_object = resolved.get("properties").is_some()
        || resolved.get("allOf").is_some()
        || non_null_type(resolved).unwrap_or(None).as_deref() == Some("object");
    let copy = if is_object {
        let mut copy = resolved.clone();
        if let Some(Value::Mapping(props)) = resolved.get("properties") {
            for (output, _) in &t.outputs {
                let Some(existing) = props.get(output.as_str()) else {
                    continue;
                };
                let (existing, _) = deref(doc, existing, "");
                let ty = non_null_type(existing).unwrap_or(None);
                if ty.as_deref().is_some_and(|t| t != "string") {
                    return Err(SpecError::new(
                        ptr(&at, output),
                        format!(
                            "the output `{output}` is text, but the record's `{output}` is {}; name the output differently",
                            ty.unwrap_or_default()
                        ),
                    ));
                }
            }
        }
        if let Value::Mapping(m) = &mut copy {
            let props = m
                .entry(Value::from("properties"))
                .or_insert_with(|| Value::Mapping(Default::default()));
            if let Value::Mapping(props) = props {
                for (output, _) in &t.outputs {
                    props
                        .entry(Value::from(output.as_str()))
                        .or_insert_with(string);
                }
            }
        }
        copy
    } else {
        let mut props = serde_yaml_ng::Mapping::new();
        for (output, _) in &t.outputs {
            props.insert(Value::from(output.as_str()), string());
        }
        let mut m = serde_yaml_ng::Mapping::new();
        m.insert(Value::from("type"), Value::from("object"));
        let required = t
            .outputs
            .iter()
            .map(|(n, _)| Value::from(n.as_str()))
            .collect();
        m.insert(Value::from("required"), Value::Sequence(required));
        m.insert(Value::from("properties"), Value::Mapping(props));
        Value::Mapping(m)
    };
    let Some(Value::Mapping(schemas)) =
        doc.get_mut("components").and_then(|c| c.get_mut("schemas"))
    else {
        return Ok(());
    };
    if schemas.contains_key(name) {
        return Err(SpecError::new(
            &at,
            format!("the transformed record type `{name}` would replace a schema of that name; rename the schema"),
        ));
    }
    schemas.insert(Value::from(name), copy);
    Ok(())
}

//! Static descriptions of a connector, generated from its spec: the connector itself
//! ([`ConnectorMeta`]: name, definition id, base URL, auth schemes), its entities and their
//! operations (path, params, bounds, where the records and the cursor sit). This is what the
//! runtime works from: what `execute` validates against, how a request is built, how a
//! response is read, what introspection reports. The runtime never names an entity; every
//! per-connector fact is here.
//!
//! The structs are built by generated code as `static`s (so their fields are public and they
//! are not `#[non_exhaustive]`); treat them as read-only descriptions.

use std::sync::OnceLock;

use crate::error::Hints;

/// An action on an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Action {
    /// Read a collection (maybe paginated).
    List,
    /// Read one record by id.
    Get,
    /// The API's own search: a collection, like `list`.
    Search,
    /// Create a record (a write).
    Create,
    /// Change a record (a write).
    Update,
    /// Delete a record (a write).
    Delete,
    /// A file's bytes, streamed.
    Download,
}

impl Action {
    /// The name used in the spec and in `execute` (`"list"`, `"get"`).
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

    /// The action named `name` in the spec and in `execute` (`api_search` is `search`).
    pub fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "list" => Action::List,
            "get" => Action::Get,
            "search" | "api_search" => Action::Search,
            "create" => Action::Create,
            "update" => Action::Update,
            "delete" => Action::Delete,
            "download" => Action::Download,
            _ => return None,
        })
    }

    /// Whether it returns a collection of records (`list`, `search`).
    pub fn is_collection(self) -> bool {
        matches!(self, Action::List | Action::Search)
    }

    /// Whether it changes data (`create`, `update`, `delete`). Agents and the CLI's MCP
    /// server run writes only when their operator allows them.
    pub fn is_write(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamLocation {
    /// A path segment, percent-encoded.
    Path,
    /// A query-string parameter.
    Query,
    /// A request header, under its exact wire name.
    Header,
    /// A top-level property of the JSON request body (POST reads).
    Body,
}

/// How an array query parameter travels (OpenAPI `style` and `explode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArrayStyle {
    /// `k=a&k=b` (`style: form`, `explode: true`, the default).
    Multi,
    /// `k=a,b` (`style: form`, `explode: false`).
    Comma,
    /// `k=a%20b` (`style: spaceDelimited`).
    Space,
    /// `k=a|b` (`style: pipeDelimited`).
    Pipe,
}

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamKind {
    /// A string, optionally limited to `allowed` values.
    String {
        /// Allowed values; empty means any string.
        allowed: &'static [&'static str],
    },
    /// A 64-bit integer.
    Integer,
    /// A boolean.
    Boolean,
    /// A floating-point number.
    Number,
    /// An array of scalars of kind `items`, sent as `style` says.
    Array {
        /// The item kind (a scalar kind).
        items: &'static ParamKind,
        /// How the items travel.
        style: ArrayStyle,
    },
    /// An object sent as `style: deepObject`: `k[sub]=v` for each non-null key, one level.
    Object,
    /// Any JSON value, passed through as given (a nested body property).
    Json,
}

impl ParamKind {
    /// The JSON type name (`string`, `integer`, `boolean`, `number`).
    pub fn json_type(self) -> &'static str {
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

    /// Whether `value` has this kind's JSON type (array items checked one by one).
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        match self {
            ParamKind::String { .. } => value.is_string(),
            ParamKind::Integer => value.is_i64(),
            ParamKind::Boolean => value.is_boolean(),
            ParamKind::Number => value.is_number(),
            ParamKind::Array { items, .. } => value
                .as_array()
                .is_some_and(|a| a.iter().all(|v| items.accepts(v))),
            ParamKind::Json => true,
            ParamKind::Object => value
                .as_object()
                .is_some_and(|o| o.values().all(|v| !(v.is_array() || v.is_object()))),
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamMeta {
    /// Wire name.
    pub name: &'static str,
    /// Path or query.
    pub location: ParamLocation,
    /// Type.
    pub kind: ParamKind,
    /// Whether the API requires it (the SDK fills in the default when there is one).
    pub required: bool,
    /// Inclusive minimum (integers).
    pub minimum: Option<i64>,
    /// Inclusive maximum (integers).
    pub maximum: Option<i64>,
    /// Default, as JSON text.
    pub default: Option<&'static str>,
    /// Description from the spec.
    pub description: &'static str,
    /// A regular expression the value must match (the schema's `pattern`), checked before
    /// any request.
    pub pattern: Option<&'static str>,
}

/// How each record is taken from the value at an operation's `record_path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordElement {
    /// The value itself: the array of records (list) or the record (get).
    Whole,
    /// One object that is a list's only record.
    Single,
    /// The first element of the array, then these fields (`$.data[0].card`).
    First(&'static [&'static str]),
    /// These fields of every element of the array (`$.results[*].card`).
    Each(&'static [&'static str]),
    /// The arrays at these fields of every element, joined (`$.groups[*].items_page.items`).
    EachFlat(&'static [&'static str]),
    /// The elements of every array-valued member of the object, joined (`$[*][*]`).
    Members,
}

/// The `execute` parameter that takes a URL-paged list's `meta.next_cursor` back.
pub const NEXT_PAGE_PARAM: &str = "next_page";

/// Where a paginated list's next page comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextPage {
    /// Not paginated.
    None,
    /// A token in the body at `cursor_path`, passed back as `cursor_param`.
    BodyCursor,
    /// A token in this response header, passed back as `cursor_param`.
    HeaderCursor(&'static str),
    /// The URL of the `Link` header entry with this `rel` (RFC 8288), fetched as given.
    LinkHeader(&'static str),
    /// A URL or path in the body at `cursor_path`, fetched as given.
    BodyUrl,
    /// Page numbers in `cursor_param`, counted up while the flag at `cursor_path` is true
    /// (with no flag: while pages are not empty).
    PageNumber,
    /// Page numbers in `cursor_param`, counted up to the number of pages at `cursor_path`
    /// (`total_pages`), or until a page is empty.
    PageCount,
    /// An offset in `cursor_param`, moved on by each page's record count until a page is
    /// empty or the total (at `cursor_path`, when given) is reached.
    Offset,
}

/// One (entity, action) operation of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationMeta {
    /// Entity name (`incidents`).
    pub entity: &'static str,
    /// Action.
    pub action: Action,
    /// HTTP method.
    pub method: &'static str,
    /// Path template (`/v2/incidents/{id}`).
    pub path: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Description.
    pub description: &'static str,
    /// Name of the record schema (`Incident`).
    pub record_schema: &'static str,
    /// Envelope field holding the records (`incidents`).
    pub record_field: &'static str,
    /// Where the records sit in the response body: the field names to walk from the root
    /// (`["incidents"]`; empty when the whole body is the record).
    pub record_path: &'static [&'static str],
    /// How records are taken from the value at `record_path`.
    pub record_element: RecordElement,
    /// Where the next page comes from.
    pub next_page: NextPage,
    /// Where the next page's cursor sits in the response body (`["pagination_meta", "after"]`);
    /// empty for lists that are not paginated.
    pub cursor_path: &'static [&'static str],
    /// The query parameter that sets the page size (`page_size`), for paginated lists.
    pub page_size_param: Option<&'static str>,
    /// The page size that streams and bulk reads use when the caller gives none: the
    /// parameter's maximum, unless the spec asks for less (`x-sdk-bulk-page-size`, when a
    /// larger page would leave data out).
    pub bulk_page_size: Option<i64>,
    /// The query parameter that takes `next_cursor` back, for paginated lists.
    pub cursor_param: Option<&'static str>,
    /// Why the list is not paginated, for lists that return everything at once.
    pub no_pagination: Option<&'static str>,
    /// Whether the health check should use this operation.
    pub preferred_for_check: bool,
    /// Parameters in spec order.
    pub params: &'static [ParamMeta],
    /// The GraphQL template, for operations whose body is one (`x-airbyte-body-type`).
    pub graphql: Option<&'static GraphqlMeta>,
    /// For a two-step download, where the file's URL sits in the JSON answer
    /// (`x-airbyte-file-url`: dotted fields, `name[0]`, `name[{param}]`, a root `[0]`).
    pub file_url: Option<&'static str>,
    /// How the body properties (params `in: body`) travel.
    pub body: BodyKind,
    /// The record transform and filter, applied in direct mode (see [`crate::transform`]).
    pub transform: Option<&'static crate::transform::RecordTransform>,
}

/// How an operation's body properties travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BodyKind {
    /// A JSON object of the body properties.
    #[default]
    Json,
    /// A JSON array holding one object of the body properties (`type: array` bodies).
    JsonArray,
    /// `application/x-www-form-urlencoded`, nested values bracket-flattened
    /// (`meta[owner]=ops`, `aliases[0]=hot`).
    Form,
    /// A free-form JSON object (`additionalProperties: true`, no properties): every
    /// param that is not a path, query or header parameter.
    FreeForm,
    /// `multipart/related`: a JSON part of the body properties, then the file, decoded
    /// from the base64 param `file` (`x-airbyte-upload-file-param`) and typed by the
    /// `mime` param when given. Without the file, a plain JSON body.
    Related {
        /// The base64 param holding the file.
        file: &'static str,
        /// The param giving the file's media type.
        mime: Option<&'static str>,
    },
}

/// A GraphQL body (`x-airbyte-body-type: {type: graphql}`): the request's JSON body is
/// `{"query", "variables", "operationName"?}` built from the operation's params (see
/// [`crate::graphql`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphqlMeta {
    /// The query or mutation; the exact text `{{ fields }}` becomes a selection set.
    pub query: &'static str,
    /// The variables template, as JSON text: a string that is exactly `{{ name }}` takes the
    /// param's typed value; other `{{ name }}` are interpolated as text.
    pub variables: &'static str,
    /// The selection without a `fields` param: dotted names, or one verbatim selection.
    pub default_fields: &'static [&'static str],
    /// Variables kept when null (other nulls are dropped).
    pub nullable: &'static [&'static str],
    /// `operationName`, when the spec gives one.
    pub operation_name: Option<&'static str>,
}

impl OperationMeta {
    /// Whether sending this operation twice has the effect of sending it once, so a failed
    /// attempt may be repeated: every read (`list`, `get`, `search`, whatever its method; a
    /// POST read changes nothing), and writes sent as `PUT` or `DELETE`. A `create` or an
    /// `update` over `POST` or `PATCH` is not: it is retried only when the request provably
    /// never reached the server.
    pub fn is_idempotent(&self) -> bool {
        !self.action.is_write()
            || self.method.eq_ignore_ascii_case("PUT")
            || self.method.eq_ignore_ascii_case("DELETE")
    }

    /// Whether the API answers with a record (`false` for a write whose success response
    /// has no JSON body, such as `204 No Content`).
    pub fn returns_record(&self) -> bool {
        !self.record_schema.is_empty()
    }

    /// Whether this list is paginated.
    pub fn is_paginated(&self) -> bool {
        !matches!(self.next_page, NextPage::None)
    }

    /// Whether the next page is a URL the server gives (the `Link` header or the body)
    /// rather than a parameter of the same request.
    pub fn follows_urls(&self) -> bool {
        matches!(self.next_page, NextPage::LinkHeader(_) | NextPage::BodyUrl)
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&'static ParamMeta> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A searchable field of an entity in the hosted context store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchFieldMeta {
    /// Field name.
    pub name: &'static str,
    /// JSON type (without null).
    pub json_type: &'static str,
    /// Description.
    pub description: &'static str,
}

/// One entity of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityMeta {
    /// Name (`incidents`).
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// Name of the record schema.
    pub record_schema: &'static str,
    /// Its operations.
    pub operations: &'static [&'static OperationMeta],
    /// Fields searchable in hosted mode.
    pub search_fields: &'static [SearchFieldMeta],
}

impl EntityMeta {
    /// The operation for `action`, if the entity supports it.
    pub fn operation(&self, action: &str) -> Option<&'static OperationMeta> {
        self.operations
            .iter()
            .copied()
            .find(|o| o.action.as_str() == action)
    }

    /// The names of the supported actions.
    pub fn action_names(&self) -> Vec<&'static str> {
        self.operations.iter().map(|o| o.action.as_str()).collect()
    }
}

/// The kind of credentials an auth scheme takes, and where they go on the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthKind {
    /// `Authorization: Bearer <token>` (`http`, `scheme: bearer`).
    Bearer,
    /// `Authorization: Basic base64(username:password)` (`http`, `scheme: basic`).
    Basic,
    /// An API key in a header (`apiKey`, `in: header`).
    ApiKeyHeader {
        /// The header's name.
        name: &'static str,
    },
    /// An API key in the query string (`apiKey`, `in: query`).
    ApiKeyQuery {
        /// The query parameter's name.
        name: &'static str,
    },
    /// OAuth 2 with an access token, refreshed with a refresh token when the spec says how.
    OAuth2,
}

/// One piece of an `auth_mapping` template: literal text, or the value of a credential field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Literal(&'static str),
    /// The value of this credential field (`${field}`).
    Field(&'static str),
}

/// A credential field of an auth scheme (`x-airbyte-auth-config.properties`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFieldMeta {
    /// The field's name (`api_key`).
    pub name: &'static str,
    /// Its title, for people.
    pub title: &'static str,
    /// Its description.
    pub description: &'static str,
    /// Whether the scheme needs it.
    pub required: bool,
    /// Whether it is a secret (kept in a `SecretString`, never shown).
    pub secret: bool,
    /// The environment variable `from_env` reads it from (`INCIDENT_IO_API_KEY`).
    pub env: &'static str,
}

/// How an OAuth 2 access token is refreshed (`x-airbyte-token-refresh` and the flow's
/// `refreshUrl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRefreshMeta {
    /// The token endpoint; `{{name}}` placeholders are filled from the credentials and the
    /// server variables.
    pub url: &'static str,
    /// Where the client id and secret go: `body`, `basic` (an `Authorization: Basic`
    /// header) or `none`.
    pub auth_style: &'static str,
    /// `form` or `json`.
    pub body_format: &'static str,
    /// The header the access token is sent in (`Authorization`).
    pub header: &'static str,
    /// Token-answer fields that set server variables (`x-airbyte-token-extract`): after
    /// each refresh the base URL is rendered again with them (over the configuration).
    pub extract: &'static [&'static str],
    /// `refresh_token`, or `jwt_bearer`: an RS256 assertion signed with the service account
    /// key in the `credentials_json` slot (`client_email`, `private_key`).
    pub grant_type: &'static str,
    /// The scopes a `jwt_bearer` assertion asks for, space-separated.
    pub scopes: &'static str,
    /// The text before the token (`Bearer`); empty: the token alone.
    pub prefix: &'static str,
}

/// One auth scheme of the spec (`components.securitySchemes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSchemeMeta {
    /// The scheme's key in the spec (`bearerAuth`).
    pub key: &'static str,
    /// What it is.
    pub kind: AuthKind,
    /// Its title.
    pub title: &'static str,
    /// Its description.
    pub description: &'static str,
    /// The credential fields.
    pub fields: &'static [AuthFieldMeta],
    /// `auth_mapping`: for each slot of the scheme (`token`, `username`, `password`,
    /// `api_key`, `access_token`, `refresh_token`, `client_id`, `client_secret`), the
    /// template that fills it.
    pub mapping: &'static [(&'static str, &'static [TemplatePart])],
    /// `additional_headers`: header name and template (`{{ field }}` placeholders).
    pub additional_headers: &'static [(&'static str, &'static str)],
    /// How the access token is refreshed (OAuth 2 with a refresh URL).
    pub refresh: Option<TokenRefreshMeta>,
}

impl AuthSchemeMeta {
    /// The template for a mapping slot.
    pub fn mapping(&self, slot: &str) -> Option<&'static [TemplatePart]> {
        self.mapping
            .iter()
            .find(|(s, _)| *s == slot)
            .map(|(_, t)| *t)
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static AuthFieldMeta> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A value of the connector's configuration: a variable of the server URL
/// (`https://{workspace}.example.com`) or a key that fills parameters (`x-airbyte-scoping`,
/// `x-airbyte-param-config-inject`). Set with the generated builder's setter of that name,
/// `ClientBuilder::config`, or the environment variable `env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigFieldMeta {
    /// The key (`workspace`).
    pub name: &'static str,
    /// Its description.
    pub description: &'static str,
    /// The value used when none is set.
    pub default: Option<&'static str>,
    /// The environment variable `from_env` reads it from (`BRAMBLECLOUD_WORKSPACE`).
    pub env: &'static str,
    /// Whether it is a variable of the server URL.
    pub server_variable: bool,
}

/// A parameter filled from the connector's configuration when the caller leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigParamMeta {
    /// The operation it belongs to (`(entity, action)`); `None`: every operation that has a
    /// parameter of this name (`x-airbyte-scoping`).
    pub operation: Option<(&'static str, &'static str)>,
    /// The parameter's wire name.
    pub param: &'static str,
    /// The configuration key it comes from.
    pub config_key: &'static str,
    /// Value mapping (the value, then its upper-case form, is looked up); empty: the value
    /// as set.
    pub map: &'static [(&'static str, &'static str)],
    /// Whether the API requires the parameter: with no value from the call or the
    /// configuration, the call fails before any request.
    pub required: bool,
    /// `value_template: "{{ value.split('/')[0] }}"`: the separator and the index (from the
    /// end when negative) of the part sent; a missing part leaves the parameter unset.
    pub split: Option<(&'static str, i64)>,
}

/// A 200 response that is an error all the same (`x-airbyte-response-error-check`): the
/// body's `field` equal to `on_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCheckMeta {
    /// The top-level field to look at (`ok`).
    pub field: &'static str,
    /// The value that means failure, as JSON text (`false`).
    pub on_value: &'static str,
    /// The field holding the message (`error`).
    pub message_field: Option<&'static str>,
}

/// Opens the span of one call: `(entity, action, transport)`.
pub type CallSpan = fn(&str, &str, &'static str) -> tracing::Span;

/// A whole connector: identity, where its API lives, its auth schemes and its entities.
#[derive(Debug)]
pub struct ConnectorMeta {
    /// `info.x-airbyte-connector-name` (`incident-io`).
    pub name: &'static str,
    /// The name people use (`incident.io`).
    pub display_name: &'static str,
    /// The prefix of the generated type names (`IncidentIo`, as in `IncidentIoConnector`).
    pub type_prefix: &'static str,
    /// How to build direct-mode credentials, for messages (`IncidentIoAuthConfig::new(api_key)`).
    pub auth_example: &'static str,
    /// `info.x-airbyte-connector-definition-id`: the Airbyte connector definition.
    pub definition_id: &'static str,
    /// `info.version` of the spec.
    pub version: &'static str,
    /// The API's base URL (`servers[0].url`).
    pub base_url: &'static str,
    /// The prefix of the connector's environment variables (`INCIDENT_IO`).
    pub env_prefix: &'static str,
    /// Every entity, in spec order.
    pub entities: &'static [EntityMeta],
    /// Every operation, entity by entity.
    pub operations: &'static [&'static OperationMeta],
    /// The auth schemes, in spec order.
    pub auth: &'static [AuthSchemeMeta],
    /// The configuration values: server URL variables and keys that fill parameters.
    pub config: &'static [ConfigFieldMeta],
    /// Parameters filled from the configuration.
    pub config_params: &'static [ConfigParamMeta],
    /// A 200 that is an error all the same, when the spec declares one.
    pub error_check: Option<ErrorCheckMeta>,
    /// The effective spec as JSON.
    pub spec_json: &'static str,
    /// The `User-Agent` of the generated crate.
    pub user_agent: &'static str,
    /// What error messages say about this API.
    pub hints: Hints,
    /// Opens the tracing span of one call (`<connector>.call`, with the fields `entity`,
    /// `action`, `transport`, `status` and `attempts`). Generated, because a span's name is
    /// fixed at compile time.
    pub call_span: CallSpan,
    #[doc(hidden)]
    pub spec_cache: OnceLock<serde_json::Value>,
}

impl ConnectorMeta {
    /// The configuration value called `name`.
    pub fn config_field(&self, name: &str) -> Option<&'static ConfigFieldMeta> {
        self.config.iter().find(|c| c.name == name)
    }

    /// The entity called `name`.
    pub fn entity(&self, name: &str) -> Option<&'static EntityMeta> {
        self.entities.iter().find(|e| e.name == name)
    }

    /// The names of the entities, in spec order.
    pub fn entity_names(&self) -> Vec<&'static str> {
        self.entities.iter().map(|e| e.name).collect()
    }

    /// The spec, parsed once.
    pub fn spec(&self) -> &serde_json::Value {
        self.spec_cache
            .get_or_init(|| serde_json::from_str(self.spec_json).unwrap_or(serde_json::Value::Null))
    }
}

//! Static descriptions of the spec's entities and operations, generated from the spec: what
//! `execute` validates against, what introspection reports, and what the transports need to
//! know about an operation (path, params, bounds, record field, cursor parameter).

/// An action on an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Action {
    /// Read a collection (maybe paginated).
    List,
    /// Read one record by id.
    Get,
}

impl Action {
    /// The name used in the spec and in `execute` (`"list"`, `"get"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Get => "get",
        }
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
}

impl ParamKind {
    /// The JSON type name (`string`, `integer`, `boolean`, `number`).
    pub fn json_type(self) -> &'static str {
        match self {
            ParamKind::String { .. } => "string",
            ParamKind::Integer => "integer",
            ParamKind::Boolean => "boolean",
            ParamKind::Number => "number",
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
}

/// One (entity, action) operation of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
}

impl OperationMeta {
    /// Whether this list is paginated (has a cursor).
    pub fn is_paginated(&self) -> bool {
        self.cursor_param.is_some()
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&'static ParamMeta> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A searchable field of an entity in the hosted context store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
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

/// Every entity of the spec this crate was generated from.
pub fn entities() -> &'static [EntityMeta] {
    crate::generated::ops::ENTITIES
}

/// The entity called `name`.
pub fn entity(name: &str) -> Option<&'static EntityMeta> {
    entities().iter().find(|e| e.name == name)
}

/// Every operation of the spec, entity by entity.
pub fn operations() -> &'static [&'static OperationMeta] {
    crate::generated::ops::OPERATIONS
}

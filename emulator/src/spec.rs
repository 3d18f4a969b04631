//! Reads the connector spec into a [`Catalog`]: the entities the emulator serves, the
//! operations and routes that reach them, their request parameters, and each record schema
//! compiled into a [`Shape`] tree that the generator in `data.rs` walks.
//!
//! Served reads: operations carrying `x-airbyte-entity` and an `x-airbyte-action` of
//! `list`, `get` or `search` (`api_search`; served like a list), on `GET`, or on `POST` with
//! an `application/json` `requestBody` whose schema is an object with `properties` (a POST
//! read; its body properties become parameters `in: body`, see [`body_params`]).
//!
//! Served writes: `create` on `POST`, `PUT` or `PATCH`; `update` on `PATCH`, `PUT` or
//! `POST`; `delete` on `DELETE` or `POST` (through a virtual key and
//! `x-airbyte-path-override` too). Their `requestBody`, when there is one, must be
//! `application/json` (or `+json`) or `application/x-www-form-urlencoded`, with a schema
//! that is an object with `properties` (they become parameters `in: body`), an object
//! without (free-form), or, in JSON, an array ([`BodyDef`]); without one the write takes
//! no body. The success answer is the lowest 2xx declared ([`WriteDef`]): its
//! `application/json` schema and the record extractor say where the record goes; no
//! content (a 204) is an empty body. Entities with a served read come first in
//! [`Catalog::entities`], sorted by name; write-only entities (writes but no read) follow,
//! sorted by name, marked not [`readable`](EntityDef::readable): their writes are served,
//! but they have no records, are never linked to by other records' schemas, and are not
//! listed as served entities.
//!
//! GraphQL operations (`x-airbyte-body-type: {type: graphql}`, on `POST`, any of those
//! actions) are served too: their inputs are the query parameters (reads) or the
//! properties of the request body's schema (mutations, as parameters `in: body`), their
//! query template goes on the route (see `graphql.rs`). Downloads (`x-airbyte-action:
//! download`, on `GET` or on `POST` with a JSON object body or none) are compiled apart
//! into [`DownloadDef`]s (their entity need not have reads; see `downloads.rs`), their
//! routes among the others in spec order.
//!
//! Other methods and actions are skipped, and so are other body kinds (multipart, a form
//! on a read or a download, an array on a read), so a spec with uploads still loads. Everything is derived from the spec, so an entity added to the spec is
//! served without code changes.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::downloads::{self, DownloadDef, TwoStep};
use super::envelope::Tpl;
use super::graphql::{self, GqlDef, Pattern};
use super::ops::{self, Loc, PKind, Paging, ParamDef, Seg, State};
use super::routes::{self, Route, Router, Target, Template, Verb};

/// Objects nested deeper than this are emitted empty (`{}`), which also breaks cycles.
const MAX_OBJECT_DEPTH: usize = 6;

/// What an operation does with its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `x-airbyte-action: list`.
    List,
    /// `x-airbyte-action: get`.
    Get,
    /// `x-airbyte-action: search` (or the deprecated `api_search`): served like a list.
    Search,
    /// `x-airbyte-action: create`: adds a record to the write store.
    Create,
    /// `x-airbyte-action: update`: changes a record.
    Update,
    /// `x-airbyte-action: delete`: removes a record.
    Delete,
}

impl Action {
    /// Parses the spec's action name.
    pub(crate) fn parse(s: &str) -> Option<Action> {
        match s {
            "list" => Some(Action::List),
            "get" => Some(Action::Get),
            "search" | "api_search" => Some(Action::Search),
            "create" => Some(Action::Create),
            "update" => Some(Action::Update),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }

    /// True for `create`, `update` and `delete`.
    pub(crate) fn is_write(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }

    /// The HTTP methods this action is served on (as the spec's lower-case method keys).
    fn methods(self) -> &'static [&'static str] {
        match self {
            Action::List | Action::Get | Action::Search => &["get", "post"],
            Action::Create => &["post", "put", "patch"],
            Action::Update => &["patch", "put", "post"],
            Action::Delete => &["delete", "post"],
        }
    }
}

/// Everything the emulator knows about the spec.
#[derive(Debug)]
pub(crate) struct Catalog {
    /// Served entities, sorted by name.
    pub entities: Vec<EntityDef>,
    /// Served operations, in spec order.
    pub ops: Vec<OpDef>,
    /// Request paths to operations.
    pub router: Router,
    /// `info.x-airbyte-response-error-check`: the field and the value a successful body
    /// carries in it (the opposite of a boolean `on_value`; for a string `on_value`,
    /// `"success"`, or `"ok"` when `on_value` is `"success"`).
    pub ok_flag: Option<(String, Value)>,
    /// `info.x-airbyte-response-error-check.message_field`, if any.
    pub error_message_field: Option<String>,
    /// The downloads (`x-airbyte-action: download`), in spec order.
    pub downloads: Vec<DownloadDef>,
    /// `info.x-airbyte-connector-name`.
    pub connector_name: String,
}

/// How a record is named in a `get` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    /// A string `id`: the emulator's ULIDs (cursors are ids too).
    Ulid,
    /// An integer `id`: record `i` has id `i + 1`.
    Int,
    /// Another top-level property (`slug` for `{project_slug}`), found by scanning.
    Field(String),
    /// Nothing to look records up by.
    None,
}

/// One entity (`x-airbyte-entity`).
#[derive(Debug)]
pub(crate) struct EntityDef {
    /// Entity name, e.g. `incidents`.
    pub name: String,
    /// Naming strings (noun `Incident`, reference prefix `INC`, ...).
    pub names: Names,
    /// The list operation (the last one, when the spec declares several).
    pub list: Option<usize>,
    /// The get operation (the first one).
    pub get: Option<usize>,
    /// Compiled record schema (always an object shape): the list's, else a search's,
    /// else the get's.
    pub shape: Shape,
    /// True when the record schema has a top-level `reference` property
    /// (then `GET .../{id}` also accepts its numeric part).
    pub has_reference: bool,
    /// How `get` finds a record.
    pub key: Key,
    /// True when the list operation paginates.
    pub paginated: bool,
    /// The create operation (the first one).
    pub create: Option<usize>,
    /// The update operation (the first one).
    pub update: Option<usize>,
    /// The delete operation (the first one).
    pub delete: Option<usize>,
    /// True when the entity has a served read (list, get or search); false for a
    /// write-only entity, whose writes are served but which has no records to read (it
    /// sits after the readable entities in [`Catalog::entities`], with no records).
    pub readable: bool,
}

impl EntityDef {
    /// True when the list operation paginates.
    pub(crate) fn paginated(&self) -> bool {
        self.paginated
    }
}

/// One served operation.
#[derive(Debug)]
pub(crate) struct OpDef {
    /// Index into [`Catalog::entities`].
    pub entity: usize,
    /// What it does.
    pub action: Action,
    /// Declared parameters (path, query, header), operation over path item.
    pub params: Vec<ParamDef>,
    /// Where the records sit in the body.
    pub tpl: Tpl,
    /// Pagination of a list or search; `None` when it returns everything at once.
    pub paging: Option<Paging>,
    /// Query parameters (indexes into `params`) naming a top-level record property:
    /// equality filters of a list, the lookup of a `get` without a path id.
    pub filters: Vec<usize>,
    /// The record shape when it differs from the entity's (a get's full schema).
    pub shape: Option<Shape>,
    /// The path parameter naming the record (the last path parameter of a `get`, an update
    /// or a delete).
    pub id_param: Option<String>,
    /// For a `get` (or an update or delete) without a path id, the body property carrying
    /// the record's key (`user` of `POST /users.info`, see [`pick_body_id`]).
    pub body_id: Option<String>,
    /// What a write answers; `None` for reads.
    pub write: Option<WriteDef>,
    /// For a GraphQL operation (`x-airbyte-body-type: {type: graphql}`), its query and
    /// variable bindings.
    pub graphql: Option<GqlDef>,
    /// How a write's request body is read; `None` for reads, GraphQL operations and writes
    /// that declare no `requestBody` (those ignore any body sent).
    pub body: Option<BodyDef>,
}

/// The media type a write's request body may travel in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    /// `application/json` (or another `+json` type).
    Json,
    /// `application/x-www-form-urlencoded`, nested values bracket-flattened.
    Form,
}

impl Media {
    /// The media type's name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::Form => "application/x-www-form-urlencoded",
        }
    }
}

/// A write's request body (see `bodies.rs`).
#[derive(Debug, Clone)]
pub(crate) struct BodyDef {
    /// The media types it may travel in, in spec order (a request without a
    /// `Content-Type` is read as the first).
    pub media: Vec<Media>,
    /// What it holds.
    pub kind: BodyKind,
    /// The body schema with `$ref`s inlined (a few levels deep), to read form values as
    /// the types it declares.
    pub schema: Value,
}

/// What a write's request body holds.
#[derive(Debug, Clone)]
pub(crate) enum BodyKind {
    /// An object with declared properties: the operation's parameters `in: body`.
    Object,
    /// An object that declares no properties (`additionalProperties: true`): any members.
    Free,
    /// A JSON array, each element checked as `items` says.
    Array(Items),
}

/// The elements of an array body.
#[derive(Debug, Clone)]
pub(crate) enum Items {
    /// Objects with these properties (as parameters `in: body`, checked per element).
    Object(Vec<ParamDef>),
    /// Values of this schema (a parameter `in: body` named `item`).
    Value(ParamDef),
}

/// How a write operation answers.
#[derive(Debug, Clone)]
pub(crate) struct WriteDef {
    /// The HTTP method (a `PUT` update replaces the body's fields).
    pub method: Verb,
    /// The success status: the lowest 2xx the operation declares (200 when none is).
    pub status: u16,
    /// True when that answer has an `application/json` body; else the body is empty.
    pub has_body: bool,
    /// The route's path parameters (those of a create name its parents: `board_id` of
    /// `/boards/{board_id}/cards`).
    pub path_params: Vec<String>,
    /// Response headers that carry the record's id (meta extractor entries
    /// `@header.<Name>`, such as `X-Created-Id`).
    pub id_headers: Vec<String>,
    /// For a write of a write-only entity, the path parameters naming a record of a
    /// readable entity (`board_id` of `/boards/{board_id}/tags` names a board): an
    /// unknown one is a 404.
    pub parents: Vec<(String, usize)>,
}

impl OpDef {
    /// Query parameter names the pagination reads (state and size).
    pub(crate) fn paging_params(&self) -> Vec<&str> {
        let Some(pg) = &self.paging else {
            return Vec::new();
        };
        let mut v = vec![pg.state.param()];
        if let Some(s) = &pg.size.param {
            v.push(s);
        }
        v
    }
}

impl Catalog {
    /// Index of the entity with this name.
    pub(crate) fn entity_index(&self, name: &str) -> Option<usize> {
        self.entities.iter().position(|e| e.name == name)
    }
}

/// Decodes `%XX` escapes (invalid escapes are kept literally; invalid UTF-8 is replaced).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes everything but unreserved characters (`A-Za-z0-9-._~`).
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parses a raw query string (`a=1&b=x%20y`) into decoded pairs; `+` means space.
pub(crate) fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return Vec::new() };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

// ───────────────────────────── shapes ─────────────────────────────

/// A compiled schema node.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    /// Value kind.
    pub kind: Kind,
    /// `type: [X, "null"]` or `nullable: true`.
    pub nullable: bool,
    /// `enum` values (empty when unconstrained).
    pub enum_vals: Vec<Value>,
    /// What the value means, guessed from the property name and format.
    pub hint: Hint,
    /// `minimum`, if any.
    pub min: Option<f64>,
    /// `maximum`, if any.
    pub max: Option<f64>,
}

/// Kind of a compiled schema node.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A JSON string.
    Str,
    /// A JSON integer.
    Int,
    /// A JSON number.
    Num,
    /// A JSON boolean.
    Bool,
    /// A JSON array of the item shape.
    Array(Box<Shape>),
    /// A JSON object.
    Object(Box<ObjShape>),
    /// No usable type information.
    Any,
    /// Cut off by the depth limit or a `$ref` cycle: emitted as `{}` / omitted when optional.
    Truncated,
    /// `type: "null"`: always `null`.
    Null,
    /// Several non-null alternatives (`oneOf`/`anyOf`, or `type: [integer, string]`): each
    /// value takes one, picked by its seed.
    OneOf(Vec<Shape>),
}

/// A compiled object schema.
#[derive(Debug, Clone)]
pub(crate) struct ObjShape {
    /// Declared properties.
    pub props: Vec<Prop>,
    /// `additionalProperties` value shape, for maps.
    pub additional: Option<Shape>,
    /// Naming strings (noun `Severity`, ...), used when the object is not linked.
    pub names: Names,
    /// Entity whose records this object points at (same schema, or `XRef` of it).
    pub link: Option<usize>,
    /// True when the object describes a person (names become person names).
    pub person: bool,
    /// True for a "one of these" object (like an actor: user, alert, api_key or workflow):
    /// three or more optional properties that are all objects or share a `<prefix>_`.
    /// Exactly one member is emitted.
    pub union: bool,
}

/// A compiled object property.
#[derive(Debug, Clone)]
pub(crate) struct Prop {
    /// Property name.
    pub name: String,
    /// `"name":` pre-escaped.
    pub key_json: String,
    /// Per-property salt for seeding.
    pub salt: u64,
    /// Listed in `required`.
    pub required: bool,
    /// Value shape.
    pub shape: Shape,
}

/// Semantic hint for generating readable values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// Own id (top level) or the id of the linked/pooled object.
    Id,
    /// `<x>_id`: an id of entity `x` if it exists, else a pooled ULID.
    ForeignId(Option<usize>),
    /// Slack id with this prefix letter.
    SlackId(u8),
    /// Email address.
    Email,
    /// URL.
    Url,
    /// `name`.
    Name,
    /// `title`.
    Title,
    /// `reference` (`INC-42`).
    Reference,
    /// Free text.
    Text,
    /// `*_name` / `slug`: a slug.
    Slug,
    /// IANA time zone.
    Timezone,
    /// `HH:MM`.
    ClockTime,
    /// RFC3339 timestamp; the flag marks start-like names (`created_at`, `start_at`,
    /// `effective_from`, `occurred_at`), which sit at the object's base time.
    Timestamp(bool),
    /// `YYYY-MM-DD`.
    Date,
    /// Hex digest.
    Hex,
    /// Decimal number as a string.
    Decimal,
    /// ISO country code.
    Country,
    /// Slack emoji name.
    Emoji,
    /// Short uppercase label.
    Shortform,
    /// An array that real records fill with this many items (at least, at most).
    Items(u8, u8),
    /// `rank`.
    Rank,
    /// `sort_key`.
    SortKey,
    /// A duration in seconds.
    Seconds,
    /// An ordinal (`external_id`).
    Ordinal,
    /// A small count (`interval`, `version`).
    Small,
    /// `is_active` and similar: mostly true.
    MostlyTrue,
    /// Nothing special.
    Plain,
}

/// Error while reading the spec.
pub(crate) type SpecError = String;

/// An operation as found in `paths`, before compiling.
struct RawOp<'a> {
    /// Position in the spec (routes keep spec order).
    seq: usize,
    key: &'a str,
    method: Verb,
    /// Body properties as parameter objects (`in: body`), for a POST read or a write.
    body: Vec<Value>,
    item: &'a Value,
    op: &'a Value,
    action: Action,
    extractor: Vec<Seg>,
    /// A GraphQL body's query and variables template.
    graphql: Option<(String, Value)>,
    /// A write's request body, if it declares one.
    body_def: Option<RawBody>,
}

/// A write's request body as found in the spec, before compiling.
struct RawBody {
    media: Vec<Media>,
    kind: RawKind,
    schema: Value,
}

/// What a write's request body holds, before compiling (parameter objects `in: body`).
enum RawKind {
    Object,
    Free,
    ArrayOf(Vec<Value>),
    ArrayValue(Value),
}

/// A download as found in `paths`, before compiling.
struct RawDownload<'a> {
    seq: usize,
    key: &'a str,
    method: Verb,
    body: Vec<Value>,
    item: &'a Value,
    op: &'a Value,
    entity: &'a str,
}

/// Builds the catalog from the spec JSON.
pub(crate) fn load(root: &Value) -> Result<Catalog, SpecError> {
    let paths = root
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| "spec has no `paths` object".to_string())?;

    // Phase 1: the served operations, in spec order, grouped by entity.
    let mut raw: Vec<RawOp<'_>> = Vec::new();
    let mut raw_downloads: Vec<RawDownload<'_>> = Vec::new();
    let mut seq = 0;
    for (key, item) in paths {
        let Some(item_obj) = item.as_object() else {
            continue;
        };
        for (method, op) in item_obj {
            let Some(entity) = op.get("x-airbyte-entity").and_then(Value::as_str) else {
                continue;
            };
            seq += 1;
            let action = op.get("x-airbyte-action").and_then(Value::as_str);
            let verb = Verb::parse(method);
            if action == Some("download") {
                // Downloads on GET, or on POST with a JSON object body (or none).
                let body = match verb {
                    Some(Verb::Get) => Some(Vec::new()),
                    Some(Verb::Post) => json_body_or_none(root, op),
                    _ => None,
                };
                match (verb, body) {
                    (Some(method), Some(body)) => raw_downloads.push(RawDownload {
                        seq,
                        key,
                        method,
                        body,
                        item,
                        op,
                        entity,
                    }),
                    _ => tracing::debug!(
                        entity,
                        path = %key,
                        "emulator: download not served (only on GET, or POST with a JSON \
                         object body or none)"
                    ),
                }
                continue;
            }
            let parsed = action
                .and_then(Action::parse)
                .filter(|a| a.methods().contains(&method.as_str()));
            let request_body = op.get("requestBody").map(|b| resolve(root, b).0);
            let gql = graphql::body_type(op, request_body);
            let served = match (verb, parsed) {
                // GraphQL: a POST whose inputs are query parameters (reads) or the
                // properties of the request body's schema (mutations).
                (Some(Verb::Post), Some(a)) if gql.is_some() => Some((
                    Verb::Post,
                    a,
                    body_props(root, op).unwrap_or_default(),
                    None,
                )),
                _ if gql.is_some() => None,
                (Some(Verb::Get), Some(a)) if !a.is_write() => {
                    Some((Verb::Get, a, Vec::new(), None))
                }
                (Some(v), Some(a)) if !a.is_write() => {
                    body_params(root, op).map(|b| (v, a, b, None))
                }
                (Some(v), Some(a)) => write_body(root, op).map(|(b, d)| (v, a, b, d)),
                _ => None,
            };
            let Some((method, action, body, body_def)) = served else {
                tracing::debug!(
                    entity,
                    method = %method,
                    action = action.unwrap_or(""),
                    path = %key,
                    "emulator: operation not served (only GET list/get/search are, POST ones \
                     with a JSON object body or a GraphQL body, create/update/delete with a \
                     JSON or form object body, a JSON array body, a GraphQL body or none, and \
                     downloads)"
                );
                continue;
            };
            let extractor = match op.get("x-airbyte-record-extractor").and_then(Value::as_str) {
                None => Vec::new(),
                Some(e) => match ops::parse_path(e) {
                    Some(segs) => segs,
                    None => {
                        tracing::warn!(entity, path = %key, extractor = e, "emulator: unsupported record extractor; operation skipped");
                        continue;
                    }
                },
            };
            raw.push(RawOp {
                seq,
                key,
                method,
                body,
                item,
                op,
                action,
                extractor,
                graphql: gql,
                body_def,
            });
        }
    }
    // Entities: those with a served read (sorted by name), then the write-only ones (sorted
    // by name), which have no records and are not listed as served entities.
    let mut order: Vec<String> = Vec::new();
    for r in raw.iter().filter(|r| !r.action.is_write()) {
        let e = entity_of(r);
        if !order.iter().any(|n| n == e) {
            order.push(e.to_string());
        }
    }
    // Independent of JSON map ordering.
    order.sort();
    let readable = order.len();
    let mut write_only: Vec<String> = Vec::new();
    for r in &raw {
        let e = entity_of(r);
        if !order.iter().chain(&write_only).any(|n| n == e) {
            write_only.push(e.to_string());
        }
    }
    write_only.sort();
    order.extend(write_only);
    if readable == 0 && raw_downloads.is_empty() {
        return Err(
            "spec has no GET (or JSON-body or GraphQL POST) operation with x-airbyte-entity \
             and a list/get/search action, nor a download"
                .into(),
        );
    }
    let entity_idx = |name: &str| order.iter().position(|n| n == name).unwrap_or(0);

    // Record schema (raw JSON + $ref name) of every operation, and each entity's primary
    // operation (its last list, else its first search, else its first get).
    let op_schemas: Vec<Value> = raw.iter().map(|r| op_record_schema(root, r)).collect();
    let mut primary: Vec<Option<usize>> = vec![None; order.len()];
    for (e, slot) in primary.iter_mut().enumerate() {
        let of = |a: Action| {
            raw.iter()
                .enumerate()
                .filter(move |(_, r)| r.action == a && entity_idx(entity_of(r)) == e)
                .map(|(i, _)| i)
        };
        // A write-only entity: its first write's answer.
        *slot = of(Action::List)
            .next_back()
            .or_else(|| of(Action::Search).next())
            .or_else(|| of(Action::Get).next())
            .or_else(|| {
                raw.iter()
                    .position(|r| r.action.is_write() && entity_idx(entity_of(r)) == e)
            });
    }
    let record_schemas: Vec<(Value, Option<String>)> = primary
        .iter()
        .map(|p| match p {
            Some(i) => (op_schemas[*i].clone(), ref_name(&op_schemas[*i])),
            None => (Value::Object(Map::new()), None),
        })
        .collect();

    // Only readable entities are linked to (a write-only one has no records to point at).
    let mut schema_entity = HashMap::new();
    for (i, (_, n)) in record_schemas.iter().enumerate().take(readable) {
        if let Some(n) = n {
            schema_entity.entry(n.clone()).or_insert(i);
        }
    }
    let compiler = Compiler {
        root,
        schema_entity,
        entity_nouns: order[..readable]
            .iter()
            .map(|n| humanize(&singular(n)).to_ascii_lowercase())
            .collect(),
        entity_names: order[..readable].to_vec(),
    };

    // Phase 2: entities.
    let mut entities = Vec::new();
    for (idx, name) in order.iter().enumerate() {
        let ref_prefix = if name.starts_with("incident") {
            "INC".to_string()
        } else {
            name.chars()
                .filter(char::is_ascii_alphabetic)
                .take(3)
                .collect::<String>()
                .to_ascii_uppercase()
        };
        let names = Names::new(&humanize(&singular(name)), &ref_prefix, name);
        let (shape, has_reference) = compiler.record_shape(&record_schemas[idx].0, name, &names);
        entities.push(EntityDef {
            name: name.clone(),
            names,
            list: None,
            get: None,
            shape,
            has_reference,
            key: Key::None,
            paginated: false,
            create: None,
            update: None,
            delete: None,
            readable: idx < readable,
        });
    }

    // Phase 3: operations and routes, in spec order.
    let resolve_clone = |v: &Value| resolve(root, v).0.clone();
    let mut op_defs = Vec::new();
    let mut routes: Vec<(usize, Route)> = Vec::new();
    let mut router = Router {
        routes: Vec::new(),
        prefix: root
            .pointer("/servers/0/url")
            .and_then(Value::as_str)
            .map(routes::server_prefix)
            .unwrap_or_default(),
    };
    for (i, r) in raw.iter().enumerate() {
        let e = entity_idx(entity_of(r));
        let params: Vec<ParamDef> = collect_params(root, r.item, r.op)
            .into_iter()
            .chain(&r.body)
            .filter_map(|p| ParamDef::read(p, &resolve_clone))
            .collect();
        let write = r.action.is_write().then(|| write_response(root, r.op));
        let resp = match &write {
            Some((_, schema)) => schema.clone(),
            None => response_schema(root, r.op),
        };
        let tpl = build_tpl(root, &r.extractor, resp.as_ref());
        let shape = (primary[e] != Some(i) && op_schemas[i] != record_schemas[e].0).then(|| {
            compiler
                .record_shape(&op_schemas[i], &entities[e].name, &entities[e].names)
                .0
        });
        let paging = match r.action {
            Action::List | Action::Search => ops::paging(r.op, &params),
            _ => None,
        };
        let override_path =
            r.op.get("x-airbyte-path-override")
                .and_then(|o| o.get("path"))
                .and_then(Value::as_str);
        let (route_path, key_query) = match override_path {
            Some(p) => (p, None),
            None => match r.key.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (r.key, None),
            },
        };
        let template = Template::parse(route_path);
        let id_param = match r.action {
            Action::Get | Action::Update | Action::Delete => template.params().pop(),
            _ => None,
        };
        let record_shape = shape.as_ref().unwrap_or(&entities[e].shape);
        let props: Vec<&str> = match &record_shape.kind {
            Kind::Object(o) => o.props.iter().map(|p| p.name.as_str()).collect(),
            _ => Vec::new(),
        };
        // A GraphQL filter variable naming an object property (`state` of `filter: {state:
        // {eq: ...}}` against a `state {name}` object) cannot be compared: only scalar (and
        // array) properties filter GraphQL reads.
        let filter_props: Vec<&str> = match (&record_shape.kind, &r.graphql) {
            (Kind::Object(o), Some(_)) => o
                .props
                .iter()
                .filter(|p| !matches!(p.shape.kind, Kind::Object(_) | Kind::Truncated))
                .map(|p| p.name.as_str())
                .collect(),
            _ => props.clone(),
        };
        let skip: Vec<String> = paging
            .as_ref()
            .map(|pg| {
                let mut v = vec![pg.state.param().to_string()];
                v.extend(pg.size.param.clone());
                v
            })
            .unwrap_or_default();
        // Query parameters and body properties naming a record property filter; those
        // always sent (a required query default, any body default) do not.
        let filters = params
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                let always_sent = match p.loc {
                    Loc::Query => p.required && p.default.is_some(),
                    Loc::Body => p.default.is_some(),
                    _ => true,
                };
                !always_sent
                    && !r.action.is_write()
                    && !skip.contains(&p.name)
                    && filter_props.contains(&p.name.as_str())
            })
            .map(|(k, _)| k)
            .collect();
        let mut constants: Vec<(String, String)> = Vec::new();
        for p in params
            .iter()
            .filter(|p| matches!(p.loc, Loc::Query | Loc::Body))
        {
            // A body default is always sent, so any scalar one tells operations apart; a
            // query default only when the parameter is required.
            let body = p.loc == Loc::Body;
            let default = p
                .default_text()
                .filter(|_| !body || matches!(p.kind, PKind::Scalar(_)));
            let value = match (&p.kind, body || p.required, default) {
                (_, true, Some(d)) => Some(d),
                (PKind::Scalar(s), _, _) if s.enum_vals.len() == 1 => Some(s.enum_vals[0].clone()),
                _ => None,
            };
            constants.extend(value.map(|v| (p.name.clone(), v)));
        }
        let body_id = match (r.action, &id_param) {
            (Action::Get, None) => pick_body_id(&params, &entities[e].name, &props),
            (Action::Update | Action::Delete, None) => {
                pick_write_body_id(&params, &entities[e].name, &props)
            }
            _ => None,
        };
        // A write-only entity's path parameters naming readable entities' records.
        let parents: Vec<(String, usize)> = if e < readable {
            Vec::new()
        } else {
            template
                .params()
                .into_iter()
                .filter_map(|p| {
                    let base = p.strip_suffix("_id").or_else(|| p.strip_suffix("Id"))?;
                    let pe = find_entity(&snake(base), &order[..readable])?;
                    Some((p, pe))
                })
                .collect()
        };
        let body_def = r.body_def.as_ref().map(|b| BodyDef {
            media: b.media.clone(),
            schema: b.schema.clone(),
            kind: match &b.kind {
                RawKind::Object => BodyKind::Object,
                RawKind::Free => BodyKind::Free,
                RawKind::ArrayOf(props) => BodyKind::Array(Items::Object(
                    props
                        .iter()
                        .filter_map(|p| ParamDef::read(p, &resolve_clone))
                        .collect(),
                )),
                RawKind::ArrayValue(p) => match ParamDef::read(p, &resolve_clone) {
                    Some(p) => BodyKind::Array(Items::Value(p)),
                    None => BodyKind::Free,
                },
            },
        });
        let write = write.map(|(status, schema)| WriteDef {
            parents,
            method: r.method,
            status,
            has_body: schema.is_some(),
            path_params: template.params(),
            id_headers: r
                .op
                .get("x-airbyte-meta-extractor")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(_, v)| v.as_str()?.strip_prefix("@header."))
                .map(str::to_string)
                .collect(),
        });
        constants.extend(parse_query(key_query));
        let op_index = op_defs.len();
        let gql = r.graphql.as_ref().map(|(_, variables)| {
            let resp_schema = resp.clone().unwrap_or(Value::Null);
            GqlDef::new(
                variables,
                graphql_root(&r.extractor),
                graphql_extras(root, &r.extractor, &resp_schema),
            )
        });
        routes.push((
            r.seq,
            Route {
                method: r.method,
                template,
                target: Target::Op(op_index),
                constants,
                graphql: r.graphql.as_ref().map(|(q, _)| Pattern::new(q)),
            },
        ));
        let def = &mut entities[e];
        let slot = match r.action {
            Action::List => {
                def.list = Some(op_index);
                None
            }
            Action::Get => Some(&mut def.get),
            Action::Search => None,
            Action::Create => Some(&mut def.create),
            Action::Update => Some(&mut def.update),
            Action::Delete => Some(&mut def.delete),
        };
        if let Some(slot) = slot.filter(|s| s.is_none()) {
            *slot = Some(op_index);
        }
        op_defs.push(OpDef {
            entity: e,
            action: r.action,
            params,
            tpl,
            paging,
            filters,
            shape,
            id_param,
            body_id,
            write,
            graphql: gql,
            body: body_def,
        });
    }

    // Phase 4: record keys, and cursors that are record ids.
    for (e, def) in entities.iter_mut().enumerate() {
        let id_param = def.get.and_then(|g| {
            let g = &op_defs[g];
            g.id_param.clone().or_else(|| g.body_id.clone())
        });
        def.key = record_key(&def.shape, id_param.as_deref());
        def.paginated = def.list.is_some_and(|l| op_defs[l].paging.is_some());
        for op in op_defs.iter_mut().filter(|o| o.entity == e) {
            if let Some(Paging {
                state: State::Cursor { ids, .. },
                ..
            }) = &mut op.paging
            {
                *ids = def.key == Key::Ulid;
            }
        }
    }

    // Downloads, and their routes.
    let mut download_defs = Vec::new();
    for r in &raw_downloads {
        let served = order[..readable].iter().position(|n| n == r.entity);
        let Some((def, route)) = download_def(
            root,
            r,
            served,
            &compiler,
            &resolve_clone,
            download_defs.len(),
        ) else {
            continue;
        };
        download_defs.push(def);
        routes.push((r.seq, route));
    }
    routes.sort_by_key(|(seq, _)| *seq);
    router.routes = routes.into_iter().map(|(_, r)| r).collect();

    let check = root.pointer("/info/x-airbyte-response-error-check");
    let ok_flag = check.and_then(|c| {
        let field = c.get("field")?.as_str()?.to_string();
        let ok = match c.get("on_value")? {
            Value::Bool(on) => Value::Bool(!on),
            Value::String(on) if on == "success" => Value::String("ok".into()),
            Value::String(_) => Value::String("success".into()),
            _ => return None,
        };
        Some((field, ok))
    });
    let error_message_field = check
        .and_then(|c| c.get("message_field"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Catalog {
        entities,
        ops: op_defs,
        router,
        ok_flag,
        error_message_field,
        downloads: download_defs,
        connector_name: root
            .pointer("/info/x-airbyte-connector-name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    })
}

/// The root field of a GraphQL operation: the member of `data` its extractor starts with
/// (`issue` of `$.data.issue`).
fn graphql_root(extractor: &[Seg]) -> Option<String> {
    match extractor {
        [Seg::Field(d), Seg::Field(root), ..] if d == "data" => Some(root.clone()),
        _ => None,
    }
}

/// The boolean properties beside the records' path in a GraphQL operation's 200 schema
/// (`success` of `{data: {issueUpdate: {success, issue}}}`), each answered `true`.
fn graphql_extras(root: &Value, extractor: &[Seg], resp: &Value) -> Vec<(Vec<Seg>, Value)> {
    let mut out = Vec::new();
    let mut node = resp.clone();
    for (k, seg) in extractor.iter().enumerate() {
        let Seg::Field(next) = seg else { break };
        let flat_node = flat(root, &node);
        if let Some(props) = flat_node.get("properties").and_then(Value::as_object) {
            for (name, schema) in props {
                if name != next && ops::type_name(&flat(root, schema)).as_deref() == Some("boolean")
                {
                    let mut path = extractor[..k].to_vec();
                    path.push(Seg::Field(name.clone()));
                    out.push((path, Value::Bool(true)));
                }
            }
        }
        match child_schema(root, &node, next) {
            Some(child) => node = child,
            None => break,
        }
    }
    out
}

/// Compiles one download and its route (`None`, with a warning, when its file URL cannot
/// be read).
fn download_def(
    root: &Value,
    r: &RawDownload<'_>,
    served: Option<usize>,
    compiler: &Compiler<'_>,
    resolve_clone: &dyn Fn(&Value) -> Value,
    index: usize,
) -> Option<(DownloadDef, Route)> {
    let params: Vec<ParamDef> = collect_params(root, r.item, r.op)
        .into_iter()
        .chain(&r.body)
        .filter_map(|p| ParamDef::read(p, resolve_clone))
        .collect();
    let override_path =
        r.op.get("x-airbyte-path-override")
            .and_then(|o| o.get("path"))
            .and_then(Value::as_str);
    let (route_path, key_query) = match override_path {
        Some(p) => (p, None),
        None => match r.key.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (r.key, None),
        },
    };
    let template = Template::parse(route_path);
    let one = singular(r.entity);
    let id_param = template.params().pop().or_else(|| {
        ["id".to_string(), format!("{one}_id"), format!("{one}Id")]
            .into_iter()
            .find(|n| params.iter().any(|p| p.name == *n))
    });
    let names = Names::new(&humanize(&one), "REF", r.entity);
    let two_step = match r.op.get("x-airbyte-file-url").and_then(Value::as_str) {
        None => None,
        Some(url) => {
            let Some(path) = downloads::parse_file_url(url) else {
                tracing::warn!(path = %r.key, file_url = url, "emulator: unreadable x-airbyte-file-url; download skipped");
                return None;
            };
            let schema = response_schema(root, r.op).unwrap_or(Value::Object(Map::new()));
            let shape = if ops::type_name(&flat(root, &schema)).as_deref() == Some("array") {
                compiler.compile(&schema, &one, &mut Vec::new(), 0)
            } else {
                compiler.record_shape(&schema, r.entity, &names).0
            };
            Some(TwoStep {
                presigned: presigned(root, r, &schema, &path),
                path,
                shape,
            })
        }
    };
    // The one-step answer's media type (the first non-JSON one declared).
    let content_type =
        r.op.get("responses")
            .and_then(Value::as_object)
            .and_then(|rs| rs.iter().find(|(code, _)| code.starts_with('2')))
            .and_then(|(_, resp)| resolve(root, resp).0.get("content")?.as_object().cloned())
            .and_then(|content| {
                content
                    .keys()
                    .find(|k| !k.to_ascii_lowercase().contains("json"))
                    .cloned()
            })
            .unwrap_or_else(|| "application/octet-stream".to_string());
    // A download always sends its query defaults (and body defaults), optional or not.
    let mut constants: Vec<(String, String)> = params
        .iter()
        .filter(|p| matches!(p.loc, Loc::Query | Loc::Body) && matches!(p.kind, PKind::Scalar(_)))
        .filter_map(|p| p.default_text().map(|d| (p.name.clone(), d)))
        .collect();
    constants.extend(parse_query(key_query));
    let route = Route {
        method: r.method,
        template,
        target: Target::Download(index),
        constants,
        graphql: None,
    };
    Some((
        DownloadDef {
            entity: r.entity.to_string(),
            names,
            served,
            params,
            id_param,
            content_type,
            two_step,
        },
        route,
    ))
}

/// Whether a two-step download's file URL is pre-signed on another host (so it needs no
/// auth), from what the spec says about it: the operation's summary and description, its
/// 200 response's description and the descriptions along the file-URL path mentioning a
/// pre-signed URL, another host, a CDN or storage URL (an API URL, or the server's host,
/// says the opposite); else a sentence of `info.description` naming the entity and saying
/// so; else not.
fn presigned(root: &Value, r: &RawDownload<'_>, schema: &Value, path: &[downloads::FSeg]) -> bool {
    const SIGNED: &[&str] = &[
        "pre-signed",
        "presigned",
        "signed url",
        "signed link",
        "another host",
        "other host",
        "different host",
        "cdn",
        "storage url",
        "external url",
    ];
    let says = |text: &str| {
        let t = text.to_ascii_lowercase();
        SIGNED.iter().any(|k| t.contains(k))
    };
    let mut texts: Vec<String> = Vec::new();
    let desc = |v: &Value| {
        ["summary", "description"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(Value::as_str))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    texts.extend(desc(r.op));
    if let Some(resp) =
        r.op.get("responses")
            .and_then(Value::as_object)
            .and_then(|rs| rs.iter().find(|(code, _)| code.starts_with('2')))
    {
        texts.extend(desc(resolve(root, resp.1).0));
    }
    let mut node = Some(schema.clone());
    for seg in path {
        let Some(n) = node.take() else { break };
        let n = flat(root, &n);
        node = match seg {
            downloads::FSeg::Field(f) => child_schema(root, &n, f),
            _ => items_schema(root, &n),
        };
        if let Some(child) = &node {
            texts.extend(desc(&flat(root, child)));
            texts.extend(desc(child));
        }
    }
    if texts.iter().any(|t| says(t)) {
        return true;
    }
    let host = root
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .and_then(|u| u.split("://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase);
    if texts.iter().any(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("api url") || host.as_deref().is_some_and(|h| t.contains(h))
    }) {
        return false;
    }
    let last = r.entity.rsplit(['_', '-']).next().unwrap_or(r.entity);
    let words = [
        last.to_ascii_lowercase(),
        singular(last).to_ascii_lowercase(),
    ];
    root.pointer("/info/description")
        .and_then(Value::as_str)
        .is_some_and(|d| {
            d.split(['.', ';', '\n']).any(|sentence| {
                let low = sentence.to_ascii_lowercase();
                says(sentence) && words.iter().any(|w| low.contains(w.as_str()))
            })
        })
}

fn entity_of<'a>(r: &RawOp<'a>) -> &'a str {
    r.op.get("x-airbyte-entity")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// How `get` names a record: `id` if the record has one, else a top-level property the
/// path parameter ends with (`project_slug` → `slug`).
fn record_key(shape: &Shape, id_param: Option<&str>) -> Key {
    let Kind::Object(obj) = &shape.kind else {
        return Key::None;
    };
    if let Some(p) = obj.props.iter().find(|p| p.name == "id") {
        return match (&p.shape.kind, p.shape.hint) {
            (Kind::Str, Hint::Id) => Key::Ulid,
            (Kind::Int, _) => Key::Int,
            _ => Key::Field("id".into()),
        };
    }
    let Some(param) = id_param else {
        return Key::None;
    };
    obj.props
        .iter()
        .filter(|p| matches!(p.shape.kind, Kind::Str | Kind::Int))
        .find(|p| {
            param == p.name
                || param.ends_with(&format!("_{}", p.name))
                || param.ends_with(&format!("-{}", p.name))
        })
        .map_or(Key::None, |p| Key::Field(p.name.clone()))
}

/// The body properties of a POST read as parameter objects (`{name, in: "body", required,
/// schema}`), or `None` when the operation is not served: no `application/json`
/// `requestBody`, a GraphQL body (`x-airbyte-body-type`), or a schema that is not an
/// object with `properties` (`$ref`s and `allOf` followed).
fn body_params(root: &Value, op: &Value) -> Option<Vec<Value>> {
    if op.get("x-airbyte-body-type").is_some() {
        return None;
    }
    let body = resolve(root, op.get("requestBody")?).0;
    if body.get("x-airbyte-body-type").is_some() {
        return None;
    }
    body_props(root, op)
}

/// The properties of the `application/json` object schema of an operation's
/// `requestBody` as parameter objects (see [`body_params`]), whatever its body type (the
/// inputs of a GraphQL mutation); `None` without such a schema.
fn body_props(root: &Value, op: &Value) -> Option<Vec<Value>> {
    let body = resolve(root, op.get("requestBody")?).0;
    let content = body.get("content")?.as_object()?;
    let media = content.iter().find_map(|(k, v)| {
        let mime = k.split(';').next().unwrap_or("").trim();
        mime.eq_ignore_ascii_case("application/json").then_some(v)
    })?;
    let schema = flat(root, media.get("schema")?);
    if ops::type_name(&schema).as_deref() != Some("object") {
        return None;
    }
    schema_props(&schema).filter(|p| !p.is_empty())
}

/// The properties of an object schema (already [`flat`]) as parameter objects `in: body`
/// (`{name, in: "body", required, schema}`); `None` when it has no `properties` object.
fn schema_props(schema: &Value) -> Option<Vec<Value>> {
    let props = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    Some(
        props
            .iter()
            .map(|(name, s)| {
                serde_json::json!({
                    "name": name,
                    "in": "body",
                    "required": required.contains(&name.as_str()),
                    "schema": s,
                })
            })
            .collect(),
    )
}

/// The body of a POST download as parameter objects: none when it declares no
/// `requestBody`; `None` (not served) for a GraphQL body or a body that is not an
/// `application/json` object with `properties`.
fn json_body_or_none(root: &Value, op: &Value) -> Option<Vec<Value>> {
    if op.get("x-airbyte-body-type").is_some() {
        return None;
    }
    match op.get("requestBody") {
        None => Some(Vec::new()),
        Some(_) => body_params(root, op),
    }
}

/// The body of a write operation: its properties as parameter objects (an object with
/// `properties`; else none) and how it is read, `None` when it declares no `requestBody`
/// (it takes no body). Served bodies: `application/json` (or `+json`) and
/// `application/x-www-form-urlencoded` ones whose schema (that of the first such media
/// type) is an object with properties, an object without (free-form), or, in JSON only, an
/// array. `None` (not served) for an `x-airbyte-body-type` (GraphQL) or any other body.
fn write_body(root: &Value, op: &Value) -> Option<(Vec<Value>, Option<RawBody>)> {
    if op.get("x-airbyte-body-type").is_some() {
        return None;
    }
    let Some(body) = op.get("requestBody") else {
        return Some((Vec::new(), None));
    };
    let body = resolve(root, body).0;
    if body.get("x-airbyte-body-type").is_some() {
        return None;
    }
    let content = body.get("content")?.as_object()?;
    let mut media = Vec::new();
    let mut schema = None;
    for (k, v) in content {
        let mime = k
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let m = if mime == "application/json" || mime.ends_with("+json") {
            Media::Json
        } else if mime == "application/x-www-form-urlencoded" {
            Media::Form
        } else {
            continue;
        };
        if !media.contains(&m) {
            media.push(m);
        }
        if schema.is_none() {
            schema = Some(
                v.get("schema")
                    .cloned()
                    .unwrap_or(Value::Object(Map::new())),
            );
        }
    }
    let schema = flat(root, &schema?);
    let (params, kind) = match ops::type_name(&schema).as_deref() {
        Some("array") => {
            // A form cannot carry a top-level array.
            media.retain(|m| *m == Media::Json);
            let items = flat(root, schema.get("items").unwrap_or(&Value::Null));
            let kind = match schema_props(&items) {
                Some(props) if !props.is_empty() => RawKind::ArrayOf(props),
                _ => RawKind::ArrayValue(serde_json::json!({
                    "name": "item",
                    "in": "body",
                    "required": true,
                    "schema": items,
                })),
            };
            (Vec::new(), kind)
        }
        Some("object") | None => match schema_props(&schema) {
            Some(props) if !props.is_empty() => (props, RawKind::Object),
            _ => (Vec::new(), RawKind::Free),
        },
        _ => return None,
    };
    if media.is_empty() {
        return None;
    }
    let schema = inline_schema(root, &schema, 0);
    Some((
        params,
        Some(RawBody {
            media,
            kind,
            schema,
        }),
    ))
}

/// A schema with `$ref`s followed (see [`flat`]) in it and in its `properties`, `items` and
/// `additionalProperties`, down to [`MAX_OBJECT_DEPTH`] levels (deeper ones are `{}`).
fn inline_schema(root: &Value, v: &Value, depth: usize) -> Value {
    if depth > MAX_OBJECT_DEPTH {
        return Value::Object(Map::new());
    }
    let mut v = flat(root, v);
    if let Some(obj) = v.as_object_mut() {
        if let Some(Value::Object(props)) = obj.get_mut("properties") {
            for p in props.values_mut() {
                *p = inline_schema(root, p, depth + 1);
            }
        }
        for k in ["items", "additionalProperties"] {
            if let Some(inner) = obj.get_mut(k).filter(|i| i.is_object()) {
                *inner = inline_schema(root, inner, depth + 1);
            }
        }
    }
    v
}

/// The body property of an update or delete without a path id that names its record: `id`,
/// the entity's singular, `<singular>_id` or `<singular>Id` (record properties or not), else
/// what [`pick_body_id`] picks.
fn pick_write_body_id(params: &[ParamDef], entity: &str, props: &[&str]) -> Option<String> {
    let one = singular(entity);
    let names = [
        "id".to_string(),
        format!("{one}_id"),
        format!("{one}Id"),
        one,
    ];
    names
        .iter()
        .find_map(|n| {
            params
                .iter()
                .find(|p| p.loc == Loc::Body && matches!(p.kind, PKind::Scalar(_)) && p.name == *n)
        })
        .map(|p| p.name.clone())
        .or_else(|| pick_body_id(params, entity, props))
}

/// The body property of a `get` without a path id that names the record by its key, when
/// it is not itself a record property (those are equality lookups): `id`, the entity's
/// singular (`user` of `users`), `<singular>_id` / `<singular>Id`, else the only required
/// scalar body property that names no record property.
fn pick_body_id(params: &[ParamDef], entity: &str, props: &[&str]) -> Option<String> {
    let candidates: Vec<&ParamDef> = params
        .iter()
        .filter(|p| {
            p.loc == Loc::Body
                && matches!(p.kind, PKind::Scalar(_))
                && !props.contains(&p.name.as_str())
        })
        .collect();
    let one = singular(entity);
    let names = [
        "id".to_string(),
        one.clone(),
        format!("{one}_id"),
        format!("{one}Id"),
    ];
    names
        .iter()
        .find_map(|n| candidates.iter().find(|p| p.name == *n))
        .or_else(
            || match candidates.iter().filter(|p| p.required).collect::<Vec<_>>()[..] {
                [only] => Some(only),
                _ => None,
            },
        )
        .map(|p| p.name.clone())
}

/// Path-item and operation parameters, `$ref`s resolved (operation wins on name clashes).
fn collect_params<'a>(root: &'a Value, item: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    let mut out: Vec<&Value> = Vec::new();
    for src in [op, item] {
        for p in src
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let p = resolve(root, p).0;
            let name = p.get("name").and_then(Value::as_str);
            if out
                .iter()
                .any(|q| q.get("name").and_then(Value::as_str) == name)
            {
                continue;
            }
            out.push(p);
        }
    }
    out
}

/// The JSON schema of the first 2xx response (`application/json`, else the first media
/// type), unresolved.
fn response_schema(root: &Value, op: &Value) -> Option<Value> {
    let responses = op.get("responses")?.as_object()?;
    let resp = responses
        .iter()
        .find(|(code, _)| code.starts_with('2'))
        .map(|(_, r)| r)?;
    let resp = resolve(root, resp).0;
    let content = resp.get("content")?.as_object()?;
    let media = content
        .get("application/json")
        .or_else(|| content.values().next())?;
    media.get("schema").cloned()
}

/// The success answer of a write: the lowest 2xx status declared (`2XX` counts as 200;
/// 200 when none is) and its `application/json` schema, unresolved (`None` without JSON
/// content: the answer has no body).
fn write_response(root: &Value, op: &Value) -> (u16, Option<Value>) {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return (200, None);
    };
    let best = responses
        .iter()
        .filter_map(|(code, r)| {
            let code = code.trim();
            let status = if code.eq_ignore_ascii_case("2XX") {
                200
            } else {
                code.parse::<u16>()
                    .ok()
                    .filter(|c| (200..300).contains(c))?
            };
            Some((status, r))
        })
        .min_by_key(|(status, _)| *status);
    let Some((status, resp)) = best else {
        return (200, None);
    };
    let schema = resolve(root, resp)
        .0
        .get("content")
        .and_then(Value::as_object)
        .and_then(|content| {
            content.iter().find_map(|(k, v)| {
                let mime = k.split(';').next().unwrap_or("").trim();
                let json = mime.eq_ignore_ascii_case("application/json")
                    || mime.to_ascii_lowercase().ends_with("+json");
                json.then(|| {
                    v.get("schema")
                        .cloned()
                        .unwrap_or(Value::Object(Map::new()))
                })
            })
        });
    (status, schema)
}

/// A schema with `$ref`s followed, `[X, null]` alternatives reduced to `X`, and `allOf`
/// parts merged (properties and `type`).
fn flat(root: &Value, v: &Value) -> Value {
    let mut v = resolve(root, v).0.clone();
    for _ in 0..8 {
        let alts = ["oneOf", "anyOf"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_array).cloned());
        let Some(alts) = alts else { break };
        let non_null: Vec<&Value> = alts
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        match non_null.first() {
            Some(a) => v = resolve(root, a).0.clone(),
            None => break,
        }
    }
    if let Some(parts) = v.get("allOf").and_then(Value::as_array).cloned() {
        let mut merged = v.as_object().cloned().unwrap_or_default();
        merged.remove("allOf");
        let mut props = merged
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for part in &parts {
            let p = flat(root, part);
            if let Some(pp) = p.get("properties").and_then(Value::as_object) {
                for (k, s) in pp {
                    props.entry(k.clone()).or_insert_with(|| s.clone());
                }
            }
            for k in ["type", "items"] {
                if !merged.contains_key(k) {
                    if let Some(t) = p.get(k) {
                        merged.insert(k.into(), t.clone());
                    }
                }
            }
        }
        if !props.is_empty() {
            merged.insert("properties".into(), Value::Object(props));
        }
        v = Value::Object(merged);
    }
    v
}

fn is_array_schema(root: &Value, v: &Value) -> bool {
    ops::type_name(&flat(root, v)).as_deref() == Some("array")
}

fn child_schema(root: &Value, v: &Value, field: &str) -> Option<Value> {
    flat(root, v).get("properties")?.get(field).cloned()
}

fn items_schema(root: &Value, v: &Value) -> Option<Value> {
    flat(root, v).get("items").cloned()
}

/// Array-valued properties of an object schema (what `[*]` over an object visits).
fn array_members(root: &Value, v: &Value) -> Vec<(String, Value)> {
    let f = flat(root, v);
    if ops::type_name(&f).as_deref() == Some("array") {
        return Vec::new();
    }
    f.get("properties")
        .and_then(Value::as_object)
        .map(|ps| {
            ps.iter()
                .filter(|(_, s)| is_array_schema(root, s))
                .map(|(k, s)| (k.clone(), s.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The schema an extractor path leads to in the 200 schema (`None` where the schema does
/// not say).
fn walk(root: &Value, segs: &[Seg], mut node: Value) -> Option<Value> {
    for seg in segs {
        node = match seg {
            Seg::Field(f) => child_schema(root, &node, f)?,
            Seg::Index(_) => items_schema(root, &node)?,
            Seg::Wild => match items_schema(root, &node) {
                Some(items) if is_array_schema(root, &node) => items,
                _ => array_members(root, &node).into_iter().next()?.1,
            },
        };
    }
    Some(node)
}

/// The record schema of an operation: where its extractor leads in the 200 schema (the
/// items, when that is an array); the whole 200 schema when the path is not in it (a get
/// declaring the record itself); an empty object when there is no 200 schema.
fn op_record_schema(root: &Value, r: &RawOp<'_>) -> Value {
    let resp = if r.action.is_write() {
        write_response(root, r.op).1
    } else {
        response_schema(root, r.op)
    };
    let Some(resp) = resp else {
        return Value::Object(Map::new());
    };
    let node = walk(root, &r.extractor, resp.clone()).unwrap_or(resp);
    if is_array_schema(root, &node) {
        if let Some(items) = items_schema(root, &node) {
            return items;
        }
    }
    node
}

/// Where the records go in the body (see `envelope.rs`).
fn build_tpl(root: &Value, segs: &[Seg], node: Option<&Value>) -> Tpl {
    let Some((first, rest)) = segs.split_first() else {
        return Tpl::Slot;
    };
    match first {
        Seg::Field(f) => Tpl::Obj(
            f.clone(),
            Box::new(build_tpl(
                root,
                rest,
                node.and_then(|n| child_schema(root, n, f)).as_ref(),
            )),
        ),
        Seg::Index(n) => Tpl::Index(
            *n,
            Box::new(build_tpl(
                root,
                rest,
                node.and_then(|n| items_schema(root, n)).as_ref(),
            )),
        ),
        Seg::Wild => {
            if let Some(n) = node {
                let members = array_members(root, n);
                if !members.is_empty() {
                    return Tpl::Split(
                        members
                            .iter()
                            .map(|(k, s)| (k.clone(), build_tpl(root, rest, Some(s))))
                            .collect(),
                    );
                }
            }
            let items = node.and_then(|n| items_schema(root, n));
            if rest.is_empty() {
                return Tpl::Spread(Box::new(Tpl::Slot));
            }
            let inner = Box::new(build_tpl(root, rest, items.as_ref()));
            let holds_list = items
                .and_then(|it| walk(root, rest, it))
                .is_some_and(|end| is_array_schema(root, &end));
            if holds_list {
                Tpl::Group(inner)
            } else {
                Tpl::Spread(inner)
            }
        }
    }
}

fn ref_name(v: &Value) -> Option<String> {
    v.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .map(str::to_string)
}

/// Follows `$ref` chains (local JSON pointers only). Returns the target and the last ref name.
fn resolve<'a>(root: &'a Value, mut v: &'a Value) -> (&'a Value, Option<String>) {
    let mut name = None;
    for _ in 0..32 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(ptr) = r.strip_prefix('#') else {
            break;
        };
        match root.pointer(ptr) {
            Some(t) => {
                name = r.rsplit('/').next().map(str::to_string);
                v = t;
            }
            None => break,
        }
    }
    (v, name)
}

struct Compiler<'a> {
    root: &'a Value,
    schema_entity: HashMap<String, usize>,
    entity_names: Vec<String>,
    entity_nouns: Vec<String>,
}

impl Compiler<'_> {
    /// The shape of an entity's records (always an object; `reference` noted).
    fn record_shape(&self, schema: &Value, name: &str, names: &Names) -> (Shape, bool) {
        let mut stack = Vec::new();
        let mut shape = self.compile(schema, &singular(name), &mut stack, 0);
        // The top-level object is the entity itself, not a link to it.
        let has_reference = match &mut shape.kind {
            Kind::Object(obj) => {
                obj.link = None;
                obj.names = names.clone();
                obj.person = names.noun_lower.contains("user");
                obj.props.iter().any(|p| p.name == "reference")
            }
            _ => {
                shape = Shape::new(
                    Kind::Object(Box::new(ObjShape {
                        props: Vec::new(),
                        additional: None,
                        names: names.clone(),
                        link: None,
                        person: false,
                        union: false,
                    })),
                    Hint::Plain,
                );
                false
            }
        };
        shape.nullable = false;
        (shape, has_reference)
    }

    fn compile(&self, schema: &Value, key: &str, stack: &mut Vec<String>, depth: usize) -> Shape {
        // $ref (siblings such as `description` are ignored; `nullable` is honoured).
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r).to_string();
            let sibling_nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
            if stack.contains(&name) {
                return Shape::new(Kind::Truncated, Hint::Plain);
            }
            let (target, _) = resolve(self.root, schema);
            if target.get("$ref").is_some() {
                return Shape::new(Kind::Any, Hint::Plain); // unresolvable
            }
            stack.push(name.clone());
            let mut shape = self.compile_inline(target, key, Some(&name), stack, depth);
            stack.pop();
            shape.nullable |= sibling_nullable;
            return shape;
        }
        self.compile_inline(schema, key, None, stack, depth)
    }

    fn compile_inline(
        &self,
        schema: &Value,
        key: &str,
        ref_name: Option<&str>,
        stack: &mut Vec<String>,
        depth: usize,
    ) -> Shape {
        // allOf: merge properties/required of the parts.
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = schema.as_object().cloned().unwrap_or_default();
            merged.remove("allOf");
            let mut props = merged
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let mut required: Vec<Value> = merged
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut ty = merged.get("type").cloned();
            let mut flat_parts: Vec<&Value> = Vec::new();
            let mut todo: Vec<&Value> = parts.iter().rev().collect();
            while let Some(part) = todo.pop() {
                let (p, _) = resolve(self.root, part);
                match p.get("allOf").and_then(Value::as_array) {
                    Some(inner) if flat_parts.len() + todo.len() < 64 => {
                        flat_parts.push(p);
                        todo.extend(inner.iter().rev());
                    }
                    _ => flat_parts.push(p),
                }
            }
            for p in flat_parts {
                if let Some(pp) = p.get("properties").and_then(Value::as_object) {
                    for (k, v) in pp {
                        props.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                if let Some(r) = p.get("required").and_then(Value::as_array) {
                    required.extend(r.iter().cloned());
                }
                if ty.is_none() {
                    ty = p.get("type").cloned();
                }
            }
            if !props.is_empty() {
                merged.insert("properties".into(), Value::Object(props));
                merged.insert("type".into(), Value::String("object".into()));
            } else if let Some(t) = ty {
                merged.insert("type".into(), t);
            }
            merged.insert("required".into(), Value::Array(required));
            return self.compile_inline(&Value::Object(merged), key, ref_name, stack, depth);
        }
        // oneOf/anyOf: `[X, null]` is a nullable X; several non-null alternatives give a
        // value of one of them per record (an `id` always takes the first, so ids stay
        // stable and unique); only `null` alternatives give `null`.
        for k in ["oneOf", "anyOf"] {
            if let Some(alts) = schema.get(k).and_then(Value::as_array) {
                let is_null = |v: &Value| {
                    let (v, _) = resolve(self.root, v);
                    v.get("type").and_then(Value::as_str) == Some("null")
                };
                let nullable = alts.iter().any(is_null);
                let non_null: Vec<&Value> = alts.iter().filter(|a| !is_null(a)).collect();
                let mut s = match non_null.as_slice() {
                    [] => Shape::new(Kind::Null, Hint::Plain),
                    [alt] => self.compile(alt, key, stack, depth),
                    [alt, ..] if key == "id" => self.compile(alt, key, stack, depth),
                    alts => Shape::new(
                        Kind::OneOf(
                            alts.iter()
                                .map(|a| self.compile(a, key, stack, depth))
                                .collect(),
                        ),
                        Hint::Plain,
                    ),
                };
                s.nullable |= nullable;
                return s;
            }
        }
        // `type: [integer, string, "null"]`: one of the non-null types per record.
        if let Some(Value::Array(ts)) = schema.get("type") {
            let types: Vec<&str> = ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            if types.len() >= 2 && key != "id" {
                let nullable = types.len() < ts.len();
                let alts = types
                    .iter()
                    .map(|t| {
                        let mut one = schema.as_object().cloned().unwrap_or_default();
                        one.insert("type".into(), Value::String((*t).to_string()));
                        if *t != "string" {
                            one.remove("format");
                        }
                        self.compile_inline(&Value::Object(one), key, ref_name, stack, depth)
                    })
                    .collect();
                let mut s = Shape::new(Kind::OneOf(alts), Hint::Plain);
                s.nullable = nullable;
                return s;
            }
        }

        let mut nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
        let mut ty: Option<String> = None;
        match schema.get("type") {
            Some(Value::String(t)) if t == "null" => nullable = true,
            Some(Value::String(t)) => ty = Some(t.clone()),
            Some(Value::Array(ts)) => {
                for t in ts.iter().filter_map(Value::as_str) {
                    if t == "null" {
                        nullable = true;
                    } else if ty.is_none() {
                        ty = Some(t.to_string());
                    }
                }
            }
            _ => {}
        }
        let enum_vals: Vec<Value> = schema
            .get("enum")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter(|x| !x.is_null()).cloned().collect())
            .unwrap_or_default();
        if ty.is_none() {
            ty = if schema.get("properties").is_some()
                || schema.get("additionalProperties").is_some()
            {
                Some("object".into())
            } else if schema.get("items").is_some() {
                Some("array".into())
            } else {
                enum_vals.first().map(|v| {
                    match v {
                        Value::Bool(_) => "boolean",
                        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                        Value::Number(_) => "number",
                        _ => "string",
                    }
                    .to_string()
                })
            };
        }
        let only_null = match schema.get("type") {
            Some(Value::String(t)) => t == "null",
            Some(Value::Array(ts)) => !ts.is_empty() && ts.iter().all(|t| t == "null"),
            _ => false,
        };
        let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
        let num = |k: &str| schema.get(k).and_then(Value::as_f64);
        let kind = match ty.as_deref() {
            _ if only_null => Kind::Null,
            Some("string") => Kind::Str,
            Some("integer") => Kind::Int,
            Some("number") => Kind::Num,
            Some("boolean") => Kind::Bool,
            Some("array") => {
                let item_key = singular(key);
                match schema.get("items") {
                    Some(items) if items.is_object() => {
                        Kind::Array(Box::new(self.compile(items, &item_key, stack, depth)))
                    }
                    _ => Kind::Array(Box::new(Shape::new(Kind::Any, Hint::Plain))),
                }
            }
            Some("object") => {
                if depth >= MAX_OBJECT_DEPTH {
                    Kind::Truncated
                } else {
                    Kind::Object(Box::new(self.object(schema, key, ref_name, stack, depth)))
                }
            }
            _ => Kind::Any,
        };
        let hint = hint_for(key, &kind, format, &self.entity_names);
        Shape {
            kind,
            nullable,
            enum_vals,
            hint,
            min: num("minimum"),
            max: num("maximum"),
        }
    }

    fn object(
        &self,
        schema: &Value,
        key: &str,
        ref_name: Option<&str>,
        stack: &mut Vec<String>,
        depth: usize,
    ) -> ObjShape {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut props = Vec::new();
        if let Some(ps) = schema.get("properties").and_then(Value::as_object) {
            for (name, ps) in ps {
                let shape = self.compile(ps, name, stack, depth + 1);
                props.push(Prop {
                    key_json: format!("{}:", json_string(name)),
                    salt: hash_str(name),
                    name: name.clone(),
                    required: required.contains(&name.as_str()),
                    shape,
                });
            }
        }
        let additional = match schema.get("additionalProperties") {
            Some(v) if v.is_object() && props.is_empty() => {
                Some(self.compile(v, &singular(key), stack, depth + 1))
            }
            Some(Value::Bool(true)) if props.is_empty() => Some(Shape::new(Kind::Str, Hint::Plain)),
            _ => None,
        };
        let link = ref_name.and_then(|n| {
            self.schema_entity.get(n).copied().or_else(|| {
                n.strip_suffix("Ref")
                    .and_then(|base| self.schema_entity.get(base).copied())
            })
        });
        let noun = match ref_name {
            Some(n) => humanize(&snake(n.strip_suffix("Ref").unwrap_or(n))),
            None => humanize(key),
        };
        let lower = noun.to_ascii_lowercase();
        // `RelatedIncident` / inline `new_incident_status`: the noun ends with an entity's noun.
        let link = link.or_else(|| {
            self.entity_nouns
                .iter()
                .position(|en| lower == *en || lower.ends_with(&format!(" {en}")))
        });
        let person =
            lower.contains("user") || matches!(key, "assignee" | "user" | "owner" | "responder");
        let union = props.len() >= 3
            && props.iter().all(|p| !p.required)
            && (props
                .iter()
                .all(|p| matches!(p.shape.kind, Kind::Object(_)))
                || props[0].name.split_once('_').is_some_and(|(prefix, _)| {
                    props
                        .iter()
                        .all(|p| p.name.starts_with(&format!("{prefix}_")))
                }));
        ObjShape {
            props,
            additional,
            union,
            names: Names::new(
                &noun,
                if lower.contains("incident") {
                    "INC"
                } else {
                    "REF"
                },
                "objects",
            ),
            link,
            person,
        }
    }
}

/// Precomputed naming strings of an entity or a nested object, so generating a record
/// needs no per-value allocation.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    /// The human noun (e.g. `Incident status`) JSON-escaped, without quotes.
    pub noun_json: String,
    /// The noun in lowercase.
    pub noun_lower: String,
    /// The noun as a slug, e.g. `incident-status`.
    pub noun_slug: String,
    /// Prefix of `reference` values, e.g. `INC`.
    pub ref_prefix: String,
    /// `ref_prefix` as a slug, e.g. `inc`.
    pub ref_slug: String,
    /// URL path segment (JSON-escaped), e.g. `incidents`.
    pub url_seg: String,
    /// Hash of the noun, for pooled ids and topics.
    pub salt: u64,
}

impl Names {
    pub(crate) fn new(noun: &str, ref_prefix: &str, url_seg: &str) -> Names {
        let inner = |s: &str| {
            let j = json_string(s);
            j[1..j.len() - 1].to_string()
        };
        let slug = |s: &str| {
            let mut out = String::new();
            for c in s.chars() {
                if c.is_ascii_alphanumeric() {
                    out.push(c.to_ascii_lowercase());
                } else if !out.is_empty() && !out.ends_with('-') {
                    out.push('-');
                }
            }
            out.trim_end_matches('-').to_string()
        };
        Names {
            noun_json: inner(noun),
            noun_lower: noun.to_lowercase(),
            noun_slug: slug(noun),
            ref_prefix: inner(ref_prefix),
            ref_slug: slug(ref_prefix),
            url_seg: inner(url_seg),
            salt: hash_str(noun),
        }
    }
}

impl Shape {
    fn new(kind: Kind, hint: Hint) -> Shape {
        Shape {
            kind,
            nullable: false,
            enum_vals: Vec::new(),
            hint,
            min: None,
            max: None,
        }
    }
}

/// Guesses what a value means from its property name (array items get the singular name).
fn hint_for(key: &str, kind: &Kind, format: &str, entities: &[String]) -> Hint {
    let k = key.to_ascii_lowercase();
    match kind {
        Kind::Str => {}
        Kind::Int | Kind::Num => {
            return match k.as_str() {
                "rank" => Hint::Rank,
                "sort_key" | "position" | "order" => Hint::SortKey,
                _ if k.contains("seconds") || k.contains("minutes") || k.ends_with("_duration") => {
                    Hint::Seconds
                }
                "external_id" | "number" => Hint::Ordinal,
                "interval" | "version" | "count" => Hint::Small,
                _ => Hint::Plain,
            };
        }
        Kind::Bool => {
            return if matches!(k.as_str(), "is_active" | "enabled" | "active") {
                Hint::MostlyTrue
            } else {
                Hint::Plain
            };
        }
        Kind::Array(_) => {
            // How many items real records carry (used by `RecordShape::RealShaped`).
            return match k.as_str() {
                _ if k.ends_with("role_assignments") => Hint::Items(2, 3),
                _ if k.ends_with("timestamp_values") => Hint::Items(4, 6),
                "custom_field_entries" => Hint::Items(1, 1),
                "duration_metrics" => Hint::Items(1, 2),
                _ => Hint::Plain,
            };
        }
        _ => return Hint::Plain,
    }
    match format {
        "date-time" => return Hint::Timestamp(start_like(&k)),
        "date" => return Hint::Date,
        "uri" | "url" => return Hint::Url,
        "email" => return Hint::Email,
        _ => {}
    }
    match k.as_str() {
        "id" => Hint::Id,
        "name" => Hint::Name,
        "title" | "headline" => Hint::Title,
        "reference" => Hint::Reference,
        "email" => Hint::Email,
        "permalink" => Hint::Url,
        "timezone" | "time_zone" => Hint::Timezone,
        "start_time" | "end_time" => Hint::ClockTime,
        "slug" => Hint::Slug,
        "shortform" | "short_name" => Hint::Shortform,
        "emoji" | "icon" => Hint::Emoji,
        "value_numeric" => Hint::Decimal,
        "deduplication_key" | "fingerprint" | "hash" | "checksum" => Hint::Hex,
        "country_code" | "country" => Hint::Country,
        "summary" | "description" | "message" | "instructions" | "value_text" | "body"
        | "details" | "content" | "text" => Hint::Text,
        _ if k.ends_with("_at") => Hint::Timestamp(start_like(&k)),
        _ if k.ends_with("url") || k.ends_with("permalink") || k.ends_with("link") => Hint::Url,
        _ if k.starts_with("slack_") && k.ends_with("_id") => {
            let prefix = if k.contains("channel") {
                b'C'
            } else if k.contains("team") {
                b'T'
            } else {
                b'U'
            };
            Hint::SlackId(prefix)
        }
        _ if k.ends_with("_id") => {
            // `merged_into_incident_id` → try `merged_into_incident`, `into_incident`, `incident`.
            let mut base = &k[..k.len() - 3];
            loop {
                if let Some(e) = find_entity(base, entities) {
                    break Hint::ForeignId(Some(e));
                }
                match base.split_once('_') {
                    Some((_, rest)) => base = rest,
                    None => break Hint::ForeignId(None),
                }
            }
        }
        _ if k.ends_with("_name") => Hint::Slug,
        _ => Hint::Plain,
    }
}

fn start_like(name: &str) -> bool {
    ["created", "start", "effective", "occurred", "from"]
        .iter()
        .any(|w| name.contains(w))
}

/// `incident` → index of `incidents` (or `incidentes`, `incidenties` for -y).
fn find_entity(base: &str, entities: &[String]) -> Option<usize> {
    let candidates = [
        format!("{base}s"),
        format!("{base}es"),
        base.strip_suffix('y')
            .map(|b| format!("{b}ies"))
            .unwrap_or_default(),
    ];
    candidates
        .iter()
        .filter(|c| !c.is_empty())
        .find_map(|c| entities.iter().position(|e| e == c))
}

/// Naive English singular: `severities` → `severity`, `statuses` → `status`, `ids` → `id`.
pub(crate) fn singular(s: &str) -> String {
    if let Some(b) = s.strip_suffix("ies") {
        return format!("{b}y");
    }
    for suf in ["sses", "uses", "xes", "ches", "shes"] {
        if s.ends_with(suf) {
            return s[..s.len() - 2].to_string();
        }
    }
    if let Some(b) = s.strip_suffix('s') {
        if !b.ends_with('s') {
            return b.to_string();
        }
    }
    s.to_string()
}

/// `IncidentStatus` → `incident_status`.
fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `incident_status` → `Incident status`.
pub(crate) fn humanize(s: &str) -> String {
    let words = s.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "Item".to_string(),
    }
}

/// splitmix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a string, then mixed.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// JSON-encodes a string (with quotes).
pub(crate) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_json_string(&mut out, s);
    out
}

/// Appends a JSON-encoded string (with quotes).
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

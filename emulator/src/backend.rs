//! The transport-independent core: given an operation and its parameters it answers with
//! the JSON body (and headers) the API would send, or an [`ApiError`].
//!
//! The spec routes in `server.rs` call [`Backend::answer`]; the Airbyte-style `/execute`
//! route calls [`Backend::execute`] with the entity, action and parameters from its request
//! body and gets the same records in its own envelope.
//!
//! # Pagination on the wire
//!
//! Records are served in index order; a page is a contiguous run of the records that pass
//! the list's filters. The request names its position with the list's state parameter and
//! its size with the page-size parameter, both query parameters or members of a POST
//! read's JSON body (size absent: the parameter's default, else 25; above the maximum:
//! clamped, or a 422 when oversized pages are rejected; below the minimum or not an
//! integer: 422). Next positions: a cursor is the id of the last record of the page
//! when records have emulator ids (incident.io's `after`), else an opaque token; a page
//! number is the current one plus one; an offset is the current offset plus the records
//! returned. The last page announces no next position (see `ops.rs` for how it is carried).
//!
//! # Writes
//!
//! [`Backend::write`] runs a `create`, `update` or `delete` against the write store
//! (`writes.rs`), and every read sees the result: a `get` finds created and updated records
//! and answers 404 for deleted ones; a list serves updated records in place, skips deleted
//! ones and serves created ones after the synthesized ones (on the later pages), each once.
//! A created record is the record the generator makes at its position (the next index, so a
//! fresh id), with the path parameters naming record properties (a card's `board_id`) and
//! the declared body properties sent set on it. An update sets the declared body properties
//! sent (`PATCH`, `POST`), or for a `PUT` also removes those of the body schema not sent;
//! the id and fields outside the body schema stay. Body members the operation does not
//! declare are ignored; a free-form body's members naming record properties are set, and
//! an array body sets the array properties its elements speak of (see [`from_elements`]).
//! A write-only entity's writes each make a fresh record that nothing reads back, once
//! its parents (`board_id`) are found. The answer has the lowest 2xx status the operation
//! declares: the record where the record extractor puts it, nothing for a bodiless answer
//! (a 204), and for a delete that declares its own answer schema (`{archived, id}`) an
//! object of that schema with `id` the deleted record's id and top-level booleans `true`.
//! Lists scoped by a parent path parameter (`/boards/{board_id}/cards`) are not filtered
//! by it, created records included. The store is per emulator, behind a lock, and never
//! changes [`Backend::record`] (the synthesized data).

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{Map, Value};

use super::bodies;
use super::data::{RecordShape, Synth};
use super::envelope::{Fill, Node};
use super::ops::{self, wire_text, Carrier, Loc, MetaSrc, Paging, Role, State};
use super::routes::Verb;
use super::spec::{
    self, percent_encode, Action, BodyDef, BodyKind, Catalog, Items, Key, Kind, Media, Shape,
};
use super::writes::{self, EntityWrites};

/// Entities with at most this many records keep every rendered record in memory.
const CACHE_LIMIT: usize = 20_000;
/// Default record count of a paginated entity.
pub(crate) const DEFAULT_PAGINATED_COUNT: usize = 50;
/// Default record count of an unpaginated entity.
pub(crate) const DEFAULT_UNPAGINATED_COUNT: usize = 5;

/// Request parameters: path and query parameters, already percent-decoded, and a POST
/// read's body members as pairs (`ops::body_pairs`). Lookups return the first value for a
/// name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    /// First value of the parameter `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An incident.io-shaped error (`{type, status, request_id, errors: [{code, message, source?}]}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Top-level `type`, e.g. `validation_error`.
    pub error_type: &'static str,
    /// `errors[0].code`.
    pub code: &'static str,
    /// `errors[0].message`.
    pub message: String,
    /// `errors[0].source.field`, when a parameter is at fault.
    pub field: Option<String>,
}

impl ApiError {
    pub(crate) fn invalid(field: &str, message: String) -> ApiError {
        ApiError {
            status: 422,
            error_type: "validation_error",
            code: "invalid_value",
            message,
            field: Some(field.to_string()),
        }
    }

    pub(crate) fn not_found(message: String) -> ApiError {
        ApiError {
            status: 404,
            error_type: "not_found",
            code: "not_found",
            message,
            field: None,
        }
    }

    /// Renders the error body.
    pub(crate) fn to_json(&self, request_id: &str) -> String {
        let mut errors = serde_json::json!({ "code": self.code, "message": self.message });
        if let (Some(field), Some(obj)) = (&self.field, errors.as_object_mut()) {
            obj.insert("source".into(), serde_json::json!({ "field": field }));
        }
        serde_json::json!({
            "type": self.error_type,
            "status": self.status,
            "request_id": request_id,
            "errors": [errors],
        })
        .to_string()
    }
}

/// Rendered JSON of every record of one entity, filled on first use.
type RenderCache = Box<[OnceLock<Box<str>>]>;

/// Which body an operation is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Envelope {
    /// The API's own, as the record extractor and meta extractor describe it.
    Api,
    /// Airbyte's `/execute`: `{"result": [...], "connector_metadata": {<meta key>: ...}}`
    /// (`{"next_cursor": null}` for a list without meta), written directly (no API body
    /// parsed or copied).
    Execute,
}

/// The synthetic data set plus its render cache, and the write store.
#[derive(Debug)]
pub(crate) struct Backend {
    synth: Synth,
    caches: Vec<Option<RenderCache>>,
    /// A page size above the parameter's maximum is a 422 (incident.io); else clamped.
    reject_oversized: bool,
    /// What writes changed, per entity (same order as the catalog's entities).
    writes: RwLock<Vec<EntityWrites>>,
}

/// What the HTTP side knows about a request, for the URLs an answer carries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wire<'a> {
    /// The `Host` header (next-page URLs are `http://<host><path>?...`).
    pub host: Option<&'a str>,
    /// The path as received (percent-encoded, with any server prefix it had).
    pub path: &'a str,
    /// The decoded query pairs, credentials removed.
    pub query: &'a [(String, String)],
}

/// A response: status, body and extra headers.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// HTTP status (200 for reads; a write's declared success status).
    pub status: u16,
    /// JSON body (empty for a write answering without one).
    pub body: String,
    /// Headers to add (`Link`, a cursor header).
    pub headers: Vec<(String, String)>,
}

impl Backend {
    /// Reads the spec and sizes every entity: `counts` by name, else `default_count`, else
    /// 50 for paginated and 5 for unpaginated entities.
    pub(crate) fn new(
        spec_json: &str,
        seed: u64,
        counts: &HashMap<String, usize>,
        default_count: Option<usize>,
        shape: RecordShape,
        reject_oversized: Option<bool>,
    ) -> Result<Backend, String> {
        let root: Value =
            serde_json::from_str(spec_json).map_err(|e| format!("spec is not valid JSON: {e}"))?;
        let catalog: Catalog = spec::load(&root)?;
        for name in counts.keys() {
            if catalog
                .entity_index(name)
                .is_none_or(|e| !catalog.entities[e].readable)
            {
                tracing::warn!(entity = %name, "emulator: count given for an entity the spec does not serve");
            }
        }
        let counts: Vec<usize> =
            catalog
                .entities
                .iter()
                .map(|e| {
                    if !e.readable {
                        // A write-only entity has no records.
                        return 0;
                    }
                    let n = counts.get(&e.name).copied().or(default_count).unwrap_or(
                        if e.paginated() {
                            DEFAULT_PAGINATED_COUNT
                        } else {
                            DEFAULT_UNPAGINATED_COUNT
                        },
                    );
                    n.min(u32::MAX as usize)
                })
                .collect();
        let caches = counts
            .iter()
            .map(|&n| (n <= CACHE_LIMIT).then(|| (0..n).map(|_| OnceLock::new()).collect()))
            .collect();
        let reject_oversized = reject_oversized.unwrap_or(catalog.connector_name == "incident-io");
        let writes = RwLock::new(vec![EntityWrites::default(); catalog.entities.len()]);
        Ok(Backend {
            synth: Synth::new(catalog, counts, seed, shape),
            caches,
            reject_oversized,
            writes,
        })
    }

    /// The seed of the data set.
    pub(crate) fn seed(&self) -> u64 {
        self.synth.seed()
    }

    /// The record generator.
    pub(crate) fn synth(&self) -> &Synth {
        &self.synth
    }

    pub(crate) fn writes(&self) -> RwLockReadGuard<'_, Vec<EntityWrites>> {
        self.writes.read().unwrap_or_else(|p| p.into_inner())
    }

    fn writes_mut(&self) -> RwLockWriteGuard<'_, Vec<EntityWrites>> {
        self.writes.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets every write: the entities are their synthesized records again (created
    /// positions, and so ids, are handed out anew).
    pub(crate) fn clear_writes(&self) {
        for w in self.writes_mut().iter_mut() {
            *w = EntityWrites::default();
        }
    }

    /// The records created by writes that still exist, oldest first, as a `get` of the
    /// entity's record schema answers them now.
    pub(crate) fn written(&self, entity: &str) -> Vec<Value> {
        let Some(e) = self.readable_index(entity) else {
            return Vec::new();
        };
        let guard = self.writes();
        let w = &guard[e];
        let count = self.synth.counts[e];
        (count..w.limit(count))
            .filter(|&i| w.alive(count, i))
            .filter_map(|i| self.live_record(e, i, w))
            .collect()
    }

    /// Every record of an entity as its list serves it now (synthesized records with
    /// updates, without deleted ones, then the created ones), or `None` for an unknown
    /// entity.
    pub(crate) fn current(&self, entity: &str) -> Option<Vec<Value>> {
        let e = self.readable_index(entity)?;
        let guard = self.writes();
        let w = &guard[e];
        let count = self.synth.counts[e];
        Some(
            w.live(count)
                .filter_map(|i| self.live_record(e, i, w))
                .collect(),
        )
    }

    /// Record `i` of entity `e` in the entity's record schema, overlay applied.
    fn live_record(&self, e: usize, i: usize, w: &EntityWrites) -> Option<Value> {
        let mut out = String::new();
        self.push_record(e, i, &mut out);
        let mut rec: Map<String, Value> = serde_json::from_str(&out).ok()?;
        if let Some(ov) = w.overlay(i) {
            writes::apply(ov, &mut rec);
        }
        Some(Value::Object(rec))
    }

    /// The served entity names (those with a read; not the write-only ones), sorted by
    /// name.
    pub(crate) fn entities(&self) -> Vec<String> {
        self.synth
            .catalog
            .entities
            .iter()
            .filter(|e| e.readable)
            .map(|e| e.name.clone())
            .collect()
    }

    /// Index of the entity with this name when it has records to read (not a write-only
    /// one).
    fn readable_index(&self, entity: &str) -> Option<usize> {
        let catalog = &self.synth.catalog;
        catalog
            .entity_index(entity)
            .filter(|&e| catalog.entities[e].readable)
    }

    /// The parsed spec.
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.synth.catalog
    }

    /// Number of records of an entity.
    pub(crate) fn count(&self, entity: &str) -> Option<usize> {
        self.readable_index(entity).map(|e| self.synth.counts[e])
    }

    /// Record `index` of `entity`, exactly as served.
    pub(crate) fn record(&self, entity: &str, index: usize) -> Option<Value> {
        let e = self.readable_index(entity)?;
        if index >= self.synth.counts[e] {
            return None;
        }
        let mut out = String::new();
        self.push_record(e, index, &mut out);
        serde_json::from_str(&out).ok()
    }

    /// One top-level field of record `index` of `entity`, rendered on its own (cheaper than
    /// the whole record, and equal to the record's value); `None` when the record omits it.
    pub(crate) fn field_value(&self, entity: &str, index: usize, field: &str) -> Option<Value> {
        let e = self.readable_index(entity)?;
        if index >= self.synth.counts[e] {
            return None;
        }
        self.synth.field_value(e, index, field)
    }

    fn push_record(&self, e: usize, i: usize, out: &mut String) {
        match self.caches[e].as_ref().and_then(|c| c.get(i)) {
            Some(cell) => {
                let json = cell.get_or_init(|| {
                    let mut s = String::with_capacity(1024);
                    self.synth.write_record(e, i, &mut s);
                    s.into_boxed_str()
                });
                out.push_str(json);
            }
            None => self.synth.write_record(e, i, out),
        }
    }

    /// Answers `list` or `get` of an entity (the Airbyte `/execute` route): the entity's list
    /// operation (or its get, with the id under the get's path-parameter name).
    pub(crate) fn execute(
        &self,
        entity: &str,
        action: &str,
        params: &Params,
        envelope: Envelope,
    ) -> Result<String, ApiError> {
        let not_served =
            || ApiError::not_found(format!("The emulator does not serve {action} on {entity}"));
        let catalog = &self.synth.catalog;
        let e = catalog.entity_index(entity).ok_or_else(not_served)?;
        let def = &catalog.entities[e];
        let op = match Action::parse(action).ok_or_else(not_served)? {
            Action::List => def.list,
            Action::Get => def.get,
            Action::Create => def.create,
            Action::Update => def.update,
            Action::Delete => def.delete,
            Action::Search => None,
        }
        .ok_or_else(not_served)?;
        self.answer(op, params, None, envelope).map(|a| a.body)
    }

    /// Runs a write of the Airbyte `/execute` route: `params` hold the path parameters and
    /// the body properties flat (`id` stands for the parameter naming the record when that
    /// one is absent); the body is the params named as body properties, plus the body
    /// defaults for those not given (a client always sends them); for a form body, text
    /// values are read as the schema's types as on the wire. A free-form body is every
    /// param but the path, query and header parameters (and `id` standing for the record's
    /// key); an array body is `params.items` (or `params.body`) when that is an array, else
    /// one element made of the params named as the items' properties (plus their
    /// defaults). The body is checked as the API route checks it; a missing path parameter
    /// is a 400. Answers `{"result": <record, or {} without an answer body>,
    /// "connector_metadata": {}}`.
    pub(crate) fn execute_write(
        &self,
        op: usize,
        params: &Map<String, Value>,
    ) -> Result<String, ApiError> {
        let o = &self.synth.catalog.ops[op];
        let key = o.id_param.as_deref().or(o.body_id.as_deref());
        let value = |name: &str| {
            params
                .get(name)
                .filter(|v| !v.is_null())
                .or_else(|| match key {
                    Some(k) if k == name => params.get("id").filter(|v| !v.is_null()),
                    _ => None,
                })
        };
        let mut pairs = Vec::new();
        let mut body = Map::new();
        let mut named: Vec<&str> = Vec::new();
        for p in &o.params {
            match p.loc {
                Loc::Body => {
                    if let Some(v) = value(&p.name).or(p.default.as_ref()) {
                        body.insert(p.name.clone(), v.clone());
                    }
                }
                Loc::Path => match value(&p.name).and_then(wire_text) {
                    Some(t) => {
                        named.push(&p.name);
                        pairs.push((p.name.clone(), t));
                    }
                    None => return Err(ops::missing(&p.name, "path parameter")),
                },
                Loc::Query | Loc::Header => {
                    named.push(&p.name);
                    pairs.extend(
                        value(&p.name)
                            .and_then(wire_text)
                            .map(|t| (p.name.clone(), t)),
                    );
                }
            }
        }
        let body = match &o.body {
            Some(BodyDef {
                kind: BodyKind::Free,
                ..
            }) => Value::Object(
                params
                    .iter()
                    .filter(|(k, v)| {
                        let key_alias = key.is_some() && *k == "id";
                        !(v.is_null() || named.contains(&k.as_str()) || key_alias)
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            Some(BodyDef {
                kind: BodyKind::Array(items),
                ..
            }) => match ["items", "body"]
                .iter()
                .find_map(|k| params.get(*k).filter(|v| v.is_array()))
            {
                Some(given) => given.clone(),
                None => {
                    let element = match items {
                        Items::Object(props) => {
                            let mut element = Map::new();
                            for p in props {
                                if let Some(v) = value(&p.name).or(p.default.as_ref()) {
                                    element.insert(p.name.clone(), v.clone());
                                }
                            }
                            Value::Object(element)
                        }
                        Items::Value(p) => value(&p.name)
                            .cloned()
                            .ok_or_else(|| ops::missing("items", "body property"))?,
                    };
                    Value::Array(vec![element])
                }
            },
            Some(def) if !def.media.contains(&Media::Json) => {
                Value::Object(bodies::coerce_form(&body, &def.schema)?)
            }
            _ => Value::Object(body),
        };
        if let Value::Object(members) = &body {
            for p in o.params.iter().filter(|p| p.loc == Loc::Body) {
                p.check_body(members)?;
            }
        }
        if let (
            Some(BodyDef {
                kind: BodyKind::Array(items),
                ..
            }),
            Value::Array(elements),
        ) = (&o.body, &body)
        {
            bodies::check_items(elements, items)?;
        }
        self.write(op, &Params(pairs), &body, Envelope::Execute)
            .map(|a| a.body)
    }

    /// Runs write operation `op` (see the module docs): `params` hold the path (and query)
    /// parameters, `body` the request body (an object, or an array for an array body),
    /// already checked.
    pub(crate) fn write(
        &self,
        op: usize,
        params: &Params,
        body: &Value,
        envelope: Envelope,
    ) -> Result<Answer, ApiError> {
        let catalog = &self.synth.catalog;
        let o = &catalog.ops[op];
        let e = o.entity;
        let def = &catalog.entities[e];
        let not_found = || {
            ApiError::not_found(format!(
                "We couldn't find a {} with that ID",
                def.names.noun_lower
            ))
        };
        let Some(wd) = &o.write else {
            return Err(ApiError::not_found(format!(
                "The emulator does not serve this write on {}",
                def.name
            )));
        };
        let count = self.synth.counts[e];
        // The fields a write may set: the entity's record properties, or for a write-only
        // entity those of the operation's answer.
        let target = match (&o.shape, def.readable) {
            (Some(shape), false) => shape,
            _ => &def.shape,
        };
        let record_props: &[spec::Prop] = match &target.kind {
            Kind::Object(obj) => &obj.props,
            _ => &[],
        };
        let empty = Map::new();
        let members = body.as_object().unwrap_or(&empty);
        // The body properties that change the record: the declared ones but the id and
        // the one naming the record.
        // A GraphQL mutation's inputs that name no record property (`state_id`, an audit
        // note) are arguments, not fields: they are not stored.
        let declared: Vec<&str> = o
            .params
            .iter()
            .filter(|p| p.loc == Loc::Body && p.name != "id" && o.body_id.as_ref() != Some(&p.name))
            .filter(|p| o.graphql.is_none() || record_props.iter().any(|r| r.name == p.name))
            .map(|p| p.name.as_str())
            .collect();
        // What the body sets: the declared properties sent; a free-form body's members
        // naming record properties; what an array body's elements say of the record's
        // array properties (see [`from_elements`]).
        let sent: Vec<(String, Value)> = match (o.body.as_ref().map(|b| &b.kind), body) {
            (Some(BodyKind::Free), _) => members
                .iter()
                .filter(|(k, _)| *k != "id" && o.body_id.as_ref() != Some(*k))
                .filter(|(k, _)| record_props.iter().any(|r| r.name == **k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            (Some(BodyKind::Array(_)), Value::Array(elements)) => {
                from_elements(elements, record_props)
            }
            _ => declared
                .iter()
                .filter_map(|n| members.get(*n).map(|v| (n.to_string(), v.clone())))
                .collect(),
        };
        // A write-only entity's parents (`board_id`) must exist.
        if !def.readable {
            let guard = self.writes();
            for (param, pe) in &wd.parents {
                let parent = &catalog.entities[*pe];
                let Some(id) = params.get(param) else {
                    continue;
                };
                if parent.key != Key::None && self.locate(*pe, id, &guard[*pe]).is_none() {
                    return Err(ApiError::not_found(format!(
                        "We couldn't find a {} with that ID",
                        parent.names.noun_lower
                    )));
                }
            }
        }
        let mut guard = self.writes_mut();
        let (i, id_text) = match o.action {
            Action::Create | Action::Update | Action::Delete
                if o.action == Action::Create || !def.readable =>
            {
                if guard[e].limit(count) >= u32::MAX as usize {
                    return Err(ApiError {
                        status: 507,
                        error_type: "api_error",
                        code: "insufficient_storage",
                        message: format!("No room for another {}", def.names.noun_lower),
                        field: None,
                    });
                }
                // A create, or any write of a write-only entity: a fresh record (of a
                // write-only entity, never read back).
                let w = &mut guard[e];
                let i = w.create(count);
                for name in wd.path_params.iter().filter(|n| *n != "id") {
                    let prop = record_props.iter().find(|p| p.name == *name);
                    if let (Some(prop), Some(text)) = (prop, params.get(name)) {
                        w.set(i, name, Some(typed(&prop.shape, text)));
                    }
                }
                // A write-only entity's update or delete names its record by the path id.
                let own_id = o
                    .id_param
                    .as_ref()
                    .filter(|p| {
                        o.action != Action::Create && !wd.parents.iter().any(|(n, _)| n == *p)
                    })
                    .and_then(|p| params.get(p));
                if let (Some(id), Some(prop)) =
                    (own_id, record_props.iter().find(|p| p.name == "id"))
                {
                    w.set(i, "id", Some(typed(&prop.shape, id)));
                }
                for (name, v) in &sent {
                    w.set(i, name, Some(v.clone()));
                }
                (i, own_id.map(str::to_string))
            }
            Action::Update | Action::Delete => {
                let id = match (&o.id_param, &o.body_id) {
                    (Some(p), _) => params.get(p).map(str::to_string),
                    (None, Some(b)) => members.get(b).and_then(wire_text),
                    (None, None) => None,
                };
                let named = o.id_param.is_some() || o.body_id.is_some();
                let found = match &id {
                    Some(id) => self.locate(e, id, &guard[e]),
                    // A singleton (`PATCH /me`): the first record.
                    None if !named => guard[e].live(count).next(),
                    None => None,
                };
                let i = found.ok_or_else(not_found)?;
                if o.action == Action::Update {
                    let w = &mut guard[e];
                    for (name, v) in &sent {
                        w.set(i, name, Some(v.clone()));
                    }
                    // A `PUT` removes the declared properties not sent.
                    if wd.method == Verb::Put {
                        for name in &declared {
                            if !sent.iter().any(|(k, _)| k == name) {
                                w.set(i, name, None);
                            }
                        }
                    }
                }
                (i, id)
            }
            Action::Create | Action::List | Action::Get | Action::Search => {
                unreachable!("a create is handled above, and a read has no WriteDef")
            }
        };
        let w = &guard[e];
        let record_id = self.field_of(e, i, "id", w);
        let id_value = record_id
            .clone()
            .or_else(|| id_text.clone().map(Value::String));
        let deleting = o.action == Action::Delete;
        // A delete's own answer schema (`{archived, id}`): its operation's, or a write-only
        // entity's.
        let own_answer = match (&o.shape, def.readable) {
            (Some(shape), _) => Some(shape),
            (None, false) => Some(&def.shape),
            (None, true) => None,
        };
        let body = if !wd.has_body {
            match envelope {
                Envelope::Api => String::new(),
                Envelope::Execute => r#"{"result":{},"connector_metadata":{}}"#.to_string(),
            }
        } else if let (true, Some(answer_shape)) = (deleting, own_answer) {
            // Its own answer schema: what was deleted.
            let mut text = String::new();
            self.push_op_record(op, i, &mut text);
            let mut answer: Map<String, Value> = serde_json::from_str(&text).unwrap_or_default();
            if let Kind::Object(obj) = &answer_shape.kind {
                for p in &obj.props {
                    if p.name == "id" {
                        if let Some(id) = &id_value {
                            answer.insert("id".into(), id.clone());
                        }
                    } else if matches!(p.shape.kind, Kind::Bool) {
                        answer.insert(p.name.clone(), Value::Bool(true));
                    }
                }
            }
            let answer = Value::Object(answer).to_string();
            let node = match envelope {
                Envelope::Api => o.tpl.build(Fill::One(i)),
                Envelope::Execute => execute_one(i),
            };
            self.render_with(node, envelope, &mut |_, out| out.push_str(&answer))
        } else {
            let node = match envelope {
                Envelope::Api => decorate(o, o.tpl.build(Fill::One(i))),
                Envelope::Execute => execute_one(i),
            };
            self.render(op, node, envelope, w)
        };
        let headers = match (envelope, record_id.as_ref().and_then(wire_text)) {
            (Envelope::Api, Some(id)) => wd
                .id_headers
                .iter()
                .map(|h| (h.to_ascii_lowercase(), id.clone()))
                .collect(),
            _ => Vec::new(),
        };
        if deleting {
            guard[e].delete(i);
        }
        Ok(Answer {
            status: wd.status,
            body,
            headers,
        })
    }

    /// A top-level field of record `i` as served now (`None` when it omits it).
    fn field_of(&self, e: usize, i: usize, field: &str, w: &EntityWrites) -> Option<Value> {
        match w.field(i, field) {
            Some(v) => v.cloned(),
            None => self.synth.field_value(e, i, field),
        }
    }

    /// Answers operation `op` (an index into the catalog's operations).
    pub(crate) fn answer(
        &self,
        op: usize,
        params: &Params,
        wire: Option<&Wire<'_>>,
        envelope: Envelope,
    ) -> Result<Answer, ApiError> {
        let o = &self.synth.catalog.ops[op];
        if o.action.is_write() {
            return self.write(op, params, &Value::Object(Map::new()), envelope);
        }
        let guard = self.writes();
        let w = &guard[o.entity];
        match o.action {
            Action::Get => self.get(op, params, envelope, w),
            _ => self.list(op, params, wire, envelope, w),
        }
    }

    /// Writes record `i` as operation `op` shapes it.
    fn push_op_record(&self, op: usize, i: usize, out: &mut String) {
        let o = &self.synth.catalog.ops[op];
        match &o.shape {
            Some(shape) => self.synth.write_record_as(o.entity, i, shape, out),
            None => self.push_record(o.entity, i, out),
        }
    }

    /// Writes record `i` as operation `op` shapes it, with what writes changed in it.
    fn push_live(&self, op: usize, i: usize, w: &EntityWrites, out: &mut String) {
        let Some(ov) = w.overlay(i) else {
            return self.push_op_record(op, i, out);
        };
        let mut text = String::new();
        self.push_op_record(op, i, &mut text);
        let mut rec: Map<String, Value> = serde_json::from_str(&text).unwrap_or_default();
        writes::apply(ov, &mut rec);
        out.push_str(&Value::Object(rec).to_string());
    }

    /// Renders a body; adds the response-error-check flag to object bodies of the API.
    fn render(&self, op: usize, node: Node, envelope: Envelope, w: &EntityWrites) -> String {
        self.render_with(node, envelope, &mut |i, o| self.push_live(op, i, w, o))
    }

    /// Renders a body with `record` writing the records; adds the response-error-check
    /// flag to object bodies of the API.
    fn render_with(
        &self,
        mut node: Node,
        envelope: Envelope,
        record: &mut dyn FnMut(usize, &mut String),
    ) -> String {
        if let (Some((field, ok)), Envelope::Api) = (&self.synth.catalog.ok_flag, envelope) {
            node.push_member(field, ok.clone());
        }
        let mut out = String::with_capacity(node.record_count().max(1) * 2048);
        node.render(&mut out, record);
        out
    }

    /// Positions of the records of entity `e` that exist and pass the operation's filters
    /// (`None` when nothing was written and no filter is given: every record).
    fn matching(&self, op: usize, params: &Params, w: &EntityWrites) -> Option<Vec<usize>> {
        let o = &self.synth.catalog.ops[op];
        let filters: Vec<(&str, Vec<String>)> = o
            .filters
            .iter()
            .map(|&k| {
                let p = &o.params[k];
                (p.name.as_str(), p.values(&params.0))
            })
            .filter(|(_, vs)| !vs.is_empty())
            .collect();
        if filters.is_empty() && w.is_pristine() {
            return None;
        }
        let e = o.entity;
        Some(
            w.live(self.synth.counts[e])
                .filter(|&i| {
                    filters.iter().all(|(f, wants)| {
                        let got = self.field_of(e, i, f, w);
                        wants.iter().any(|want| match &got {
                            Some(Value::String(s)) => s == want,
                            Some(Value::Null) | None => false,
                            Some(other) => {
                                serde_json::from_str::<Value>(want).ok().as_ref() == Some(other)
                            }
                        })
                    })
                })
                .collect(),
        )
    }

    fn list(
        &self,
        op: usize,
        params: &Params,
        wire: Option<&Wire<'_>>,
        envelope: Envelope,
        w: &EntityWrites,
    ) -> Result<Answer, ApiError> {
        let catalog = &self.synth.catalog;
        let o = &catalog.ops[op];
        let e = o.entity;
        let matching = self.matching(op, params, w);
        let total = matching.as_ref().map_or(self.synth.counts[e], Vec::len);
        let nth = |k: usize| matching.as_ref().map_or(k, |m| m[k]);

        let Some(pg) = &o.paging else {
            let all: Vec<usize> = (0..total).map(nth).collect();
            let node = match envelope {
                Envelope::Api => decorate(o, o.tpl.build(Fill::List(&all))),
                Envelope::Execute => Node::Obj(vec![
                    ("result".into(), Node::Records(all)),
                    (
                        "connector_metadata".into(),
                        Node::Obj(vec![("next_cursor".into(), Node::Val(Value::Null))]),
                    ),
                ]),
            };
            return Ok(Answer {
                status: 200,
                body: self.render(op, node, envelope, w),
                headers: Vec::new(),
            });
        };

        let size = self.page_size(pg, params)?;
        let (start, page) = self.position(e, pg, params, size, matching.as_deref(), w)?;
        let end = start.saturating_add(size).min(total);
        let has_more = end < total;
        let positions: Vec<usize> = (start.min(end)..end).map(nth).collect();
        let next: Option<Value> = has_more.then(|| match &pg.state {
            State::Cursor { ids: true, .. } => Value::String(self.synth.record_id(e, nth(end - 1))),
            State::Cursor { .. } => Value::String(self.synth.cursor_token(e, end)),
            State::Page { .. } => Value::from(page + 1),
            State::Offset { .. } => Value::from(end),
        });
        let next_url =
            |absolute: bool| next.as_ref().map(|n| next_url(wire, pg, n, size, absolute));
        let size_i = i64::try_from(size).unwrap_or(i64::MAX);
        let value_of = |role: Role, src: &MetaSrc| -> Option<Value> {
            Some(match role {
                Role::Cursor => match src {
                    MetaSrc::Link(_) => Value::from(next_url(true)),
                    _ => return next.clone(),
                },
                Role::HasMore => Value::Bool(has_more),
                Role::Done => Value::Bool(!has_more),
                Role::Page => Value::from(page),
                Role::NextPage => Value::from(has_more.then_some(page + 1)),
                Role::TotalPages => Value::from(total.div_ceil(size.max(1))),
                Role::Total => Value::from(total),
                Role::Offset => Value::from(start),
                Role::NextOffset => Value::from(has_more.then_some(end)),
                Role::Limit => Value::from(size_i),
                Role::Url => match (&pg.carrier, src) {
                    (Carrier::Url { absolute }, _) => Value::from(next_url(*absolute)),
                    (_, MetaSrc::Link(_)) => Value::from(next_url(true)),
                    _ => Value::from(next_url(true)),
                },
                Role::Unknown => match src {
                    MetaSrc::Link(_) => Value::from(next_url(true)),
                    _ => Value::Null,
                },
            })
        };

        if envelope == Envelope::Execute {
            let meta = pg
                .meta
                .iter()
                .map(|m| {
                    let v = match &m.src {
                        MetaSrc::Header(_) if m.role == Role::Cursor => next.clone(),
                        src => value_of(m.role, src),
                    };
                    (m.key.clone(), Node::Val(v.unwrap_or(Value::Null)))
                })
                .collect();
            let node = Node::Obj(vec![
                ("result".into(), Node::Records(positions)),
                ("connector_metadata".into(), Node::Obj(meta)),
            ]);
            return Ok(Answer {
                status: 200,
                body: self.render(op, node, envelope, w),
                headers: Vec::new(),
            });
        }

        let mut node = decorate(o, o.tpl.build(Fill::List(&positions)));
        let mut headers = Vec::new();
        let graphql = o.graphql.is_some();
        for m in &pg.meta {
            match &m.src {
                MetaSrc::Body(segs) => {
                    let v = value_of(m.role, &m.src);
                    let cursor = m.role == Role::Cursor && pg.carrier == Carrier::Body;
                    // A body cursor is absent on the last page (incident.io's `after`); a
                    // GraphQL `endCursor` is `null` there.
                    let v = match v {
                        None if cursor && graphql => Some(Value::Null),
                        v if graphql => v,
                        v => v.filter(|v| !(cursor && v.is_null())),
                    };
                    if let Some(v) = v {
                        node.insert(segs, v);
                    }
                    if cursor
                        && !graphql
                        && matches!(pg.state, State::Cursor { .. })
                        && segs.len() > 1
                    {
                        // Beside a nested cursor: `page_size` and `total_record_count`
                        // (incident.io's `pagination_meta`).
                        let parent = &segs[..segs.len() - 1];
                        for (k, v) in [
                            ("page_size", Value::from(size_i)),
                            ("total_record_count", Value::from(total)),
                        ] {
                            let mut path = parent.to_vec();
                            path.push(super::ops::Seg::Field(k.into()));
                            node.insert(&path, v);
                        }
                    }
                }
                MetaSrc::Link(rel) => {
                    if let Some(url) = next_url(true) {
                        headers.push(("link".to_string(), format!("<{url}>; rel=\"{rel}\"")));
                    }
                }
                MetaSrc::Header(name) => {
                    if m.role == Role::Cursor {
                        if let Some(n) = next.as_ref().and_then(wire_text) {
                            headers.push((name.to_ascii_lowercase(), n));
                        }
                    }
                }
            }
        }
        Ok(Answer {
            status: 200,
            body: self.render(op, node, envelope, w),
            headers,
        })
    }

    /// The page size a request asks for.
    fn page_size(&self, pg: &Paging, params: &Params) -> Result<usize, ApiError> {
        let sz = &pg.size;
        let Some(name) = &sz.param else {
            return Ok(usize::try_from(sz.default).unwrap_or(1).max(1));
        };
        let size = match params.get(name) {
            None if sz.required => {
                return Err(ApiError::invalid(name, format!("{name} is required")));
            }
            None => sz.default,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(n) if n >= sz.min && sz.max.is_none_or(|max| n <= max) => n,
                Ok(n) if n >= sz.min && !self.reject_oversized => sz.max.unwrap_or(n),
                _ => {
                    let range = match sz.max {
                        Some(max) => format!("between {} and {max}", sz.min),
                        None => format!("at least {}", sz.min),
                    };
                    return Err(ApiError::invalid(
                        name,
                        format!("{name} must be an integer {range}, got {raw:?}"),
                    ));
                }
            },
        };
        Ok(usize::try_from(size).unwrap_or(usize::MAX).max(1))
    }

    /// Where the requested page starts (a position among the matching records) and its
    /// page number (1-based for cursors and offsets; the requested one for page numbers).
    fn position(
        &self,
        e: usize,
        pg: &Paging,
        params: &Params,
        size: usize,
        matching: Option<&[usize]>,
        w: &EntityWrites,
    ) -> Result<(usize, i64), ApiError> {
        let raw = params.get(pg.state.param()).filter(|v| !v.is_empty());
        let page_of = |start: usize| i64::try_from(start / size).unwrap_or(i64::MAX - 1) + 1;
        match &pg.state {
            State::Cursor { param, ids } => {
                let Some(cursor) = raw else { return Ok((0, 1)) };
                let start = if *ids {
                    let limit = w.limit(self.synth.counts[e]);
                    self.synth
                        .index_of_id(e, cursor, limit)
                        .map(|i| match matching {
                            Some(m) => m.partition_point(|&x| x <= i),
                            None => i + 1,
                        })
                } else {
                    self.synth.cursor_pos(e, cursor)
                };
                match start {
                    Some(s) => Ok((s, page_of(s))),
                    None if *ids => Err(ApiError::invalid(
                        param,
                        format!(
                            "{param} must be the ID of a {} returned by a previous page",
                            self.synth.catalog.entities[e].names.noun_lower
                        ),
                    )),
                    None => Err(ApiError::invalid(
                        param,
                        format!("{param} must be a cursor returned by a previous page"),
                    )),
                }
            }
            State::Page { param, base } => {
                let Some(raw) = raw else {
                    return Ok((0, *base));
                };
                match raw.trim().parse::<i64>() {
                    Ok(n) if n >= *base => {
                        let k = usize::try_from(n - base).unwrap_or(usize::MAX);
                        Ok((k.saturating_mul(size), n))
                    }
                    _ => Err(ApiError::invalid(
                        param,
                        format!("{param} must be an integer of at least {base}, got {raw:?}"),
                    )),
                }
            }
            State::Offset { param } => {
                let Some(raw) = raw else { return Ok((0, 1)) };
                match raw.trim().parse::<usize>() {
                    Ok(n) => Ok((n, page_of(n))),
                    Err(_) => Err(ApiError::invalid(
                        param,
                        format!("{param} must be a non-negative integer, got {raw:?}"),
                    )),
                }
            }
        }
    }

    /// The position of the existing record a `get` (or an update or delete) names: by the
    /// entity's key (id, integer id, or a property such as `slug`), or the numeric part of
    /// a `reference`; created records included, deleted ones not.
    pub(crate) fn locate(&self, e: usize, id: &str, w: &EntityWrites) -> Option<usize> {
        let def = &self.synth.catalog.entities[e];
        let count = self.synth.counts[e];
        let limit = w.limit(count);
        let found = match &def.key {
            Key::Ulid | Key::None => self.synth.locate(e, id, limit),
            Key::Int => {
                let n: usize = id.trim().parse().ok()?;
                (n >= 1 && n <= limit).then(|| n - 1)
            }
            Key::Field(f) => w.live(count).find(|&i| {
                self.field_of(e, i, f, w)
                    .as_ref()
                    .and_then(wire_text)
                    .is_some_and(|v| v == id)
            }),
        };
        found.filter(|&i| w.alive(count, i))
    }

    fn get(
        &self,
        op: usize,
        params: &Params,
        envelope: Envelope,
        w: &EntityWrites,
    ) -> Result<Answer, ApiError> {
        let o = &self.synth.catalog.ops[op];
        let e = o.entity;
        let def = &self.synth.catalog.entities[e];
        let body_id = o.body_id.as_deref().and_then(|b| params.get(b));
        let found = match (&o.id_param, body_id) {
            (Some(p), _) => self.locate(e, params.get(p).unwrap_or(""), w),
            // No path id: the key in the JSON body (`{"user": "<id>"}`), else a lookup by
            // the query parameters (or body properties) naming record properties, else
            // the singleton (the first record).
            (None, Some(id)) => self.locate(e, id, w),
            (None, None) => match self.matching(op, params, w) {
                Some(m) => m.first().copied(),
                None => (self.synth.counts[e] > 0).then_some(0),
            },
        };
        let not_found = || {
            ApiError::not_found(format!(
                "We couldn't find a {} with that ID",
                def.names.noun_lower
            ))
        };
        let node = match (found, envelope) {
            (Some(i), Envelope::Api) => decorate(o, o.tpl.build(Fill::One(i))),
            (Some(i), Envelope::Execute) => execute_one(i),
            // `$.data[0]` of a lookup that matched nothing: `{"data": []}`.
            (None, Envelope::Api) if o.id_param.is_none() && has_index(&o.tpl) => {
                o.tpl.build(Fill::Nothing)
            }
            (None, _) => return Err(not_found()),
        };
        Ok(Answer {
            status: 200,
            body: self.render(op, node, envelope, w),
            headers: Vec::new(),
        })
    }
}

/// Adds what a GraphQL operation answers beside its records (`success: true`).
fn decorate(o: &spec::OpDef, mut node: Node) -> Node {
    if let Some(g) = &o.graphql {
        for (segs, v) in &g.extras {
            node.insert(segs, v.clone());
        }
    }
    node
}

/// The `/execute` envelope of one record: `{"result": <record>, "connector_metadata": {}}`.
fn execute_one(i: usize) -> Node {
    Node::Obj(vec![
        ("result".into(), Node::Record(i)),
        ("connector_metadata".into(), Node::Obj(Vec::new())),
    ])
}

/// What the elements of an array body say of a record's array properties: for an array of
/// scalars, the elements' member named as its singular or itself (`tags` ← each element's
/// `tag`), or the elements themselves when they are scalars; for an array of objects, the
/// object elements as sent; an integer `count`, `added` or `total` is the number of
/// elements. Properties no element speaks of are left out.
fn from_elements(elements: &[Value], props: &[spec::Prop]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for p in props {
        let value = match &p.shape.kind {
            Kind::Array(item) => {
                let one = spec::singular(&p.name);
                let got: Vec<Value> = match item.kind {
                    Kind::Object(_) => elements.iter().filter(|v| v.is_object()).cloned().collect(),
                    _ => elements
                        .iter()
                        .filter_map(|v| match v {
                            Value::Object(m) => m.get(&one).or_else(|| m.get(&p.name)).cloned(),
                            Value::Array(_) | Value::Null => None,
                            scalar => Some(scalar.clone()),
                        })
                        .filter(|v| !v.is_object() && !v.is_array() && !v.is_null())
                        .collect(),
                };
                if got.is_empty() {
                    continue;
                }
                Value::Array(got)
            }
            Kind::Int if matches!(p.name.as_str(), "count" | "added" | "total") => {
                Value::from(elements.len())
            }
            _ => continue,
        };
        out.push((p.name.clone(), value));
    }
    out
}

/// A path parameter's text as the JSON type of the record property it sets (text that is
/// not of that type stays a string).
fn typed(shape: &Shape, text: &str) -> Value {
    let string = || Value::String(text.to_string());
    match &shape.kind {
        Kind::Int => text
            .trim()
            .parse::<i64>()
            .map_or_else(|_| string(), Value::from),
        Kind::Num => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(string, Value::Number),
        Kind::Bool => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => string(),
        },
        _ => string(),
    }
}

fn has_index(t: &super::envelope::Tpl) -> bool {
    use super::envelope::Tpl;
    match t {
        Tpl::Slot => false,
        Tpl::Index(..) => true,
        Tpl::Obj(_, inner) | Tpl::Spread(inner) | Tpl::Group(inner) => has_index(inner),
        Tpl::Split(ms) => ms.iter().any(|(_, t)| has_index(t)),
    }
}

/// The next-page URL: the request's path and query with the state parameter set to `next`
/// (and the page-size parameter, when declared, to the size served); absolute
/// (`http://<Host>...`) or an absolute path.
fn next_url(
    wire: Option<&Wire<'_>>,
    pg: &Paging,
    next: &Value,
    size: usize,
    absolute: bool,
) -> String {
    let state = pg.state.param();
    let size_param = pg.size.param.as_deref();
    let mut pairs: Vec<(String, String)> = wire
        .map(|w| {
            w.query
                .iter()
                .filter(|(k, _)| k != state && Some(k.as_str()) != size_param)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if let Some(sp) = size_param {
        pairs.push((sp.to_string(), size.to_string()));
    }
    pairs.push((state.to_string(), wire_text(next).unwrap_or_default()));
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let path = wire.map_or("", |w| w.path);
    match (absolute, wire.and_then(|w| w.host)) {
        (true, Some(host)) => format!("http://{host}{path}?{query}"),
        _ => format!("{path}?{query}"),
    }
}

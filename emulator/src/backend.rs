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

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use super::data::{RecordShape, Synth};
use super::envelope::{Fill, Node};
use super::ops::{wire_text, Carrier, MetaSrc, Paging, Role, State};
use super::spec::{self, percent_encode, Action, Catalog, Key};

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

/// The synthetic data set plus its render cache.
#[derive(Debug)]
pub(crate) struct Backend {
    synth: Synth,
    caches: Vec<Option<RenderCache>>,
    /// A page size above the parameter's maximum is a 422 (incident.io); else clamped.
    reject_oversized: bool,
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

/// A response: body and extra headers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Answer {
    /// JSON body.
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
            if catalog.entity_index(name).is_none() {
                tracing::warn!(entity = %name, "emulator: count given for an entity the spec does not serve");
            }
        }
        let counts: Vec<usize> =
            catalog
                .entities
                .iter()
                .map(|e| {
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
        Ok(Backend {
            synth: Synth::new(catalog, counts, seed, shape),
            caches,
            reject_oversized,
        })
    }

    /// Entity names sorted by name.
    pub(crate) fn entities(&self) -> Vec<String> {
        self.synth
            .catalog
            .entities
            .iter()
            .map(|e| e.name.clone())
            .collect()
    }

    /// The parsed spec.
    pub(crate) fn catalog(&self) -> &Catalog {
        &self.synth.catalog
    }

    /// Number of records of an entity.
    pub(crate) fn count(&self, entity: &str) -> Option<usize> {
        self.synth
            .catalog
            .entity_index(entity)
            .map(|e| self.synth.counts[e])
    }

    /// Record `index` of `entity`, exactly as served.
    pub(crate) fn record(&self, entity: &str, index: usize) -> Option<Value> {
        let e = self.synth.catalog.entity_index(entity)?;
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
        let e = self.synth.catalog.entity_index(entity)?;
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
        let op = match Action::parse(action).ok_or_else(not_served)? {
            Action::List => catalog.entities[e].list,
            Action::Get => catalog.entities[e].get,
            Action::Search => None,
        }
        .ok_or_else(not_served)?;
        self.answer(op, params, None, envelope).map(|a| a.body)
    }

    /// Answers operation `op` (an index into the catalog's operations).
    pub(crate) fn answer(
        &self,
        op: usize,
        params: &Params,
        wire: Option<&Wire<'_>>,
        envelope: Envelope,
    ) -> Result<Answer, ApiError> {
        match self.synth.catalog.ops[op].action {
            Action::Get => self.get(op, params, envelope),
            Action::List | Action::Search => self.list(op, params, wire, envelope),
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

    /// Renders a body; adds the response-error-check flag to object bodies of the API.
    fn render(&self, op: usize, mut node: Node, envelope: Envelope) -> String {
        if let (Some((field, ok)), Envelope::Api) = (&self.synth.catalog.ok_flag, envelope) {
            node.push_member(field, ok.clone());
        }
        let mut out = String::with_capacity(node.record_count().max(1) * 2048);
        node.render(&mut out, &mut |i, o| self.push_op_record(op, i, o));
        out
    }

    /// Positions of the records of entity `e` that pass the operation's filters (`None`
    /// when no filter is given: every record).
    fn matching(&self, op: usize, params: &Params) -> Option<Vec<usize>> {
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
        if filters.is_empty() {
            return None;
        }
        let e = o.entity;
        Some(
            (0..self.synth.counts[e])
                .filter(|&i| {
                    filters.iter().all(|(f, wants)| {
                        let got = self.synth.field_value(e, i, f);
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
    ) -> Result<Answer, ApiError> {
        let catalog = &self.synth.catalog;
        let o = &catalog.ops[op];
        let e = o.entity;
        let matching = self.matching(op, params);
        let total = matching.as_ref().map_or(self.synth.counts[e], Vec::len);
        let nth = |k: usize| matching.as_ref().map_or(k, |m| m[k]);

        let Some(pg) = &o.paging else {
            let all: Vec<usize> = (0..total).map(nth).collect();
            let node = match envelope {
                Envelope::Api => o.tpl.build(Fill::List(&all)),
                Envelope::Execute => Node::Obj(vec![
                    ("result".into(), Node::Records(all)),
                    (
                        "connector_metadata".into(),
                        Node::Obj(vec![("next_cursor".into(), Node::Val(Value::Null))]),
                    ),
                ]),
            };
            return Ok(Answer {
                body: self.render(op, node, envelope),
                headers: Vec::new(),
            });
        };

        let size = self.page_size(pg, params)?;
        let (start, page) = self.position(e, pg, params, size, matching.as_deref())?;
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
                body: self.render(op, node, envelope),
                headers: Vec::new(),
            });
        }

        let mut node = o.tpl.build(Fill::List(&positions));
        let mut headers = Vec::new();
        for m in &pg.meta {
            match &m.src {
                MetaSrc::Body(segs) => {
                    let v = value_of(m.role, &m.src);
                    let cursor = m.role == Role::Cursor && pg.carrier == Carrier::Body;
                    // A body cursor is absent on the last page (incident.io's `after`).
                    if let Some(v) = v.filter(|v| !(cursor && v.is_null())) {
                        node.insert(segs, v);
                    }
                    if cursor && matches!(pg.state, State::Cursor { .. }) && segs.len() > 1 {
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
            body: self.render(op, node, envelope),
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
    ) -> Result<(usize, i64), ApiError> {
        let raw = params.get(pg.state.param()).filter(|v| !v.is_empty());
        let page_of = |start: usize| i64::try_from(start / size).unwrap_or(i64::MAX - 1) + 1;
        match &pg.state {
            State::Cursor { param, ids } => {
                let Some(cursor) = raw else { return Ok((0, 1)) };
                let start = if *ids {
                    self.synth.index_of_id(e, cursor).map(|i| match matching {
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

    /// The index of the record a `get` names: by the entity's key (id, integer id, or a
    /// property such as `slug`), or the numeric part of a `reference`.
    fn locate(&self, e: usize, id: &str) -> Option<usize> {
        let def = &self.synth.catalog.entities[e];
        let count = self.synth.counts[e];
        match &def.key {
            Key::Ulid => self.synth.locate(e, id),
            Key::Int => {
                let n: usize = id.trim().parse().ok()?;
                (n >= 1 && n <= count).then(|| n - 1)
            }
            Key::Field(f) => (0..count).find(|&i| {
                self.synth
                    .field_value(e, i, f)
                    .as_ref()
                    .and_then(wire_text)
                    .is_some_and(|v| v == id)
            }),
            Key::None => self.synth.locate(e, id),
        }
    }

    fn get(&self, op: usize, params: &Params, envelope: Envelope) -> Result<Answer, ApiError> {
        let o = &self.synth.catalog.ops[op];
        let e = o.entity;
        let def = &self.synth.catalog.entities[e];
        let body_id = o.body_id.as_deref().and_then(|b| params.get(b));
        let found = match (&o.id_param, body_id) {
            (Some(p), _) => self.locate(e, params.get(p).unwrap_or("")),
            // No path id: the key in the JSON body (`{"user": "<id>"}`), else a lookup by
            // the query parameters (or body properties) naming record properties, else
            // the singleton (record 0).
            (None, Some(id)) => self.locate(e, id),
            (None, None) => match self.matching(op, params) {
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
            (Some(i), Envelope::Api) => o.tpl.build(Fill::One(i)),
            (Some(i), Envelope::Execute) => Node::Obj(vec![
                ("result".into(), Node::Record(i)),
                ("connector_metadata".into(), Node::Obj(Vec::new())),
            ]),
            // `$.data[0]` of a lookup that matched nothing: `{"data": []}`.
            (None, Envelope::Api) if o.id_param.is_none() && has_index(&o.tpl) => {
                o.tpl.build(Fill::Nothing)
            }
            (None, _) => return Err(not_found()),
        };
        Ok(Answer {
            body: self.render(op, node, envelope),
            headers: Vec::new(),
        })
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

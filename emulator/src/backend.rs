//! The transport-independent core: given (entity, action, parameters) it answers with the
//! JSON body the incident.io API would send, or an [`ApiError`].
//!
//! The incident.io routes in `server.rs` call [`Backend::execute`]; an Airbyte-style
//! `/execute` route can call the same method with the entity, action and parameters from
//! its request body and wrap the result in its own envelope.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::Value;

use super::data::{RecordShape, Synth};
use super::spec::{self, push_json_string, Action, Catalog};

/// Entities with at most this many records keep every rendered record in memory.
const CACHE_LIMIT: usize = 20_000;
/// Default record count of a paginated entity.
pub(crate) const DEFAULT_PAGINATED_COUNT: usize = 50;
/// Default record count of an unpaginated entity.
pub(crate) const DEFAULT_UNPAGINATED_COUNT: usize = 5;

/// Request parameters: path and query parameters, already percent-decoded.
/// Lookups return the first value for a name.
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
    fn invalid(field: &str, message: String) -> ApiError {
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
    /// The API's own: `{"<records field>": [...], "pagination_meta": {...}}`.
    Api,
    /// Airbyte's `/execute`: `{"result": [...], "connector_metadata": {"next_cursor": ...}}`,
    /// written directly (no API body parsed or copied).
    Execute,
}

/// The synthetic data set plus its render cache.
#[derive(Debug)]
pub(crate) struct Backend {
    synth: Synth,
    caches: Vec<Option<RenderCache>>,
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
        Ok(Backend {
            synth: Synth::new(catalog, counts, seed, shape),
            caches,
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

    /// Answers one operation with its JSON body, in the API's envelope or `/execute`'s.
    ///
    /// `action` is `list` or `get`; `params` holds query parameters (`page_size`, `after`,
    /// filters) and, for `get`, the id under the spec's path-parameter name.
    pub(crate) fn execute(
        &self,
        entity: &str,
        action: &str,
        params: &Params,
        envelope: Envelope,
    ) -> Result<String, ApiError> {
        let not_served =
            || ApiError::not_found(format!("The emulator does not serve {action} on {entity}"));
        let e = self
            .synth
            .catalog
            .entity_index(entity)
            .ok_or_else(not_served)?;
        match Action::parse(action).ok_or_else(not_served)? {
            Action::List => self.list(e, params, envelope).ok_or_else(not_served)?,
            Action::Get => self.get(e, params, envelope).ok_or_else(not_served)?,
        }
    }

    fn list(
        &self,
        e: usize,
        params: &Params,
        envelope: Envelope,
    ) -> Option<Result<String, ApiError>> {
        let def = &self.synth.catalog.entities[e];
        let op = def.list.as_ref()?;
        let count = self.synth.counts[e];
        let filters: Vec<(&str, &str)> = op
            .filters
            .iter()
            .filter_map(|f| params.get(f).map(|v| (f.as_str(), v)))
            .collect();
        let matching: Option<Vec<usize>> = (!filters.is_empty()).then(|| {
            (0..count)
                .filter(|&i| {
                    filters
                        .iter()
                        .all(|(f, want)| match self.synth.field_value(e, i, f) {
                            Some(Value::String(s)) => s == *want,
                            Some(Value::Null) | None => false,
                            Some(other) => serde_json::from_str::<Value>(want).ok() == Some(other),
                        })
                })
                .collect()
        });
        let total = matching.as_ref().map_or(count, Vec::len);
        let nth = |k: usize| matching.as_ref().map_or(k, |m| m[k]);

        let mut out = String::new();
        out.push('{');
        match envelope {
            Envelope::Api => push_json_string(&mut out, &op.field),
            Envelope::Execute => out.push_str("\"result\""),
        }
        out.push_str(":[");
        let Some(pg) = &op.pagination else {
            for k in 0..total {
                if k > 0 {
                    out.push(',');
                }
                self.push_record(e, nth(k), &mut out);
            }
            out.push(']');
            match envelope {
                Envelope::Api => out.push('}'),
                Envelope::Execute => {
                    out.push_str(",\"connector_metadata\":{\"next_cursor\":null}}")
                }
            }
            return Some(Ok(out));
        };

        let size = match params.get(&pg.size_param) {
            None if pg.required => {
                return Some(Err(ApiError::invalid(
                    &pg.size_param,
                    format!("{} is required", pg.size_param),
                )))
            }
            None => pg.default,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(n) if n >= pg.min && pg.max.is_none_or(|max| n <= max) => n,
                _ => {
                    let range = match pg.max {
                        Some(max) => format!("between {} and {max}", pg.min),
                        None => format!("at least {}", pg.min),
                    };
                    return Some(Err(ApiError::invalid(
                        &pg.size_param,
                        format!("{} must be an integer {range}, got {raw:?}", pg.size_param),
                    )));
                }
            },
        };
        let size = usize::try_from(size).unwrap_or(usize::MAX).max(1);
        // Position (within the matching records) of the first record of this page.
        let start = match params.get(&pg.cursor_param) {
            None | Some("") => 0,
            Some(cursor) => match self.synth.index_of_id(e, cursor) {
                Some(i) => match &matching {
                    Some(m) => m.partition_point(|&x| x <= i),
                    None => i + 1,
                },
                None => {
                    return Some(Err(ApiError::invalid(
                        &pg.cursor_param,
                        format!(
                            "{} must be the ID of a {} returned by a previous page",
                            pg.cursor_param, def.names.noun_lower
                        ),
                    )))
                }
            },
        };
        let end = start.saturating_add(size).min(total);
        out.reserve((end - start) * 2048);
        for k in start..end {
            if k > start {
                out.push(',');
            }
            self.push_record(e, nth(k), &mut out);
        }
        out.push(']');
        let next = (end < total && end > start).then(|| self.synth.record_id(e, nth(end - 1)));
        if envelope == Envelope::Execute {
            out.push_str(",\"connector_metadata\":{\"next_cursor\":");
            match &next {
                Some(c) => push_json_string(&mut out, c),
                None => out.push_str("null"),
            }
            out.push_str("}}");
            return Some(Ok(out));
        }
        let (parents, key) = pg.cursor_path.split_at(pg.cursor_path.len() - 1);
        if parents.is_empty() {
            if let Some(next) = &next {
                out.push(',');
                push_json_string(&mut out, &key[0]);
                out.push(':');
                push_json_string(&mut out, next);
            }
        } else {
            // `,"pagination_meta":{"after":..,"page_size":..,"total_record_count":..}`
            // (deeper cursor paths nest one object per segment).
            for (k, p) in parents.iter().enumerate() {
                if k == 0 {
                    out.push(',');
                }
                push_json_string(&mut out, p);
                out.push_str(":{");
            }
            if let Some(next) = &next {
                push_json_string(&mut out, &key[0]);
                out.push(':');
                push_json_string(&mut out, next);
                out.push(',');
            }
            let _ = write!(out, "\"page_size\":{size},\"total_record_count\":{total}");
            for _ in parents {
                out.push('}');
            }
        }
        out.push('}');
        Some(Ok(out))
    }

    fn get(
        &self,
        e: usize,
        params: &Params,
        envelope: Envelope,
    ) -> Option<Result<String, ApiError>> {
        let def = &self.synth.catalog.entities[e];
        let op = def.get.as_ref()?;
        let id = params.get(&op.id_param).unwrap_or("");
        let Some(i) = self.synth.locate(e, id) else {
            return Some(Err(ApiError::not_found(format!(
                "We couldn't find a {} with that ID",
                def.names.noun_lower
            ))));
        };
        let mut out = String::with_capacity(4096);
        out.push('{');
        match envelope {
            Envelope::Api => push_json_string(&mut out, &op.field),
            Envelope::Execute => out.push_str("\"result\""),
        }
        out.push(':');
        self.push_record(e, i, &mut out);
        match envelope {
            Envelope::Api => out.push('}'),
            Envelope::Execute => out.push_str(",\"connector_metadata\":{}}"),
        }
        Some(Ok(out))
    }
}

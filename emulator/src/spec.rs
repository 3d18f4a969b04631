//! Reads the connector spec into a [`Catalog`]: the entities the emulator serves, the
//! routes that reach them, their request parameters, and each record schema compiled
//! into a [`Shape`] tree that the generator in `data.rs` walks.
//!
//! Only `paths.*.get` operations carrying `x-airbyte-entity` and an `x-airbyte-action`
//! of `list` or `get` are served. Everything is derived from the spec, so an entity
//! added to the spec is served without code changes.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Objects nested deeper than this are emitted empty (`{}`), which also breaks cycles.
const MAX_OBJECT_DEPTH: usize = 6;

/// What an operation does with its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `x-airbyte-action: list`.
    List,
    /// `x-airbyte-action: get`.
    Get,
}

impl Action {
    /// Parses the spec's action name.
    pub(crate) fn parse(s: &str) -> Option<Action> {
        match s {
            "list" => Some(Action::List),
            "get" => Some(Action::Get),
            _ => None,
        }
    }
}

/// Everything the emulator knows about the spec.
#[derive(Debug)]
pub(crate) struct Catalog {
    /// Served entities, sorted by name.
    pub entities: Vec<EntityDef>,
    /// HTTP routes (method GET).
    pub routes: Vec<Route>,
}

/// One entity (`x-airbyte-entity`).
#[derive(Debug)]
pub(crate) struct EntityDef {
    /// Entity name, e.g. `incidents`.
    pub name: String,
    /// Naming strings (noun `Incident`, reference prefix `INC`, ...).
    pub names: Names,
    /// The list operation, if the spec has one.
    pub list: Option<ListOp>,
    /// The get operation, if the spec has one.
    pub get: Option<GetOp>,
    /// Compiled record schema (always an object shape).
    pub shape: Shape,
    /// True when the record schema has a top-level `reference` property
    /// (then `GET .../{id}` also accepts its numeric part).
    pub has_reference: bool,
}

impl EntityDef {
    /// True when the list operation is cursor-paginated.
    pub(crate) fn paginated(&self) -> bool {
        self.list.as_ref().is_some_and(|l| l.pagination.is_some())
    }
}

/// A list operation.
#[derive(Debug)]
pub(crate) struct ListOp {
    /// Envelope field holding the records (`$.incidents` → `incidents`).
    pub field: String,
    /// Present when the operation has `x-airbyte-meta-extractor.next_cursor`.
    pub pagination: Option<Pagination>,
    /// Declared query parameters that name a top-level record property: equality filters.
    pub filters: Vec<String>,
}

/// Pagination rules of a list operation.
#[derive(Debug)]
pub(crate) struct Pagination {
    /// Query parameter carrying the cursor (`after`).
    pub cursor_param: String,
    /// Path of the cursor in the response (`["pagination_meta", "after"]`).
    pub cursor_path: Vec<String>,
    /// Page-size parameter name (`page_size`).
    pub size_param: String,
    /// Smallest accepted page size.
    pub min: i64,
    /// Largest accepted page size, if bounded.
    pub max: Option<i64>,
    /// Page size applied when the parameter is absent.
    pub default: i64,
    /// True when the parameter must be sent.
    pub required: bool,
}

/// A get operation.
#[derive(Debug)]
pub(crate) struct GetOp {
    /// Envelope field holding the record (`$.incident` → `incident`).
    pub field: String,
    /// Name of the path parameter holding the id.
    pub id_param: String,
}

/// A path template segment.
#[derive(Debug)]
pub(crate) enum Segment {
    /// Must equal the raw request segment.
    Lit(String),
    /// Captures the percent-decoded request segment under this name.
    Param(String),
}

/// A GET route from the spec.
#[derive(Debug)]
pub(crate) struct Route {
    /// The path template split on `/` (first empty segment dropped).
    pub segments: Vec<Segment>,
    /// Index into [`Catalog::entities`].
    pub entity: usize,
    /// What the route does.
    pub action: Action,
}

impl Catalog {
    /// Matches a raw (still percent-encoded) request path against the routes.
    /// Returns the route and its decoded path parameters.
    pub(crate) fn match_route(&self, raw_path: &str) -> Option<(&Route, Vec<(String, String)>)> {
        let rest = raw_path.strip_prefix('/')?;
        let parts: Vec<&str> = rest.split('/').collect();
        'routes: for route in &self.routes {
            if route.segments.len() != parts.len() {
                continue;
            }
            let mut params = Vec::new();
            for (seg, part) in route.segments.iter().zip(&parts) {
                match seg {
                    Segment::Lit(lit) => {
                        if lit != part {
                            continue 'routes;
                        }
                    }
                    Segment::Param(name) => {
                        if part.is_empty() {
                            continue 'routes;
                        }
                        params.push((name.clone(), percent_decode(part)));
                    }
                }
            }
            return Some((route, params));
        }
        None
    }

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

/// Builds the catalog from the spec JSON.
pub(crate) fn load(root: &Value) -> Result<Catalog, SpecError> {
    let paths = root
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| "spec has no `paths` object".to_string())?;

    // Phase 1: collect operations per entity.
    struct RawOp<'a> {
        path: &'a str,
        path_item: &'a Value,
        op: &'a Value,
        action: Action,
    }
    let mut order: Vec<String> = Vec::new();
    let mut raw: HashMap<String, Vec<RawOp<'_>>> = HashMap::new();
    for (path, item) in paths {
        let Some(op) = item.get("get") else { continue };
        let Some(entity) = op.get("x-airbyte-entity").and_then(Value::as_str) else {
            continue;
        };
        let Some(action) = op
            .get("x-airbyte-action")
            .and_then(Value::as_str)
            .and_then(Action::parse)
        else {
            continue;
        };
        if !raw.contains_key(entity) {
            order.push(entity.to_string());
        }
        raw.entry(entity.to_string()).or_default().push(RawOp {
            path,
            path_item: item,
            op,
            action,
        });
    }
    // Independent of JSON map ordering (serde_json may or may not preserve it).
    order.sort();
    if order.is_empty() {
        return Err("spec has no GET operation with x-airbyte-entity and a list/get action".into());
    }

    // Record schema (raw JSON + $ref name) per entity.
    let mut record_schemas: Vec<(Value, Option<String>)> = Vec::new();
    for name in &order {
        let ops = &raw[name];
        let mut found = None;
        for want in [Action::List, Action::Get] {
            for r in ops.iter().filter(|r| r.action == want) {
                if let Some(s) = record_schema(root, r.op, want) {
                    found = Some(s);
                    break;
                }
            }
            if found.is_some() {
                break;
            }
        }
        record_schemas.push(found.unwrap_or((Value::Object(Map::new()), None)));
    }

    let mut schema_entity = HashMap::new();
    for (i, (_, n)) in record_schemas.iter().enumerate() {
        if let Some(n) = n {
            schema_entity.entry(n.clone()).or_insert(i);
        }
    }
    let compiler = Compiler {
        root,
        schema_entity,
        entity_nouns: order
            .iter()
            .map(|n| humanize(&singular(n)).to_ascii_lowercase())
            .collect(),
        entity_names: order.clone(),
    };

    // Phase 2: build entities and routes.
    let mut entities = Vec::new();
    let mut routes = Vec::new();
    for (idx, name) in order.iter().enumerate() {
        let (schema, _) = &record_schemas[idx];
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
        let mut stack = Vec::new();
        let mut shape = compiler.compile(schema, &singular(name), &mut stack, 0);
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
        let mut list = None;
        let mut get = None;
        for r in &raw[name] {
            let params = collect_params(root, r.path_item, r.op);
            match r.action {
                Action::List if list.is_none() => {
                    list = Some(list_op(r.op, name, &params, &shape));
                }
                Action::Get if get.is_none() => {
                    let id_param = params
                        .iter()
                        .find(|p| p.get("in").and_then(Value::as_str) == Some("path"))
                        .and_then(|p| p.get("name").and_then(Value::as_str))
                        .map(str::to_string)
                        .or_else(|| last_template_param(r.path))
                        .unwrap_or_else(|| "id".to_string());
                    get = Some(GetOp {
                        field: extractor_field(r.op, "x-airbyte-record-extractor")
                            .unwrap_or_else(|| singular(name)),
                        id_param,
                    });
                }
                _ => continue,
            }
            routes.push(Route {
                segments: template_segments(r.path),
                entity: idx,
                action: r.action,
            });
        }
        entities.push(EntityDef {
            name: name.clone(),
            names,
            list,
            get,
            shape,
            has_reference,
        });
    }
    Ok(Catalog { entities, routes })
}

fn template_segments(path: &str) -> Vec<Segment> {
    path.strip_prefix('/')
        .unwrap_or(path)
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(p) => Segment::Param(p.to_string()),
                None => Segment::Lit(s.to_string()),
            },
        )
        .collect()
}

fn last_template_param(path: &str) -> Option<String> {
    template_segments(path)
        .into_iter()
        .rev()
        .find_map(|s| match s {
            Segment::Param(p) => Some(p),
            Segment::Lit(_) => None,
        })
}

/// `$.incidents` → `incidents`.
fn extractor_field(op: &Value, key: &str) -> Option<String> {
    let path = op.get(key)?.as_str()?;
    jsonpath_segments(path).into_iter().next()
}

/// `$.pagination_meta.after` → `["pagination_meta", "after"]`.
fn jsonpath_segments(path: &str) -> Vec<String> {
    path.trim_start_matches('$')
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
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

fn list_op(op: &Value, entity: &str, params: &[&Value], shape: &Shape) -> ListOp {
    let field = extractor_field(op, "x-airbyte-record-extractor").unwrap_or_else(|| entity.into());
    let query: Vec<&Value> = params
        .iter()
        .copied()
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .collect();
    let pname = |p: &Value| {
        p.get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let cursor_path = op
        .get("x-airbyte-meta-extractor")
        .and_then(|m| m.get("next_cursor"))
        .and_then(Value::as_str)
        .map(jsonpath_segments)
        .filter(|s| !s.is_empty());
    let pagination = cursor_path.map(|cursor_path| {
        let cursor_param = ["after", "cursor", "starting_after", "page_token"]
            .iter()
            .find(|c| query.iter().any(|p| pname(p) == **c))
            .map_or_else(|| "after".to_string(), |c| c.to_string());
        let size = query
            .iter()
            .find(|p| matches!(pname(p).as_str(), "page_size" | "limit" | "per_page"));
        let schema = size.and_then(|p| p.get("schema"));
        let num = |k: &str| {
            schema
                .and_then(|s| s.get(k))
                .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        };
        let min = num("minimum").unwrap_or(1);
        let max = num("maximum");
        let mut default = num("default").unwrap_or(25);
        if let Some(max) = max {
            default = default.min(max);
        }
        default = default.max(min);
        Pagination {
            cursor_param,
            cursor_path,
            size_param: size.map_or_else(|| "page_size".to_string(), |p| pname(p)),
            min,
            max,
            default,
            required: size
                .and_then(|p| p.get("required"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    });
    let props: Vec<&str> = match &shape.kind {
        Kind::Object(o) => o.props.iter().map(|p| p.name.as_str()).collect(),
        _ => Vec::new(),
    };
    let filters = query
        .iter()
        .map(|p| pname(p))
        .filter(|n| {
            pagination
                .as_ref()
                .is_none_or(|pg| *n != pg.cursor_param && *n != pg.size_param)
                && props.contains(&n.as_str())
        })
        .collect();
    ListOp {
        field,
        pagination,
        filters,
    }
}

/// Finds the record schema of an operation: the envelope field's schema (its `items` for
/// lists). Returns the raw schema and, when it is a `$ref`, the referenced schema name.
fn record_schema(root: &Value, op: &Value, action: Action) -> Option<(Value, Option<String>)> {
    let field = extractor_field(op, "x-airbyte-record-extractor")?;
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
    let envelope = resolve(root, media.get("schema")?).0;
    let mut node = envelope.get("properties")?.get(&field)?;
    if action == Action::List {
        let (arr, _) = resolve(root, node);
        node = arr.get("items")?;
    }
    let name = ref_name(node);
    Some((node.clone(), name))
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
            for part in parts {
                let (p, _) = resolve(self.root, part);
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
        // oneOf/anyOf: first non-null alternative.
        for k in ["oneOf", "anyOf"] {
            if let Some(alts) = schema.get(k).and_then(Value::as_array) {
                let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
                let nullable = alts.iter().any(is_null);
                if let Some(alt) = alts.iter().find(|a| !is_null(a)) {
                    let mut s = self.compile(alt, key, stack, depth);
                    s.nullable |= nullable;
                    return s;
                }
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
        let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
        let num = |k: &str| schema.get(k).and_then(Value::as_f64);
        let kind = match ty.as_deref() {
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

//! Operation-level reading of the spec: record extractors (a JSONPath subset), request
//! parameters with their wire forms and checks, meta extractors, and the pagination form
//! each list follows.
//!
//! A POST read's JSON body properties are parameters too (`Loc::Body`): the request body's
//! top-level members become name/value pairs ([`body_pairs`]) beside the query's, so
//! pagination, filters and lookups read them like query parameters, and
//! [`ParamDef::check_body`] checks them with JSON types.
//!
//! The pagination form is derived from the operation alone (its meta extractor and the
//! query parameters or body properties it declares), as the constructs document describes
//! it (§7.2, §7.3):
//!
//! - **state**: where the position travels in the request: a declared cursor parameter
//!   (`after`, `cursor`, `starting_after`, `page_token`, `pageToken`, `page[cursor]`, ...)
//!   carrying a token, a page-number parameter (`page`, `page[number]`, ...) or an offset
//!   parameter (`offset`, `start`, `skip`, ...); the page size is a size parameter
//!   (`page_size`, `limit`, ..., or a GraphQL connection's `first`);
//! - **carrier**: how the next position is announced: body values at the meta extractor's
//!   paths, an RFC 8288 `Link` header (`@link.next`), a response header (`@header.X`), or a
//!   next-page URL in the body (a meta key naming a URL, such as `next_page_url`).

use serde_json::Value;

use super::backend::ApiError;

/// One step of a record or meta extractor path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// `.name` (or `['name']`).
    Field(String),
    /// `[N]`.
    Index(usize),
    /// `[*]` (or `.*`).
    Wild,
}

/// Parses the JSONPath subset the specs use: `$`, `.name`, `['name']`, `[N]`, `[*]`.
/// `None` for anything else.
pub(crate) fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let rest = path.trim().strip_prefix('$')?;
    let mut out = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                let name = &rest[start..j];
                if name.is_empty() {
                    return None;
                }
                out.push(if name == "*" {
                    Seg::Wild
                } else {
                    Seg::Field(name.to_string())
                });
                i = j;
            }
            b'[' => {
                let end = rest[i..].find(']')? + i;
                let inner = rest[i + 1..end].trim();
                if inner == "*" {
                    out.push(Seg::Wild);
                } else if let Ok(n) = inner.parse::<usize>() {
                    out.push(Seg::Index(n));
                } else if inner.len() >= 2
                    && ((inner.starts_with('\'') && inner.ends_with('\''))
                        || (inner.starts_with('"') && inner.ends_with('"')))
                {
                    out.push(Seg::Field(inner[1..inner.len() - 1].to_string()));
                } else {
                    return None;
                }
                i = end + 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

// ───────────────────────────── parameters ─────────────────────────────

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    /// `in: query`.
    Query,
    /// `in: header`.
    Header,
    /// `in: path`.
    Path,
    /// A top-level property of an `application/json` request body (a POST read); read
    /// from the spec's `requestBody` schema as a parameter `in: body`.
    Body,
}

/// Scalar type of a parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SType {
    /// Any text.
    Str,
    /// A decimal integer.
    Int,
    /// A decimal number.
    Num,
    /// `true` or `false`.
    Bool,
}

/// A scalar value's type and allowed values (as text; empty when unconstrained).
#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    /// Type.
    pub ty: SType,
    /// `enum`, as wire text.
    pub enum_vals: Vec<String>,
}

/// Shape of a parameter value.
#[derive(Debug, Clone)]
pub(crate) enum PKind {
    /// One value.
    Scalar(Scalar),
    /// An array of items.
    Array(Scalar),
    /// An object (deepObject `k[sub]=v`), with its declared properties.
    Object(Vec<(String, Scalar)>),
}

/// Serialization style of a query array or object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `form` (the default).
    Form,
    /// `deepObject`.
    DeepObject,
    /// `spaceDelimited`.
    Space,
    /// `pipeDelimited`.
    Pipe,
}

/// One declared parameter.
#[derive(Debug, Clone)]
pub(crate) struct ParamDef {
    /// Wire name, verbatim (`page[size]`, `X-Tally-Version`).
    pub name: String,
    /// Location.
    pub loc: Loc,
    /// `required: true`.
    pub required: bool,
    /// `schema.default`.
    pub default: Option<Value>,
    /// Value shape.
    pub kind: PKind,
    /// `style` (query arrays and objects).
    pub style: Style,
    /// `explode` (default true for `form`).
    pub explode: bool,
    /// `schema.minimum` / `maximum` (numbers only).
    pub min: Option<i64>,
    /// See `min`.
    pub max: Option<i64>,
}

/// Text form of a JSON scalar as it travels in a query string.
pub(crate) fn wire_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The top-level members of a JSON request body as name/value pairs, the way query
/// parameters arrive: scalars as wire text (`200`, `true`), arrays as one pair per item,
/// objects (and objects in arrays) as compact JSON, `null` left out.
pub(crate) fn body_pairs(body: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in body {
        match v {
            Value::Array(items) => {
                out.extend(items.iter().filter_map(wire_text).map(|t| (k.clone(), t)))
            }
            v => out.extend(wire_text(v).map(|t| (k.clone(), t))),
        }
    }
    out
}

impl ParamDef {
    /// Reads a parameter object (its `$ref` already resolved) with `resolve` for schema refs.
    pub(crate) fn read(p: &Value, resolve: &dyn Fn(&Value) -> Value) -> Option<ParamDef> {
        let name = p.get("name")?.as_str()?.to_string();
        let loc = match p.get("in")?.as_str()? {
            "query" => Loc::Query,
            "header" => Loc::Header,
            "path" => Loc::Path,
            "body" => Loc::Body,
            _ => return None,
        };
        let schema = p.get("schema").map(resolve).unwrap_or(Value::Null);
        let schema = non_null(&schema, resolve);
        let style = match p.get("style").and_then(Value::as_str) {
            Some("deepObject") => Style::DeepObject,
            Some("spaceDelimited") => Style::Space,
            Some("pipeDelimited") => Style::Pipe,
            _ => Style::Form,
        };
        let explode = p
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == Style::Form || style == Style::DeepObject);
        let kind = match type_name(&schema).as_deref() {
            Some("array") => {
                let items = schema.get("items").map(resolve).unwrap_or(Value::Null);
                PKind::Array(scalar(&non_null(&items, resolve)))
            }
            Some("object") => PKind::Object(
                schema
                    .get("properties")
                    .and_then(Value::as_object)
                    .map(|props| {
                        props
                            .iter()
                            .map(|(k, v)| (k.clone(), scalar(&non_null(&resolve(v), resolve))))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => PKind::Scalar(scalar(&schema)),
        };
        let num = |k: &str| {
            schema
                .get(k)
                .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        };
        Some(ParamDef {
            name,
            loc,
            required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
            default: schema.get("default").filter(|v| !v.is_null()).cloned(),
            kind,
            style,
            explode,
            min: num("minimum"),
            max: num("maximum"),
        })
    }

    /// The default as wire text.
    pub(crate) fn default_text(&self) -> Option<String> {
        self.default.as_ref().and_then(wire_text)
    }

    /// The values a request carries for this query parameter: every repetition, each
    /// split on the style's delimiter when `explode` is false (so `k=a,b` and `k=a&k=b`
    /// both give `[a, b]` when the declaration says so), or the `k[sub]` pairs of a
    /// deepObject (as `sub=value`).
    pub(crate) fn values(&self, pairs: &[(String, String)]) -> Vec<String> {
        if let (PKind::Object(_), Style::DeepObject) = (&self.kind, self.style) {
            return pairs
                .iter()
                .filter_map(|(k, v)| deep_sub(k, &self.name).map(|s| format!("{s}={v}")))
                .collect();
        }
        let raw = pairs
            .iter()
            .filter(|(k, _)| *k == self.name)
            .map(|(_, v)| v);
        match (&self.kind, self.explode) {
            (PKind::Array(_), false) => {
                let sep = match self.style {
                    Style::Space => ' ',
                    Style::Pipe => '|',
                    _ => ',',
                };
                raw.flat_map(|v| v.split(sep).map(str::to_string).collect::<Vec<_>>())
                    .collect()
            }
            _ => raw.cloned().collect(),
        }
    }

    /// Checks what the request carries for this parameter (query pairs, or the header's
    /// value): presence when required (a header with a default may be absent), types and
    /// enums (of scalars, array items and deepObject members). The error names the
    /// parameter (and the member, for a deepObject).
    pub(crate) fn check(
        &self,
        pairs: &[(String, String)],
        header: Option<&str>,
    ) -> Result<(), ApiError> {
        match self.loc {
            Loc::Path | Loc::Body => Ok(()),
            Loc::Header => match header {
                None if self.required && self.default.is_none() => {
                    Err(missing(&self.name, "header"))
                }
                None => Ok(()),
                Some(v) => match &self.kind {
                    PKind::Scalar(s) | PKind::Array(s) => check_scalar(&self.name, s, v),
                    PKind::Object(_) => Ok(()),
                },
            },
            Loc::Query => {
                let values = self.values(pairs);
                let present = match &self.kind {
                    PKind::Scalar(_) => values.first().is_some_and(|v| !v.is_empty()),
                    _ => !values.is_empty(),
                };
                if !present {
                    return if self.required {
                        Err(missing(&self.name, "query parameter"))
                    } else {
                        Ok(())
                    };
                }
                match &self.kind {
                    PKind::Scalar(s) => check_scalar(&self.name, s, &values[0]),
                    PKind::Array(s) => values
                        .iter()
                        .try_for_each(|v| check_scalar(&self.name, s, v)),
                    PKind::Object(props) => values.iter().try_for_each(|kv| {
                        let (sub, v) = kv.split_once('=').unwrap_or((kv, ""));
                        match props.iter().find(|(k, _)| k == sub) {
                            Some((_, s)) => check_scalar(&format!("{}[{sub}]", self.name), s, v),
                            None => Ok(()),
                        }
                    }),
                }
            }
        }
    }
}

impl ParamDef {
    /// Checks this body property in a JSON request body, as [`check`](Self::check) does
    /// for a query parameter (same errors, naming the property): present when required
    /// (absent or `null` is missing), integers, numbers and booleans of that JSON type,
    /// enum members (of scalars, array items and declared object members). Values the
    /// schema does not describe as scalars (objects in arrays, undeclared members) pass.
    pub(crate) fn check_body(&self, body: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
        let v = match body.get(&self.name) {
            None | Some(Value::Null) if self.required => {
                return Err(missing(&self.name, "body property"))
            }
            None | Some(Value::Null) => return Ok(()),
            Some(v) => v,
        };
        let shape_err = |want: &str| {
            Err(invalid(
                &self.name,
                format!("{} must be {want}, got {v}", self.name),
            ))
        };
        match &self.kind {
            PKind::Scalar(s) => check_json_scalar(&self.name, s, v),
            PKind::Array(s) => match v {
                Value::Array(items) => items
                    .iter()
                    .try_for_each(|item| check_json_scalar(&self.name, s, item)),
                _ => shape_err("an array"),
            },
            PKind::Object(props) => match v {
                Value::Object(members) => members.iter().try_for_each(|(k, mv)| {
                    match props.iter().find(|(p, _)| p == k) {
                        Some((_, s)) if !mv.is_null() => {
                            check_json_scalar(&format!("{}.{k}", self.name), s, mv)
                        }
                        _ => Ok(()),
                    }
                }),
                _ => shape_err("an object"),
            },
        }
    }
}

/// Checks one JSON value against a scalar schema: integers, numbers and booleans must be
/// of that JSON type, enum members compared as wire text. Strings (and untyped values)
/// accept any JSON value; objects and arrays are not checked further.
fn check_json_scalar(name: &str, s: &Scalar, v: &Value) -> Result<(), ApiError> {
    if v.is_object() || v.is_array() {
        return match s.ty {
            SType::Str => Ok(()),
            _ => Err(invalid(
                name,
                format!("{name} must be {}, got {v}", want(s.ty)),
            )),
        };
    }
    let ok_type = match s.ty {
        SType::Str => true,
        SType::Int => v.is_i64() || v.is_u64(),
        SType::Num => v.is_number(),
        SType::Bool => v.is_boolean(),
    };
    if !ok_type {
        return Err(invalid(
            name,
            format!("{name} must be {}, got {v}", want(s.ty)),
        ));
    }
    let text = wire_text(v).unwrap_or_default();
    if !s.enum_vals.is_empty() && !s.enum_vals.contains(&text) {
        return Err(invalid(
            name,
            format!("{name} must be one of {}, got {v}", s.enum_vals.join(", ")),
        ));
    }
    Ok(())
}

/// What a value of this type must be, for error messages.
fn want(ty: SType) -> &'static str {
    match ty {
        SType::Int => "an integer",
        SType::Num => "a number",
        SType::Bool => "true or false",
        SType::Str => "a string",
    }
}

fn invalid(name: &str, message: String) -> ApiError {
    ApiError {
        status: 400,
        error_type: "validation_error",
        code: "invalid_value",
        message,
        field: Some(name.to_string()),
    }
}

/// `filter[priority_gte]` with name `filter` → `priority_gte`.
fn deep_sub<'a>(key: &'a str, name: &str) -> Option<&'a str> {
    key.strip_prefix(name)?.strip_prefix('[')?.strip_suffix(']')
}

/// A 400 `missing_parameter` naming the parameter (`what`: "query parameter", ...).
pub(crate) fn missing(name: &str, what: &str) -> ApiError {
    ApiError {
        status: 400,
        error_type: "validation_error",
        code: "missing_parameter",
        message: format!("The {what} {name} is required"),
        field: Some(name.to_string()),
    }
}

fn check_scalar(name: &str, s: &Scalar, v: &str) -> Result<(), ApiError> {
    let bad = |why: String| invalid(name, format!("{name} {why}, got {v:?}"));
    let ok_type = match s.ty {
        SType::Str => true,
        SType::Int => v.parse::<i64>().is_ok(),
        SType::Num => v.parse::<f64>().is_ok_and(f64::is_finite),
        SType::Bool => v == "true" || v == "false",
    };
    if !ok_type {
        return Err(bad(format!("must be {}", want(s.ty))));
    }
    if !s.enum_vals.is_empty() && !s.enum_vals.iter().any(|e| e == v) {
        return Err(bad(format!("must be one of {}", s.enum_vals.join(", "))));
    }
    Ok(())
}

/// The first non-null type of a schema (`type: X`, `type: [X, "null"]`, or implied).
pub(crate) fn type_name(schema: &Value) -> Option<String> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_string),
        _ if schema.get("items").is_some() => Some("array".into()),
        _ if schema.get("properties").is_some() => Some("object".into()),
        _ => None,
    }
}

/// `oneOf`/`anyOf` `[X, {type: null}]` → `X` (resolved); anything else as is.
fn non_null(schema: &Value, resolve: &dyn Fn(&Value) -> Value) -> Value {
    for k in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(k).and_then(Value::as_array) {
            if let Some(alt) = alts
                .iter()
                .map(resolve)
                .find(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            {
                return alt;
            }
        }
    }
    schema.clone()
}

fn scalar(schema: &Value) -> Scalar {
    let enum_vals: Vec<String> = schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|vs| vs.iter().filter_map(wire_text).collect())
        .unwrap_or_default();
    let ty = match type_name(schema).as_deref() {
        Some("integer") => SType::Int,
        Some("number") => SType::Num,
        Some("boolean") => SType::Bool,
        _ => SType::Str,
    };
    Scalar { ty, enum_vals }
}

// ───────────────────────────── pagination ─────────────────────────────

/// Query parameter names that carry an opaque cursor.
const CURSOR_PARAMS: &[&str] = &[
    "after",
    "cursor",
    "starting_after",
    "page_token",
    "pageToken",
    "page[cursor]",
    "page[after]",
    "next_token",
    "nextToken",
    "next_cursor",
    "continuation_token",
    "continuationToken",
];
/// Query parameter names that carry a page number.
const PAGE_PARAMS: &[&str] = &["page", "page[number]", "pageNumber", "page_number"];
/// Query parameter names that carry an offset.
const OFFSET_PARAMS: &[&str] = &["offset", "page[offset]", "start", "skip"];
/// Query parameter names that carry the page size.
const SIZE_PARAMS: &[&str] = &[
    "page_size",
    "limit",
    "per_page",
    "page[size]",
    "pageSize",
    "count",
    "page[limit]",
    "size",
    "max_results",
    "maxResults",
    // GraphQL connections (Relay): `first` with `after`.
    "first",
];
/// Page size when the list declares no page-size parameter (or it has no default).
pub(crate) const DEFAULT_PAGE_SIZE: i64 = 25;
/// State parameter used in next-page URLs of lists that declare none.
pub(crate) const UNDECLARED_PAGE_PARAM: &str = "page";

/// Where the position travels in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// An opaque token in `param`: the id of the last record seen when the entity has
    /// emulator ids (incident.io's `after`), else an emulator token.
    Cursor {
        /// Query parameter.
        param: String,
        /// Tokens are record ids (set once the entity's record shape is known).
        ids: bool,
    },
    /// A page number in `param`, first page `base`.
    Page {
        /// Query parameter.
        param: String,
        /// Number of the first page (0 when the parameter's minimum is 0, else 1).
        base: i64,
    },
    /// An offset (records to skip) in `param`.
    Offset {
        /// Query parameter.
        param: String,
    },
}

impl State {
    /// The query parameter.
    pub(crate) fn param(&self) -> &str {
        match self {
            State::Cursor { param, .. } | State::Page { param, .. } | State::Offset { param } => {
                param
            }
        }
    }
}

/// How the next position is announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Carrier {
    /// Values at the meta extractor's body paths.
    Body,
    /// An RFC 8288 `Link` header with this `rel`, holding an absolute next-page URL.
    Link(String),
    /// This response header holds the next cursor.
    Header(String),
    /// A body value holds the next-page URL: absolute, or an absolute path (no origin).
    Url {
        /// Absolute URL (`http://host/path?query`), else `/path?query`.
        absolute: bool,
    },
}

/// The page-size parameter.
#[derive(Debug, Clone)]
pub(crate) struct Size {
    /// Its name, if the list declares one.
    pub param: Option<String>,
    /// Smallest accepted size.
    pub min: i64,
    /// Largest size, if bounded.
    pub max: Option<i64>,
    /// Size when absent.
    pub default: i64,
    /// Must be sent.
    pub required: bool,
}

/// What a meta value means, guessed from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The next position (token, page number or offset, per the state); absent on the last page.
    Cursor,
    /// `true` while more records follow.
    HasMore,
    /// `true` on the last page.
    Done,
    /// Current page number.
    Page,
    /// Next page number, `null` on the last page.
    NextPage,
    /// Number of pages.
    TotalPages,
    /// Number of records (after filters).
    Total,
    /// Offset of this page.
    Offset,
    /// Offset of the next page, `null` on the last page.
    NextOffset,
    /// Page size used.
    Limit,
    /// Next-page URL, `null` on the last page.
    Url,
    /// Unknown: `null`.
    Unknown,
}

/// Where a meta value is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MetaSrc {
    /// A body path.
    Body(Vec<Seg>),
    /// `@link.<rel>`.
    Link(String),
    /// `@header.<Name>`.
    Header(String),
}

/// One `x-airbyte-meta-extractor` entry.
#[derive(Debug, Clone)]
pub(crate) struct MetaField {
    /// Key (free-form).
    pub key: String,
    /// Source.
    pub src: MetaSrc,
    /// Meaning.
    pub role: Role,
}

/// The pagination of a list or search.
#[derive(Debug, Clone)]
pub(crate) struct Paging {
    /// Position in the request.
    pub state: State,
    /// Next position in the response.
    pub carrier: Carrier,
    /// Page size.
    pub size: Size,
    /// Every meta value, in spec order.
    pub meta: Vec<MetaField>,
}

fn norm(key: &str) -> String {
    key.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn role_of(key: &str, cursor_declared: bool, page_declared: bool, any_state: bool) -> Role {
    let n = norm(key);
    match n.as_str() {
        "hasmore" | "hasnext" | "hasnextpage" | "more" | "moreitems" | "hasmoreitems" => {
            return Role::HasMore
        }
        "done" | "islast" | "islastpage" | "finished" | "complete" | "completed" => {
            return Role::Done
        }
        "page" | "currentpage" | "pagenumber" | "pageno" => return Role::Page,
        "totalpages" | "pagecount" | "pages" | "lastpage" | "numpages" => return Role::TotalPages,
        "offset" | "start" | "skip" => return Role::Offset,
        "nextoffset" | "nextstart" => return Role::NextOffset,
        "limit" | "pagesize" | "perpage" | "size" => return Role::Limit,
        "next" if cursor_declared => return Role::Cursor,
        "next" if !any_state => return Role::Url,
        "nextpage" if page_declared => return Role::NextPage,
        "nextpage" if !any_state => return Role::Url,
        _ => {}
    }
    if ["url", "link", "href"].iter().any(|w| n.contains(w)) {
        Role::Url
    } else if n.contains("total") || n.contains("count") {
        Role::Total
    } else if ["cursor", "token", "after", "next", "lastid", "continuation"]
        .iter()
        .any(|w| n.contains(w))
    {
        Role::Cursor
    } else {
        Role::Unknown
    }
}

/// Reads the pagination of a list/search from its meta extractor and query parameters.
/// `None` for `x-airbyte-no-pagination` and lists without a meta extractor.
pub(crate) fn paging(op: &Value, params: &[ParamDef]) -> Option<Paging> {
    if op.get("x-airbyte-no-pagination").is_some() {
        return None;
    }
    let meta_obj = op.get("x-airbyte-meta-extractor")?.as_object()?;
    // State and size travel in the query, or in the JSON body of a POST read.
    let query: Vec<&ParamDef> = params
        .iter()
        .filter(|p| matches!(p.loc, Loc::Query | Loc::Body))
        .collect();
    let find = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| query.iter().find(|p| p.name == *n).copied())
    };
    let cursor_p = find(CURSOR_PARAMS);
    let page_p = find(PAGE_PARAMS);
    let offset_p = find(OFFSET_PARAMS);
    let any_state = cursor_p.is_some() || page_p.is_some() || offset_p.is_some();

    let mut meta: Vec<MetaField> = Vec::new();
    for (key, v) in meta_obj {
        let Some(s) = v.as_str() else { continue };
        let src = if let Some(rel) = s.strip_prefix("@link.") {
            MetaSrc::Link(rel.to_string())
        } else if let Some(h) = s.strip_prefix("@header.") {
            MetaSrc::Header(h.to_string())
        } else {
            match parse_path(s) {
                Some(segs) if !segs.is_empty() => MetaSrc::Body(segs),
                _ => continue,
            }
        };
        meta.push(MetaField {
            key: key.clone(),
            role: role_of(key, cursor_p.is_some(), page_p.is_some(), any_state),
            src,
        });
    }
    if meta.is_empty() {
        return None;
    }

    let link = meta.iter().find_map(|m| match &m.src {
        MetaSrc::Link(rel) => Some(rel.clone()),
        _ => None,
    });
    let header = meta.iter().find_map(|m| match &m.src {
        MetaSrc::Header(h) if m.role == Role::Cursor => Some(h.clone()),
        _ => None,
    });
    let body_url = meta
        .iter()
        .any(|m| matches!(m.src, MetaSrc::Body(_)) && m.role == Role::Url);
    let carrier = if let Some(rel) = link {
        Carrier::Link(rel)
    } else if let Some(h) = header {
        Carrier::Header(h)
    } else if body_url {
        Carrier::Url {
            absolute: any_state,
        }
    } else {
        Carrier::Body
    };

    let page_state = |p: &ParamDef| State::Page {
        param: p.name.clone(),
        base: if p.min == Some(0) { 0 } else { 1 },
    };
    let state = if let Some(p) = cursor_p {
        State::Cursor {
            param: p.name.clone(),
            ids: false,
        }
    } else if let (Some(p), false) = (page_p, matches!(carrier, Carrier::Header(_))) {
        page_state(p)
    } else if let (Some(p), false) = (offset_p, matches!(carrier, Carrier::Header(_))) {
        State::Offset {
            param: p.name.clone(),
        }
    } else {
        match carrier {
            Carrier::Body => State::Cursor {
                param: "after".into(),
                ids: false,
            },
            Carrier::Header(_) => State::Cursor {
                param: "cursor".into(),
                ids: false,
            },
            _ => State::Page {
                param: UNDECLARED_PAGE_PARAM.into(),
                base: 1,
            },
        }
    };

    // A body-carried cursor needs one meta key holding it.
    if carrier == Carrier::Body
        && !meta
            .iter()
            .any(|m| matches!(m.src, MetaSrc::Body(_)) && is_next_role(m.role, &state))
    {
        if let Some(m) = meta
            .iter_mut()
            .find(|m| matches!(m.src, MetaSrc::Body(_)) && m.role == Role::Unknown)
        {
            m.role = Role::Cursor;
        }
    }

    let size_p = find(SIZE_PARAMS);
    let min = size_p.and_then(|p| p.min).unwrap_or(1).max(1);
    let max = size_p.and_then(|p| p.max);
    let mut default = size_p
        .and_then(|p| p.default.as_ref())
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        .unwrap_or(DEFAULT_PAGE_SIZE);
    if let Some(max) = max {
        default = default.min(max);
    }
    default = default.max(min);
    Some(Paging {
        state,
        carrier,
        size: Size {
            param: size_p.map(|p| p.name.clone()),
            min,
            max,
            default,
            required: size_p.is_some_and(|p| p.required),
        },
        meta,
    })
}

/// True when a meta value of this role announces the next position under this state.
fn is_next_role(role: Role, state: &State) -> bool {
    match state {
        State::Cursor { .. } => role == Role::Cursor,
        State::Page { .. } => matches!(role, Role::Cursor | Role::NextPage | Role::HasMore),
        State::Offset { .. } => matches!(
            role,
            Role::Cursor | Role::NextOffset | Role::Total | Role::HasMore
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonpath_subset() {
        use Seg::*;
        let f = |s: &str| Field(s.to_string());
        assert_eq!(parse_path("$"), Some(vec![]));
        assert_eq!(parse_path("$.a.b.c"), Some(vec![f("a"), f("b"), f("c")]));
        assert_eq!(parse_path("$.data[0]"), Some(vec![f("data"), Index(0)]));
        assert_eq!(
            parse_path("$.list[*].customer"),
            Some(vec![f("list"), Wild, f("customer")])
        );
        assert_eq!(parse_path("$[*][*]"), Some(vec![Wild, Wild]));
        assert_eq!(parse_path("$['a.b']"), Some(vec![f("a.b")]));
        assert_eq!(parse_path("data"), None);
        assert_eq!(parse_path("$.a[x]"), None);
    }

    #[test]
    fn roles() {
        assert_eq!(role_of("next_cursor", true, false, true), Role::Cursor);
        assert_eq!(role_of("nextRecordsUrl", false, false, false), Role::Url);
        assert_eq!(role_of("totalSize", false, false, false), Role::Total);
        assert_eq!(role_of("has_more", true, false, true), Role::HasMore);
        assert_eq!(role_of("last_id", true, false, true), Role::Cursor);
        assert_eq!(role_of("next_page", false, true, true), Role::NextPage);
        assert_eq!(role_of("next", false, false, false), Role::Url);
        assert_eq!(role_of("row_count", true, false, true), Role::Total);
    }
}

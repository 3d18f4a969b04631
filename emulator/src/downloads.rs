//! Downloads (`x-airbyte-action: download`): the bytes of a file, in one step or two.
//!
//! - **Bytes**: file `part` of record `id` of an entity is a pure function of the seed, the
//!   entity name, the id and the part ([`payload`]): a first line naming them, then
//!   pseudo-random bytes, between 1 KiB and 256 KiB long, the length depending on the id.
//!   When the download's entity has records (it also has a served list or get), the id
//!   must name one that exists (else 404, as a `get` answers); otherwise any id has a file.
//! - **One step** (no `x-airbyte-file-url`): the operation answers the bytes of part 0 with
//!   the 200 response's media type (`application/octet-stream`), `Content-Length`,
//!   `Accept-Ranges: bytes` and a `Content-Disposition` file name. A single `Range: bytes=a-b`
//!   (or `a-`, or `-n`) gets a 206 with `Content-Range`; an unsatisfiable one a 416
//!   (`Content-Range: bytes */len`); other forms (several ranges, another unit) are ignored
//!   (the whole file, 200).
//! - **Two steps** (`x-airbyte-file-url`): the operation answers JSON metadata synthesized
//!   from its 200 schema (the entity's record values when the entity has records), where the
//!   file URL path leads to an absolute URL of the file: a `[N]` array gets at least `N + 1`
//!   elements (the URL at `N` serves part 0); a `[{param}]` array gets max(3, value + 1)
//!   elements (value: the request's parameter, else its default, else 0; under 64), element
//!   `k` serving part `k`. Siblings of the URL named `size_bytes`, `bytes`, `size`,
//!   `content_length` or `file_size` carry the file's length, and `mime_type` / `content_type`
//!   its type. The error-check field is set to its success value (and the message field to
//!   `null`) on object bodies. URLs the spec describes as pre-signed (or on another host, a
//!   CDN, a storage URL; see `spec.rs`) point at the emulator's second listener (the
//!   "storage host", [`Emulator::storage_url`](super::Emulator::storage_url)):
//!   `http://127.0.0.1:<storage port>/__files/<token>?sig=<signature>`, served without auth
//!   (a wrong or missing `sig` is a 403); other URLs are under the API's base URL, as the
//!   request reached it (`http://<Host><server prefix>/__downloads/<token>`), and need the
//!   API's auth like any API route. Both honour `Range`.
//! - **Hosted `/execute`** with action `download` runs the same download (both steps inside),
//!   with the path parameters, query parameters and body properties in `params` (`id` may
//!   stand for the parameter naming the file). `range_header` is the `Range`;
//!   `_airbyte_response_type: "json"` answers one chunk ([`chunk`]) as
//!   `{"result": {content, encoding, bytes_returned, range_requested, next_range_header,
//!   has_more, content_type}, "connector_metadata": {}}`, otherwise the bytes themselves.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::backend::{ApiError, Backend, Params};
use super::ops::{Loc, ParamDef};
use super::spec::{hash_str, mix, Kind, Names, Shape};

/// Largest chunk the hosted chunk mode returns.
pub(crate) const MAX_CHUNK: usize = 65_536;
/// Path of pre-signed file URLs (on the storage listener; no auth).
pub(crate) const FILES_PATH: &str = "/__files/";
/// Path of file URLs under the API's base URL (auth as the API).
pub(crate) const DOWNLOADS_PATH: &str = "/__downloads/";
/// `[{param}]` arrays hold at least this many files.
const MIN_PARTS: usize = 3;
/// A `[{param}]` index at or above this gets no extra parts.
const MAX_PARTS: usize = 64;

/// One step of an `x-airbyte-file-url` (not JSONPath).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FSeg {
    /// `name`.
    Field(String),
    /// `[N]`.
    Index(usize),
    /// `[{param}]`: the index is a request parameter's value.
    Param(String),
}

/// Parses `revision.export_links[0].href`, `[0].url`, `files[{file_index}].href` (a leading
/// `$.` is tolerated).
pub(crate) fn parse_file_url(s: &str) -> Option<Vec<FSeg>> {
    let s = s.trim();
    let s = s
        .strip_prefix("$.")
        .or_else(|| s.strip_prefix('$'))
        .unwrap_or(s);
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' if !out.is_empty() => i += 1,
            b'[' => {
                let end = s[i..].find(']')? + i;
                let inner = s[i + 1..end].trim();
                if let Some(p) = inner.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                    out.push(FSeg::Param(p.trim().to_string()));
                } else {
                    out.push(FSeg::Index(inner.parse().ok()?));
                }
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                let name = &s[start..i];
                if name.is_empty() {
                    return None;
                }
                out.push(FSeg::Field(name.to_string()));
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A served download.
#[derive(Debug)]
pub(crate) struct DownloadDef {
    /// `x-airbyte-entity`.
    pub entity: String,
    /// Naming strings for synthesized metadata.
    pub names: Names,
    /// The served entity of that name (its records name the files), if any.
    pub served: Option<usize>,
    /// Declared parameters (path, query, header, and body properties `in: body`).
    pub params: Vec<ParamDef>,
    /// The parameter naming the file (the last path parameter, else `id` / `<singular>_id`).
    pub id_param: Option<String>,
    /// Media type of a one-step answer (and of the files).
    pub content_type: String,
    /// The metadata step of a two-step download.
    pub two_step: Option<TwoStep>,
}

/// The metadata step of a two-step download.
#[derive(Debug)]
pub(crate) struct TwoStep {
    /// The file URL's place in the metadata.
    pub path: Vec<FSeg>,
    /// The URL is pre-signed on another host (no auth).
    pub presigned: bool,
    /// The 200 schema, compiled.
    pub shape: Shape,
}

/// A file ready to serve.
#[derive(Debug, Clone)]
pub(crate) struct File {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its media type.
    pub content_type: String,
    /// A file name for `Content-Disposition`.
    pub name: String,
}

/// The bytes of file `part` of `id` of `entity` (see the module docs).
pub(crate) fn payload(seed: u64, entity: &str, id: &str, part: usize) -> Vec<u8> {
    let (h, len) = payload_seed(seed, entity, id, part);
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(format!("emulator file {entity}/{id} part {part}\n").as_bytes());
    let mut k = 0u64;
    while out.len() < len {
        out.extend_from_slice(&mix(h ^ k).to_le_bytes());
        k += 1;
    }
    out.truncate(len);
    out
}

/// The seed and length of a [`payload`].
fn payload_seed(seed: u64, entity: &str, id: &str, part: usize) -> (u64, usize) {
    let h = mix(seed ^ hash_str(entity) ^ mix(hash_str(id) ^ mix(part as u64 + 0xD0)));
    (h, 1024 + (h % (255 * 1024)) as usize)
}

/// What part of a file a `Range` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Span {
    /// The whole file (no range, or one the emulator ignores).
    Full,
    /// Bytes `.0..=.1`.
    Part(usize, usize),
    /// Outside the file (416).
    Unsatisfiable,
}

/// Reads a `Range` header against a file of `len` bytes: one `bytes=a-b`, `bytes=a-` or
/// `bytes=-n`; anything else (several ranges, another unit, malformed) is ignored.
pub(crate) fn span(range: Option<&str>, len: usize) -> Span {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Span::Full;
    };
    if spec.contains(',') {
        return Span::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Span::Full;
    };
    let num = |t: &str| t.trim().parse::<usize>().ok();
    match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, true) => Span::Full,
        (true, false) => match num(b) {
            Some(0) => Span::Unsatisfiable,
            Some(_) if len == 0 => Span::Unsatisfiable,
            Some(n) => Span::Part(len.saturating_sub(n), len - 1),
            None => Span::Full,
        },
        (false, true) => match num(a) {
            Some(a) if a >= len => Span::Unsatisfiable,
            Some(a) => Span::Part(a, len - 1),
            None => Span::Full,
        },
        (false, false) => match (num(a), num(b)) {
            (Some(a), Some(b)) if a > b => Span::Full,
            (Some(a), Some(_)) if a >= len => Span::Unsatisfiable,
            (Some(a), Some(b)) => Span::Part(a, b.min(len - 1)),
            _ => Span::Full,
        },
    }
}

/// The HTTP answer serving `file`, honouring `range` (see [`span`]), plus `extra` headers.
pub(crate) fn file_response(file: &File, range: Option<&str>, extra: HeaderMap) -> Response {
    let len = file.bytes.len();
    let mut headers = extra;
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let ct = HeaderValue::from_str(&file.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    match span(range, len) {
        Span::Unsatisfiable => {
            headers.remove(header::CONTENT_TYPE);
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                headers.insert(header::CONTENT_RANGE, v);
            }
            (StatusCode::RANGE_NOT_SATISFIABLE, headers, Body::empty()).into_response()
        }
        s => {
            headers.insert(header::CONTENT_TYPE, ct);
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name))
            {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            let (status, body) = match s {
                Span::Part(a, b) => {
                    if let Ok(v) = HeaderValue::from_str(&format!("bytes {a}-{b}/{len}")) {
                        headers.insert(header::CONTENT_RANGE, v);
                    }
                    (StatusCode::PARTIAL_CONTENT, file.bytes[a..=b].to_vec())
                }
                _ => (StatusCode::OK, file.bytes.clone()),
            };
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            (status, headers, Body::from(body)).into_response()
        }
    }
}

/// One chunk of the hosted chunk mode: at most [`MAX_CHUNK`] bytes from `range`
/// (`bytes=a-b` or `bytes=a-`; default `bytes=0-65535`), as base64 (or lossy UTF-8 text
/// when `text`); `range_requested` is the range as given (`null` without one). `Err((status, message))` for a malformed range (400) or one starting past
/// the end (416).
pub(crate) fn chunk(file: &File, range: Option<&str>, text: bool) -> Result<Value, (u16, String)> {
    let requested = range
        .map(|r| r.trim().to_string())
        .unwrap_or_else(|| format!("bytes=0-{}", MAX_CHUNK - 1));
    let bad = || {
        (
            400,
            format!("range_header must be `bytes=<start>-<end>`, got {requested:?}"),
        )
    };
    let (a, b) = requested
        .strip_prefix("bytes=")
        .and_then(|s| s.split_once('-'))
        .ok_or_else(bad)?;
    let start: usize = a.trim().parse().map_err(|_| bad())?;
    let end_incl: Option<usize> = match b.trim() {
        "" => None,
        b => Some(b.parse().map_err(|_| bad())?),
    };
    if end_incl.is_some_and(|e| e < start) {
        return Err(bad());
    }
    let len = file.bytes.len();
    if start >= len && !(start == 0 && len == 0) {
        return Err((
            416,
            format!("Range not satisfiable: {requested} of a {len}-byte file"),
        ));
    }
    let last = end_incl
        .unwrap_or(usize::MAX)
        .min(start.saturating_add(MAX_CHUNK - 1));
    let end = last.saturating_add(1).min(len);
    let slice = &file.bytes[start..end];
    let has_more = end < len;
    let content = if text {
        String::from_utf8_lossy(slice).into_owned()
    } else {
        base64::engine::general_purpose::STANDARD.encode(slice)
    };
    Ok(json!({
        "content": content,
        "encoding": if text { "text" } else { "base64" },
        "bytes_returned": slice.len(),
        "range_requested": range.map(str::trim),
        "next_range_header": has_more.then(|| format!("bytes={end}-{}", end + MAX_CHUNK - 1)),
        "has_more": has_more,
        "content_type": file.content_type,
    }))
}

/// The token of a file URL: download `d`, part, id.
pub(crate) fn token(d: usize, part: usize, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{d}:{part}:{id}"))
}

/// Reads a [`token`].
pub(crate) fn read_token(token: &str) -> Option<(usize, usize, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut it = text.splitn(3, ':');
    let d = it.next()?.parse().ok()?;
    let part = it.next()?.parse().ok()?;
    Some((d, part, it.next()?.to_string()))
}

/// The signature of a pre-signed URL's token.
pub(crate) fn signature(seed: u64, token: &str) -> String {
    format!("{:016x}", mix(seed ^ hash_str(token) ^ 0x5167_0000))
}

/// A file name for `Content-Disposition`: the id's safe characters plus an extension
/// guessed from the media type.
fn file_name(id: &str, part: usize, content_type: &str) -> String {
    let mut base: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if base.is_empty() {
        base.push_str("file");
    }
    if part > 0 {
        base.push_str(&format!("-{part}"));
    }
    let mime = content_type.split(';').next().unwrap_or("").trim();
    let ext = match mime {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "text/plain" => "txt",
        "application/zip" => "zip",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        _ => "bin",
    };
    format!("{base}.{ext}")
}

impl Backend {
    /// The download of an entity (its first).
    pub(crate) fn download_of(&self, entity: &str) -> Option<usize> {
        self.catalog()
            .downloads
            .iter()
            .position(|d| d.entity == entity)
    }

    /// Checks that `id` names a file of download `d`: a record that exists when the entity
    /// has records to look up (else a 404 like a `get`'s), any id otherwise.
    pub(crate) fn download_check(&self, d: usize, id: &str) -> Result<(), ApiError> {
        let def = &self.catalog().downloads[d];
        let Some(e) = def.served else { return Ok(()) };
        let entity = &self.catalog().entities[e];
        if entity.key == super::spec::Key::None {
            return Ok(());
        }
        let guard = self.writes();
        match self.locate(e, id, &guard[e]) {
            Some(_) => Ok(()),
            None => Err(ApiError::not_found(format!(
                "We couldn't find a {} with that ID",
                entity.names.noun_lower
            ))),
        }
    }

    /// File `part` of `id` of download `d`, checked with [`download_check`](Self::download_check).
    pub(crate) fn download_file(&self, d: usize, id: &str, part: usize) -> Result<File, ApiError> {
        self.download_check(d, id)?;
        let def = &self.catalog().downloads[d];
        let content_type = if def.two_step.is_some() {
            "application/octet-stream".to_string()
        } else {
            def.content_type.clone()
        };
        Ok(File {
            bytes: payload(self.seed(), &def.entity, id, part),
            name: file_name(id, part, &content_type),
            content_type,
        })
    }

    /// What `Emulator::download_part_bytes` returns: `None` for an entity without a
    /// download or an id naming no file.
    pub(crate) fn download_bytes(&self, entity: &str, id: &str, part: usize) -> Option<Vec<u8>> {
        let d = self.download_of(entity)?;
        self.download_check(d, id).ok()?;
        Some(payload(self.seed(), entity, id, part))
    }

    /// The id a request names (its id parameter's value, else empty).
    pub(crate) fn download_id(&self, d: usize, params: &Params) -> String {
        let def = &self.catalog().downloads[d];
        def.id_param
            .as_deref()
            .and_then(|p| params.get(p))
            .unwrap_or_default()
            .to_string()
    }

    /// The part a two-step request fetches: the `[{param}]` index of its file URL (the
    /// parameter's value, else its default, else 0), 0 for a `[N]` path or a one-step
    /// download. A part the metadata does not list is a 404.
    pub(crate) fn download_part(&self, d: usize, params: &Params) -> Result<usize, ApiError> {
        let def = &self.catalog().downloads[d];
        let Some(two) = &def.two_step else {
            return Ok(0);
        };
        let Some(p) = two.path.iter().find_map(|s| match s {
            FSeg::Param(p) => Some(p),
            _ => None,
        }) else {
            return Ok(0);
        };
        let k = param_index(def, params, p);
        if k >= parts_for(k) {
            return Err(ApiError::not_found(format!(
                "There is no file at index {k} ({p})"
            )));
        }
        Ok(k)
    }

    /// The metadata a two-step download answers (see the module docs); `url(part)` gives
    /// the file URL of each part.
    pub(crate) fn download_metadata(
        &self,
        d: usize,
        id: &str,
        params: &Params,
        url: &dyn Fn(usize) -> String,
    ) -> Result<Value, ApiError> {
        self.download_check(d, id)?;
        let catalog = self.catalog();
        let def = &catalog.downloads[d];
        let Some(two) = &def.two_step else {
            return Err(ApiError::not_found("Not a two-step download".into()));
        };
        let seed = mix(self.seed() ^ hash_str(&def.entity) ^ mix(hash_str(id)));
        let mut out = String::new();
        let record = def.served.and_then(|e| {
            let guard = self.writes();
            let i = self.locate(e, id, &guard[e])?;
            matches!(two.shape.kind, Kind::Object(_)).then_some((e, i))
        });
        match record {
            Some((e, i)) => self.synth().write_record_as(e, i, &two.shape, &mut out),
            None => self
                .synth()
                .write_free(&two.shape, &def.names, seed, &mut out),
        }
        let mut v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        if record.is_none() {
            if let (Value::Object(m), Kind::Object(obj)) = (&mut v, &two.shape.kind) {
                let str_id = obj
                    .props
                    .iter()
                    .any(|p| p.name == "id" && matches!(p.shape.kind, Kind::Str));
                if str_id && !id.is_empty() {
                    m.insert("id".into(), Value::String(id.to_string()));
                }
            }
        }
        let fill = Fill {
            backend: self,
            def,
            id,
            params,
            url,
            seed,
        };
        fill.at(&mut v, Some(&two.shape), &two.path, 0);
        if let Value::Object(m) = &mut v {
            if let Some((field, ok)) = &catalog.ok_flag {
                m.insert(field.clone(), ok.clone());
            }
            if let Some(f) = &catalog.error_message_field {
                if m.contains_key(f) {
                    m.insert(f.clone(), Value::Null);
                }
            }
        }
        Ok(v)
    }
}

/// The requested `[{param}]` index.
fn param_index(def: &DownloadDef, params: &Params, p: &str) -> usize {
    params
        .get(p)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .or_else(|| {
            def.params
                .iter()
                .find(|q| q.name == p)
                .and_then(|q| q.default.as_ref())
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
        })
        .unwrap_or(0)
}

/// How many files a `[{param}]` array lists when index `k` is asked for.
fn parts_for(k: usize) -> usize {
    if k < MAX_PARTS {
        MIN_PARTS.max(k + 1)
    } else {
        MIN_PARTS
    }
}

/// Places the file URLs in synthesized metadata.
struct Fill<'a> {
    backend: &'a Backend,
    def: &'a DownloadDef,
    id: &'a str,
    params: &'a Params,
    url: &'a dyn Fn(usize) -> String,
    seed: u64,
}

impl Fill<'_> {
    /// A synthesized value of `shape` (or an empty container for what `rest` needs).
    fn make(&self, shape: Option<&Shape>, rest: &[FSeg], salt: u64) -> Value {
        if let Some(s) = shape {
            let mut out = String::new();
            self.backend
                .synth()
                .write_free(s, &self.def.names, mix(self.seed ^ salt), &mut out);
            if let Ok(v) = serde_json::from_str::<Value>(&out) {
                if !v.is_null() {
                    return v;
                }
            }
        }
        match rest.first() {
            Some(FSeg::Field(_)) | None => Value::Object(Map::new()),
            Some(_) => Value::Array(Vec::new()),
        }
    }

    fn at(&self, v: &mut Value, shape: Option<&Shape>, segs: &[FSeg], part: usize) {
        let Some((seg, rest)) = segs.split_first() else {
            return;
        };
        let item_shape = shape.and_then(|s| match &s.kind {
            Kind::Array(item) => Some(&**item),
            _ => None,
        });
        match seg {
            FSeg::Field(f) => {
                if !v.is_object() {
                    *v = Value::Object(Map::new());
                }
                let Value::Object(m) = v else { return };
                let child_shape = shape.and_then(|s| match &s.kind {
                    Kind::Object(o) => o.props.iter().find(|p| p.name == *f).map(|p| &p.shape),
                    _ => None,
                });
                if rest.is_empty() {
                    m.insert(f.clone(), Value::String((self.url)(part)));
                    let len = self.backend.download_file_len(self.def, self.id, part);
                    for (k, val) in m.iter_mut() {
                        let fits = |v: &Value, f: fn(&Value) -> bool| v.is_null() || f(v);
                        match k.as_str() {
                            "size_bytes" | "bytes" | "size" | "content_length" | "file_size"
                            | "sizeBytes" | "contentLength" | "fileSize"
                                if fits(val, Value::is_number) =>
                            {
                                *val = Value::from(len);
                            }
                            "mime_type" | "content_type" | "mimeType" | "contentType"
                                if fits(val, Value::is_string) =>
                            {
                                *val = Value::String("application/octet-stream".into());
                            }
                            _ => {}
                        }
                    }
                    return;
                }
                if !m.get(f).is_some_and(|c| c.is_object() || c.is_array()) {
                    let fresh = self.make(child_shape, rest, hash_str(f));
                    m.insert(f.clone(), fresh);
                }
                if let Some(child) = m.get_mut(f) {
                    self.at(child, child_shape, rest, part);
                }
            }
            FSeg::Index(n) => {
                let arr = self.array(v, item_shape, rest, n + 1, None);
                if rest.is_empty() {
                    arr[*n] = Value::String((self.url)(part));
                } else {
                    self.at(&mut arr[*n], item_shape, rest, part);
                }
            }
            FSeg::Param(p) => {
                let count = parts_for(param_index(self.def, self.params, p));
                let arr = self.array(v, item_shape, rest, count, Some(count));
                for (k, item) in arr.iter_mut().enumerate() {
                    if rest.is_empty() {
                        *item = Value::String((self.url)(k));
                    } else {
                        self.at(item, item_shape, rest, k);
                    }
                }
            }
        }
    }

    /// `v` as an array of at least `min` (and at most `max`) synthesized items.
    fn array<'v>(
        &self,
        v: &'v mut Value,
        item: Option<&Shape>,
        rest: &[FSeg],
        min: usize,
        max: Option<usize>,
    ) -> &'v mut Vec<Value> {
        if !v.is_array() {
            *v = Value::Array(Vec::new());
        }
        let Value::Array(arr) = v else {
            unreachable!("just made an array")
        };
        if let Some(max) = max {
            arr.truncate(max);
        }
        while arr.len() < min {
            let k = arr.len() as u64;
            let mut fresh = self.make(item, rest, 0xA11 + k);
            if rest.is_empty() {
                fresh = Value::Null;
            }
            arr.push(fresh);
        }
        // Items that cannot hold the rest of the path are made again.
        if let Some(FSeg::Field(_)) = rest.first() {
            for (k, it) in arr.iter_mut().enumerate() {
                if !it.is_object() {
                    *it = self.make(item, rest, 0xA11 + k as u64);
                }
            }
        }
        arr
    }
}

impl Backend {
    /// Length of file `part` of `id` of a download.
    fn download_file_len(&self, def: &DownloadDef, id: &str, part: usize) -> usize {
        payload_seed(self.seed(), &def.entity, id, part).1
    }
}

/// The request parameters a hosted `/execute` download gets from its flat `params`: path,
/// query and header parameters as text (`id` standing for the one naming the file), query
/// defaults for those not given, and the body properties with their defaults. A missing
/// path parameter is a 400.
pub(crate) fn execute_params(
    def: &DownloadDef,
    params: &Map<String, Value>,
) -> Result<(Params, Map<String, Value>), ApiError> {
    let value = |name: &str| {
        params
            .get(name)
            .filter(|v| !v.is_null())
            .or_else(|| match &def.id_param {
                Some(k) if k == name => params.get("id").filter(|v| !v.is_null()),
                _ => None,
            })
    };
    let mut pairs = Vec::new();
    let mut body = Map::new();
    for p in &def.params {
        match p.loc {
            Loc::Body => {
                if let Some(v) = value(&p.name).or(p.default.as_ref()) {
                    body.insert(p.name.clone(), v.clone());
                }
            }
            Loc::Path => match value(&p.name).and_then(super::ops::wire_text) {
                Some(t) => pairs.push((p.name.clone(), t)),
                None => return Err(super::ops::missing(&p.name, "path parameter")),
            },
            Loc::Query | Loc::Header => {
                let v = value(&p.name).or(p.default.as_ref());
                match v {
                    Some(Value::Array(items)) => pairs.extend(
                        items
                            .iter()
                            .filter_map(super::ops::wire_text)
                            .map(|t| (p.name.clone(), t)),
                    ),
                    Some(v) => pairs.extend(super::ops::wire_text(v).map(|t| (p.name.clone(), t))),
                    None => {}
                }
            }
        }
    }
    Ok((Params(pairs), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_url_paths() {
        use FSeg::*;
        let f = |s: &str| Field(s.to_string());
        assert_eq!(
            parse_file_url("revision.export_links[0].href"),
            Some(vec![f("revision"), f("export_links"), Index(0), f("href")])
        );
        assert_eq!(parse_file_url("[0].url"), Some(vec![Index(0), f("url")]));
        assert_eq!(
            parse_file_url("files[{file_index}].href"),
            Some(vec![f("files"), Param("file_index".into()), f("href")])
        );
        assert_eq!(parse_file_url(""), None);
        assert_eq!(parse_file_url("a[x]"), None);
    }

    #[test]
    fn payloads_and_ranges() {
        let a = payload(1, "files", "x", 0);
        assert_eq!(a, payload(1, "files", "x", 0));
        assert_ne!(a, payload(1, "files", "x", 1));
        assert!((1024..256 * 1024).contains(&a.len()));
        assert!(a.starts_with(b"emulator file files/x part 0\n"));
        assert_eq!(span(Some("bytes=0-9"), 100), Span::Part(0, 9));
        assert_eq!(span(Some("bytes=90-"), 100), Span::Part(90, 99));
        assert_eq!(span(Some("bytes=-10"), 100), Span::Part(90, 99));
        assert_eq!(span(Some("bytes=95-200"), 100), Span::Part(95, 99));
        assert_eq!(span(Some("bytes=100-"), 100), Span::Unsatisfiable);
        assert_eq!(span(Some("bytes=0-1,5-6"), 100), Span::Full);
        assert_eq!(span(Some("items=0-1"), 100), Span::Full);
        assert_eq!(span(None, 100), Span::Full);
        let t = token(3, 1, "a:b/c");
        assert_eq!(read_token(&t), Some((3, 1, "a:b/c".to_string())));
    }

    #[test]
    fn chunks() {
        let file = File {
            bytes: (0..100_000u32).map(|i| i as u8).collect(),
            content_type: "application/octet-stream".into(),
            name: "f.bin".into(),
        };
        let c = chunk(&file, None, false).unwrap();
        assert_eq!(c["bytes_returned"], 65_536);
        assert_eq!(c["has_more"], true);
        assert_eq!(c["next_range_header"], "bytes=65536-131071");
        let c = chunk(&file, Some("bytes=65536-131071"), false).unwrap();
        assert_eq!(c["bytes_returned"], 100_000 - 65_536);
        assert_eq!(c["has_more"], false);
        assert_eq!(c["next_range_header"], Value::Null);
        assert_eq!(
            chunk(&file, Some("bytes=200000-"), false).unwrap_err().0,
            416
        );
        assert_eq!(chunk(&file, Some("nope"), false).unwrap_err().0, 400);
    }
}

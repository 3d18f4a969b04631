//! Turning a response body into what a call returns: typed records (`Page<T>`, `T`) for the
//! entity methods, or the reference's JSON envelope spliced from the server's own bytes for
//! `execute`. Both read the body once: one UTF-8 check of the whole text, then one pass of
//! [`extract`](crate::extract::extract) along the operation's record and cursor paths.
//!
//! The untyped output never goes through the models: each record is copied byte for byte,
//! with only insignificant whitespace removed, so fields this SDK does not know, explicit
//! `null`s and timestamps keep exactly the form the server sent. The exception: operations
//! with a record transform or filter ([`crate::transform`]) rebuild their records as JSON
//! values (number text such as `1.50` may then be written `1.5`).

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::Context;
use crate::extract::{extract, Extracted, One, Paths, RawList, Records};
use crate::http::{is_json_media_type, Body};
use crate::meta::RecordElement;
use crate::shape::Shaping;
use crate::{Error, Page};

/// A typed page: the records at `paths.records` and the cursor at `paths.cursor`.
pub(crate) fn page<T: DeserializeOwned>(
    ctx: &Context,
    body: Body,
    paths: Paths<'_>,
) -> Result<Page<T>, Error> {
    let body = &body;
    let text = text(ctx, body)?;
    let got = extract(text, paths, Records::<T>::new(paths.element))
        .map_err(|e| failed(ctx, &e, body))?;
    let data = got.records.ok_or_else(|| missing(ctx, paths, body))?;
    Ok(Page::new(data, got.cursor.or_else(|| body.next.clone())))
}

/// One typed record at `paths.records`.
pub(crate) fn one<T: DeserializeOwned>(
    ctx: &Context,
    body: Body,
    paths: Paths<'_>,
) -> Result<T, Error> {
    let body = &body;
    let text = text(ctx, body)?;
    if paths.element == RecordElement::Whole {
        let got = extract(text, paths, One::<T>::new()).map_err(|e| failed(ctx, &e, body))?;
        return got.records.ok_or_else(|| missing(ctx, paths, body));
    }
    let got = extract(text, paths, Records::<T>::new(paths.element))
        .map_err(|e| failed(ctx, &e, body))?;
    got.records
        .and_then(|r| r.into_iter().next())
        .ok_or_else(|| missing(ctx, paths, body))
}

/// The paths of a body rewritten by [`transformed`].
const TRANSFORMED_LIST: Paths<'static> = Paths {
    records: &["records"],
    cursor: &["cursor"],
    element: RecordElement::Whole,
    flag: false,
};
const TRANSFORMED_ONE: Paths<'static> = Paths {
    records: &["record"],
    cursor: &[],
    element: RecordElement::Whole,
    flag: false,
};

/// Applies an operation's record transform and filter ([`crate::transform`]) to a direct
/// answer: the records are taken out along `paths`, transformed (and, for collections,
/// filtered), and put in a new body that the usual decoders read with the paths returned.
/// A body without records at `paths` is left as it is, for the decoders' own errors.
pub(crate) fn transformed(
    ctx: &Context,
    t: &crate::transform::RecordTransform,
    collection: bool,
    body: Body,
    paths: Paths<'static>,
    config: &std::collections::BTreeMap<String, String>,
) -> Result<(Body, Paths<'static>), Error> {
    let text = text(ctx, &body)?;
    let rebuilt = if collection {
        let got = extract(
            text,
            paths,
            Records::<serde_json::Value>::new(paths.element),
        )
        .map_err(|e| failed(ctx, &e, &body))?;
        let Some(records) = got.records else {
            return Ok((body, paths));
        };
        let records: Vec<serde_json::Value> = records
            .into_iter()
            .filter_map(|r| t.apply(r, config, true))
            .collect();
        serde_json::json!({"records": records, "cursor": got.cursor})
    } else {
        let record = if paths.element == RecordElement::Whole {
            extract(text, paths, One::<serde_json::Value>::new())
                .map_err(|e| failed(ctx, &e, &body))?
                .records
        } else {
            extract(
                text,
                paths,
                Records::<serde_json::Value>::new(paths.element),
            )
            .map_err(|e| failed(ctx, &e, &body))?
            .records
            .and_then(|r| r.into_iter().next())
        };
        let Some(record) = record else {
            return Ok((body, paths));
        };
        serde_json::json!({"record": t.apply(record, config, false)})
    };
    let out = Body {
        bytes: bytes::Bytes::from(rebuilt.to_string()),
        content_type: body.content_type.clone(),
        next: body.next.clone(),
    };
    Ok((
        out,
        if collection {
            TRANSFORMED_LIST
        } else {
            TRANSFORMED_ONE
        },
    ))
}

/// The typed result of a write (`create`, `update`, `delete`): the record the API answers
/// with, taken like a `get`'s. When the spec gives the answer no body (`204 No Content`,
/// `returns_record` false) the body is ignored and `T` is made from JSON `null`, which suits
/// `()`; an empty body where a record was promised is a decode error naming that.
pub(crate) fn written<T: DeserializeOwned>(
    ctx: &Context,
    body: Body,
    paths: Paths<'_>,
    returns_record: bool,
) -> Result<T, Error> {
    if !returns_record {
        return <T as serde::Deserialize>::deserialize(serde_json::Value::Null).map_err(|e| {
            Error::decode(
                ctx,
                format!("the spec gives this answer no body, but the result type wants one ({e})"),
                b"",
            )
        });
    }
    if body.bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::decode(
            ctx,
            "the API answered with an empty body where the spec promises a record",
            b"",
        ));
    }
    one(ctx, body, paths)
}

/// The untyped result of a write for `execute`: the record at `paths.records` as the server
/// sent it, the whole body when the spec describes none, and `{}` for an empty body (a
/// `204 No Content`), as the reference returns it.
pub(crate) fn raw_written(
    ctx: &Context,
    body: Body,
    paths: Paths<'_>,
    returns_record: bool,
) -> Result<RawOutput, Error> {
    if body.bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(RawOutput::value_text("{}".to_string()));
    }
    if returns_record {
        return raw_value(ctx, body, paths);
    }
    let text = into_text(ctx, body)?;
    if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_err() {
        // Not JSON (a plain-text "OK"): given back as a JSON string.
        let mut out = String::new();
        push_json_string(&mut out, &text);
        return Ok(RawOutput::value_text(out));
    }
    Ok(RawOutput::value_text(text))
}

/// The untyped result of one call, as `execute` returns it, built from the server's bytes.
///
/// It holds the response body as the server sent it and knows where the result sits in it:
/// for list and search results (`{"data": [...], "meta": {...}}`), each record and the next
/// cursor. Records can be written on (one per line, to a socket) as the server's own bytes,
/// without being decoded or copied: [`records`](Self::records),
/// [`write_jsonl`](Self::write_jsonl), [`next_cursor`](Self::next_cursor). The envelope as
/// compact JSON text ([`as_str`](Self::as_str)) is built on first use.
#[derive(Debug, Clone)]
pub struct RawOutput {
    /// The response body, as sent (checked UTF-8 once).
    body: String,
    /// Where the result sits in `body`: `None` for a list, whose envelope is built from its
    /// records and cursor.
    value: Option<Range<usize>>,
    /// Where each record sits in `body` (list and search results only).
    records: Option<Vec<Range<usize>>>,
    /// The cursor of the next page (`meta.next_cursor` of a list, `meta.cursor` of a search).
    next_cursor: Option<String>,
    /// The envelope as compact JSON, built on first use.
    json: OnceLock<String>,
}

impl RawOutput {
    /// The result as compact JSON text (insignificant whitespace removed; everything else as
    /// the server sent it): for a list `{"data":[...],"meta":{"next_cursor":...}}`, for a
    /// `get` the record, for a search Airbyte's `{"data":[...],"meta":{...}}`.
    pub fn as_str(&self) -> &str {
        self.json.get_or_init(|| self.envelope())
    }

    /// The number of records, for list and search results; `None` for a single record.
    pub fn record_count(&self) -> Option<usize> {
        self.records.as_ref().map(Vec::len)
    }

    /// Each record of a list or search result, exactly as the server sent it (a server that
    /// pretty-prints sends line breaks inside records: [`write_jsonl`](Self::write_jsonl)
    /// takes them out); `None` for a single record.
    ///
    /// ```
    /// # fn show(out: &connector_sdk_runtime::RawOutput) {
    /// if let Some(records) = out.records() {
    ///     for record in records {
    ///         let value: serde_json::Value = serde_json::from_str(record).unwrap();
    ///         println!("{}", value["id"]);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn records(&self) -> Option<RawRecords<'_>> {
        self.records.as_ref().map(|ranges| RawRecords {
            body: &self.body,
            ranges: ranges.iter(),
        })
    }

    /// Writes each record of a list or search result on its own line (JSON Lines), as the
    /// server sent it; a record that spans lines has its insignificant whitespace removed.
    /// A single record is written as one line too. Returns the number of lines written.
    ///
    /// ```no_run
    /// # async fn export(c: &connector_sdk_runtime::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use connector_sdk_runtime::ExecuteOptions;
    /// let out = std::io::stdout().lock();
    /// let mut out = std::io::BufWriter::new(out);
    /// let page = c
    ///     .execute_raw("incidents", "list", serde_json::json!({"page_size": 250}), ExecuteOptions::new().max_output_chars(None))
    ///     .await?;
    /// page.write_jsonl(&mut out)?;
    /// # Ok(()) }
    /// ```
    pub fn write_jsonl(&self, w: &mut impl std::io::Write) -> std::io::Result<usize> {
        match self.records() {
            Some(records) => {
                let mut n = 0;
                for record in records {
                    w.write_all(Self::single_line(record).as_bytes())?;
                    w.write_all(b"\n")?;
                    n += 1;
                }
                Ok(n)
            }
            None => {
                w.write_all(self.as_str().as_bytes())?;
                w.write_all(b"\n")?;
                Ok(1)
            }
        }
    }

    /// `record` (one JSON value, such as an item of [`records`](Self::records)) on one
    /// line: borrowed as it is when it has no line break, else with its insignificant
    /// whitespace removed (line breaks inside JSON strings are always escaped, so a raw line
    /// break is always insignificant).
    pub fn single_line(record: &str) -> Cow<'_, str> {
        if memchr::memchr2(b'\n', b'\r', record.as_bytes()).is_none() {
            Cow::Borrowed(record)
        } else {
            let mut out = String::with_capacity(record.len());
            minify_into(&mut out, record);
            Cow::Owned(out)
        }
    }

    /// The cursor of the next page: `meta.next_cursor` of a list (pass it back as the
    /// operation's cursor param), `meta.cursor` of a search; `None` on the last page and for
    /// single records.
    pub fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }

    pub(crate) fn take_next_cursor(&mut self) -> Option<String> {
        self.json = OnceLock::new();
        self.next_cursor.take()
    }

    pub(crate) fn set_next_cursor(&mut self, cursor: Option<String>) {
        self.json = OnceLock::new();
        self.next_cursor = cursor;
    }

    /// The result as a `serde_json::Value`.
    pub fn to_value(&self) -> Result<serde_json::Value, Error> {
        serde_json::from_str(self.as_str()).map_err(|e| Error::Decode {
            entity: String::new(),
            action: String::new(),
            message: format!("internal error: the spliced result is not JSON: {e}"),
            snippet: crate::error::snippet(self.as_str().as_bytes(), 200),
            incomplete: false,
        })
    }

    /// The result as compact JSON text (see [`as_str`](Self::as_str)).
    pub fn into_string(self) -> String {
        match self.json.into_inner() {
            Some(json) => json,
            None => {
                let RawOutput {
                    body,
                    value,
                    records,
                    next_cursor,
                    ..
                } = self;
                let out = RawOutput {
                    body,
                    value,
                    records,
                    next_cursor,
                    json: OnceLock::new(),
                };
                out.envelope()
            }
        }
    }

    /// The same result with `shaping` applied to each record (each record is decoded into a
    /// `serde_json::Value` for it; nothing is decoded when there is nothing to do).
    pub(crate) fn shaped(self, shaping: &Shaping<'_>) -> Result<RawOutput, Error> {
        if shaping.is_identity() {
            return Ok(self);
        }
        let internal = |e: serde_json::Error| Error::Decode {
            entity: String::new(),
            action: String::new(),
            message: format!("internal error while shaping the result: {e}"),
            snippet: String::new(),
            incomplete: false,
        };
        let slice = |r: &Range<usize>| self.body.get(r.clone()).unwrap_or("null");
        match (&self.value, &self.records) {
            (None, Some(ranges)) => {
                let mut body = String::with_capacity(self.body.len());
                let mut records = Vec::with_capacity(ranges.len());
                for r in ranges {
                    let record: serde_json::Value =
                        serde_json::from_str(slice(r)).map_err(internal)?;
                    if !records.is_empty() {
                        body.push(',');
                    }
                    let start = body.len();
                    body.push_str(
                        &serde_json::to_string(&shaping.apply(record)).map_err(internal)?,
                    );
                    records.push(start..body.len());
                }
                Ok(RawOutput {
                    body,
                    value: None,
                    records: Some(records),
                    next_cursor: self.next_cursor,
                    json: OnceLock::new(),
                })
            }
            (Some(v), None) => {
                let record: serde_json::Value = serde_json::from_str(slice(v)).map_err(internal)?;
                let body = serde_json::to_string(&shaping.apply(record)).map_err(internal)?;
                Ok(RawOutput {
                    value: Some(0..body.len()),
                    body,
                    records: None,
                    next_cursor: None,
                    json: OnceLock::new(),
                })
            }
            (Some(v), Some(_)) => {
                // A search result: the records are its `data`.
                let mut result: serde_json::Value =
                    serde_json::from_str(slice(v)).map_err(internal)?;
                if let Some(serde_json::Value::Array(data)) = result.get_mut("data") {
                    let items = std::mem::take(data);
                    *data = items.into_iter().map(|r| shaping.apply(r)).collect();
                }
                let body = serde_json::to_string(&result).map_err(internal)?;
                let Extracted { records, .. } =
                    extract(&body, SEARCH_RESULT, RawList::new()).map_err(internal)?;
                let records =
                    records.map(|rs| rs.iter().map(|r| range_in(&body, r.get())).collect());
                Ok(RawOutput {
                    value: Some(0..body.len()),
                    body,
                    records,
                    next_cursor: self.next_cursor,
                    json: OnceLock::new(),
                })
            }
            (None, None) => Ok(self),
        }
    }

    /// The compact envelope.
    fn envelope(&self) -> String {
        let text = self.body.as_str();
        if let Some(value) = &self.value {
            let raw = text.get(value.clone()).unwrap_or("null");
            let mut json = String::with_capacity(raw.len());
            minify_into(&mut json, raw);
            return json;
        }
        let ranges = self.records.as_deref().unwrap_or_default();
        let mut json = String::with_capacity(text.len() + 48);
        json.push_str("{\"data\":[");
        for (i, r) in ranges.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            minify_into(&mut json, text.get(r.clone()).unwrap_or("null"));
        }
        json.push_str("],\"meta\":{\"next_cursor\":");
        match &self.next_cursor {
            Some(c) => push_json_string(&mut json, c),
            None => json.push_str("null"),
        }
        json.push_str("}}");
        json
    }
}

/// The records of a [`RawOutput`], each exactly as the server sent it: see
/// [`RawOutput::records`].
#[derive(Debug, Clone)]
pub struct RawRecords<'a> {
    body: &'a str,
    ranges: std::slice::Iter<'a, Range<usize>>,
}

impl<'a> Iterator for RawRecords<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let r = self.ranges.next()?;
        Some(self.body.get(r.clone()).unwrap_or("null"))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ranges.size_hint()
    }
}

impl ExactSizeIterator for RawRecords<'_> {}

impl DoubleEndedIterator for RawRecords<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let r = self.ranges.next_back()?;
        Some(self.body.get(r.clone()).unwrap_or("null"))
    }
}

/// Refuses a 200 whose top-level `check.field` equals `check.on_value`
/// (`x-airbyte-response-error-check`): an [`Error::Api`] with the body's message field.
pub(crate) fn check_error_field(
    ctx: &Context,
    body: &Body,
    check: crate::meta::ErrorCheckMeta,
) -> Result<(), Error> {
    #[derive(serde::Deserialize)]
    struct Top<'a>(#[serde(borrow)] std::collections::HashMap<Cow<'a, str>, &'a RawValue>);
    // A body that is not an object (or not JSON) is left to the decoder's own errors.
    let Ok(Top(top)) = serde_json::from_slice::<Top<'_>>(&body.bytes) else {
        return Ok(());
    };
    let Some(found) = top.get(check.field) else {
        return Ok(());
    };
    let same = match (
        serde_json::from_str::<serde_json::Value>(found.get()),
        serde_json::from_str::<serde_json::Value>(check.on_value),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same {
        return Ok(());
    }
    let message = check
        .message_field
        .and_then(|m| top.get(m))
        .map(
            |m| match serde_json::from_str::<serde_json::Value>(m.get()) {
                Ok(serde_json::Value::String(s)) => s,
                _ => m.get().to_string(),
            },
        )
        .unwrap_or_else(|| format!("the response says `{}: {}`", check.field, check.on_value));
    let body = serde_json::json!({ "message": message }).to_string();
    Err(Error::from_response(
        ctx.clone(),
        200,
        None,
        body.as_bytes(),
    ))
}

/// The body as text, taking ownership of its bytes (no copy when the buffer is not shared):
/// one UTF-8 check of the whole body.
fn into_text(ctx: &Context, body: Body) -> Result<String, Error> {
    let Body {
        bytes,
        content_type,
        ..
    } = body;
    String::from_utf8(Vec::from(bytes)).map_err(|e| {
        let body = Body {
            bytes: bytes::Bytes::from(e.into_bytes()),
            content_type,
            next: None,
        };
        Error::Decode {
            entity: ctx.entity.clone(),
            action: ctx.action.clone(),
            message: format!("the body is not UTF-8 text{}", not_json_note(&body)),
            snippet: crate::error::snippet(&body.bytes, 200),
            incomplete: true,
        }
    })
}

/// The byte range of `part` (a slice of `whole`) in `whole`.
fn range_in(whole: &str, part: &str) -> Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    start..start + part.len()
}

/// A list result: the records at `paths.records` and the cursor at `paths.cursor`, located
/// in the body (nothing is copied; the envelope is built on first use).
pub(crate) fn list_envelope(
    ctx: &Context,
    body: Body,
    paths: Paths<'_>,
) -> Result<RawOutput, Error> {
    // Errors quote the body: rebuilt (a copy) only on those paths.
    let content_type = body.content_type.clone();
    let as_body = |text: &str| Body {
        bytes: bytes::Bytes::copy_from_slice(text.as_bytes()),
        content_type: content_type.clone(),
        next: None,
    };
    let next = body.next.clone();
    let text = into_text(ctx, body)?;
    let (records, next_cursor) = {
        let Extracted { records, cursor } =
            extract(&text, paths, Records::<&RawValue>::new(paths.element))
                .map_err(|e| failed(ctx, &e, &as_body(&text)))?;
        let cursor = cursor.or(next);
        let records = records.ok_or_else(|| missing(ctx, paths, &as_body(&text)))?;
        let ranges: Vec<Range<usize>> = records.iter().map(|r| range_in(&text, r.get())).collect();
        (ranges, cursor)
    };
    Ok(RawOutput {
        body: text,
        value: None,
        records: Some(records),
        next_cursor,
        json: OnceLock::new(),
    })
}

/// The value at `paths.records`, as sent (a `get`'s record).
impl RawOutput {
    /// A single value whose text is the whole of `text` (valid JSON).
    pub(crate) fn from_json_text(text: String) -> RawOutput {
        RawOutput::value_text(text)
    }

    /// A single value whose text is the whole of `text` (valid JSON).
    fn value_text(text: String) -> RawOutput {
        let len = text.len();
        RawOutput {
            body: text,
            value: Some(0..len),
            records: None,
            next_cursor: None,
            json: OnceLock::new(),
        }
    }
}

pub(crate) fn raw_value(ctx: &Context, body: Body, paths: Paths<'_>) -> Result<RawOutput, Error> {
    // Errors quote the body: rebuilt (a copy) only on those paths.
    let content_type = body.content_type.clone();
    let as_body = |text: &str| Body {
        bytes: bytes::Bytes::copy_from_slice(text.as_bytes()),
        content_type: content_type.clone(),
        next: None,
    };
    let text = into_text(ctx, body)?;
    let value = {
        let raw = if paths.element == RecordElement::Whole {
            extract(&text, paths, One::<&RawValue>::new())
                .map_err(|e| failed(ctx, &e, &as_body(&text)))?
                .records
        } else {
            extract(&text, paths, Records::<&RawValue>::new(paths.element))
                .map_err(|e| failed(ctx, &e, &as_body(&text)))?
                .records
                .and_then(|r| r.into_iter().next())
        };
        let raw = raw.ok_or_else(|| missing(ctx, paths, &as_body(&text)))?;
        range_in(&text, raw.get())
    };
    Ok(RawOutput {
        body: text,
        value: Some(value),
        records: None,
        next_cursor: None,
        json: OnceLock::new(),
    })
}

/// Where a search result's records and cursor sit: `{"data": [...], "meta": {"cursor": ...}}`.
const SEARCH_RESULT: Paths<'static> = Paths {
    records: &["data"],
    cursor: &["meta", "cursor"],
    element: RecordElement::Whole,
    flag: false,
};

/// A context-store search result at `paths.records`, as sent, with its records and cursor
/// located (one more pass over the result, borrowing every record).
pub(crate) fn search_result(
    ctx: &Context,
    body: Body,
    paths: Paths<'_>,
) -> Result<RawOutput, Error> {
    let mut out = raw_value(ctx, body, paths)?;
    let value = out.value.clone().unwrap_or_default();
    let result = out.body.get(value).unwrap_or("null");
    let Extracted { records, cursor } =
        extract(result, SEARCH_RESULT, RawList::new()).map_err(|e| {
            let body = Body {
                bytes: bytes::Bytes::copy_from_slice(result.as_bytes()),
                content_type: None,
                next: None,
            };
            failed(ctx, &e, &body)
        })?;
    let records = records.map(|records| {
        records
            .iter()
            .map(|r| range_in(&out.body, r.get()))
            .collect()
    });
    out.records = records;
    out.next_cursor = cursor;
    Ok(out)
}

/// The body as text: one UTF-8 check of the whole body (faster than checking string by
/// string while decoding).
fn text<'b>(ctx: &Context, body: &'b Body) -> Result<&'b str, Error> {
    std::str::from_utf8(&body.bytes).map_err(|e| Error::Decode {
        entity: ctx.entity.clone(),
        action: ctx.action.clone(),
        message: format!("the body is not UTF-8 text ({e}){}", not_json_note(body)),
        snippet: crate::error::snippet(&body.bytes, 200),
        incomplete: true,
    })
}

fn failed(ctx: &Context, e: &serde_json::Error, body: &Body) -> Error {
    let mut err = Error::decode_json(ctx, e, &body.bytes);
    let note = not_json_note(body);
    if let Error::Decode {
        message,
        incomplete,
        ..
    } = &mut err
    {
        if !note.is_empty() {
            message.push_str(&note);
            *incomplete = true;
        }
    }
    err
}

/// `"; the server said Content-Type: text/html, not JSON"` when the declared type is not JSON.
fn not_json_note(body: &Body) -> String {
    match body.content_type.as_deref() {
        Some(ct) if is_json_media_type(ct) != Some(true) => {
            format!(
                "; the server declared Content-Type {ct:?}, not JSON (a proxy or gateway page?)"
            )
        }
        _ => String::new(),
    }
}

fn missing(ctx: &Context, paths: Paths<'_>, body: &Body) -> Error {
    Error::decode(
        ctx,
        format!(
            "the response has no `{}` field, where the records should be",
            paths.records.join(".")
        ),
        &body.bytes,
    )
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    // serde_json's escaping, written straight into the buffer.
    let mut buf = Vec::new();
    let _ = serde_json::to_writer(&mut buf, s);
    out.push_str(std::str::from_utf8(&buf).unwrap_or("null"));
}

/// Appends `raw` (valid JSON) without insignificant whitespace: bytes inside strings are
/// copied as they are; spaces, tabs and line breaks between tokens are dropped.
pub(crate) fn minify_into(out: &mut String, raw: &str) {
    let bytes = raw.as_bytes();
    // Compact input (the usual case) is copied in one go.
    if !needs_minify(bytes) {
        out.push_str(raw);
        return;
    }
    let mut kept: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            let end = string_end(bytes, i);
            kept.extend_from_slice(&bytes[i..end]);
            i = end;
        } else {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                kept.push(b);
            }
            i += 1;
        }
    }
    // Only ASCII whitespace outside strings was removed, so the text is still UTF-8.
    out.push_str(std::str::from_utf8(&kept).unwrap_or(raw));
}

/// Whether any whitespace sits outside a string.
fn needs_minify(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i),
            b' ' | b'\t' | b'\n' | b'\r' => return true,
            _ => i += 1,
        }
    }
    false
}

/// The index just past the string literal that starts at `start` (a `"`).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(off) = bytes
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        i += off;
        if bytes[i] == b'\\' {
            i += 2;
        } else {
            return i + 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minify_keeps_strings_and_drops_whitespace() {
        let mut out = String::new();
        minify_into(
            &mut out,
            "{ \"a b\" : [1, 2],\n\t\"c\": \"x \\\" y\\\\\", \"é\": null }",
        );
        assert_eq!(out, "{\"a b\":[1,2],\"c\":\"x \\\" y\\\\\",\"é\":null}");
        let mut out = String::new();
        minify_into(&mut out, "{\"compact\":\"stays as is\"}");
        assert_eq!(out, "{\"compact\":\"stays as is\"}");
    }

    #[test]
    fn list_envelope_splices_the_records_as_sent() {
        let body = Body {
            bytes: bytes::Bytes::from_static(
                br#"{"things": [{"id":"1","when":"2025-05-31T23:50:00.000000Z","gone":null,"new_field":{"x":1}}], "pagination_meta": {"after": "1"}}"#,
            ),
            content_type: Some("application/json".into()),
            next: None,
        };
        let paths = Paths {
            records: &["things"],
            cursor: &["pagination_meta", "after"],
            element: RecordElement::Whole,
            flag: false,
        };
        let out = list_envelope(&Context::new("e", "list"), body, paths).unwrap();
        assert_eq!(
            out.as_str(),
            r#"{"data":[{"id":"1","when":"2025-05-31T23:50:00.000000Z","gone":null,"new_field":{"x":1}}],"meta":{"next_cursor":"1"}}"#
        );
        assert_eq!(out.record_count(), Some(1));
    }

    #[test]
    fn html_on_200_names_the_content_type() {
        let body = Body {
            bytes: bytes::Bytes::from_static(b"<html>gateway</html>"),
            content_type: Some("text/html".into()),
            next: None,
        };
        let paths = Paths {
            records: &["things"],
            cursor: &[],
            element: RecordElement::Whole,
            flag: false,
        };
        let e = page::<serde_json::Value>(&Context::new("e", "list"), body, paths).unwrap_err();
        assert!(e.to_string().contains("text/html"), "{e}");
        assert!(matches!(
            e,
            Error::Decode {
                incomplete: true,
                ..
            }
        ));
    }
}

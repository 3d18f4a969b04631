//! The seam between the typed API and the wire. Generated request builders hand a transport
//! the operation's metadata and its params; the transport decides how the call travels:
//!
//! - [`direct`]: straight to the API, the request built from the metadata by
//!   [`crate::request`], with the user's credentials.
//! - [`hosted`]: the same (entity, action, params) go to Airbyte's execute endpoint.
//!
//! Either way the body is read under the size cap and decoded by [`crate::decode`]: typed
//! records for the entity methods, the server's own bytes for `execute`. Tracing lives in the
//! transports: one span per call with entity, action, transport and status.

pub(crate) mod direct;
pub(crate) mod hosted;
pub(crate) mod oauth2;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::decode::{self, RawOutput};
use crate::error::Context;
use crate::extract::Paths;
use crate::http::Body;
use crate::meta::{Action, OperationMeta};
use crate::{Error, Page};

/// What an `execute` call carries beside its params: hosted calls send these fields to
/// Airbyte; a direct call records the intent on its span (shaping is applied by the client).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallExtras<'a> {
    pub(crate) select_fields: Option<&'a [String]>,
    pub(crate) exclude_fields: Option<&'a [String]>,
    pub(crate) skip_truncation: bool,
    pub(crate) intent: Option<&'a str>,
    /// A next-page URL the server gave (operations that page by URL): requested as is.
    pub(crate) next_url: Option<&'a str>,
    /// Whether a failed attempt may be repeated after it may have reached the server (see
    /// [`crate::retry`]); set from the operation.
    pub(crate) idempotent: bool,
}

impl Default for CallExtras<'_> {
    /// What the typed methods send: whole records, untruncated.
    fn default() -> Self {
        CallExtras {
            select_fields: None,
            exclude_fields: None,
            skip_truncation: true,
            intent: None,
            next_url: None,
            idempotent: true,
        }
    }
}

/// How calls travel.
#[derive(Debug)]
pub(crate) enum Transport {
    /// Straight to the API.
    Direct(Box<direct::DirectTransport>),
    /// Through Airbyte's execute endpoint.
    Hosted(Box<hosted::HostedTransport>),
}

/// Where a direct response keeps the records and the cursor: the spec's extractors.
fn direct_paths(op: &'static OperationMeta) -> Paths<'static> {
    Paths {
        records: op.record_path,
        cursor: op.cursor_path,
        element: op.record_element,
        flag: op.next_page == crate::meta::NextPage::PageNumber,
    }
}

impl Transport {
    /// Runs `op` with `params` and decodes the body with `decode`, given where the records
    /// and cursor sit in this transport's response.
    async fn call<R>(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        extras: CallExtras<'_>,
        decode: impl Fn(&Context, Body, Paths<'static>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        match self {
            Transport::Direct(d) => {
                d.call(op, params, extras.intent, extras.next_url, |ctx, body| {
                    match op.transform {
                        // Records are transformed and filtered before they are decoded.
                        Some(t) => {
                            let (body, paths) = decode::transformed(
                                ctx,
                                t,
                                op.action.is_collection(),
                                body,
                                direct_paths(op),
                                d.config_for_transforms(),
                            )?;
                            decode(ctx, body, paths)
                        }
                        None => decode(ctx, body, direct_paths(op)),
                    }
                })
                .await
            }
            Transport::Hosted(_) if extras.next_url.is_some() => Err(Error::Pagination {
                entity: op.entity.to_string(),
                message: "this list pages by server-given URLs, which Airbyte's execute endpoint does not take back; page it in direct mode".to_string(),
            }),
            Transport::Hosted(h) => {
                let extras = CallExtras {
                    idempotent: op.is_idempotent(),
                    ..extras
                };
                // Airbyte takes a free-form body's fields among the params.
                let flat;
                let params = match params.get(crate::request::FREE_FORM_KEY) {
                    Some(Value::Object(body)) => {
                        let mut p = params.clone();
                        p.remove(crate::request::FREE_FORM_KEY);
                        for (k, v) in body {
                            p.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                        flat = p;
                        &flat
                    }
                    _ => params,
                };
                h.execute(
                    op.entity,
                    op.action.as_str(),
                    params,
                    extras,
                    |ctx, body| decode(ctx, body, hosted::RESULT_PATHS),
                )
                .await
            }
        }
    }

    /// Runs a list operation (params already checked).
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
    ) -> Result<Page<T>, Error> {
        self.list_from(op, params, None).await
    }

    /// Runs a list operation, from a next-page URL the server gave when there is one.
    pub(crate) async fn list_from<T: DeserializeOwned>(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        next_url: Option<&str>,
    ) -> Result<Page<T>, Error> {
        let extras = CallExtras {
            next_url,
            ..CallExtras::default()
        };
        let mut page: Page<T> = self.call(op, params, extras, decode::page).await?;
        // Page numbers and offsets are counted here in direct mode; Airbyte's cursor is
        // passed through as it is.
        if let Transport::Direct(d) = self {
            let records = page.data.len();
            let next = next_page_number(op, params, page.next_cursor.take(), records)?;
            page.next_cursor = d.scrub_next(op, next);
        }
        Ok(page)
    }

    /// Runs a get operation (params already checked).
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
    ) -> Result<T, Error> {
        self.call(op, params, CallExtras::default(), decode::one)
            .await
    }

    /// Runs a write (`create`, `update`, `delete`; params already checked): the record the
    /// API answers with, or `()` when the spec gives the answer no body.
    pub(crate) async fn write<T: DeserializeOwned>(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
    ) -> Result<T, Error> {
        let returns_record = op.returns_record();
        self.call(op, params, CallExtras::default(), |ctx, body, paths| {
            decode::written(ctx, body, paths, returns_record)
        })
        .await
    }

    /// Opens a download (params already checked; `range` asks for part of the file). See
    /// [`crate::download`].
    pub(crate) async fn download(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        range: Option<&str>,
    ) -> Result<crate::Download, Error> {
        let ctx = Context::new(op.entity, op.action.as_str());
        match self {
            Transport::Direct(d) => match op.file_url {
                None => d.open(op, params, range).await,
                Some(path) => {
                    let meta: Value = d
                        .call(op, params, None, None, |ctx, body| {
                            serde_json::from_slice(&body.bytes)
                                .map_err(|e| Error::decode_json(ctx, &e, &body.bytes))
                        })
                        .await?;
                    let url =
                        crate::download::locate_file_url(&ctx, Some(op), path, &meta, params)?;
                    d.fetch_file(op, &url, range).await
                }
            },
            Transport::Hosted(_) => Err(Error::invalid(
                "transport",
                "hosted downloads stream through the client (`Client::download`)",
            )),
        }
    }

    /// One chunk of a hosted download: Airbyte's `/execute` with the range and the base64
    /// chunk format.
    pub(crate) async fn hosted_chunk(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        range: &str,
    ) -> Result<crate::download::Chunk, Error> {
        let Transport::Hosted(h) = self else {
            return Err(Error::invalid(
                "transport",
                "hosted chunks are asked of Airbyte only",
            ));
        };
        let mut params = params.clone();
        params.insert(
            crate::download::RANGE_PARAM.into(),
            Value::String(range.to_string()),
        );
        params.insert("_airbyte_response_type".into(), Value::from("json"));
        params.insert("_airbyte_response_format".into(), Value::from("base64"));
        h.execute(
            op.entity,
            op.action.as_str(),
            &params,
            CallExtras::default(),
            |ctx, body| decode::one(ctx, body, hosted::RESULT_PATHS),
        )
        .await
    }

    /// Runs an operation for `execute` (params already checked): the reference's envelope,
    /// spliced from the server's bytes.
    pub(crate) async fn execute(
        &self,
        op: &'static OperationMeta,
        params: &Map<String, Value>,
        extras: CallExtras<'_>,
    ) -> Result<RawOutput, Error> {
        match op.action {
            Action::List | Action::Search => {
                let mut out = self.call(op, params, extras, decode::list_envelope).await?;
                if let Transport::Direct(d) = self {
                    let records = out.record_count().unwrap_or(0);
                    let next = next_page_number(op, params, out.take_next_cursor(), records)?;
                    out.set_next_cursor(d.scrub_next(op, next));
                }
                Ok(out)
            }
            Action::Get => self.call(op, params, extras, decode::raw_value).await,
            // One chunk of the file, as JSON (see `crate::download`).
            Action::Download => {
                let range = params
                    .get(crate::download::RANGE_PARAM)
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Transport::Hosted(h) = self {
                    let mut params = params.clone();
                    params
                        .entry("_airbyte_response_type")
                        .or_insert_with(|| Value::from("json"));
                    params
                        .entry("_airbyte_response_format")
                        .or_insert_with(|| Value::from("base64"));
                    return h
                        .execute(
                            op.entity,
                            op.action.as_str(),
                            &params,
                            extras,
                            |ctx, body| decode::raw_value(ctx, body, hosted::RESULT_PATHS),
                        )
                        .await;
                }
                let mut spec_params = params.clone();
                for p in crate::download::EXTRA_PARAMS {
                    spec_params.remove(*p);
                }
                let asked = range
                    .clone()
                    .unwrap_or_else(|| format!("bytes=0-{}", crate::download::CHUNK_BYTES - 1));
                let download = self.download(op, &spec_params, Some(&asked)).await?;
                // A 206 says where its bytes start and how long the file is; a server that
                // ignored the range sends the whole file, whose bytes before the range are
                // dropped.
                let (start, skip, total) = match download
                    .content_range()
                    .and_then(crate::download::content_range)
                {
                    Some((start, total)) => (start, 0, total),
                    None => (
                        0,
                        crate::download::range_start(Some(&asked)),
                        download.content_length(),
                    ),
                };
                let json =
                    crate::download::chunk_json(download, range.as_deref(), start, skip, total)
                        .await?;
                Ok(RawOutput::from_json_text(json))
            }
            // Writes and any later action: one value, `{}` for an empty answer.
            _ => {
                let returns_record = op.returns_record() || matches!(self, Transport::Hosted(_));
                self.call(op, params, extras, |ctx, body, paths| {
                    decode::raw_written(ctx, body, paths, returns_record)
                })
                .await
            }
        }
    }

    /// `"direct"` or `"hosted"`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Transport::Direct(_) => "direct",
            Transport::Hosted(_) => "hosted",
        }
    }
}

/// For page-number and offset lists (direct mode), where the next page starts; other lists
/// keep their cursor.
fn next_page_number(
    op: &OperationMeta,
    params: &Map<String, Value>,
    cursor: Option<String>,
    records: usize,
) -> Result<Option<String>, Error> {
    use crate::meta::NextPage;
    let (name, first, step) = match op.next_page {
        NextPage::PageNumber | NextPage::PageCount => (op.cursor_param.unwrap_or("page"), 1, 1),
        NextPage::Offset => (op.cursor_param.unwrap_or("offset"), 0, records),
        _ => return Ok(cursor),
    };
    let more = records > 0
        && match op.next_page {
            // The flag at the cursor path (`has_more`), when there is one.
            NextPage::PageNumber => op.cursor_path.is_empty() || cursor.is_some(),
            _ => true,
        };
    if !more {
        return Ok(None);
    }
    // Where this page started: the parameter as sent, else its default, else its minimum
    // (a 0-based API declares `minimum: 0`), else 1 for pages and 0 for offsets.
    let current = match params.get(name) {
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok())),
        None => {
            let p = op.param(name);
            Some(
                p.and_then(|p| p.default)
                    .and_then(|d| d.parse().ok())
                    .or_else(|| p.and_then(|p| p.minimum))
                    .unwrap_or(first),
            )
        }
    };
    let next = current
        .zip(i64::try_from(step).ok())
        .and_then(|(c, n)| c.checked_add(n))
        .ok_or_else(|| Error::Pagination {
            entity: op.entity.to_string(),
            message: format!(
                "the position {:?} of `{name}` cannot be moved on",
                params.get(name)
            ),
        })?;
    // A total (pages, or records for offsets) read at the cursor path ends the walk.
    let limit = match op.next_page {
        NextPage::PageCount | NextPage::Offset => {
            cursor.as_deref().and_then(|t| t.parse::<i64>().ok())
        }
        _ => None,
    };
    let reached = match (op.next_page, limit) {
        (NextPage::PageCount, Some(total_pages)) => next > total_pages,
        (NextPage::Offset, Some(total)) => next >= total,
        _ => false,
    };
    Ok((!reached).then(|| next.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{Action, NextPage, ParamKind, ParamLocation, ParamMeta, RecordElement};
    use serde_json::json;

    const fn op(next_page: NextPage, cursor_path: &'static [&'static str]) -> OperationMeta {
        OperationMeta {
            entity: "things",
            action: Action::List,
            method: "GET",
            path: "/things",
            summary: "",
            description: "",
            record_schema: "Thing",
            record_field: "things",
            record_path: &["things"],
            record_element: RecordElement::Whole,
            next_page,
            cursor_path,
            page_size_param: None,
            bulk_page_size: None,
            cursor_param: Some("n"),
            no_pagination: None,
            preferred_for_check: false,
            params: &[],
            graphql: None,
            file_url: None,
            body: crate::meta::BodyKind::Json,
            transform: None,
        }
    }

    static ZERO_BASED_PARAM: [ParamMeta; 1] = [ParamMeta {
        name: "n",
        location: ParamLocation::Query,
        kind: ParamKind::Integer,
        required: false,
        minimum: Some(0),
        maximum: None,
        default: None,
        description: "",
        pattern: None,
    }];

    fn next(
        op: &OperationMeta,
        params: serde_json::Value,
        cursor: Option<&str>,
        records: usize,
    ) -> Option<String> {
        next_page_number(
            op,
            params.as_object().unwrap(),
            cursor.map(str::to_string),
            records,
        )
        .unwrap()
    }

    #[test]
    fn page_numbers_offsets_and_totals() {
        // Page numbers with a `has_more` flag; without one, until an empty page.
        let flag = op(NextPage::PageNumber, &["has_more"]);
        assert_eq!(
            next(&flag, json!({}), Some("true"), 3).as_deref(),
            Some("2")
        );
        assert_eq!(next(&flag, json!({"n": 4}), None, 3), None);
        let bare = op(NextPage::PageNumber, &[]);
        assert_eq!(
            next(&bare, json!({"n": "7"}), None, 1).as_deref(),
            Some("8")
        );
        assert_eq!(next(&bare, json!({"n": 7}), None, 0), None);
        // A page count ends the walk at the last page.
        let count = op(NextPage::PageCount, &["total_pages"]);
        assert_eq!(
            next(&count, json!({"n": 4}), Some("5"), 2).as_deref(),
            Some("5")
        );
        assert_eq!(next(&count, json!({"n": 5}), Some("5"), 2), None);
        // A 0-based API (`minimum: 0`, no default) starts at 0, so page 1 is next.
        let zero = OperationMeta {
            params: &ZERO_BASED_PARAM,
            ..bare
        };
        assert_eq!(next(&zero, json!({}), None, 2).as_deref(), Some("1"));
        // Offsets move on by the page's records and stop at the total.
        let offset = op(NextPage::Offset, &["total"]);
        assert_eq!(next(&offset, json!({}), Some("5"), 2).as_deref(), Some("2"));
        assert_eq!(
            next(&offset, json!({"n": 2}), Some("5"), 2).as_deref(),
            Some("4")
        );
        assert_eq!(next(&offset, json!({"n": 4}), Some("5"), 1), None);
        // Server numbers never overflow.
        let e = next_page_number(&bare, json!({"n": i64::MAX}).as_object().unwrap(), None, 1);
        assert!(matches!(e, Err(Error::Pagination { .. })), "{e:?}");
        // Other forms keep their cursor.
        let cursor = op(NextPage::BodyCursor, &["next"]);
        assert_eq!(
            next(&cursor, json!({}), Some("abc"), 0).as_deref(),
            Some("abc")
        );
    }
}

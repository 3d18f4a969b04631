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
                    decode(ctx, body, direct_paths(op))
                })
                .await
            }
            Transport::Hosted(_) if extras.next_url.is_some() => Err(Error::Pagination {
                entity: op.entity.to_string(),
                message: "this list pages by server-given URLs, which Airbyte's execute endpoint does not take back; page it in direct mode".to_string(),
            }),
            Transport::Hosted(h) => {
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
        let records = page.data.len();
        page.next_cursor = next_page_number(op, params, page.next_cursor.take(), records)?;
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
                let records = out.record_count().unwrap_or(0);
                let next = next_page_number(op, params, out.take_next_cursor(), records)?;
                out.set_next_cursor(next);
                Ok(out)
            }
            Action::Get => self.call(op, params, extras, decode::raw_value).await,
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

/// For page-number lists, the number of the next page (the flag at the cursor path said
/// there is one, or, with no flag, this page was not empty); other lists keep their cursor.
fn next_page_number(
    op: &OperationMeta,
    params: &Map<String, Value>,
    cursor: Option<String>,
    records: usize,
) -> Result<Option<String>, Error> {
    let non_empty = records > 0;
    if op.next_page == crate::meta::NextPage::Offset {
        return next_offset(op, params, cursor.as_deref(), records);
    }
    if op.next_page != crate::meta::NextPage::PageNumber {
        return Ok(cursor);
    }
    let more = if op.cursor_path.is_empty() {
        non_empty
    } else {
        cursor.is_some() && non_empty
    };
    if !more {
        return Ok(None);
    }
    let name = op.cursor_param.unwrap_or("page");
    let current = match params.get(name) {
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok())),
        None => Some(
            op.param(name)
                .and_then(|p| p.default)
                .and_then(|d| d.parse().ok())
                .unwrap_or(1),
        ),
    };
    let next = current
        .and_then(|c| c.checked_add(1))
        .ok_or_else(|| Error::Pagination {
            entity: op.entity.to_string(),
            message: format!(
                "the page number {:?} cannot be counted up",
                params.get(name)
            ),
        })?;
    Ok(Some(next.to_string()))
}

/// For offset lists: this page's offset plus its record count, unless the page was empty or
/// the total (`total`, read at the cursor path) is reached.
fn next_offset(
    op: &OperationMeta,
    params: &Map<String, Value>,
    total: Option<&str>,
    records: usize,
) -> Result<Option<String>, Error> {
    if records == 0 {
        return Ok(None);
    }
    let name = op.cursor_param.unwrap_or("offset");
    let current = match params.get(name) {
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok())),
        None => Some(
            op.param(name)
                .and_then(|p| p.default)
                .and_then(|d| d.parse().ok())
                .unwrap_or(0),
        ),
    };
    let next = current
        .zip(i64::try_from(records).ok())
        .and_then(|(c, n)| c.checked_add(n))
        .ok_or_else(|| Error::Pagination {
            entity: op.entity.to_string(),
            message: format!("the offset {:?} cannot be moved on", params.get(name)),
        })?;
    let total = total.and_then(|t| t.parse::<i64>().ok());
    if total.is_some_and(|t| next >= t) {
        return Ok(None);
    }
    Ok(Some(next.to_string()))
}

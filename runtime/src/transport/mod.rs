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
}

impl Default for CallExtras<'_> {
    /// What the typed methods send: whole records, untruncated.
    fn default() -> Self {
        CallExtras {
            select_fields: None,
            exclude_fields: None,
            skip_truncation: true,
            intent: None,
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
                d.call(op, params, extras.intent, |ctx, body| {
                    decode(ctx, body, direct_paths(op))
                })
                .await
            }
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
        self.call(op, params, CallExtras::default(), decode::page)
            .await
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
            Action::List => self.call(op, params, extras, decode::list_envelope).await,
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

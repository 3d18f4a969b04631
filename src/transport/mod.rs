//! The seam between the typed API and the wire. Generated request builders hand a transport
//! the operation's metadata and its params (which know how to run themselves over progenitor's
//! client, see [`DirectCall`]); the transport decides how the call travels:
//!
//! - [`direct`]: progenitor's client calls incident.io with the user's API key.
//! - [`hosted`]: the same (entity, action, params) go to Airbyte's execute endpoint.
//!
//! Tracing lives here: one span per call with entity, action, transport and status.

pub(crate) mod direct;
pub(crate) mod hosted;

use serde::{de::DeserializeOwned, Serialize};
use serde_json::{Map, Value};

use crate::generated::raw;
use crate::meta::OperationMeta;
use crate::{Error, Page};

/// The error type of progenitor's generated methods.
pub(crate) type RawError = progenitor_client::Error<()>;

/// How calls travel.
#[derive(Debug)]
pub(crate) enum Transport {
    /// Straight to incident.io.
    Direct(direct::DirectTransport),
    /// Through Airbyte's execute endpoint.
    Hosted(Box<hosted::HostedTransport>),
}

/// The params as the JSON object sent to Airbyte, with defaults filled in for required
/// parameters (alerts always send `page_size`, in both modes).
pub(crate) fn params_object<P: Serialize>(
    op: &OperationMeta,
    params: &P,
) -> Result<Map<String, Value>, Error> {
    let value = serde_json::to_value(params)
        .map_err(|e| Error::invalid("params", format!("cannot encode the parameters: {e}")))?;
    let mut map = match value {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for p in op.params {
        if p.required && !map.contains_key(p.name) {
            if let Some(d) = p.default.and_then(|d| serde_json::from_str(d).ok()) {
                map.insert(p.name.to_string(), d);
            }
        }
    }
    Ok(map)
}

/// How a params type runs its operation over the direct transport: a call of the progenitor
/// method, then extraction of the records (and cursor) from the envelope. Implemented by
/// generated code for every params type; may be called more than once (retries).
pub(crate) trait DirectCall: Serialize + Send + Sync {
    /// What the operation returns (`Page<T>` or `T`).
    type Output;
    /// Sends the request with these params.
    fn call<'a>(
        &'a self,
        raw: &'a raw::Client,
    ) -> impl std::future::Future<Output = Result<Self::Output, RawError>> + Send + 'a;
}

impl Transport {
    /// Runs a list operation.
    pub(crate) async fn list<T, P>(
        &self,
        op: &'static OperationMeta,
        params: &P,
    ) -> Result<Page<T>, Error>
    where
        T: DeserializeOwned,
        P: DirectCall<Output = Page<T>>,
    {
        match self {
            Transport::Direct(d) => d.call(op, params).await,
            Transport::Hosted(h) => h.list(op, params_object(op, params)?).await,
        }
    }

    /// Runs a get operation.
    pub(crate) async fn get<T, P>(&self, op: &'static OperationMeta, params: &P) -> Result<T, Error>
    where
        T: DeserializeOwned,
        P: DirectCall<Output = T>,
    {
        match self {
            Transport::Direct(d) => d.call(op, params).await,
            Transport::Hosted(h) => h.get(op, params_object(op, params)?).await,
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

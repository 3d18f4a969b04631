//! The seam between the typed API and the wire. Generated request builders hand a transport
//! the operation's metadata, its params and a closure that runs the progenitor method; the
//! transport decides how the call travels:
//!
//! - [`direct`]: the closure runs against incident.io with the user's API key.
//!
//! Tracing lives here: one span per call with entity, action, transport and status.

pub(crate) mod direct;

use serde::{de::DeserializeOwned, Serialize};

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
        }
    }

    /// `"direct"` or `"hosted"`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Transport::Direct(_) => "direct",
        }
    }
}

//! The connector-independent runtime under every crate `connector-sdk-codegen` generates from
//! an Airbyte connector spec. Generated code calls into it; it never names a connector, an
//! entity or a generated function: everything per-connector reaches it as data
//! ([`meta::ConnectorMeta`] and the operation metadata in it).
//!
//! What it holds:
//! - [`Client`] and [`ClientBuilder`]: the transports (direct, with the spec's auth
//!   scheme, or hosted through Airbyte's `/execute`), retries ([`retry`]), the response body
//!   cap, and [`execute`](Client::execute), the untyped entry point for agents.
//! - [`requests`]: the generic list and get requests behind the generated builders, with
//!   paging ([`Page`], lazy streams, prefetch).
//! - [`params`]: checking parameters against the spec before any request.
//! - [`auth`]: credentials of the spec's auth schemes, and Airbyte's.
//! - [`search`]: the hosted context-store search; [`introspect`]: self-description for agents.
//! - [`Error`]: the one error type.
//!
//! Most users never name this crate: each generated crate re-exports what its users need.

#![warn(missing_docs)]

pub mod auth;
mod client;
mod decode;
pub mod download;
mod error;
mod extract;
#[doc(hidden)]
pub mod fuzzing;
pub mod graphql;
mod http;
pub mod introspect;
pub mod meta;
#[doc(hidden)]
pub mod open_enum;
mod output;
mod pagination;
pub mod params;
pub mod progressive;
mod request;
pub mod requests;
pub mod retry;
pub mod search;
pub mod shape;
pub mod sql;
pub mod time;
pub mod transform;
mod transport;

pub use auth::{AirbyteAuthConfig, Credentials};
pub use client::{AuthChoice, CheckResult, CheckStatus, Client, ClientBuilder, CreateConnector};
pub use decode::{RawOutput, RawRecords};
pub use download::Download;
pub use error::{ApiError, ApiErrorDetail, Error, Hints};
pub use http::DEFAULT_MAX_RESPONSE_BYTES;
pub use output::{ExecuteOptions, DEFAULT_MAX_OUTPUT_CHARS};
pub use pagination::Page;
pub use retry::RetryPolicy;
pub use transport::hosted::DEFAULT_AIRBYTE_API_URL;

/// A boxed, `Send` future: what awaiting a request builder runs.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

/// Crates that generated code uses through this one, so a generated crate needs no direct
/// dependency on them.
#[doc(hidden)]
pub mod __private {
    pub use futures;
    pub use serde_json;
    pub use tracing;
}

#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod connector;
mod decode;
mod error;
mod extract;
mod generated;
mod http;
pub mod introspect;
pub mod meta;
#[doc(hidden)]
pub mod open_enum;
mod pagination;
mod request;
pub mod retry;
mod runtime;
pub mod search;
mod transport;

#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;

pub use auth::{AirbyteAuthConfig, Auth, IncidentIoAuthConfig};
pub use connector::{
    CheckResult, CheckStatus, CreateConnector, ExecuteOptions, IncidentIoConnector,
    IncidentIoConnectorBuilder, DEFAULT_MAX_OUTPUT_CHARS,
};
pub use decode::RawOutput;
pub use error::{ApiError, ApiErrorDetail, Error};
pub use generated::entities;
pub use generated::models;
pub use generated::ops::{CONNECTOR_NAME, DEFAULT_BASE_URL, DEFINITION_ID, SPEC_VERSION};
pub use http::DEFAULT_MAX_RESPONSE_BYTES;
pub use introspect::{ActionDescription, AiHints, EntityDescription, ParamDescription};
pub use pagination::Page;
pub use retry::RetryPolicy;

/// The connector spec this crate was generated from, as JSON (same content as
/// `spec/incident-io.yaml`).
pub static SPEC_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/spec.json"));

/// `User-Agent` sent on every request.
pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// A boxed, `Send` future: what awaiting a request builder runs.
pub type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'static>>;

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

/// Entry points for the fuzz targets (`fuzz/`): the parsers of every value a server
/// controls, reachable without a network. Not part of the API; may change at any time.
#[doc(hidden)]
pub mod fuzzing {
    use std::time::Duration;

    use crate::error::Context;
    use crate::extract::Paths;
    use crate::http::Body;
    use crate::Error;

    /// `Retry-After` as the transports parse it.
    pub fn retry_after(value: &str) -> Option<Duration> {
        crate::error::parse_retry_after(value)
    }

    /// The wait the default retry policy would take after this error response (`None`: no
    /// retry).
    pub fn retry_wait(status: u16, retry_after: Option<&str>, body: &[u8]) -> Option<Duration> {
        let error = Error::from_error_body(status, retry_after, body);
        crate::retry::RetryPolicy::default().delay(1, &error)
    }

    /// Whether a `Content-Type` value names JSON.
    pub fn content_type_is_json(value: &str) -> Option<bool> {
        crate::http::is_json_media_type(value)
    }

    /// A token exchange's answer: the lifetime the token would be cached for.
    pub fn token_response(body: &[u8]) -> Result<Duration, Error> {
        crate::transport::hosted::parse_token_response(&Context::new("airbyte", "token"), body)
            .map(|(_, ttl)| ttl)
    }

    /// A success body through both decoders (typed records and the spliced envelope), for
    /// incident.io's envelope and Airbyte's.
    pub fn decode_body(body: &[u8], content_type: Option<&str>) -> Result<usize, Error> {
        let body = Body {
            bytes: bytes::Bytes::copy_from_slice(body),
            content_type: content_type.map(str::to_string),
        };
        let ctx = Context::new("incidents", "list");
        let mut n = 0;
        for paths in [
            Paths {
                records: &["incidents"],
                cursor: &["pagination_meta", "after"],
            },
            crate::transport::hosted::RESULT_PATHS,
        ] {
            if let Ok(p) = crate::decode::page::<crate::models::Incident>(&ctx, &body, paths) {
                n += p.data.len();
            }
            if let Ok(raw) = crate::decode::list_envelope(&ctx, &body, paths) {
                let _: serde_json::Value = raw.to_value()?;
            }
            let _ = crate::decode::raw_value(&ctx, &body, paths);
        }
        Ok(n)
    }
}

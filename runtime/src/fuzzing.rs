//! Entry points for the fuzz targets (`fuzz/`): the parsers of every value a server
//! controls, reachable without a network. Not part of the API; may change at any time.

use std::time::Duration;

use serde::de::DeserializeOwned;

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

/// A success body through both decoders (typed records of `T` and the spliced envelope),
/// with the records at `records` and the cursor at `cursor`, and with Airbyte's envelope.
/// Returns the number of typed records decoded.
pub fn decode_body<T: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    records: &[&str],
    cursor: &[&str],
) -> Result<usize, Error> {
    let body = Body {
        bytes: bytes::Bytes::copy_from_slice(body),
        content_type: content_type.map(str::to_string),
        next: None,
    };
    let ctx = Context::new("fuzz", "list");
    let mut n = 0;
    for paths in [
        Paths {
            records,
            cursor,
            element: crate::meta::RecordElement::Whole,
            flag: false,
        },
        crate::transport::hosted::RESULT_PATHS,
    ] {
        if let Ok(p) = crate::decode::page::<T>(&ctx, body.clone(), paths) {
            n += p.data.len();
        }
        if let Ok(raw) = crate::decode::list_envelope(&ctx, body.clone(), paths) {
            let _: serde_json::Value = raw.to_value()?;
            // Every record handed out as sent is one JSON value, and on one line in JSONL.
            for record in raw.records().into_iter().flatten() {
                assert!(serde_json::from_str::<serde::de::IgnoredAny>(record).is_ok());
            }
            let mut lines = Vec::new();
            let written = raw
                .write_jsonl(&mut lines)
                .map_err(|e| Error::invalid("io", e.to_string()))?;
            assert_eq!(lines.iter().filter(|b| **b == b'\n').count(), written);
        }
        let _ = crate::decode::raw_value(&ctx, body.clone(), paths);
    }
    Ok(n)
}

//! Response handling on arbitrary input: the input is split into a `Retry-After` value, a
//! `Content-Type` value and a body (separated by newlines), as a server or proxy could send
//! them. Every record type, both body decoders (typed and spliced), the error-body parser and
//! the retry policy's arithmetic either succeed or return an error, never panic.
#![no_main]

use incident_io_connector::{fuzzing, models};
use libfuzzer_sys::fuzz_target;

fn try_decode<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let _ = serde_json::from_slice::<T>(data);
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let retry_after = parts.next().map(String::from_utf8_lossy);
    let content_type = parts.next().map(String::from_utf8_lossy);
    let body = parts.next().unwrap_or_default();

    try_decode::<models::Incident>(body);
    try_decode::<models::Alert>(body);
    try_decode::<models::Escalation>(body);
    try_decode::<models::User>(body);
    try_decode::<models::IncidentUpdate>(body);
    try_decode::<models::Schedule>(body);
    try_decode::<models::CatalogType>(body);
    try_decode::<models::PaginationMeta>(body);
    let _ = fuzzing::decode_body::<models::Incident>(
        body,
        content_type.as_deref(),
        &["incidents"],
        &["pagination_meta", "after"],
    );
    if let Some(ct) = &content_type {
        let _ = fuzzing::content_type_is_json(ct);
    }
    for status in [429, 500, 503, 401] {
        let error = incident_io_connector::Error::from_error_body(status, retry_after.as_deref(), body);
        let _ = error.to_string();
        let _ = fuzzing::retry_wait(status, retry_after.as_deref(), body);
    }
});

//! Every scalar a server controls, on arbitrary input: `Retry-After` (delta-seconds, HTTP-date,
//! RFC 3339, floats of any size), `Content-Type`, and the Airbyte token exchange's body
//! (`access_token`, `expires_in` of any size or sign). Each parses or is refused, never panics,
//! and a token lifetime is never longer than a day.
#![no_main]

use std::time::Duration;

use incident_io_connector::fuzzing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = fuzzing::retry_after(&text);
    let _ = fuzzing::content_type_is_json(&text);
    let _ = fuzzing::retry_wait(429, Some(&text), b"");
    if let Ok(ttl) = fuzzing::token_response(data) {
        assert!(ttl <= Duration::from_secs(24 * 3600), "{ttl:?}");
    }
    // The same bytes as the value of `expires_in` in an otherwise valid token body.
    let body = format!("{{\"access_token\":\"t\",\"expires_in\":{text}}}");
    if let Ok(ttl) = fuzzing::token_response(body.as_bytes()) {
        assert!(ttl <= Duration::from_secs(24 * 3600), "{ttl:?}");
    }
});

//! Response decoding on arbitrary bytes: every entity's record type and the error-body parser
//! either decode or return an error, never panic.
#![no_main]

use incident_io_connector::models;
use libfuzzer_sys::fuzz_target;

fn try_decode<T: serde::de::DeserializeOwned>(data: &[u8]) {
    let _ = serde_json::from_slice::<T>(data);
}

fuzz_target!(|data: &[u8]| {
    try_decode::<models::Incident>(data);
    try_decode::<models::Alert>(data);
    try_decode::<models::Escalation>(data);
    try_decode::<models::User>(data);
    try_decode::<models::IncidentUpdate>(data);
    try_decode::<models::Schedule>(data);
    try_decode::<models::CatalogType>(data);
    try_decode::<models::PaginationMeta>(data);
    let _ = incident_io_connector::Error::from_error_body(429, Some("Thu, 17 Apr 2025 11:17:18 GMT"), data);
});

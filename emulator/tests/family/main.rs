//! Wire tests of the emulator on the family fixture specs
//! (`codegen/tests/specs/family/`, and `conformance/spec/writes.yaml` for writes): every read
//! and write construct of the constructs document that the emulator serves, over real HTTP
//! on 127.0.0.1.

mod bodies;
mod common;
mod downloads;
mod extractors;
mod graphql;
mod pagination;
mod params;
mod post_reads;
mod routes;
mod schemas;
mod writes;

use connector_sdk_emulator::Emulator;
use serde_json::Value;

use common::{get, get_url, Resp};

/// Follows pages as a client would: `first` is the first request (path and query);
/// `next` reads a response and gives the next request (a path and query, or an absolute
/// URL), or `None` on the last page; `extract` takes the records out of a body. Returns
/// the records and the responses.
pub async fn walk(
    emu: &Emulator,
    first: &str,
    headers: &[(&str, &str)],
    extract: impl Fn(&Value) -> Vec<Value>,
    next: impl Fn(&Resp) -> Option<String>,
) -> (Vec<Value>, Vec<Resp>) {
    let mut target = first.to_string();
    let mut records = Vec::new();
    let mut pages = Vec::new();
    loop {
        let resp = if target.starts_with("http://") {
            let auth = format!("Bearer {}", emu.api_key());
            let mut hs: Vec<(String, String)> = vec![("Authorization".into(), auth)];
            hs.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            get_url(&target, hs).await
        } else {
            get(emu, &target, headers).await
        };
        assert_eq!(resp.status, 200, "{target}: {}", resp.body);
        records.extend(extract(&resp.json()));
        let following = next(&resp);
        pages.push(resp);
        assert!(pages.len() < 200, "too many pages");
        match following {
            Some(t) => target = t,
            None => break,
        }
    }
    (records, pages)
}

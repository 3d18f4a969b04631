//! Decode micro-benchmarks: one 250-incident page exactly as the emulator serves it
//! (`GET /v2/incidents?page_size=250`), decoded into the SDK's typed models
//! (`models::ListIncidentsResponse`, what the direct transport decodes) versus into
//! `serde_json::Value`; plus the hosted envelope (`{result, connector_metadata}`) of the same
//! records. Throughput is in bytes, so criterion reports MB/s. `typed_from_str` checks UTF-8
//! once for the whole body and then decodes with `from_str` (what a transport could do
//! instead of `from_slice`, which checks every string separately).
//!
//! `cargo bench --bench decode` (or `cargo xtask bench`, which also puts the numbers into
//! BENCHMARKS.md).

use std::hint::black_box;

use connector_sdk_emulator::Emulator;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use incident_io_connector::models;
use serde::Deserialize;

/// The hosted transport's list envelope, as the SDK decodes it.
#[derive(Deserialize)]
struct HostedEnvelope {
    #[allow(dead_code)]
    result: Vec<models::Incident>,
    #[allow(dead_code)]
    connector_metadata: Option<serde_json::Value>,
}

/// The raw bytes of one direct page and one hosted page of 250 incidents.
fn pages() -> (Vec<u8>, Vec<u8>) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
            .count("incidents", 1_000)
            .start()
            .await
            .expect("emulator");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let direct = http
            .get(format!("{}/v2/incidents?page_size=250", emu.base_url()))
            .bearer_auth(emu.api_key())
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("page")
            .bytes()
            .await
            .expect("body")
            .to_vec();
        let token: serde_json::Value = http
            .post(format!(
                "{}/api/v1/account/applications/token",
                emu.airbyte_api_url()
            ))
            .json(&serde_json::json!({
                "client_id": emu.airbyte_client_id(),
                "client_secret": emu.airbyte_client_secret(),
            }))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token body");
        let hosted = http
            .post(format!(
                "{}/api/v1/integrations/connectors/{}/execute",
                emu.airbyte_api_url(),
                emu.airbyte_connector_id()
            ))
            .bearer_auth(token["access_token"].as_str().unwrap_or_default())
            .json(&serde_json::json!({
                "entity": "incidents", "action": "list", "params": {"page_size": 250}
            }))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("hosted page")
            .bytes()
            .await
            .expect("hosted body")
            .to_vec();
        emu.shutdown().await;
        (direct, hosted)
    })
}

fn decode(c: &mut Criterion) {
    let (direct, hosted) = pages();
    let typed: models::ListIncidentsResponse =
        serde_json::from_slice(&direct).expect("the page decodes");
    assert_eq!(typed.incidents.len(), 250);

    let mut g = c.benchmark_group("decode_250_incidents");
    g.throughput(Throughput::Bytes(direct.len() as u64));
    g.bench_function("typed", |b| {
        b.iter(|| {
            serde_json::from_slice::<models::ListIncidentsResponse>(black_box(&direct))
                .expect("decodes")
        })
    });
    g.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&direct)).expect("decodes"))
    });
    // The same typed decode, with UTF-8 checked once for the whole body (`from_str`) instead
    // of string by string (`from_slice`).
    g.bench_function("typed_from_str", |b| {
        b.iter(|| {
            let text = std::str::from_utf8(black_box(&direct)).expect("UTF-8");
            serde_json::from_str::<models::ListIncidentsResponse>(text).expect("decodes")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decode_250_incidents_hosted");
    g.throughput(Throughput::Bytes(hosted.len() as u64));
    g.bench_function("typed", |b| {
        b.iter(|| serde_json::from_slice::<HostedEnvelope>(black_box(&hosted)).expect("decodes"))
    });
    g.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&hosted)).expect("decodes"))
    });
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);

//! Decode micro-benchmarks: one 250-incident page exactly as the emulator serves it
//! (`GET /v2/incidents?page_size=250`), in both payloads the emulator has (its lean records
//! and the real-shaped ones, `RecordShape::RealShaped`), plus the hosted envelope
//! (`{result, connector_metadata}`) of the same records.
//!
//! Per page, side by side:
//! - `typed`: `serde_json::from_slice` into the SDK's models (UTF-8 checked string by string);
//! - `typed_from_str`: one UTF-8 check of the whole body, then `from_str` into the same models
//!   (what the runtime does);
//! - `value`: `serde_json::Value`;
//! - `raw_splice`: each record borrowed as a `RawValue` (what `execute` and the CLI do).
//!
//! And the decode's parts, on the real-shaped page:
//! - `timestamps`: every timestamp string of the page parsed by chrono's `Deserialize` versus
//!   by the runtime's RFC 3339 reader (`connector_sdk_runtime::time`), which the generated
//!   models use;
//! - allocations per page of each route, counted by this binary's global allocator (printed,
//!   and written to `target/criterion/allocations.json` for the report).
//!
//! Throughput is in bytes, so criterion reports MB/s. `cargo bench --bench decode` (or
//! `cargo xtask bench`, which also puts the numbers into BENCHMARKS.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use connector_sdk_emulator::{Emulator, RecordShape};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use incident_io_connector::models;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Counts allocations while `COUNTING` is set (one relaxed load otherwise).
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            ALLOC_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (count, bytes) made by one call of `f`.
fn allocations<T>(f: impl FnOnce() -> T) -> (u64, u64) {
    ALLOCS.store(0, Ordering::Relaxed);
    ALLOC_BYTES.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::SeqCst);
    let out = f();
    COUNTING.store(false, Ordering::SeqCst);
    drop(black_box(out));
    (
        ALLOCS.load(Ordering::Relaxed),
        ALLOC_BYTES.load(Ordering::Relaxed),
    )
}

/// The hosted transport's list envelope, as the SDK decodes it.
#[derive(Deserialize)]
struct HostedEnvelope {
    #[allow(dead_code)]
    result: Vec<models::Incident>,
    #[allow(dead_code)]
    connector_metadata: Option<serde_json::Value>,
}

/// A direct page with each record borrowed, as `execute` reads it.
#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(borrow)]
    incidents: Vec<&'a RawValue>,
}

/// The raw bytes of one direct page and one hosted page of 250 incidents.
fn pages(shape: RecordShape) -> (Vec<u8>, Vec<u8>) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
            .count("incidents", 1_000)
            .record_shape(shape)
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

/// Every string of `v` that reads as an RFC 3339 timestamp.
fn timestamps(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s)
            if s.len() >= 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z') =>
        {
            out.push(s.clone())
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| timestamps(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| timestamps(x, out)),
        _ => {}
    }
}

fn page_group(c: &mut Criterion, group: &str, direct: &[u8]) {
    let typed: models::ListIncidentsResponse =
        serde_json::from_slice(direct).expect("the page decodes");
    assert_eq!(typed.incidents.len(), 250);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(direct.len() as u64));
    g.bench_function("typed", |b| {
        b.iter(|| {
            serde_json::from_slice::<models::ListIncidentsResponse>(black_box(direct))
                .expect("decodes")
        })
    });
    g.bench_function("typed_from_str", |b| {
        b.iter(|| {
            let text = std::str::from_utf8(black_box(direct)).expect("UTF-8");
            serde_json::from_str::<models::ListIncidentsResponse>(text).expect("decodes")
        })
    });
    g.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(direct)).expect("decodes"))
    });
    g.bench_function("raw_splice", |b| {
        b.iter(|| {
            let text = std::str::from_utf8(black_box(direct)).expect("UTF-8");
            serde_json::from_str::<RawPage<'_>>(text)
                .expect("decodes")
                .incidents
                .len()
        })
    });
    g.finish();
}

fn hosted_group(c: &mut Criterion, group: &str, hosted: &[u8]) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(hosted.len() as u64));
    g.bench_function("typed", |b| {
        b.iter(|| serde_json::from_slice::<HostedEnvelope>(black_box(hosted)).expect("decodes"))
    });
    g.bench_function("typed_from_str", |b| {
        b.iter(|| {
            let text = std::str::from_utf8(black_box(hosted)).expect("UTF-8");
            serde_json::from_str::<HostedEnvelope>(text).expect("decodes")
        })
    });
    g.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(hosted)).expect("decodes"))
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    let (lean, lean_hosted) = pages(RecordShape::Lean);
    let (real, real_hosted) = pages(RecordShape::RealShaped);
    page_group(c, "decode_250_incidents", &lean);
    hosted_group(c, "decode_250_incidents_hosted", &lean_hosted);
    page_group(c, "decode_250_real_incidents", &real);
    hosted_group(c, "decode_250_real_incidents_hosted", &real_hosted);

    // The timestamps of the real-shaped page, parsed both ways.
    let value: serde_json::Value = serde_json::from_slice(&real).expect("JSON");
    let mut stamps = Vec::new();
    timestamps(&value, &mut stamps);
    let as_json: Vec<String> = stamps.iter().map(|s| format!("\"{s}\"")).collect();
    let bytes: usize = as_json.iter().map(String::len).sum();
    let mut g = c.benchmark_group("timestamps_of_a_real_page");
    g.throughput(Throughput::Elements(stamps.len() as u64));
    g.bench_function("chrono", |b| {
        b.iter(|| {
            for s in &as_json {
                black_box(
                    serde_json::from_str::<chrono::DateTime<chrono::Utc>>(black_box(s))
                        .expect("a timestamp"),
                );
            }
        })
    });
    g.bench_function("runtime", |b| {
        b.iter(|| {
            for s in &stamps {
                black_box(connector_sdk_runtime::time::parse(black_box(s)).expect("a timestamp"));
            }
        })
    });
    g.finish();

    // Allocations per page, each route once.
    let count = |page: &[u8]| {
        let text = std::str::from_utf8(page).expect("UTF-8");
        [
            (
                "typed_from_str",
                allocations(|| {
                    serde_json::from_str::<models::ListIncidentsResponse>(text).expect("decodes")
                }),
            ),
            (
                "value",
                allocations(|| serde_json::from_str::<serde_json::Value>(text).expect("decodes")),
            ),
            (
                "raw_splice",
                allocations(|| serde_json::from_str::<RawPage<'_>>(text).expect("decodes")),
            ),
        ]
    };
    let mut report = serde_json::Map::new();
    for (name, page) in [("lean", &lean), ("real_shaped", &real)] {
        let mut routes = serde_json::Map::new();
        for (route, (n, b)) in count(page) {
            println!("allocations per 250-incident page ({name}, {route}): {n} ({b} bytes)");
            routes.insert(route.into(), serde_json::json!({"count": n, "bytes": b}));
        }
        routes.insert("page_bytes".into(), serde_json::json!(page.len()));
        report.insert(name.into(), serde_json::Value::Object(routes));
    }
    report.insert(
        "timestamps_per_real_page".into(),
        serde_json::json!({"count": stamps.len(), "bytes": bytes}),
    );
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("criterion");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("allocations.json"),
        serde_json::to_string_pretty(&serde_json::Value::Object(report)).unwrap_or_default(),
    );
}

criterion_group!(benches, decode);
criterion_main!(benches);
